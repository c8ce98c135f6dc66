"""A training job's life under trouble (issue #13): Cancel lands within 2 s in every phase, a job that runs
out of memory or hits an error ends FAILED with a readable message, and labeling goes on meanwhile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT, Settings
from core.db import Database
from core.models import RunStatus
from core.services.labeling import label_choices, save_label
from core.services.training import cancel_run, run_progress, start_training
from core.training.device import choose_device
from core.training.job import run_training_job
from core.training.runner import TrainingRunner, claim_next_run
from tests.integration.training_helpers import make_dataset, status, tiny_config, wait_for
from tests.soak import soak_dataset

CANCEL_BAR_S = 2.0


class Labeler:
    """Saves labels in a thread of its own for as long as a block runs, and keeps any error it met."""

    def __init__(self, db: Database) -> None:
        from sqlalchemy import select

        from core.models import Record
        from core.services.annotators import add_annotator

        dataset_id = soak_dataset(db, 50)
        self.db, self.classes = db, [c.id for c in label_choices(db, dataset_id)]
        with db.read() as session:
            self.records = list(session.scalars(select(Record.id).where(Record.dataset_id == dataset_id)))
        self.annotator = add_annotator(db, "labels meanwhile").id
        self.saved, self.errors = 0, []  # type: ignore[var-annotated]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            step = self.saved
            try:
                save_label(
                    self.db,
                    record_id=self.records[step % len(self.records)],
                    annotator_id=self.annotator,
                    label_class_id=self.classes[step % len(self.classes)],
                )
                self.saved += 1
            except Exception as error:  # reported by the test: there must be none
                self.errors.append(repr(error))
            time.sleep(0.01)

    def __enter__(self) -> Labeler:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


def _mostly_unlabeled(db: Database, *, labeled: int, unlabeled: int) -> int:
    """Training is quick (few labels) and scoring is long (predictions for every review)."""
    from core.importing.plan import ColumnMapping, build_import_plan
    from core.importing.reader import read_table
    from core.services.importing import import_dataset

    rows = [f"review {i} works well,{'positive' if i % 2 else 'negative'}" for i in range(labeled)]
    # Long enough to fill max_tokens: scoring them takes seconds even for the tiny model.
    rows += [
        f"unlabeled review number {i} {'it helped a little with the pain ' * 12}," for i in range(unlabeled)
    ]
    table = read_table(("review,label\n" + "\n".join(rows) + "\n").encode(), "mostly.csv")
    plan = build_import_plan(table, ColumnMapping(text="review", label="label"))
    return import_dataset(db, plan, name="mostly unlabeled", source_filename=None).id


def _cancel_and_time(db: Database, run_id: int) -> float:
    requested = time.monotonic()
    cancel_run(db, run_id)
    wait_for(lambda: status(db, run_id) == RunStatus.CANCELLED, timeout=30)
    return time.monotonic() - requested


def test_cancel_lands_within_two_seconds_while_training(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    run_id = start_training(
        db, make_dataset(db, rows=400), tiny_config(tiny_model, epochs=40, batch_size=4), preset=None
    )
    runner = TrainingRunner(
        db, settings.runs_dir, device_chooser=lambda: choose_device(prefer_cpu=True)
    ).start()
    try:
        with Labeler(db) as labeler:
            runner.wake()
            wait_for(lambda: run_progress(db, run_id).step > 3)
            took = _cancel_and_time(db, run_id)
    finally:
        runner.stop()
    assert took <= CANCEL_BAR_S, f"cancel took {took:.2f} s"
    assert labeler.errors == [] and labeler.saved > 10


def test_cancel_lands_within_two_seconds_while_scoring(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    """After the last step the job scores every review; Cancel is read between batches there too."""
    dataset_id = _mostly_unlabeled(db, labeled=80, unlabeled=20_000)
    run_id = start_training(db, dataset_id, tiny_config(tiny_model, epochs=1, max_tokens=64), preset=None)
    runner = TrainingRunner(
        db, settings.runs_dir, device_chooser=lambda: choose_device(prefer_cpu=True)
    ).start()
    try:
        runner.wake()

        def scoring_started() -> bool:
            progress = run_progress(db, run_id)
            assert progress.summary.status in (RunStatus.QUEUED, RunStatus.RUNNING), progress.summary.error
            return bool((progress.metrics.get("scoring") or {}).get("done"))

        wait_for(scoring_started, timeout=120)
        took = _cancel_and_time(db, run_id)
    finally:
        runner.stop()
    progress = run_progress(db, run_id)
    print(f"cancel while scoring took {took:.2f} s")
    assert took <= CANCEL_BAR_S, f"cancel took {took:.2f} s"
    assert progress.metrics["partial"] is True
    assert progress.metrics["train_seconds"] > 0  # what training learned is still reported
    assert not (settings.runs_dir / str(run_id)).exists()


def test_running_out_of_memory_fails_readably_while_labeling_goes_on(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    """A job in its own process, with a memory ceiling, asked for batches far too big for it."""
    run_id = start_training(
        db,
        make_dataset(db, rows=600, filler_words=150),
        # Reviews long enough to fill 128 tokens: a batch of 512 of them needs more than the ceiling
        # leaves (short ones fitted, now and then). fp32: the failure comes from torch's allocator.
        # Under bf16 it came from inside oneDNN, whose process then hung now and then (1 run in 3)
        # instead of going on to report it.
        tiny_config(tiny_model, epochs=1, batch_size=512, max_tokens=128, mixed_precision=False),
        preset=None,
    )
    with Labeler(db) as labeler:
        child = subprocess.run(
            [sys.executable, "-m", "tests.job_child", db.url, str(settings.runs_dir), str(run_id), "300"],
            cwd=PROJECT_ROOT,
            # The ceiling counts address space, and glibc reserves 64 MiB of it for each new thread's
            # malloc arena: the tokenizer's worker threads could spend the headroom before training
            # began, now and then, and Rust aborts the process on a failed allocation instead of
            # raising. Without those threads the job's own batches are what hit the ceiling.
            env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert child.returncode == 0, child.stderr[-2000:]
    summary = run_progress(db, run_id).summary
    assert summary.status == RunStatus.FAILED, child.stdout + child.stderr[-2000:]
    assert "ran out of memory at batch size 512; try 256" in (summary.error or ""), child.stderr[-3000:]
    assert labeler.errors == [] and labeler.saved > 10
    assert claim_next_run(db) is None  # nothing left running or stuck


def test_an_error_inside_the_loop_fails_readably_while_labeling_goes_on(
    db: Database, settings: Settings, tiny_model: str, tmp_path: Path
) -> None:
    """A model folder whose vocabulary is smaller than its tokenizer's: the first step indexes past its
    word table, inside the training loop."""
    broken = Path(tiny_model).parent / f"broken-vocab-{tmp_path.name}"
    shutil.copytree(tiny_model, broken)
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig.from_dict({**json.loads((broken / "config.json").read_text()), "vocab_size": 50})
    BertForSequenceClassification(config).save_pretrained(broken)
    run_id = start_training(db, make_dataset(db, rows=80), tiny_config(str(broken), epochs=1), preset=None)
    claim_next_run(db)
    with Labeler(db) as labeler:
        result = run_training_job(
            run_id, db, runs_dir=settings.runs_dir, device_chooser=lambda: choose_device(prefer_cpu=True)
        )
        time.sleep(0.3)
    assert result == RunStatus.FAILED
    error = run_progress(db, run_id).summary.error or ""
    assert error.startswith("Training stopped because of an unexpected problem")
    assert "Error" not in error  # no exception class names
    assert labeler.errors == [] and labeler.saved > 5


@pytest.mark.parametrize("clicks", [2, 5])
def test_repeated_start_clicks_queue_one_job(db: Database, tiny_model: str, clicks: int) -> None:
    dataset_id = make_dataset(db)
    ids = {start_training(db, dataset_id, tiny_config(tiny_model), preset="Quick") for _ in range(clicks)}
    assert len(ids) == 1
    assert claim_next_run(db) == ids.pop()
    assert claim_next_run(db) is None


def test_a_dataset_without_a_test_part_trains_to_the_end(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    """Imported without a test share: this failed with an IndexError before (found by the scoring test)."""
    dataset_id = _mostly_unlabeled(db, labeled=60, unlabeled=20)
    run_id = start_training(db, dataset_id, tiny_config(tiny_model, epochs=1), preset=None)
    claim_next_run(db)
    assert run_training_job(run_id, db, runs_dir=settings.runs_dir) == RunStatus.SUCCEEDED, run_progress(
        db, run_id
    ).summary.error
    assert (settings.runs_dir / str(run_id) / "model.safetensors").exists()
