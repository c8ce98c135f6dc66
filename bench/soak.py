"""Labels under load, on SQLite and on PostgreSQL, while the bundled model really trains (issue #13).

    python bench/soak.py [--writers 8] [--labels 1000] [--skip-postgres]

For each database: loads the sample, starts a Quick run of the bundled MiniLM on it (in a thread of
this process, as the app trains), waits until it is learning, then lets --writers threads save
--labels labels each through the service layer at once (tests/soak.py). Prints labels acknowledged,
labels missing or wrong afterwards, errors, and save latency p50/p99. PostgreSQL is a throwaway
server on loopback with fsync on (Debian's binaries; `make install-test` installs them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from core.config import Settings
from core.db import Database, open_database, upgrade_schema
from core.models import RunEvent, RunStatus
from core.services.sample import load_sample_dataset
from core.services.training import cancel_run, run_progress, start_training
from core.training.config import PRESETS
from core.training.job import run_training_job
from core.training.runner import claim_next_run
from tests.postgres import create_database, find_bin_dir, postgres_server
from tests.soak import run_soak


def progress_rows(db: Database, run_id: int) -> int:
    with db.read() as session:
        return int(
            session.scalar(select(func.count()).select_from(RunEvent).where(RunEvent.run_id == run_id)) or 0
        )


def soak_while_training(db: Database, runs_dir: Path, writers: int, labels: int) -> None:
    dataset_id = load_sample_dataset(db).id
    run_id = start_training(db, dataset_id, PRESETS["Quick"], preset="Quick")
    claim_next_run(db)
    trainer = threading.Thread(target=run_training_job, args=(run_id, db), kwargs={"runs_dir": runs_dir})
    trainer.start()
    deadline = time.monotonic() + 300
    while progress_rows(db, run_id) < 3:  # learning, not loading: it writes a row every half second
        if time.monotonic() > deadline or not trainer.is_alive():
            raise SystemExit("the training run never started learning")
        time.sleep(0.5)
    rows_before = progress_rows(db, run_id)
    result = run_soak(db, writers=writers, labels_each=labels)
    written = progress_rows(db, run_id) - rows_before
    still_training = run_progress(db, run_id).summary.status is RunStatus.RUNNING
    print(f"  {result.describe()}")
    print(f"  training wrote {written} progress rows meanwhile; still training at the end: {still_training}")
    cancel_run(db, run_id)
    trainer.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print(f"{args.writers} writers x {args.labels:,} labels, while a Quick run of the bundled MiniLM trains")

    folder = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'app.db'}")
    print("SQLite (WAL, synchronous=FULL):")
    soak_while_training(open_database(settings), settings.runs_dir, args.writers, args.labels)

    if args.skip_postgres:
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        print("PostgreSQL: not installed (make install-test installs it); skipped")
        return
    with postgres_server(bin_dir, durable=True) as base_url:
        db = Database(create_database(base_url, f"soak_{uuid.uuid4().hex[:8]}"))
        upgrade_schema(db)
        print("PostgreSQL (loopback, fsync on):")
        soak_while_training(db, folder / "pg-runs", args.writers, args.labels)
        db.dispose()


if __name__ == "__main__":
    main()
