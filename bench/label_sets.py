"""The presets on label sets they were never chosen on: does the recipe hold beyond three sentiments?

    python bench/label_sets.py [--sets sentiment-2 condition-12 sentiment-small] [--presets Quick]
                               [--seeds 13 14 15] [--threads N]

The presets were chosen on validation splits of the sample's three sentiments (issue #14), and users
bring other label sets: two to twenty labels, a few hundred reviews to many thousands. Each set here is
cut from the same reviews and imported as an upload is, with drugsComTest.tsv's rows as its test part:

- sentiment-2: negative / positive only (the neutral reviews left out).
- condition-12: what the review is about, the twelve conditions most common in the training file (a
  topic task with twelve labels, from 193 reviews of the commonest down to 14).
- sentiment-small: the three sentiments from the first 200 training reviews only.

Nothing is chosen on these figures. Each run is printed against the keyword and majority baselines
fitted inside the same job, as bench/train_quality.py does for the sample.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from train_quality import bench_device, report, train_once

from core.db import Database
from core.importing.plan import ColumnMapping, build_import_plan
from core.importing.table import ParsedTable, RawRow
from core.sample_data import SOURCE_COLUMN, TEST_FILE, TRAIN_FILE, read_sample_table
from core.services.datasets import DatasetSummary
from core.services.importing import import_dataset
from core.training.config import PRESETS

LABEL_COLUMN = "task_label"
SMALL_TRAINING_ROWS = 200
CONDITIONS = 12


def _column(table: ParsedTable, name: str) -> int:
    return table.columns.index(name)


def sentiment_2(table: ParsedTable) -> list[str | None]:
    rating = _column(table, "rating")
    return [None if row.values[rating] == "neutral" else str(row.values[rating]) for row in table.rows]


def condition_12(table: ParsedTable) -> list[str | None]:
    condition, source = _column(table, "condition"), _column(table, SOURCE_COLUMN)
    names = [html.unescape(str(row.values[condition])) for row in table.rows]
    # The labels come from the training file's counts only; its test rows are scored, never looked at.
    in_training = Counter(
        name for name, row in zip(names, table.rows, strict=True) if row.values[source] == TRAIN_FILE
    )
    kept = {name for name, _ in in_training.most_common(CONDITIONS)}
    return [name if name in kept else None for name in names]


def sentiment_small(table: ParsedTable) -> list[str | None]:
    rating, source = _column(table, "rating"), _column(table, SOURCE_COLUMN)
    labels: list[str | None] = []
    training_rows = 0
    for row in table.rows:
        if row.values[source] == TRAIN_FILE:
            training_rows += 1
            labels.append(str(row.values[rating]) if training_rows <= SMALL_TRAINING_ROWS else None)
        else:
            labels.append(str(row.values[rating]))
    return labels


LABEL_SETS: dict[str, Callable[[ParsedTable], list[str | None]]] = {
    "sentiment-2": sentiment_2,
    "condition-12": condition_12,
    "sentiment-small": sentiment_small,
}


def loader(name: str) -> Callable[[Database], DatasetSummary]:
    """Imports the sample's reviews that this label set keeps, labeled by it, as an upload would be."""

    def load(db: Database) -> DatasetSummary:
        table = read_sample_table()
        labels = LABEL_SETS[name](table)
        rows = [
            RawRow(row.location, (*row.values, label))
            for row, label in zip(table.rows, labels, strict=True)
            if label is not None
        ]
        relabeled = dataclasses.replace(table, columns=(*table.columns, LABEL_COLUMN), rows=rows)
        mapping = ColumnMapping(text="review", label=LABEL_COLUMN, external_id="id")
        plan = build_import_plan(relabeled, mapping, decode_html_entities=True)
        test_indices = [
            i for i, record in enumerate(plan.records) if record.meta.get(SOURCE_COLUMN) == TEST_FILE
        ]
        return import_dataset(db, plan, name=name, source_filename=f"{name}.tsv", test_indices=test_indices)

    return load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", nargs="+", default=list(LABEL_SETS), choices=list(LABEL_SETS))
    parser.add_argument("--presets", nargs="+", default=["Quick"], choices=list(PRESETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 14, 15])
    parser.add_argument("--threads", type=int, default=None, help="default: as the app (all cores but one)")
    args = parser.parse_args()

    device = bench_device(args.threads)
    for name in args.sets:
        for preset in args.presets:
            runs = []
            for seed in args.seeds:
                config = dataclasses.replace(PRESETS[preset], seed=seed)
                metrics = train_once(config, preset, device, load=loader(name))
                test = metrics["test"]
                print(
                    f"{name} · {preset} · seed {seed}: test {test['accuracy']:.3f} / {test['macro_f1']:.3f}, "
                    f"learning {metrics['train_seconds']:.0f} s",
                    flush=True,
                )
                runs.append(metrics)
            report(f"{name} · {preset}", runs)


if __name__ == "__main__":
    main()
