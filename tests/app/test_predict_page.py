"""AppTest of the Predict page on a real tiny run: a typed review gets a label and probabilities."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core.config import Settings
from core.db import Database
from tests.integration.training_helpers import make_dataset, train_tiny_run

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
    train_tiny_run(app_db, app_settings.runs_dir, tiny_model, epochs=2)
    at = make_app(PAGE).run()
    assert not at.exception
    at.text_area(key="predict_text").set_value("<b>works well</b> and no side effects").run()
    assert not at.exception
    predicted = next(m for m in at.metric if m.label == "Predicted label")
    assert predicted.value in {"negative", "positive"}
    assert any("Answered in" in c.value for c in at.caption)
