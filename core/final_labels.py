"""The one definition of a record's final label, shared by training, exports and the dataset views.

1. the adjudicated label, else
2. the label most annotators gave (a strict majority of votes), else
3. the most recent annotation's label.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.db import Database
from core.models import Adjudication, Annotation, Annotator, Record


@dataclass(frozen=True)
class Vote:
    label_class_id: int
    updated_at: datetime


def resolve_final_label(votes: Sequence[Vote], adjudicated: int | None = None) -> int | None:
    if adjudicated is not None:
        return adjudicated
    if not votes:
        return None
    ranked = Counter(vote.label_class_id for vote in votes).most_common()
    if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
        return ranked[0][0]
    return max(votes, key=lambda vote: vote.updated_at).label_class_id


def final_labels(
    db: Database,
    dataset_id: int,
    *,
    record_ids: Iterable[int] | None = None,
    people_only: bool = False,
) -> dict[int, int]:
    """record id -> final label class id, for every record of the dataset that has one.

    people_only leaves out labels that came with an imported file: the in-loop model learns from what
    the people labeling teach it, and must not echo a hidden imported label back as a suggestion."""
    wanted = None if record_ids is None else list(record_ids)
    with db.read() as session:
        votes_query = (
            select(Annotation.record_id, Annotation.label_class_id, Annotation.updated_at)
            .join(Record, Record.id == Annotation.record_id)
            .where(Record.dataset_id == dataset_id)
        )
        if people_only:
            votes_query = votes_query.join(Annotator, Annotator.id == Annotation.annotator_id).where(
                Annotator.is_system.is_(False)
            )
        adjudications_query = (
            select(Adjudication.record_id, Adjudication.label_class_id)
            .join(Record, Record.id == Adjudication.record_id)
            .where(Record.dataset_id == dataset_id)
        )
        if wanted is not None:
            votes_query = votes_query.where(Annotation.record_id.in_(wanted))
            adjudications_query = adjudications_query.where(Adjudication.record_id.in_(wanted))
        votes: dict[int, list[Vote]] = defaultdict(list)
        for record_id, label_id, updated_at in session.execute(votes_query):
            votes[record_id].append(Vote(label_id, updated_at))
        adjudicated = dict(session.execute(adjudications_query).all())
    result: dict[int, int] = {}
    for record_id in votes.keys() | adjudicated.keys():
        label = resolve_final_label(votes.get(record_id, []), adjudicated.get(record_id))
        if label is not None:
            result[record_id] = label
    return result
