"""Exports of a real (tiny) run: labeled data with every annotator and the run's predictions; model zip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from core.config import Settings
from core.db import Database
from core.exporting import to_csv_bytes
from core.models import LabelClass
from core.services.annotators import add_annotator
from core.services.exports import labeled_data_frame, model_zip
from core.services.labeling import save_label
from core.services.results import scored_records
from core.services.training import run_progress
from tests.integration.test_results import trained_run

pytestmark = pytest.mark.integration


def test_labeled_data_has_final_label_each_annotator_and_predictions(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    dataset_id, run_id = trained_run(db, settings, tiny_model)
    first = scored_records(db, run_id)[0]
    annotator = add_annotator(db, "=Mallory")  # a hostile name becomes a column header
    with db.read() as session:
        negative = session.scalar(
            select(LabelClass.id).where(LabelClass.dataset_id == dataset_id, LabelClass.name == "negative")
        )
    save_label(db, record_id=first.record_id, annotator_id=annotator.id, label_class_id=negative)

    frame = labeled_data_frame(db, dataset_id, run_id=run_id)
    assert len(frame) == 120
    assert frame["review_number"].tolist() == list(range(1, 121))
    assert {
        "text",
        "final_label",
        "split",
        "label_by_=Mallory",
        f"run{run_id}_predicted_label",
        "probability_negative",
        "probability_positive",
    } <= set(frame.columns)
    row = frame[frame["review_number"] == first.position + 1].iloc[0]
    assert row["label_by_=Mallory"] == "negative"
    assert row[f"run{run_id}_predicted_label"] == first.predicted_label
    assert row["probability_negative"] + row["probability_positive"] == pytest.approx(1.0, abs=1e-4)
    assert set(frame["split"]) == {"train", "test"}
    header = to_csv_bytes(frame).decode("utf-8-sig").splitlines()[0]
    assert ",label_by_=Mallory," in header  # safe as it is: the cell starts with "label_by_"

    plain = labeled_data_frame(db, dataset_id)
    assert not any(column.startswith("run") or column.startswith("probability_") for column in plain.columns)


def test_model_zip_loads_with_pipeline_and_carries_a_card(
    db: Database, settings: Settings, tiny_model: str, tmp_path: Path
) -> None:
    from transformers import pipeline

    _, run_id = trained_run(db, settings, tiny_model)
    with zipfile.ZipFile(io.BytesIO(model_zip(db, run_id))) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path)
    root = tmp_path / f"review-studio-run-{run_id}"
    assert f"review-studio-run-{run_id}/model.safetensors" in names
    card = (root / "README.md").read_text()
    assert "negative, positive" in card and "| test |" in card
    calibration = run_progress(db, run_id).metrics["calibration"]
    assert f"test reviews: {calibration['test_ece']:.3f} (a model whose confidence is exactly right" in card
    assert f"would show about {calibration['test_ece_by_chance']:.3f} on these " in card
    classifier = pipeline("text-classification", model=str(root), trust_remote_code=True)
    assert classifier("works well")[0]["label"] in {"negative", "positive"}
