"""No lost labels under load (issue #13): 8 writers x 1,000 labels while a training job writes progress,
on SQLite and on PostgreSQL. bench/soak.py runs the same with the bundled model and prints latencies."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select

from core.config import Settings
from core.db import Database
from core.models import RunEvent
from core.services.training import cancel_run, start_training
from core.training.job import run_training_job
from core.training.runner import claim_next_run
from tests.integration.training_helpers import make_dataset, tiny_config
from tests.soak import run_soak


@contextmanager
def training_throughout(db: Database, settings: Settings, tiny_model: str) -> Iterator[list[int]]:
    """Real training jobs, one after another, until the block ends; yields the run ids it started."""
    dataset_id = make_dataset(db, rows=120)
    stop = threading.Event()
    run_ids: list[int] = []
    started = threading.Event()

    def train() -> None:
        seed = 0
        while not stop.is_set():
            seed += 1  # a new config each time, so a finished run's twin is not deduplicated
            run_id = start_training(
                db, dataset_id, tiny_config(tiny_model, epochs=50, seed=seed), preset=None
            )
            run_ids.append(run_id)
            claim_next_run(db)
            started.set()
            run_training_job(run_id, db, runs_dir=settings.runs_dir)

    thread = threading.Thread(target=train, daemon=True)
    thread.start()
    assert started.wait(60)
    try:
        yield run_ids
    finally:
        stop.set()
        if run_ids:
            cancel_run(db, run_ids[-1])
        thread.join(120)


def test_eight_writers_lose_nothing_while_training_writes(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    runs: list[int] = []

    @contextmanager
    def meanwhile() -> Iterator[None]:
        with training_throughout(db, settings, tiny_model) as run_ids:
            runs.append(0)
            yield
            runs[:] = run_ids

    result = run_soak(db, writers=8, labels_each=1000, meanwhile=meanwhile)
    assert result.errors == []
    assert result.saved == 8000
    assert result.missing_or_wrong == 0
    # Training really wrote while the writers wrote: progress rows of the runs started meanwhile.
    with db.read() as session:
        progress_rows = session.scalar(
            select(func.count()).select_from(RunEvent).where(RunEvent.run_id.in_(runs))
        )
    assert progress_rows and progress_rows > 10
    print(f"\n[{db.engine.dialect.name}] {result.describe()}")
