"""Train page pieces for the hyperparameter search: its start form and its trials, table and plot."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.db import Database
from core.models import RunStatus
from core.services.datasets import DatasetRef
from core.services.search import (
    DEFAULT_SPACE,
    MAX_TRIALS,
    MIN_TRIALS,
    SearchReport,
    latest_search,
    start_search,
    stop_search,
)
from core.training.config import TrainConfig
from ui import state
from ui.formatting import duration_text, percent_text
from ui.resources import get_runner
from ui.widgets import user_errors

SEARCH_REFRESH_S = 3.0
DEFAULT_TRIALS = 6


def search_setup_ui(
    db: Database, dataset: DatasetRef, base: TrainConfig, preset: str, can_train: bool
) -> None:
    with st.expander("Search for better settings", icon=":material/manage_search:"):
        st.caption(
            f"Trains several runs one after another, each with settings Optuna picks from "
            f"{DEFAULT_SPACE.describe()}, starting from the **{preset}** preset and the Advanced settings "
            "above. The run with the best validation macro-F1 wins; the test split is never used to choose."
        )
        trials = st.slider(
            "Trials",
            MIN_TRIALS,
            MAX_TRIALS,
            DEFAULT_TRIALS,
            key="search_trials",
            help="How many training runs the search makes, each with settings chosen from what the earlier "
            "ones scored.",
        )
        if st.button(
            "Start search", icon=":material/manage_search:", disabled=not can_train, key="search_go"
        ):
            with user_errors():
                search_id = start_search(db, dataset.id, base, trials=int(trials), preset=preset)
                get_runner().wake()
                state.toast_after_rerun(
                    f"Search #{search_id} queued: {trials} trials.", ":material/schedule:"
                )
                st.rerun()


@st.fragment(run_every=SEARCH_REFRESH_S)
def search_results_ui(db: Database, dataset: DatasetRef) -> None:
    report = latest_search(db, dataset.id)
    if report is None:
        return
    st.subheader(f"Settings search #{report.id}", anchor=False)
    counted = sum(1 for t in report.trials if t.status != RunStatus.INTERRUPTED)
    if report.finished:
        standing = f"finished: {counted} of {report.planned} trials"
    else:
        standing = f"trial {counted} of {report.planned} under way"
    st.caption(f"{report.preset or 'Custom'} preset · {standing} · searched {report.space.describe()}")
    if report.stop_reason:
        st.info(f"Stopped early. {report.stop_reason}", icon=":material/stop_circle:")
    under_way = not report.finished and not report.stopped
    if under_way and st.button("Stop search", icon=":material/stop:", key=f"stop_search_{report.id}"):
        with user_errors():
            stop_search(db, report.id)
            st.rerun(scope="fragment")
    best = report.best
    if best is not None:
        lead = "Best" if report.finished else "Best so far"
        st.success(
            f"{lead}: trial {best.number} (run #{best.run_id}), validation macro-F1 "
            f"{percent_text(best.validation_macro_f1)}, with learning rate {best.learning_rate:.1e}, "
            f"{best.epochs} epochs, batch size {best.batch_size}. Its model is saved with the run.",
            icon=":material/emoji_events:",
        )
    table_col, plot_col = st.columns([5, 3], gap="medium")
    with table_col:
        st.dataframe(_trials_frame(report), hide_index=True)
    with plot_col:
        _trials_plot(report)


def _trials_frame(report: SearchReport) -> pd.DataFrame:
    best = report.best
    return pd.DataFrame(
        {
            "Trial": [t.number for t in report.trials],
            "Run": [
                f"#{t.run_id}" + (" ★" if best is not None and t.run_id == best.run_id else "")
                for t in report.trials
            ],
            "Status": [t.status.value for t in report.trials],
            "Learning rate": [f"{t.learning_rate:.1e}" for t in report.trials],
            "Epochs": [t.epochs for t in report.trials],
            "Batch size": [t.batch_size for t in report.trials],
            "Validation macro-F1": [percent_text(t.validation_macro_f1) for t in report.trials],
            "Duration": [
                duration_text(t.duration.total_seconds() if t.duration else None) for t in report.trials
            ],
        }
    )


def _trials_plot(report: SearchReport) -> None:
    scored = [t for t in report.trials if t.validation_macro_f1 is not None]
    if not scored:
        st.caption("The plot fills in as trials finish.")
        return
    best_so_far: list[float] = []
    for trial in scored:
        best_so_far.append(max([*best_so_far, trial.validation_macro_f1 or 0.0]))
    figure = go.Figure()
    figure.add_scatter(
        x=[t.number for t in scored],
        y=[t.validation_macro_f1 for t in scored],
        mode="markers",
        name="trial",
        marker={
            "size": [6 + 2 * t.epochs for t in scored],
            "color": [t.learning_rate for t in scored],
            "colorscale": "Viridis",
            "showscale": False,
        },
        customdata=[[t.learning_rate, t.epochs, t.batch_size, t.run_id] for t in scored],
        hovertemplate=(
            "trial %{x} (run #%{customdata[3]})<br>validation macro-F1 %{y:.1%}<br>"
            "learning rate %{customdata[0]:.1e}, %{customdata[1]} epochs, batch %{customdata[2]}<extra></extra>"
        ),
    )
    figure.add_scatter(
        x=[t.number for t in scored], y=best_so_far, mode="lines", name="best so far", line={"shape": "hv"}
    )
    figure.update_layout(
        height=260,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": "trial", "dtick": 1},
        yaxis={"title": "validation macro-F1", "tickformat": ".0%"},
        legend={"orientation": "h", "y": -0.3},
    )
    st.plotly_chart(figure, config={"displayModeBar": False}, key=f"search_plot_{report.id}")
