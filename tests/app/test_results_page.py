"""AppTest of the Results page on a real tiny run: scores, the confusion cell list, the charts."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import Settings
from core.db import Database
from core.models import RunPart, RunStatus
from core.quality import calibration_error_by_chance
from core.services.results import run_quality, run_scores, scored_records
from core.services.training import start_training
from core.training.job import run_training_job
from core.training.runner import claim_next_run
from tests.integration.training_helpers import make_dataset, tiny_config, train_tiny_run

pytestmark = pytest.mark.app
PAGE = "app_pages/results.py"


def test_no_finished_run_yet(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    make_dataset(app_db)
    at = make_app(PAGE).run()
    assert not at.exception
    assert "No finished run" in at.info[0].value


def test_scores_matrix_and_the_reviews_of_a_cell(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings, tiny_model: str
) -> None:
    _, run_id = train_tiny_run(app_db, app_settings.runs_dir, tiny_model, rows=120, epochs=2)
    scores = run_scores(app_db, run_id)

    at = make_app(PAGE).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"] == f"{scores.accuracy:.1%}"
    assert metrics["Reviews scored"] == "30"
    per_class = _table(at, "Support")
    assert list(per_class["Label"]) == ["negative", "positive"]
    # The margin over the keyword model, in words, from the baselines the run's job fitted.
    baselines = run_quality(app_db, run_id).baselines
    keywords, majority = baselines["keywords"], baselines["majority"]
    margin = (scores.macro_f1 - keywords.macro_f1) * 100
    verdicts = [*at.success, *at.info, *at.warning]
    assert any(f"{margin:+.1f} pts macro-F1" in v.value and "keyword model" in v.value for v in verdicts)
    compared = _table(at, "Macro-F1")
    assert compared["Macro-F1"].tolist() == pytest.approx(
        [100 * scores.macro_f1, 100 * keywords.macro_f1, 100 * majority.macro_f1]
    )
    assert compared["Model"].tolist()[2] == f"Always answer “{majority.predicted}”"
    # The range of that lead on reviews like these, as the job's paired bootstrap stored it.
    assert keywords.margin_interval is not None
    low, high = keywords.margin_interval["macro_f1"]
    assert any(
        "would likely fall" in c.value and f"{low:+.1f} pts and {high:+.1f} pts of macro-F1" in c.value
        for c in at.caption
    )
    assert metrics["Calibration error"].endswith("%")
    # Beside it, what exactly right confidences would show on the same 30 test reviews.
    test_confidence = [r.confidence for r in scored_records(app_db, run_id)]
    assert metrics["From chance alone"] == f"{calibration_error_by_chance(test_confidence):.1%}"
    assert any("on these 30 reviews" in c.value for c in at.caption)
    assert list(per_class["Support"]) == [c.support for c in scores.per_class]

    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "True label")).set_value("positive").run()
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Predicted label")).set_value(
        "positive"
    ).run()
    assert not at.exception
    cell = scored_records(app_db, run_id, true_label="positive", predicted_label="positive")
    listed = _table(at, "True label")
    assert len(listed) == len(cell) == scores.confusion[1][1]
    assert set(listed["True label"]) <= {"positive"}

    at.segmented_control(key="results_part").set_value("Validation").run()
    assert not at.exception
    validation = scored_records(app_db, run_id, RunPart.VALIDATION)
    assert {m.label: m.value for m in at.metric}["Reviews scored"] == str(len(validation))


def test_exports_are_prepared_on_request(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings, tiny_model: str
) -> None:
    _, run_id = train_tiny_run(app_db, app_settings.runs_dir, tiny_model, epochs=1)
    at = make_app(PAGE).run()
    assert at.selectbox(key="results_export_run").value == run_id  # this run's predictions by default
    at.segmented_control(key="results_export_format").set_value("Excel").run()
    at.button(key="results_export_prepare").click().run()
    at.button(key="results_model_prepare").click().run()
    assert not at.exception
    downloads = at.get("download_button")
    labels = [d.proto.label for d in downloads]
    assert labels == [f"Download labeled-data-run{run_id}.xlsx", f"Download review-studio-run-{run_id}.zip"]


def test_compare_two_runs_and_their_ensemble(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings, tiny_model: str
) -> None:
    run_ids = _two_finished_runs(app_db, app_settings, tiny_model)
    at = make_app(PAGE).run()
    assert not at.exception
    assert not [w for w in at.multiselect if w.key == "compare_runs"]  # lazy: the closed tab did not run
    at.session_state["results_tab"] = "Compare runs"
    at.run()
    assert at.multiselect(key="compare_runs").value == [run_ids[1], run_ids[0]]  # newest first
    tables = [d.value for d in at.dataframe]
    metrics = next(t for t in tables if "Test macro-F1" in t.columns and "Run" in t.columns)
    assert list(metrics["Run"]) == [f"#{run_ids[1]} (baseline)", f"#{run_ids[0]}"]
    assert metrics["Test accuracy"].iloc[1].endswith(" pts)")  # the delta against the baseline, in points
    settings = next(t for t in tables if "epochs" in t.index)
    assert list(settings.loc["epochs"]) == ["2", "1"]
    at.toggle(key="compare_ensemble").set_value(True).run()
    assert not at.exception
    ensemble = next(d.value for d in at.dataframe if "Model" in d.value.columns)
    assert list(ensemble["Model"]) == ["Ensemble (average)", f"#{run_ids[1]}", f"#{run_ids[0]}"]


def test_choices_survive_a_trip_to_compare_and_to_another_page(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings, tiny_model: str
) -> None:
    run_ids = _two_finished_runs(app_db, app_settings, tiny_model)
    older = run_ids[0]
    at = make_app("app.py").run()  # through the router, which keeps the values aside
    at.switch_page(PAGE).run()
    assert at.selectbox(key="results_run").value == run_ids[1]  # newest by default
    at.selectbox(key="results_run").set_value(older).run()
    at.segmented_control(key="results_part").set_value("Validation").run()
    at.toggle(key="results_normalized").set_value(True).run()

    at.session_state["results_tab"] = "Compare runs"
    at.run()
    assert "results_run" not in at.session_state  # Streamlit dropped the skipped widget's state
    at.session_state["results_tab"] = "One run"
    at.run()
    assert not at.exception
    chosen = (at.selectbox(key="results_run").value, at.segmented_control(key="results_part").value)
    assert chosen == (older, "Validation")
    assert at.toggle(key="results_normalized").value is True

    at.switch_page("app_pages/explain.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="results_run").value == older


def _table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page with this column (expanders and tabs shift their order)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def _two_finished_runs(db: Database, settings: Settings, tiny_model: str) -> list[int]:
    """Two tiny runs (1 and 2 epochs) on one dataset, oldest first."""
    dataset_id = make_dataset(db)
    run_ids = []
    for epochs in (1, 2):
        run_id = start_training(db, dataset_id, tiny_config(tiny_model, epochs=epochs), preset="Quick")
        assert claim_next_run(db) == run_id
        assert run_training_job(run_id, db, runs_dir=settings.runs_dir) == RunStatus.SUCCEEDED
        run_ids.append(run_id)
    return run_ids
