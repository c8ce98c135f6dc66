"""The process-wide job runner: one worker thread that claims queued runs from the database.

At most one run is RUNNING, guaranteed by a partial unique index, not by this thread; so a second
process (or a double click) can never start two jobs at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import torch
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from core.background import PollingThread
from core.db import Database
from core.models import RunStatus, TrainingRun, utcnow
from core.services.search import continue_search, resume_searches
from core.training.device import DeviceInfo, choose_device
from core.training.job import run_training_job

log = logging.getLogger(__name__)
IDLE_POLL_S = 2.0
INTERRUPTED_MESSAGE = "The app stopped while this run was training. Start it again to retrain."


def recover_interrupted_runs(db: Database) -> int:
    """Runs left RUNNING by a process that died become INTERRUPTED. Call once, before any job starts."""
    with db.write() as session:
        result = session.execute(
            update(TrainingRun)
            .where(TrainingRun.status == RunStatus.RUNNING)
            .values(status=RunStatus.INTERRUPTED, error=INTERRUPTED_MESSAGE, finished_at=utcnow())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim_next_run(db: Database) -> int | None:
    """Mark the oldest queued run RUNNING, unless one is running already. Returns its id."""
    try:
        with db.write() as session:
            if session.scalar(select(exists().where(TrainingRun.status == RunStatus.RUNNING))):
                return None
            run_id = session.scalar(
                select(TrainingRun.id)
                .where(TrainingRun.status == RunStatus.QUEUED, TrainingRun.cancel_requested.is_(False))
                .order_by(TrainingRun.id)
                .limit(1)
            )
            if run_id is None:
                return None
            session.execute(
                update(TrainingRun)
                .where(TrainingRun.id == run_id)
                .values(status=RunStatus.RUNNING, started_at=utcnow(), heartbeat_at=utcnow())
            )
            return int(run_id)
    except IntegrityError:  # another process claimed a run in between: the index said no
        return None


class TrainingRunner(PollingThread):
    thread_name = "training-runner"

    def __init__(
        self, db: Database, runs_dir: Path, *, device_chooser: Callable[[], DeviceInfo] = choose_device
    ) -> None:
        super().__init__()
        self.db = db
        self.runs_dir = runs_dir
        self.device_chooser = device_chooser

    def start(self) -> TrainingRunner:
        if not self.started:
            recovered = recover_interrupted_runs(self.db)
            if recovered:
                log.warning("Marked %d run(s) left running by a previous process as interrupted", recovered)
            if resume_searches(self.db):
                log.info("Resumed interrupted hyperparameter searches")
            self._start_thread()
        return self

    def _work(self) -> None:
        while not self._stop.is_set():
            run_id = claim_next_run(self.db)
            if run_id is None:
                self._sleep(IDLE_POLL_S)
                continue
            log.info("Training run %s started", run_id)
            # A CPU job keeps a core free for the UI by lowering torch's process-wide thread count;
            # give the count back afterwards, or Predict and Explain stay on one thread for good.
            threads = torch.get_num_threads()
            try:
                status = run_training_job(
                    run_id, self.db, runs_dir=self.runs_dir, device_chooser=self.device_chooser
                )
            finally:
                torch.set_num_threads(threads)
            log.info("Training run %s ended: %s", run_id, status.value)
            try:
                continue_search(self.db, run_id)
            except Exception:  # a search that cannot go on must not stop the runner
                log.exception("Could not queue the next trial after run %s", run_id)
