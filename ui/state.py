"""Session-state keys and their accessors. Only ids and plain values live here, never ORM objects."""

from __future__ import annotations

import streamlit as st

CURRENT_DATASET_ID = "current_dataset_id"
CURRENT_ANNOTATOR_ID = "current_annotator_id"
SIDEBAR_DATASET_WIDGET = "sidebar_dataset_widget"
SIDEBAR_ANNOTATOR_WIDGET = "sidebar_annotator_widget"

DATASETS_VIEW = "datasets_view"
VIEW_OVERVIEW = "Overview"
VIEW_IMPORT = "Import a file"

LABEL_VIEW = "label_view"
VIEW_LABEL = "Label"
VIEW_BROWSE = "Browse"
VIEW_AGREEMENT = "Agreement"

# Set by "Explain this review" elsewhere: (run id, review number shown as “Review #n”).
EXPLAIN_REQUEST = "explain_request"
EXPLAIN_REVIEW_NUMBER = "explain_review_number"
EXPLAIN_RUN = "explain_run"


def current_dataset_id() -> int | None:
    value = st.session_state.get(CURRENT_DATASET_ID)
    return int(value) if value is not None else None


def set_current_dataset(dataset_id: int | None) -> None:
    st.session_state[CURRENT_DATASET_ID] = dataset_id


def current_annotator_id() -> int | None:
    value = st.session_state.get(CURRENT_ANNOTATOR_ID)
    return int(value) if value is not None else None


def request_view(switcher_key: str, view: str) -> None:
    """Ask a page to switch view on its next run (its switcher may already be drawn in this one)."""
    st.session_state[f"{switcher_key}__requested"] = view


def apply_requested_view(switcher_key: str, default: str) -> str:
    """Call before drawing the view switcher: a widget's state may only change before it is drawn."""
    requested = st.session_state.pop(f"{switcher_key}__requested", None)
    if requested is not None:
        st.session_state[switcher_key] = requested
    st.session_state.setdefault(switcher_key, default)
    return str(st.session_state[switcher_key])


def show_view(view: str) -> None:
    request_view(DATASETS_VIEW, view)
