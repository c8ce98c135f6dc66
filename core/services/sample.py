"""One-click sample dataset: real drug reviews, labeled positive / neutral / negative."""

from __future__ import annotations

from core.db import Database
from core.importing.plan import build_import_plan
from core.models import RecordSplit
from core.sample_data import SAMPLE_MAPPING, SAMPLE_NAME, SOURCE_COLUMN, TEST_FILE, read_sample_table
from core.services.datasets import DatasetRef, DatasetSummary, list_dataset_refs
from core.services.importing import ProgressCallback, import_dataset


def existing_sample(db: Database) -> DatasetRef | None:
    """The sample, if it was loaded already (a second click opens it instead of importing it twice)."""
    return next((ref for ref in list_dataset_refs(db) if ref.name == SAMPLE_NAME), None)


def load_sample_dataset(db: Database, *, on_progress: ProgressCallback | None = None) -> DatasetSummary:
    """Import the sample through the same path as an upload; drugsComTest.tsv becomes the test split."""
    table = read_sample_table()
    plan = build_import_plan(table, SAMPLE_MAPPING, decode_html_entities=True)
    test_indices = [i for i, record in enumerate(plan.records) if record.meta.get(SOURCE_COLUMN) == TEST_FILE]
    return import_dataset(
        db,
        plan,
        name=SAMPLE_NAME,
        source_filename="drugsCom.zip",
        import_info={
            "format": "Sample data (TSV)",
            "test_split": f"{RecordSplit.TEST.value} = rows of {TEST_FILE}",
        },
        test_indices=test_indices,
        on_progress=on_progress,
    )
