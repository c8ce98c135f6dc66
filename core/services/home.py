"""Home: one dataset at a glance, and what to do next, drawn from what the app already knows."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from core.assist.learning_curve import Gain
from core.db import Database
from core.models import Adjudication, Annotation, Annotator, Record, RunStatus, TrainingRun, utcnow
from core.quality import BaselineScore, baseline_scores
from core.services.datasets import DatasetSummary, get_dataset_summary
from core.services.training import ClassCount, RunSummary, active_run, list_runs, training_setup
from core.training.data import FEW_EXAMPLES_WARNING

ACTIVE_DAYS = 7
# A label with fewer examples than this share of the largest one is called out as rare.
RARE_SHARE = 1 / 3
# A forecast gain below this many macro-F1 points is not worth a suggestion of its own.
WORTHWHILE_GAIN_POINTS = 1.0


@dataclass(frozen=True)
class HomeSnapshot:
    dataset: DatasetSummary
    classes: list[ClassCount]  # final labels per label, in the label set's order
    people_labels: int  # labels given by people (not imported), all time
    labels_this_week: int
    annotators_this_week: int
    finished_runs: list[RunSummary]  # succeeded runs, oldest first
    running: RunSummary | None  # this dataset's run in progress or waiting, if any
    labels_since_latest_run: int  # people's labels and settled conflicts after the latest finished run
    can_train: bool
    latest_baselines: dict[str, BaselineScore]  # the latest finished run's baselines on its test reviews

    @property
    def latest(self) -> RunSummary | None:
        return self.finished_runs[-1] if self.finished_runs else None

    @property
    def macro_f1_history(self) -> list[tuple[int, float]]:
        """(run id, test macro-F1) of finished runs with test scores, oldest first: the sparkline."""
        return [(r.id, r.test_macro_f1) for r in self.finished_runs if r.test_macro_f1 is not None]


class StepKind(enum.StrEnum):
    START_LABELING = "start_labeling"
    RARE_LABEL = "rare_label"
    CHECK_SUSPICIOUS = "check_suspicious"
    TRAIN_FIRST = "train_first"
    TRAIN_AGAIN = "train_again"
    BEAT_KEYWORDS = "beat_keywords"
    LABEL_MORE = "label_more"
    WATCH_RUN = "watch_run"


@dataclass(frozen=True)
class NextStep:
    kind: StepKind
    count: int = 0  # reviews or labels the step is about
    label: str | None = None  # the label it is about, if one
    gain: Gain | None = field(default=None)


def home_snapshot(db: Database, dataset_id: int, *, now: datetime | None = None) -> HomeSnapshot:
    summary = get_dataset_summary(db, dataset_id)
    setup = training_setup(db, dataset_id)
    runs = list_runs(db, dataset_id)
    finished = [r for r in reversed(runs) if r.status == RunStatus.SUCCEEDED]
    running = active_run(db, dataset_id)
    since = (now or utcnow()) - timedelta(days=ACTIVE_DAYS)
    in_dataset = select(Record.id).where(Record.dataset_id == dataset_id)
    people = (
        select(Annotation)
        .join(Annotator, Annotator.id == Annotation.annotator_id)
        .where(Annotation.record_id.in_(in_dataset), Annotator.is_system.is_(False))
        .subquery()
    )
    with db.read() as session:
        people_labels = session.scalar(select(func.count()).select_from(people)) or 0
        this_week, annotators = session.execute(
            select(func.count(), func.count(people.c.annotator_id.distinct())).where(
                people.c.updated_at >= since
            )
        ).one()
        since_latest, baselines = 0, {}
        if finished:
            started, metrics = session.execute(
                select(TrainingRun.created_at, TrainingRun.metrics).where(TrainingRun.id == finished[-1].id)
            ).one()
            baselines = baseline_scores(metrics or {}, "test")
            since_latest = (
                session.scalar(select(func.count()).select_from(people).where(people.c.updated_at > started))
                or 0
            ) + (
                session.scalar(
                    select(func.count())
                    .select_from(Adjudication)
                    .where(Adjudication.record_id.in_(in_dataset), Adjudication.created_at > started)
                )
                or 0
            )
    return HomeSnapshot(
        dataset=summary,
        classes=setup.classes,
        people_labels=people_labels,
        labels_this_week=this_week,
        annotators_this_week=annotators,
        finished_runs=finished,
        running=running,
        labels_since_latest_run=since_latest,
        can_train=setup.can_train,
        latest_baselines=baselines,
    )


def suggest_next_steps(
    snapshot: HomeSnapshot, *, suspicious: int | None = None, gain: Gain | None = None
) -> list[NextStep]:
    """The most useful things to do now, most useful first. `suspicious` (labels the fast model doubts
    that nobody has looked at) and `gain` (the forecast for labeling more) cost seconds to compute,
    so the caller passes them when it has them."""
    steps: list[NextStep] = []
    labeled = sum(c.train_pool + c.test for c in snapshot.classes)
    if labeled == 0:
        return [NextStep(StepKind.START_LABELING, count=snapshot.dataset.records)]
    if snapshot.running is not None:
        steps.append(NextStep(StepKind.WATCH_RUN))
    largest = max(c.train_pool for c in snapshot.classes)
    rare = [c for c in snapshot.classes if c.train_pool < max(FEW_EXAMPLES_WARNING, largest * RARE_SHARE)]
    for c in sorted(rare, key=lambda c: c.train_pool)[:2]:
        steps.append(NextStep(StepKind.RARE_LABEL, count=c.train_pool, label=c.name))
    if suspicious:
        steps.append(NextStep(StepKind.CHECK_SUSPICIOUS, count=suspicious))
    latest = snapshot.latest
    if snapshot.running is None and snapshot.can_train:
        if latest is None:
            steps.append(NextStep(StepKind.TRAIN_FIRST, count=labeled))
        elif snapshot.labels_since_latest_run:
            steps.append(NextStep(StepKind.TRAIN_AGAIN, count=snapshot.labels_since_latest_run))
    if latest is not None and latest.keyword_margin is not None and not latest.keyword_margin.beats:
        steps.append(NextStep(StepKind.BEAT_KEYWORDS))
    if gain is not None and (gain.expected * 100) >= WORTHWHILE_GAIN_POINTS:
        steps.append(NextStep(StepKind.LABEL_MORE, count=gain.more, gain=gain))
    return steps
