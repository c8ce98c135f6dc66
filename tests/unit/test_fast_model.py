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
