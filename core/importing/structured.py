"""JSON, JSON Lines, Excel and Parquet parsing. Containers are checked for bombs before they are opened."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Iterable
from typing import Any

from core.errors import ImportFileError
from core.importing.headers import normalize_headers
from core.importing.limits import ImportLimits
from core.importing.table import Cell, RawRow, RowProblem, excerpt

_log = logging.getLogger(__name__)

_TOO_DEEP = (
    "This JSON file is nested hundreds of levels deep ([[[[…), which no list of reviews is; "
    "it was not read. Export the reviews as a flat list of records."
)
_DEEP_VALUE = "(a value nested too deeply to show)"


def _nested_to_text(value: Cell) -> Cell:
    if isinstance(value, dict | list):
        try:
            return json.dumps(value, ensure_ascii=False)
        except RecursionError:
            return _DEEP_VALUE
    return value


def _loads(text: str) -> Any:
    """json.loads, with nesting deep enough to exhaust Python's stack turned into a clear refusal.

    The C decoder gives up with RecursionError near sys.getrecursionlimit() levels, at once and
    without using much memory, so catching it is enough to bound a `[[[[…` file.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ImportFileError(_TOO_DEEP) from None


def _table_from_objects(
    objects: Iterable[tuple[int, dict[str, Any]]], limits: ImportLimits
) -> tuple[tuple[str, ...], list[RawRow]]:
    """Columns are the union of keys in first-seen order; a missing key is an empty cell."""
    materialized = list(objects)
    keys: dict[str, None] = {}
    for _, obj in materialized:
        for key in obj:
            keys.setdefault(str(key), None)
            if len(keys) > limits.max_columns:
                raise ImportFileError(
                    f"The records have more than {limits.max_columns} different fields. "
                    "Is this really a list of reviews?"
                )
    raw_keys = list(keys)
    columns = normalize_headers(raw_keys)
    rows = [
        RawRow(location, tuple(_nested_to_text(obj.get(key)) for key in raw_keys))
        for location, obj in materialized
    ]
    return columns, rows


def _as_object(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        return {"text": value}
    return None


def parse_json(text: str, limits: ImportLimits) -> tuple[tuple[str, ...], list[RawRow], list[RowProblem]]:
    try:
        document = _loads(text)
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"This is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}). "
            "If the file has one record per line, save it with the .jsonl extension."
        ) from None
    items = _records_of(document)
    objects: list[tuple[int, dict[str, Any]]] = []
    problems: list[RowProblem] = []
    for number, item in enumerate(items[: limits.max_rows], start=1):
        obj = _as_object(item)
        if obj is None:
            problems.append(
                RowProblem(
                    number, "unparseable row: not an object or a string", excerpt(str(_nested_to_text(item)))
                )
            )
        else:
            objects.append((number, obj))
    columns, rows = _table_from_objects(objects, limits)
    return columns, rows, problems


