"""The Train page's ETA covers the whole job: training steps, validation passes, and the scoring after."""

from __future__ import annotations

from core.models import RunStatus, TrainingRun
from core.services.training import SCORING_TO_TRAINING_SPEED, estimate_seconds_left

PLAN = {"plan": {"validation": 20, "score_after_training": 200}}


def _run(step: int, metrics: dict[str, object]) -> TrainingRun:
    return TrainingRun(
        status=RunStatus.RUNNING,
        config={"batch_size": 10, "epochs": 4},
        metrics=metrics,
        step=step,
        total_steps=100,
    )


def test_mid_training_counts_steps_validation_passes_and_scoring() -> None:
    # 50 steps of 10 reviews at 10 reviews/s; 3 validation passes of 20 and 200 reviews to score, at the
    # 10 reviews/s the first validation pass was timed at.
    eta = estimate_seconds_left(_run(50, PLAN), 10.0, [{"seconds": 2.0, "reviews": 20}])
    assert eta == 50 + 3 * 20 / 10 + 200 / 10


def test_the_last_training_step_still_leaves_the_scoring() -> None:
    eta = estimate_seconds_left(_run(100, PLAN), 10.0, [{"seconds": 2.0, "reviews": 20}] * 4)
    assert eta == 200 / 10


def test_before_any_validation_pass_scoring_speed_is_estimated_from_training_speed() -> None:
    eta = estimate_seconds_left(_run(0, PLAN), 10.0, [])
    scoring_speed = 10.0 * SCORING_TO_TRAINING_SPEED
    assert eta == 100 + (4 * 20 + 200) / scoring_speed


def test_while_scoring_the_measured_scoring_speed_decides() -> None:
    metrics = {**PLAN, "scoring": {"done": 150, "seconds": 5.0}}
    assert estimate_seconds_left(_run(100, metrics), 10.0, []) == 50 / 30


def test_no_estimate_before_training_has_a_speed() -> None:
    assert estimate_seconds_left(_run(0, PLAN), None, []) is None
