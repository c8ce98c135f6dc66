"""Numbers as the pages show them: a dash for anything missing."""

from __future__ import annotations


def percent_text(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, float) else "—"


def duration_text(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "—"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
