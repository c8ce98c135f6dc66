"""Column mapping and the validation report a user reviews before anything is written."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import html
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from core.errors import ColumnMappingError
from core.importing.limits import DEFAULT_LIMITS, ImportLimits
from core.importing.table import Cell, ParsedTable, RowProblem, excerpt
from core.labels import MAX_LABEL_NAME_CHARS

MAX_EXTERNAL_ID_CHARS = 255
_ENTITY_PATTERN = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]{2,8});")

_TEXT_COLUMN_HINTS = ("review", "text", "comment", "content", "body", "message", "feedback", "description")
_LABEL_COLUMN_HINTS = ("label", "rating", "sentiment", "class", "category", "target", "tag")
_ID_COLUMN_HINTS = ("id", "review_id", "uid", "uuid", "key")


@dataclass(frozen=True)
class ColumnMapping:
    text: str
    label: str | None = None
    external_id: str | None = None


# slots: a million-row import holds one of these per row.
@dataclass(frozen=True, slots=True)
class PlannedRecord:
    location: int
    text: str
    label: str | None
    external_id: str | None
    meta: dict[str, Any]
    content_hash: str


@dataclass(frozen=True)
class ImportPlan:
    """The validation report: exactly what an import would write, and what it would leave out and why."""

    mapping: ColumnMapping
    location_label: str
    rows_read: int
    records: list[PlannedRecord]
    rejected: list[RowProblem]
    warnings: list[str] = field(default_factory=list)
    label_counts: dict[str, int] = field(default_factory=dict)
    metadata_columns: tuple[str, ...] = ()

    @property
    def rows_to_import(self) -> int:
        return len(self.records)


def guess_mapping(table: ParsedTable) -> ColumnMapping:
    """A starting point for the mapping widgets: names first, then the longest text on average."""
    columns = list(table.columns)
    sample = table.rows[:200]

    def mean_length(index: int) -> float:
        values = [row.values[index] for row in sample if isinstance(row.values[index], str)]
        return sum(map(len, values)) / len(values) if values else 0.0

    def distinct(index: int) -> int:
        return len({row.values[index] for row in sample if row.values[index] not in (None, "")})

    def by_hint(hints: tuple[str, ...], exclude: set[str]) -> str | None:
        for hint in hints:
            for column in columns:
                if column not in exclude and column.strip().lower() == hint:
                    return column
        return None

    text = by_hint(_TEXT_COLUMN_HINTS, set()) or max(
        columns, key=lambda c: mean_length(columns.index(c)), default=columns[0]
    )
    label = by_hint(_LABEL_COLUMN_HINTS, {text})
    if label is not None and distinct(columns.index(label)) > DEFAULT_LIMITS.max_labels:
        label = None
    external_id = by_hint(_ID_COLUMN_HINTS, {text, label or ""})
    return ColumnMapping(text=text, label=label, external_id=external_id)


def has_html_entities(table: ParsedTable, column: str, *, sample_rows: int = 200) -> bool:
    index = table.columns.index(column)
    return any(
        isinstance(row.values[index], str) and _ENTITY_PATTERN.search(row.values[index])
        for row in table.rows[:sample_rows]
    )


def build_import_plan(
    table: ParsedTable,
    mapping: ColumnMapping,
    *,
    decode_html_entities: bool = False,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ImportPlan:
    _check_mapping(table, mapping)
    index = {name: i for i, name in enumerate(table.columns)}
    text_i = index[mapping.text]
    label_i = index[mapping.label] if mapping.label else None
    id_i = index[mapping.external_id] if mapping.external_id else None
    chosen = {mapping.text, mapping.label, mapping.external_id}
    meta_columns = tuple(c for c in table.columns if c not in chosen)
    meta_indices = [(c, index[c]) for c in meta_columns]

    records: list[PlannedRecord] = []
    rejected: list[RowProblem] = list(table.problems)
    first_seen: dict[tuple[Any, ...], int] = {}
    text_seen: set[str] = set()
    shared_text = numeric_text = empty_text = 0

    for row in table.rows:
        cell = row.values[text_i]
        if _is_number(cell):
            numeric_text += 1
        text = _cell_to_text(cell)
        if decode_html_entities:
            text = html.unescape(text)
        text = text.strip()
        if not text:
            empty_text += 1
            rejected.append(RowProblem(row.location, "empty text"))
            continue
        if len(text) > limits.max_text_chars:
            rejected.append(
                RowProblem(
                    row.location,
                    f"text over the length limit ({len(text):,} characters; the limit is {limits.max_text_chars:,})",
                    excerpt(text),
                )
            )
            continue
        label = _optional_text(row.values, label_i)
        external_id = _optional_text(row.values, id_i)
        if label is not None and len(label) > MAX_LABEL_NAME_CHARS:
            rejected.append(
                RowProblem(row.location, f"label over {MAX_LABEL_NAME_CHARS} characters", excerpt(label))
            )
            continue
        if external_id is not None and len(external_id) > MAX_EXTERNAL_ID_CHARS:
            rejected.append(
                RowProblem(row.location, f"id over {MAX_EXTERNAL_ID_CHARS} characters", excerpt(text))
            )
            continue
        meta = {name: _json_safe(row.values[i]) for name, i in meta_indices}
        fingerprint = (text, label, external_id, *meta.values())
        if fingerprint in first_seen:
            where = f"{table.location_label} {first_seen[fingerprint]}"
            rejected.append(RowProblem(row.location, f"exact duplicate of {where}", excerpt(text)))
            continue
        first_seen[fingerprint] = row.location
        content_hash = hashlib.sha256(text.encode()).hexdigest()
        if content_hash in text_seen:
            shared_text += 1
        text_seen.add(content_hash)
        records.append(PlannedRecord(row.location, text, label, external_id, meta, content_hash))

    if table.rows and empty_text == len(table.rows):
        raise ColumnMappingError(
            f"The column “{mapping.text}” is empty in every row, so there is no review text to import. "
            "Pick the column that holds the reviews."
        )
    label_counts = dict(Counter(r.label for r in records if r.label is not None).most_common())
    if len(label_counts) > limits.max_labels:
        raise ColumnMappingError(
            f"The column “{mapping.label}” has {len(label_counts):,} different values, so it looks like free text, "
            f"not labels (the limit is {limits.max_labels}). Pick another label column, or none."
        )
    rejected.sort(key=lambda problem: problem.location)
    warnings = list(table.warnings)
    if numeric_text:
        warnings.append(f"{numeric_text:,} rows have a number in the text column; it was imported as text.")
    if shared_text:
        warnings.append(
            f"{shared_text:,} rows repeat the text of an earlier row with different other columns; "
            "they were kept. Duplicates can inflate test scores."
        )
    if records and mapping.label and not label_counts:
        warnings.append(
            f"The label column “{mapping.label}” is empty in every row; no labels will be imported."
        )
    return ImportPlan(
        mapping=mapping,
        location_label=table.location_label,
        rows_read=table.rows_read,
        records=records,
        rejected=rejected,
        warnings=warnings,
        label_counts=label_counts,
        metadata_columns=meta_columns,
    )


def _check_mapping(table: ParsedTable, mapping: ColumnMapping) -> None:
    for role, column in (("text", mapping.text), ("label", mapping.label), ("id", mapping.external_id)):
        if column is not None and column not in table.columns:
            raise ColumnMappingError(f"The {role} column “{column}” is not in this file.")
    picked = [c for c in (mapping.text, mapping.label, mapping.external_id) if c is not None]
    if len(picked) != len(set(picked)):
        raise ColumnMappingError(
            "Each column can play only one role: pick different text, label and id columns."
        )


def _is_number(cell: Cell) -> bool:
    return isinstance(cell, int | float | decimal.Decimal) and not isinstance(cell, bool)


def _cell_to_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        if math.isnan(cell) or math.isinf(cell):
            return ""
        return str(int(cell)) if cell.is_integer() else repr(cell)
    return str(cell)


def _optional_text(values: tuple[Cell, ...], index: int | None) -> str | None:
    if index is None:
        return None
    return _cell_to_text(values[index]).strip() or None


def _json_safe(cell: Cell) -> Any:
    if cell is None or isinstance(cell, bool | int | str):
        return cell
    if isinstance(cell, float):
        return None if math.isnan(cell) or math.isinf(cell) else cell
    if isinstance(cell, decimal.Decimal):
        return float(cell)
    if isinstance(cell, dt.datetime | dt.date | dt.time):
        return cell.isoformat()
    if isinstance(cell, bytes):
        return cell.hex()
    return str(cell)
