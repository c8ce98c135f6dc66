"""The sample's two files as (texts, label indices), its star-rating labels as the oracle."""

from __future__ import annotations

import html

from core.sample_data import TEST_FILE, TRAIN_FILE, read_sample_table

LABELS = ["negative", "neutral", "positive"]


def sample_parts() -> tuple[tuple[list[str], list[int]], tuple[list[str], list[int]]]:
    """((train texts, train labels), (test texts, test labels)); labels index LABELS. HTML entities
    are decoded as the app's sample import does."""
    table = read_sample_table()
    text_at, label_at = table.columns.index("review"), table.columns.index("rating")
    parts: dict[str, tuple[list[str], list[int]]] = {TRAIN_FILE: ([], []), TEST_FILE: ([], [])}
    for row in table.rows:
        texts, labels = parts[row.values[-1]]
        texts.append(html.unescape(str(row.values[text_at])))
        labels.append(LABELS.index(str(row.values[label_at])))
    return parts[TRAIN_FILE], parts[TEST_FILE]
