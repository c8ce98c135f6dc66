"""Entry point for reading an uploaded file into a ParsedTable, whatever its format."""

from __future__ import annotations

from core.errors import ImportFileError
from core.importing.decoding import decode_text_file, lines_with_replacements
from core.importing.delimited import parse_delimited
from core.importing.limits import DEFAULT_LIMITS, ImportLimits
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
    if not table.rows and not table.problems:
        raise ImportFileError("This file has a header but no rows below it.")
    return table


def normalize_line_endings(text: str) -> str:
    """Old Mac files end lines with a lone CR. Judged by the first line break, so a CR inside a quoted
    cell of an ordinary LF or CRLF file is kept."""
    first_cr, first_lf = text.find("\r"), text.find("\n")
    if first_cr == -1 or (first_lf != -1 and first_lf <= first_cr + 1):
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


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
    decoded = decode_text_file(raw, expected_kind=kind)
    text = normalize_line_endings(decoded.text)
    if not text.strip():
        raise ImportFileError("This file is empty.")
    warnings: list[str] = []
    if decoded.replaced_bytes:
        lines = ", ".join(str(n) for n in lines_with_replacements(text))
        warnings.append(
            f"{decoded.replaced_bytes:,} bytes could not be read as {decoded.encoding} and show as “�” "
            f"(first on lines {lines}). Re-save the file as UTF-8 to keep those characters."
        )
    if file_format is FileFormat.JSON:
        columns, rows, problems = parse_json(text, limits)
        return ParsedTable(
            file_format, columns, rows, problems, "record", decoded.encoding, warnings=warnings
        )
    if file_format is FileFormat.JSONL:
        columns, rows, problems = parse_jsonl(text, limits)
        return ParsedTable(file_format, columns, rows, problems, "line", decoded.encoding, warnings=warnings)
    columns, rows, problems, delimiter = parse_delimited(
        text, file_format=file_format, limits=limits, has_header=has_header
    )
    return ParsedTable(
        file_format, columns, rows, problems, "line", decoded.encoding, delimiter=delimiter, warnings=warnings
    )
