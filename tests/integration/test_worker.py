"""Two processes: this one is the app, a `python -m core.worker` child is a training machine.

They share only the database and the models folder; each has its own working and data folder. On
PostgreSQL this is the team setup; on SQLite the two share the database file, as an app and a worker
on one machine would.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from core.config import DATA_DIR_ENV, DATABASE_URL_ENV, PROJECT_ROOT, RUN_JOBS_ENV, RUNS_DIR_ENV
from core.db import Database
from core.inference import load_run_model
from core.models import RunEvent, RunStatus, TrainingRun
from core.services.training import cancel_run, run_progress, start_training
from core.training.runner import recover_interrupted_runs
from core.worker import STOPPED_MESSAGE
from tests.integration.training_helpers import make_dataset, status, tiny_config, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def shared_models(tmp_path: Path) -> Path:
    folder = tmp_path / "shared-models"
    folder.mkdir()
    return folder


@pytest.fixture
def start_worker(db: Database, tmp_path: Path, shared_models: Path) -> Iterator[object]:
    workers: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        home = tmp_path / f"worker-{len(workers)}"
        home.mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            DATABASE_URL_ENV: db.url,
            DATA_DIR_ENV: str(home / "data"),
            RUNS_DIR_ENV: str(shared_models),
            RUN_JOBS_ENV: "1",
        }
        log = (home / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "core.worker"], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def _claimed_by(db: Database, run_id: int) -> str | None:
    with db.read() as session:
        return session.scalar(select(TrainingRun.claimed_by).where(TrainingRun.id == run_id))


def test_a_worker_process_trains_what_the_app_queues_and_the_app_reads_its_model(
    db: Database, tmp_path: Path, shared_models: Path, tiny_model: str, start_worker: object
) -> None:
    dataset_id = make_dataset(db)
    run_id = start_training(db, dataset_id, tiny_config(tiny_model), preset="Quick")
    worker = start_worker()  # type: ignore[operator]
    wait_for(lambda: status(db, run_id) == RunStatus.SUCCEEDED, timeout=180)

    claimed = _claimed_by(db, run_id) or ""
    assert f":{worker.pid}:" in claimed and f":{os.getpid()}:" not in claimed
    with db.read() as session:  # the live curves the app draws came from the other process
        events = session.scalar(select(func.count()).select_from(RunEvent).where(RunEvent.run_id == run_id))
    assert (events or 0) > 0
    assert (shared_models / str(run_id) / "config.json").exists()
    model = load_run_model(db, run_id, runs_dir=shared_models)
    probabilities = model.predict(["great relief and works well", "terrible nausea and severe pain"])
    assert probabilities.shape == (2, 2)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_cancel_and_a_killed_worker_reach_across_processes(
    db: Database, tiny_model: str, start_worker: object
) -> None:
    dataset_id = make_dataset(db, rows=400)
    long_config = tiny_config(tiny_model, epochs=50)
    first = start_training(db, dataset_id, long_config, preset=None)
    worker = start_worker()  # type: ignore[operator]
    wait_for(lambda: run_progress(db, first).step > 0, timeout=180)
    cancel_run(db, first)  # the app's Cancel button: a flag in the database
    wait_for(lambda: status(db, first) == RunStatus.CANCELLED, timeout=30)

    second = start_training(db, dataset_id, dataclasses.replace(long_config, seed=7), preset=None)
    wait_for(lambda: run_progress(db, second).step > 0, timeout=180)
    worker.send_signal(signal.SIGKILL)  # the machine dies: no goodbye
    worker.wait()
    assert status(db, second) == RunStatus.RUNNING
    assert recover_interrupted_runs(db) == 1  # the app (any trainer) sees its process is gone
    assert status(db, second) == RunStatus.INTERRUPTED

    third = start_training(db, dataset_id, dataclasses.replace(long_config, seed=8), preset=None)
    worker = start_worker()  # type: ignore[operator]
    wait_for(lambda: run_progress(db, third).step > 0, timeout=180)
    worker.send_signal(signal.SIGTERM)  # stopped on purpose: says so at once
    assert worker.wait(timeout=60) == 0
    summary = run_progress(db, third).summary
    assert summary.status == RunStatus.INTERRUPTED
    assert summary.error == STOPPED_MESSAGE
