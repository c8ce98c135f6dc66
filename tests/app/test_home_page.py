"""AppTest of Home: the first-run choice, Try the demo with its tour, and the dataset at a glance."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core.config import DEMO_MODEL_ENV, Settings
from core.db import Database
from core.models import RunStatus
from core.sample_data import SAMPLE_NAME
from core.services.annotators import list_annotators
from core.services.datasets import list_datasets
from core.services.training import list_runs
from tests.integration.training_helpers import train_tiny_run
from ui.formatting import percent_text

pytestmark = pytest.mark.app


def _texts(at: AppTest) -> str:
    return "\n".join(m.value for m in [*at.markdown, *at.caption, *at.info, *at.success])


def test_an_empty_database_offers_the_demo_and_the_import(make_app: Callable[[str], AppTest]) -> None:
    at = make_app("app.py").run()
    assert not at.exception
    assert at.title[0].value == "Review Studio"
    assert at.button(key="try_demo").label == "Try the demo"
    at.button(key="import_own").click().run()
    assert not at.exception
    assert at.title[0].value == "Datasets"
    assert "Upload reviews" in [u.label for u in at.get("file_uploader")]


def test_try_the_demo_then_walk_skip_and_resume_the_tour(
    make_app: Callable[[str], AppTest], app_db: Database, tiny_model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEMO_MODEL_ENV, tiny_model)
    at = make_app("app.py").run()
    at.button(key="try_demo").click().run()
    assert not at.exception
    [dataset] = list_datasets(app_db)
    [guest] = list_annotators(app_db)
    [run] = list_runs(app_db)
    assert (dataset.name, run.preset, run.model_source, run.status) == (
        SAMPLE_NAME,
        "Quick",
        tiny_model,
        RunStatus.QUEUED,
    )
    # On the Label page as the guest, the tour at step 1, all of it in the address for a refresh.
    assert at.title[0].value == "Label"
    assert at.selectbox(key="sidebar_annotator_widget").value == guest.id
    assert (at.query_params["dataset"], at.query_params["annotator"], at.query_params["tour"]) == (
        str(dataset.id),
        str(guest.id),
        "1",
    )
    assert "Guided tour · step 1 of 4" in _texts(at)
    assert "You have labeled 0 of 5." in _texts(at)
    assert any("Quick model is training" in t.value for t in at.toast)

    at.button(key="tour_next").click().run()
    assert not at.exception
    assert at.title[0].value == "Train"
    assert "step 2 of 4" in _texts(at) and "is waiting its turn" in _texts(at)
    assert at.segmented_control(key="train_preset").value == "Quick"  # the preset the demo runs
    at.button(key="tour_skip").click().run()
    assert "Guided tour" not in _texts(at) and "tour" not in at.query_params

    at.switch_page("app_pages/home.py").run()
    assert not at.exception
    assert at.button(key="tour_offer").label == "Resume the tour (step 2 of 4)"
    at.button(key="tour_offer").click().run()
    assert at.title[0].value == "Train" and "step 2 of 4" in _texts(at)


def test_a_refresh_resumes_the_tour_from_the_address(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    from core.services.sample import load_sample_dataset

    load_sample_dataset(app_db)
    at = make_app("app.py")
    at.query_params["tour"] = "3"
    at.run()
    assert not at.exception
    assert "step 3 of 4" in _texts(at) and "Read the confusion matrix" in _texts(at)
    assert at.button(key="tour_show").label == "Show me on Results"
    for hostile in ("9", "-1", "<b>"):
        fresh = make_app("app.py")
        fresh.query_params["tour"] = hostile
        fresh.run()
        assert not fresh.exception and "Guided tour" not in _texts(fresh)


def test_the_dataset_at_a_glance_with_a_finished_run(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings, tiny_model: str
) -> None:
    train_tiny_run(app_db, app_settings.runs_dir, tiny_model, rows=60, epochs=1)
    [run] = list_runs(app_db)
    at = make_app("app.py").run()
    assert not at.exception
    metrics = {m.label: m for m in at.metric}
    assert metrics["Reviews"].value == "60"
    assert metrics["Labeled"].value == "100%"
    assert metrics["Labeling this week"].value == "0 people"
    assert metrics["Latest model"].value == percent_text(run.test_macro_f1)
    margin = run.keyword_margin
    assert margin is not None
    assert metrics["Latest model"].delta == (
        f"{margin.macro_f1_points:+.1f} F1 · {margin.accuracy_points:+.1f} accuracy"
    )
    assert at.get("plotly_chart")  # labels, and the model against its baselines
    assert "What to do next" in _texts(at)
