"""A text file as bytes plus line offsets: lines are decoded when read, never all at once.

A million-row CSV held as one Python string per line (or per cell) costs several times the file; this
keeps the bytes of the upload, one integer per line, and decodes a line only when a parser asks for it.
Lines split on the byte b"\\n", which is exact for UTF-8 and single-byte encodings (a newline byte is
never part of a multi-byte UTF-8 character); UTF-16 and UTF-32 files are re-encoded to UTF-8 first.
"""

from __future__ import annotations

import codecs
from array import array
from dataclasses import dataclass

import numpy as np

from core.importing.decoding import REPLACEMENT, SNIFF_BYTES, refuse_binary, utf16_without_bom
from core.importing.table import LazySequence

# Decoding a chunk builds a string of up to 4 bytes per character: small chunks keep that bounded.
_SCAN_CHUNK = 2**18
_NEWLINE = 10


@dataclass(frozen=True)
class TextLines(LazySequence[str]):
    """Lines of a text file without their "\\n" (a "\\r" before it stays, as csv expects)."""

    data: bytes
    codec: str
    encoding: str  # as shown to the user
    # Byte offset where each line starts, plus one past the end of the last line. An array, not a
    # numpy one: reading one element is several times faster, and lines are read one at a time.
    bounds: array[int]
    replaced_bytes: int = 0

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def _item(self, index: int) -> str:
        start, end = self.bounds[index], self.bounds[index + 1]
        if end > start and self.data[end - 1] == _NEWLINE:
            end -= 1
        return self.data[start:end].decode(self.codec, errors="replace")

    def text(self) -> str:
        """The whole file as one string, for parsers that need all of it at once."""
        return self.data[self.bounds[0] :].decode(self.codec, errors="replace")

    def lines_with_replacements(self, *, limit: int = 10) -> list[int]:
        found: list[int] = []
        for number, line in enumerate(self, start=1):
            if REPLACEMENT in line:
                found.append(number)
                if len(found) >= limit:
                    break
        return found

    def is_blank(self) -> bool:
        return not self.data[self.bounds[0] :].strip()


def read_lines(raw: bytes, *, expected_kind: str) -> TextLines:
    """Check how an upload is encoded and index its lines, or raise ImportFileError saying what it is.

    BOMs first, then UTF-16 without one, then binary is refused; then clean UTF-8, UTF-8 with damage
    (real multi-byte characters beside bad bytes), Windows-1252, and Latin-1, which reads any bytes.
    Everything streams through the bytes a chunk at a time: no whole-file string is built.
    """
    for bom, name, codec in (
        (codecs.BOM_UTF32_LE, "UTF-32", "utf-32"),
        (codecs.BOM_UTF32_BE, "UTF-32", "utf-32"),
        (codecs.BOM_UTF8, "UTF-8 with BOM", "utf-8"),
        (codecs.BOM_UTF16_LE, "UTF-16", "utf-16"),
        (codecs.BOM_UTF16_BE, "UTF-16", "utf-16"),
    ):
        if raw.startswith(bom):
            if codec == "utf-8":
                return _indexed(raw, "utf-8", name, _scan(raw, "utf-8")[0], skip=len(bom))
            return _reencoded(raw, codec, name)
    utf16_codec = utf16_without_bom(raw[:SNIFF_BYTES])
    if utf16_codec:
        return _reencoded(raw, utf16_codec, "UTF-16")
    refuse_binary(raw[:SNIFF_BYTES], expected_kind)
    replaced, beyond_ascii = _scan(raw, "utf-8")
    if not replaced or beyond_ascii:
        return _indexed(raw, "utf-8", "UTF-8", replaced)
    if _scan(raw, "cp1252", errors="strict")[0] == 0:
        return _indexed(raw, "cp1252", "Windows-1252", 0)
    return _indexed(raw, "latin-1", "Latin-1", 0)


def _scan(data: bytes, codec: str, *, errors: str = "replace") -> tuple[int, bool]:
    """(bytes that do not decode, or -1 when errors="strict" meets one; whether a real non-ASCII
    character was seen), decoding a chunk at a time and keeping none of it."""
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    replaced, beyond_ascii = 0, False
    view = memoryview(data)
    for start in range(0, max(1, len(data)), _SCAN_CHUNK):
        try:
            chunk = decoder.decode(view[start : start + _SCAN_CHUNK], start + _SCAN_CHUNK >= len(data))
        except UnicodeDecodeError:
            return -1, beyond_ascii
        if chunk.isascii():
            continue
        count = chunk.count(REPLACEMENT)
        replaced += count
        beyond_ascii = beyond_ascii or not chunk.replace(REPLACEMENT, "").isascii()
    # A "\ufffd" written in the file itself is text, not damage.
    return max(0, replaced - data.count(REPLACEMENT.encode())), beyond_ascii


def _reencoded(raw: bytes, codec: str, name: str) -> TextLines:
    text = raw.decode(codec, errors="replace")
    replaced = text.count(REPLACEMENT)
    data = text.encode("utf-8")
    del text
    return _indexed(data, "utf-8", name, replaced)


def _indexed(data: bytes, codec: str, encoding: str, replaced: int, *, skip: int = 0) -> TextLines:
    data = _normalize_line_endings(data)
    return TextLines(data, codec, encoding, _line_bounds(data, skip), replaced)


def _normalize_line_endings(data: bytes) -> bytes:
    """Old Mac files end lines with a lone CR. Judged by the first line break, so a CR inside a quoted
    cell of an ordinary LF or CRLF file is kept."""
    first_cr, first_lf = data.find(b"\r"), data.find(b"\n")
    if first_cr == -1 or (first_lf != -1 and first_lf <= first_cr + 1):
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _line_bounds(data: bytes, skip: int) -> array[int]:
    """Start offset of every line, then the end of the data; a final newline starts no empty line."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    breaks = [
        np.flatnonzero(buffer[start : start + _SCAN_CHUNK] == _NEWLINE) + (start + 1)
        for start in range(skip, len(buffer), _SCAN_CHUNK)
    ]
    bounds = array("q", [skip])
    for found in breaks:
        bounds.frombytes(found.astype(np.int64).tobytes())
    if bounds[-1] != len(data):
        bounds.append(len(data))
    return bounds
