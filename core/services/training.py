"""What the Train page calls: what a run would use, starting, cancelling, progress, history, deletion."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import InvalidInputError, NotFoundError
from core.final_labels import final_labels
from core.models import Dataset, LabelClass, Record, RecordSplit, RunEvent, RunStatus, TrainingRun, utcnow
from core.quality import KEYWORDS, BaselineScore, Margin, baseline_scores, margin_over
from core.training.config import TrainConfig
from core.training.data import FEW_EXAMPLES_WARNING, MIN_EXAMPLES_PER_CLASS, training_part_size
from core.training.modeling import resolve_model_source

ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
# Before the first validation pass is timed: a forward pass alone is about three times faster than a
# training step's forward and backward passes (measured 3-4x for MiniLM on CPU).
SCORING_TO_TRAINING_SPEED = 3.0


@dataclass(frozen=True)
class ClassCount:
    name: str
    color: str
    train_pool: int  # training + validation
    test: int


@dataclass(frozen=True)
class TrainingSetup:
    classes: list[ClassCount]
    warnings: list[str]

    @property
    def train_pool(self) -> int:
        return sum(c.train_pool for c in self.classes)

    @property
    def test(self) -> int:
        return sum(c.test for c in self.classes)

    def train_size(self, validation_share: float) -> int:
        return training_part_size(self.train_pool, validation_share)

    @property
    def can_train(self) -> bool:
        return sum(1 for c in self.classes if c.train_pool >= MIN_EXAMPLES_PER_CLASS) >= 2


@dataclass(frozen=True)
class RunSummary:
    id: int
    dataset_id: int
    status: RunStatus
    preset: str | None
    model_source: str
    device: str | None
    progress: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    train_samples: int | None
    # Fewer than train_samples when the run's step limit let it read only a sample (TrainConfig.max_steps).
    reviews_read: int | None
    test_accuracy: float | None
    test_macro_f1: float | None
    validation_macro_f1: float | None
    error: str | None
    search_id: int | None = None
    trial_number: int | None = None
    # The keyword baseline on the same test reviews (None for runs older than baselines).
    keyword_test: BaselineScore | None = None
    dataset_name: str | None = None

    @property
    def keyword_margin(self) -> Margin | None:
        """Test scores over the keyword baseline, in points; None when either side is missing."""
        if self.keyword_test is None or self.test_accuracy is None or self.test_macro_f1 is None:
            return None
        return margin_over(self.test_accuracy, self.test_macro_f1, self.keyword_test)

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or utcnow()) - self.started_at


@dataclass(frozen=True)
class RunProgress:
    summary: RunSummary
    step: int
    total_steps: int | None
    epoch: float
    epochs: int
    samples_per_second: float | None
    learning_rate: float | None
    eta_seconds: float | None
    train_curve: list[tuple[int, float]]
    eval_curve: list[tuple[int, float, float, float]]  # step, loss, accuracy, macro-F1
    metrics: dict[str, Any]
    config: dict[str, Any]
    cancel_requested: bool

    @property
    def passes_planned(self) -> float:
        """Passes over the training part the run makes: fewer than `epochs`, and maybe a part-way one,
        when its step limit stops it early (TrainConfig.max_steps). `epochs` where that is not known."""
        train = int((self.metrics.get("plan") or {}).get("train") or 0)
        if not (train and self.config):
            return float(self.epochs)
        return TrainConfig.from_dict(self.config).passes_read(train)


def trained_on_text(train_samples: int | None, reviews_read: int | None) -> str:
    """ "510 reviews", or "5,120 of 17,000 reviews" when the run's step limit let it read only a sample."""
    if not train_samples:
        return "—"
    if reviews_read is not None and reviews_read < train_samples:
        return f"{reviews_read:,} of {train_samples:,} reviews"
    return f"{train_samples:,} reviews"


def training_setup(db: Database, dataset_id: int) -> TrainingSetup:
    finals = final_labels(db, dataset_id)
    with db.read() as session:
        classes = session.execute(
            select(LabelClass.id, LabelClass.name, LabelClass.color)
            .where(LabelClass.dataset_id == dataset_id)
            .order_by(LabelClass.position)
        ).all()
        splits = dict(
            session.execute(select(Record.id, Record.split).where(Record.id.in_(list(finals)))).all()
        )
    pool = Counter(label for record_id, label in finals.items() if splits.get(record_id) != RecordSplit.TEST)
    test = Counter(label for record_id, label in finals.items() if splits.get(record_id) == RecordSplit.TEST)
    counts = [
        ClassCount(name, color, pool.get(class_id, 0), test.get(class_id, 0))
        for class_id, name, color in classes
    ]
    warnings = [
        f"“{c.name}” has only {c.train_pool} labeled reviews to learn from; aim for {FEW_EXAMPLES_WARNING} or more."
        for c in counts
        if c.train_pool < FEW_EXAMPLES_WARNING
    ]
    if not any(c.test for c in counts):
        warnings.append("This dataset has no held-out test split, so test scores will be missing.")
    return TrainingSetup(counts, warnings)


