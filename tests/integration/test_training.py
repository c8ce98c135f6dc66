"""The training engine on a tiny BertConfig model: real loop, real job, real runner thread."""

from __future__ import annotations

import dataclasses
import math
import time
from datetime import UTC, datetime, timedelta

import pytest
import torch
from sqlalchemy import func, select, update

from core.config import Settings
from core.db import Database
from core.models import LabelClass, Prediction, Record, RunPart, RunRecord, RunStatus, TrainingRun, utcnow
from core.services.exports import model_card
from core.services.training import (
    active_run,
    cancel_run,
    delete_run,
    list_runs,
    run_progress,
    start_training,
    trained_on_text,
    training_setup,
)
from core.training.config import TrainConfig
from core.training.device import choose_device
from core.training.job import run_training_job
from core.training.runner import (
    STALE_AFTER,
    Heartbeat,
    TrainingRunner,
    claim_next_run,
    recover_interrupted_runs,
)
from tests.integration.training_helpers import dead_trainer, make_dataset, status, tiny_config, wait_for

pytestmark = pytest.mark.integration


def test_setup_counts_labels_per_class_and_part(db: Database) -> None:
    setup = training_setup(db, make_dataset(db))
    assert [(c.name, c.train_pool, c.test) for c in setup.classes] == [
        ("negative", 30, 10),
        ("positive", 30, 10),
    ]
    assert setup.can_train and setup.warnings == []


