"""What the Results page shows about one finished run: scores, confusion drill-down, confidence, length.

Scores are recomputed with scikit-learn from the stored predictions and the labels each record had
when the run was trained (run_records), so any part of the split can be inspected the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support
from sqlalchemy import select
from sqlalchemy.orm import aliased

from core.db import Database
from core.errors import InvalidInputError, NotFoundError
from core.final_labels import final_labels
from core.models import LabelClass, Prediction, Record, RunPart, RunRecord, RunStatus, TrainingRun
from core.quality import BaselineScore, baseline_scores


@dataclass(frozen=True)
class ScoredRecord:
    record_id: int
    position: int  # shown as “Review #position+1”
    text: str
    text_length: int
    true_label: str
    predicted_label: str
    confidence: float
    probabilities: dict[str, float]

    @property
    def correct(self) -> bool:
        return self.true_label == self.predicted_label


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class RunScores:
    labels: list[str]
    size: int
    accuracy: float
    macro_f1: float
    weighted_f1: float
    per_class: list[ClassScore]
    confusion: list[list[int]]  # rows: true label, columns: predicted label, in `labels` order


@dataclass(frozen=True)
class Reliability:
    """Top-label calibration: in each confidence bin, how often the prediction was right."""

    mean_confidence: list[float]
    accuracy: list[float]
    bin_edges: list[float]
    counts: list[int]


@dataclass(frozen=True)
class LengthBucket:
    low: int
    high: int
    reviews: int
    error_rate: float


def run_labels(db: Database, run_id: int) -> list[str]:
    """The run's label names in model order (as saved with the model)."""
    with db.read() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise NotFoundError("That run no longer exists.")
        if run.status != RunStatus.SUCCEEDED:
            raise InvalidInputError("Only finished runs have results. Pick a run that succeeded.")
        metrics = run.metrics or {}
    for part in ("test", "validation"):
        labels = (metrics.get(part) or {}).get("labels")
        if labels:
            return list(labels)
    raise InvalidInputError("This run has no stored scores.")


@dataclass(frozen=True)
class RunQuality:
    """What a run's own job measured beyond its predictions: baselines fitted on the same training part,
    and the temperature its confidences were calibrated with (None for runs older than both)."""

    baselines: dict[str, BaselineScore]
    temperature: float | None


def run_quality(db: Database, run_id: int, part: RunPart = RunPart.TEST) -> RunQuality:
    with db.read() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise NotFoundError("That run no longer exists.")
        metrics = run.metrics or {}
    temperature = (metrics.get("calibration") or {}).get("temperature")
    return RunQuality(baseline_scores(metrics, part.value), float(temperature) if temperature else None)


def scored_records(
    db: Database,
    run_id: int,
    part: RunPart = RunPart.TEST,
    *,
    true_label: str | None = None,
    predicted_label: str | None = None,
) -> list[ScoredRecord]:
    """Records of one part of the run's split with their prediction; optionally one confusion cell."""
    true_class, predicted_class = aliased(LabelClass), aliased(LabelClass)
    query = (
        select(
            Record.id,
            Record.position,
            Record.text,
            Record.text_length,
            true_class.name,
            predicted_class.name,
            Prediction.confidence,
            Prediction.probabilities,
        )
        .join(RunRecord, RunRecord.record_id == Record.id)
        .join(Prediction, (Prediction.record_id == Record.id) & (Prediction.run_id == RunRecord.run_id))
        .join(true_class, true_class.id == RunRecord.label_class_id)
        .join(predicted_class, predicted_class.id == Prediction.label_class_id)
        .where(RunRecord.run_id == run_id, RunRecord.part == part)
        .order_by(Prediction.confidence.desc(), Record.position)
    )
    if true_label is not None:
        query = query.where(true_class.name == true_label)
    if predicted_label is not None:
        query = query.where(predicted_class.name == predicted_label)
    with db.read() as session:
        rows = session.execute(query).all()
    return [
        ScoredRecord(rid, position, text, length, true, predicted, float(confidence), dict(probabilities))
        for rid, position, text, length, true, predicted, confidence, probabilities in rows
    ]


def run_scores(db: Database, run_id: int, part: RunPart = RunPart.TEST) -> RunScores:
    labels = run_labels(db, run_id)
    records = scored_records(db, run_id, part)
    if not records:
        raise InvalidInputError(f"This run has no {part.value} reviews to score.")
    return scores_of(records, labels)


def scores_of(records: list[ScoredRecord], labels: list[str]) -> RunScores:
    return score_predictions([r.true_label for r in records], [r.predicted_label for r in records], labels)


def score_predictions(truth: Sequence[str], predicted: Sequence[str], labels: list[str]) -> RunScores:
    """Scores of predictions against known labels, with scikit-learn, in the order of `labels`."""
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    return RunScores(
        labels=labels,
        size=len(truth),
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        weighted_f1=float(f1_score(truth, predicted, labels=labels, average="weighted", zero_division=0)),
        per_class=[
            ClassScore(label, float(p), float(r), float(f), int(s))
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        ],
        confusion=confusion_matrix(truth, predicted, labels=labels).tolist(),
    )


def reliability(records: list[ScoredRecord], bins: int = 10) -> Reliability:
    confidence = np.array([r.confidence for r in records])
    correct = np.array([r.correct for r in records], dtype=int)
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts, _ = np.histogram(confidence, bins=edges)
    if len(set(correct.tolist())) < 2:
        # calibration_curve needs both outcomes; with one, each bin's accuracy is that outcome.
        occupied = counts > 0
        sums, _ = np.histogram(confidence, bins=edges, weights=confidence)
        return Reliability(
            mean_confidence=(sums[occupied] / counts[occupied]).tolist(),
            accuracy=[float(correct[0])] * int(occupied.sum()),
            bin_edges=edges.tolist(),
            counts=counts.tolist(),
        )
    accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=bins, strategy="uniform")
    return Reliability(mean_confidence.tolist(), accuracy.tolist(), edges.tolist(), counts.tolist())


def error_rate_by_length(records: list[ScoredRecord], buckets: int = 5) -> list[LengthBucket]:
    """Error rate in review-length buckets of about equal size (quantiles of character length)."""
    if not records:
        return []
    lengths = np.array([r.text_length for r in records])
    wrong = np.array([not r.correct for r in records])
    edges = np.unique(np.quantile(lengths, np.linspace(0, 1, buckets + 1)).round().astype(int))
    if len(edges) < 2:
        return [LengthBucket(int(lengths.min()), int(lengths.max()), len(records), float(wrong.mean()))]
    result = []
    for index, (low, high) in enumerate(itertools.pairwise(edges)):
        last = index == len(edges) - 2
        inside = (lengths >= low) & ((lengths <= high) if last else (lengths < high))
        if inside.any():
            result.append(LengthBucket(int(low), int(high), int(inside.sum()), float(wrong[inside].mean())))
    return result


def current_labels(db: Database, dataset_id: int, record_ids: list[int]) -> dict[int, str]:
    """Final label names now (after any relabeling since the run), for the drill-down list."""
    finals = final_labels(db, dataset_id, record_ids=record_ids)
    with db.read() as session:
        names = dict(session.execute(select(LabelClass.id, LabelClass.name)).all())
    return {record_id: names[label_id] for record_id, label_id in finals.items() if label_id in names}
