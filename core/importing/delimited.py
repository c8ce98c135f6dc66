"""CSV, TSV and plain-text parsing with exact line numbers and recovery from broken quoting."""

from __future__ import annotations

import csv
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from core.errors import ImportFileError
from core.importing.headers import normalize_headers
from core.importing.limits import ImportLimits
from core.importing.lines import TextLines
from core.importing.table import FileFormat, LazySequence, ProblemLog, RawRow, RowProblem, excerpt

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
# A delimiter must split at least this share of sampled records into exactly the header's width.
_MIN_CONSISTENCY = 0.5
_SNIFF_LINES = 400
# A single cell can hold a whole (long) review; the csv module's default cap is 128 KiB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def detect_delimiter(lines: Sequence[str], *, preferred: str, limits: ImportLimits) -> str | None:
    """Pick the delimiter that splits the header and the records below it into the same width.

    Consistency, not character counts, decides: a one-column file whose header or text happens to
    contain commas or semicolons is still one column (csv.Sniffer is fooled by exactly that). Records
    are read with the same quote-recovering reader as the import, so one broken quote cannot tip it.
    """
    sample = lines[:_SNIFF_LINES]
    ranked: list[tuple[float, int, str]] = []
    order = (preferred, *[d for d in CANDIDATE_DELIMITERS if d != preferred])
    for rank, delimiter in enumerate(order):
        width: list[int] = []
        body_widths: list[int] = []

        def header_width(width: list[int] = width) -> int | None:
            return width[0] if width else None

        for item in _records(sample, delimiter, limits, header_width):
            if not width:
                if isinstance(item, RowProblem) or len(item[1]) < 2:
                    break
                width.append(len(item[1]))
                continue
            body_widths.append(-1 if isinstance(item, RowProblem) else len(item[1]))
        if not width:
            continue
        if not body_widths:
            ranked.append((1.0, -rank, delimiter))
            continue
        # The most common record width must be the header's: ragged rows may be many in a small file,
        # but a delimiter that only splits the header (one-column files) never wins the majority.
        most_common_width, count = Counter(body_widths).most_common(1)[0]
        share = count / len(body_widths)
        if most_common_width == width[0] and share >= _MIN_CONSISTENCY:
            ranked.append((share, -rank, delimiter))
    return max(ranked)[2] if ranked else None