def start_training(db: Database, dataset_id: int, config: TrainConfig, *, preset: str | None) -> int:
    """Queue a run and return its id. The same request twice (a double click) returns the first run."""
    config = config.validated()
    # Refused here, on the page, rather than as a failed run: a web address, a path outside the local
    # models folder, pickled weights. The trainer checks again with its own settings.
    resolve_model_source(config.model_source)
    with db.write() as session:
        active = session.execute(
            select(TrainingRun.id, TrainingRun.config).where(
                TrainingRun.dataset_id == dataset_id,
                TrainingRun.status.in_(ACTIVE),
                TrainingRun.cancel_requested.is_(False),
                TrainingRun.search_id.is_(None),
            )
        ).all()
        # Compared here, not in SQL: PostgreSQL has no equality for JSON, and key order is not meaning.
        duplicate = next((run_id for run_id, stored in active if stored == config.to_dict()), None)
        if duplicate is not None:
            return int(duplicate)
        return queue_run(session, dataset_id, config, preset=preset)


def queue_run(
    session: Session,
    dataset_id: int,
    config: TrainConfig,
    *,
    preset: str | None,
    search_id: int | None = None,
    trial_number: int | None = None,
) -> int:
    """Add a QUEUED run inside the caller's write transaction; the runner thread claims it."""
    if session.scalar(select(Record.id).where(Record.dataset_id == dataset_id).limit(1)) is None:
        raise NotFoundError("That dataset has no reviews, or no longer exists.")
    run = TrainingRun(
        dataset_id=dataset_id,
        status=RunStatus.QUEUED,
        preset=preset,
        model_source=config.model_source,
        config=config.to_dict(),
        search_id=search_id,
        trial_number=trial_number,
    )
    session.add(run)
    session.flush()
    return run.id


def cancel_run(db: Database, run_id: int) -> None:
    """A queued run is cancelled at once; a running one within about a second (the job checks a flag)."""
    with db.write() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise NotFoundError("That run no longer exists.")
        if run.status == RunStatus.QUEUED:
            run.status = RunStatus.CANCELLED
            run.finished_at = utcnow()
            run.metrics = {"partial": True}
        elif run.status == RunStatus.RUNNING:
            run.cancel_requested = True


def _summary(run: TrainingRun) -> RunSummary:
    metrics = run.metrics or {}
    test = metrics.get("test") or {}
    validation = metrics.get("validation") or {}
    return RunSummary(
        id=run.id,
        dataset_id=run.dataset_id,
        status=RunStatus(run.status),
        preset=run.preset,
        model_source=run.model_source,
        device=run.device,
        progress=run.progress,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        train_samples=metrics.get("train_samples"),
        reviews_read=metrics.get("reviews_read"),
        test_accuracy=test.get("accuracy"),
        test_macro_f1=test.get("macro_f1"),
        validation_macro_f1=validation.get("macro_f1"),
        error=run.error,
        search_id=run.search_id,
        trial_number=run.trial_number,
        keyword_test=baseline_scores(metrics, "test").get(KEYWORDS),
    )


def list_runs(db: Database, dataset_id: int | None = None) -> list[RunSummary]:
    with db.read() as session:
        query = select(TrainingRun).order_by(TrainingRun.id.desc())
        if dataset_id is not None:
            query = query.where(TrainingRun.dataset_id == dataset_id)
        return [_summary(run) for run in session.scalars(query)]


def latest_run(db: Database, dataset_id: int) -> RunSummary | None:
    """The newest run of this dataset that is not waiting in the queue."""
    with db.read() as session:
        run = session.scalar(
            select(TrainingRun)
            .where(TrainingRun.dataset_id == dataset_id, TrainingRun.status != RunStatus.QUEUED)
            .order_by(TrainingRun.id.desc())
            .limit(1)
        )
        return _summary(run) if run is not None else None


