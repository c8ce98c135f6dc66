"""run_training_job(run_id, db): the background job. It talks to the UI only through database rows."""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sqlalchemy import func, insert, select, update

from core.db import Database
from core.errors import ReviewStudioError
from core.models import Prediction, Record, RunEvent, RunRecord, RunStatus, TrainingRun, utcnow
from core.quality import calibration_error_by_chance
from core.training.augment import augment_small_classes
from core.training.calibration import (
    expected_calibration_error,
    tempered,
)
from core.training.config import TrainConfig
from core.training.data import Encoded, TrainingData, build_training_data, encode
from core.training.device import DeviceInfo, choose_device, prepare_device
from core.training.evaluation import calibrate, fit_and_score_baselines, scores
from core.training.loop import (
    EvalReport,
    StepReport,
    StopRequested,
    TrainHooks,
    predict_probabilities,
    train_model,
)
from core.training.modeling import load_for_training, save_model

log = logging.getLogger(__name__)

# Progress rows are written at most this often, so a fast GPU does not flood SQLite.
PROGRESS_INTERVAL_S = 0.5
# Cancel lands within about a second: the flag is read at most this often, between steps.
CANCEL_CHECK_INTERVAL_S = 0.25
METADATA_FILE = "review_studio.json"
# Reviews scored between two progress writes after training.
SCORING_CHUNK = 256


def _update_run(db: Database, run_id: int, **values: Any) -> None:
    with db.write() as session:
        session.execute(update(TrainingRun).where(TrainingRun.id == run_id).values(**values))


