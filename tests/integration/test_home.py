"""Home's snapshot and next steps, on real datasets, labels and a real tiny run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from core.assist.learning_curve import Gain
from core.db import Database
from core.models import Annotation, LabelClass, Record, RunStatus, utcnow
from core.quality import KEYWORDS, MAJORITY
from core.services.annotators import add_annotator
from core.services.demo import DEMO_ANNOTATOR, DEMO_PRESET, start_demo
from core.services.home import StepKind, home_snapshot, suggest_next_steps
from core.services.labeling import save_label
from core.services.results import run_quality
from core.services.training import list_runs
from tests.integration.training_helpers import make_dataset, train_tiny_run


def _label_ids(db: Database, dataset_id: int) -> dict[str, int]:
    with db.read() as session:
        return dict(
            session.execute(
                select(LabelClass.name, LabelClass.id).where(LabelClass.dataset_id == dataset_id)
            ).all()
        )


def _record_ids(db: Database, dataset_id: int) -> list[int]:
    with db.read() as session:
        return list(
            session.scalars(select(Record.id).where(Record.dataset_id == dataset_id).order_by(Record.id))
        )


def test_a_fresh_import_without_labels_says_start_labeling(db: Database) -> None:
    from core.importing.plan import ColumnMapping, build_import_plan
    from core.importing.reader import read_table
    from core.services.importing import import_dataset

    table = read_table(b"review\nfine\nbad\ngood\n", "r.csv")
    dataset = import_dataset(
        db, build_import_plan(table, ColumnMapping(text="review")), name="n", source_filename=None
    )
    snapshot = home_snapshot(db, dataset.id)
    assert snapshot.latest is None and snapshot.people_labels == 0
    steps = suggest_next_steps(snapshot)
    assert [(s.kind, s.count) for s in steps] == [(StepKind.START_LABELING, 3)]


def test_people_this_week_and_labels_since_the_latest_run(
    db: Database, tmp_path: Path, tiny_model: str
) -> None:
    dataset_id, run_id = train_tiny_run(db, tmp_path / "runs", tiny_model, rows=60, epochs=1)
    labels, records = _label_ids(db, dataset_id), _record_ids(db, dataset_id)
    ana, ben = add_annotator(db, "Ana"), add_annotator(db, "Ben")
    for record_id in records[:3]:
        save_label(db, record_id=record_id, annotator_id=ana.id, label_class_id=labels["positive"])
    save_label(db, record_id=records[3], annotator_id=ben.id, label_class_id=labels["negative"])
    with db.write() as session:  # Ben labeled two weeks ago: not active this week, and before the run
        session.execute(
            update(Annotation)
            .where(Annotation.annotator_id == ben.id)
            .values(updated_at=utcnow() - timedelta(days=14))
        )

    snapshot = home_snapshot(db, dataset_id)
    assert snapshot.people_labels == 4
    assert (snapshot.labels_this_week, snapshot.annotators_this_week) == (3, 1)
    assert snapshot.labels_since_latest_run == 3
    assert snapshot.latest is not None and snapshot.latest.id == run_id
    assert [r for r, _ in snapshot.macro_f1_history] == [run_id]
    stored = run_quality(db, run_id).baselines
    assert snapshot.latest_baselines[KEYWORDS].macro_f1 == stored[KEYWORDS].macro_f1
    assert snapshot.latest_baselines[MAJORITY].accuracy == stored[MAJORITY].accuracy

    kinds = [s.kind for s in suggest_next_steps(snapshot)]
    assert StepKind.TRAIN_AGAIN in kinds and StepKind.TRAIN_FIRST not in kinds
    # 30 vs 30 labels: balanced, nothing rare.
    assert StepKind.RARE_LABEL not in kinds


def test_rare_labels_suspicious_ones_and_a_worthwhile_forecast(db: Database) -> None:
    dataset_id = make_dataset(db, rows=40)
    labels, records = _label_ids(db, dataset_id), _record_ids(db, dataset_id)
    with db.write() as session:  # most negatives become positives: negative is rare
        session.execute(
            update(Annotation)
            .where(Annotation.record_id.in_(records[:36]), Annotation.label_class_id == labels["negative"])
            .values(label_class_id=labels["positive"])
        )
    snapshot = home_snapshot(db, dataset_id)
    counts = {c.name: c.train_pool + c.test for c in snapshot.classes}
    assert counts == {"negative": 2, "positive": 38}
    steps = suggest_next_steps(
        snapshot, suspicious=7, gain=Gain(more=200, expected=0.031, low=0.01, high=0.05)
    )
    assert [s.kind for s in steps] == [
        StepKind.RARE_LABEL,
        StepKind.CHECK_SUSPICIOUS,
        StepKind.TRAIN_FIRST,
        StepKind.LABEL_MORE,
    ]
    assert steps[0].label == "negative" and steps[0].count == snapshot.classes[0].train_pool
    assert steps[1].count == 7
    # Half a point is not worth a suggestion, and no doubted label means no suspicious step.
    small = suggest_next_steps(
        snapshot, suspicious=0, gain=Gain(more=200, expected=0.005, low=-0.01, high=0.02)
    )
    assert StepKind.LABEL_MORE not in {s.kind for s in small}
    assert StepKind.CHECK_SUSPICIOUS not in {s.kind for s in small}


def test_the_demo_loads_the_sample_once_names_a_guest_and_queues_one_quick_run(
    db: Database, tiny_model: str
) -> None:
    first = start_demo(db, model_source=tiny_model)
    again = start_demo(db, model_source=tiny_model)  # a double click
    assert again == first
    runs = list_runs(db)
    assert [(r.id, r.status, r.preset, r.model_source) for r in runs] == [
        (first.run_id, RunStatus.QUEUED, DEMO_PRESET, tiny_model)
    ]
    snapshot = home_snapshot(db, first.dataset_id)
    assert snapshot.dataset.records == 979 and snapshot.running is not None
    assert StepKind.WATCH_RUN in {s.kind for s in suggest_next_steps(snapshot)}
    from core.services.annotators import list_annotators

    assert [(a.id, a.name) for a in list_annotators(db)] == [(first.annotator_id, DEMO_ANNOTATOR)]