class _LineFeeder:
    """Feeds physical lines to csv.reader and remembers where each record started and ended."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.next_index = 0

    def __iter__(self) -> _LineFeeder:
        return self

    def __next__(self) -> str:
        if self.next_index >= len(self.lines):
            raise StopIteration
        line = self.lines[self.next_index]
        self.next_index += 1
        return line + "\n"


def _records(
    lines: Sequence[str], delimiter: str, limits: ImportLimits, expected_width: Callable[[], int | None]
) -> Iterator[tuple[int, list[str], int] | RowProblem]:
    """Yield (first line number, fields, index of the line after it) per record, or a RowProblem for a
    line that cannot be parsed.

    A record that spans several lines must come out at the header's width; if it does not, an
    unbalanced quote swallowed the lines below it, so that first line is rejected and parsing
    restarts on the next line. Nothing after a bad quote is lost.
    """
    feeder = _LineFeeder(lines)
    reader = csv.reader(feeder, delimiter=delimiter, doublequote=True, strict=False)
    while True:
        start = feeder.next_index
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield RowProblem(start + 1, f"unparseable row ({error})", excerpt(lines[start]))
            feeder.next_index = start + 1
            continue
        spanned = feeder.next_index - start
        width = expected_width()
        # At the end of the file an open quote swallows the final newline into the last field.
        unclosed_at_end = feeder.next_index == len(lines) and bool(fields) and fields[-1].endswith("\n")
        too_long = spanned > limits.max_lines_per_record
        if unclosed_at_end or (spanned > 1 and (too_long or (width is not None and len(fields) != width))):
            yield RowProblem(
                start + 1, "unparseable row: a quote is opened but never closed", excerpt(lines[start])
            )
            feeder.next_index = start + 1
            continue
        if fields and not (len(fields) == 1 and fields[0] == "" and spanned == 1):
            yield start + 1, fields, feeder.next_index


def parse_delimited(
    lines: TextLines, *, file_format: FileFormat, limits: ImportLimits, has_header: bool = True
) -> tuple[tuple[str, ...], Sequence[RawRow], ProblemLog, str | None]:
    """Return (columns, rows, problems, delimiter). Ragged short rows are padded; long ones rejected.

    Rows are not kept: each good record keeps where its lines start and end, and is parsed again when
    read (RecordRows), so a large file costs its bytes plus a few integers per row.
    """
    if file_format is FileFormat.TXT:
        return _parse_lines(lines, limits)

    delimiter = detect_delimiter(
        lines[:_SNIFF_LINES], preferred="\t" if file_format is FileFormat.TSV else ",", limits=limits
    )
    # One column: parse with a delimiter that never occurs so quoting still works.
    effective = delimiter or "\x1f"
    # Per good record: its first line ("i": 4 bytes) and how many lines it spans ("H": at most
    # limits.max_lines_per_record); six bytes a row instead of a parsed row's few hundred.
    firsts, spans = array("i"), array("H")
    problems = ProblemLog()
    columns: tuple[str, ...] | None = None
    header_width: list[int] = []  # filled once the header is read; _records checks records against it
    for item in _records(lines, effective, limits, lambda: header_width[0] if header_width else None):
        if isinstance(item, RowProblem):
            problems.add(item)
            continue
        location, fields, end = item
        if columns is None:
            if len(fields) > limits.max_columns:
                raise ImportFileError(
                    f"The first row has {len(fields):,} columns, over the {limits.max_columns} limit. "
                    "Is this really a table of reviews? Check the delimiter, or remove unused columns."
                )
            if has_header:
                columns = normalize_headers(fields)
                header_width.append(len(columns))
                continue
            columns = tuple(f"column_{i + 1}" for i in range(len(fields)))
            header_width.append(len(columns))
        problem = _row_problem(location, fields, columns, lines, limits, rows_so_far=len(firsts))
        if problem is not None:
            problems.add(problem)
            continue
        firsts.append(location - 1)
        spans.append(end - location + 1)
    columns = columns or ()
    return columns, RecordRows(lines, firsts, spans, effective, len(columns)), problems, delimiter


class RecordRows(LazySequence[RawRow]):
    """The good records of a delimited file, parsed again from their own lines whenever one is read."""

    def __init__(self, lines: TextLines, firsts: array[int], spans: array[int], delimiter: str, width: int):
        self._lines, self._firsts, self._spans = lines, firsts, spans
        self._delimiter, self._width = delimiter, width

    def __len__(self) -> int:
        return len(self._firsts)

    def _item(self, index: int) -> RawRow:
        return self._slice(index, index + 1)[0]

    def _slice(self, start: int, stop: int) -> list[RawRow]:
        return list(self._run(start, stop))

    def _run(self, start: int, stop: int) -> Iterator[RawRow]:
        """Rows start..stop-1 from one csv reader fed only their own lines: each record was parsed from
        exactly these lines on the first pass, so it comes out the same."""

        def record_lines() -> Iterator[str]:
            for index in range(start, stop):
                first = self._firsts[index]
                for line in range(first, first + self._spans[index]):
                    yield self._lines._item(line) + "\n"

        reader = csv.reader(record_lines(), delimiter=self._delimiter, doublequote=True, strict=False)
        padding = self._width
        for index, fields in zip(range(start, stop), reader, strict=True):
            yield RawRow(self._firsts[index] + 1, (*fields, *([None] * (padding - len(fields)))))


def _row_problem(
    location: int,
    fields: list[str],
    columns: tuple[str, ...],
    lines: Sequence[str],
    limits: ImportLimits,
    *,
    rows_so_far: int,
) -> RowProblem | None:
    if len(fields) > len(columns):
        return RowProblem(
            location,
            f"unparseable row: {len(fields)} fields but the header has {len(columns)} "
            "(is there an unquoted delimiter in the text?)",
            excerpt(lines[location - 1]),
        )
    if rows_so_far >= limits.max_rows:
        return RowProblem(location, f"over the {limits.max_rows:,}-row limit")
    return None


class LineRows(LazySequence[RawRow]):
    """A plain-text file's rows: one review per line, read from the line when asked for."""

    def __init__(self, lines: TextLines, count: int):
        self._lines, self._count = lines, count

    def __len__(self) -> int:
        return self._count

    def _item(self, index: int) -> RawRow:
        return RawRow(index + 1, (self._lines[index].rstrip("\r"),))


def _parse_lines(
    lines: TextLines, limits: ImportLimits
) -> tuple[tuple[str, ...], Sequence[RawRow], ProblemLog, None]:
    problems = ProblemLog()
    if len(lines) > limits.max_rows:
        skipped = len(lines) - limits.max_rows
        problems.add(
            RowProblem(
                limits.max_rows + 1,
                f"this and {skipped - 1:,} more lines are over the {limits.max_rows:,}-row limit",
            )
        )
    return ("text",), LineRows(lines, min(len(lines), limits.max_rows)), problems, None
