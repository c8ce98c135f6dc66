"""The range of a run's lead over the keyword model (a paired bootstrap), and how the verdict reads it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from core.quality import BaselineScore, Margin, baseline_scores, margin_over
from core.training.evaluation import macro_f1_along, margin_intervals


def _answers(rng: np.random.Generator, truth: np.ndarray, right_share: float, labels: int) -> np.ndarray:
    return np.where(rng.random(len(truth)) < right_share, truth, rng.integers(0, labels, len(truth)))


def test_macro_f1_over_resamples_matches_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, size=(5, 300))
    predicted = _answers(rng, truth.ravel(), 0.6, 4).reshape(5, 300)
    predicted[0][predicted[0] == 3] = 2  # a label never predicted counts as F1 0, as scikit-learn says
    ours = macro_f1_along(truth, predicted, axis=-1, num_labels=5)  # label 4 occurs nowhere: F1 0 too
    for row in range(5):
        expected = f1_score(truth[row], predicted[row], labels=range(5), average="macro", zero_division=0)
        assert ours[row] == pytest.approx(expected)


def test_the_range_holds_the_observed_lead_and_narrows_with_more_reviews() -> None:
    rng = np.random.default_rng(1)
    widths = []
    for size in (300, 3000):
        truth = rng.integers(0, 3, size)
        ours, theirs = _answers(rng, truth, 0.75, 3), _answers(rng, truth, 0.70, 3)
        ranges = margin_intervals(truth, ours, theirs, 3, seed=13)
        assert ranges is not None
        observed = {
            "accuracy": 100 * (accuracy_score(truth, ours) - accuracy_score(truth, theirs)),
            "macro_f1": 100
            * (f1_score(truth, ours, average="macro") - f1_score(truth, theirs, average="macro")),
        }
        for measure, (low, high) in ranges.items():
            assert low < observed[measure] < high
        widths.append(ranges["accuracy"][1] - ranges["accuracy"][0])
    # Ten times the reviews: about a third of the width (1 / sqrt(10)).
    assert 0.2 < widths[1] / widths[0] < 0.5
    # The same seed gives the same range.
    assert margin_intervals(truth, ours, theirs, 3, seed=13) == ranges


def test_a_clear_lead_stays_above_zero_and_the_same_answers_give_no_lead() -> None:
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 3, 400)
    ours, theirs = _answers(rng, truth, 0.9, 3), _answers(rng, truth, 0.5, 3)
    ranges = margin_intervals(truth, ours, theirs, 3, seed=1)
    assert ranges is not None and ranges["accuracy"][0] > 10 and ranges["macro_f1"][0] > 10
    assert margin_intervals(truth, ours, ours, 3, seed=1) == {"accuracy": [0.0, 0.0], "macro_f1": [0.0, 0.0]}
    assert margin_intervals([1], [1], [0], 3, seed=1) is None


def test_behind_on_one_measure_only_by_chance() -> None:
    chance_behind = Margin(-1.6, 9.2, accuracy_range=(-4.8, 1.6), macro_f1_range=(3.0, 15.0))
    assert chance_behind.behind_only_by_chance == ("accuracy", (-4.8, 1.6))
    clearly_behind = Margin(-6.0, 9.2, accuracy_range=(-9.0, -2.5), macro_f1_range=(3.0, 15.0))
    assert clearly_behind.behind_only_by_chance is None
    ahead_by_chance = Margin(-1.6, 2.0, accuracy_range=(-4.8, 1.6), macro_f1_range=(-1.0, 5.0))
    assert ahead_by_chance.behind_only_by_chance is None
    assert Margin(-1.6, 9.2).behind_only_by_chance is None  # a run stored before the ranges


def test_stored_ranges_reach_the_margin() -> None:
    metrics = {
        "baselines": {
            "keywords": {
                "test": {
                    "accuracy": 0.74,
                    "macro_f1": 0.45,
                    "margin_interval": {"accuracy": [-4.8, 1.6], "macro_f1": [3.0, 15.0]},
                }
            },
            "majority": {"test": {"accuracy": 0.65, "macro_f1": 0.26}},
        }
    }
    found = baseline_scores(metrics, "test")
    assert found["majority"].margin_interval is None
    margin = margin_over(0.724, 0.542, found["keywords"])
    assert margin.accuracy_points == pytest.approx(-1.6)
    assert margin.accuracy_range == (-4.8, 1.6) and margin.macro_f1_range == (3.0, 15.0)
    assert margin_over(0.8, 0.5, BaselineScore("keywords", 0.7, 0.4)).accuracy_range is None
