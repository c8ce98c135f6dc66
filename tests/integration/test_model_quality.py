"""What a finished run says about its own quality: baselines, calibration, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.class_weight import compute_class_weight
from sqlalchemy import select

from core.config import Settings
from core.db import Database
from core.models import LabelClass, Prediction, Record, RunPart, RunRecord
from core.quality import calibration_error_by_chance
from core.services.training import latest_run, run_progress
from tests.integration.training_helpers import make_dataset, train_tiny_run

pytestmark = pytest.mark.integration


def _part(db: Database, run_id: int, part: RunPart) -> tuple[list[str], list[str]]:
    with db.read() as session:
        rows = session.execute(
            select(Record.text, LabelClass.name)
            .join(RunRecord, RunRecord.record_id == Record.id)
            .join(LabelClass, LabelClass.id == RunRecord.label_class_id)
            .where(RunRecord.run_id == run_id, RunRecord.part == part)
        ).all()
    return [text for text, _ in rows], [label for _, label in rows]


def test_baselines_match_scikit_learn_fitted_directly_on_the_runs_training_part(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    _, run_id = train_tiny_run(db, settings.runs_dir, tiny_model, rows=120, epochs=1)
    train_texts, train_labels = _part(db, run_id, RunPart.TRAIN)
    test_texts, test_labels = _part(db, run_id, RunPart.TEST)
    baselines = run_progress(db, run_id).metrics["baselines"]

    classes = np.array(sorted(set(train_labels)))
    weights = compute_class_weight("balanced", classes=classes, y=np.array(train_labels)) ** 0.5
    counts = np.array([train_labels.count(c) for c in classes])
    weights *= len(train_labels) / (weights * counts).sum()
    keywords = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, strip_accents="unicode"),
        LogisticRegression(C=10.0, max_iter=2000, class_weight=dict(zip(classes, weights, strict=True))),
    ).fit(train_texts, train_labels)
    predicted = keywords.predict(test_texts)
    assert baselines["keywords"]["test"]["accuracy"] == pytest.approx(accuracy_score(test_labels, predicted))
    assert baselines["keywords"]["test"]["macro_f1"] == pytest.approx(
        f1_score(test_labels, predicted, average="macro")
    )

    majority = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(train_labels), 1)), train_labels)
    assert baselines["majority"]["test"]["accuracy"] == pytest.approx(
        majority.score(np.zeros((len(test_labels), 1)), test_labels)
    )
    assert baselines["keywords"]["validation"]["size"] == len(_part(db, run_id, RunPart.VALIDATION)[0])

    # The range of the run's lead over the keyword model holds the lead the run reports.
    test_scores = run_progress(db, run_id).metrics["test"]
    lead = {
        "accuracy": 100 * (test_scores["accuracy"] - accuracy_score(test_labels, predicted)),
        "macro_f1": 100 * (test_scores["macro_f1"] - f1_score(test_labels, predicted, average="macro")),
    }
    for measure, (low, high) in baselines["keywords"]["test"]["margin_interval"].items():
        assert low <= lead[measure] + 1e-9 and lead[measure] - 1e-9 <= high


def test_exported_folder_gives_the_calibrated_probabilities(
    db: Database, settings: Settings, tiny_model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import pipeline

    from core.training import calibration as calibration_module

    # The prior keeps a small validation part near T = 1 (see fit_temperature); loosened, the tiny run's
    # few validation reviews move the temperature far enough for this test to mean something.
    monkeypatch.setattr(calibration_module, "TEMPERATURE_PRIOR_SD", 10.0)
    # fp32 end to end, so the job's stored probabilities and a plain pipeline can agree to 1e-4.
    _, run_id = train_tiny_run(db, settings.runs_dir, tiny_model, epochs=2, mixed_precision=False)
    calibration = run_progress(db, run_id).metrics["calibration"]
    temperature = calibration["temperature"]
    assert abs(temperature - 1.0) > 0.05, "the tiny run should need calibrating for this test to mean much"
    assert calibration["validation_nll_after"] <= calibration["validation_nll_before"] + 1e-9

    with db.read() as session:
        stored = session.execute(
            select(Record.text, Prediction.probabilities)
            .join(Prediction, Prediction.record_id == Record.id)
            .where(Prediction.run_id == run_id)
            .order_by(Record.position)
            .limit(16)
        ).all()
    classifier = pipeline(
        "text-classification", model=str(settings.runs_dir / str(run_id)), trust_remote_code=True, top_k=None
    )
    outputs = classifier([text for text, _ in stored])
    for (_, expected), output in zip(stored, outputs, strict=True):
        exported = {item["label"]: item["score"] for item in output}
        assert exported == pytest.approx(expected, abs=1e-4)
    # And the stored (and exported) numbers are the calibrated ones: on the validation reviews they have
    # the log-likelihood the job measured after calibrating, not the one before.
    with db.read() as session:
        validation = session.execute(
            select(Prediction.probabilities, LabelClass.name)
            .join(RunRecord, (RunRecord.record_id == Prediction.record_id) & (RunRecord.run_id == run_id))
            .join(LabelClass, LabelClass.id == RunRecord.label_class_id)
            .where(Prediction.run_id == run_id, RunRecord.part == RunPart.VALIDATION)
        ).all()
    nll = -np.mean([np.log(probabilities[label]) for probabilities, label in validation])
    assert nll == pytest.approx(calibration["validation_nll_after"], abs=1e-4)
    assert abs(calibration["validation_nll_after"] - calibration["validation_nll_before"]) > 1e-3
    # Beside the test ECE, what exactly right confidences would show on the same test predictions.
    with db.read() as session:
        test_confidence = session.scalars(
            select(Prediction.confidence)
            .join(RunRecord, (RunRecord.record_id == Prediction.record_id) & (RunRecord.run_id == run_id))
            .where(Prediction.run_id == run_id, RunRecord.part == RunPart.TEST)
        ).all()
    assert len(test_confidence) == run_progress(db, run_id).metrics["test"]["size"]
    assert calibration["test_ece_by_chance"] == pytest.approx(calibration_error_by_chance(test_confidence))


def test_same_settings_and_seed_give_the_same_model(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    _, first = train_tiny_run(db, settings.runs_dir, tiny_model, epochs=2)
    _, second = train_tiny_run(db, settings.runs_dir, tiny_model, epochs=2)
    assert run_progress(db, first).metrics["test"] == run_progress(db, second).metrics["test"]

    def probabilities(run_id: int) -> list[dict[str, float]]:
        with db.read() as session:
            return list(
                session.scalars(
                    select(Prediction.probabilities)
                    .join(Record, Record.id == Prediction.record_id)
                    .where(Prediction.run_id == run_id)
                    .order_by(Record.position)
                )
            )

    assert probabilities(first) == probabilities(second)


def test_latest_run_is_the_datasets_own(db: Database, settings: Settings, tiny_model: str) -> None:
    trained, run_id = train_tiny_run(db, settings.runs_dir, tiny_model, epochs=1)
    other = make_dataset(db, rows=20)
    latest = latest_run(db, trained)
    assert latest is not None and latest.id == run_id
    assert latest_run(db, other) is None


def test_each_review_is_scored_once_and_results_shows_the_runs_own_scores(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    from sqlalchemy import func

    from core.services.results import run_scores

    dataset_id, run_id = train_tiny_run(db, settings.runs_dir, tiny_model, epochs=1)
    metrics = run_progress(db, run_id).metrics
    with db.read() as session:
        reviews = session.scalar(
            select(func.count()).select_from(Record).where(Record.dataset_id == dataset_id)
        )
        stored = session.scalar(
            select(func.count()).select_from(Prediction).where(Prediction.run_id == run_id)
        )
    assert metrics["test"]["size"] and metrics["validation"]["size"]
    # The validation and test reviews are scored for the metrics and stored as scored, not predicted a
    # second time with the rest: after training, the job scores each review of the dataset once.
    assert metrics["plan"]["score_after_training"] == reviews
    assert metrics["scoring"]["done"] == reviews
    assert stored == reviews
    # So the Results page, which reads the stored predictions, shows exactly the run's own scores.
    for part in (RunPart.TEST, RunPart.VALIDATION):
        shown = run_scores(db, run_id, part)
        assert shown.confusion == metrics[part.value]["confusion_matrix"]
        assert shown.accuracy == pytest.approx(metrics[part.value]["accuracy"])
