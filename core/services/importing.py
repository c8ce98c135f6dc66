"""Writing a validated ImportPlan to the database: all of it in one transaction, or none of it."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split
from sqlalchemy import Column, Connection, Table, insert, select
from sqlalchemy.orm import Session

from core.db import Database
from core.errors import InvalidInputError
from core.importing.plan import ImportPlan, PlannedRecord
from core.labels import default_label_specs
from core.models import Annotation, Annotator, Dataset, LabelClass, Record, RecordSplit, utcnow
from core.services.datasets import DatasetSummary, get_dataset_summary

ProgressCallback = Callable[[float, str], None]

IMPORT_ANNOTATOR_NAME = "Imported labels"
MAX_DATASET_NAME_CHARS = 120
MAX_TEST_SHARE = 0.5
_CHUNK_ROWS = 5_000


def display_filename(filename: str) -> str:
    """The last path component of an uploaded name, printable only. Names are shown, never used as paths."""
    return clean_dataset_name(filename.replace("\\", "/").rsplit("/", 1)[-1])


def dataset_name_from_filename(filename: str) -> str:
    base = display_filename(filename)
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    return clean_dataset_name(stem.replace("_", " ")) or "Untitled dataset"


def clean_dataset_name(name: str) -> str:
    printable = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return re.sub(r"\s+", " ", printable).strip(" .")[:MAX_DATASET_NAME_CHARS]


def choose_test_indices(plan: ImportPlan, *, test_share: float, seed: int) -> list[int]:
    """Indices into plan.records to hold out, stratified by label where every label can be split."""
    if not 0 < test_share <= MAX_TEST_SHARE:
        return []
    indices = np.arange(len(plan.records))
    # Strata numbered as the label names sort, after "no label" (0), so the split is the one that
    # stratifying on the names themselves draws.
    names = plan.label_names
    stratum_of_code = np.zeros(len(names) + 1, dtype=np.int64)
    for rank, code in enumerate(sorted(range(len(names)), key=names.__getitem__), start=1):
        stratum_of_code[code + 1] = rank
    strata = stratum_of_code[plan.label_codes + 1]
    counts = np.bincount(strata)
    stratify = strata if len(strata) and counts[counts > 0].min() >= 2 else None
    try:
        _, test = train_test_split(indices, test_size=test_share, random_state=seed, stratify=stratify)
    except ValueError:  # too few rows for a stratified split at this share
        _, test = train_test_split(indices, test_size=test_share, random_state=seed)
    return sorted(int(i) for i in test)


def import_dataset(
    db: Database,
    plan: ImportPlan,
    *,
    name: str,
    source_filename: str | None,
    import_info: dict[str, Any] | None = None,
    test_indices: Collection[int] = (),
    on_progress: ProgressCallback | None = None,
) -> DatasetSummary:
    """Create a dataset from a plan. Either every planned record lands, or nothing does."""
    clean_name = clean_dataset_name(name)
    if not clean_name:
        raise InvalidInputError("Give the dataset a name.")
    if not plan.records:
        raise InvalidInputError("There is nothing to import: every row was rejected.")
    report = on_progress or (lambda _fraction, _message: None)
    held_out = np.zeros(len(plan.records), dtype=bool)
    held_out[list(test_indices)] = True
    info = {
        **(import_info or {}),
        "mapping": asdict(plan.mapping),
        "rows_read": plan.rows_read,
        "rows_imported": plan.rows_to_import,
        "rows_rejected": plan.rows_rejected,
        "test_rows": int(held_out.sum()),
    }
    with db.write() as session:
        dataset = Dataset(
            name=_unique_dataset_name(session, clean_name),
            source_filename=display_filename(source_filename or "") or None,
            import_info=info,
        )
        session.add(dataset)
        session.flush()
        label_ids = _create_label_classes(session, dataset.id, plan.label_counts)
        annotator_id = _import_annotator_id(session) if label_ids else None
        total = len(plan.records)
        connection = session.connection()
        created_at = _bound_value(connection, _RECORDS.c.created_at, utcnow())
        # A chunk at a time, records then their labels: the plan's records are built from the file as
        # they are read, and each chunk is dropped before the next is built.
        for start in range(0, total, _CHUNK_ROWS):
            _write_chunk(
                connection,
                dataset.id,
                start,
                plan.records[start : start + _CHUNK_ROWS],
                held_out=held_out,
                annotator_id=annotator_id,
                label_ids=label_ids,
                created_at=created_at,
            )
            done = min(start + _CHUNK_ROWS, total)
            report(done / total, f"Imported {done:,} of {total:,} reviews")
        dataset_id = dataset.id
    report(1.0, "Saved. Opening it…")
    return get_dataset_summary(db, dataset_id)


_RECORDS: Table = Record.__table__  # type: ignore[assignment]  # declarative tables are Table at run time
_ANNOTATIONS: Table = Annotation.__table__  # type: ignore[assignment]
_RECORD_COLUMNS = (
    "dataset_id",
    "position",
    "text",
    "text_length",
    "external_id",
    "meta",
    "content_hash",
    "split",
    "created_at",
)
_ANNOTATION_COLUMNS = ("record_id", "annotator_id", "label_class_id", "created_at", "updated_at")


def _bound_value(connection: Connection, column: Column[Any], value: Any) -> Any:
    """A value as the column type would bind it on this dialect (e.g. SQLite's datetime string)."""
    processor = column.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    return processor(value) if processor else value


def _insert_many(
    connection: Connection, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """executemany straight through the driver with values already in bound form.

    SQLAlchemy's per-row parameter processing cost ~3 s of a 100,000-row import; values here are
    prepared once per import (timestamps) or serialized directly (JSON), so the driver's C loop does the rest.
    """
    if not rows:
        return
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
    params: list[Any]
    if compiled.positional and tuple(compiled.positiontup or ()) == tuple(columns):
        params = rows
    elif compiled.positional:
        order = [columns.index(name) for name in compiled.positiontup or ()]
        params = [tuple(row[i] for i in order) for row in rows]
    else:
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    for start in range(0, len(params), _CHUNK_ROWS):
        connection.exec_driver_sql(str(compiled), params[start : start + _CHUNK_ROWS])


def _write_chunk(
    connection: Connection,
    dataset_id: int,
    first: int,
    records: Sequence[PlannedRecord],
    *,
    held_out: np.ndarray,
    annotator_id: int | None,
    label_ids: dict[str, int],
    created_at: Any,
) -> None:
    """Records first.. first+len(records)-1, then their imported labels."""
    _insert_many(
        connection,
        _RECORDS,
        _RECORD_COLUMNS,
        [
            (
                dataset_id,
                first + offset,
                record.text,
                len(record.text),
                record.external_id,
                json.dumps(record.meta),
                record.content_hash,
                (RecordSplit.TEST if held_out[first + offset] else RecordSplit.TRAIN).value,
                created_at,
            )
            for offset, record in enumerate(records)
        ],
    )
    if annotator_id is None:
        return
    record_ids = dict(
        connection.execute(
            select(Record.position, Record.id).where(
                Record.dataset_id == dataset_id,
                Record.position >= first,
                Record.position < first + len(records),
            )
        ).all()
    )
    labeled = [
        (record_ids[first + offset], annotator_id, label_ids[record.label], created_at, created_at)
        for offset, record in enumerate(records)
        if record.label is not None
    ]
    _insert_many(connection, _ANNOTATIONS, _ANNOTATION_COLUMNS, labeled)


def _unique_dataset_name(session: Session, name: str) -> str:
    taken = set(session.scalars(select(Dataset.name).where(Dataset.name.like(f"{name[:100]}%"))))
    candidate, suffix = name, 2
    while candidate in taken:
        candidate = f"{name} ({suffix})"
        suffix += 1
    return candidate


def _create_label_classes(session: Session, dataset_id: int, label_counts: dict[str, int]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for position, spec in enumerate(default_label_specs(label_counts)):
        label = LabelClass(
            dataset_id=dataset_id,
            name=spec.name,
            color=spec.color,
            shortcut_key=spec.shortcut_key,
            position=position,
        )
        session.add(label)
        session.flush()
        ids[spec.name] = label.id
    return ids


def _import_annotator_id(session: Session) -> int:
    existing = session.scalar(select(Annotator.id).where(Annotator.name == IMPORT_ANNOTATOR_NAME))
    if existing is not None:
        return existing
    annotator = Annotator(name=IMPORT_ANNOTATOR_NAME, is_system=True)
    session.add(annotator)
    session.flush()
    return annotator.id