def _environment(device: DeviceInfo, config: TrainConfig) -> dict[str, Any]:
    import sklearn
    import transformers

    return {
        "seed": config.seed,
        "device": device.describe(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "scikit-learn": sklearn.__version__,
    }


class _Reporter:
    """Turns loop callbacks into short write transactions, throttled in time."""

    def __init__(self, db: Database, run_id: int) -> None:
        self.db, self.run_id = db, run_id
        self.last_write = self.last_cancel_check = 0.0
        self.cancelled = False
        self.pending_losses: list[float] = []

    def on_step(self, report: StepReport) -> None:
        self.pending_losses.append(report.loss)
        now = time.monotonic()
        if now - self.last_write < PROGRESS_INTERVAL_S and report.step != report.total_steps:
            return
        self.last_write = now
        loss = float(np.mean(self.pending_losses))
        self.pending_losses.clear()
        with self.db.write() as session:
            session.execute(
                update(TrainingRun)
                .where(TrainingRun.id == self.run_id)
                .values(
                    step=report.step,
                    total_steps=report.total_steps,
                    epoch=report.epoch,
                    progress=min(1.0, report.step / report.total_steps),
                    heartbeat_at=utcnow(),
                )
            )
            session.add(
                RunEvent(
                    run_id=self.run_id,
                    kind="train",
                    step=report.step,
                    epoch=report.epoch,
                    loss=loss,
                    learning_rate=report.learning_rate,
                    samples_per_second=report.samples_per_second,
                )
            )

    def on_eval(self, report: EvalReport) -> None:
        with self.db.write() as session:
            session.add(
                RunEvent(
                    run_id=self.run_id,
                    kind="eval",
                    step=report.step,
                    epoch=report.epoch,
                    loss=report.loss,
                    metrics={
                        "accuracy": report.accuracy,
                        "macro_f1": report.macro_f1,
                        "seconds": report.seconds,
                        "reviews": report.reviews,
                    },
                )
            )

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if now - self.last_cancel_check >= CANCEL_CHECK_INTERVAL_S:
            self.last_cancel_check = now
            with self.db.read() as session:
                self.cancelled = bool(
                    session.scalar(select(TrainingRun.cancel_requested).where(TrainingRun.id == self.run_id))
                )
        return self.cancelled


def _record_split(db: Database, run_id: int, data: TrainingData) -> None:
    rows = [
        {
            "run_id": run_id,
            "record_id": record_id,
            "part": part,
            "label_class_id": data.label_class_ids[label],
        }
        for part, piece in data.parts().items()
        for record_id, label in zip(piece.record_ids, piece.labels, strict=True)
    ]
    with db.write() as session:
        session.execute(insert(RunRecord), rows)


def _baselines_unless_cancelled(
    data: TrainingData,
    config: TrainConfig,
    should_cancel: Callable[[], bool],
    model_predicted: dict[str, np.ndarray],
) -> dict[str, Any]:
    """The keyword and majority baselines take seconds on a big dataset: Cancel is read on each side."""
    if should_cancel():
        raise StopRequested
    baselines = fit_and_score_baselines(data, config, model_predicted)
    if should_cancel():
        raise StopRequested
    return baselines


def _predict_everything(
    db: Database,
    run_id: int,
    dataset_id: int,
    model: Any,
    tokenizer: Any,
    data: TrainingData,
    config: TrainConfig,
    device: DeviceInfo,
    scoring: _ScoringReporter,
    already_scored: dict[int, np.ndarray],
) -> None:
    """Store the saved model's calibrated probabilities for every review of the dataset. The validation
    and test parts were scored moments before, for the run's metrics: those rows are stored as they
    were, so Results (which reads the stored rows) and the run's metrics agree to the last review."""
    with db.read() as session:
        records = session.execute(select(Record.id, Record.text).where(Record.dataset_id == dataset_id)).all()
    unscored = [(record_id, text) for record_id, text in records if record_id not in already_scored]
    # Tokenized a chunk at a time, as scored: tokenizing 100,000 reviews at once takes seconds in which
    # a Cancel could not be read.
    pieces = []
    for start in range(0, len(unscored), SCORING_CHUNK):
        texts = [text for _, text in unscored[start : start + SCORING_CHUNK]]
        encoded = encode(tokenizer, texts, [0] * len(texts), config.max_tokens, keep_tail=config.keep_tail)
        pieces.append(scoring.predict(model, encoded, tokenizer.pad_token_id, device))
    probabilities = (
        np.concatenate(pieces) if pieces else np.zeros((0, model.config.num_labels), dtype=np.float32)
    )
    scored = dict(already_scored)
    scored.update((record_id, row) for (record_id, _), row in zip(unscored, probabilities, strict=True))
    rows = []
    for record_id, _ in records:
        row = scored[record_id]
        best = int(row.argmax())
        rows.append(
            {
                "run_id": run_id,
                "record_id": record_id,
                "label_class_id": data.label_class_ids[best],
                "confidence": float(row[best]),
                "probabilities": {name: float(p) for name, p in zip(data.label_names, row, strict=True)},
            }
        )
    with db.write() as session:
        session.execute(insert(Prediction), rows)


def _plan(db: Database, dataset_id: int, data: TrainingData) -> dict[str, int]:
    """How many reviews the job scores after training, so the ETA covers the whole job from the start."""
    with db.read() as session:
        everything = int(
            session.scalar(select(func.count()).select_from(Record).where(Record.dataset_id == dataset_id))
            or 0
        )
    return {
        "train": len(data.train.labels),
        "validation": len(data.validation.labels),
        # The validation and test parts once, for the metrics; then the rest of the dataset.
        "score_after_training": everything,
    }


class _ScoringReporter:
    """Scores in chunks after training and records how far it got, so the page can show an honest ETA
    for the part of the job that comes after the last training step."""

    def __init__(
        self, db: Database, run_id: int, plan: dict[str, Any], should_cancel: Callable[[], bool]
    ) -> None:
        self.db, self.run_id, self.plan = db, run_id, plan
        self.should_cancel = should_cancel
        self.done, self.started = 0, time.perf_counter()

    def predict(self, model: Any, encoded: Encoded, pad_token_id: int, device: DeviceInfo) -> np.ndarray:
        chunks = []
        for start in range(0, len(encoded), SCORING_CHUNK):
            piece = Encoded(
                encoded.input_ids[start : start + SCORING_CHUNK],
                encoded.labels[start : start + SCORING_CHUNK],
            )
            # Checked between batches: Cancel lands within one batch here too, not after all the scoring.
            chunks.append(
                predict_probabilities(model, piece, pad_token_id, device, should_stop=self.should_cancel)
            )
            self.done += len(piece)
            self._write()
        if not chunks:
            return np.zeros((0, model.config.num_labels), dtype=np.float32)
        return np.concatenate(chunks)

    def progress(self) -> dict[str, float]:
        """Reviews scored since training ended, and the seconds that took."""
        return {"done": self.done, "seconds": time.perf_counter() - self.started}

    def _write(self) -> None:
        _update_run(
            self.db,
            self.run_id,
            metrics={"plan": self.plan, "scoring": self.progress()},
            heartbeat_at=utcnow(),
        )


_CPU_MEMORY_FAILURES = (
    "can't allocate memory",  # torch's CPU allocator
    "not enough memory",
    "could not create a primitive",  # oneDNN (bf16 on CPU) when its scratch memory cannot be allocated
)


def _cpu_out_of_memory(error: BaseException) -> bool:
    # On a CPU, torch reports a failed allocation as a plain RuntimeError (tests/integration/
    # test_job_lifecycle.py runs a job under a memory ceiling and saw it from oneDNN).
    return isinstance(error, RuntimeError) and any(text in str(error) for text in _CPU_MEMORY_FAILURES)


def _friendly_failure(error: BaseException, config: TrainConfig, device: DeviceInfo | None) -> str:
    if isinstance(error, ReviewStudioError):
        return str(error)
    if isinstance(error, torch.OutOfMemoryError | MemoryError) or _cpu_out_of_memory(error):
        where = "GPU" if device is not None and device.kind == "cuda" else "The computer"
        smaller = max(1, config.batch_size // 2)
        return (
            f"{where} ran out of memory at batch size {config.batch_size}; try {smaller} "
            f"(or fewer max tokens than {config.max_tokens})."
        )
    return (
        "Training stopped because of an unexpected problem. Starting the run again may work; if it fails "
        "again, try the bundled model or a smaller batch size. The server log has the details."
    )


def run_training_job(
    run_id: int,
    db: Database,
    *,
    runs_dir: Path,
    device_chooser: Callable[[], DeviceInfo] = choose_device,
) -> RunStatus:
    """Train one run end to end. Marks it SUCCEEDED, CANCELLED or FAILED; never raises."""
    with db.read() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            return RunStatus.FAILED
        config, dataset_id = TrainConfig.from_dict(run.config), run.dataset_id
    device: DeviceInfo | None = None
    partial: dict[str, Any] = {}  # metrics so far, kept if the run is cancelled
    try:
        device = device_chooser()
        if not config.mixed_precision:
            device = dataclasses.replace(device, bf16=False)
        prepare_device(device)
        _update_run(
            db,
            run_id,
            status=RunStatus.RUNNING,
            started_at=utcnow(),
            heartbeat_at=utcnow(),
            device=device.describe(),
            environment=_environment(device, config),
        )
        data = build_training_data(db, dataset_id, validation_share=config.validation_share, seed=config.seed)
        _record_split(db, run_id, data)
        plan = _plan(db, dataset_id, data)
        _update_run(db, run_id, metrics={"plan": plan})
        # Seeded before the model is built: the new head's initial weights come from this generator too.
        torch.manual_seed(config.seed)
        reporter = _Reporter(db, run_id)
        model, tokenizer = load_for_training(config.model_source, data.label_names, pooling=config.pooling)
        if reporter.should_cancel():  # loading takes seconds: a Cancel meanwhile lands here
            raise StopRequested
        pad = tokenizer.pad_token_id
        train_texts, train_labels = list(data.train.texts), list(data.train.labels)
        augmented = 0
        if config.augment_small_classes:
            extra_texts, extra_labels = augment_small_classes(train_texts, train_labels, seed=config.seed)
            train_texts, train_labels, augmented = (
                train_texts + extra_texts,
                train_labels + extra_labels,
                len(extra_texts),
            )
        train = encode(tokenizer, train_texts, train_labels, config.max_tokens, keep_tail=config.keep_tail)
        validation = encode(
            tokenizer,
            data.validation.texts,
            data.validation.labels,
            config.max_tokens,
            keep_tail=config.keep_tail,
        )
        passes = config.passes_for(len(train))
        if passes != config.epochs:
            # Stored as the run's own settings: progress, the time estimate and a rerun all read them.
            config = dataclasses.replace(config, epochs=passes)
            _update_run(db, run_id, config=config.to_dict())
        outcome = train_model(
            model,
            train,
            validation,
            pad_token_id=pad,
            config=config,
            device=device,
            hooks=TrainHooks(
                on_step=reporter.on_step, on_eval=reporter.on_eval, should_cancel=reporter.should_cancel
            ),
        )
        base = {
            "train_seconds": outcome.seconds,
            "train_samples": len(train) - augmented,
            # Below train_samples when the step limit stopped the only pass part-way (max_steps).
            "reviews_read": min(outcome.samples_seen, len(train) - augmented),
            "augmented_samples": augmented,
            "warnings": data.warnings,
            "samples_per_second": outcome.samples_seen / outcome.seconds if outcome.seconds else None,
        }
        partial.update(base)
        if outcome.cancelled:
            raise StopRequested
        last = outcome.evaluations[-1] if outcome.evaluations else None
        if last is not None:
            partial["validation"] = {
                "accuracy": last.accuracy,
                "macro_f1": last.macro_f1,
                "epoch": last.epoch,
            }

        scoring = _ScoringReporter(db, run_id, plan, reporter.should_cancel)
        test = encode(
            tokenizer, data.test.texts, data.test.labels, config.max_tokens, keep_tail=config.keep_tail
        )
        raw_validation = scoring.predict(model, validation, pad, device)
        calibration = calibrate(model, raw_validation, validation.labels)
        validation_probabilities = tempered(raw_validation, calibration["temperature"])
        test_probabilities = scoring.predict(model, test, pad, device)
        metrics = {
            **base,
            "plan": plan,
            "best_epoch": outcome.best_epoch,
            "calibration": {
                **calibration,
                "test_ece": expected_calibration_error(test_probabilities, test.labels)
                if test.labels
                else None,
                # What a model with exactly right confidences would show on the same test reviews.
                "test_ece_by_chance": calibration_error_by_chance(test_probabilities.max(axis=1).tolist())
                if test.labels
                else None,
            },
            "validation": scores(validation_probabilities, validation.labels, data.label_names),
            "test": scores(test_probabilities, test.labels, data.label_names),
            "baselines": _baselines_unless_cancelled(
                data,
                config,
                scoring.should_cancel,
                {
                    "validation": validation_probabilities.argmax(axis=1),
                    "test": test_probabilities.argmax(axis=1),
                },
            ),
        }
        already_scored = {
            **dict(zip(data.validation.record_ids, validation_probabilities, strict=True)),
            **dict(zip(data.test.record_ids, test_probabilities, strict=True)),
        }
        _predict_everything(
            db, run_id, dataset_id, model, tokenizer, data, config, device, scoring, already_scored
        )
        metrics["scoring"] = scoring.progress()
        folder = runs_dir / str(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        save_model(model, tokenizer, folder)
        (folder / METADATA_FILE).write_text(
            json.dumps(
                {
                    "run_id": run_id,
                    "label_class_ids": data.label_class_ids,
                    "config": config.to_dict(),
                    "temperature": calibration["temperature"],
                },
                indent=2,
            )
        )
        _update_run(
            db,
            run_id,
            status=RunStatus.SUCCEEDED,
            finished_at=utcnow(),
            progress=1.0,
            metrics=metrics,
            artifact_path=str(folder),
        )
        return RunStatus.SUCCEEDED
    except StopRequested:
        # Cancelled while loading, training or scoring: what was learned so far is kept for the page.
        _update_run(
            db, run_id, status=RunStatus.CANCELLED, finished_at=utcnow(), metrics={**partial, "partial": True}
        )
        return RunStatus.CANCELLED
    except BaseException as error:  # the app must keep working whatever a job does
        if not isinstance(error, ReviewStudioError):
            log.exception("Training run %s failed", run_id)
        message = _friendly_failure(error, config, device)
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        _update_run(db, run_id, status=RunStatus.FAILED, finished_at=utcnow(), error=message)
        if isinstance(error, KeyboardInterrupt | SystemExit):
            raise
        return RunStatus.FAILED
