"""A tiny two-label dataset and a tiny-model config shared by the training and search tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from core.db import Database
from core.importing.plan import ColumnMapping, build_import_plan
from core.importing.reader import read_table
from core.models import RunStatus
from core.services.importing import choose_test_indices, import_dataset
from core.services.training import run_progress, start_training
from core.training.config import TrainConfig

POSITIVE = [
    "great relief",
    "works well",
    "no side effects",
    "highly recommend",
    "helped a lot",
    "amazing drug",
]
NEGATIVE = [
    "terrible nausea",
    "did not work",
    "awful headache",
    "made it worse",
    "never again",
    "severe pain",
]


def make_dataset(db: Database, rows: int = 80, *, filler_words: int = 0) -> int:
    """Short two-label reviews; `filler_words` more words make each one that much longer."""
    filler = " and so on" * (filler_words // 3)
    lines = []
    for i in range(rows):
        words = POSITIVE if i % 2 else NEGATIVE
        lines.append(
            f"{words[i % 6]} and {words[(i + 1) % 6]} number {i}{filler},{'positive' if i % 2 else 'negative'}"
        )
    table = read_table(("review,label\n" + "\n".join(lines) + "\n").encode(), "r.csv")
    plan = build_import_plan(table, ColumnMapping(text="review", label="label"))
    return import_dataset(
        db,
        plan,
        name="tiny",
        source_filename=None,
        test_indices=choose_test_indices(plan, test_share=0.25, seed=1),
    ).id


def tiny_config(tiny_model: str, **changes: object) -> TrainConfig:
    values = {
        "model_source": tiny_model,
        "epochs": 3,
        "batch_size": 8,
        "max_tokens": 32,
        "learning_rate": 1e-3,
        "validation_share": 0.2,
        "early_stopping_patience": 5,
    }
    values.update(changes)
    return TrainConfig(**values)  # type: ignore[arg-type]


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def status(db: Database, run_id: int) -> RunStatus:
    return run_progress(db, run_id).summary.status


def wait_until_succeeded(db: Database, run_id: int, *, timeout: float = 240.0) -> None:
    """Wait for a run that a server's runner thread trains to end, and say how it ended if not well:
    a run that failed fails the test at once with its error, one still queued or running says so."""
    ended = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED)
    deadline = time.monotonic() + timeout
    while (summary := run_progress(db, run_id).summary).status not in ended:
        assert time.monotonic() < deadline, f"run {run_id} still {summary.status} after {timeout:.0f} s"
        time.sleep(0.2)
    assert summary.status == RunStatus.SUCCEEDED, f"run {run_id} ended {summary.status}: {summary.error}"


def train_tiny_run(
    db: Database, runs_dir: Path, tiny_model: str, *, rows: int = 80, **changes: object
) -> tuple[int, int]:
    """A dataset and one finished run on it, trained synchronously: (dataset id, run id)."""
    from core.training.job import run_training_job
    from core.training.runner import claim_next_run

    dataset_id = make_dataset(db, rows=rows)
    run_id = start_training(db, dataset_id, tiny_config(tiny_model, **changes), preset="Quick")
    assert claim_next_run(db) == run_id
    assert run_training_job(run_id, db, runs_dir=runs_dir) == RunStatus.SUCCEEDED
    return dataset_id, run_id


def dead_trainer() -> str:
    """The identity of a trainer on this machine whose process has ended, as one that crashed."""
    import socket
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:ended"
