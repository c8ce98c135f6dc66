"""AppTest of the Predict page on a real tiny run: a typed review gets a label and probabilities."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core.config import Settings
from core.db import Database
from core.models import RunStatus
from core.services.training import start_training
from core.training.job import run_training_job
from core.training.runner import claim_next_run
from tests.integration.training_helpers import make_dataset, tiny_config

pytestmark = pytest.mark.app
PAGE = "app_pages/predict.py"


def test_no_finished_run_yet(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    make_dataset(app_db)
    at = make_app(PAGE).run()
    assert not at.exception
    assert "No finished run" in at.info[0].value


def test_a_typed_review_gets_a_label(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings, tiny_model: str
) -> None:
    dataset_id = make_dataset(app_db)
    run_id = start_training(app_db, dataset_id, tiny_config(tiny_model, epochs=2), preset="Quick")
    assert claim_next_run(app_db) == run_id
    assert run_training_job(run_id, app_db, runs_dir=app_settings.runs_dir) == RunStatus.SUCCEEDED
    at = make_app(PAGE).run()
    assert not at.exception
    at.text_area(key="predict_text").set_value("<b>works well</b> and no side effects").run()
    assert not at.exception
    predicted = next(m for m in at.metric if m.label == "Predicted label")
    assert predicted.value in {"negative", "positive"}
    assert any("Answered in" in c.value for c in at.caption)
