"""Telling text from binary, and UTF-16 without a BOM; core.importing.lines does the decoding."""

from __future__ import annotations

from core.errors import ImportFileError

SNIFF_BYTES = 8192
# Share of control bytes (other than tab, CR, LF, FF) above which a "text" file is really binary.
_BINARY_CONTROL_SHARE = 0.05
REPLACEMENT = "\ufffd"

_MAGIC_HINTS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook is one)"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3", "a SQLite database"),
)


def utf16_without_bom(sample: bytes) -> str | None:
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even_nuls = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd_nuls = sample[1::2].count(0) / max(1, len(sample[1::2]))
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def refuse_binary(sample: bytes, expected_kind: str) -> None:
    for magic, what in _MAGIC_HINTS:
        if sample.startswith(magic):
            raise ImportFileError(
                f"This file is {what}, not a {expected_kind} file. "
                "Check that you picked the right file, or give it its proper extension."
            )
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    if sample and (b"\x00" in sample or controls / len(sample) > _BINARY_CONTROL_SHARE):
        raise ImportFileError(
            f"This file contains binary data, so it is not a {expected_kind} file. "
            "Export your data as CSV, Excel, JSON or Parquet and try again."
        )
