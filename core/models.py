"""ORM classes (SQLAlchemy 2.0 typed declarative). Only services and query functions touch these."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Named constraints let Alembic's batch mode rebuild SQLite tables without guessing names.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC, read back with its zone on every database.

    SQLite keeps no zone (the columns hold UTC by convention) and PostgreSQL hands timestamptz back in
    its session's zone, so plain DateTime gives naive times from one and, say, +13:00 times from the
    other. Here every value goes in as UTC (a naive one is taken to be UTC already) and comes out aware
    and in UTC. The stored form is unchanged, so no migration is needed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        # SQLite's DATETIME text has no zone: keep writing naive UTC, exactly as before.
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: UtcDateTime()}


class RecordSplit(enum.StrEnum):
    TRAIN = "train"
    TEST = "test"


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


class RunPart(enum.StrEnum):
    TRAIN = "train"
    VALIDATION = "validation"
    TEST = "test"


def _str_enum(enum_class: type[enum.StrEnum], name: str) -> Enum:
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    source_filename: Mapped[str | None] = mapped_column(String(255))
    # How the file was read and mapped (format, encoding, delimiter, columns, counts): shown on the page.
    import_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    guidelines: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    records: Mapped[list[Record]] = relationship(back_populates="dataset", passive_deletes=True)
    label_classes: Mapped[list[LabelClass]] = relationship(
        back_populates="dataset", passive_deletes=True, order_by="LabelClass.position"
    )


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("dataset_id", "position", name="uq_records_dataset_position"),
        Index("ix_records_dataset_length", "dataset_id", "text_length"),
        Index("ix_records_dataset_split", "dataset_id", "split"),
        Index("ix_records_dataset_duplicate", "dataset_id", "duplicate_of"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    # Import order, 0-based; queues and tables sort by it.
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    text_length: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(255))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    split: Mapped[RecordSplit] = mapped_column(
        _str_enum(RecordSplit, "record_split"), default=RecordSplit.TRAIN
    )
    # Set aside as a near-duplicate of this record of the same dataset: left out of labeling queues
    # and training, never deleted, and put back by clearing it. No foreign key: both records go
    # together when their dataset is deleted.
    duplicate_of: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    dataset: Mapped[Dataset] = relationship(back_populates="records")


class LabelClass(Base):
    __tablename__ = "label_classes"
    __table_args__ = (
        UniqueConstraint("dataset_id", "name", name="uq_label_classes_dataset_name"),
        UniqueConstraint("dataset_id", "shortcut_key", name="uq_label_classes_dataset_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    color: Mapped[str] = mapped_column(String(7))
    shortcut_key: Mapped[str | None] = mapped_column(String(1))
    position: Mapped[int] = mapped_column(Integer)
    # What the label means, in words ("the reviewer is satisfied with the drug"): suggestions before any
    # label exists compare reviews with it. None means the label's name.
    description: Mapped[str | None] = mapped_column(Text)

    dataset: Mapped[Dataset] = relationship(back_populates="label_classes")


class Annotator(Base):
    __tablename__ = "annotators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # System annotators stand for labels that came from a file, not from a person.
    is_system: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Annotation(Base):
    __tablename__ = "annotations"
    __table_args__ = (
        UniqueConstraint("record_id", "annotator_id", name="uq_annotation_record_annotator"),
        Index("ix_annotations_label_class", "label_class_id"),
        Index("ix_annotations_annotator_updated", "annotator_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    label_class_id: Mapped[int] = mapped_column(ForeignKey("label_classes.id", ondelete="CASCADE"))
    # Time from showing the review to saving the label; None for imported labels.
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    # The label the app suggested when this one was given, if any: how often suggestions are taken
    # as they are, and how often they were right, is read from it.
    suggested_label_id: Mapped[int | None] = mapped_column(
        ForeignKey("label_classes.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LabelCheck(Base):
    """A person looked at a label the app found suspicious and kept it. It is not flagged again until
    the model suggests something other than what it suggested then."""

    __tablename__ = "label_checks"

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    label_class_id: Mapped[int] = mapped_column(ForeignKey("label_classes.id", ondelete="CASCADE"))
    suggested_label_id: Mapped[int | None] = mapped_column(
        ForeignKey("label_classes.id", ondelete="SET NULL")
    )
    annotator_id: Mapped[int | None] = mapped_column(ForeignKey("annotators.id", ondelete="SET NULL"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class Adjudication(Base):
    """The final word on a record whose annotators disagree; it outranks every annotation."""

    __tablename__ = "adjudications"

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    label_class_id: Mapped[int] = mapped_column(ForeignKey("label_classes.id", ondelete="CASCADE"))
    annotator_id: Mapped[int | None] = mapped_column(ForeignKey("annotators.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HyperparameterSearch(Base):
    """A queued series of runs: each trial's settings are asked of Optuna once the previous one ends."""

    __tablename__ = "hyperparameter_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    preset: Mapped[str | None] = mapped_column(String(40))
    # The TrainConfig every trial starts from; trials change only the searched fields.
    base_config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    space: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trials: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    stop_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingRun(Base):
    __tablename__ = "training_runs"
    __table_args__ = (
        # The database, not the UI, guarantees that at most one job runs at a time.
        Index(
            "uq_training_runs_one_running",
            "status",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
        Index("ix_training_runs_dataset", "dataset_id"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
        # A run id is shown ("Run #3"), names exported files and keys cached models: never reuse one.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    status: Mapped[RunStatus] = mapped_column(_str_enum(RunStatus, "run_status"), default=RunStatus.QUEUED)
    preset: Mapped[str | None] = mapped_column(String(40))
    model_source: Mapped[str] = mapped_column(String(500))
    # The frozen TrainConfig, serialized: a run can always be reproduced and compared.
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Seed, library versions and device facts recorded at start.
    environment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    device: Mapped[str | None] = mapped_column(String(200))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    step: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int | None] = mapped_column(Integer)
    epoch: Mapped[float] = mapped_column(Float, default=0.0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    artifact_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    # "host:pid:token" of the trainer (the app's own, or a worker on another machine) that runs it.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    search_id: Mapped[int | None] = mapped_column(
        ForeignKey("hyperparameter_searches.id", ondelete="SET NULL"), index=True
    )
    trial_number: Mapped[int | None] = mapped_column(Integer)


class RunEvent(Base):
    """One point of a run's curves: a training step's loss, or an evaluation's metrics."""

    __tablename__ = "run_events"
    __table_args__ = (Index("ix_run_events_run_step", "run_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("training_runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(Integer)
    epoch: Mapped[float] = mapped_column(Float)
    loss: Mapped[float | None] = mapped_column(Float)
    learning_rate: Mapped[float | None] = mapped_column(Float)
    samples_per_second: Mapped[float | None] = mapped_column(Float)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunRecord(Base):
    """Which part of a run's split each record was in, and the label it was trained or scored on."""

    __tablename__ = "run_records"

    run_id: Mapped[int] = mapped_column(ForeignKey("training_runs.id", ondelete="CASCADE"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    part: Mapped[RunPart] = mapped_column(_str_enum(RunPart, "run_part"))
    label_class_id: Mapped[int | None] = mapped_column(ForeignKey("label_classes.id", ondelete="SET NULL"))


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        UniqueConstraint("run_id", "record_id", name="uq_predictions_run_record"),
        Index("ix_predictions_record", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("training_runs.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    label_class_id: Mapped[int | None] = mapped_column(ForeignKey("label_classes.id", ondelete="SET NULL"))
    confidence: Mapped[float] = mapped_column(Float)
    # Label name -> probability, so a prediction stays readable after the label set is edited.
    probabilities: Mapped[dict[str, Any]] = mapped_column(default=dict)
