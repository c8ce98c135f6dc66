"""Active-learning choices on small constructed cases."""

from __future__ import annotations

import numpy as np

from core.assist.strategies import group_reviews, margins, most_uncertain, typical_of_largest_group


def test_uncertainty_picks_the_closest_call_and_breaks_ties_by_position() -> None:
    probabilities = np.array(
        [
            [0.90, 0.05, 0.05],  # sure
            [0.45, 0.44, 0.11],  # torn: margin 0.01
            [0.30, 0.29, 0.41],  # margin 0.11
            [0.11, 0.45, 0.44],  # torn as well: margin 0.01, but later
        ]
    )
    np.testing.assert_allclose(margins(probabilities), [0.85, 0.01, 0.11, 0.01], atol=1e-9)
    assert most_uncertain(probabilities) == 1
    assert most_uncertain(np.zeros((0, 3))) is None


def test_diversity_skips_the_groups_just_seen_unless_nothing_else_is_left() -> None:
    probabilities = np.array([[0.5, 0.5], [0.52, 0.48], [0.9, 0.1]])
    groups = np.array([7, 7, 3])
    assert most_uncertain(probabilities, avoid_groups={7}, groups=groups) == 2
    assert most_uncertain(probabilities, avoid_groups={7, 3}, groups=groups) == 0


def test_cold_start_takes_the_most_typical_review_of_the_largest_group() -> None:
    rng = np.random.default_rng(0)
    vectors = np.vstack(
        [rng.normal(loc=[5, 0], scale=0.3, size=(30, 2)), rng.normal(loc=[-5, 0], size=(5, 2))]
    )
    groups = np.array([0] * 30 + [1] * 5)
    centres = np.array([vectors[:30].mean(axis=0), vectors[30:].mean(axis=0)])
    pick = typical_of_largest_group(vectors, groups, centres, np.arange(35))
    distances = np.linalg.norm(vectors[:30] - centres[0], axis=1)
    assert pick == int(np.argmin(distances))
    # Only the small group's reviews left unlabeled: the pick comes from there.
    assert typical_of_largest_group(vectors, groups, centres, np.arange(30, 35)) in range(30, 35)


def test_grouping_never_asks_for_more_groups_than_reviews() -> None:
    vectors = np.random.default_rng(1).normal(size=(6, 4))
    groups, centres = group_reviews(vectors)
    assert len(centres) == 6 and groups.min() >= 0 and groups.max() < 6
