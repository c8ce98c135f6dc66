"""Engine settings, migrations and schema rules, against a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from core.config import Settings
from core.db import BUSY_TIMEOUT_MS, Database, alembic_config, open_database, upgrade_schema
from core.models import Annotation, Annotator, Base, Dataset, LabelClass, Record, RunStatus, TrainingRun

pytestmark = pytest.mark.integration


def test_every_connection_sets_the_sqlite_pragmas(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite's own connection settings")
    with db.read() as session:
        pragma = lambda name: session.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == BUSY_TIMEOUT_MS
        assert pragma("synchronous") == 2  # FULL


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def _database_at(settings: Settings, revision: str) -> Database:
    """A database as an older version of the app left it: migrated only up to `revision`."""
    settings.data_dir.mkdir(parents=True)
    old = Database(settings.database_url)
    config = alembic_config(old)
    with old.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return old


def test_existing_database_is_upgraded_not_recreated(settings: Settings) -> None:
    old = _database_at(settings, "0001")
    with old.write() as session:
        session.execute(
            text(
                "INSERT INTO datasets (name, import_info, guidelines, created_at, updated_at) "
                "VALUES ('kept', '{}', '', '2026-01-01', '2026-01-01')"
            )
        )
    old.dispose()

    upgraded = open_database(settings)
    with upgraded.read() as session:
        assert session.execute(text("SELECT name FROM datasets")).scalars().all() == ["kept"]
        head = ScriptDirectory.from_config(alembic_config(upgraded)).get_current_head()
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    assert "adjudications" in inspect(upgraded.engine).get_table_names()
    upgrade_schema(upgraded)  # a second start is a no-op
    upgraded.dispose()


def test_upgrading_past_table_rebuilds_keeps_every_runs_curves_and_predictions(settings: Settings) -> None:
    # 0003 and 0004 rebuild training_runs. With foreign keys on, dropping the old table would cascade
    # into run_events, run_records and predictions; core.db runs migrations with them off.
    old = _database_at(settings, "0002")
    stamp = "'2026-01-01'"
    with old.write() as session:
        for statement in (
            "INSERT INTO datasets (id, name, import_info, guidelines, created_at, updated_at) "
            f"VALUES (1, 'd', '{{}}', '', {stamp}, {stamp})",
            "INSERT INTO records (id, dataset_id, position, text, text_length, meta, content_hash, split, "
            f"created_at) VALUES (1, 1, 0, 'great', 5, '{{}}', 'h', 'test', {stamp})",
            "INSERT INTO label_classes (id, dataset_id, name, color, position) VALUES (1, 1, 'pos', '#000', 0)",
            "INSERT INTO training_runs (id, dataset_id, status, model_source, config, environment, progress, "
            f"step, epoch, cancel_requested, metrics, created_at) VALUES (1, 1, 'succeeded', 'm', '{{}}', "
            f"'{{}}', 1, 0, 0, 0, '{{}}', {stamp})",
            f"INSERT INTO run_events (run_id, kind, step, epoch, metrics, created_at) "
            f"VALUES (1, 'train', 1, 0.5, '{{}}', {stamp})",
            "INSERT INTO run_records (run_id, record_id, part, label_class_id) VALUES (1, 1, 'test', 1)",
            "INSERT INTO predictions (run_id, record_id, label_class_id, confidence, probabilities) "
            """VALUES (1, 1, 1, 0.9, '{"pos": 0.9}')""",
        ):
            session.execute(text(statement))
    old.dispose()

    upgraded = open_database(settings)
    with upgraded.read() as session:
        counts = [
            session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("training_runs", "run_events", "run_records", "predictions")
        ]
        assert counts == [1, 1, 1, 1]
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1  # back on for the app
    upgraded.dispose()


def test_the_id_of_a_deleted_newest_run_is_not_given_again(db: Database) -> None:
    dataset_id, _, _ = _dataset_with_record(db)
    with db.write() as session:
        first, newest = (TrainingRun(dataset_id=dataset_id, model_source="m") for _ in range(2))
        session.add_all([first, newest])
        session.flush()
        newest_id = newest.id
        session.delete(newest)
    with db.write() as session:
        again = TrainingRun(dataset_id=dataset_id, model_source="m")
        session.add(again)
        session.flush()
        assert again.id == newest_id + 1  # "Run #2" never names two different models


def _dataset_with_record(db: Database) -> tuple[int, int, int]:
    with db.write() as session:
        dataset = Dataset(name="d")
        session.add(dataset)
        session.flush()
        record = Record(dataset_id=dataset.id, position=0, text="t", text_length=1, content_hash="h")
        label = LabelClass(dataset_id=dataset.id, name="x", color="#000000", position=0)
        session.add_all([record, label])
        session.flush()
        return dataset.id, record.id, label.id


def test_one_annotation_per_record_and_annotator_by_named_constraint(db: Database) -> None:
    _, record_id, label_id = _dataset_with_record(db)
    with db.write() as session:
        annotator = Annotator(name="ann")
        session.add(annotator)
        session.flush()
        annotator_id = annotator.id
        session.add(Annotation(record_id=record_id, annotator_id=annotator_id, label_class_id=label_id))
    with (
        # SQLite names the columns, PostgreSQL the constraint.
        pytest.raises(
            IntegrityError,
            match=r"annotations\.record_id, annotations\.annotator_id|uq_annotation_record_annotator",
        ),
        db.write() as session,
    ):
        session.add(Annotation(record_id=record_id, annotator_id=annotator_id, label_class_id=label_id))
    names = {c["name"] for c in inspect(db.engine).get_unique_constraints("annotations")}
    assert "uq_annotation_record_annotator" in names


def test_database_allows_only_one_running_training_run(db: Database) -> None:
    dataset_id, _, _ = _dataset_with_record(db)
    with db.write() as session:
        session.add(TrainingRun(dataset_id=dataset_id, model_source="m", status=RunStatus.RUNNING))
        session.add(TrainingRun(dataset_id=dataset_id, model_source="m", status=RunStatus.QUEUED))
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(TrainingRun(dataset_id=dataset_id, model_source="m", status=RunStatus.RUNNING))


def test_deleting_a_dataset_cascades(db: Database) -> None:
    dataset_id, _, _ = _dataset_with_record(db)
    with db.write() as session:
        session.delete(session.get(Dataset, dataset_id))
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM records")).scalar() == 0
        assert session.execute(text("SELECT count(*) FROM label_classes")).scalar() == 0


def test_times_come_back_as_the_same_moment_in_utc_on_every_database(db: Database) -> None:
    # The test PostgreSQL server runs in Pacific/Auckland (tests/postgres.py), so a database that handed
    # back its own zone, or read a naive time as local, would show here.
    moment_in_india = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    naive_utc = datetime(2026, 3, 1, 4, 0)
    with db.write() as session:
        dataset = Dataset(name="times", created_at=moment_in_india)
        second = Dataset(name="naive", created_at=naive_utc)
        session.add_all([dataset, second])
        session.flush()
        ids = dataset.id, second.id
    with db.read() as session:
        stored = [session.get(Dataset, i).created_at for i in ids]  # type: ignore[union-attr]
        # Compared in SQL against a naive UTC bound value, as date filters do.
        between = session.scalars(
            select(Dataset.name).where(
                Dataset.created_at >= datetime(2026, 3, 1, 3, 59),
                Dataset.created_at < datetime(2026, 3, 1, 4, 1),
            )
        ).all()
    assert stored[0] == datetime(2026, 3, 1, 4, 0, tzinfo=UTC) and stored[0].utcoffset() == timedelta(0)
    assert stored[1] == datetime(2026, 3, 1, 4, 0, tzinfo=UTC) and stored[1].utcoffset() == timedelta(0)
    assert sorted(between) == ["naive", "times"]
    if db.is_sqlite:  # the stored text keeps its zone-less form, as every earlier version wrote it
        with db.read() as session:
            raw = session.execute(text("SELECT created_at FROM datasets WHERE name = 'times'")).scalar()
        assert raw == "2026-03-01 04:00:00.000000"
