"""What a parser hands over: a rectangular table of raw cells plus the rows it could not parse."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, TypeVar, overload

import pandas as pd

T = TypeVar("T")

Cell = Any  # str, int, float, bool, None, or another scalar a spreadsheet or parquet file produced


class FileFormat(enum.StrEnum):
    CSV = "csv"
    TSV = "tsv"
    TXT = "txt"
    JSON = "json"
    JSONL = "jsonl"
    EXCEL = "xlsx"
    PARQUET = "parquet"


FORMAT_BY_EXTENSION: dict[str, FileFormat] = {
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.TSV,
    ".tab": FileFormat.TSV,
    ".txt": FileFormat.TXT,
    ".json": FileFormat.JSON,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
    ".xlsx": FileFormat.EXCEL,
    ".parquet": FileFormat.PARQUET,
    ".pq": FileFormat.PARQUET,
}
SUPPORTED_EXTENSIONS = tuple(ext.lstrip(".") for ext in FORMAT_BY_EXTENSION)

FORMAT_LABELS: dict[FileFormat, str] = {
    FileFormat.CSV: "CSV",
    FileFormat.TSV: "TSV",
    FileFormat.TXT: "Plain text (one review per line)",
    FileFormat.JSON: "JSON",
    FileFormat.JSONL: "JSON Lines",
    FileFormat.EXCEL: "Excel workbook",
    FileFormat.PARQUET: "Parquet",
}

DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


EXCERPT_CHARS = 120


def excerpt(text: str) -> str:
    """One line, short enough for a table cell in the validation report."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def extension_of(filename: str) -> str:
    # Only the final path component counts: "../../x.csv" and "C:\\x.csv" are both just names here.
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return PurePosixPath(base).suffix.lower()


# slots: a million-row import holds one of these per row.
@dataclass(frozen=True, slots=True)
class RawRow:
    location: int  # 1-based line, sheet row or record number, as the user would find it in the file
    values: tuple[Cell, ...]


# slots: a million-row import holds one of these per row.
@dataclass(frozen=True, slots=True)
class RowProblem:
    location: int
    reason: str
    excerpt: str = ""


# The validation report lists this many rejected rows in full and counts the rest: a file of a
# million broken rows must not cost a million reasons and excerpts in memory.
LISTED_PROBLEMS = 10_000


@dataclass
class ProblemLog:
    """Rejected rows as the validation report shows them: the first LISTED_PROBLEMS, then a count."""

    listed: list[RowProblem] = field(default_factory=list)
    unlisted: int = 0

    def add(self, problem: RowProblem) -> None:
        if len(self.listed) < LISTED_PROBLEMS:
            self.listed.append(problem)
        else:
            self.unlisted += 1


class LazySequence(Sequence[T]):
    """Items built from the file's bytes each time one is read, so a large file is not held as one
    Python object per line, row and cell. Subclasses say how many items there are and build one;
    they may build a run of them faster (_slice), which slicing and iteration use."""

    def _item(self, index: int) -> T:
        raise NotImplementedError

    def _slice(self, start: int, stop: int) -> list[T]:
        return [self._item(i) for i in range(start, stop)]

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        size = len(self)
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if step == 1:
                return self._slice(start, max(start, stop))
            return [self._item(i) for i in range(start, stop, step)]
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        return self._item(index)

    def __iter__(self) -> Iterator[T]:
        size = len(self)
        for start in range(0, size, READ_RUN):
            yield from self._slice(start, min(size, start + READ_RUN))


# Items read together when iterating: a run is built much faster than its items one at a time.
READ_RUN = 4096


@dataclass(frozen=True)
class ParsedTable:
    format: FileFormat
    columns: tuple[str, ...]
    rows: Sequence[RawRow]
    problems: list[RowProblem] = field(default_factory=list)
    location_label: str = "line"
    encoding: str | None = None
    delimiter: str | None = None
    warnings: list[str] = field(default_factory=list)
    sheet_names: list[str] = field(default_factory=list)
    sheet: str | None = None
    # Rows rejected beyond those listed in problems (ProblemLog).
    problems_unlisted: int = 0

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.problems) + self.problems_unlisted

    def describe(self) -> str:
        parts = [FORMAT_LABELS[self.format]]
        if self.sheet:
            parts.append(f"sheet “{self.sheet}”")
        if self.encoding:
            parts.append(self.encoding)
        if self.delimiter:
            parts.append(f"{DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-separated")
        return " · ".join(parts)

    def preview(self, n_rows: int = 20) -> pd.DataFrame:
        head = self.rows[:n_rows]
        records = [row.values for row in head]
        frame = pd.DataFrame.from_records(records, columns=list(self.columns)) if records else None
        if frame is None:
            frame = pd.DataFrame(columns=list(self.columns))
        frame.insert(0, self.location_label, [row.location for row in head])
        # Mixed cells (numbers beside text) would make Arrow guess a column type and fail; show as text.
        return frame.astype({col: "string" for col in self.columns})
