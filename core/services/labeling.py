"""Labeling one review at a time: save, undo, the queue, progress and history.

Every save is its own short write transaction, and saving the same label twice changes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Select, cast, delete, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from core.db import Database
from core.errors import InvalidInputError, NotFoundError
from core.models import Annotation, Annotator, LabelClass, Record, utcnow

HISTORY_EXCERPT_CHARS = 80
# Knuth's multiplicative hash: a seeded shuffle SQLite can sort by, the same on every call.
_SHUFFLE_MULTIPLIER = 2_654_435_761
_SEED_MULTIPLIER = 2_654_435_769  # spreads small seeds (0, 1, 2…) across the whole hash range
_SHUFFLE_MODULUS = 2**32
_RANDOM_BATCH = 32


class QueueOrder(enum.StrEnum):
    UNLABELED_FIRST = "unlabeled_first"
    RANDOM = "random"
    OTHERS_NOT_ME = "others_not_me"
    # Chosen by the in-loop model (core.services.active), not by SQL.
    UNCERTAIN = "uncertain"
    UNCERTAIN_DIVERSE = "uncertain_diverse"


QUEUE_ORDER_LABELS = {
    QueueOrder.UNLABELED_FIRST: "Not yet labeled by anyone, in import order",
    QueueOrder.UNCERTAIN: "Where the model is least sure (learns fastest)",
    QueueOrder.UNCERTAIN_DIVERSE: "Least sure, never twice from the same kind of review",
    QueueOrder.RANDOM: "Random (seeded)",
    QueueOrder.OTHERS_NOT_ME: "Labeled by others, not by me",
}
MODEL_ORDERS = frozenset({QueueOrder.UNCERTAIN, QueueOrder.UNCERTAIN_DIVERSE})


@dataclass(frozen=True)
class LabelChoice:
    id: int
    name: str
    color: str
    shortcut_key: str | None


@dataclass(frozen=True)
class ReviewCard:
    record_id: int
    dataset_id: int
    position: int
    text: str
    external_id: str | None
    split: str
    my_label_id: int | None
    other_labels: list[tuple[str, str]]  # (annotator, label) from everyone else, people and imports


@dataclass(frozen=True)
class SaveResult:
    record_id: int
    label_class_id: int
    previous_label_id: int | None

    @property
    def changed(self) -> bool:
        return self.previous_label_id != self.label_class_id


@dataclass(frozen=True)
class Progress:
    total: int
    labeled: int  # by at least one person
    imported: int  # carrying a label that came with the file
    mine: int
    mine_today: int

    @property
    def labeled_share(self) -> float:
        return self.labeled / self.total if self.total else 0.0


@dataclass(frozen=True)
class HistoryItem:
    record_id: int
    position: int
    excerpt: str
    label_name: str
    label_color: str
    updated_at: datetime


# --- Queue strategies: each returns the ordered candidates; more can be registered (active learning). ---

QueueStrategy = Callable[[int, int, int], Select[Any]]


def _mine(annotator_id: int) -> Any:
    return exists().where(Annotation.record_id == Record.id, Annotation.annotator_id == annotator_id)


def _labeled_by_a_person() -> Any:
    # Imported labels come from a system annotator; they do not make a review "done" for people.
    return (
        select(Annotation.id)
        .join(Annotator, Annotator.id == Annotation.annotator_id)
        .where(Annotation.record_id == Record.id, Annotator.is_system.is_(False))
        .exists()
    )


def _unlabeled_first(dataset_id: int, annotator_id: int, seed: int) -> Select[Any]:
    return (
        select(Record.id)
        .where(Record.dataset_id == dataset_id, ~_labeled_by_a_person())
        .order_by(Record.position)
    )


def shuffle_key(record_id: int, seed: int) -> int:
    """A record's place in the seeded random order (the same formula the database sorts by)."""
    return (record_id * _SHUFFLE_MULTIPLIER + seed * _SEED_MULTIPLIER) % _SHUFFLE_MODULUS


