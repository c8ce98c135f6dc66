"""AppTest of the Datasets page: empty state, sample, upload → report → import, errors, settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import Settings
from core.db import Database
from core.importing.plan import ColumnMapping, ImportPlan, build_import_plan
from core.importing.table import LISTED_PROBLEMS, ParsedTable
from core.services.datasets import get_dataset_overview, list_datasets
from core.services.sample import load_sample_dataset

pytestmark = pytest.mark.app

PAGE = "app_pages/datasets.py"
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "importer"


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_empty_state_offers_the_sample_and_an_upload(make_app: Callable[[str], AppTest]) -> None:
    at = make_app(PAGE).run()
    assert not at.exception
    assert at.title[0].value == "Datasets"
    assert at.button(key="sample_welcome").label == "Load sample dataset"
    assert at.get("file_uploader")


def test_loading_the_sample_shows_its_overview(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    at = make_app(PAGE).run()
    at.button(key="sample_welcome").click().run()
    assert not at.exception
    assert metrics(at) == {"Reviews": "979", "Labeled": "100%", "Labels": "3", "Held-out test": "379"}
    assert [d.name for d in list_datasets(app_db)] == ["Drug reviews (sample)"]


def test_upload_review_and_import(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    raw = b'id,review,rating\n1,"Great, no side effects",positive\n2,,negative\n3,It&#039;s ok,neutral\n4,bad,neg,extra\n'
    at = make_app(PAGE).run()
    at.get("file_uploader")[0].set_value(("my reviews.csv", raw, "text/csv")).run()
    assert not at.exception
    assert metrics(at) == {"Rows read": "4", "Rows to import": "2", "Rows rejected": "2"}
    report = at.dataframe[-1].value
    assert list(report["Line"]) == [3, 5]
    assert report["Reason"].iloc[0] == "empty text"
    assert at.text_input[0].value == "my reviews"
    decode = next(c for c in at.checkbox if c.label.startswith("Decode HTML entities"))
    assert decode.value
    import_button = next(b for b in at.button if b.label == "Import 2 reviews")
    import_button.click().run()
    assert not at.exception
    [summary] = list_datasets(app_db)
    assert (summary.name, summary.records, summary.label_count) == ("my reviews", 2, 2)
    overview = get_dataset_overview(app_db, summary.id)
    assert overview.source_filename == "my reviews.csv"
    assert metrics(at)["Reviews"] == "2"


def test_a_flood_of_rejected_rows_is_listed_in_part_and_counted_in_full(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    raw = ("review,label\ngood one,pos\n" + ",pos\n" * (LISTED_PROBLEMS + 7)).encode()
    at = make_app(PAGE).run()
    at.get("file_uploader")[0].set_value(("flood.csv", raw, "text/csv")).run()
    assert not at.exception
    assert metrics(at) == {"Rows read": "10,008", "Rows to import": "1", "Rows rejected": "10,007"}
    assert len(at.dataframe[-1].value) == LISTED_PROBLEMS
    assert any("The first 10,000 are listed; 7 more rows were left out too" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Import 1 review").click().run()
    [summary] = list_datasets(app_db)
    assert get_dataset_overview(app_db, summary.id).import_info["rows_rejected"] == LISTED_PROBLEMS + 7


def test_the_report_is_validated_once_per_mapping_not_on_every_rerun(
    make_app: Callable[[str], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.importer

    built: list[ColumnMapping] = []

    def counting(table: ParsedTable, mapping: ColumnMapping, **kwargs: bool) -> ImportPlan:
        built.append(mapping)
        return build_import_plan(table, mapping, **kwargs)

    monkeypatch.setattr(ui.importer, "build_import_plan", counting)
    raw = b"id,review,rating\n1,fine,pos\n2,meh,neg\n"
    at = make_app(PAGE).run()
    at.get("file_uploader")[0].set_value(("r.csv", raw, "text/csv")).run()
    at.text_input[0].input("My reviews").run()
    at.slider[0].set_value(20).run()
    assert not at.exception
    assert len(built) == 1
    at.selectbox(key=next(k for k in (s.key for s in at.selectbox) if k.startswith("map_label_"))).select(
        "— none —"
    ).run()
    assert [m.label for m in built] == ["rating", None]
    assert metrics(at)["Rows to import"] == "2"


def test_unreadable_upload_shows_a_plain_message(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    at = make_app(PAGE).run()
    raw = (CORPUS / "png_renamed.csv").read_bytes()
    at.get("file_uploader")[0].set_value(("photo.csv", raw, "text/csv")).run()
    assert not at.exception
    assert "PNG image" in at.error[0].value
    assert list_datasets(app_db) == []


def test_import_while_datasets_exist_returns_to_the_overview(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    load_sample_dataset(app_db)
    at = make_app(PAGE).run()
    at.segmented_control[0].set_value("Import a file").run()
    at.get("file_uploader")[0].set_value(("more.csv", b"review\nfine\nok\n", "text/csv")).run()
    next(b for b in at.button if b.label == "Import 2 reviews").click().run()
    assert not at.exception and not at.error
    assert at.segmented_control[0].value == "Overview"
    assert metrics(at)["Reviews"] == "2"
    assert sorted(d.name for d in list_datasets(app_db)) == ["Drug reviews (sample)", "more"]


def test_rename_and_delete_from_settings(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    summary = load_sample_dataset(app_db)
    at = make_app(PAGE).run()
    assert not at.exception
    rename_box = next(t for t in at.text_input if t.label == "Dataset name")
    rename_box.set_value("Drugs")  # a form field: its value is sent with the submit, not before
    next(b for b in at.button if b.label == "Rename").click().run()
    assert [d.name for d in list_datasets(app_db)] == ["Drugs"]
    delete_button = at.button(key=f"delete_{summary.id}")
    assert delete_button.disabled
    at.checkbox(key=f"confirm_delete_{summary.id}").check().run()
    at.button(key=f"delete_{summary.id}").click().run()
    assert not at.exception
    assert list_datasets(app_db) == []
    assert at.button(key="sample_welcome")


def test_guidelines_save(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    summary = load_sample_dataset(app_db)
    at = make_app(PAGE).run()
    at.text_area(key=f"guidelines_{summary.id}").set_value("**positive**: recommends it").run()
    at.button(key=f"save_guidelines_{summary.id}").click().run()
    assert not at.exception
    assert get_dataset_overview(app_db, summary.id).guidelines == "**positive**: recommends it"


def test_near_duplicates_keep_one_of_each_and_put_back(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings
) -> None:
    from core.assist.embeddings import sentence_encoder
    from core.assist.runner import assist_pass
    from core.services.duplicates import set_aside_count
    from tests.integration.training_helpers import make_dataset

    dataset_id = make_dataset(app_db, rows=24)  # six phrases, each repeated with a different number
    while assist_pass(app_db, app_settings.data_dir, sentence_encoder()):
        pass
    at = make_app(PAGE)
    at.session_state[f"dataset_tab_{dataset_id}"] = "Data quality"
    at.run()
    assert not at.exception
    # make_dataset's labels alternate evenly and its reviews are English: nothing to warn about there.
    assert any("No label is much rarer than the others." in c.value for c in at.caption)
    at.slider(key=f"duplicate_similarity_{dataset_id}").set_value(0.9).run()
    assert not at.exception
    assert any("groups of near-identical reviews" in m.value for m in at.markdown)
    at.button(key=f"keep_all_{dataset_id}").click().run()
    assert not at.exception
    aside = set_aside_count(app_db, dataset_id)
    assert aside >= 6
    assert at.button(key=f"put_back_all_{dataset_id}").label == f"Put back all {aside:,} set-aside reviews"
    at.button(key=f"put_back_all_{dataset_id}").click().run()
    assert not at.exception
    assert set_aside_count(app_db, dataset_id) == 0
