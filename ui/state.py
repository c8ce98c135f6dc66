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


def current_dataset_id() -> int | None:
    value = st.session_state.get(CURRENT_DATASET_ID)
    return int(value) if value is not None else None


def set_current_dataset(dataset_id: int | None) -> None:
    st.session_state[CURRENT_DATASET_ID] = dataset_id


def current_annotator_id() -> int | None:
    value = st.session_state.get(CURRENT_ANNOTATOR_ID)
    return int(value) if value is not None else None


def show_view(view: str) -> None:
    """Switch the Datasets page's view; call from a callback or before the switcher is drawn."""
    st.session_state[DATASETS_VIEW] = view
