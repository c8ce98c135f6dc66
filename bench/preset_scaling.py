"""How long a preset takes on a large dataset: does Quick stay quick on twenty thousand reviews?

    python bench/preset_scaling.py [--reviews 20000] [--presets Quick] [--threads N]

Each preset stops after its most learning steps (TrainConfig.max_steps), so its learning time should
stay near what it is on a dataset of a few thousand reviews, while predicting every review still grows
with the dataset. The reviews are the sample's training reviews repeated (each copy numbered) up to
--reviews, labeled by their sentiment; the test part is drugsComTest.tsv's rows, as in the app. The
copies make the scores meaningless, so only the time and the steps are printed: this measures time,
not quality.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from train_quality import bench_device, train_once

from core.db import Database
from core.importing.plan import ColumnMapping, build_import_plan
from core.importing.table import RawRow
from core.sample_data import SOURCE_COLUMN, TEST_FILE, TRAIN_FILE, read_sample_table
from core.services.datasets import DatasetSummary
from core.services.importing import import_dataset
from core.training.config import PRESETS


def loader(reviews: int) -> Callable[[Database], DatasetSummary]:
    """The sample's training reviews repeated up to `reviews`, each copy numbered, and its test rows."""

    def load(db: Database) -> DatasetSummary:
        table = read_sample_table()
        review_at = table.columns.index("review")
        source_at = table.columns.index(SOURCE_COLUMN)
        training = [row for row in table.rows if row.values[source_at] == TRAIN_FILE]
        test = [row for row in table.rows if row.values[source_at] == TEST_FILE]
        rows = []
        for number, row in enumerate(itertools.islice(itertools.cycle(training), reviews)):
            values = list(row.values)
            values[review_at] = f"{values[review_at]} ({number})"
            values[0] = f"copy-{number}"
            rows.append(RawRow(row.location, tuple(values)))
        larger = dataclasses.replace(table, rows=[*rows, *test])
        mapping = ColumnMapping(text="review", label="rating", external_id="id")
        plan = build_import_plan(larger, mapping, decode_html_entities=True)
        test_indices = [
            i for i, record in enumerate(plan.records) if record.meta.get(SOURCE_COLUMN) == TEST_FILE
        ]
        return import_dataset(db, plan, name="large", source_filename="large.tsv", test_indices=test_indices)

    return load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reviews", type=int, default=20_000, help="labeled reviews to learn from")
    parser.add_argument("--presets", nargs="+", default=["Quick"], choices=list(PRESETS))
    parser.add_argument("--threads", type=int, default=None, help="default: as the app (all cores but one)")
    args = parser.parse_args()

    device = bench_device(args.threads)
    for preset in args.presets:
        config = PRESETS[preset]
        metrics = train_once(config, preset, device, load=loader(args.reviews))
        plan = metrics["plan"]
        train = int(plan["train"])
        passes = config.passes_read(train)
        steps = dataclasses.replace(config, epochs=config.passes_for(train)).steps_for(train)
        print(
            f"{preset} on {args.reviews:,} labeled reviews ({train:,} to learn from, the rest validation): "
            f"{steps:,} steps, {passes:.2f} passes; learning {metrics['train_seconds']:.0f} s, whole job "
            f"{metrics['whole_job_seconds']:.0f} s, of which {metrics['scoring']['seconds']:.0f} s scoring and "
            f"predicting {plan['score_after_training']:,} reviews after training",
            flush=True,
        )


if __name__ == "__main__":
    main()
