"""Datasets: import files or the sample, and look after each dataset."""

from __future__ import annotations

import streamlit as st

from core.db import Database
from core.services.datasets import list_datasets
from ui import state
from ui.dataset_detail import dataset_detail_ui, datasets_table_ui
from ui.importer import import_wizard_ui, sample_button_ui
from ui.resources import get_db
from ui.widgets import user_errors


def render_datasets_page() -> None:
    db = get_db()
    st.title("Datasets")
    datasets = list_datasets(db)
    if not datasets:
        _welcome(db)
        return

    state.apply_requested_view(state.DATASETS_VIEW, state.VIEW_OVERVIEW)
    st.segmented_control(
        "View",
        [state.VIEW_OVERVIEW, state.VIEW_IMPORT],
        key=state.DATASETS_VIEW,
        required=True,
        label_visibility="collapsed",
    )
    if st.session_state.get(state.DATASETS_VIEW) == state.VIEW_IMPORT:
        import_wizard_ui(db)
        st.divider()
        sample_button_ui(db, key="sample_in_import")
        return

    current = state.current_dataset_id()
    if current not in {d.id for d in datasets}:
        current = datasets[0].id
        state.set_current_dataset(current)
    datasets_table_ui(datasets)
    with user_errors():
        dataset_detail_ui(db, current)


def _welcome(db: Database) -> None:
    st.markdown(
        "#### Bring your reviews, label them fast, train a model in one click, and see why it decides what it does."
    )
    st.markdown(
        "Start with the **sample**: 979 real drug reviews, already labeled positive, neutral or negative. "
        "Or upload your own file below."
    )
    sample_button_ui(db, key="sample_welcome", primary=True)
    st.divider()
    st.markdown("#### Import your own file")
    import_wizard_ui(db)


render_datasets_page()