def active_run(db: Database, dataset_id: int | None = None) -> RunSummary | None:
    """The run training now, else the next one queued; of one dataset when `dataset_id` is given."""
    with db.read() as session:
        query = select(TrainingRun).where(TrainingRun.status.in_(ACTIVE))
        if dataset_id is not None:
            query = query.where(TrainingRun.dataset_id == dataset_id)
        run = session.scalar(query.order_by(TrainingRun.status.desc(), TrainingRun.id))
        if run is None:
            return None
        name = session.scalar(select(Dataset.name).where(Dataset.id == run.dataset_id))
        return replace(_summary(run), dataset_name=name)


def run_progress(db: Database, run_id: int) -> RunProgress:
    with db.read() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise NotFoundError("That run no longer exists.")
        events = session.execute(
            select(
                RunEvent.kind,
                RunEvent.step,
                RunEvent.loss,
                RunEvent.learning_rate,
                RunEvent.samples_per_second,
                RunEvent.metrics,
            )
            .where(RunEvent.run_id == run_id)
            .order_by(RunEvent.step, RunEvent.id)
        ).all()
        summary = _summary(run)
        train = [(step, loss) for kind, step, loss, _, _, _ in events if kind == "train" and loss is not None]
        evals = [
            (step, loss or 0.0, (m or {}).get("accuracy", 0.0), (m or {}).get("macro_f1", 0.0))
            for kind, step, loss, _, _, m in events
            if kind == "eval"
        ]
        last_train = next((e for e in reversed(events) if e[0] == "train"), None)
        speed = last_train[4] if last_train else None
        eval_timings = [m or {} for kind, _, _, _, _, m in events if kind == "eval"]
        eta = estimate_seconds_left(run, speed, eval_timings) if summary.status == RunStatus.RUNNING else None
        return RunProgress(
            summary=summary,
            step=run.step,
            total_steps=run.total_steps,
            epoch=run.epoch,
            epochs=int((run.config or {}).get("epochs", 0)),
            samples_per_second=speed,
            learning_rate=last_train[3] if last_train else None,
            eta_seconds=eta,
            train_curve=train,
            eval_curve=evals,
            metrics=dict(run.metrics or {}),
            config=dict(run.config or {}),
            cancel_requested=run.cancel_requested,
        )


def estimate_seconds_left(
    run: TrainingRun, training_speed: float | None, eval_timings: list[dict[str, Any]]
) -> float | None:
    """Seconds until the whole job ends: the training steps left, the validation passes left, and scoring
    the validation and test parts and predicting every review afterwards. From measured speeds, not wall
    time since the start (that includes loading the model)."""
    config, metrics = run.config or {}, run.metrics or {}
    plan, scoring = metrics.get("plan") or {}, metrics.get("scoring")
    after_training = int(plan.get("score_after_training") or 0)
    if scoring and scoring.get("seconds") and scoring.get("done"):
        done, seconds = float(scoring["done"]), float(scoring["seconds"])
        return max(0.0, after_training - done) * seconds / done
    batch_size = int(config.get("batch_size", 0))
    if not run.total_steps or not training_speed or not batch_size:
        return None
    timed = [t for t in eval_timings if t.get("seconds") and t.get("reviews")]
    scoring_speed = (
        timed[-1]["reviews"] / timed[-1]["seconds"] if timed else training_speed * SCORING_TO_TRAINING_SPEED
    )
    evals_left = max(0, int(config.get("epochs", 0)) - len(eval_timings))
    training_left = (run.total_steps - run.step) * batch_size / training_speed
    return training_left + (evals_left * int(plan.get("validation") or 0) + after_training) / scoring_speed


def delete_run(db: Database, run_id: int, *, runs_dir: Path) -> None:
    """Delete a finished run with its predictions and its model folder."""
    with db.write() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise NotFoundError("That run no longer exists.")
        if run.status in ACTIVE:
            raise InvalidInputError("Cancel the run before deleting it.")
        session.execute(delete(TrainingRun).where(TrainingRun.id == run_id))
    remove_run_folder(runs_dir, run_id)


def remove_run_folder(runs_dir: Path, run_id: int) -> None:
    """Remove a run's model folder, runs_dir/<id>. Only a folder that is exactly that is ever removed,
    never a path read from the database."""
    folder = runs_dir / str(run_id)
    if folder.resolve().parent == runs_dir.resolve() and folder.is_dir():
        shutil.rmtree(folder)
