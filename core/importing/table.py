"""What a parser hands over: a rectangular table of raw cells plus the rows it could not parse."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

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


@dataclass(frozen=True)
class ParsedTable:
    format: FileFormat
    columns: tuple[str, ...]
    rows: list[RawRow]
    problems: list[RowProblem] = field(default_factory=list)
    location_label: str = "line"
    encoding: str | None = None
    delimiter: str | None = None
    warnings: list[str] = field(default_factory=list)
    sheet_names: list[str] = field(default_factory=list)
    sheet: str | None = None

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.problems)

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
        records = [row.values for row in self.rows[:n_rows]]
        frame = pd.DataFrame.from_records(records, columns=list(self.columns)) if records else None
        if frame is None:
            frame = pd.DataFrame(columns=list(self.columns))
        frame.insert(0, self.location_label, [row.location for row in self.rows[:n_rows]])
        # Mixed cells (numbers beside text) would make Arrow guess a column type and fail; show as text.
        return frame.astype({col: "string" for col in self.columns})
