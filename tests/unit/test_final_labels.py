from __future__ import annotations

from datetime import datetime, timedelta

from core.final_labels import Vote, resolve_final_label

T0 = datetime(2026, 1, 1)


def vote(label: int, minutes: int) -> Vote:
    return Vote(label, T0 + timedelta(minutes=minutes))


def test_adjudication_wins_over_any_majority() -> None:
    assert resolve_final_label([vote(1, 0), vote(1, 1), vote(1, 2)], adjudicated=2) == 2


def test_strict_majority_wins_over_recency() -> None:
    assert resolve_final_label([vote(1, 0), vote(1, 1), vote(2, 9)]) == 1


def test_tie_goes_to_the_most_recent() -> None:
    assert resolve_final_label([vote(1, 5), vote(2, 1), vote(1, 0), vote(2, 9)]) == 2


def test_single_vote_and_no_votes() -> None:
    assert resolve_final_label([vote(3, 0)]) == 3
    assert resolve_final_label([]) is None
