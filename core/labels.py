"""Label-set rules shared by import, the label-set editor and (later) the labeling page."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.errors import InvalidInputError

MAX_LABEL_DESCRIPTION_CHARS = 300
MAX_LABEL_NAME_CHARS = 100
# Reserved by the labeling page (s = skip, u = undo; arrows move through the queue) and by
# Streamlit itself (c clears caches, r reruns), so a label can never shadow them.
RESERVED_KEYS = frozenset({"s", "u", "c", "r"})
DEFAULT_KEYS = tuple("123456789")
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

# Colour-blind-safe (Okabe-Ito based) palette, then neutral fallbacks.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999", "#332288")
# Sentiment names get the colours people expect on sight.
_CONVENTIONAL_COLORS = {
    "positive": "#2E9E5B",
    "pos": "#2E9E5B",
    "negative": "#D1495B",
    "neg": "#D1495B",
    "neutral": "#8D99AE",
    "mixed": "#E69F00",
}


@dataclass(frozen=True)
class LabelSpec:
    """One label as the user edits it. `id` is None for a label being added."""

    name: str
    color: str
    shortcut_key: str | None
    id: int | None = None
    # What the label means, in a sentence; suggestions before any label compare reviews with it.
    description: str | None = None


def natural_key(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def default_label_specs(names: Iterable[str]) -> list[LabelSpec]:
    ordered = sorted(set(names), key=natural_key)
    specs: list[LabelSpec] = []
    for index, name in enumerate(ordered):
        color = _CONVENTIONAL_COLORS.get(name.strip().lower(), PALETTE[index % len(PALETTE)])
        key = DEFAULT_KEYS[index] if index < len(DEFAULT_KEYS) else None
        specs.append(LabelSpec(name=name, color=color, shortcut_key=key))
    return specs


def validate_label_specs(specs: Sequence[LabelSpec]) -> list[LabelSpec]:
    """Trim and check a label set; raise InvalidInputError with every problem at once."""
    problems: list[str] = []
    cleaned: list[LabelSpec] = []
    seen_names: set[str] = set()
    seen_keys: set[str] = set()
    for spec in specs:
        name = (spec.name or "").strip()
        key = (spec.shortcut_key or "").strip().lower() or None
        color = (spec.color or "").strip()
        if not name:
            problems.append("Every label needs a name.")
            continue
        if len(name) > MAX_LABEL_NAME_CHARS:
            problems.append(f"“{name[:30]}…” is longer than {MAX_LABEL_NAME_CHARS} characters.")
        if name.lower() in seen_names:
            problems.append(f"The name “{name}” is used twice.")
        seen_names.add(name.lower())
        if key is not None:
            if len(key) != 1 or not key.isascii() or not key.isalnum():
                problems.append(f"The key for “{name}” must be a single letter or digit.")
            elif key in RESERVED_KEYS:
                problems.append(
                    f"The key “{key}” is reserved (s skips, u undoes; c and r belong to the app)."
                )
            elif key in seen_keys:
                problems.append(f"The key “{key}” is given to two labels.")
            seen_keys.add(key)
        if not _HEX_COLOR.match(color):
            problems.append(f"The colour for “{name}” must look like #1A2B3C.")
        description = (spec.description or "").strip() or None
        if description is not None and len(description) > MAX_LABEL_DESCRIPTION_CHARS:
            problems.append(
                f"The meaning of “{name}” is longer than {MAX_LABEL_DESCRIPTION_CHARS} characters."
            )
        cleaned.append(
            LabelSpec(name=name, color=color.upper(), shortcut_key=key, id=spec.id, description=description)
        )
    if problems:
        raise InvalidInputError(" ".join(dict.fromkeys(problems)))
    return cleaned
