"""What the Label page suggests for a review, and how often suggestions were right.

The assist runner writes a dataset's embeddings, label descriptions and fast model as files; a
Suggester reads them. A finished fine-tuned run that beats the fast model takes over where it has a
prediction (suggest_for_review). Embedding shards are append-only, so it loads new shards only, and it reloads
the small model and description files when they change on disk.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from sqlalchemy import case, func, select

from core.assist.embeddings import EmbeddingStore
from core.assist.fast_model import FastModel, zero_shot_probabilities
from core.assist.refresh import DESCRIPTIONS_FILE, FAST_MODEL_FILE, LabelDescriptions
from core.assist.strategies import group_reviews
from core.db import Database
from core.models import Annotation, LabelClass, Prediction, Record, RunStatus, TrainingRun

T = TypeVar("T")


class SuggestionSource(enum.StrEnum):
    DESCRIPTIONS = "descriptions"
    FAST_MODEL = "fast_model"
    FINE_TUNED = "fine_tuned"


@dataclass(frozen=True)
class Suggestion:
    label_class_id: int
    confidence: float
    runner_up_id: int | None
    runner_up_confidence: float
    source: SuggestionSource
    trained_on: int  # labeled reviews behind it; 0 for descriptions
    # With FINE_TUNED: which run, its validation macro-F1, and the quick model's cross-validated one.
    run_id: int | None = None
    run_macro_f1: float | None = None
    quick_macro_f1: float | None = None

    @property
    def margin(self) -> float:
        return self.confidence - self.runner_up_confidence


@dataclass(frozen=True)
class EmbeddedView:
    record_ids: np.ndarray
    vectors: np.ndarray
    groups: np.ndarray
    centres: np.ndarray
    model: FastModel | None
    # The model's probabilities for every row, in view order (None without a model): computed once per
    # refit, so an active-learning pick does not redo 100,000 rows of arithmetic per review.
    probabilities: np.ndarray | None = None


class Suggester:
    """One dataset's suggestions, read from the assist runner's files. Safe to share between threads."""

    def __init__(self, store: EmbeddingStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._shards: set[str] = set()
        self._where: dict[int, tuple[int, int]] = {}  # record id -> (chunk, row)
        self._chunks: list[np.ndarray] = []
        self._chunk_ids: list[np.ndarray] = []
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None  # (ids, float32 vectors) of all chunks
        self._groups: tuple[np.ndarray, np.ndarray] | None = None  # (group per row, centres)
        self._scored: tuple[FastModel | None, int, np.ndarray | None] = (None, -1, None)
        self._model: tuple[float, FastModel | None] = (-1.0, None)
        self._descriptions: tuple[float, LabelDescriptions | None] = (-1.0, None)

    def embedded(self) -> int:
        """How many of the dataset's reviews could get a suggestion at the last suggest() or view()."""
        with self._lock:
            return len(self._where)

    def suggest(self, record_id: int) -> Suggestion | None:
        with self._lock:
            self._refresh()
            place = self._where.get(record_id)
            model, descriptions = self._model[1], self._descriptions[1]
        if place is None:
            return None  # not embedded yet
        vector = self._chunks[place[0]][place[1] : place[1] + 1].astype(np.float32)
        if model is not None:
            return _top_two(
                model.probabilities(vector)[0], model.label_ids, SuggestionSource.FAST_MODEL, model.trained_on
            )
        if descriptions is not None and len(descriptions.label_ids) >= 2:
            probabilities = zero_shot_probabilities(vector, descriptions.vectors)[0]
            return _top_two(probabilities, descriptions.label_ids, SuggestionSource.DESCRIPTIONS, 0)
        return None

    def fast_model(self) -> FastModel | None:
        """The fast model as of the last suggest() or view(), which reread the files just before."""
        with self._lock:
            return self._model[1]

    def view(self) -> EmbeddedView:
        """Every embedded review with its vector, group of similar reviews, and the current fast model:
        what the active-learning orders choose from. Cached until new shards arrive."""
        with self._lock:
            self._refresh()
            rows = sum(len(chunk) for chunk in self._chunks)
            if self._matrix is None or len(self._matrix[0]) != rows:
                if self._chunks:
                    ids = np.concatenate(self._chunk_ids)
                    vectors = np.concatenate(self._chunks).astype(np.float32)
                else:
                    ids, vectors = np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
                self._matrix = (ids, vectors)
                self._groups = self._regroup(vectors)
            assert self._groups is not None
            model, vectors = self._model[1], self._matrix[1]
            if self._scored[0] is not model or self._scored[1] != len(vectors):
                scored = model.probabilities(vectors) if model is not None and len(vectors) else None
                self._scored = (model, len(vectors), scored)
            return EmbeddedView(self._matrix[0], vectors, *self._groups, model, self._scored[2])

    def _regroup(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Re-cluster when the data has grown by half since the last time; in between, new rows join
        # the nearest existing group (cheap while a large dataset is still being embedded).
        if self._groups is not None and len(vectors) and len(self._groups[0]) * 1.5 >= len(vectors):
            centres = self._groups[1]
            nearest = np.argmax(vectors @ centres.T, axis=1) if len(centres) else np.zeros(len(vectors))
            return nearest.astype(np.int64), centres
        if len(vectors) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return group_reviews(vectors)

    def _refresh(self) -> None:
        folder = self.store.folder
        if not folder.is_dir():
            return
        for shard in sorted(p for p in folder.glob("shard-*.npz") if p.name not in self._shards):
            with np.load(shard) as data:
                ids, vectors = data["ids"], data["vectors"]
            chunk = len(self._chunks)
            self._chunks.append(vectors)
            self._chunk_ids.append(ids.astype(np.int64))
            self._where.update({int(record_id): (chunk, row) for row, record_id in enumerate(ids)})
            self._shards.add(shard.name)
        self._model = _reload(folder / FAST_MODEL_FILE, self._model, FastModel.load)
        self._descriptions = _reload(folder / DESCRIPTIONS_FILE, self._descriptions, LabelDescriptions.load)


def _reload(
    path: Path, current: tuple[float, T | None], loader: Callable[[Path], T | None]
) -> tuple[float, T | None]:
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return (-1.0, None)
    if stamp == current[0]:
        return current
    return (stamp, loader(path))


def _top_two(
    probabilities: np.ndarray, label_ids: np.ndarray, source: SuggestionSource, trained_on: int
) -> Suggestion:
    order = np.argsort(probabilities)[::-1]
    second = order[1] if len(order) > 1 else None
    return Suggestion(
        label_class_id=int(label_ids[order[0]]),
        confidence=float(probabilities[order[0]]),
        runner_up_id=None if second is None else int(label_ids[second]),
        runner_up_confidence=0.0 if second is None else float(probabilities[second]),
        source=source,
        trained_on=trained_on,
    )


@dataclass(frozen=True)
class SuggestionRecord:
    shown: int  # labels given while a suggestion was on screen
    taken: int  # ... that matched it

    @property
    def share_right(self) -> float:
        return self.taken / self.shown if self.shown else 0.0


def suggestion_record(db: Database, dataset_id: int, *, annotator_id: int | None = None) -> SuggestionRecord:
    """How often the label people gave matched the suggestion they were shown."""
    query = (
        select(
            func.count(),
            func.sum(case((Annotation.label_class_id == Annotation.suggested_label_id, 1), else_=0)),
        )
        .join(Record, Record.id == Annotation.record_id)
        .where(Record.dataset_id == dataset_id, Annotation.suggested_label_id.is_not(None))
    )
    if annotator_id is not None:
        query = query.where(Annotation.annotator_id == annotator_id)
    with db.read() as session:
        shown, taken = session.execute(query).one()
    return SuggestionRecord(int(shown or 0), int(taken or 0))


def record_count(db: Database, dataset_id: int) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).where(Record.dataset_id == dataset_id)) or 0)


