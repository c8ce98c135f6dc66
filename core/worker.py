"""A training worker for another machine: `python -m core.worker`.

It trains the runs people queue in the app, on this machine (a GPU box, say), while the app runs on a
small one with REVIEW_STUDIO_RUN_JOBS=0. The two share only:

- the database: DATABASE_URL, the same PostgreSQL URL the app uses. The worker needs a database login
  and nothing else: it opens no port and serves nothing.
- the models folder: REVIEW_STUDIO_RUNS_DIR, a folder both machines can reach (a shared volume). The
  worker writes each finished model there; the app reads it from there for Results, Predict, Explain
  and exports.

Progress, live curves and cancelling work as they do in the app: they all go through database rows.
Stop the worker with Ctrl+C or SIGTERM; a run it was training becomes INTERRUPTED at once. If its
machine dies instead, the heartbeat stops and any trainer marks the run INTERRUPTED a minute later.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from sqlalchemy import select, update

from core.config import load_settings
from core.db import open_database
from core.models import RunStatus, TrainingRun, utcnow
from core.training.runner import TrainingRunner

log = logging.getLogger("review_studio.worker")
STOPPED_MESSAGE = "The training worker was stopped while this run was training. Start it again to retrain."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.worker", description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(settings)
    runner = TrainingRunner(db, settings.runs_dir)
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("Stopping (signal %d)", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    log.info("Worker %s trains queued runs; models go to %s", runner.identity, settings.runs_dir)
    while not stopping.wait(1.0):
        pass
    _stop_gracefully(runner)
    db.dispose()
    return 0


# A run stops within a second of its cancel flag; scoring a large test part can take longer.
STOP_WAIT_S = 120.0


def _stop_gracefully(runner: TrainingRunner) -> None:
    """Stop claiming, cancel the run in hand and wait for the training thread to let go of it (torch
    aborts the process if it exits under a working thread), then say why the run stopped: the worker was
    stopped on purpose, which people should not read as a crash or as someone's Cancel."""
    with runner.db.write() as session:
        own = list(
            session.scalars(
                select(TrainingRun.id).where(
                    TrainingRun.claimed_by == runner.identity, TrainingRun.status == RunStatus.RUNNING
                )
            )
        )
        if own:
            session.execute(update(TrainingRun).where(TrainingRun.id.in_(own)).values(cancel_requested=True))
    runner.stop(timeout=STOP_WAIT_S)
    if own:
        with runner.db.write() as session:
            session.execute(
                update(TrainingRun)
                .where(TrainingRun.id.in_(own))
                .values(status=RunStatus.INTERRUPTED, error=STOPPED_MESSAGE, finished_at=utcnow())
            )


if __name__ == "__main__":
    raise SystemExit(main())
