"""Entry point for reading an uploaded file into a ParsedTable, whatever its format."""

from __future__ import annotations

from core.errors import ImportFileError
from core.importing.delimited import parse_delimited
from core.importing.limits import DEFAULT_LIMITS, ImportLimits
from core.importing.lines import read_lines
from core.importing.structured import parse_excel, parse_json, parse_jsonl, parse_parquet
from core.importing.table import (
    FORMAT_BY_EXTENSION,
    SUPPORTED_EXTENSIONS,
    FileFormat,
    ParsedTable,
    extension_of,
)

_TEXT_FORMATS = {FileFormat.CSV, FileFormat.TSV, FileFormat.TXT, FileFormat.JSON, FileFormat.JSONL}


def detect_format(filename: str) -> FileFormat:
    extension = extension_of(filename)
    if extension not in FORMAT_BY_EXTENSION:
        supported = ", ".join(f".{ext}" for ext in SUPPORTED_EXTENSIONS)
        shown = extension or "no extension"
        raise ImportFileError(f"Files of type “{shown}” cannot be imported. Supported types: {supported}.")
    return FORMAT_BY_EXTENSION[extension]


def read_table(
    raw: bytes,
    filename: str,
    *,
    limits: ImportLimits = DEFAULT_LIMITS,
    sheet: str | None = None,
    has_header: bool = True,
) -> ParsedTable:
    """Parse an upload. Raises ImportFileError when nothing usable can be read from it."""
    file_format = detect_format(filename)
    if len(raw) > limits.max_file_bytes:
        raise ImportFileError(
            f"This file is {len(raw) / 2**20:,.0f} MB; the limit is {limits.max_file_bytes / 2**20:,.0f} MB. "
            "Split it into smaller files, or save it as Parquet, which is much smaller."
        )
    if not raw.strip():
        raise ImportFileError("This file is empty.")
    table = _read(raw, file_format, limits, sheet=sheet, has_header=has_header)
    if not table.columns:
        raise ImportFileError("No columns were found in this file.")
    if not table.rows and not table.problems and not table.problems_unlisted:
        raise ImportFileError("This file has a header but no rows below it.")
    return table


def _read(
    raw: bytes, file_format: FileFormat, limits: ImportLimits, *, sheet: str | None, has_header: bool
) -> ParsedTable:
    if file_format is FileFormat.EXCEL:
        columns, rows, problems, sheet_names, chosen = parse_excel(
            raw, limits, sheet=sheet, has_header=has_header
        )
        return ParsedTable(file_format, columns, rows, problems, "row", sheet_names=sheet_names, sheet=chosen)
    if file_format is FileFormat.PARQUET:
        columns, rows = parse_parquet(raw, limits)
        return ParsedTable(file_format, columns, rows, [], "row")

    assert file_format in _TEXT_FORMATS
    kind = "JSON" if file_format in (FileFormat.JSON, FileFormat.JSONL) else "text"
    lines = read_lines(raw, expected_kind=kind)
    if lines.is_blank():
        raise ImportFileError("This file is empty.")
    warnings: list[str] = []
    if lines.replaced_bytes:
        where = ", ".join(str(n) for n in lines.lines_with_replacements())
        warnings.append(
            f"{lines.replaced_bytes:,} bytes could not be read as {lines.encoding} and show as “�” "
            f"(first on lines {where}). Re-save the file as UTF-8 to keep those characters."
        )
    if file_format in (FileFormat.JSON, FileFormat.JSONL):
        # The JSON parsers read the whole text; only delimited files are read a line at a time.
        text = lines.text()
        if file_format is FileFormat.JSON:
            columns, rows, problems = parse_json(text, limits)
            return ParsedTable(
                file_format, columns, rows, problems, "record", lines.encoding, warnings=warnings
            )
        columns, rows, problems = parse_jsonl(text, limits)
        return ParsedTable(file_format, columns, rows, problems, "line", lines.encoding, warnings=warnings)
    columns, lazy_rows, log, delimiter = parse_delimited(
        lines, file_format=file_format, limits=limits, has_header=has_header
    )
    return ParsedTable(
        file_format,
        columns,
        lazy_rows,
        log.listed,
        "line",
        lines.encoding,
        delimiter=delimiter,
        warnings=warnings,
        problems_unlisted=log.unlisted,
    )
