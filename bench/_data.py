"""Deterministic synthetic review files for the benchmarks."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

WORDS = [
    "great",
    "terrible",
    "works",
    "side",
    "effects",
    "pain",
    "relief",
    "doctor",
    "prescribed",
    "sleep",
    "anxiety",
    "better",
    "worse",
    "dose",
    "headache",
    "nausea",
    "weight",
    "helped",
    "recommend",
    "never",
    "again",
    "amazing",
    "awful",
    "mild",
    "severe",
    "week",
    "month",
]
LABELS = ("positive", "neutral", "negative")


def synthetic_csv(rows: int, *, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "review", "rating", "drug", "useful"])
    for i in range(rows):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 90)))
        writer.writerow(
            [f"r{i}", f"{text}, review {i}.", rng.choice(LABELS), f"drug{i % 97}", rng.randint(0, 200)]
        )
    return buffer.getvalue().encode()


def synthetic_short_csv(path: Path, rows: int, *, seed: int = 7, emoji: bool = False) -> None:
    """Short reviews (5-40 words) written straight to a file: a 1M-row file without holding it in memory.
    emoji: each review ends in one, as real reviews often do (outside Latin-1, so a Python string of
    the whole file would take 4 bytes per character)."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "review", "rating"])
        for i in range(rows):
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40)))
            writer.writerow([f"r{i}", f"{text} 👍" if emoji else text, rng.choice(LABELS)])
