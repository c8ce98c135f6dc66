"""AppTest of the Label page: guidance without an annotator, labeling with buttons, the other views."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from core.config import Settings
from core.db import Database
from core.models import Annotation, LabelCheck, LabelClass
from core.services.annotators import add_annotator
from core.services.labeling import get_review, label_choices, save_label
from core.services.sample import load_sample_dataset

pytestmark = pytest.mark.app
PAGE = "app_pages/label.py"


def test_without_a_dataset_points_to_datasets(make_app: Callable[[str], AppTest]) -> None:
    at = make_app(PAGE).run()
    assert not at.exception
    assert "import a dataset" in at.info[0].value


def test_without_an_annotator_asks_who_is_labeling(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    load_sample_dataset(app_db)
    at = make_app(PAGE).run()
    assert not at.exception
    assert "Choose who is labeling" in at.info[0].value


def test_label_skip_undo_with_buttons(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    sample = load_sample_dataset(app_db)
    kim = add_annotator(app_db, "Kim")
    at = make_app(PAGE)
    at.session_state["current_annotator_id"] = kim.id
    at.run()
    assert not at.exception
    assert [b.label for b in at.button][:3] == ["negative", "neutral", "positive"]
    first_caption = next(c.value for c in at.caption if c.value.startswith("Review"))
    assert first_caption.startswith("Review \\#1")

    next(b for b in at.button if b.label == "positive").click().run()
    assert any(c.value.startswith("Review \\#2") for c in at.caption)
    from core.services.browse import search_records

    first_id = search_records(app_db, sample.id, limit=1).rows[0].id
    positive_id = next(b.key for b in at.button if b.label == "positive").removeprefix("label_button_")
    assert get_review(app_db, first_id, kim.id).my_label_id == int(positive_id)

    at.button(key="label_skip").click().run()
    assert any(c.value.startswith("Review \\#3") for c in at.caption)
    at.button(key="label_undo").click().run()  # undo the skip
    at.button(key="label_undo").click().run()  # undo the label
    assert any(c.value.startswith("Review \\#1") for c in at.caption)
    assert get_review(app_db, first_id, kim.id).my_label_id is None


def test_browse_and_agreement_views_render(make_app: Callable[[str], AppTest], app_db: Database) -> None:
    load_sample_dataset(app_db)
    kim = add_annotator(app_db, "Kim")
    at = make_app(PAGE)
    at.session_state["current_annotator_id"] = kim.id
    at.run()
    at.segmented_control[0].set_value("Browse").run()
    assert not at.exception
    assert any("979 matching reviews" in c.value for c in at.caption)
    at.text_input(key="browse_text").set_value("migraine").run()
    assert not any("979 matching" in c.value for c in at.caption)
    at.segmented_control[0].set_value("Agreement").run()
    assert not at.exception
    at.toggle(key="agreement_include_imported").set_value(True).run()
    assert "No review has labels from two annotators" in at.info[0].value


def test_others_labels_stay_hidden_until_asked_for(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    # The sample arrives with labels from the imported file: a labeler must not see them by default.
    load_sample_dataset(app_db)
    kim = add_annotator(app_db, "Kim")
    at = make_app(PAGE)
    at.session_state["current_annotator_id"] = kim.id
    at.run()
    captions = [c.value for c in at.caption]
    assert not any(c.startswith("Others:") for c in captions)
    assert any("1 other label hidden" in c for c in captions)
    at.toggle(key="label_show_others").set_value(True).run()
    assert any(c.value.startswith("Others: Imported labels") for c in at.caption)


def _embedded_dataset(app_db: Database, app_settings: Settings, *, rows: int) -> tuple[int, int]:
    """A small dataset with everything the assist runner keeps for it, and an annotator: (dataset, Kim)."""
    from core.assist.embeddings import sentence_encoder
    from core.assist.runner import assist_pass
    from tests.integration.training_helpers import make_dataset

    dataset_id = make_dataset(app_db, rows=rows)
    # What the assist runner does in the background, run here once and in full.
    while assist_pass(app_db, app_settings.data_dir, sentence_encoder()):
        pass
    return dataset_id, add_annotator(app_db, "Kim").id


def _label_page_as(make_app: Callable[[str], AppTest], annotator_id: int) -> AppTest:
    at = make_app(PAGE)
    at.session_state["current_annotator_id"] = annotator_id
    return at.run()


def test_a_suggestion_shows_on_the_first_review_and_accepting_it_is_recorded(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings
) -> None:
    dataset_id, kim = _embedded_dataset(app_db, app_settings, rows=12)
    at = _label_page_as(make_app, kim)
    assert not at.exception
    suggested = next(m.value for m in at.markdown if m.value.startswith("Suggested:"))
    assert any("compares the review with what each label means" in c.value for c in at.caption)
    at.button(key="accept_suggestion").click().run()
    assert not at.exception
    with app_db.read() as session:
        given = session.execute(
            select(LabelClass.name, Annotation.suggested_label_id == Annotation.label_class_id)
            .join(Annotation, Annotation.label_class_id == LabelClass.id)
            .where(Annotation.annotator_id == kim, LabelClass.dataset_id == dataset_id)
        ).one()
    assert given[1] and f"**{given[0]}**" in suggested


def test_the_least_sure_order_says_why_it_picked_a_review(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings
) -> None:
    from core.services.labeling import QueueOrder

    _, kim = _embedded_dataset(app_db, app_settings, rows=12)
    at = _label_page_as(make_app, kim)
    at.selectbox(key="label_queue_order").set_value(QueueOrder.UNCERTAIN).run()
    assert not at.exception
    # No labels yet, so no fast model: it starts with typical reviews and says so.
    assert any(c.value.startswith("Why this review: it is typical of a group") for c in at.caption)


def test_the_suspicious_labels_view_lists_doubtful_labels_to_keep_or_change(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings
) -> None:
    from core.services.agreement import adjudicate

    dataset_id, kim = _embedded_dataset(app_db, app_settings, rows=40)
    with app_db.read() as session:
        positive = session.scalar(
            select(LabelClass.id).where(LabelClass.dataset_id == dataset_id, LabelClass.name == "positive")
        )
        first = session.scalar(select(Annotation.record_id).order_by(Annotation.record_id).limit(1))
    assert positive is not None and first is not None
    adjudicate(app_db, record_id=first, label_class_id=positive, annotator_id=None)  # a negative review
    at = _label_page_as(make_app, kim)
    at.segmented_control[0].set_value("Suspicious labels").run()
    assert not at.exception
    assert any("of the 40 labels may be wrong" in m.value for m in at.markdown)
    keep = next(b for b in at.button if b.label.startswith("Keep “"))
    keep.click().run()
    assert not at.exception
    with app_db.read() as session:
        assert session.scalar(select(func.count()).select_from(LabelCheck)) == 1


def test_the_learning_curve_view_shows_the_measured_curve(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings
) -> None:
    _, kim = _embedded_dataset(app_db, app_settings, rows=80)
    at = _label_page_as(make_app, kim)
    at.segmented_control[0].set_value("Will more labels help?").run()
    assert not at.exception
    # The tiny dataset's 60 training labels (its test part left out) are enough for a curve.
    assert any("With 60 labels the quick model scores about" in m.value for m in at.markdown)
    assert any("cross-validation" in c.value for c in at.caption)


def test_the_learning_curve_view_asks_for_more_labels_first(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings
) -> None:
    _, kim = _embedded_dataset(app_db, app_settings, rows=12)
    at = _label_page_as(make_app, kim)
    at.segmented_control[0].set_value("Will more labels help?").run()
    assert not at.exception
    assert "at least 5 labeled reviews" in at.info[0].value


def test_agreement_compares_people_with_the_imported_labels_from_the_start(
    make_app: Callable[[str], AppTest], app_db: Database
) -> None:
    from core.services.browse import search_records

    sample = load_sample_dataset(app_db)
    kim = add_annotator(app_db, "Kim")
    first = search_records(app_db, sample.id, limit=1).rows[0].id
    positive = next(c.id for c in label_choices(app_db, sample.id) if c.name == "positive")
    save_label(app_db, record_id=first, annotator_id=kim.id, label_class_id=positive)
    at = _label_page_as(make_app, kim.id)
    at.segmented_control(key="label_view").set_value("Agreement").run()
    assert not at.exception
    # The Label page says this view compares Kim with the file: it does, without finding a toggle first.
    assert {m.label: m.value for m in at.metric}["Reviews with 2+ annotators"] == "1"
