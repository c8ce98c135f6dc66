"""AppTest of the Explain page on a real tiny run: prediction, attention heatmap, attributions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core.config import Settings
from core.db import Database
from core.services.datasets import record_id_at
from core.services.labeling import get_review
from tests.integration.training_helpers import train_tiny_run

pytestmark = pytest.mark.app
PAGE = "app_pages/explain.py"


def test_a_dataset_review_and_a_typed_one_are_explained(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings, tiny_model: str
) -> None:
    dataset_id, _ = train_tiny_run(app_db, app_settings.runs_dir, tiny_model, epochs=1)
    at = make_app(PAGE).run()
    assert not at.exception
    assert any(m.value.startswith("**Predicted:") for m in at.markdown)
    assert [s.value for s in at.subheader] == ["Attention", "What pushed the decision", "Attention map"]
    assert any("not why it decided" in i.value for i in at.info)
    assert any("Integrated gradients over" in c.value for c in at.caption)
    first = get_review(app_db, record_id_at(app_db, dataset_id, 0) or 0, None)
    who, label = first.other_labels[0]
    assert who == "Imported labels"
    assert any(c.value.startswith(f"Labeled **{label}** in the imported file") for c in at.caption)

    at.selectbox(key="explain_layer").set_value("Layer 2").run()
    at.selectbox(key="explain_head").set_value("Head 1").run()
    assert not at.exception
    at.segmented_control(key="explain_received").set_value("average of all words").run()
    assert not at.exception
    assert any(c.value.startswith("Darker blue: more attention") for c in at.caption)

    at.segmented_control(key="explain_source").set_value("My own text").run()
    at.text_area(key="explain_text").set_value(
        "<script>alert(1)</script> Hydrocodone eased my L5-S1 pain"
    ).run()
    assert not at.exception
    assert any("Integrated gradients over" in c.value for c in at.caption)
    # Attention and attributions show the words as typed, not the lowercased pieces the model reads.
    shaded = [element.proto.body for element in at.get("html")]
    assert len(shaded) == 2
    for body in shaded:
        assert ">Hydrocodone</span>" in body and ">L5-S1</span>" in body and "hydro" not in body
        assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;</span>" in body


def test_the_chosen_review_is_still_there_after_another_page(
    make_app: Callable[[str], AppTest], app_db: Database, app_settings: Settings, tiny_model: str
) -> None:
    train_tiny_run(app_db, app_settings.runs_dir, tiny_model, epochs=1)
    at = make_app("app.py").run()  # through the router, which keeps widget values aside
    at.switch_page(PAGE).run()
    at.number_input(key="explain_review_number").set_value(3).run()
    at.switch_page("app_pages/results.py").run()
    assert "explain_review_number" not in at.session_state  # Streamlit dropped it with the page
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.number_input(key="explain_review_number").value == 3
