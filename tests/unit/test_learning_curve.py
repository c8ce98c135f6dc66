"""The learning-curve forecast: the power-law fit, its backtest, and when a forecast is withheld."""

from __future__ import annotations

import numpy as np
import pytest

from core.assist.learning_curve import (
    CurvePoint,
    LearningCurve,
    backtest,
    fit_power_law,
    learning_curve,
    measure_points,
)


def _law(sizes: list[int], a: float = 0.8, b: float = 0.3) -> list[CurvePoint]:
    return [CurvePoint(n, 1.0 - a * n**-b, 0.01) for n in sizes]


SIZES = [30, 45, 66, 98, 146, 217, 323, 480]


def test_the_fit_recovers_a_power_law_and_its_forecast_matches_the_law() -> None:
    fit = fit_power_law(_law(SIZES))
    assert fit is not None
    assert fit.params == pytest.approx([np.log(0.8), -0.3], abs=1e-9)
    gain = fit.gain(600, 200)
    expected = 0.8 * 600**-0.3 - 0.8 * 800**-0.3
    assert gain.expected == pytest.approx(expected, abs=1e-9)
    # An exact law leaves no uncertainty; noisy points open an interval around the expected gain.
    assert gain.high - gain.low == pytest.approx(0.0, abs=1e-12)
    noise = np.random.default_rng(1).normal(scale=0.01, size=len(SIZES))
    noisy = fit_power_law(
        [CurvePoint(p.labels, p.macro_f1 + e, 0.01) for p, e in zip(_law(SIZES), noise, strict=True)]
    )
    assert noisy is not None
    spread = noisy.gain(600, 200)
    assert spread.low < spread.expected < spread.high
    assert noisy.gain(600, 200, widen_by=0.02).low == pytest.approx(spread.low - 0.02)


def test_a_curve_that_follows_its_law_passes_the_backtest_and_is_forecast() -> None:
    points = _law(SIZES)
    check = backtest(points)
    assert check is not None and check.fitted_on == 4
    assert check.error < 1e-9 and check.passed
    curve = LearningCurve(points, 600, fit_power_law(points), check)
    gains = curve.gains([100, 200])
    assert [g.more for g in gains] == [100, 200]
    assert 0 < gains[0].expected < gains[1].expected


def test_a_curve_that_bends_fails_the_backtest_and_gets_no_forecast() -> None:
    # Steep early, then flat: the first half's law overshoots the last point by far more than 3 points.
    points = _law(SIZES[:4], b=0.6) + [CurvePoint(n, 0.74, 0.01) for n in SIZES[4:]]
    check = backtest(points)
    assert check is not None and not check.passed
    curve = LearningCurve(points, 600, fit_power_law(points), check)
    assert not curve.can_forecast and curve.gains([200]) == []


def test_too_few_points_give_no_fit_and_no_backtest() -> None:
    assert fit_power_law(_law([30, 60])) is None
    assert backtest(_law([30, 60, 120])) is None


def test_measured_points_grow_with_the_labels_on_separable_data() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 400)
    vectors = np.eye(3)[labels] * 1.5 + rng.normal(size=(400, 3))
    points = measure_points(vectors, labels.tolist())
    sizes = [p.labels for p in points]
    assert sizes == sorted(sizes) and sizes[0] == 30 and sizes[-1] == 320
    assert points[-1].macro_f1 > points[0].macro_f1 > 0.4
    assert learning_curve(vectors, labels.tolist()).labels_now == 400


def test_a_label_with_too_few_reviews_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 5"):
        measure_points(np.zeros((12, 2)), [0] * 8 + [1] * 4)
