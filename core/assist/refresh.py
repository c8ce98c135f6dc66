"""Keeping a dataset's in-loop files current: label descriptions, the fast model, embeddings.

Each step is small (a few texts, one refit, one shard of reviews), so the assist runner can interleave
them and a refit never waits behind a long embedding pass, nor behind a fine-tune, which has its own
runner. Every file is written whole under a temporary name and renamed into place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from core.assist.embeddings import EmbeddingStore, TextEncoder, embed_dataset
from core.assist.fast_model import FastModel, fit_fast_model, ready_for_fast_model
from core.db import Database
from core.final_labels import final_labels
from core.models import Adjudication, Annotation, Annotator, LabelClass, Record

FAST_MODEL_FILE = "fast_model.npz"
DESCRIPTIONS_FILE = "descriptions.npz"


@dataclass(frozen=True)
class LabelDescriptions:
    label_ids: np.ndarray
    texts: list[str]
    vectors: np.ndarray

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.stem}.partial.npz")
        np.savez(
            partial, label_ids=self.label_ids, texts=np.array(self.texts, dtype=str), vectors=self.vectors
        )
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> LabelDescriptions | None:
        if not path.is_file():
            return None
        with np.load(path) as data:
            return cls(data["label_ids"], [str(t) for t in data["texts"]], data["vectors"])


def current_descriptions(db: Database, dataset_id: int) -> tuple[list[int], list[str]]:
    """(label ids, description texts) in label order; a label without a description is its name."""
    with db.read() as session:
        rows = session.execute(
            select(LabelClass.id, LabelClass.name, LabelClass.description)
            .where(LabelClass.dataset_id == dataset_id)
            .order_by(LabelClass.position)
        ).all()
    return [row[0] for row in rows], [(row[2] or "").strip() or row[1] for row in rows]


def labels_version(db: Database, dataset_id: int) -> str:
    """Changes whenever a person adds, changes or removes a label, or a conflict is settled."""
    in_dataset = select(Record.id).where(Record.dataset_id == dataset_id)
    with db.read() as session:
        count, latest = session.execute(
            select(func.count(), func.max(Annotation.updated_at))
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .where(Annotation.record_id.in_(in_dataset), Annotator.is_system.is_(False))
        ).one()
        settled = session.scalar(
            select(func.count()).select_from(Adjudication).where(Adjudication.record_id.in_(in_dataset))
        )
    return f"{count}:{latest}:{settled}"


def refresh_descriptions(db: Database, dataset_id: int, store: EmbeddingStore, encoder: TextEncoder) -> bool:
    """Re-embed the label descriptions if they changed. True when it wrote a new file."""
    label_ids, texts = current_descriptions(db, dataset_id)
    path = store.folder / DESCRIPTIONS_FILE
    stored = LabelDescriptions.load(path)
    if stored is not None and stored.label_ids.tolist() == label_ids and stored.texts == texts:
        return False
    vectors = encoder(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    LabelDescriptions(np.array(label_ids, dtype=np.int64), texts, np.asarray(vectors, dtype=np.float32)).save(
        path
    )
    return True


def refresh_fast_model(db: Database, dataset_id: int, store: EmbeddingStore) -> FastModel | None:
    """Refit the fast model if people's labels changed since its last fit. Returns the new model, or
    None when nothing changed or too few labeled reviews are embedded yet."""
    version = labels_version(db, dataset_id)
    path = store.folder / FAST_MODEL_FILE
    stored = FastModel.load(path)
    if stored is not None and stored.labels_version == version:
        return None
    labels = final_labels(db, dataset_id, people_only=True)
    ids, vectors = store.load()
    row_of = {int(record_id): row for row, record_id in enumerate(ids)}
    labeled = [(row_of[record_id], label) for record_id, label in labels.items() if record_id in row_of]
    if not ready_for_fast_model([label for _, label in labeled]):
        if stored is not None:
            path.unlink(missing_ok=True)  # labels were taken back: descriptions lead again
        return None
    rows = [row for row, _ in labeled]
    model = fit_fast_model(
        vectors[rows], [label for _, label in labeled], labels_version=version, with_score=True
    )
    model.save(path)
    return model


def embed_next_shard(db: Database, dataset_id: int, store: EmbeddingStore, encoder: TextEncoder) -> int:
    """Embed at most one shard of the reviews not embedded yet; 0 when the dataset is complete."""
    return embed_dataset(db, dataset_id, store, encoder, max_shards=1)
