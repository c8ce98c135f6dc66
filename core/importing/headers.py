"""Column names as users will see them: trimmed, never empty, never repeated."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_MAX_HEADER_CHARS = 100


def normalize_headers(raw_names: Iterable[Any]) -> tuple[str, ...]:
    names: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_names, start=1):
        # A BOM that survived decoding (e.g. a BOM inside a UTF-16 file) must not stick to the first name.
        name = "" if raw is None else str(raw).replace("\ufeff", "").strip()[:_MAX_HEADER_CHARS]
        if not name:
            name = f"column_{index}"
        candidate, suffix = name, 2
        while candidate in seen:
            candidate = f"{name}_{suffix}"
            suffix += 1
        seen.add(candidate)
        names.append(candidate)
    return tuple(names)