def test_synchronous_job_trains_scores_predicts_and_exports(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    from transformers import pipeline

    dataset_id = make_dataset(db)
    run_id = start_training(db, dataset_id, tiny_config(tiny_model), preset=None)
    assert claim_next_run(db) == run_id
    assert run_training_job(run_id, db, runs_dir=settings.runs_dir) == RunStatus.SUCCEEDED

    progress = run_progress(db, run_id)
    assert progress.summary.status == RunStatus.SUCCEEDED
    assert progress.step == progress.total_steps and progress.train_curve and len(progress.eval_curve) >= 1
    test = progress.metrics["test"]
    assert test["size"] == 20 and set(test["per_class"]) == {"negative", "positive"}
    assert sum(map(sum, test["confusion_matrix"])) == 20
    assert 0 <= test["macro_f1"] <= 1 and progress.metrics["validation"]["size"] == 12
    assert progress.summary.device is not None
    assert progress.summary.device.startswith("GPU" if torch.cuda.is_available() else "CPU")
    with db.read() as session:
        assert (
            session.scalar(select(func.count()).select_from(Prediction).where(Prediction.run_id == run_id))
            == 80
        )
        parts = dict(
            session.execute(
                select(RunRecord.part, func.count())
                .where(RunRecord.run_id == run_id)
                .group_by(RunRecord.part)
            ).all()
        )
        environment = session.get(TrainingRun, run_id).environment  # type: ignore[union-attr]
    assert parts == {RunPart.TRAIN: 48, RunPart.VALIDATION: 12, RunPart.TEST: 20}
    assert environment["seed"] == 13 and "torch" in environment

    folder = settings.runs_dir / str(run_id)
    assert (folder / "model.safetensors").exists()
    # The default mean-pooling head travels with its code; the folder loads in any process with it.
    assert (folder / "modeling_review_studio.py").exists()
    classifier = pipeline("text-classification", model=str(folder), trust_remote_code=True)
    # The exported head is the trained head: it gives the labels the run stored for the same reviews.
    with db.read() as session:
        stored = session.execute(
            select(Record.text, LabelClass.name)
            .join(Prediction, Prediction.record_id == Record.id)
            .join(LabelClass, LabelClass.id == Prediction.label_class_id)
            .where(Prediction.run_id == run_id)
            .order_by(Record.position)
            .limit(12)
        ).all()
    texts, labels = zip(*stored, strict=True)
    assert [r["label"] for r in classifier(list(texts))] == list(labels)


def test_a_small_dataset_trains_for_the_least_number_of_steps(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    dataset_id = make_dataset(db, rows=40)  # 24 training reviews: 3 steps a pass in batches of 8
    run_id = start_training(db, dataset_id, tiny_config(tiny_model, epochs=2, min_steps=12), preset=None)
    assert run_progress(db, run_id).config["epochs"] == 2
    claim_next_run(db)
    assert run_training_job(run_id, db, runs_dir=settings.runs_dir) == RunStatus.SUCCEEDED
    progress = run_progress(db, run_id)
    steps_per_pass = math.ceil(progress.metrics["train_samples"] / 8)
    passes = math.ceil(12 / steps_per_pass)
    assert passes > 2
    # The run stores the passes it really made: the progress line, the time estimate and a rerun read them.
    assert progress.config["epochs"] == progress.epochs == passes
    assert (progress.step, progress.total_steps) == (passes * steps_per_pass, passes * steps_per_pass)
    assert len(progress.eval_curve) == passes


def test_a_large_dataset_stops_at_the_most_steps_part_way_through_a_pass(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    dataset_id = make_dataset(db, rows=80)  # about 48 training reviews: 6 steps a pass in batches of 8
    run_id = start_training(db, dataset_id, tiny_config(tiny_model, epochs=3, max_steps=4), preset=None)
    claim_next_run(db)
    assert run_training_job(run_id, db, runs_dir=settings.runs_dir) == RunStatus.SUCCEEDED
    progress = run_progress(db, run_id)
    steps_per_pass = math.ceil(progress.metrics["train_samples"] / 8)
    assert steps_per_pass > 4
    # One pass, stopped after 4 steps: scored once at its end, and the progress line says how far it read.
    assert progress.config["epochs"] == 1
    assert (progress.step, progress.total_steps) == (4, 4)
    assert len(progress.eval_curve) == 1
    assert progress.passes_planned == pytest.approx(4 / steps_per_pass)
    assert progress.metrics["test"]["accuracy"] is not None
    # What it learned from is named as read, in the history and on the model card.
    train_samples = progress.metrics["train_samples"]
    assert progress.metrics["reviews_read"] == 4 * 8
    [summary] = list_runs(db, dataset_id)
    assert trained_on_text(summary.train_samples, summary.reviews_read) == f"32 of {train_samples} reviews"
    assert f"trained on 32 of {train_samples} reviews" in model_card(db, run_id)


def test_cls_pooling_exports_a_plain_transformers_model(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    from transformers import pipeline

    run_id = start_training(
        db, make_dataset(db, rows=40), tiny_config(tiny_model, epochs=1, pooling="cls"), preset=None
    )
    claim_next_run(db)
    assert run_training_job(run_id, db, runs_dir=settings.runs_dir) == RunStatus.SUCCEEDED
    folder = settings.runs_dir / str(run_id)
    assert not (folder / "modeling_review_studio.py").exists()
    classifier = pipeline("text-classification", model=str(folder))
    assert classifier("works well")[0]["label"] in {"negative", "positive"}


def test_runner_thread_runs_queued_jobs_one_at_a_time(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    dataset_id = make_dataset(db)
    first = start_training(db, dataset_id, tiny_config(tiny_model, epochs=2), preset="Quick")
    assert (
        start_training(db, dataset_id, tiny_config(tiny_model, epochs=2), preset="Quick") == first
    )  # double click
    second = start_training(db, dataset_id, tiny_config(tiny_model, epochs=1), preset="Quick")
    original_threads = torch.get_num_threads()
    torch.set_num_threads(3)  # the app's own count; a CPU job lowers it while it trains
    runner = TrainingRunner(
        db,
        settings.runs_dir,
        device_chooser=lambda: dataclasses.replace(choose_device(prefer_cpu=True), threads=1),
    ).start()
    try:
        runner.wake()
        seen_running: set[int] = set()

        def both_done() -> bool:
            running = [r.id for r in list_runs(db) if r.status == RunStatus.RUNNING]
            assert len(running) <= 1
            seen_running.update(running)
            return all(status(db, run) == RunStatus.SUCCEEDED for run in (first, second))

        wait_for(both_done, timeout=120)
    finally:
        runner.stop()
    assert active_run(db) is None
    assert [r.id for r in list_runs(db, dataset_id)] == [second, first]
    restored = torch.get_num_threads()
    torch.set_num_threads(original_threads)
    assert restored == 3  # given back after each job


def test_cancel_stops_a_running_job_and_keeps_partial_results(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    dataset_id = make_dataset(db, rows=400)
    run_id = start_training(db, dataset_id, tiny_config(tiny_model, epochs=40, batch_size=4), preset=None)
    runner = TrainingRunner(
        db, settings.runs_dir, device_chooser=lambda: choose_device(prefer_cpu=True)
    ).start()
    try:
        runner.wake()
        wait_for(lambda: run_progress(db, run_id).step > 3)
        requested = time.monotonic()
        cancel_run(db, run_id)
        wait_for(lambda: status(db, run_id) == RunStatus.CANCELLED, timeout=10)
        took = time.monotonic() - requested
    finally:
        runner.stop()
    progress = run_progress(db, run_id)
    assert progress.metrics["partial"] is True
    assert progress.train_curve  # the loss curve so far is kept
    assert progress.step < progress.total_steps  # type: ignore[operator]
    assert took < 5, f"cancel took {took:.1f} s"
    assert not (settings.runs_dir / str(run_id)).exists()


def test_cancelling_a_queued_run_is_immediate(db: Database, tiny_model: str) -> None:
    run_id = start_training(db, make_dataset(db), tiny_config(tiny_model), preset=None)
    cancel_run(db, run_id)
    assert status(db, run_id) == RunStatus.CANCELLED
    assert claim_next_run(db) is None


def test_runs_left_running_by_a_dead_process_become_interrupted(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    run_id = start_training(db, make_dataset(db), tiny_config(tiny_model), preset=None)
    assert claim_next_run(db, claimed_by=dead_trainer()) == run_id  # the old process claimed it, then died
    runner = TrainingRunner(db, settings.runs_dir).start()
    runner.stop()
    progress = run_progress(db, run_id)
    assert progress.summary.status == RunStatus.INTERRUPTED
    assert "app stopped" in (progress.summary.error or "")


def test_a_run_on_another_machine_is_interrupted_only_once_its_heartbeat_stops(
    db: Database, tiny_model: str
) -> None:
    run_id = start_training(db, make_dataset(db), tiny_config(tiny_model), preset=None)
    assert claim_next_run(db, claimed_by="gpu-box:4242:abcd") == run_id
    assert recover_interrupted_runs(db) == 0  # its heartbeat is fresh: it trains elsewhere
    assert status(db, run_id) == RunStatus.RUNNING
    with db.write() as session:
        session.execute(
            update(TrainingRun)
            .where(TrainingRun.id == run_id)
            .values(heartbeat_at=utcnow() - STALE_AFTER - timedelta(seconds=1))
        )
    assert recover_interrupted_runs(db) == 1
    progress = run_progress(db, run_id)
    assert progress.summary.status == RunStatus.INTERRUPTED
    assert "stopped answering" in (progress.summary.error or "")


def test_a_training_run_keeps_its_heartbeat_fresh_while_it_works(db: Database, tiny_model: str) -> None:
    run_id = start_training(db, make_dataset(db), tiny_config(tiny_model), preset=None)
    claim_next_run(db)
    old = utcnow() - timedelta(minutes=5)
    with db.write() as session:
        session.execute(update(TrainingRun).where(TrainingRun.id == run_id).values(heartbeat_at=old))

    def heartbeat() -> datetime:
        with db.read() as session:
            beat = session.scalar(select(TrainingRun.heartbeat_at).where(TrainingRun.id == run_id))
        assert beat is not None
        # SQLite hands it back without a zone (it is UTC), PostgreSQL with the session's.
        return beat.astimezone(UTC) if beat.tzinfo else beat.replace(tzinfo=UTC)

    with Heartbeat(db, run_id, interval_s=0.05):
        wait_for(lambda: heartbeat() > old, timeout=10)
    assert recover_interrupted_runs(db) == 0


def test_bad_model_id_fails_with_a_clear_message(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    run_id = start_training(
        db, make_dataset(db), TrainConfig(model_source="no-such-org/no-such-model"), preset=None
    )
    assert claim_next_run(db) == run_id
    assert run_training_job(run_id, db, runs_dir=settings.runs_dir) == RunStatus.FAILED
    error = run_progress(db, run_id).summary.error or ""
    assert "Could not load the model “no-such-org/no-such-model”" in error
    assert "offline" in error
    # The app keeps working: the next run can be claimed and queued normally.
    assert active_run(db) is None


def test_delete_run_removes_its_folder(db: Database, settings: Settings, tiny_model: str) -> None:
    dataset_id = make_dataset(db, rows=40)
    run_id = start_training(db, dataset_id, tiny_config(tiny_model, epochs=1), preset=None)
    claim_next_run(db)
    run_training_job(run_id, db, runs_dir=settings.runs_dir)
    assert (settings.runs_dir / str(run_id)).is_dir()
    delete_run(db, run_id, runs_dir=settings.runs_dir)
    assert not (settings.runs_dir / str(run_id)).exists()
    assert list_runs(db, dataset_id) == []
