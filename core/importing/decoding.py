"""Bytes to text: BOMs, UTF-8, legacy single-byte encodings, and refusing what is not text at all."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from core.errors import ImportFileError

_SNIFF_BYTES = 8192
# Share of control bytes (other than tab, CR, LF, FF) above which a "text" file is really binary.
_BINARY_CONTROL_SHARE = 0.05
_REPLACEMENT = "\ufffd"

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


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    replaced_bytes: int = 0


def decode_text_file(raw: bytes, *, expected_kind: str) -> DecodedText:
    """Decode an uploaded text file, or raise ImportFileError saying what the file really is."""
    for bom, name, codec in (
        (codecs.BOM_UTF32_LE, "UTF-32", "utf-32"),
        (codecs.BOM_UTF32_BE, "UTF-32", "utf-32"),
        (codecs.BOM_UTF8, "UTF-8 with BOM", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "UTF-16", "utf-16"),
        (codecs.BOM_UTF16_BE, "UTF-16", "utf-16"),
    ):
        if raw.startswith(bom):
            return _decode_counting(raw, codec, name)

    utf16_codec = _utf16_without_bom(raw[:_SNIFF_BYTES])
    if utf16_codec:
        return _decode_counting(raw, utf16_codec, "UTF-16")
    _refuse_binary(raw[:_SNIFF_BYTES], expected_kind)

    try:
        return DecodedText(raw.decode("utf-8"), "UTF-8")
    except UnicodeDecodeError:
        pass
    lenient = raw.decode("utf-8", errors="replace")
    replaced = lenient.count(_REPLACEMENT) - raw.count(_REPLACEMENT.encode())
    if any(ch > "\x7f" and ch != _REPLACEMENT for ch in lenient):
        # Real multi-byte UTF-8 sits beside the bad bytes: the file is UTF-8 with damage, not cp1252.
        return DecodedText(lenient, "UTF-8", replaced)
    try:
        return DecodedText(raw.decode("cp1252"), "Windows-1252")
    except UnicodeDecodeError:
        return DecodedText(raw.decode("latin-1"), "Latin-1")


def _decode_counting(raw: bytes, codec: str, name: str) -> DecodedText:
    text = raw.decode(codec, errors="replace")
    return DecodedText(text, name, text.count(_REPLACEMENT))


def _utf16_without_bom(sample: bytes) -> str | None:
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even_nuls = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd_nuls = sample[1::2].count(0) / max(1, len(sample[1::2]))
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _refuse_binary(sample: bytes, expected_kind: str) -> None:
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


def lines_with_replacements(text: str, *, limit: int = 10) -> list[int]:
    found: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if _REPLACEMENT in line:
            found.append(number)
            if len(found) >= limit:
                break
    return found
