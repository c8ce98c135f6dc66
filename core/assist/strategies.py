"""Which review to label next, by what the model knows: pure functions on vectors and probabilities.

- Uncertainty: the smallest margin between the two most likely labels (ties by position), where one
  more label teaches the model most.
- Uncertainty with diversity: the same, but never from a group of similar reviews the labeler has
  just seen, so ten near-identical reviews are not picked in a row.
- Cold start: before the model exists, the review closest to the centre of the largest group of
  similar reviews nobody has labeled yet: a typical review first, not an odd one.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
from sklearn.cluster import MiniBatchKMeans

# Groups of similar reviews: enough to spread a batch, few enough to be groups. Capped by the data.
GROUPS = 20


def margins(probabilities: np.ndarray) -> np.ndarray:
    """Top label's probability minus the runner-up's, per row: 0 is a coin toss between two labels."""
    if probabilities.ndim != 2 or probabilities.shape[1] < 2:
        raise ValueError("Margins need probabilities over at least two labels.")
    top_two = np.sort(probabilities, axis=1)[:, -2:]
    return np.asarray(top_two[:, 1] - top_two[:, 0])


def most_uncertain(
    probabilities: np.ndarray, *, avoid_groups: Collection[int] = (), groups: np.ndarray | None = None
) -> int | None:
    """Row with the smallest margin; with `groups`, outside `avoid_groups` when any such row is left.
    Ties go to the earlier row, so the choice is the same on every call."""
    if len(probabilities) == 0:
        return None
    order = np.argsort(margins(probabilities), kind="stable")
    if groups is not None and avoid_groups:
        avoided = np.isin(groups[order], list(avoid_groups))
        if not avoided.all():
            order = order[~avoided]
    return int(order[0])


def group_reviews(vectors: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(group of each row, centres): k-means on the embeddings, at most GROUPS groups."""
    count = min(GROUPS, len(vectors))
    if count < 2:
        return np.zeros(len(vectors), dtype=np.int64), vectors[:1].copy()
    model = MiniBatchKMeans(n_clusters=count, random_state=seed, n_init=3, batch_size=1024).fit(vectors)
    return model.labels_.astype(np.int64), model.cluster_centers_


def typical_of_largest_group(
    vectors: np.ndarray, groups: np.ndarray, centres: np.ndarray, candidates: np.ndarray
) -> int | None:
    """Among candidate rows, the one nearest the centre of the group with the most candidates."""
    if len(candidates) == 0:
        return None
    candidate_groups = groups[candidates]
    largest = int(np.bincount(candidate_groups).argmax())
    members = candidates[candidate_groups == largest]
    distances = np.linalg.norm(vectors[members] - centres[largest], axis=1)
    return int(members[int(np.argmin(distances))])
