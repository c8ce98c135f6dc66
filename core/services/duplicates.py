"""Near-duplicate groups in a dataset, and setting all but one of a group aside (reversibly).

A review set aside keeps its text and labels; it only leaves the labeling queues and training
(Record.duplicate_of). Putting it back clears that mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update

from core.assist.duplicates import near_duplicate_groups
from core.db import Database
from core.errors import InvalidInputError
from core.final_labels import final_labels
from core.models import Record
from core.services.suggestions import Suggester


@dataclass(frozen=True)
class GroupMember:
    record_id: int
    position: int
    text: str
    label_id: int | None  # its final label, if it has one
    set_aside: bool


@dataclass(frozen=True)
class DuplicateGroup:
    members: list[GroupMember]  # the one to keep first: labeled before unlabeled, then import order

    @property
    def keeper(self) -> GroupMember:
        return self.members[0]

    @property
    def record_ids(self) -> list[int]:
        return [m.record_id for m in self.members]

    @property
    def settled(self) -> bool:
        """Every member but the keeper is set aside."""
        return all(m.set_aside for m in self.members[1:]) and not self.keeper.set_aside


def duplicate_record_groups(suggester: Suggester, *, similarity: float) -> list[list[int]]:
    """Record ids of each near-duplicate group among the embedded reviews, the largest first: the costly
    part (seconds at 20,000 reviews), which changes only with the embeddings and the similarity."""
    view = suggester.view()
    if len(view.record_ids) < 2:
        return []
    return [
        [int(view.record_ids[row]) for row in rows]
        for rows in near_duplicate_groups(view.vectors, similarity=similarity)
    ]


def describe_groups(db: Database, dataset_id: int, groups: Sequence[Sequence[int]]) -> list[DuplicateGroup]:
    """Each group's reviews with their labels and whether they are set aside (set-aside reviews stay in
    their group, so it can be put back)."""
    wanted = [record_id for group in groups for record_id in group]
    with db.read() as session:
        rows = {
            row.id: row
            for row in session.execute(
                select(Record.id, Record.position, Record.text, Record.duplicate_of).where(
                    Record.id.in_(wanted), Record.dataset_id == dataset_id
                )
            )
        }
    labels = final_labels(db, dataset_id, record_ids=wanted)
    result = []
    for group in groups:
        members = [
            GroupMember(
                record_id=record_id,
                position=rows[record_id].position,
                text=rows[record_id].text,
                label_id=labels.get(record_id),
                set_aside=rows[record_id].duplicate_of is not None,
            )
            for record_id in group
            if record_id in rows
        ]
        if len(members) >= 2:
            members.sort(key=lambda m: (m.set_aside, m.label_id is None, m.position))
            result.append(DuplicateGroup(members))
    return result


def keep_one(db: Database, dataset_id: int, group: DuplicateGroup) -> int:
    """Set aside every member but the keeper; returns how many were set aside."""
    others = [m.record_id for m in group.members if m.record_id != group.keeper.record_id]
    with db.write() as session:
        session.execute(
            update(Record)
            .where(Record.id == group.keeper.record_id, Record.dataset_id == dataset_id)
            .values(duplicate_of=None)
        )
        done = session.execute(
            update(Record)
            .where(Record.id.in_(others), Record.dataset_id == dataset_id)
            .values(duplicate_of=group.keeper.record_id)
        )
    return int(getattr(done, "rowcount", 0) or 0)


def put_back(db: Database, dataset_id: int, record_ids: Sequence[int]) -> int:
    """Undo: the reviews return to labeling and training. Returns how many were set aside."""
    if not record_ids:
        raise InvalidInputError("Pick the reviews to put back.")
    with db.write() as session:
        done = session.execute(
            update(Record)
            .where(
                Record.id.in_(list(record_ids)),
                Record.dataset_id == dataset_id,
                Record.duplicate_of.is_not(None),
            )
            .values(duplicate_of=None)
        )
    return int(getattr(done, "rowcount", 0) or 0)


def find_duplicate_groups(
    db: Database, suggester: Suggester, dataset_id: int, *, similarity: float
) -> list[DuplicateGroup]:
    return describe_groups(db, dataset_id, duplicate_record_groups(suggester, similarity=similarity))


def set_aside_count(db: Database, dataset_id: int) -> int:
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count()).where(Record.dataset_id == dataset_id, Record.duplicate_of.is_not(None))
            )
            or 0
        )


def put_back_all(db: Database, dataset_id: int) -> int:
    with db.write() as session:
        done = session.execute(
            update(Record)
            .where(Record.dataset_id == dataset_id, Record.duplicate_of.is_not(None))
            .values(duplicate_of=None)
        )
    return int(getattr(done, "rowcount", 0) or 0)


def set_aside_ids(db: Database, dataset_id: int) -> set[int]:
    """Reviews set aside as near-duplicates: left out wherever labels are counted or learned from."""
    with db.read() as session:
        return set(
            session.scalars(
                select(Record.id).where(Record.dataset_id == dataset_id, Record.duplicate_of.is_not(None))
            )
        )
