"""How much would more labels help? A learning curve of the fast model, a forecast, and its backtest.

The curve is macro-F1 against the number of labeled reviews, from cross-validation on growing subsets
(scikit-learn's learning_curve) with the in-loop fast model. The forecast fits the classic inverse
power law of learning curves, error = a * n ** -b (Figueroa et al., 2012), as a straight line in log-log
space with statsmodels OLS; its uncertainty comes from the fit's parameter covariance. The backtest
fits the first half of the points and predicts the last one: a forecast is shown only when that
prediction landed within BACKTEST_TOLERANCE of what was measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.model_selection import learning_curve as sklearn_learning_curve

from core.assist.fast_model import FAST_MODEL_C, fast_model_class_weights

POINTS = 8
MAX_FOLDS = 5
# Each point averages this many differently shuffled cross-validations: one left the sample's curve
# too bumpy to backtest (bench/learning_curve.py), and three cost about a second at 600 labels.
REPEATS = 3
# Below this many labeled reviews per label a fold's test part has too few of the rare label to score.
MIN_PER_LABEL = 5
# The smallest subset on the curve, per label. Below about ten a label the model barely learns the
# curve is in a different regime (flat, then a jump) that a power law fitted there extrapolates badly.
SMALLEST_PER_LABEL = 10
# Larger label sets are sampled down to this many: the curve then costs seconds, not minutes.
MAX_LABELS_ON_CURVE = 3000
# A forecast is shown only when the backtest predicted the last measured point this closely (macro-F1).
BACKTEST_TOLERANCE = 0.03
# Error rates are kept off zero before the logarithm: a perfect fold must not break the fit.
_SMALLEST_ERROR = 1e-3
_DRAWS = 4000


@dataclass(frozen=True)
class CurvePoint:
    labels: int  # labeled reviews the model was fitted on
    macro_f1: float  # mean over the cross-validation folds
    spread: float  # standard deviation over the folds


@dataclass(frozen=True)
class PowerLaw:
    """error = exp(intercept) * n ** slope (slope < 0 while more labels help), fitted in log-log space."""

    params: np.ndarray  # (intercept, slope)
    covariance: np.ndarray

    def macro_f1(self, labels: float | np.ndarray) -> np.ndarray:
        intercept, slope = self.params
        return np.asarray(1.0 - np.exp(intercept + slope * np.log(labels)))

    def gain(self, now: int, more: int, *, widen_by: float = 0.0, seed: int = 0) -> Gain:
        """Expected change in macro-F1 from `now` to `now + more` labels, with an 80% interval drawn
        from the fit's parameter uncertainty and widened by `widen_by` on each side."""
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(self.params, self.covariance, size=_DRAWS)
        log_now, log_later = np.log(now), np.log(now + more)
        gains = np.exp(draws[:, 0] + draws[:, 1] * log_now) - np.exp(draws[:, 0] + draws[:, 1] * log_later)
        expected = float(self.macro_f1(now + more) - self.macro_f1(now))
        low, high = np.quantile(gains, [0.1, 0.9])
        return Gain(more=more, expected=expected, low=float(low) - widen_by, high=float(high) + widen_by)


@dataclass(frozen=True)
class Gain:
    more: int
    expected: float  # macro-F1, 0-1 scale
    low: float
    high: float


@dataclass(frozen=True)
class Backtest:
    fitted_on: int  # the first points of the curve
    predicted: float  # macro-F1 at the last point, from those
    measured: float

    @property
    def error(self) -> float:
        return abs(self.predicted - self.measured)

    @property
    def passed(self) -> bool:
        return self.error <= BACKTEST_TOLERANCE


@dataclass(frozen=True)
class LearningCurve:
    points: list[CurvePoint]
    labels_now: int
    fit: PowerLaw | None
    backtest: Backtest | None

    @property
    def can_forecast(self) -> bool:
        return self.fit is not None and self.backtest is not None and self.backtest.passed

    def gains(self, more: Sequence[int]) -> list[Gain]:
        """The parameter uncertainty alone assumes the power law is the truth; widening it by how far
        the backtest missed keeps the interval honest about how well the law fits this dataset."""
        if self.fit is None or self.backtest is None or not self.can_forecast:
            return []
        return [self.fit.gain(self.labels_now, extra, widen_by=self.backtest.error) for extra in more]


