"""The job runner: one thread that claims queued runs from the database and trains them.

The app starts one in its own process; `python -m core.worker` starts one on another machine (a GPU
box) that shares only the database and the folder the models go to. At most one run is RUNNING,
guaranteed by a partial unique index, not by this thread; so a second process (or a double click)
can never start two jobs at once. On PostgreSQL a claim also locks the run it takes with
FOR UPDATE SKIP LOCKED, so two trainers polling at the same moment never reach for the same row.

A trainer stamps its runs with who it is (claimed_by) and, while one trains, writes a heartbeat every
few seconds from a thread of its own (loading and scoring write no progress for a minute at times).
A run whose heartbeat stops is INTERRUPTED by whichever trainer sees it first; a run claimed by a
process on this machine that no longer exists is INTERRUPTED at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import torch
from sqlalchemy import exists, select, true, update
from sqlalchemy.exc import IntegrityError

from core.background import PollingThread
from core.db import Database
from core.models import RunStatus, TrainingRun, utcnow
from core.services.search import continue_search, resume_searches
from core.training.device import DeviceInfo, choose_device
from core.training.job import run_training_job

log = logging.getLogger(__name__)
IDLE_POLL_S = 2.0
HEARTBEAT_INTERVAL_S = 5.0
# Twelve missed heartbeats: long enough for a busy SQLite writer queue or a slow network share.
STALE_AFTER = timedelta(seconds=60)
INTERRUPTED_MESSAGE = "The app stopped while this run was training. Start it again to retrain."
STALE_MESSAGE = (
    "The trainer running this run stopped answering (its machine or process may have stopped). "
    "Start it again to retrain."
)


def trainer_identity() -> str:
    """host:pid:token. The token tells apart two processes that reuse a pid after a restart."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _gone_from_this_host(claimed_by: str | None) -> bool:
    """True when `claimed_by` names a process on this machine that no longer runs."""
    if not claimed_by:
        return False
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


def recover_interrupted_runs(db: Database, *, stale_after: timedelta = STALE_AFTER) -> int:
    """Runs left RUNNING by a trainer that died become INTERRUPTED: at once when it was a process on this
    machine that is gone (or claimed before trainers signed their runs), else once its heartbeat is
    `stale_after` old. Cheap enough to call on every poll."""
    now = utcnow()
    with db.read() as session:  # most polls find nothing: no write lock for them
        running = session.execute(
            select(TrainingRun.id, TrainingRun.claimed_by, TrainingRun.heartbeat_at).where(
                TrainingRun.status == RunStatus.RUNNING
            )
        ).all()
    dead = [run_id for run_id, who, _ in running if who is None or _gone_from_this_host(who)]
    cutoff = now - stale_after
    stale = [
        run_id for run_id, who, beat in running if run_id not in dead and (beat is None or beat < cutoff)
    ]
    if not dead and not stale:
        return 0
    recovered = 0
    with db.write() as session:
        for ids, message, still_silent in (
            (dead, INTERRUPTED_MESSAGE, true()),
            # Checked again in the same statement: a heartbeat written since the read keeps the run.
            (
                stale,
                STALE_MESSAGE,
                TrainingRun.heartbeat_at.is_(None) | (TrainingRun.heartbeat_at < cutoff),
            ),
        ):
            if ids:
                result = session.execute(
                    update(TrainingRun)
                    .where(TrainingRun.id.in_(ids), TrainingRun.status == RunStatus.RUNNING, still_silent)
                    .values(status=RunStatus.INTERRUPTED, error=message, finished_at=now)
                )
                recovered += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return recovered


def claim_next_run(db: Database, *, claimed_by: str | None = None) -> int | None:
    """Mark the oldest queued run RUNNING, unless one is running already. Returns its id."""
    claimed_by = claimed_by or trainer_identity()
    try:
        with db.write() as session:
            if session.scalar(select(exists().where(TrainingRun.status == RunStatus.RUNNING))):
                return None
            oldest = (
                select(TrainingRun.id)
                .where(TrainingRun.status == RunStatus.QUEUED, TrainingRun.cancel_requested.is_(False))
                .order_by(TrainingRun.id)
                .limit(1)
            )
            if not db.is_sqlite:
                # SQLite has no row locks: its writers are serialised by BEGIN IMMEDIATE instead.
                oldest = oldest.with_for_update(skip_locked=True)
            run_id = session.scalar(oldest)
            if run_id is None:
                return None
            session.execute(
                update(TrainingRun)
                .where(TrainingRun.id == run_id)
                .values(
                    status=RunStatus.RUNNING,
                    started_at=utcnow(),
                    heartbeat_at=utcnow(),
                    claimed_by=claimed_by,
                )
            )
            return int(run_id)
    except IntegrityError:  # another trainer claimed a run in between: the index said no
        return None


class Heartbeat:
    """Writes heartbeat_at for one run every few seconds until stopped."""

    def __init__(self, db: Database, run_id: int, interval_s: float = HEARTBEAT_INTERVAL_S) -> None:
        self.db, self.run_id, self.interval_s = db, run_id, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(self.interval_s + 5)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                with self.db.write() as session:
                    session.execute(
                        update(TrainingRun)
                        .where(TrainingRun.id == self.run_id, TrainingRun.status == RunStatus.RUNNING)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # a missed beat is retried; the job itself must not stop for it
                log.warning("Could not write the heartbeat of run %s", self.run_id, exc_info=True)


class TrainingRunner(PollingThread):
    thread_name = "training-runner"

    def __init__(
        self, db: Database, runs_dir: Path, *, device_chooser: Callable[[], DeviceInfo] = choose_device
    ) -> None:
        super().__init__()
        self.db = db
        self.runs_dir = runs_dir
        self.device_chooser = device_chooser
        self.identity = trainer_identity()

    def start(self) -> TrainingRunner:
        if not self.started:
            self._recover()
            self._resume_searches()
            self._start_thread()
        return self

    def _recover(self) -> int:
        recovered = recover_interrupted_runs(self.db)
        if recovered:
            log.warning("Marked %d run(s) whose trainer stopped as interrupted", recovered)
        return recovered

    def _resume_searches(self) -> None:
        if resume_searches(self.db):
            log.info("Resumed interrupted hyperparameter searches")

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                # A trainer found gone while the app runs (another machine's) may have held a search's
                # trial: its search goes on with a fresh one, as it does after a restart.
                if self._recover():
                    self._resume_searches()
            except Exception:  # a failed sweep is tried again at the next poll
                log.exception("Could not look for runs left by a stopped trainer")
            run_id = claim_next_run(self.db, claimed_by=self.identity)
            if run_id is None:
                self._sleep(IDLE_POLL_S)
                continue
            log.info("Training run %s started", run_id)
            # A CPU job keeps a core free for the UI by lowering torch's process-wide thread count;
            # give the count back afterwards, or Predict and Explain stay on one thread for good.
            threads = torch.get_num_threads()
            try:
                with Heartbeat(self.db, run_id):
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
