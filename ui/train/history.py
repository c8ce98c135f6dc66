"""Train page: the run history of this dataset, with deletion."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.db import Database
from core.models import RunStatus
from core.services.datasets import DatasetRef
from core.services.training import (
    delete_run,
    list_runs,
    trained_on_text,
)
from core.training.config import BUNDLED_MODEL
from ui import state
from ui.formatting import device_text, duration_text, percent_text, points_text, run_kind
from ui.resources import runs_dir
from ui.widgets import user_errors

HISTORY_REFRESH_S = 3.0


@st.fragment(run_every=HISTORY_REFRESH_S)
def history_ui(db: Database, dataset: DatasetRef) -> None:
    state.show_pending_toasts()  # a delete reruns this fragment alone, not the app that shows them
    runs = list_runs(db, dataset.id)
    if not runs:
        st.caption("Finished runs of this dataset appear here.")
        return
    frame = pd.DataFrame(
        {
            "Run": [f"#{r.id}" for r in runs],
            "Status": [r.status.value for r in runs],
            "Preset": [run_kind(r) for r in runs],
            "Model": [
                "bundled MiniLM-L6" if r.model_source == BUNDLED_MODEL else r.model_source for r in runs
            ],
            "Trained on": [trained_on_text(r.train_samples, r.reviews_read) for r in runs],
            "Test accuracy": [percent_text(r.test_accuracy) for r in runs],
            "Test macro-F1": [percent_text(r.test_macro_f1) for r in runs],
            "vs keyword model": [
                points_text(r.keyword_margin.macro_f1_points) if r.keyword_margin else "—" for r in runs
            ],
            "Whole job": [duration_text(r.duration.total_seconds() if r.duration else None) for r in runs],
            "Device": [device_text(r.device) for r in runs],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "vs keyword model": st.column_config.TextColumn(
                help="Test macro-F1 over a keyword model fitted on the same reviews, in percentage points."
            ),
            "Whole job": st.column_config.TextColumn(
                help="From start to saved model: loading, learning, scoring and predicting every review."
            ),
        },
    )
    deletable = [r.id for r in runs if r.status not in (RunStatus.QUEUED, RunStatus.RUNNING)]
    if not deletable:
        return
    with st.popover("Delete a run", icon=":material/delete:"):
        run_id = st.selectbox("Run", deletable, format_func=lambda i: f"#{i}", key="delete_run_choice")
        sure = st.checkbox("Also delete its model and predictions", key="delete_run_sure")
        if st.button("Delete", type="primary", disabled=not sure, key="delete_run_go"):
            with user_errors():
                delete_run(db, run_id, runs_dir=runs_dir())
                state.toast_after_rerun(f"Deleted run #{run_id}.", ":material/delete:")
                st.rerun(scope="fragment")
