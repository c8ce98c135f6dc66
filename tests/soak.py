"""Concurrent labeling under load, shared by tests/integration/test_soak.py and bench/soak.py.

Writer threads, each a different annotator, save labels through the service layer (core.services.
labeling.save_label, the Label page's own call) at the same time, while the caller keeps a training job
writing its progress rows. Afterwards every label must be in the database exactly as saved.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from sqlalchemy import func, select

from core.db import Database
from core.importing.plan import ColumnMapping, build_import_plan
from core.importing.reader import read_table
from core.models import Annotation, Record
from core.services.annotators import add_annotator
from core.services.importing import import_dataset
from core.services.labeling import label_choices, save_label

LABELS = ("negative", "neutral", "positive")


@dataclass
class SoakResult:
    expected: int
    saved: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    missing_or_wrong: int = 0
    seconds: float = 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0

    def describe(self) -> str:
        return (
            f"{self.saved:,} of {self.expected:,} labels acknowledged, {self.missing_or_wrong} missing or wrong "
            f"in the database, {len(self.errors)} errors; save p50 {self.percentile(0.5):.1f} ms, "
            f"p99 {self.percentile(0.99):.1f} ms, mean {statistics.fmean(self.latencies_ms or [0]):.1f} ms; "
            f"{self.seconds:.1f} s"
        )


def soak_dataset(db: Database, reviews: int) -> int:
    """A dataset of `reviews` reviews with three label classes (imported labels, which the writers'
    own labels sit beside)."""
    lines = "".join(f"soak review number {i},{LABELS[i % len(LABELS)]}\n" for i in range(reviews))
    table = read_table(f"review,label\n{lines}".encode(), "soak.csv")
    plan = build_import_plan(table, ColumnMapping(text="review", label="label"))
    return import_dataset(db, plan, name="soak", source_filename=None).id


def expected_label(writer: int, position: int) -> str:
    return LABELS[(writer + position) % len(LABELS)]


def run_soak(
    db: Database,
    *,
    writers: int = 8,
    labels_each: int = 1000,
    meanwhile: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> SoakResult:
    """Every writer labels the same `labels_each` reviews, in its own shuffled order, as its own annotator.
    `meanwhile` is entered before the writers start and left after they finish (e.g. a training job)."""
    dataset_id = soak_dataset(db, labels_each)
    class_ids = {choice.name: choice.id for choice in label_choices(db, dataset_id)}
    with db.read() as session:
        record_ids = list(
            session.scalars(select(Record.id).where(Record.dataset_id == dataset_id).order_by(Record.id))
        )
    annotators = [add_annotator(db, f"soak writer {w}").id for w in range(writers)]
    result = SoakResult(expected=writers * labels_each)
    lock = threading.Lock()
    start = threading.Barrier(writers)

    def write(writer: int) -> None:
        order = list(range(labels_each))
        random.Random(writer).shuffle(order)
        latencies: list[float] = []
        start.wait()
        for position in order:
            began = time.perf_counter()
            try:
                save_label(
                    db,
                    record_id=record_ids[position],
                    annotator_id=annotators[writer],
                    label_class_id=class_ids[expected_label(writer, position)],
                )
            except Exception as error:  # counted and reported: the soak's point is that there are none
                with lock:
                    result.errors.append(f"{type(error).__name__}: {error}")
                continue
            latencies.append((time.perf_counter() - began) * 1000)
        with lock:
            result.latencies_ms.extend(latencies)
            result.saved += len(latencies)

    began = time.perf_counter()
    with meanwhile():
        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    result.seconds = time.perf_counter() - began
    result.missing_or_wrong = _check(db, record_ids, annotators, class_ids, labels_each)
    return result


def _check(
    db: Database, record_ids: list[int], annotators: list[int], class_ids: dict[str, int], labels_each: int
) -> int:
    """How many (writer, review) pairs lack their label, or hold another one, or more than one row."""
    position_of = {record_id: position for position, record_id in enumerate(record_ids)}
    writer_of = {annotator_id: writer for writer, annotator_id in enumerate(annotators)}
    with db.read() as session:
        rows = session.execute(
            select(Annotation.record_id, Annotation.annotator_id, Annotation.label_class_id).where(
                Annotation.annotator_id.in_(annotators)
            )
        ).all()
    found: dict[tuple[int, int], list[int]] = {}
    for record_id, annotator_id, label_class_id in rows:
        found.setdefault((writer_of[annotator_id], position_of[record_id]), []).append(label_class_id)
    bad = 0
    for writer in range(len(annotators)):
        for position in range(labels_each):
            if found.get((writer, position)) != [class_ids[expected_label(writer, position)]]:
                bad += 1
    return bad


def annotation_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Annotation)) or 0)
