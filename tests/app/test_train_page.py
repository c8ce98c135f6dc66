"""AppTest of the Train page: setup numbers, starting a run, the queue and cancel, history."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core.config import Settings
from core.db import Database
from core.models import RunStatus
from core.services.sample import load_sample_dataset
from core.services.training import cancel_run, list_runs, run_progress
from core.training.config import PRESETS, TrainConfig
from tests.integration.training_helpers import make_dataset, train_tiny_run
from ui.state import CURRENT_DATASET_ID

pytestmark = pytest.mark.app
PAGE = "app_pages/train.py"


def test_without_a_dataset(make_app: Callable[[str], AppTest]) -> None:
    at = make_app(PAGE).run()
    assert not at.exception
    assert "import a dataset" in at.info[0].value


def test_setup_start_and_history(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    sample = load_sample_dataset(app_db)
    at = make_app(PAGE).run()
    assert not at.exception
    assert "**600** labeled reviews" in at.markdown[0].value
    assert "**379** held out" in at.markdown[0].value
    counts = at.dataframe[0].value
    assert list(counts["Label"]) == ["negative", "neutral", "positive"]
    assert list(counts["Test"]) == [95, 36, 248]
    assert any(c.value.startswith("Will train on this computer's processor") for c in at.caption)

    at.segmented_control(key="train_preset").set_value("Quick").run()
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    [run] = list_runs(app_db, sample.id)
    assert (run.preset, run.status) == ("Quick", RunStatus.QUEUED)
    # The Advanced panel, though left closed, maps the preset's choices and back without changing them
    # (Quick's rarity offset is one of the rare-label choices).
    assert TrainConfig.from_dict(run_progress(app_db, run.id).config) == PRESETS["Quick"]
    assert any("queued" in i.value for i in at.info)
    cancel_run(app_db, run.id)
    at.run()
    assert not at.exception
    history = at.dataframe[-1].value
    assert list(history["Run"]) == [f"#{run.id}"]


def test_passes_typed_in_advanced_are_kept_as_they_are(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    sample = load_sample_dataset(app_db)
    at = make_app(PAGE).run()
    at.segmented_control(key="train_preset").set_value("Quick").run()
    next(n for n in at.number_input if n.label == "Passes over the data").set_value(2).run()
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    [run] = list_runs(app_db, sample.id)
    config = TrainConfig.from_dict(run_progress(app_db, run.id).config)
    # The preset would read a small dataset more often; two passes typed by hand stay two.
    assert (config.epochs, config.min_steps) == (2, 0)
    assert config.passes_for(100) == 2
    cancel_run(app_db, run.id)


def test_a_large_dataset_says_how_much_each_preset_reads(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    make_dataset(app_db, rows=12_000)  # 9,000 to learn from, 7,650 once validation is held back
    at = make_app(PAGE).run()
    assert not at.exception

    def limit_note() -> str | None:
        return next((c.value for c in at.caption if "learning steps" in c.value), None)

    at.segmented_control(key="train_preset").set_value("Quick").run()
    assert limit_note() == (
        "To stay within its time, this preset stops after 320 learning steps: it learns from a shuffled "
        "5,120 of your 7,650 training reviews, each once. Best reads them all; so does a number of passes "
        "you set under Advanced settings."
    )
    at.segmented_control(key="train_preset").set_value("Balanced").run()
    assert "it reads your 7,650 training reviews 1.3 times rather than 4" in str(limit_note())
    at.segmented_control(key="train_preset").set_value("Best").run()
    assert limit_note() is None
    at.segmented_control(key="train_preset").set_value("Quick").run()
    next(n for n in at.number_input if n.label == "Passes over the data").set_value(2).run()
    assert limit_note() is None  # passes typed by hand are made in full
    next(b for b in at.button if b.label == "Start training").click().run()
    [run] = list_runs(app_db, None)
    assert TrainConfig.from_dict(run_progress(app_db, run.id).config).max_steps == 0
    cancel_run(app_db, run.id)


def test_a_dataset_without_labels_says_why_training_cannot_start(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    from core.importing.plan import ColumnMapping, build_import_plan
    from core.importing.reader import read_table
    from core.services.importing import import_dataset

    table = read_table(b"first review\nsecond review\n", "plain.txt")
    import_dataset(
        app_db, build_import_plan(table, ColumnMapping(text="text")), name="plain", source_filename=None
    )
    at = make_app(PAGE).run()
    assert not at.exception
    assert "Training needs at least two labels" in at.info[0].value
    assert next(b for b in at.button if b.label == "Start training").disabled


def test_search_starts_from_the_page_and_lists_its_trials(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    from core.services.search import latest_search, stop_search

    sample = load_sample_dataset(app_db)
    at = make_app(PAGE).run()
    at.slider(key="search_trials").set_value(4).run()
    at.button(key="search_go").click().run()
    assert not at.exception
    report = latest_search(app_db, sample.id)
    assert report is not None and report.planned == 4 and report.preset == "Balanced"
    [trial] = report.trials
    assert trial.status == RunStatus.QUEUED
    assert any(s.value == f"Settings search #{report.id}" for s in at.subheader)
    trials = at.dataframe[-1].value
    assert list(trials["Trial"]) == [1]
    assert list(trials["Learning rate"]) == [f"{trial.learning_rate:.1e}"]

    stop_search(app_db, report.id)
    at.run()
    assert not at.exception
    assert any("Stopped by a user" in i.value for i in at.info)
    assert list(at.dataframe[-2].value["Preset"]) == ["Balanced · search trial 1"]


def test_latest_run_panel_shows_only_the_current_datasets_runs(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings, tiny_model: str
) -> None:
    trained, run_id = train_tiny_run(app_db, app_settings.runs_dir, tiny_model, epochs=1)
    make_dataset(app_db, rows=20)  # newer, so the sidebar opens on it
    at = make_app(PAGE).run()
    assert not at.exception
    assert not any("Latest run" in m.value for m in at.markdown)
    assert any("No run of this dataset yet" in c.value for c in at.caption)

    at.session_state[CURRENT_DATASET_ID] = trained
    at.run()
    assert not at.exception
    assert any(f"Latest run #{run_id}" in m.value for m in at.markdown)
    assert any("over a keyword model" in v.value for v in [*at.success, *at.info, *at.warning])
    metrics = {m.label for m in at.metric}
    assert {"Learning time", "Whole job"} <= metrics


def test_the_chosen_preset_is_still_chosen_after_another_page(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    load_sample_dataset(app_db)
    at = make_app("app.py")
    at.switch_page(PAGE).run()
    assert at.segmented_control(key="train_preset").value == "Balanced"
    at.segmented_control(key="train_preset").set_value("Quick").run()
    at.switch_page("app_pages/results.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.segmented_control(key="train_preset").value == "Quick"