def _records_of(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        # Accept the common wrapper {"data": [...]} when exactly one field holds a list.
        lists = [value for value in document.values() if isinstance(value, list)]
        if len(lists) == 1:
            return lists[0]
    raise ImportFileError(
        'The JSON file should hold a list of records, like [{"text": "...", "label": "..."}, ...].'
    )


def parse_jsonl(text: str, limits: ImportLimits) -> tuple[tuple[str, ...], list[RawRow], list[RowProblem]]:
    objects: list[tuple[int, dict[str, Any]]] = []
    problems: list[RowProblem] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if len(objects) >= limits.max_rows:
            problems.append(RowProblem(number, f"over the {limits.max_rows:,}-row limit"))
            break
        try:
            obj = _as_object(_loads(line))
        except json.JSONDecodeError as error:
            problems.append(
                RowProblem(number, f"unparseable row: not valid JSON ({error.msg})", excerpt(line))
            )
            continue
        except ImportFileError:
            problems.append(RowProblem(number, "unparseable row: nested too deeply ([[[[…)", excerpt(line)))
            continue
        if obj is None:
            problems.append(RowProblem(number, "unparseable row: not an object or a string", excerpt(line)))
        else:
            objects.append((number, obj))
    columns, rows = _table_from_objects(objects, limits)
    return columns, rows, problems


def guard_zip_container(raw: bytes, limits: ImportLimits) -> None:
    """Refuse a workbook whose declared contents would blow up when decompressed."""
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise ImportFileError(
            "This is not a valid Excel workbook (.xlsx). Old .xls files must be saved as .xlsx first."
        )
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = archive.infolist()
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        raise ImportFileError(
            f"This workbook would expand to {total / 2**30:.1f} GiB when opened, over the "
            f"{limits.max_uncompressed_bytes / 2**30:.0f} GiB limit. It was not opened."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 1_000_000 and ratio > limits.max_compression_ratio:
            raise ImportFileError(
                f"This workbook is compressed {ratio:,.0f} to 1, which only happens in files built to "
                "exhaust memory (a “zip bomb”). It was not opened."
            )


def _excel_problem(error: BaseException) -> str:
    """What is wrong with the workbook, in the user's terms; the exception's type is for the log."""
    from defusedxml import DefusedXmlException

    # openpyxl wraps what its XML parser raised in a ValueError; the cause says what happened.
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    _log.info("Excel workbook refused", exc_info=error)
    if any(isinstance(item, DefusedXmlException) for item in chain):
        return (
            "This workbook defines its own XML entities, which spreadsheet programs never write and which "
            "files built to exhaust memory (“billion laughs”) use. It was not opened."
        )
    if isinstance(error, KeyError):
        return (
            "This file is a zip archive but not an Excel workbook: the parts every workbook has are "
            "missing. Open it in Excel or LibreOffice and save it as .xlsx."
        )
    if isinstance(error, MemoryError):
        return (
            "This workbook needs more memory to open than this computer has. Save it as CSV and import that."
        )
    return (
        "This Excel workbook is damaged, or was written by a program that does not follow the .xlsx "
        "format, so it could not be read. Open it in Excel or LibreOffice and save it again as .xlsx."
    )


def parse_excel(
    raw: bytes, limits: ImportLimits, *, sheet: str | None, has_header: bool
) -> tuple[tuple[str, ...], list[RawRow], list[RowProblem], list[str], str]:
    guard_zip_container(raw, limits)
    import openpyxl  # deferred: only Excel imports pay for it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise ImportFileError(_excel_problem(error)) from None
    try:
        sheet_names = [str(name) for name in workbook.sheetnames]
        chosen = sheet if sheet is not None and sheet in sheet_names else sheet_names[0]
        worksheet = workbook[chosen]
        # The declared <dimension> may claim a million rows; ignore it and read the rows that exist.
        worksheet.reset_dimensions()
        columns, rows, problems = _sheet_rows(worksheet.iter_rows(values_only=True), limits, has_header)
    except ImportFileError:
        raise
    except Exception as error:  # the sheet's XML is parsed lazily, so damage can surface here too
        raise ImportFileError(_excel_problem(error)) from None
    finally:
        workbook.close()
    return columns, rows, problems, sheet_names, chosen


def _sheet_rows(
    cell_rows: Iterable[tuple[Any, ...]], limits: ImportLimits, has_header: bool
) -> tuple[tuple[str, ...], list[RawRow], list[RowProblem]]:
    columns: tuple[str, ...] | None = None
    rows: list[RawRow] = []
    problems: list[RowProblem] = []
    for number, cells in enumerate(cell_rows, start=1):
        values = list(cells)
        while values and (values[-1] is None or values[-1] == ""):
            values.pop()
        if not values:
            continue
        if len(values) > limits.max_columns:
            raise ImportFileError(f"Row {number} has more than {limits.max_columns} filled columns.")
        if columns is None:
            if has_header:
                columns = normalize_headers(values)
                continue
            columns = tuple(f"column_{i + 1}" for i in range(len(values)))
        if len(rows) >= limits.max_rows:
            problems.append(RowProblem(number, f"over the {limits.max_rows:,}-row limit"))
            break
        if len(values) > len(columns):
            # Cells beyond the header have no name; keep them under generated names.
            columns = normalize_headers([*columns, *([None] * (len(values) - len(columns)))])
        rows.append(RawRow(number, tuple(values)))
    width = len(columns or ())
    padded = [RawRow(r.location, r.values + (None,) * (width - len(r.values))) for r in rows]
    return columns or (), padded, problems


def parse_parquet(raw: bytes, limits: ImportLimits) -> tuple[tuple[str, ...], list[RawRow]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet_file = pq.ParquetFile(io.BytesIO(raw))
    except (pa.ArrowException, OSError) as error:
        raise ImportFileError(f"This is not a readable Parquet file ({error}).") from None
    metadata = parquet_file.metadata
    if metadata.num_rows > limits.max_rows:
        raise ImportFileError(
            f"This file has {metadata.num_rows:,} rows, over the {limits.max_rows:,}-row limit."
        )
    if metadata.num_columns > limits.max_columns:
        raise ImportFileError(
            f"This file has {metadata.num_columns} columns, over the {limits.max_columns} limit."
        )
    expanded = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    if expanded > limits.max_uncompressed_bytes:
        raise ImportFileError(
            f"This file would expand to {expanded / 2**30:.1f} GiB in memory, over the "
            f"{limits.max_uncompressed_bytes / 2**30:.0f} GiB limit."
        )
    try:
        table = parquet_file.read()
    except (pa.ArrowException, OSError) as error:
        raise ImportFileError(f"This Parquet file is damaged and could not be read ({error}).") from None
    columns = normalize_headers(table.column_names)
    data = [column.to_pylist() for column in table.columns]
    rows = [RawRow(i + 1, tuple(_nested_to_text(col[i]) for col in data)) for i in range(table.num_rows)]
    return columns, rows
