"""Train: one-click fine-tuning in a background thread, watched live, with history."""

from __future__ import annotations

import streamlit as st

from ui.resources import get_db, get_runner
from ui.train.history import history_ui
from ui.train.live import live_run_ui
from ui.train.search import search_results_ui
from ui.train.setup import setup_ui
from ui.widgets import current_dataset_ui, user_errors


def render_train_page() -> None:
    db = get_db()
    get_runner()  # started once per process; it also picks up runs queued from other tabs
    st.title("Train")
    dataset = current_dataset_ui(db)
    if dataset is None:
        return
    setup_col, live_col = st.columns([2, 3], gap="large")
    with setup_col, user_errors():
        st.subheader("New run", anchor=False)
        setup_ui(db, dataset)
    with live_col:
        st.subheader("Training", anchor=False)
        live_run_ui(db, dataset)
    st.subheader("Run history", anchor=False)
    with user_errors():
        history_ui(db, dataset)
    with user_errors():
        search_results_ui(db, dataset)


render_train_page()