def _shuffle_expression(seed: int) -> Any:
    # 64-bit throughout: PostgreSQL types a bare id and these constants as 32-bit and would overflow.
    return (cast(Record.id, BigInteger) * _big(_SHUFFLE_MULTIPLIER) + _big(seed * _SEED_MULTIPLIER)) % _big(
        _SHUFFLE_MODULUS
    )


def _big(value: int) -> Any:
    return literal(value, BigInteger)


def _random(dataset_id: int, annotator_id: int, seed: int) -> Select[Any]:
    return (
        select(Record.id)
        .where(Record.dataset_id == dataset_id, ~_mine(annotator_id))
        .order_by(_shuffle_expression(seed))
    )


def _others_not_me(dataset_id: int, annotator_id: int, seed: int) -> Select[Any]:
    person = aliased(Annotator)
    by_other_person = (
        select(Annotation.id)
        .join(person, person.id == Annotation.annotator_id)
        .where(
            Annotation.record_id == Record.id,
            Annotation.annotator_id != annotator_id,
            person.is_system.is_(False),
        )
        .exists()
    )
    return (
        select(Record.id)
        .where(Record.dataset_id == dataset_id, by_other_person, ~_mine(annotator_id))
        .order_by(Record.position)
    )


QUEUE_STRATEGIES: dict[QueueOrder, QueueStrategy] = {
    QueueOrder.UNLABELED_FIRST: _unlabeled_first,
    QueueOrder.RANDOM: _random,
    QueueOrder.OTHERS_NOT_ME: _others_not_me,
}
# Reviews set aside as near-duplicates (core.services.duplicates) are nobody's work to label.
NOT_SET_ASIDE = Record.duplicate_of.is_(None)

# Strategies in import order can resume after the current review instead of rescanning from the top.
_POSITION_ORDERED = {QueueOrder.UNLABELED_FIRST, QueueOrder.OTHERS_NOT_ME}


def next_record_id(
    db: Database,
    dataset_id: int,
    annotator_id: int,
    *,
    order: QueueOrder = QueueOrder.UNLABELED_FIRST,
    seed: int = 0,
    after_position: int | None = None,
    after_record_id: int | None = None,
    exclude: Collection[int] = (),
) -> int | None:
    """The next review this annotator should see, or None when the queue is empty.

    Queues resume after the current review (`after_position` for import-order queues, `after_record_id`
    for the random one) and wrap around to the start.
    """
    if order in MODEL_ORDERS:
        raise InvalidInputError("That queue order is chosen by the model: see core.services.active.")
    if order is QueueOrder.RANDOM:
        return _next_random(db, dataset_id, annotator_id, seed, after_record_id, exclude)
    candidates = QUEUE_STRATEGIES[order](dataset_id, annotator_id, seed).where(NOT_SET_ASIDE)
    if exclude:
        candidates = candidates.where(Record.id.not_in(list(exclude)))
    with db.read() as session:
        if after_position is not None and order in _POSITION_ORDERED:
            found: int | None = session.scalar(candidates.where(Record.position > after_position).limit(1))
            if found is not None:
                return found
        first: int | None = session.scalar(candidates.limit(1))
        return first


