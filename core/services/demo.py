"""Try the demo: the sample dataset, a guest labeler and a Quick run, from one click."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from core.db import Database
from core.services.annotators import add_annotator
from core.services.importing import ProgressCallback
from core.services.sample import existing_sample, load_sample_dataset
from core.services.training import start_training
from core.training.config import BUNDLED_MODEL, PRESETS

DEMO_PRESET = "Quick"
DEMO_ANNOTATOR = "Guest"


@dataclass(frozen=True)
class DemoStarted:
    dataset_id: int
    annotator_id: int
    run_id: int


def start_demo(
    db: Database, *, model_source: str = BUNDLED_MODEL, on_progress: ProgressCallback | None = None
) -> DemoStarted:
    """Load the sample (or reuse it: a second click must not import it twice), name a guest labeler,
    and queue a Quick run, which trains while the guest labels. Safe to call again."""
    existing = existing_sample(db)
    dataset_id = existing.id if existing else load_sample_dataset(db, on_progress=on_progress).id
    annotator = add_annotator(db, DEMO_ANNOTATOR)
    config = dataclasses.replace(PRESETS[DEMO_PRESET], model_source=model_source)
    run_id = start_training(db, dataset_id, config, preset=DEMO_PRESET)
    return DemoStarted(dataset_id=dataset_id, annotator_id=annotator.id, run_id=run_id)
