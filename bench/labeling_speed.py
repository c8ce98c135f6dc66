"""Labeling speed on a 100,000-review dataset, measured server side through the service layer.

    python bench/labeling_speed.py [--rows 100000] [--saves 300]

Prints p50/p95 of "save a label and fetch the next review" for each queue order, and the time to load
one filtered page of the table view. Bars (issue #3): save + next p95 <= 50 ms; filtered page <= 300 ms.

    python bench/labeling_speed.py --during-training

also trains the bundled model on the sample in a background thread of this process (as the app does,
on all cores but one) and measures labeling meanwhile. Bar (issue #4): label save p95 <= 150 ms.

    python bench/labeling_speed.py --with-suggestions [--during-training]

measures what the Label page does per review with the model in the loop (issue #11): save, pick the
next review where the fast model is least sure, read it and look up its suggestion. The 100,000 vectors
are random unit vectors written to the embedding store (embedding them for real takes ~20 minutes
here; the lookup cost does not depend on what they mean) and the fast model is fitted on 1,000 of them.
Bar: p95 <= 150 ms, also while a fine-tune trains.

    python bench/labeling_speed.py --while-embedding

labels a fresh 100,000-review dataset while the app's assist runner embeds it for real in its own
thread (as right after an import): save, next review, suggestion; and how far embedding got meanwhile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data import synthetic_csv

from core.config import DATA_DIR_ENV, load_settings
from core.db import Database, open_database
from core.importing.plan import ColumnMapping, build_import_plan
from core.importing.reader import read_table
from core.services.annotators import add_annotator
from core.services.browse import UNLABELED, RecordFilter, search_records
from core.services.importing import import_dataset
from core.services.labeling import QueueOrder, get_review, label_choices, next_record_id, save_label

SAVE_BAR_MS = 50.0
SAVE_DURING_TRAINING_BAR_MS = 150.0
PAGE_BAR_MS = 300.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(what: str, timings: list[float], bar_ms: float, extra: str = "") -> None:
    p95 = percentile(timings, 0.95)
    print(
        f"{what}: p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms over {len(timings)} saves{extra}  "
        f"[bar <= {bar_ms:.0f} ms: {'PASS' if p95 <= bar_ms else 'FAIL'}]"
    )


def save_and_next_loop(
    db: Database, dataset_id: int, annotator_id: int, order: QueueOrder, saves: int
) -> list[float]:
    labels = [choice.id for choice in label_choices(db, dataset_id)]
    current = next_record_id(db, dataset_id, annotator_id, order=order, seed=7)
    position = get_review(db, current, annotator_id).position if current else None
    timings: list[float] = []
    for step in range(saves):
        if current is None:
            break
        started = time.perf_counter()
        save_label(
            db, record_id=current, annotator_id=annotator_id, label_class_id=labels[step % len(labels)]
        )
        # Exactly what the Label page passes: resume after the review just labeled.
        current = next_record_id(
            db,
            dataset_id,
            annotator_id,
            order=order,
            seed=7,
            after_position=position,
            after_record_id=current,
        )
        if current is not None:
            card = get_review(db, current, annotator_id)
            position = card.position
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def suggestion_loop(db: Database, dataset_id: int, annotator_id: int, saves: int) -> list[float]:
    import numpy as np

    from core.assist.embeddings import EmbeddingStore
    from core.assist.fast_model import fit_fast_model
    from core.assist.refresh import FAST_MODEL_FILE
    from core.services.active import next_active
    from core.services.suggestions import Suggester, suggest_for_review

    store = EmbeddingStore.for_dataset(db, Path(os.environ[DATA_DIR_ENV]), dataset_id)
    with db.read() as session:
        from sqlalchemy import select

        from core.models import Record

        ids = np.array(session.scalars(select(Record.id).where(Record.dataset_id == dataset_id)).all())
    rng = np.random.default_rng(0)
    labels = [choice.id for choice in label_choices(db, dataset_id)]
    for start in range(0, len(ids), 10_000):
        vectors = rng.normal(size=(len(ids[start : start + 10_000]), 384)).astype(np.float32)
        store.append(
            ids[start : start + 10_000].tolist(), vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        )
    _, all_vectors = store.load()
    fit_fast_model(all_vectors[:1000], [labels[i % len(labels)] for i in range(1000)]).save(
        store.folder / FAST_MODEL_FILE
    )
    suggester = Suggester(store)
    suggester.view()  # the page holds one per dataset, built once
    pick = next_active(db, suggester, dataset_id, diverse=False)
    timings: list[float] = []
    for step in range(saves):
        if pick is None:
            break
        started = time.perf_counter()
        save_label(
            db, record_id=pick.record_id, annotator_id=annotator_id, label_class_id=labels[step % len(labels)]
        )
        pick = next_active(db, suggester, dataset_id, diverse=False)
        if pick is not None:
            get_review(db, pick.record_id, annotator_id)
            suggest_for_review(db, suggester, dataset_id, pick.record_id)  # what the Label page calls
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_while_embedding(db: Database, dataset_id: int, annotator_id: int, saves: int) -> None:
    from core.assist.embeddings import EmbeddingStore
    from core.assist.runner import AssistRunner
    from core.services.suggestions import Suggester, suggest_for_review

    data_dir = Path(os.environ[DATA_DIR_ENV])
    runner = AssistRunner(db, data_dir).start()
    store = EmbeddingStore.for_dataset(db, data_dir, dataset_id)
    deadline = time.monotonic() + 300
    while not any(store.folder.glob("shard-*.npz")) and time.monotonic() < deadline:
        time.sleep(0.5)  # the encoder loads first
    suggester = Suggester(store)
    labels = [choice.id for choice in label_choices(db, dataset_id)]
    current = next_record_id(db, dataset_id, annotator_id)
    timings: list[float] = []
    suggested = 0
    started_all = time.perf_counter()
    for step in range(saves):
        if current is None:
            break
        started = time.perf_counter()
        save_label(
            db, record_id=current, annotator_id=annotator_id, label_class_id=labels[step % len(labels)]
        )
        position = get_review(db, current, annotator_id).position
        current = next_record_id(db, dataset_id, annotator_id, after_position=position)
        if current is not None:
            get_review(db, current, annotator_id)
            suggested += suggest_for_review(db, suggester, dataset_id, current) is not None
        timings.append((time.perf_counter() - started) * 1000)
        time.sleep(0.2)  # a fast labeler: five reviews a second at most
    embedded = len(suggester.view().record_ids)
    runner.stop(timeout=60)
    report(
        "save + next + suggestion while embedding",
        timings,
        SAVE_DURING_TRAINING_BAR_MS,
        f" in {time.perf_counter() - started_all:.0f} s; {suggested} had a suggestion; "
        f"{embedded:,} reviews embedded by the end",
    )


def timed(func: Callable[[], object], runs: int = 7) -> list[float]:
    func()  # warm the page cache once
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        results.append((time.perf_counter() - started) * 1000)
    return results


def measure_during_training(
    db: Database, dataset_id: int, annotator_id: int, saves: int, *, with_suggestions: bool = False
) -> None:
    from core.services.sample import load_sample_dataset
    from core.services.training import run_progress, start_training
    from core.training.config import PRESETS
    from core.training.runner import TrainingRunner

    sample = load_sample_dataset(db)
    run_id = start_training(db, sample.id, PRESETS["Balanced"], preset="Balanced")
    runner = TrainingRunner(db, Path(os.environ[DATA_DIR_ENV]) / "runs").start()
    runner.wake()
    deadline = time.monotonic() + 300
    while run_progress(db, run_id).step < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    progress = run_progress(db, run_id)
    print(f"training run #{run_id} at step {progress.step} on {progress.summary.device}")
    timings = (
        suggestion_loop(db, dataset_id, annotator_id, saves)
        if with_suggestions
        else save_and_next_loop(db, dataset_id, annotator_id, QueueOrder.UNLABELED_FIRST, saves)
    )
    still_training = run_progress(db, run_id).summary.status.value == "running"
    report(
        f"save + fetch next{' with suggestions' if with_suggestions else ''} while training",
        timings,
        SAVE_DURING_TRAINING_BAR_MS,
        f" (run still training at the end: {still_training})",
    )
    from core.services.training import cancel_run

    cancel_run(db, run_id)
    runner.stop(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--during-training", action="store_true")
    parser.add_argument("--with-suggestions", action="store_true")
    parser.add_argument("--while-embedding", action="store_true")
    args = parser.parse_args()

    os.environ[DATA_DIR_ENV] = tempfile.mkdtemp(prefix="bench-label-")
    os.environ.pop("DATABASE_URL", None)
    db = open_database(load_settings())
    table = read_table(synthetic_csv(args.rows), "bench.csv")
    # Imported as unlabeled text with a label set, like a fresh labeling project.
    plan = build_import_plan(table, ColumnMapping(text="review", label="rating"))
    dataset = import_dataset(db, plan, name="bench", source_filename=None)
    people = [add_annotator(db, f"bench annotator {n}") for n in range(2)]
    print(f"dataset: {dataset.records:,} reviews (imported labels present); cpu cores: {os.cpu_count()}")
    if args.during_training:
        measure_during_training(
            db, dataset.id, people[0].id, args.saves, with_suggestions=args.with_suggestions
        )
        return
    if args.while_embedding:
        measure_while_embedding(db, dataset.id, people[0].id, args.saves)
        return
    if args.with_suggestions:
        timings = suggestion_loop(db, dataset.id, people[0].id, args.saves)
        report("save + least-sure next + suggestion", timings, SAVE_DURING_TRAINING_BAR_MS)
        return

    for order, who in (
        (QueueOrder.UNLABELED_FIRST, people[0]),
        (QueueOrder.RANDOM, people[1]),
        (QueueOrder.OTHERS_NOT_ME, people[1]),
    ):
        timings = save_and_next_loop(db, dataset.id, who.id, order, args.saves)
        report(f"save + fetch next [{order.value}]", timings, SAVE_BAR_MS)

    labels = label_choices(db, dataset.id)
    filters = {
        "no filter": RecordFilter(),
        "text contains 'doctor'": RecordFilter(text_contains="doctor"),
        "label = positive": RecordFilter(label_class_id=labels[-1].id),
        "unlabeled": RecordFilter(label_class_id=UNLABELED),
        "annotator + label": RecordFilter(annotator_id=people[0].id, label_class_id=labels[0].id),
        "text + label, page 50": RecordFilter(text_contains="pain", label_class_id=labels[0].id),
    }
    for name, record_filter in filters.items():
        offset = 49 * 100 if "page 50" in name else 0
        timings = timed(
            lambda f=record_filter, o=offset: search_records(db, dataset.id, f, offset=o, limit=100)
        )
        worst = max(timings)
        print(
            f"filtered table page [{name}]: median {statistics.median(timings):.0f} ms, max {worst:.0f} ms  "
            f"[bar <= {PAGE_BAR_MS:.0f} ms: {'PASS' if worst <= PAGE_BAR_MS else 'FAIL'}]"
        )


if __name__ == "__main__":
    main()