def enough_for_curve(labels: Sequence[int] | np.ndarray) -> bool:
    counts = np.bincount(np.asarray(labels, dtype=np.int64)) if len(labels) else np.zeros(0)
    return len(counts) >= 2 and int(counts.min()) >= MIN_PER_LABEL


def measure_points(vectors: np.ndarray, labels: Sequence[int], *, seed: int = 0) -> list[CurvePoint]:
    """Cross-validated macro-F1 of the fast model on POINTS growing subsets, spaced evenly in log scale
    from a few reviews per label to a whole training fold. Labels are 0..k-1."""
    y = np.asarray(labels, dtype=np.int64)
    if not enough_for_curve(y):
        raise ValueError(f"Every label needs at least {MIN_PER_LABEL} labeled reviews for a learning curve.")
    rng = np.random.default_rng(seed)
    if len(y) > MAX_LABELS_ON_CURVE:
        keep = np.sort(rng.choice(len(y), size=MAX_LABELS_ON_CURVE, replace=False))
        vectors, y = vectors[keep], y[keep]
    folds = min(MAX_FOLDS, int(np.bincount(y).min()))
    largest = len(y) - int(np.ceil(len(y) / folds))
    smallest = min(largest, max(10, SMALLEST_PER_LABEL * int(y.max() + 1)))
    sizes = np.unique(np.geomspace(smallest, largest, POINTS).round().astype(int))
    weights = fast_model_class_weights(y)
    sizes_used, _, test_scores = sklearn_learning_curve(
        LogisticRegression(C=FAST_MODEL_C, max_iter=1000, class_weight=weights),
        vectors,
        y,
        train_sizes=sizes,
        cv=RepeatedStratifiedKFold(n_splits=folds, n_repeats=REPEATS, random_state=seed),
        scoring="f1_macro",
        shuffle=True,
        random_state=seed,
        error_score=np.nan,  # a small subset that misses a label entirely cannot be fitted
        n_jobs=1,
    )
    points = []
    for size, row in zip(sizes_used, test_scores, strict=True):
        scored = row[~np.isnan(row)]
        if len(scored) >= 2:
            points.append(CurvePoint(int(size), float(scored.mean()), float(scored.std())))
    return points


def fit_power_law(points: Sequence[CurvePoint]) -> PowerLaw | None:
    """None with fewer than three points: a line through two has no uncertainty to speak of.

    Points are weighted by their number of labels: a score measured on more reviews varies less, and
    the far end of the curve is where the forecast starts from."""
    if len(points) < 3:
        return None
    sizes = np.array([p.labels for p in points], dtype=float)
    x = sm.add_constant(np.log(sizes), has_constant="add")
    error = np.clip(1.0 - np.array([p.macro_f1 for p in points]), _SMALLEST_ERROR, 1.0)
    result = sm.WLS(np.log(error), x, weights=sizes).fit()
    return PowerLaw(np.asarray(result.params, dtype=float), np.asarray(result.cov_params(), dtype=float))


def backtest(points: Sequence[CurvePoint]) -> Backtest | None:
    """Fit the first half of the points and predict the last one."""
    first = max(3, int(np.ceil(len(points) / 2)))
    if len(points) <= first:
        return None
    early = fit_power_law(points[:first])
    if early is None:
        return None
    last = points[-1]
    return Backtest(first, float(early.macro_f1(last.labels)), last.macro_f1)


def learning_curve(vectors: np.ndarray, labels: Sequence[int], *, seed: int = 0) -> LearningCurve:
    points = measure_points(vectors, labels, seed=seed)
    return LearningCurve(points, len(labels), fit_power_law(points), backtest(points))
