"""Column mapping and the validation report a user reviews before anything is written."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import html
import math
import re
from array import array
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import ColumnMappingError
from core.importing.limits import DEFAULT_LIMITS, ImportLimits
from core.importing.table import (
    LISTED_PROBLEMS,
    READ_RUN,
    Cell,
    LazySequence,
    ParsedTable,
    ProblemLog,
    RawRow,
    RowProblem,
    excerpt,
)
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


@dataclass(frozen=True, slots=True)
class PlannedRecord:
    location: int
    text: str
    label: str | None
    external_id: str | None
    meta: dict[str, Any]

    @property
    def content_hash(self) -> str:
        # Computed when written, not while validating: most plans are looked at more than imported.
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def fingerprint(self) -> tuple[Any, ...]:
        """What makes two rows exact duplicates of each other."""
        return (self.text, self.label, self.external_id, *self.meta.values())


@dataclass(frozen=True)
class ImportPlan:
    """The validation report: exactly what an import would write, and what it would leave out and why."""

    mapping: ColumnMapping
    location_label: str
    rows_read: int
    # Built from the file again whenever read (PlannedRecords): a million records are not held at once.
    records: Sequence[PlannedRecord]
    # The rejected rows the report lists, by line; rejected_unlisted more were counted, not kept.
    rejected: list[RowProblem]
    warnings: list[str] = field(default_factory=list)
    label_counts: dict[str, int] = field(default_factory=dict)
    metadata_columns: tuple[str, ...] = ()
    # Per record, its label's index in label_names, or -1 for none: the test split is drawn from these.
    label_codes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    label_names: tuple[str, ...] = ()
    rejected_unlisted: int = 0

    @property
    def rows_to_import(self) -> int:
        return len(self.records)

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected) + self.rejected_unlisted


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
    chosen = {mapping.text, mapping.label, mapping.external_id}
    meta_columns = tuple(c for c in table.columns if c not in chosen)
    planner = _RowPlanner(
        text_index=index[mapping.text],
        label_index=index[mapping.label] if mapping.label else None,
        id_index=index[mapping.external_id] if mapping.external_id else None,
        meta_indices=tuple((c, index[c]) for c in meta_columns),
        decode_html_entities=decode_html_entities,
        limits=limits,
    )
    found = ProblemLog()
    # One pass keeps a few integers per accepted row (row index, hashes, label code); duplicates are
    # found from the hashes afterwards and confirmed on the rows themselves.
    kept_rows, fingerprints, text_hashes, codes = array("i"), array("q"), array("q"), array("i")
    label_code: dict[str, int] = {}
    numeric_text = empty_text = 0
    for row_index, row in enumerate(table.rows):
        if _is_number(row.values[planner.text_index]):
            numeric_text += 1
        planned = planner.plan(row)
        if isinstance(planned, RowProblem):
            empty_text += planned.reason == _EMPTY_TEXT
            found.add(planned)
            continue
        kept_rows.append(row_index)
        fingerprints.append(_hash64(planned.fingerprint))
        text_hashes.append(_hash64(planned.text))
        codes.append(-1 if planned.label is None else label_code.setdefault(planned.label, len(label_code)))

    if table.rows and empty_text == len(table.rows):
        raise ColumnMappingError(
            f"The column “{mapping.text}” is empty in every row, so there is no review text to import. "
            "Pick the column that holds the reviews."
        )
    if len(label_code) > limits.max_labels:
        raise ColumnMappingError(
            f"The column “{mapping.label}” has {len(label_code):,} different values, so it looks like free text, "
            f"not labels (the limit is {limits.max_labels}). Pick another label column, or none."
        )
    candidates = PlannedRecords(table.rows, np.frombuffer(kept_rows, dtype=np.int32), planner)
    duplicate = _exact_duplicates(
        candidates, np.frombuffer(fingerprints, dtype=np.int64), table.location_label, found
    )
    records = PlannedRecords(table.rows, candidates.row_indices[~duplicate], planner)
    label_codes = np.frombuffer(codes, dtype=np.int32)[~duplicate]
    shared_text = _repeated_texts(records, np.frombuffer(text_hashes, dtype=np.int64)[~duplicate])
    label_names = tuple(label_code)
    counts = np.bincount(label_codes[label_codes >= 0], minlength=len(label_names))
    # Most common first; ties in the order the labels first appear, as Counter.most_common orders them.
    label_counts = {
        label_names[code]: int(counts[code])
        for code in sorted(range(len(label_names)), key=lambda code: -counts[code])
        if counts[code]
    }
    merged = sorted([*table.problems, *found.listed], key=lambda problem: problem.location)
    rejected = merged[:LISTED_PROBLEMS]
    rejected_unlisted = table.problems_unlisted + found.unlisted + len(merged) - len(rejected)
    warnings = list(table.warnings)
    if numeric_text:
        warnings.append(f"{numeric_text:,} rows have a number in the text column; it was imported as text.")
    if shared_text:
        warnings.append(
            f"{shared_text:,} rows repeat the text of an earlier row with different other columns; "
            "they were kept. Duplicates can inflate test scores."
        )
    if len(records) and mapping.label and not label_counts:
        warnings.append(
            f"The label column “{mapping.label}” is empty in every row; no labels will be imported."
        )
    return ImportPlan(
        mapping=mapping,
        location_label=table.location_label,
        rows_read=table.rows_read,
        records=records,
        rejected=rejected,
        rejected_unlisted=rejected_unlisted,
        warnings=warnings,
        label_counts=label_counts,
        metadata_columns=meta_columns,
        label_codes=label_codes,
        label_names=label_names,
    )


_EMPTY_TEXT = "empty text"


@dataclass(frozen=True)
class _RowPlanner:
    """Turns one parsed row into what would be written, or says why it would be left out."""

    text_index: int
    label_index: int | None
    id_index: int | None
    meta_indices: tuple[tuple[str, int], ...]
    decode_html_entities: bool
    limits: ImportLimits

    def plan(self, row: RawRow) -> PlannedRecord | RowProblem:
        text = _cell_to_text(row.values[self.text_index])
        if self.decode_html_entities:
            text = html.unescape(text)
        text = text.strip()
        if not text:
            return RowProblem(row.location, _EMPTY_TEXT)
        limit = self.limits.max_text_chars
        if len(text) > limit:
            return RowProblem(
                row.location,
                f"text over the length limit ({len(text):,} characters; the limit is {limit:,})",
                excerpt(text),
            )
        label = _optional_text(row.values, self.label_index)
        external_id = _optional_text(row.values, self.id_index)
        if label is not None and len(label) > MAX_LABEL_NAME_CHARS:
            return RowProblem(row.location, f"label over {MAX_LABEL_NAME_CHARS} characters", excerpt(label))
        if external_id is not None and len(external_id) > MAX_EXTERNAL_ID_CHARS:
            return RowProblem(row.location, f"id over {MAX_EXTERNAL_ID_CHARS} characters", excerpt(text))
        meta = {name: _json_safe(row.values[i]) for name, i in self.meta_indices}
        return PlannedRecord(row.location, text, label, external_id, meta)


class PlannedRecords(LazySequence[PlannedRecord]):
    """The records an import would write, planned again from their rows whenever one is read."""

    def __init__(self, rows: Sequence[RawRow], row_indices: np.ndarray, planner: _RowPlanner) -> None:
        self._rows, self.row_indices, self._planner = rows, row_indices, planner

    def __len__(self) -> int:
        return len(self.row_indices)

    def _item(self, index: int) -> PlannedRecord:
        return self._accepted(self._rows[int(self.row_indices[index])])

    def _slice(self, start: int, stop: int) -> list[PlannedRecord]:
        return self._at_rows(self.row_indices[start:stop])

    def picked(self, positions: np.ndarray) -> Iterator[tuple[int, PlannedRecord]]:
        """(position, record) for ascending positions, read a run at a time."""
        for start in range(0, len(positions), READ_RUN):
            run = positions[start : start + READ_RUN]
            yield from zip(run.tolist(), self._at_rows(self.row_indices[run]), strict=True)

    def _at_rows(self, wanted: np.ndarray) -> list[PlannedRecord]:
        # One run of rows from the first to the last wanted, rejected ones between them included:
        # reading rows in a run is much faster than one at a time, unless most of the run is unwanted.
        if not len(wanted) or int(wanted[-1]) - int(wanted[0]) >= 2 * len(wanted):
            return [self._accepted(self._rows[row]) for row in wanted.tolist()]
        first = int(wanted[0])
        rows = self._rows[first : int(wanted[-1]) + 1]
        return [self._accepted(rows[offset]) for offset in (wanted - first).tolist()]

    def _accepted(self, row: RawRow) -> PlannedRecord:
        planned = self._planner.plan(row)
        assert isinstance(planned, PlannedRecord), "a row accepted once is accepted again"
        return planned


def _hash64(value: Hashable) -> int:
    """Python's own hash: 64 bits, the same for equal values within this process, which is as long
    as a plan's arrays live. Equal hashes are confirmed on the values themselves."""
    return hash(value)


