"""How much would labeling more reviews help? The fast model's learning curve on a dataset's labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from core.assist.learning_curve import Gain, LearningCurve, enough_for_curve, learning_curve
from core.db import Database
from core.final_labels import final_labels
from core.models import Record, RecordSplit
from core.services.duplicates import set_aside_ids
from core.services.suggestions import Suggester

MORE_LABELS = (100, 200, 500)


@dataclass(frozen=True)
class LabelingForecast:
    labeled: int  # labeled reviews the curve could use: read by the model, outside the test split
    curve: LearningCurve | None  # None with too few labels per label
    gains: list[Gain] = field(default_factory=list)  # empty when the backtest says not to forecast


def forecast_labeling(
    db: Database, suggester: Suggester, dataset_id: int, *, more: Sequence[int] = MORE_LABELS
) -> LabelingForecast:
    """The curve on every final label a fine-tune would train on (the test split is held out from
    training, so it is left out here too), with the gains from labeling `more` reviews."""
    view = suggester.view()
    row_of = {int(record_id): row for row, record_id in enumerate(view.record_ids)}
    with db.read() as session:
        test_ids = set(
            session.scalars(
                select(Record.id).where(Record.dataset_id == dataset_id, Record.split == RecordSplit.TEST)
            )
        )
    aside = set_aside_ids(db, dataset_id)
    labeled = [
        (row_of[record_id], label)
        for record_id, label in sorted(final_labels(db, dataset_id).items())
        if record_id in row_of and record_id not in test_ids and record_id not in aside
    ]
    label_ids = sorted({label for _, label in labeled})
    index_of = {label_id: index for index, label_id in enumerate(label_ids)}
    y = [index_of[label] for _, label in labeled]
    if not enough_for_curve(y):
        return LabelingForecast(labeled=len(labeled), curve=None)
    curve = learning_curve(view.vectors[[row for row, _ in labeled]], y)
    return LabelingForecast(labeled=len(labeled), curve=curve, gains=curve.gains(more))
