"""How good a run is, in the terms a user can act on: its margin over simple baselines and how far its
confidence can be trusted. Pure: reads a run's stored metrics, never torch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ECE_BINS = 15
KEYWORDS = "keywords"
MAJORITY = "majority"
# calibration_error_by_chance simulates this many outcomes (fewer on many reviews, where chance matters
# less and each outcome costs more): its own spread is then under 0.001 on the sample's test reviews.
CHANCE_DRAWS_MOST, CHANCE_DRAWS_FEWEST, CHANCE_OUTCOMES_BUDGET = 400, 20, 2_000_000
CHANCE_SEED = 0
# A margin smaller than this many points is within the noise of a few hundred test reviews.
CLEAR_MARGIN_POINTS = 1.0


def calibration_error(confidence: Sequence[float], correct: Sequence[bool], *, bins: int = ECE_BINS) -> float:
    """Expected calibration error: the average gap between how sure the model is and how often it is
    right, over equal-width bins of confidence, weighted by how many predictions fall in each."""
    if len(confidence) == 0:
        return 0.0
    sure = np.asarray(confidence, dtype=np.float64)
    return float(_calibration_errors(sure, np.asarray(correct, dtype=np.float64)[np.newaxis], bins)[0])


def calibration_error_by_chance(
    confidence: Sequence[float], *, bins: int = ECE_BINS, seed: int = CHANCE_SEED
) -> float:
    """The calibration error a model whose confidence is exactly right would still show on predictions
    this sure: each one right with the probability its confidence gives, averaged over simulated outcomes
    (the same every time for the same confidences).

    Binned ECE is never below zero, so chance alone lifts it, by more the fewer reviews there are: on the
    sample's 379 test reviews about 0.05, the very figure issue #14 set as its target. An error near this
    level says the confidences are as good as this many reviews can tell."""
    # Sorted, so the simulated outcomes, and the figure, depend on the confidences and not their order.
    sure = np.sort(np.asarray(confidence, dtype=np.float64))
    if sure.size == 0:
        return 0.0
    draws = int(np.clip(CHANCE_OUTCOMES_BUDGET // sure.size, CHANCE_DRAWS_FEWEST, CHANCE_DRAWS_MOST))
    right = (np.random.default_rng(seed).random((draws, sure.size)) < sure).astype(np.float64)
    return float(_calibration_errors(sure, right, bins).mean())


def _calibration_errors(sure: np.ndarray, right: np.ndarray, bins: int) -> np.ndarray:
    """The calibration error of `sure` against each row of outcomes in `right` (1 right, 0 wrong). A
    bin's share of the reviews times its gap is |its confidences summed - its right answers summed|
    over all the reviews, so one product with the bin membership scores every row at once."""
    which = np.clip(np.digitize(sure, np.linspace(0.0, 1.0, bins + 1)[1:-1], right=True), 0, bins - 1)
    in_bin = np.zeros((sure.size, bins))
    in_bin[np.arange(sure.size), which] = 1.0
    gaps: np.ndarray = np.abs(sure @ in_bin - right @ in_bin).sum(axis=1) / sure.size
    return gaps


@dataclass(frozen=True)
class BaselineScore:
    key: str  # MAJORITY or KEYWORDS
    accuracy: float
    macro_f1: float
    predicted: str | None = None  # the one label the majority baseline always answers
    # The keyword model only: the range of the run's lead over it, in points, by measure ("accuracy",
    # "macro_f1"; core.training.evaluation.margin_intervals). None for runs stored before it.
    margin_interval: dict[str, tuple[float, float]] | None = None


@dataclass(frozen=True)
class Margin:
    """The run against its keyword baseline, in percentage points."""

    accuracy_points: float
    macro_f1_points: float
    # Where the lead would likely fall on other reviews like these (a paired bootstrap), in points.
    accuracy_range: tuple[float, float] | None = None
    macro_f1_range: tuple[float, float] | None = None

    @property
    def beats(self) -> bool:
        return self.accuracy_points > 0 and self.macro_f1_points > 0

    @property
    def behind_only_by_chance(self) -> tuple[str, tuple[float, float]] | None:
        """("accuracy" or "macro_f1", its range) when the run is ahead on the other measure by more than
        chance gives, and behind on this one by no more than chance gives; else None."""
        ranges = {"accuracy": self.accuracy_range, "macro_f1": self.macro_f1_range}
        points = {"accuracy": self.accuracy_points, "macro_f1": self.macro_f1_points}
        for behind, ahead in (("accuracy", "macro_f1"), ("macro_f1", "accuracy")):
            behind_range, ahead_range = ranges[behind], ranges[ahead]
            if (
                points[behind] <= 0 < points[ahead]
                and behind_range is not None
                and ahead_range is not None
                and behind_range[1] >= 0
                and ahead_range[0] > 0
            ):
                return behind, behind_range
        return None

    @property
    def clearly_beats(self) -> bool:
        return min(self.accuracy_points, self.macro_f1_points) >= CLEAR_MARGIN_POINTS


def baseline_scores(metrics: dict[str, Any], part: str) -> dict[str, BaselineScore]:
    """The baselines a run stored for `part` ("test" or "validation"); empty for runs older than them."""
    found: dict[str, BaselineScore] = {}
    for key, by_part in (metrics.get("baselines") or {}).items():
        scores = (by_part or {}).get(part)
        if not scores:
            continue
        predicted = None
        if key == MAJORITY and scores.get("confusion_matrix"):
            columns = np.asarray(scores["confusion_matrix"]).sum(axis=0)
            predicted = str(scores["labels"][int(columns.argmax())])
        interval = scores.get("margin_interval") if key == KEYWORDS else None
        found[key] = BaselineScore(
            key,
            float(scores["accuracy"]),
            float(scores["macro_f1"]),
            predicted,
            {name: (float(low), float(high)) for name, (low, high) in interval.items()} if interval else None,
        )
    return found


def margin_over(accuracy: float, macro_f1: float, baseline: BaselineScore) -> Margin:
    """The run's scores against the baseline's on the same part; the ranges come with the baseline."""
    ranges = baseline.margin_interval or {}
    return Margin(
        (accuracy - baseline.accuracy) * 100,
        (macro_f1 - baseline.macro_f1) * 100,
        ranges.get("accuracy"),
        ranges.get("macro_f1"),
    )


def never_predicted(confusion: Sequence[Sequence[int]], labels: Sequence[str]) -> list[str]:
    """Labels that occur among the scored reviews but that the model never predicted: a model trained
    on few examples of a label learns to skip it, and accuracy alone hides that."""
    if len(confusion) != len(labels):
        raise ValueError("The confusion matrix needs one row per label.")
    return [
        label
        for column, label in enumerate(labels)
        if sum(row[column] for row in confusion) == 0 and sum(confusion[column]) > 0
    ]
