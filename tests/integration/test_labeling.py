"""Labeling services against SQLite: saves, undo, queues, progress, search, bulk, agreement, final labels."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, tzinfo

import pytest
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import func, select, update

from core.db import Database
from core.errors import InvalidInputError
from core.final_labels import final_labels
from core.importing.plan import ColumnMapping, build_import_plan
from core.importing.reader import read_table
from core.models import Annotation, utcnow
from core.services.agreement import adjudicate, agreement_report
from core.services.annotators import add_annotator, list_annotators
from core.services.browse import UNLABELED, RecordFilter, bulk_label, search_records
from core.services.importing import IMPORT_ANNOTATOR_NAME, import_dataset
from core.services.labeling import (
    QueueOrder,
    get_review,
    label_choices,
    labeling_progress,
    next_record_id,
    recent_labels,
    restore_label,
    save_label,
    shuffle_key,
)
from ui.formatting import browser_zone, start_of_local_day

pytestmark = pytest.mark.integration


def make_dataset(
    db: Database, rows: int = 20, *, labeled: bool = False
) -> tuple[int, list[int], dict[str, int]]:
    body = "\n".join(f"review number {i},{['bad', 'good'][i % 2]}" for i in range(rows))
    table = read_table(f"review,label\n{body}\n".encode(), "r.csv")
    mapping = ColumnMapping(text="review", label="label")
    plan = build_import_plan(table, mapping)
    dataset = import_dataset(db, plan, name="d", source_filename=None)
    if not labeled:
        # Keep the label set but drop the imported labels: a dataset waiting for people.
        with db.write() as session:
            session.query(Annotation).delete()
    ids = [row.id for row in search_records(db, dataset.id, limit=500).rows]
    labels = {choice.name: choice.id for choice in label_choices(db, dataset.id)}
    return dataset.id, ids, labels


def test_save_is_idempotent_and_records_duration(db: Database) -> None:
    _, ids, labels = make_dataset(db)
    alex = add_annotator(db, "Alex")
    first = save_label(
        db, record_id=ids[0], annotator_id=alex.id, label_class_id=labels["good"], duration_ms=1200
    )
    again = save_label(
        db, record_id=ids[0], annotator_id=alex.id, label_class_id=labels["good"], duration_ms=50
    )
    assert (first.previous_label_id, first.changed) == (None, True)
    assert (again.previous_label_id, again.changed) == (labels["good"], False)
    with db.read() as session:
        rows = session.execute(select(Annotation.label_class_id, Annotation.duration_ms)).all()
    assert rows == [(labels["good"], 1200)]


def test_two_annotators_keep_their_own_labels_and_undo_restores(db: Database) -> None:
    _, ids, labels = make_dataset(db)
    alex, bo = add_annotator(db, "Alex"), add_annotator(db, "Bo")
    save_label(db, record_id=ids[0], annotator_id=alex.id, label_class_id=labels["good"])
    changed = save_label(db, record_id=ids[0], annotator_id=alex.id, label_class_id=labels["bad"])
    save_label(db, record_id=ids[0], annotator_id=bo.id, label_class_id=labels["good"])
    card = get_review(db, ids[0], alex.id)
    assert card.my_label_id == labels["bad"] and card.other_labels == [("Bo", "good")]
    restore_label(db, record_id=ids[0], annotator_id=alex.id, label_class_id=changed.previous_label_id)
    assert get_review(db, ids[0], alex.id).my_label_id == labels["good"]
    restore_label(db, record_id=ids[0], annotator_id=alex.id, label_class_id=None)
    assert get_review(db, ids[0], alex.id).my_label_id is None
    assert get_review(db, ids[0], bo.id).my_label_id == labels["good"]


def test_labels_from_another_dataset_and_imported_annotator_are_refused(db: Database) -> None:
    _, ids, _ = make_dataset(db)
    _, _, other_labels = make_dataset(db)
    alex = add_annotator(db, "Alex")
    with pytest.raises(InvalidInputError, match="not part of this dataset"):
        save_label(db, record_id=ids[0], annotator_id=alex.id, label_class_id=other_labels["good"])
    system = next(a for a in list_annotators(db, include_system=True) if a.name == IMPORT_ANNOTATOR_NAME)
    with pytest.raises(InvalidInputError, match="Imported labels"):
        save_label(db, record_id=ids[0], annotator_id=system.id, label_class_id=other_labels["good"] - 2)


def test_queue_orders(db: Database) -> None:
    dataset_id, ids, labels = make_dataset(db, rows=10)
    alex, bo = add_annotator(db, "Alex"), add_annotator(db, "Bo")
    assert next_record_id(db, dataset_id, alex.id) == ids[0]
    save_label(db, record_id=ids[0], annotator_id=bo.id, label_class_id=labels["good"])
    save_label(db, record_id=ids[3], annotator_id=bo.id, label_class_id=labels["bad"])
    # Unlabeled first resumes after the current review, skips what anyone labeled, and wraps around.
    assert next_record_id(db, dataset_id, alex.id) == ids[1]
    assert next_record_id(db, dataset_id, alex.id, after_position=2) == ids[4]
    assert next_record_id(db, dataset_id, alex.id, after_position=9) == ids[1]
    assert next_record_id(db, dataset_id, alex.id, exclude=[ids[1], ids[2]]) == ids[4]
    # Overlap: what others labeled and I did not.
    assert next_record_id(db, dataset_id, alex.id, order=QueueOrder.OTHERS_NOT_ME) == ids[0]
    save_label(db, record_id=ids[0], annotator_id=alex.id, label_class_id=labels["good"])
    assert next_record_id(db, dataset_id, alex.id, order=QueueOrder.OTHERS_NOT_ME) == ids[3]
    # Random: seeded, repeatable, never one I labeled, and the seed changes the order.
    seeded = [next_record_id(db, dataset_id, alex.id, order=QueueOrder.RANDOM, seed=s) for s in range(6)]
    assert seeded == [
        next_record_id(db, dataset_id, alex.id, order=QueueOrder.RANDOM, seed=s) for s in range(6)
    ]
    assert ids[0] not in seeded and len(set(seeded)) > 1


def test_random_queue_walks_every_record_once_in_seeded_order(db: Database) -> None:
    dataset_id, ids, labels = make_dataset(db, rows=60)
    alex = add_annotator(db, "Alex")
    visited: list[int] = []
    current = next_record_id(db, dataset_id, alex.id, order=QueueOrder.RANDOM, seed=5)
    while current is not None:
        visited.append(current)
        save_label(db, record_id=current, annotator_id=alex.id, label_class_id=labels["good"])
        current = next_record_id(
            db, dataset_id, alex.id, order=QueueOrder.RANDOM, seed=5, after_record_id=current
        )
    assert sorted(visited) == sorted(ids)
    assert visited == sorted(ids, key=lambda record_id: shuffle_key(record_id, 5))
    assert visited != sorted(ids)


def test_imported_labels_do_not_empty_the_queue_for_people(db: Database) -> None:
    dataset_id, ids, labels = make_dataset(db, rows=4, labeled=True)
    alex = add_annotator(db, "Alex")
    assert next_record_id(db, dataset_id, alex.id) == ids[0]
    save_label(db, record_id=ids[0], annotator_id=alex.id, label_class_id=labels["good"])
    assert next_record_id(db, dataset_id, alex.id, after_position=0) == ids[1]
    progress = labeling_progress(db, dataset_id, alex.id, since=utcnow() - timedelta(hours=1))
    assert (progress.labeled, progress.imported, progress.mine) == (1, 4, 1)


def test_empty_queue_returns_none(db: Database) -> None:
    dataset_id, ids, labels = make_dataset(db, rows=3)
    alex = add_annotator(db, "Alex")
    for record_id in ids:
        save_label(db, record_id=record_id, annotator_id=alex.id, label_class_id=labels["bad"])
    assert next_record_id(db, dataset_id, alex.id) is None
    assert next_record_id(db, dataset_id, alex.id, order=QueueOrder.RANDOM) is None


def test_progress_and_history(db: Database) -> None:
    dataset_id, ids, labels = make_dataset(db, rows=10)
    alex, bo = add_annotator(db, "Alex"), add_annotator(db, "Bo")
    for record_id in ids[:3]:
        save_label(db, record_id=record_id, annotator_id=alex.id, label_class_id=labels["good"])
    save_label(db, record_id=ids[5], annotator_id=bo.id, label_class_id=labels["bad"])
    start_of_day = utcnow() - timedelta(hours=1)
    progress = labeling_progress(db, dataset_id, alex.id, since=start_of_day)
    assert (progress.total, progress.labeled, progress.imported, progress.mine, progress.mine_today) == (
        10,
        4,
        0,
        3,
        3,
    )
    assert labeling_progress(db, dataset_id, alex.id, since=utcnow() + timedelta(hours=1)).mine_today == 0
    history = recent_labels(db, dataset_id, alex.id, limit=2)
    assert [item.record_id for item in history] == [ids[2], ids[1]]
    assert history[0].label_name == "good"


def test_search_filters_and_bulk_label(db: Database) -> None:
    dataset_id, ids, labels = make_dataset(db, rows=30)
    alex, bo = add_annotator(db, "Alex"), add_annotator(db, "Bo")
    assert bulk_label(db, record_ids=ids[:5], annotator_id=alex.id, label_class_id=labels["good"]) == 5
    assert bulk_label(db, record_ids=ids[:6], annotator_id=alex.id, label_class_id=labels["good"]) == 1
    save_label(db, record_id=ids[10], annotator_id=bo.id, label_class_id=labels["bad"])

    def positions(record_filter: RecordFilter) -> list[int]:
        return [row.position for row in search_records(db, dataset_id, record_filter, limit=500).rows]

    assert positions(RecordFilter(text_contains="NUMBER 1")) == [1, *range(10, 20)]
    assert positions(RecordFilter(text_contains="100%")) == []
    assert positions(RecordFilter(label_class_id=labels["good"])) == list(range(6))
    assert positions(RecordFilter(label_class_id=labels["good"], annotator_id=bo.id)) == []
    assert positions(RecordFilter(annotator_id=bo.id)) == [10]
    assert len(positions(RecordFilter(label_class_id=UNLABELED))) == 30 - 7
    today = utcnow().date()  # the filter's days are UTC's unless a zone is given
    # Yesterday too, so a test that runs across midnight still finds its labels.
    assert len(positions(RecordFilter(labeled_from=today - timedelta(days=1), labeled_to=today))) == 7
    assert positions(RecordFilter(labeled_to=today - timedelta(days=2))) == []
    page = search_records(db, dataset_id, RecordFilter(text_contains="number"), offset=25, limit=10)
    assert (page.total, [r.position for r in page.rows]) == (30, list(range(25, 30)))
    with pytest.raises(InvalidInputError):
        bulk_label(db, record_ids=[], annotator_id=alex.id, label_class_id=labels["good"])


def test_days_are_the_labelers_own_in_browse_and_progress(db: Database) -> None:
    dataset_id, ids, labels = make_dataset(db, rows=3)
    alex = add_annotator(db, "Alex")
    # In March Auckland is UTC+13: 10:30Z on the 10th is 23:30 there, 11:30Z is already the 11th.
    saved_at = {
        ids[0]: datetime(2026, 3, 10, 10, 30, tzinfo=UTC),
        ids[1]: datetime(2026, 3, 10, 11, 30, tzinfo=UTC),
        ids[2]: datetime(2026, 3, 9, 23, 30, tzinfo=UTC),
    }
    for record_id, moment in saved_at.items():
        save_label(db, record_id=record_id, annotator_id=alex.id, label_class_id=labels["good"])
        with db.write() as session:
            session.execute(
                update(Annotation).where(Annotation.record_id == record_id).values(updated_at=moment)
            )
    auckland = browser_zone("Pacific/Auckland")

    def positions_on(day: date, zone: tzinfo) -> list[int]:
        record_filter = RecordFilter(labeled_from=day, labeled_to=day, day_zone=zone)
        return [row.position for row in search_records(db, dataset_id, record_filter, limit=10).rows]

    assert positions_on(date(2026, 3, 10), UTC) == [0, 1]
    assert positions_on(date(2026, 3, 10), auckland) == [0, 2]
    assert positions_on(date(2026, 3, 11), auckland) == [1]

    def today_at(now: datetime, zone: tzinfo) -> int:
        since = start_of_local_day(now, zone)
        return labeling_progress(db, dataset_id, alex.id, since=since).mine_today

    quarter_to_noon = datetime(2026, 3, 10, 11, 45, tzinfo=UTC)
    assert today_at(quarter_to_noon, UTC) == 2
    assert today_at(quarter_to_noon, auckland) == 1  # there it is a quarter to one, on the 11th


def test_browser_zone_falls_back_to_utc() -> None:
    assert browser_zone(None) is UTC
    assert browser_zone("") is UTC
    assert browser_zone("Nowhere/Atlantis") is UTC
    assert browser_zone("../etc/passwd") is UTC
    # On the day Auckland's clocks go back (5 April 2026, +13 until 3am, +12 after) the afternoon's day
    # still began at midnight +13, not an hour later as subtracting the afternoon's offset would give.
    afternoon = datetime(2026, 4, 5, 5, 0, tzinfo=UTC)  # 17:00 there
    assert start_of_local_day(afternoon, browser_zone("Pacific/Auckland")) == datetime(
        2026, 4, 4, 11, 0, tzinfo=UTC
    )


def test_agreement_matches_sklearn_and_adjudication_sets_the_final_label(db: Database) -> None:
    dataset_id, ids, labels = make_dataset(db, rows=12)
    alex, bo, cy = add_annotator(db, "Alex"), add_annotator(db, "Bo"), add_annotator(db, "Cy")
    good, bad = labels["good"], labels["bad"]
    alex_votes = [good, good, bad, bad, good, bad, good, bad]
    bo_votes = [good, bad, bad, bad, good, good, good, bad]
    for record_id, a, b in zip(ids, alex_votes, bo_votes, strict=False):
        save_label(db, record_id=record_id, annotator_id=alex.id, label_class_id=a)
        save_label(db, record_id=record_id, annotator_id=bo.id, label_class_id=b)
    save_label(db, record_id=ids[10], annotator_id=cy.id, label_class_id=good)  # one rater only: not counted

    report = agreement_report(db, dataset_id)
    assert report.annotators == ["Alex", "Bo", "Cy"]
    assert report.multi_labeled_records == 8
    assert report.percent_agreement == pytest.approx(6 / 8)
    [pair] = report.pairs
    assert (pair.annotator_a, pair.annotator_b, pair.shared_records) == ("Alex", "Bo", 8)
    assert pair.cohen_kappa == pytest.approx(cohen_kappa_score(alex_votes, bo_votes))
    assert report.fleiss_raters == 2 and report.fleiss_records == 8
    assert report.fleiss_kappa is not None and -1 <= report.fleiss_kappa <= 1
    assert [c.record_id for c in report.conflicts] == [ids[1], ids[5]]
    assert report.conflicts[0].votes == [("Alex", "good"), ("Bo", "bad")]

    # Tie between two annotators: the most recent label wins until someone adjudicates.
    assert final_labels(db, dataset_id)[ids[1]] == bad
    adjudicate(db, record_id=ids[1], label_class_id=good, annotator_id=cy.id)
    assert final_labels(db, dataset_id)[ids[1]] == good
    assert agreement_report(db, dataset_id).conflicts[0].adjudicated_label_id == good
    adjudicate(db, record_id=ids[1], label_class_id=None, annotator_id=None)
    assert final_labels(db, dataset_id)[ids[1]] == bad


def test_final_labels_use_imported_labels_when_nobody_else_labeled(db: Database) -> None:
    dataset_id, ids, labels = make_dataset(db, rows=4, labeled=True)
    finals = final_labels(db, dataset_id)
    assert finals == {
        ids[0]: labels["bad"],
        ids[1]: labels["good"],
        ids[2]: labels["bad"],
        ids[3]: labels["good"],
    }
    assert final_labels(db, dataset_id, record_ids=[ids[1]]) == {ids[1]: labels["good"]}


def test_eight_threads_times_500_saves_lose_nothing(db: Database) -> None:
    """Two 'browser sessions' per dataset share records; every label must land exactly once."""
    dataset_id, ids, labels = make_dataset(db, rows=500)
    annotators = [add_annotator(db, f"annotator {n}") for n in range(8)]
    label_ids = [labels["bad"], labels["good"]]
    errors: list[BaseException] = []

    def label_everything(worker: int) -> None:
        try:
            for offset, record_id in enumerate(ids):
                save_label(
                    db,
                    record_id=record_id,
                    annotator_id=annotators[worker].id,
                    label_class_id=label_ids[(offset + worker) % 2],
                )
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=label_everything, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.read() as session:
        rows = session.execute(
            select(Annotation.record_id, Annotation.annotator_id, Annotation.label_class_id)
        ).all()
        assert session.scalar(select(func.count()).select_from(Annotation)) == 8 * 500
    expected = {
        (record_id, annotators[worker].id, label_ids[(offset + worker) % 2])
        for worker in range(8)
        for offset, record_id in enumerate(ids)
    }
    assert set(rows) == expected
    assert labeling_progress(db, dataset_id, annotators[0].id, since=utcnow() - timedelta(days=1)).mine == 500