@dataclass(frozen=True)
class TakeOver:
    """A finished fine-tuned run whose predictions suggest labels instead of the quick model's."""

    run_id: int
    validation_macro_f1: float
    trained_on: int
    quick_macro_f1: float | None


def fine_tuned_takeover(db: Database, dataset_id: int, fast_model: FastModel | None) -> TakeOver | None:
    """The dataset's latest finished run, when it scored higher on its validation part than the quick
    model does in cross-validation (or when there is no scored quick model to compare with)."""
    with db.read() as session:
        run = session.execute(
            select(TrainingRun.id, TrainingRun.metrics)
            .where(TrainingRun.dataset_id == dataset_id, TrainingRun.status == RunStatus.SUCCEEDED)
            .order_by(TrainingRun.finished_at.desc(), TrainingRun.id.desc())
            .limit(1)
        ).first()
    if run is None:
        return None
    metrics = run.metrics or {}
    score = (metrics.get("validation") or {}).get("macro_f1")
    if score is None:
        return None
    quick = fast_model.cv_macro_f1 if fast_model is not None else None
    if quick is not None and float(score) <= quick:
        return None
    return TakeOver(int(run.id), float(score), int(metrics.get("train_samples") or 0), quick)


def suggest_for_review(
    db: Database, suggester: Suggester, dataset_id: int, record_id: int
) -> Suggestion | None:
    """What the Label page suggests: a better fine-tuned run's prediction where it has one for this
    review (its calibrated probabilities), else the quick model's or the label meanings'."""
    quick = suggester.suggest(record_id)
    takeover = fine_tuned_takeover(db, dataset_id, suggester.fast_model())
    if takeover is None:
        return quick
    with db.read() as session:
        probabilities = session.scalar(
            select(Prediction.probabilities).where(
                Prediction.run_id == takeover.run_id, Prediction.record_id == record_id
            )
        )
        ids = dict(
            session.execute(
                select(LabelClass.name, LabelClass.id).where(LabelClass.dataset_id == dataset_id)
            ).all()
        )
    known = {ids[name]: float(p) for name, p in (probabilities or {}).items() if name in ids}
    if len(known) < 2:
        return quick  # reviews imported after the run, or labels renamed since
    label_ids = np.array(list(known), dtype=np.int64)
    top = _top_two(
        np.array(list(known.values())), label_ids, SuggestionSource.FINE_TUNED, takeover.trained_on
    )
    return dataclasses.replace(
        top,
        run_id=takeover.run_id,
        run_macro_f1=takeover.validation_macro_f1,
        quick_macro_f1=takeover.quick_macro_f1,
    )
