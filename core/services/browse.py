"""The table view of a dataset: filtered, paged in SQL, and bulk labeling of a selection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, exists, func, select

from core.db import Database
from core.errors import InvalidInputError, NotFoundError
from core.models import Annotation, Annotator, Dataset, LabelClass, Record, utcnow

MAX_PAGE_SIZE = 500
MAX_BULK_RECORDS = 10_000
# A filter value meaning "records nobody has labeled" (label ids are positive).
UNLABELED = -1


@dataclass(frozen=True)
class RecordFilter:
    text_contains: str = ""
    label_class_id: int | None = None  # a label id, or UNLABELED
    annotator_id: int | None = None
    labeled_from: date | None = None
    labeled_to: date | None = None
    # Whose calendar the dates are on: a labeler in Auckland means their Tuesday, not UTC's.
    day_zone: tzinfo = UTC

    @property
    def touches_annotations(self) -> bool:
        return any(
            value is not None for value in (self.annotator_id, self.labeled_from, self.labeled_to)
        ) or (self.label_class_id is not None and self.label_class_id != UNLABELED)


@dataclass(frozen=True)
class RecordRow:
    id: int
    position: int
    text: str
    external_id: str | None
    split: str
    labels: str
    annotators: int


@dataclass(frozen=True)
class RecordsPage:
    rows: list[RecordRow]
    total: int
    offset: int
    limit: int


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(dataset_id: int, record_filter: RecordFilter) -> list[Any]:
    conditions: list[Any] = [Record.dataset_id == dataset_id]
    needle = record_filter.text_contains.strip()
    if needle:
        conditions.append(Record.text.ilike(_like_pattern(needle), escape="\\"))
    if record_filter.label_class_id == UNLABELED:
        conditions.append(~exists().where(Annotation.record_id == Record.id))
    if record_filter.touches_annotations:
        # One annotation must satisfy every annotation filter at once (this label, by this person, then).
        # An uncorrelated IN runs once; a correlated EXISTS let SQLite walk the label index per record.
        matching: list[Any] = []
        if record_filter.label_class_id not in (None, UNLABELED):
            matching.append(Annotation.label_class_id == record_filter.label_class_id)
        if record_filter.annotator_id is not None:
            matching.append(Annotation.annotator_id == record_filter.annotator_id)
        if record_filter.labeled_from is not None:
            start = datetime.combine(record_filter.labeled_from, time.min, tzinfo=record_filter.day_zone)
            matching.append(Annotation.updated_at >= start)
        if record_filter.labeled_to is not None:
            end = datetime.combine(
                record_filter.labeled_to + timedelta(days=1), time.min, tzinfo=record_filter.day_zone
            )
            matching.append(Annotation.updated_at < end)
        conditions.append(Record.id.in_(select(Annotation.record_id).where(and_(*matching))))
    return conditions


def search_records(
    db: Database,
    dataset_id: int,
    record_filter: RecordFilter | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
) -> RecordsPage:
    """One page of matching records in import order, each with its labels from every annotator."""
    record_filter = record_filter or RecordFilter()
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    offset = max(0, offset)
    conditions = _conditions(dataset_id, record_filter)
    with db.read() as session:
        if session.get(Dataset, dataset_id) is None:
            raise NotFoundError("That dataset no longer exists. It may have been deleted in another tab.")
        total = session.scalar(select(func.count()).select_from(Record).where(*conditions)) or 0
        page = session.execute(
            select(Record.id, Record.position, Record.text, Record.external_id, Record.split)
            .where(*conditions)
            .order_by(Record.position)
            .offset(offset)
            .limit(limit)
        ).all()
        # Labels gathered in a second query and joined here: GROUP_CONCAT is SQLite's alone, and
        # PostgreSQL will not group a page's columns by its id without a primary key it can see.
        given = session.execute(
            select(Annotation.record_id, Annotation.annotator_id, LabelClass.name)
            .join(LabelClass, LabelClass.id == Annotation.label_class_id)
            .where(Annotation.record_id.in_([row.id for row in page]))
        ).all()
    names: dict[int, set[str]] = defaultdict(set)
    annotators: dict[int, set[int]] = defaultdict(set)
    for record_id, annotator_id, name in given:
        names[record_id].add(name)
        annotators[record_id].add(annotator_id)
    rows = [
        RecordRow(
            row.id,
            row.position,
            row.text,
            row.external_id,
            str(row.split),
            ", ".join(sorted(names[row.id])),
            len(annotators[row.id]),
        )
        for row in page
    ]
    return RecordsPage(
        rows=rows,
        total=total,
        offset=offset,
        limit=limit,
    )


def bulk_label(db: Database, *, record_ids: Sequence[int], annotator_id: int, label_class_id: int) -> int:
    """Give one label to many records in one transaction; returns how many labels changed."""
    ids = list(dict.fromkeys(record_ids))
    if not ids:
        raise InvalidInputError("Select at least one review first.")
    if len(ids) > MAX_BULK_RECORDS:
        raise InvalidInputError(f"Bulk labeling is limited to {MAX_BULK_RECORDS:,} reviews at a time.")
    with db.write() as session:
        annotator = session.get(Annotator, annotator_id)
        if annotator is None or annotator.is_system:
            raise InvalidInputError("Pick who is labeling in the sidebar first.")
        label = session.get(LabelClass, label_class_id)
        if label is None:
            raise NotFoundError("That label no longer exists. Reload the page.")
        found = session.scalar(
            select(func.count()).where(Record.id.in_(ids), Record.dataset_id == label.dataset_id)
        )
        if found != len(ids):
            raise InvalidInputError(
                "Some selected reviews are not in this dataset any more. Reload the page."
            )
        existing = dict(
            session.execute(
                select(Annotation.record_id, Annotation).where(
                    Annotation.record_id.in_(ids), Annotation.annotator_id == annotator_id
                )
            ).all()
        )
        now = utcnow()
        changed = 0
        for record_id in ids:
            annotation = existing.get(record_id)
            if annotation is None:
                session.add(
                    Annotation(record_id=record_id, annotator_id=annotator_id, label_class_id=label_class_id)
                )
                changed += 1
            elif annotation.label_class_id != label_class_id:
                annotation.label_class_id = label_class_id
                annotation.updated_at = now
                changed += 1
        return changed
