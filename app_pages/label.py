"""Label: one review at a time with the keyboard, a searchable table for bulk work, agreement, the
labels the app finds suspicious, and whether labeling more would help."""

from __future__ import annotations

import streamlit as st

from ui import state
from ui.label.agreement import label_agreement_ui
from ui.label.browse import label_browse_ui
from ui.label.progress import labeling_progress_ui
from ui.label.review import label_review_ui
from ui.label.suspicious import suspicious_labels_ui
from ui.resources import get_db
from ui.widgets import current_dataset_ui, user_errors


def render_label_page() -> None:
    db = get_db()
    st.title("Label")
    dataset = current_dataset_ui(db)
    if dataset is None:
        return
    annotator_id = state.current_annotator_id()
    view = state.apply_requested_view(state.LABEL_VIEW, state.VIEW_LABEL)
    st.segmented_control(
        "View",
        [
            state.VIEW_LABEL,
            state.VIEW_BROWSE,
            state.VIEW_AGREEMENT,
            state.VIEW_SUSPICIOUS,
            state.VIEW_PROGRESS,
        ],
        key=state.LABEL_VIEW,
        required=True,
        label_visibility="collapsed",
    )
    with user_errors():
        if view == state.VIEW_AGREEMENT:
            label_agreement_ui(db, dataset, annotator_id)
        elif view == state.VIEW_SUSPICIOUS:
            suspicious_labels_ui(db, dataset, annotator_id)
        elif view == state.VIEW_PROGRESS:
            labeling_progress_ui(db, dataset)
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