def _next_random(
    db: Database,
    dataset_id: int,
    annotator_id: int,
    seed: int,
    after_record_id: int | None,
    exclude: Collection[int],
) -> int | None:
    # Sorting every record with a "labeled by me?" probe each costs ~50 ms on 100k rows. Sorting by the
    # hash alone is ~10 ms, so take a small batch that way and check it in one query; only when the whole
    # batch is done already fall back to the full filtered query.
    shuffled = _shuffle_expression(seed)
    pivot = None if after_record_id is None else shuffle_key(after_record_id, seed)
    excluded = list(exclude)
    with db.read() as session:
        for lower in (pivot, None) if pivot is not None else (None,):
            batch_query = (
                select(Record.id).where(Record.dataset_id == dataset_id, NOT_SET_ASIDE).order_by(shuffled)
            )
            if lower is not None:
                batch_query = batch_query.where(shuffled > lower)
            if excluded:
                batch_query = batch_query.where(Record.id.not_in(excluded))
            batch = list(session.scalars(batch_query.limit(_RANDOM_BATCH)))
            if not batch:
                continue
            done = set(
                session.scalars(
                    select(Annotation.record_id).where(
                        Annotation.record_id.in_(batch), Annotation.annotator_id == annotator_id
                    )
                )
            )
            found = next((record_id for record_id in batch if record_id not in done), None)
            if found is not None:
                return found
            full = _random(dataset_id, annotator_id, seed).where(NOT_SET_ASIDE)
            if lower is not None:
                full = full.where(shuffled > lower)
            if excluded:
                full = full.where(Record.id.not_in(excluded))
            fallback: int | None = session.scalar(full.limit(1))
            if fallback is not None:
                return fallback
    return None


# --- Reading ---


def label_choices(db: Database, dataset_id: int) -> list[LabelChoice]:
    with db.read() as session:
        rows = session.execute(
            select(LabelClass.id, LabelClass.name, LabelClass.color, LabelClass.shortcut_key)
            .where(LabelClass.dataset_id == dataset_id)
            .order_by(LabelClass.position)
        ).all()
    return [LabelChoice(*row) for row in rows]


def get_review(db: Database, record_id: int, annotator_id: int | None) -> ReviewCard:
    with db.read() as session:
        record = session.get(Record, record_id)
        if record is None:
            raise NotFoundError("That review no longer exists. Its dataset may have been deleted.")
        votes = session.execute(
            select(Annotation.annotator_id, Annotator.name, LabelClass.id, LabelClass.name)
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .join(LabelClass, LabelClass.id == Annotation.label_class_id)
            .where(Annotation.record_id == record_id)
            .order_by(Annotator.name)
        ).all()
        return ReviewCard(
            record_id=record.id,
            dataset_id=record.dataset_id,
            position=record.position,
            text=record.text,
            external_id=record.external_id,
            split=str(record.split),
            my_label_id=next((label_id for who, _, label_id, _ in votes if who == annotator_id), None),
            other_labels=[(name, label) for who, name, _, label in votes if who != annotator_id],
        )


def labeling_progress(
    db: Database, dataset_id: int, annotator_id: int | None, *, since: datetime
) -> Progress:
    """Reviews labeled by people, and by this annotator: in total and since `since` (their day's start).

    Counts start from the annotations of the people concerned and look up each one's dataset, instead
    of probing every record: on 100,000 reviews that is well under a millisecond instead of ~50 ms.
    """
    in_dataset = (
        select(Record.dataset_id).where(Record.id == Annotation.record_id).scalar_subquery() == dataset_id
    )
    people = select(Annotator.id).where(Annotator.is_system.is_(False))
    system = select(Annotator.id).where(Annotator.is_system.is_(True))
    with db.read() as session:
        total = (
            session.scalar(select(func.count()).where(Record.dataset_id == dataset_id, NOT_SET_ASIDE)) or 0
        )
        labeled = (
            session.scalar(
                select(func.count(func.distinct(Annotation.record_id))).where(
                    Annotation.annotator_id.in_(people), in_dataset
                )
            )
            or 0
        )
        # Imported labels are one per review at most, so this count is bounded by the dataset size.
        imported = (
            session.scalar(select(func.count()).where(Annotation.annotator_id.in_(system), in_dataset)) or 0
        )
        mine = mine_today = 0
        if annotator_id is not None:
            base = select(func.count()).where(Annotation.annotator_id == annotator_id, in_dataset)
            mine = session.scalar(base) or 0
            mine_today = session.scalar(base.where(Annotation.updated_at >= since)) or 0
    return Progress(total=total, labeled=labeled, imported=imported, mine=mine, mine_today=mine_today)


