"""AppTest of the router, the shared sidebar, and the pages that later issues fill."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core.db import Database
from core.services.annotators import list_annotators
from core.services.sample import load_sample_dataset

pytestmark = pytest.mark.app


def test_app_routes_to_home_and_shows_sidebar_context(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    load_sample_dataset(app_db)
    at = make_app("app.py").run()
    assert not at.exception
    assert at.title[0].value == "Review Studio"
    dataset_box = at.selectbox(key="sidebar_dataset_widget")
    assert dataset_box.value is not None
    assert dataset_box.options == ["Drug reviews (sample)"]
    assert any("979 reviews" in c.value for c in at.caption)


def test_adding_an_annotator_in_the_sidebar(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    at = make_app("app.py").run()
    name_box = next(t for t in at.text_input if t.label == "Name")
    name_box.set_value("Alex")  # a form field: sent with the submit
    next(b for b in at.button if b.label == "Add").click().run()
    assert not at.exception
    assert [a.name for a in list_annotators(app_db)] == ["Alex"]
    assert at.selectbox(key="sidebar_annotator_widget").value == list_annotators(app_db)[0].id


@pytest.mark.parametrize(
    ("page", "title"),
    [
        ("app_pages/results.py", "Results"),
        ("app_pages/predict.py", "Predict"),
        ("app_pages/explain.py", "Explain"),
    ],
)
def test_model_pages_without_a_dataset_point_to_the_import(
    make_app: Callable[[str], AppTest], page: str, title: str
) -> None:
    at = make_app(page).run()
    assert not at.exception
    assert title in at.title[0].value
    assert "import a dataset" in at.info[0].value and "Try the demo" in at.info[0].value
    assert not at.dataframe and not at.metric


def test_the_dataset_and_annotator_come_from_the_link_and_go_back_into_it(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    from core.services.annotators import add_annotator
    from tests.integration.training_helpers import make_dataset

    sample = load_sample_dataset(app_db)
    make_dataset(app_db, rows=12)  # newer: the default without a link
    kim = add_annotator(app_db, "Kim")
    at = make_app("app.py")
    at.query_params["dataset"] = str(sample.id)
    at.query_params["annotator"] = str(kim.id)
    at.run()
    assert not at.exception
    assert at.selectbox(key="sidebar_dataset_widget").value == sample.id
    assert at.selectbox(key="sidebar_annotator_widget").value == kim.id
    assert at.query_params["dataset"] == str(sample.id) and at.query_params["annotator"] == str(kim.id)


@pytest.mark.parametrize("dataset", ["999", "abc", "1;drop table records", "99999999999999999999"])
def test_a_link_to_a_missing_or_hostile_dataset_falls_back_with_a_word(
    make_app: Callable[[str], AppTest], app_db: Database, dataset: str
) -> None:
    sample = load_sample_dataset(app_db)
    at = make_app("app.py")
    at.query_params["dataset"] = dataset
    at.query_params["annotator"] = "<script>"
    at.run()
    assert not at.exception
    assert at.selectbox(key="sidebar_dataset_widget").value == sample.id
    assert any("does not exist" in t.value for t in at.toast)
    assert at.query_params["dataset"] == str(sample.id) and "annotator" not in at.query_params


@pytest.mark.parametrize("tour", ["0", "99", "-1", "2.5", "<script>", "9" * 40, ""])
def test_a_hostile_tour_step_in_the_link_is_ignored(make_app: Callable[[str], AppTest], tour: str) -> None:
    at = make_app("app.py")
    at.query_params["tour"] = tour
    at.run()
    assert not at.exception
    assert "tour" not in at.query_params  # dropped, not echoed back
    assert not any("Guided tour" in c.value for c in at.caption)


def test_a_valid_tour_step_in_the_link_resumes_the_tour(make_app: Callable[[str], AppTest]) -> None:
    at = make_app("app.py")
    at.query_params["tour"] = "1"
    at.run()
    assert not at.exception
    assert any("Guided tour" in c.value for c in at.caption)  # the check above can tell the difference