def _sharing_a_hash(hashes: np.ndarray) -> np.ndarray:
    """Positions, in file order, whose hash another position shares (a sort costs less memory than
    np.unique). Only these can be repeats, and they are then compared in full, so a hash collision
    never drops a row or miscounts one."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    shared = np.zeros(len(order), dtype=bool)
    same_as_next = ordered[1:] == ordered[:-1]
    shared[1:] |= same_as_next
    shared[:-1] |= same_as_next
    return np.sort(order[shared])


def _exact_duplicates(
    candidates: PlannedRecords, fingerprints: np.ndarray, location_label: str, rejected: ProblemLog
) -> np.ndarray:
    """Which candidates repeat an earlier one exactly, each reported against the first."""
    duplicate = np.zeros(len(candidates), dtype=bool)
    first_seen: dict[tuple[Any, ...], int] = {}
    for position, planned in candidates.picked(_sharing_a_hash(fingerprints)):
        key = planned.fingerprint
        if key in first_seen:
            duplicate[position] = True
            where = f"{location_label} {first_seen[key]}"
            rejected.add(RowProblem(planned.location, f"exact duplicate of {where}", excerpt(planned.text)))
        else:
            first_seen[key] = planned.location
    return duplicate


def _repeated_texts(records: PlannedRecords, text_hashes: np.ndarray) -> int:
    """How many records repeat the text of an earlier record."""
    seen: set[str] = set()
    repeats = 0
    for _, record in records.picked(_sharing_a_hash(text_hashes)):
        text = record.text
        repeats += text in seen
        seen.add(text)
    return repeats


def _replanned(
    table: ParsedTable, planner: _RowPlanner, row_indices: np.ndarray, position: int
) -> PlannedRecord:
    planned = planner.plan(table.rows[int(row_indices[position])])
    assert isinstance(planned, PlannedRecord), _ACCEPTED_AGAIN
    return planned


_ACCEPTED_AGAIN = "a row accepted once is accepted again"


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