def recent_labels(db: Database, dataset_id: int, annotator_id: int, *, limit: int = 5) -> list[HistoryItem]:
    with db.read() as session:
        rows = session.execute(
            select(
                Record.id,
                Record.position,
                func.substr(Record.text, 1, HISTORY_EXCERPT_CHARS),
                LabelClass.name,
                LabelClass.color,
                Annotation.updated_at,
            )
            .join(Annotation, Annotation.record_id == Record.id)
            .join(LabelClass, LabelClass.id == Annotation.label_class_id)
            .where(Record.dataset_id == dataset_id, Annotation.annotator_id == annotator_id)
            .order_by(Annotation.updated_at.desc(), Annotation.id.desc())
            .limit(limit)
        ).all()
    return [HistoryItem(*row) for row in rows]


# --- Writing ---


def _check_can_label(session: Session, record_id: int, annotator_id: int, label_class_id: int | None) -> None:
    dataset_id = session.scalar(select(Record.dataset_id).where(Record.id == record_id))
    if dataset_id is None:
        raise NotFoundError("That review no longer exists. Its dataset may have been deleted.")
    annotator = session.get(Annotator, annotator_id)
    if annotator is None:
        raise NotFoundError("That annotator no longer exists. Pick yourself again in the sidebar.")
    if annotator.is_system:
        raise InvalidInputError("Imported labels cannot be edited by hand. Pick a person in the sidebar.")
    if label_class_id is not None:
        label_dataset = session.scalar(select(LabelClass.dataset_id).where(LabelClass.id == label_class_id))
        if label_dataset != dataset_id:
            raise InvalidInputError("That label is not part of this dataset's label set. Reload the page.")


def _current_label(session: Session, record_id: int, annotator_id: int) -> Annotation | None:
    return session.scalar(
        select(Annotation).where(Annotation.record_id == record_id, Annotation.annotator_id == annotator_id)
    )


def save_label(
    db: Database,
    *,
    record_id: int,
    annotator_id: int,
    label_class_id: int,
    duration_ms: int | None = None,
    suggested_label_id: int | None = None,
) -> SaveResult:
    """Save this annotator's label for a record. Saving the same label again changes nothing.

    suggested_label_id is the label the page suggested while the person decided, if any."""
    with db.write() as session:
        _check_can_label(session, record_id, annotator_id, label_class_id)
        existing = _current_label(session, record_id, annotator_id)
        if existing is None:
            session.add(
                Annotation(
                    record_id=record_id,
                    annotator_id=annotator_id,
                    label_class_id=label_class_id,
                    duration_ms=duration_ms,
                    suggested_label_id=suggested_label_id,
                )
            )
            return SaveResult(record_id, label_class_id, None)
        previous = existing.label_class_id
        if previous != label_class_id:
            existing.label_class_id = label_class_id
            existing.duration_ms = duration_ms
            existing.suggested_label_id = suggested_label_id
            existing.updated_at = utcnow()
        return SaveResult(record_id, label_class_id, previous)


def restore_label(db: Database, *, record_id: int, annotator_id: int, label_class_id: int | None) -> None:
    """Put an annotator's label back to what it was (None removes it): the undo of a save."""
    with db.write() as session:
        _check_can_label(session, record_id, annotator_id, label_class_id)
        existing = _current_label(session, record_id, annotator_id)
        if label_class_id is None:
            if existing is not None:
                session.execute(delete(Annotation).where(Annotation.id == existing.id))
        elif existing is None:
            session.add(
                Annotation(record_id=record_id, annotator_id=annotator_id, label_class_id=label_class_id)
            )
        else:
            existing.label_class_id = label_class_id
            existing.updated_at = utcnow()
