"""Dataset editing services: rename, delete, label sets, guidelines, paging, annotators."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from core.db import Database
from core.errors import InvalidInputError, NotFoundError
from core.importing.plan import ColumnMapping, build_import_plan
from core.importing.reader import read_table
from core.labels import LabelSpec
from core.models import Annotation, Record, RunStatus, TrainingRun
from core.services.annotators import add_annotator, list_annotators
from core.services.datasets import (
    DatasetRef,
    delete_dataset,
    get_dataset_overview,
    get_guidelines,
    list_dataset_refs,
    list_datasets,
    list_records,
    rename_dataset,
    update_guidelines,
    update_label_set,
)
from core.services.importing import IMPORT_ANNOTATOR_NAME, import_dataset
from core.services.labeling import save_label
from core.services.training import start_training
from core.training.config import TrainConfig
from core.training.runner import claim_next_run

pytestmark = pytest.mark.integration


@pytest.fixture
def dataset_id(db: Database) -> int:
    rows = "\n".join(f"review {i},{['neg', 'neu', 'pos'][i % 3]}" for i in range(120))
    table = read_table(f"review,label\n{rows}\n".encode(), "r.csv")
    plan = build_import_plan(table, ColumnMapping(text="review", label="label"))
    return import_dataset(db, plan, name="Reviews", source_filename="r.csv").id


def test_rename_and_name_clash(db: Database, dataset_id: int) -> None:
    assert rename_dataset(db, dataset_id, "  New   name ").name == "New name"
    other = import_dataset(
        db,
        build_import_plan(read_table(b"review\na\n", "x.csv"), ColumnMapping(text="review")),
        name="Other",
        source_filename=None,
    )
    with pytest.raises(InvalidInputError, match="already called"):
        rename_dataset(db, other.id, "New name")
    with pytest.raises(InvalidInputError):
        rename_dataset(db, other.id, "   ")


def test_delete_removes_records_and_annotations(db: Database, dataset_id: int) -> None:
    delete_dataset(db, dataset_id)
    assert list_datasets(db) == []
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 0
        assert session.scalar(select(func.count()).select_from(Annotation)) == 0
    with pytest.raises(NotFoundError):
        get_dataset_overview(db, dataset_id)


def test_delete_waits_for_training_and_removes_the_runs_model_folders(
    db: Database, dataset_id: int, tmp_path: Path
) -> None:
    runs_dir = tmp_path / "runs"
    running = start_training(db, dataset_id, TrainConfig(seed=1), preset=None)
    queued = start_training(db, dataset_id, TrainConfig(seed=2), preset=None)
    assert claim_next_run(db) == running
    for run_id in (running, queued, 999):  # 999: another dataset's run, whose folder must stay
        (runs_dir / str(run_id)).mkdir(parents=True)
        (runs_dir / str(run_id) / "model.safetensors").write_bytes(b"weights")

    with pytest.raises(InvalidInputError, match="training on this dataset"):
        delete_dataset(db, dataset_id, runs_dir=runs_dir)
    assert [d.id for d in list_datasets(db)] == [dataset_id]
    assert (runs_dir / str(running)).is_dir()

    with db.write() as session:
        session.execute(
            update(TrainingRun).where(TrainingRun.id == running).values(status=RunStatus.SUCCEEDED)
        )
    delete_dataset(db, dataset_id, runs_dir=runs_dir)
    assert list_datasets(db) == []
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(TrainingRun)) == 0
    assert sorted(p.name for p in runs_dir.iterdir()) == ["999"]


def test_records_are_paged_in_import_order_with_labels(db: Database, dataset_id: int) -> None:
    page = list_records(db, dataset_id, offset=100, limit=50)
    assert page.total == 120
    assert [row.position for row in page.rows] == list(range(100, 120))
    assert page.rows[0].text == "review 100" and page.rows[0].labels == "neu"
    assert page.rows[0].annotators == 1


def test_a_record_lists_each_label_given_once_and_counts_its_annotators(
    db: Database, dataset_id: int
) -> None:
    first = list_records(db, dataset_id, limit=1).rows[0]
    names = {label.name: label.id for label in get_dataset_overview(db, dataset_id).labels}
    other = "pos" if first.labels != "pos" else "neg"
    for person, label in (("Kim", other), ("Lee", other), ("Max", first.labels)):
        save_label(
            db, record_id=first.id, annotator_id=add_annotator(db, person).id, label_class_id=names[label]
        )
    row = list_records(db, dataset_id, limit=1).rows[0]
    assert row.labels == ", ".join(sorted({first.labels, other}))
    assert row.annotators == 4  # the imported labels, Kim, Lee and Max


def test_label_set_rename_recolor_swap_keys_and_add(db: Database, dataset_id: int) -> None:
    labels = get_dataset_overview(db, dataset_id).labels
    neg, neu, pos = labels
    specs = [
        LabelSpec(name="negative", color="#aa0000", shortcut_key=pos.shortcut_key, id=neg.id),
        LabelSpec(name="neutral", color=neu.color, shortcut_key=neu.shortcut_key, id=neu.id),
        LabelSpec(name="positive", color=pos.color, shortcut_key=neg.shortcut_key, id=pos.id),
        LabelSpec(name="mixed", color="#123456", shortcut_key="m"),
    ]
    result = update_label_set(db, dataset_id, specs)
    assert [(i.name, i.shortcut_key, i.color, i.annotations) for i in result] == [
        ("negative", "3", "#AA0000", 40),
        ("neutral", "2", neu.color, 40),
        ("positive", "1", pos.color, 40),
        ("mixed", "m", "#123456", 0),
    ]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([LabelSpec("a", "#000000", "s")], "reserved"),
        ([LabelSpec("a", "#000000", "1"), LabelSpec("b", "#000000", "1")], "two labels"),
        ([LabelSpec("a", "#000000", None), LabelSpec("A", "#000000", None)], "used twice"),
        ([LabelSpec("a", "red", None)], "#1A2B3C"),
        ([LabelSpec(" ", "#000000", None)], "needs a name"),
    ],
)
def test_invalid_label_sets_are_refused(
    db: Database, dataset_id: int, specs: list[LabelSpec], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        update_label_set(db, dataset_id, specs)


def test_deleting_a_used_label_needs_consent(db: Database, dataset_id: int) -> None:
    _neg, neu, pos = get_dataset_overview(db, dataset_id).labels
    keep = [LabelSpec(label.name, label.color, label.shortcut_key, label.id) for label in (neu, pos)]
    with pytest.raises(InvalidInputError, match="“neg” \\(40 labels\\)"):
        update_label_set(db, dataset_id, keep)
    assert len(get_dataset_overview(db, dataset_id).labels) == 3
    update_label_set(db, dataset_id, keep, allow_deleting_used=True)
    overview = get_dataset_overview(db, dataset_id)
    assert [label.name for label in overview.labels] == ["neu", "pos"]
    assert overview.summary.labeled == 80


def test_guidelines_round_trip(db: Database, dataset_id: int) -> None:
    update_guidelines(db, dataset_id, "**pos**: would recommend")
    assert get_dataset_overview(db, dataset_id).guidelines == "**pos**: would recommend"
    assert get_guidelines(db, dataset_id) == "**pos**: would recommend"
    assert list_dataset_refs(db) == [DatasetRef(dataset_id, "Reviews")]


def test_annotators_are_unique_case_insensitively_and_system_names_reserved(
    db: Database, dataset_id: int
) -> None:
    alex = add_annotator(db, " Alex ")
    assert add_annotator(db, "alex") == alex
    with pytest.raises(InvalidInputError, match="reserved"):
        add_annotator(db, IMPORT_ANNOTATOR_NAME.upper())
    assert [a.name for a in list_annotators(db)] == ["Alex"]
    assert IMPORT_ANNOTATOR_NAME in [a.name for a in list_annotators(db, include_system=True)]


def test_concurrent_writers_do_not_fail_with_database_locked(db: Database) -> None:
    errors: list[BaseException] = []

    def worker(worker_id: int) -> None:
        try:
            for i in range(40):
                add_annotator(db, f"w{worker_id}-{i}")
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list_annotators(db)) == 240
