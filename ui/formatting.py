"""Numbers as the pages show them: a dash for anything missing."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.quality import Margin
from core.services.training import RunSummary


def percent_text(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, float) else "—"


def duration_text(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "—"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def device_text(description: str | None) -> str:
    """A run's stored device line, short enough for a table column: 'CPU · bf16', 'GPU: NVIDIA H100 (80 GB)'."""
    if not description:
        return "—"
    head = description.split(",")[0]
    short = "CPU" if head.startswith("CPU") else head
    return f"{short} · bf16" if "bf16" in description else short


def device_in_plain_words(description: str | None) -> str:
    """A run's stored device line as a newcomer reads it: 'this computer's processor', 'the graphics
    card (NVIDIA H100)'. The stored line itself belongs in a tooltip."""
    if not description:
        return "a device being chosen"
    head = description.split(",")[0]
    if head.startswith("CPU"):
        return "this computer's processor"
    if head.startswith("GPU"):
        return f"the graphics card ({head.split(':', 1)[-1].strip()})"
    return head


def short_label(name: str, limit: int = 18) -> str:
    """A label name short enough for a chart's axis; the full name goes in the hover."""
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def run_kind(run: RunSummary) -> str:
    preset = run.preset or "custom"
    return f"{preset} · search trial {run.trial_number}" if run.trial_number else preset


def run_title(run: RunSummary) -> str:
    return f"Run #{run.id} · {run_kind(run)} · test macro-F1 {percent_text(run.test_macro_f1)}"


def points_text(points: float) -> str:
    """A difference of two percentages, in points: '+6.2 pts' reads as absolute, '+6.2%' would not."""
    return f"{points:+.1f} pts"


def margin_text(margin: Margin) -> str:
    return (
        f"{points_text(margin.macro_f1_points)} macro-F1 and {points_text(margin.accuracy_points)} accuracy "
        "over a keyword model"
    )


def count_text(count: int, singular: str, plural: str | None = None) -> str:
    """“1 group”, “2 groups”, “1,200 reviews”."""
    return f"{count:,} {singular if count == 1 else plural or singular + 's'}"


def browser_zone(name: str | None) -> tzinfo:
    """The zone the browser reported (st.context.timezone), or UTC when it reported none we know."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def start_of_local_day(now: datetime, zone: tzinfo) -> datetime:
    """Midnight of `now`'s day where the person sits, as an aware time: 'today' means their day, not UTC's."""
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
