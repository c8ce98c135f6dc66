"""Results of a real (tiny) run: scores against scikit-learn, the drill-down query, calibration, length."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sqlalchemy import select

from core.config import Settings
from core.db import Database
from core.errors import InvalidInputError
from core.models import LabelClass, Prediction, RunPart, RunRecord
from core.services.annotators import add_annotator
from core.services.labeling import save_label
from core.services.results import (
    current_labels,
    error_rate_by_length,
    reliability,
    run_scores,
    scored_records,
)
from core.services.training import run_progress, start_training
from tests.integration.training_helpers import make_dataset, tiny_config, train_tiny_run

pytestmark = pytest.mark.integration


def trained_run(db: Database, settings: Settings, tiny_model: str) -> tuple[int, int]:
    return train_tiny_run(db, settings.runs_dir, tiny_model, rows=120, epochs=2)


def test_scores_match_scikit_learn_on_the_stored_rows(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    _, run_id = trained_run(db, settings, tiny_model)
    with db.read() as session:
        names = dict(session.execute(select(LabelClass.id, LabelClass.name)).all())
        rows = session.execute(
            select(RunRecord.label_class_id, Prediction.label_class_id)
            .join(Prediction, (Prediction.record_id == RunRecord.record_id) & (Prediction.run_id == run_id))
            .where(RunRecord.run_id == run_id, RunRecord.part == RunPart.TEST)
        ).all()
    truth = [names[t] for t, _ in rows]
    predicted = [names[p] for _, p in rows]
    scores = run_scores(db, run_id)
    assert scores.labels == ["negative", "positive"]
    assert scores.size == len(rows) == 30
    assert scores.accuracy == pytest.approx(accuracy_score(truth, predicted))
    assert scores.macro_f1 == pytest.approx(f1_score(truth, predicted, average="macro", zero_division=0))
    assert scores.confusion == confusion_matrix(truth, predicted, labels=scores.labels).tolist()
    assert [c.support for c in scores.per_class] == [truth.count("negative"), truth.count("positive")]
    # The job's own scores (computed from probabilities at the end of training) agree.
    stored = run_progress(db, run_id).metrics["test"]
    assert stored["confusion_matrix"] == scores.confusion
    assert stored["macro_f1"] == pytest.approx(scores.macro_f1)
    validation = run_scores(db, run_id, RunPart.VALIDATION)
    assert validation.size == len(scored_records(db, run_id, RunPart.VALIDATION)) > 0


def test_each_confusion_cell_lists_exactly_its_reviews(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    _, run_id = trained_run(db, settings, tiny_model)
    scores = run_scores(db, run_id)
    seen: set[int] = set()
    for row, true_label in enumerate(scores.labels):
        for column, predicted_label in enumerate(scores.labels):
            cell = scored_records(db, run_id, true_label=true_label, predicted_label=predicted_label)
            assert len(cell) == scores.confusion[row][column]
            assert all(r.true_label == true_label and r.predicted_label == predicted_label for r in cell)
            assert [r.confidence for r in cell] == sorted((r.confidence for r in cell), reverse=True)
            seen.update(r.record_id for r in cell)
    assert len(seen) == scores.size


def test_calibration_and_length_views_account_for_every_review(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    _, run_id = trained_run(db, settings, tiny_model)
    records = scored_records(db, run_id)
    curve = reliability(records, bins=10)
    assert sum(curve.counts) == len(records)
    assert len(curve.mean_confidence) == len(curve.accuracy) == sum(1 for c in curve.counts if c)
    assert all(0 <= a <= 1 for a in curve.accuracy)
    buckets = error_rate_by_length(records, buckets=4)
    assert sum(b.reviews for b in buckets) == len(records)
    overall_error = np.mean([not r.correct for r in records])
    weighted = sum(b.error_rate * b.reviews for b in buckets) / len(records)
    assert weighted == pytest.approx(overall_error)
    assert [b.low for b in buckets] == sorted(b.low for b in buckets)


def test_relabeling_from_the_list_changes_the_final_label(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    dataset_id, run_id = trained_run(db, settings, tiny_model)
    record = scored_records(db, run_id)[0]
    other = next(label for label in ("negative", "positive") if label != record.true_label)
    annotator = add_annotator(db, "Reviewer")
    with db.read() as session:
        other_id = session.scalar(
            select(LabelClass.id).where(LabelClass.dataset_id == dataset_id, LabelClass.name == other)
        )
    save_label(db, record_id=record.record_id, annotator_id=annotator.id, label_class_id=other_id)
    assert current_labels(db, dataset_id, [record.record_id]) == {record.record_id: other}
    # The run's own record of what it was scored on does not change.
    assert scored_records(db, run_id)[0].true_label == record.true_label


def test_unfinished_runs_have_no_results(db: Database, tiny_model: str) -> None:
    run_id = start_training(db, make_dataset(db), tiny_config(tiny_model), preset=None)
    with pytest.raises(InvalidInputError, match="Only finished runs"):
        run_scores(db, run_id)
