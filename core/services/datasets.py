"""Dataset listing, overview, browsing and editing. Aggregates run in SQL; no call loads every row."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from core.assist.embeddings import remove_dataset_files
from core.db import Database
from core.errors import InvalidInputError, NotFoundError
from core.labels import LabelSpec, validate_label_specs
from core.models import Annotation, Dataset, LabelClass, Record, RecordSplit, RunStatus, TrainingRun
from core.services.browse import RecordsPage, search_records
from core.services.training import remove_run_folder

_HISTOGRAM_TARGET_BINS = 30
MAX_GUIDELINES_CHARS = 50_000


@dataclass(frozen=True)
class DatasetSummary:
    id: int
    name: str
    records: int
    labeled: int
    test_records: int
    label_count: int
    created_at: datetime

    @property
    def labeled_share(self) -> float:
        return self.labeled / self.records if self.records else 0.0


@dataclass(frozen=True)
class DatasetRef:
    """Just enough to name and pick a dataset; no counting, so it is cheap on every rerun."""

    id: int
    name: str


@dataclass(frozen=True)
class LabelInfo:
    id: int
    name: str
    color: str
    shortcut_key: str | None
    position: int
    annotations: int
    description: str | None = None


@dataclass(frozen=True)
class LengthBin:
    start: int
    end: int
    count: int


@dataclass(frozen=True)
class DatasetOverview:
    summary: DatasetSummary
    source_filename: str | None
    import_info: dict[str, Any]
    guidelines: str
    labels: list[LabelInfo]
    length_bins: list[LengthBin]


def _summaries(session: Session, dataset_ids: Sequence[int] | None = None) -> list[DatasetSummary]:
    record_count = select(func.count()).where(Record.dataset_id == Dataset.id).scalar_subquery()
    test_count = (
        select(func.count())
        .where(Record.dataset_id == Dataset.id, Record.split == RecordSplit.TEST)
        .scalar_subquery()
    )
    labeled = (
        select(func.count())
        .select_from(Record)
        .where(Record.dataset_id == Dataset.id, exists().where(Annotation.record_id == Record.id))
        .scalar_subquery()
    )
    label_count = select(func.count()).where(LabelClass.dataset_id == Dataset.id).scalar_subquery()
    query = select(
        Dataset.id, Dataset.name, record_count, labeled, test_count, label_count, Dataset.created_at
    )
    if dataset_ids is not None:
        query = query.where(Dataset.id.in_(dataset_ids))
    rows = session.execute(query.order_by(Dataset.created_at.desc(), Dataset.id.desc())).all()
    return [DatasetSummary(*row) for row in rows]


def _require_dataset(session: Session, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFoundError("That dataset no longer exists. It may have been deleted in another tab.")
    return dataset


def list_datasets(db: Database) -> list[DatasetSummary]:
    with db.read() as session:
        return _summaries(session)


def list_dataset_refs(db: Database) -> list[DatasetRef]:
    """Newest first, like list_datasets, without the per-dataset counts."""
    with db.read() as session:
        rows = session.execute(
            select(Dataset.id, Dataset.name).order_by(Dataset.created_at.desc(), Dataset.id.desc())
        ).all()
    return [DatasetRef(*row) for row in rows]


def get_guidelines(db: Database, dataset_id: int) -> str:
    with db.read() as session:
        return _require_dataset(session, dataset_id).guidelines or ""


def get_dataset_summary(db: Database, dataset_id: int) -> DatasetSummary:
    with db.read() as session:
        found = _summaries(session, [dataset_id])
    if not found:
        raise NotFoundError("That dataset no longer exists. It may have been deleted in another tab.")
    return found[0]


def get_dataset_overview(db: Database, dataset_id: int) -> DatasetOverview:
    with db.read() as session:
        dataset = _require_dataset(session, dataset_id)
        summary = _summaries(session, [dataset_id])[0]
        return DatasetOverview(
            summary=summary,
            source_filename=dataset.source_filename,
            import_info=dict(dataset.import_info or {}),
            guidelines=dataset.guidelines or "",
            labels=_label_infos(session, dataset_id),
            length_bins=_length_histogram(session, dataset_id),
        )


def _label_infos(session: Session, dataset_id: int) -> list[LabelInfo]:
    counts = (
        select(Annotation.label_class_id, func.count().label("n"))
        .join(LabelClass, LabelClass.id == Annotation.label_class_id)
        .where(LabelClass.dataset_id == dataset_id)
        .group_by(Annotation.label_class_id)
        .subquery()
    )
    rows = session.execute(
        select(
            LabelClass.id,
            LabelClass.name,
            LabelClass.color,
            LabelClass.shortcut_key,
            LabelClass.position,
            func.coalesce(counts.c.n, 0),
            LabelClass.description,
        )
        .outerjoin(counts, counts.c.label_class_id == LabelClass.id)
        .where(LabelClass.dataset_id == dataset_id)
        .order_by(LabelClass.position)
    ).all()
    return [LabelInfo(*row) for row in rows]


def _nice_bin_width(span: int, target_bins: int) -> int:
    raw = max(1.0, span / target_bins)
    magnitude = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if step * magnitude >= raw:
            return int(step * magnitude)
    return int(10 * magnitude)


def _length_histogram(session: Session, dataset_id: int) -> list[LengthBin]:
    low, high = session.execute(
        select(func.min(Record.text_length), func.max(Record.text_length)).where(
            Record.dataset_id == dataset_id
        )
    ).one()
    if low is None:
        return []
    width = _nice_bin_width(high - low + 1, _HISTOGRAM_TARGET_BINS)
    bucket = (Record.text_length // width).label("bucket")
    rows = session.execute(
        select(bucket, func.count()).where(Record.dataset_id == dataset_id).group_by(bucket).order_by(bucket)
    ).all()
    return [LengthBin(int(b) * width, int(b) * width + width, n) for b, n in rows]


def list_records(db: Database, dataset_id: int, *, offset: int = 0, limit: int = 50) -> RecordsPage:
    """One page of a dataset in import order, with each record's labels (all annotators)."""
    return search_records(db, dataset_id, offset=offset, limit=limit)


