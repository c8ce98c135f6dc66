"""The model in the loop: embeddings that resume, a fast model fitted on people's labels only,
suggestions that move from label meanings to learned ones, and refits that never queue behind training."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pytest
from sqlalchemy import select

from core.assist.embeddings import EmbeddingStore, embed_dataset, sentence_encoder
from core.assist.fast_model import FastModel
from core.assist.refresh import FAST_MODEL_FILE, refresh_descriptions, refresh_fast_model
from core.assist.runner import AssistRunner
from core.config import Settings
from core.db import Database
from core.labels import LabelSpec
from core.models import Annotation, LabelClass, Record, RunStatus, TrainingRun
from core.services.annotators import add_annotator
from core.services.datasets import get_dataset_overview, update_label_set
from core.services.labeling import save_label
from core.services.suggestions import Suggester, SuggestionSource, suggestion_record
from tests.integration.training_helpers import make_dataset

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def encoder():  # type: ignore[no-untyped-def]
    return sentence_encoder()  # the real bundled MiniLM through sentence-transformers


class Counting:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self, encode) -> None:  # type: ignore[no-untyped-def]
        self.encode, self.texts = encode, 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return self.encode(texts)


def _records(db: Database, dataset_id: int) -> list[int]:
    with db.read() as session:
        return list(
            session.scalars(
                select(Record.id).where(Record.dataset_id == dataset_id).order_by(Record.position)
            )
        )


def _labels(db: Database, dataset_id: int) -> dict[str, int]:
    with db.read() as session:
        return dict(
            session.execute(
                select(LabelClass.name, LabelClass.id).where(LabelClass.dataset_id == dataset_id)
            ).all()
        )


def test_embedding_resumes_where_it_stopped_and_never_recomputes(
    db: Database, settings: Settings, encoder
) -> None:  # type: ignore[no-untyped-def]
    dataset_id = make_dataset(db, rows=20)
    store = EmbeddingStore.for_dataset(db, settings.data_dir, dataset_id)
    counting = Counting(encoder)
    assert embed_dataset(db, dataset_id, store, counting, shard_size=8, max_shards=1) == 8
    # A crash mid-shard leaves only a temporary file behind, which is never read as a shard.
    (store.folder / ".shard-000001.partial.npz").write_bytes(b"half a file")
    assert embed_dataset(db, dataset_id, store, counting, shard_size=8) == 12
    assert embed_dataset(db, dataset_id, store, counting, shard_size=8) == 0
    assert counting.texts == 20
    ids, vectors = store.load()
    assert sorted(ids.tolist()) == sorted(_records(db, dataset_id))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-2)


def test_suggestions_start_from_label_meanings_then_learn_from_people_only(
    db: Database, settings: Settings, encoder
) -> None:  # type: ignore[no-untyped-def]
    dataset_id = make_dataset(db, rows=24)  # arrives with imported labels on every review
    store = EmbeddingStore.for_dataset(db, settings.data_dir, dataset_id)
    embed_dataset(db, dataset_id, store, encoder)
    labels = _labels(db, dataset_id)
    overview = get_dataset_overview(db, dataset_id)
    update_label_set(
        db,
        dataset_id,
        [
            LabelSpec(
                label.name,
                label.color,
                label.shortcut_key,
                id=label.id,
                description=f"the reviewer is {'happy' if label.name == 'positive' else 'unhappy'} with the drug",
            )
            for label in overview.labels
        ],
    )
    refresh_descriptions(db, dataset_id, store, encoder)
    # Imported labels alone do not make a fast model: it would echo the hidden label back.
    assert refresh_fast_model(db, dataset_id, store) is None
    suggester = Suggester(store)
    records = _records(db, dataset_id)
    first = suggester.suggest(records[0])
    assert first is not None and first.source is SuggestionSource.DESCRIPTIONS

    kim = add_annotator(db, "Kim")
    with db.read() as session:
        texts = dict(session.execute(select(Record.id, Record.text).where(Record.id.in_(records))).all())
    for record_id in records[:12]:
        label = (
            "positive"
            if any(
                w in texts[record_id] for w in ("great", "works", "no side", "recommend", "helped", "amazing")
            )
            else "negative"
        )
        save_label(
            db,
            record_id=record_id,
            annotator_id=kim.id,
            label_class_id=labels[label],
            suggested_label_id=labels["positive"],
        )
    model = refresh_fast_model(db, dataset_id, store)
    assert model is not None and model.trained_on == 12
    assert refresh_fast_model(db, dataset_id, store) is None  # nothing changed: no refit
    learned = suggester.suggest(records[20])
    assert learned is not None and learned.source is SuggestionSource.FAST_MODEL and learned.trained_on == 12
    record = suggestion_record(db, dataset_id)
    assert record.shown == 12 and 0 < record.taken < 12

    # Taking labels back below the minimum hands suggestions back to the label meanings.
    with db.write() as session:
        session.execute(Annotation.__table__.delete().where(Annotation.annotator_id == kim.id))
    assert refresh_fast_model(db, dataset_id, store) is None
    assert not (store.folder / FAST_MODEL_FILE).exists()
    assert suggester.suggest(records[20]).source is SuggestionSource.DESCRIPTIONS  # type: ignore[union-attr]


def test_a_refit_does_not_wait_behind_a_running_fine_tune(db: Database, settings: Settings, encoder) -> None:  # type: ignore[no-untyped-def]
    dataset_id = make_dataset(db, rows=16)
    labels = _labels(db, dataset_id)
    # A fine-tune holds the training queue for as long as this test runs.
    with db.write() as session:
        session.add(
            TrainingRun(
                dataset_id=dataset_id, status=RunStatus.RUNNING, model_source="bundled", preset="Balanced"
            )
        )
    runner = AssistRunner(db, settings.data_dir, encoder_factory=lambda: encoder).start()
    try:
        store = EmbeddingStore.for_dataset(db, settings.data_dir, dataset_id)
        _wait_for(lambda: len(store.embedded_ids()) == 16)
        kim = add_annotator(db, "Kim")
        for index, record_id in enumerate(_records(db, dataset_id)[:8]):
            save_label(
                db,
                record_id=record_id,
                annotator_id=kim.id,
                label_class_id=labels["positive" if index % 2 else "negative"],
            )
        runner.wake()
        started = time.monotonic()
        _wait_for(lambda: FastModel.load(store.folder / FAST_MODEL_FILE) is not None)
        assert time.monotonic() - started < 5
    finally:
        runner.stop()
    with db.read() as session:
        assert session.scalar(select(TrainingRun.status)) == RunStatus.RUNNING


def _wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_a_deleted_datasets_vectors_go_with_it_and_never_reach_a_dataset_that_reuses_its_id(
    db: Database, settings: Settings, encoder
) -> None:  # type: ignore[no-untyped-def]
    from core.services.datasets import delete_dataset

    first = make_dataset(db, rows=8)
    old = EmbeddingStore.for_dataset(db, settings.data_dir, first)
    embed_dataset(db, first, old, encoder)
    assert len(old.embedded_ids()) == 8
    delete_dataset(db, first, data_dir=settings.data_dir)
    assert not old.folder.exists()

    second = make_dataset(db, rows=8)  # SQLite may hand out the same dataset and record ids again
    assert len(EmbeddingStore.for_dataset(db, settings.data_dir, second).embedded_ids()) == 0


def test_model_orders_start_with_typical_reviews_then_ask_where_the_model_is_torn(
    db: Database, settings: Settings, encoder
) -> None:  # type: ignore[no-untyped-def]
    from core.services.active import next_active

    dataset_id = make_dataset(db, rows=30)
    store = EmbeddingStore.for_dataset(db, settings.data_dir, dataset_id)
    embed_dataset(db, dataset_id, store, encoder)
    suggester = Suggester(store)
    cold = next_active(db, suggester, dataset_id, diverse=False)
    assert cold is not None and cold.torn_between is None and cold.group_size >= 1

    labels = _labels(db, dataset_id)
    kim = add_annotator(db, "Kim")
    records = _records(db, dataset_id)
    for index, record_id in enumerate(records[:10]):
        label = "positive" if index % 2 else "negative"  # make_dataset alternates, starting negative
        save_label(db, record_id=record_id, annotator_id=kim.id, label_class_id=labels[label])
    refresh_fast_model(db, dataset_id, store)
    torn = next_active(db, suggester, dataset_id, diverse=True, recent=records[:3])
    assert torn is not None and torn.torn_between is not None
    assert torn.record_id not in records[:10]  # never a review a person already labeled
    (first, first_share), (second, second_share) = torn.torn_between
    assert {first, second} == set(labels.values()) and first_share >= second_share
    # Everything else excluded: nothing left to pick.
    assert next_active(db, suggester, dataset_id, diverse=False, exclude=records[10:]) is None


def test_planted_label_errors_are_found_and_a_kept_label_is_not_flagged_again(
    db: Database, settings: Settings, encoder
) -> None:  # type: ignore[no-untyped-def]
    from core.services.agreement import adjudicate
    from core.services.label_issues import change_label, find_suspicious_labels, keep_label

    dataset_id = make_dataset(db, rows=60)  # imported labels, all right: they follow the words
    store = EmbeddingStore.for_dataset(db, settings.data_dir, dataset_id)
    embed_dataset(db, dataset_id, store, encoder)
    labels = _labels(db, dataset_id)
    records = _records(db, dataset_id)
    planted = records[0:12:2]  # six negative reviews (even positions), now labeled positive
    for record_id in planted:
        adjudicate(db, record_id=record_id, label_class_id=labels["positive"], annotator_id=None)
    suggester = Suggester(store)
    report = find_suspicious_labels(db, suggester, dataset_id)
    flagged = [issue.record_id for issue in report.issues]
    assert report.checked == 60 and report.flagged == len(flagged)
    found = set(flagged) & set(planted)
    assert len(found) >= 4 and len(found) / len(flagged) >= 0.6  # recall and precision on planted errors
    first = next(issue for issue in report.issues if issue.record_id in planted)
    assert first.suggested_label_id == labels["negative"] and first.quality < 0.5

    change_label(db, first, labels["negative"], annotator_id=None)
    kept = next(issue for issue in report.issues if issue.record_id != first.record_id)
    keep_label(db, kept, annotator_id=None)
    again = {issue.record_id for issue in find_suspicious_labels(db, suggester, dataset_id).issues}
    assert first.record_id not in again and kept.record_id not in again


def test_keeping_one_of_each_near_duplicate_group_sets_the_rest_aside_until_put_back(
    db: Database, settings: Settings, encoder
) -> None:  # type: ignore[no-untyped-def]
    from core.services.duplicates import find_duplicate_groups, keep_one, put_back, set_aside_count
    from core.services.labeling import QueueOrder, next_record_id
    from core.training.data import build_training_data

    # make_dataset repeats six phrases, differing only in a trailing number: up to six groups of four.
    dataset_id = make_dataset(db, rows=24)
    store = EmbeddingStore.for_dataset(db, settings.data_dir, dataset_id)
    embed_dataset(db, dataset_id, store, encoder)
    suggester = Suggester(store)
    groups = find_duplicate_groups(db, suggester, dataset_id, similarity=0.9)
    assert len(groups) >= 3 and len(groups[0].members) == 4
    for group in groups:
        assert len({m.text.split(" number ")[0] for m in group.members}) == 1
    assert all(not g.settled for g in groups)
    group = groups[0]
    kept = group.keeper.record_id
    assert group.keeper.position == min(m.position for m in group.members)  # all labeled: import order
    trained_before = len(build_training_data(db, dataset_id, validation_share=0.2, seed=1).train.labels)

    assert keep_one(db, dataset_id, group) == 3
    assert set_aside_count(db, dataset_id) == 3
    aside = set(group.record_ids) - {kept}
    kim = add_annotator(db, "Kim")
    for order in (QueueOrder.UNLABELED_FIRST, QueueOrder.RANDOM):
        seen: list[int] = []
        while (found := next_record_id(db, dataset_id, kim.id, order=order, exclude=seen)) is not None:
            seen.append(found)
        assert kept in seen and not aside & set(seen) and len(seen) == 21
    data = build_training_data(db, dataset_id, validation_share=0.2, seed=1)
    every = {r for part in data.parts().values() for r in part.record_ids}
    assert kept in every and not aside & every
    again = find_duplicate_groups(db, suggester, dataset_id, similarity=0.9)
    settled = next(g for g in again if kept in g.record_ids)
    assert settled.settled and settled.keeper.record_id == kept

    assert put_back(db, dataset_id, sorted(aside)) == 3
    assert set_aside_count(db, dataset_id) == 0
    after = build_training_data(db, dataset_id, validation_share=0.2, seed=1)
    assert len(after.train.labels) == trained_before


def test_a_finished_run_that_beats_the_quick_model_takes_over_suggestions(
    db: Database, settings: Settings, encoder, tiny_model: str
) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from core.models import Prediction
    from core.services.suggestions import fine_tuned_takeover, suggest_for_review
    from tests.integration.training_helpers import train_tiny_run

    dataset_id, run_id = train_tiny_run(db, settings.data_dir / "runs", tiny_model)
    store = EmbeddingStore.for_dataset(db, settings.data_dir, dataset_id)
    embed_dataset(db, dataset_id, store, encoder)
    labels, records = _labels(db, dataset_id), _records(db, dataset_id)
    kim = add_annotator(db, "Kim")
    for index, record_id in enumerate(records[:12]):
        label = "positive" if index % 2 else "negative"
        save_label(db, record_id=record_id, annotator_id=kim.id, label_class_id=labels[label])
    quick = refresh_fast_model(db, dataset_id, store)
    assert quick is not None and quick.cv_macro_f1 is not None  # scored by cross-validation on refit
    with db.read() as session:
        run = session.get(TrainingRun, run_id)
        assert run is not None
        run_score = run.metrics["validation"]["macro_f1"]
        top = session.execute(
            select(Prediction.label_class_id, Prediction.confidence).where(
                Prediction.run_id == run_id, Prediction.record_id == records[-1]
            )
        ).one()
    suggester = Suggester(store)
    path = store.folder / FAST_MODEL_FILE

    # A quick model that scored below the run: the run's calibrated prediction is the suggestion.
    dataclasses.replace(quick, cv_macro_f1=run_score - 0.1).save(path)
    suggestion = suggest_for_review(db, suggester, dataset_id, records[-1])
    assert suggestion is not None and suggestion.source is SuggestionSource.FINE_TUNED
    assert (suggestion.label_class_id, suggestion.run_id) == (top.label_class_id, run_id)
    assert suggestion.confidence == pytest.approx(top.confidence, abs=1e-6)

    # One that scored at least as well keeps the suggestions.
    dataclasses.replace(quick, cv_macro_f1=run_score).save(path)
    fresh = Suggester(store)
    kept = suggest_for_review(db, fresh, dataset_id, records[-1])
    assert kept is not None and kept.source is SuggestionSource.FAST_MODEL
    assert fine_tuned_takeover(db, dataset_id, fresh.fast_model()) is None
