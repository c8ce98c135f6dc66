"""Near-duplicate grouping on constructed vectors: copies, chains, and the similarity threshold."""

from __future__ import annotations

import numpy as np
import pytest

from core.assist.duplicates import near_duplicate_groups


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_copies_and_chains_group_and_distinct_reviews_do_not() -> None:
    base = np.eye(6)
    vectors = _unit(
        np.vstack(
            [
                base[0],  # 0 ┐ an exact copy
                base[0],  # 1 ┘
                base[1],  # 2 ┐ a chain: 2~3 and 3~4, though 2 and 4 are further apart
                base[1] + 0.25 * base[2],  # 3 │
                base[1] + 0.5 * base[2],  # 4 ┘
                base[3],  # 5 alone
                base[4],  # 6 alone
            ]
        )
    )
    groups = near_duplicate_groups(vectors, similarity=0.96)
    assert [g.tolist() for g in groups] == [[2, 3, 4], [0, 1]]
    # Only exact copies at 100%.
    assert [g.tolist() for g in near_duplicate_groups(vectors, similarity=1.0)] == [[0, 1]]


def test_nothing_to_group() -> None:
    assert near_duplicate_groups(np.eye(4), similarity=0.9) == []
    assert near_duplicate_groups(np.eye(4)[:1], similarity=0.9) == []
    with pytest.raises(ValueError):
        near_duplicate_groups(np.eye(4), similarity=0)
