"""The fast in-loop model and zero-shot scores: plain arrays that match scikit-learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from core.assist.fast_model import FastModel, fit_fast_model, ready_for_fast_model, zero_shot_probabilities


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_zero_shot_prefers_the_closest_description_and_sums_to_one() -> None:
    descriptions = _unit(np.eye(3, 8))
    reviews = _unit(np.array([[0.9, 0.1, 0, 0, 0, 0, 0, 0], [0, 0.2, 0.8, 0, 0, 0, 0, 0]], dtype=float))
    probabilities = zero_shot_probabilities(reviews, descriptions)
    assert probabilities.argmax(axis=1).tolist() == [0, 2]
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities[0, 0] > 0.9  # sharpened: similarities 0.99 vs 0.11 must not read as a coin toss


@pytest.mark.parametrize("classes", [2, 3])
def test_fast_model_matches_scikit_learn_and_survives_a_save(tmp_path: Path, classes: int) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(classes, 16))
    labels = np.repeat(np.arange(classes) + 40, 30)  # label class ids, not 0..k
    vectors = centres[labels - 40] + rng.normal(scale=0.8, size=(len(labels), 16))
    model = fit_fast_model(vectors, labels.tolist(), labels_version="v1")

    reference = LogisticRegression(max_iter=1000, class_weight="balanced").fit(vectors, labels)
    ours = model.probabilities(vectors)
    assert model.label_ids.tolist() == reference.classes_.tolist()
    # Balanced classes: square-root weights equal full ones, so the two fits are the same problem.
    np.testing.assert_allclose(ours, reference.predict_proba(vectors), atol=1e-3)

    path = tmp_path / "fast_model.npz"
    model.save(path)
    loaded = FastModel.load(path)
    assert loaded is not None and loaded.labels_version == "v1" and loaded.trained_on == len(labels)
    np.testing.assert_allclose(loaded.probabilities(vectors), ours, atol=1e-6)


def test_the_fast_model_waits_for_a_few_examples_of_every_label() -> None:
    assert not ready_for_fast_model([1, 1, 1, 1])
    assert not ready_for_fast_model([1, 1, 1, 2, 2])
    assert ready_for_fast_model([1, 1, 1, 2, 2, 2])


def test_the_cross_validated_score_is_kept_with_the_model_and_old_files_still_load(tmp_path: Path) -> None:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from core.assist.fast_model import FAST_MODEL_C, cross_validated_macro_f1, fast_model_class_weights

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 90)
    vectors = np.eye(3)[labels] + rng.normal(scale=0.8, size=(90, 3))
    model = fit_fast_model(vectors, labels.tolist(), with_score=True)
    direct = cross_val_predict(
        LogisticRegression(C=FAST_MODEL_C, max_iter=1000, class_weight=fast_model_class_weights(labels)),
        vectors,
        labels,
        cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=0),
    )
    assert model.cv_macro_f1 == pytest.approx(f1_score(labels, direct, average="macro"))
    assert cross_validated_macro_f1(vectors[:3], [0, 1, 2]) is None  # one review per label: no folds
    model.save(tmp_path / "scored.npz")
    loaded = FastModel.load(tmp_path / "scored.npz")
    assert loaded is not None and loaded.cv_macro_f1 == pytest.approx(model.cv_macro_f1)
    # A file written before the score existed reads back without one.
    np.savez(
        tmp_path / "old.npz",
        label_ids=model.label_ids,
        weights=model.weights,
        bias=model.bias,
        trained_on=np.array(90),
        labels_version=np.array("v"),
    )
    old = FastModel.load(tmp_path / "old.npz")
    assert old is not None and old.cv_macro_f1 is None
