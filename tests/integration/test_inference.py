"""A finished run's saved model, loaded back: same predictions as the job stored, progress in chunks."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from core.config import Settings
from core.db import Database
from core.errors import InvalidInputError
from core.inference import finished_run_ids, load_run_model
from core.models import Prediction, Record
from core.services.training import start_training
from tests.integration.test_results import trained_run
from tests.integration.training_helpers import make_dataset, tiny_config

pytestmark = pytest.mark.integration


def test_reloaded_model_reproduces_the_stored_predictions(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    dataset_id, run_id = trained_run(db, settings, tiny_model)
    assert finished_run_ids(db, dataset_id) == [run_id]
    model = load_run_model(db, run_id)
    assert model.labels == ["negative", "positive"]
    assert model.max_tokens == 32
    with db.read() as session:
        rows = session.execute(
            select(Record.text, Prediction.probabilities)
            .join(Prediction, Prediction.record_id == Record.id)
            .where(Prediction.run_id == run_id)
            .order_by(Record.position)
        ).all()
    texts = [text for text, _ in rows]
    stored = np.array([[p[label] for label in model.labels] for _, p in rows])
    fresh = model.predict(texts)
    # bf16 autocast (where the CPU has it) rounds differently from batch to batch: close, not equal.
    np.testing.assert_allclose(fresh, stored, atol=2e-2)
    assert (fresh.argmax(axis=1) == stored.argmax(axis=1)).mean() > 0.95
    shares: list[float] = []
    chunked = model.predict(texts, progress=shares.append)
    np.testing.assert_allclose(chunked, fresh, atol=2e-2)
    assert shares and shares[-1] == 1.0 and shares == sorted(shares)
    assert model.predict([]).shape == (0, 2)


def test_a_run_without_a_model_cannot_be_loaded(db: Database, tiny_model: str) -> None:
    run_id = start_training(db, make_dataset(db), tiny_config(tiny_model), preset=None)
    with pytest.raises(InvalidInputError, match="Only runs that finished"):
        load_run_model(db, run_id)