def rename_dataset(db: Database, dataset_id: int, new_name: str) -> DatasetSummary:
    from core.services.importing import clean_dataset_name

    name = clean_dataset_name(new_name)
    if not name:
        raise InvalidInputError("A dataset name cannot be empty.")
    with db.write() as session:
        dataset = _require_dataset(session, dataset_id)
        clash = session.scalar(select(Dataset.id).where(Dataset.name == name, Dataset.id != dataset_id))
        if clash is not None:
            raise InvalidInputError(f"Another dataset is already called “{name}”.")
        dataset.name = name
    return get_dataset_summary(db, dataset_id)


def delete_dataset(
    db: Database, dataset_id: int, *, data_dir: Path | None = None, runs_dir: Path | None = None
) -> None:
    """Delete a dataset with its records, labels, annotations and runs (ON DELETE CASCADE), and, given
    the folders, the embeddings and fast model kept for it and its runs' model folders. Refused while
    one of its runs trains: the trainer would go on writing to a run that no longer exists."""
    with db.write() as session:
        _require_dataset(session, dataset_id)
        # Locked (on PostgreSQL) so that no trainer claims a queued run between this look and the delete.
        runs = session.execute(
            select(TrainingRun.id, TrainingRun.status)
            .where(TrainingRun.dataset_id == dataset_id)
            .with_for_update()
        ).all()
        if any(status == RunStatus.RUNNING for _, status in runs):
            raise InvalidInputError(
                "A model is training on this dataset. Cancel it on the Train page, then delete the dataset."
            )
        session.execute(delete(Dataset).where(Dataset.id == dataset_id))
    if data_dir is not None:
        remove_dataset_files(data_dir, dataset_id)
    if runs_dir is not None:
        for run_id, _ in runs:
            remove_run_folder(runs_dir, run_id)


def update_guidelines(db: Database, dataset_id: int, guidelines: str) -> None:
    if len(guidelines) > MAX_GUIDELINES_CHARS:
        raise InvalidInputError(f"Guidelines are limited to {MAX_GUIDELINES_CHARS:,} characters.")
    with db.write() as session:
        _require_dataset(session, dataset_id).guidelines = guidelines


def update_label_set(
    db: Database, dataset_id: int, specs: Sequence[LabelSpec], *, allow_deleting_used: bool = False
) -> list[LabelInfo]:
    """Replace a dataset's label set with `specs` (in order). Deleting a label in use needs consent."""
    cleaned = validate_label_specs(specs)
    with db.write() as session:
        _require_dataset(session, dataset_id)
        current = {info.id: info for info in _label_infos(session, dataset_id)}
        unknown = [spec.id for spec in cleaned if spec.id is not None and spec.id not in current]
        if unknown:
            raise NotFoundError("The label set changed in another tab. Reload the page and try again.")
        kept = {spec.id for spec in cleaned if spec.id is not None}
        removed = [info for label_id, info in current.items() if label_id not in kept]
        used = [info for info in removed if info.annotations]
        if used and not allow_deleting_used:
            listing = ", ".join(f"“{info.name}” ({info.annotations:,} labels)" for info in used)
            raise InvalidInputError(f"Deleting {listing} also deletes those labels. Confirm to go ahead.")
        if removed:
            session.execute(delete(LabelClass).where(LabelClass.id.in_([info.id for info in removed])))
        # Clear names and keys first so a swap (1↔2) never trips the unique constraints mid-update.
        if kept:
            session.execute(
                update(LabelClass)
                .where(LabelClass.id.in_(kept))
                .values(
                    name="__renaming_" + func.cast(LabelClass.id, type_=LabelClass.name.type),
                    shortcut_key=None,
                )
            )
        for position, spec in enumerate(cleaned):
            values = {
                "name": spec.name,
                "color": spec.color,
                "shortcut_key": spec.shortcut_key,
                "position": position,
                "description": spec.description,
            }
            if spec.id is None:
                session.add(LabelClass(dataset_id=dataset_id, **values))
            else:
                session.execute(update(LabelClass).where(LabelClass.id == spec.id).values(**values))
        session.flush()
        return _label_infos(session, dataset_id)


def record_id_at(db: Database, dataset_id: int, position: int) -> int | None:
    """The record shown as “Review #position+1” in the app."""
    with db.read() as session:
        found = session.scalar(
            select(Record.id).where(Record.dataset_id == dataset_id, Record.position == position)
        )
    return int(found) if found is not None else None
