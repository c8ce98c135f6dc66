"""Label: one review at a time with the keyboard, a searchable table for bulk work, and agreement."""

from __future__ import annotations

import streamlit as st

from core.services.datasets import list_datasets
from ui import state
from ui.label_agreement import label_agreement_ui
from ui.label_browse import label_browse_ui
from ui.label_review import label_review_ui
from ui.resources import get_db
from ui.widgets import user_errors


def render_label_page() -> None:
    db = get_db()
    st.title("Label")
    datasets = {d.id: d for d in list_datasets(db)}
    dataset = datasets.get(state.current_dataset_id() or -1) or next(iter(datasets.values()), None)
    if dataset is None:
        st.info(
            "Import a dataset on the **Datasets** page first (left, under Data).", icon=":material/database:"
        )
        return
    annotator_id = state.current_annotator_id()
    view = state.apply_requested_view(state.LABEL_VIEW, state.VIEW_LABEL)
    st.segmented_control(
        "View",
        [state.VIEW_LABEL, state.VIEW_BROWSE, state.VIEW_AGREEMENT],
        key=state.LABEL_VIEW,
        required=True,
        label_visibility="collapsed",
    )
    with user_errors():
        if view == state.VIEW_AGREEMENT:
            label_agreement_ui(db, dataset, annotator_id)
        elif annotator_id is None:
            st.info(
                "Choose who is labeling in the sidebar (or add yourself) to start.", icon=":material/person:"
            )
            if view == state.VIEW_BROWSE:
                label_browse_ui(db, dataset, None)
        elif view == state.VIEW_BROWSE:
            label_browse_ui(db, dataset, annotator_id)
        else:
            label_review_ui(db, dataset, annotator_id)


render_label_page()
