"""Exports: a dataset's labeled data (with a run's predictions), and a run's model folder as a zip."""

from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from core.db import Database
from core.errors import InvalidInputError, NotFoundError
from core.exporting import predictions_frame
from core.final_labels import final_labels
from core.inference import run_folder
from core.models import Annotation, Annotator, Dataset, LabelClass, Prediction, Record, TrainingRun
from core.quality import KEYWORDS, baseline_scores
from core.services.training import trained_on_text


def labeled_data_frame(db: Database, dataset_id: int, *, run_id: int | None = None) -> pd.DataFrame:
    """One row per review: its number, id, split, text, final label, each annotator's label, and, with
    a run, that run's predicted label, confidence and per-label probabilities."""
    finals = final_labels(db, dataset_id)
    with db.read() as session:
        if session.get(Dataset, dataset_id) is None:
            raise NotFoundError("That dataset no longer exists.")
        names = dict(
            session.execute(
                select(LabelClass.id, LabelClass.name).where(LabelClass.dataset_id == dataset_id)
            ).all()
        )
        records = session.execute(
            select(Record.id, Record.position, Record.external_id, Record.split, Record.text)
            .where(Record.dataset_id == dataset_id)
            .order_by(Record.position)
        ).all()
        votes: dict[str, dict[int, str]] = defaultdict(dict)
        for annotator, record_id, label_id in session.execute(
            select(Annotator.name, Annotation.record_id, Annotation.label_class_id)
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .join(Record, Record.id == Annotation.record_id)
            .where(Record.dataset_id == dataset_id)
            .order_by(Annotator.name)
        ):
            votes[annotator][record_id] = names.get(label_id, "")
        predictions: dict[int, dict[str, float]] = {}
        if run_id is not None:
            run = session.get(TrainingRun, run_id)
            if run is None or run.dataset_id != dataset_id:
                raise InvalidInputError("That run does not belong to this dataset.")
            predictions = dict(
                session.execute(
                    select(Prediction.record_id, Prediction.probabilities).where(Prediction.run_id == run_id)
                ).all()
            )
    frame = pd.DataFrame(
        {
            "review_number": [position + 1 for _, position, _, _, _ in records],
            "id": [external_id or "" for _, _, external_id, _, _ in records],
            "split": [str(split) for *_, split, _ in records],
            "text": [text for *_, text in records],
            "final_label": [names.get(finals.get(record_id, -1), "") for record_id, *_ in records],
        }
    )
    for annotator, labels in sorted(votes.items()):
        frame[f"label_by_{annotator}"] = [labels.get(record_id, "") for record_id, *_ in records]
    if run_id is not None:
        order = list(names.values())
        label_names = sorted(
            {name for p in predictions.values() for name in p},
            key=lambda name: (order.index(name) if name in order else len(order), name),
        )
        matrix = np.array(
            [
                [predictions.get(record_id, {}).get(name, np.nan) for name in label_names]
                for record_id, *_ in records
            ]
        )
        frame = predictions_frame(frame, np.nan_to_num(matrix, nan=0.0), label_names)
        missing = np.isnan(matrix).all(axis=1)
        frame.loc[missing, ["predicted_label"]] = ""
        frame = frame.rename(
            columns={
                "predicted_label": f"run{run_id}_predicted_label",
                "confidence": f"run{run_id}_confidence",
            }
        )
    return frame


def model_card(db: Database, run_id: int) -> str:
    with db.read() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise NotFoundError("That run no longer exists.")
        dataset = session.get(Dataset, run.dataset_id)
        metrics, config, environment = run.metrics or {}, run.config or {}, run.environment or {}
        dataset_name = dataset.name if dataset else "(deleted)"
    test, validation = metrics.get("test") or {}, metrics.get("validation") or {}
    labels = test.get("labels") or validation.get("labels") or []
    lines = [
        f"# Review Studio model · run {run_id}",
        "",
        f"Text classifier fine-tuned by Review Studio on the dataset “{dataset_name}”.",
        "",
        "## Use",
        "",
        "```python",
        "from transformers import pipeline",
        'classifier = pipeline("text-classification", model="path/to/this/folder", trust_remote_code=True)',
        'classifier("This medicine worked wonders.")',
        "```",
        "",
        "`trust_remote_code=True` loads the mean-pooling head saved in `modeling_review_studio.py` "
        "(read it first); a model trained with the [CLS] head loads without it.",
        "",
        "## Labels",
        "",
        ", ".join(labels) or "(unknown)",
        "",
        "## Data",
        "",
        f"- trained on {trained_on_text(metrics.get('train_samples'), metrics.get('reviews_read'))}, validated on {validation.get('size', '?')}, "
        f"tested on {test.get('size', '?')} held-out reviews",
        "",
        "## Scores",
        "",
        "| split | accuracy | macro-F1 | weighted F1 |",
        "|---|---|---|---|",
    ]
    for name, scores in (("validation", validation), ("test", test)):
        if scores:
            lines.append(
                f"| {name} | {scores['accuracy']:.3f} | {scores['macro_f1']:.3f} | {scores.get('weighted_f1', 0):.3f} |"
            )
    keywords = baseline_scores(metrics, "test").get(KEYWORDS)
    if keywords is not None:
        lines.append(
            f"| test, keyword baseline (TF-IDF + logistic regression, same training reviews) "
            f"| {keywords.accuracy:.3f} | {keywords.macro_f1:.3f} | |"
        )
    calibration = metrics.get("calibration") or {}
    if calibration.get("temperature"):
        ece, by_chance = calibration.get("test_ece"), calibration.get("test_ece_by_chance")
        chance = (
            f" (a model whose confidence is exactly right would show about {by_chance:.3f} on these "
            f"{(metrics.get('test') or {}).get('size', 0):,} reviews, by chance)"
            if by_chance is not None
            else ""
        )
        lines += [
            "",
            "## Confidence",
            "",
            f"The probabilities are calibrated: temperature scaling fitted on the validation reviews "
            f"(T = {calibration['temperature']:.3f}) is folded into the last layer's weights, so this folder "
            "gives the calibrated probabilities as it is."
            + (
                f" Expected calibration error on the test reviews: {ece:.3f}{chance}."
                if ece is not None
                else ""
            ),
        ]
    lines += [
        "",
        "## Training configuration",
        "",
        "```json",
        json.dumps(config, indent=2),
        "```",
        "",
        "## Environment",
        "",
        "```json",
        json.dumps(environment, indent=2),
        "```",
        "",
        f"Exported {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
    ]
    return "\n".join(lines) + "\n"


def model_zip(db: Database, run_id: int, runs_dir: Path | None = None) -> bytes:
    """The run's folder (save_pretrained files, label map, head code) plus README.md, zipped."""
    folder = run_folder(db, run_id, runs_dir)
    card = model_card(db, run_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        root = f"review-studio-run-{run_id}"
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{root}/{path.relative_to(folder)}")
        archive.writestr(f"{root}/README.md", card)
    return buffer.getvalue()
