"""Active-learning queue orders: the next review to label, chosen by what the in-loop model knows.

The SQL orders live in core.services.labeling; these need the embeddings and the fast model, which a
Suggester holds, and say why they chose a review so the Label page can tell the labeler.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from core.assist.strategies import most_uncertain, typical_of_largest_group
from core.db import Database
from core.models import Annotation, Annotator, Record
from core.services.duplicates import set_aside_ids
from core.services.suggestions import Suggester


@dataclass(frozen=True)
class ActivePick:
    record_id: int
    # Torn: the two most likely labels and their probabilities. Typical: how big its group is.
    torn_between: tuple[tuple[int, float], tuple[int, float]] | None = None
    group_size: int = 0


def _labeled_or_set_aside(db: Database, dataset_id: int) -> set[int]:
    # From people's annotations to their records' dataset, not from the dataset's records: an imported
    # dataset carries one system label per review, and scanning those cost ~90 ms at 100,000 reviews.
    people = select(Annotator.id).where(Annotator.is_system.is_(False))
    in_dataset = (
        select(Record.dataset_id).where(Record.id == Annotation.record_id).scalar_subquery() == dataset_id
    )
    with db.read() as session:
        labeled = set(
            session.scalars(
                select(Annotation.record_id).where(Annotation.annotator_id.in_(people), in_dataset)
            )
        )
    return labeled | set_aside_ids(db, dataset_id)


def next_active(
    db: Database,
    suggester: Suggester,
    dataset_id: int,
    *,
    diverse: bool,
    exclude: Collection[int] = (),
    recent: Collection[int] = (),
) -> ActivePick | None:
    """The unlabeled review the model is least sure about (with `diverse`, not from the groups of the
    `recent` reviews); before the model exists, a typical review of the largest unlabeled group.
    None when every embedded review is labeled or excluded."""
    view = suggester.view()
    if len(view.record_ids) == 0:
        return None
    taken = _labeled_or_set_aside(db, dataset_id) | set(exclude)
    candidates = np.flatnonzero(~np.isin(view.record_ids, list(taken)))
    if len(candidates) == 0:
        return None
    if view.model is None:
        row = typical_of_largest_group(view.vectors, view.groups, view.centres, candidates)
        assert row is not None
        group_size = int(np.sum(view.groups[candidates] == view.groups[row]))
        return ActivePick(int(view.record_ids[row]), group_size=group_size)
    assert view.probabilities is not None
    probabilities = view.probabilities[candidates]
    avoid: set[int] = set()
    if diverse and recent:
        avoid = {int(group) for group in view.groups[np.isin(view.record_ids, list(recent))]}
    best = most_uncertain(probabilities, avoid_groups=avoid, groups=view.groups[candidates])
    assert best is not None
    order = np.argsort(probabilities[best])[::-1]
    label_ids = view.model.label_ids
    return ActivePick(
        int(view.record_ids[candidates[best]]),
        torn_between=(
            (int(label_ids[order[0]]), float(probabilities[best, order[0]])),
            (int(label_ids[order[1]]), float(probabilities[best, order[1]])),
        ),
    )
