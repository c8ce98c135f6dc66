"""Train page: the live run (a fragment polling the database) and the latest finished run of this dataset."""

from __future__ import annotations

from typing import cast

import plotly.graph_objects as go
import streamlit as st

from core.db import Database
from core.models import RunStatus
from core.quality import never_predicted
from core.services.datasets import DatasetRef
from core.services.training import (
    RunProgress,
    RunSummary,
    active_run,
    cancel_run,
    latest_run,
    run_progress,
)
from ui.formatting import device_in_plain_words, duration_text, percent_text, run_kind, short_label
from ui.text import markdown_literal
from ui.widgets import margin_verdict_ui, never_predicted_ui, plot_text, user_errors

REFRESH_S = 1.0
_MACRO_F1_HELP = "The average of each label's F1 score: every label counts the same, however rare."
# Material icons render everywhere; emoji need a font that headless and locked-down browsers may lack.
_STATUS_ICONS = {
    RunStatus.QUEUED: ":material/schedule:",
    RunStatus.RUNNING: ":material/play_circle:",
    RunStatus.SUCCEEDED: ":green[:material/check_circle:]",
    RunStatus.FAILED: ":red[:material/error:]",
    RunStatus.CANCELLED: ":material/stop_circle:",
    RunStatus.INTERRUPTED: ":orange[:material/warning:]",
}


@st.fragment(run_every=REFRESH_S)
def live_run_ui(db: Database, dataset: DatasetRef) -> None:
    """Polls the database once a second; the training thread never touches Streamlit."""
    run = active_run(db)
    if run is not None and run.dataset_id != dataset.id:
        st.info(
            f"The trainer is busy with run #{run.id} of “{markdown_literal(run.dataset_name or '')}”. "
            "A run started here waits until it ends.",
            icon=":material/hourglass_top:",
        )
        run = None
    if run is None:
        latest = latest_run(db, dataset.id)
        if latest is not None:
            _finished_ui(run_progress(db, latest.id))
        else:
            st.caption("No run of this dataset yet. Pick a preset and press **Start training**.")
        return
    progress = run_progress(db, run.id)
    title = f"Run #{run.id} · {run_kind(run)}"
    if run.status == RunStatus.QUEUED:
        st.info(f"{title} is queued and starts when the trainer is free.", icon=":material/schedule:")
    else:
        _running_ui(progress, title)
    if progress.cancel_requested:
        st.caption("Cancelling…")
    elif st.button("Cancel", key=f"cancel_{run.id}", icon=":material/stop:"):
        with user_errors():
            cancel_run(db, run.id)
            # No rerun: the view polls every second and then says "Cancelling…"; the toast answers now.
            st.toast(f"Cancelling run #{run.id}; it stops within a second or two.", icon=":material/stop:")


def _running_ui(progress: RunProgress, title: str) -> None:
    total = progress.total_steps or 0
    eta = f" · about {duration_text(progress.eta_seconds)} left" if progress.eta_seconds is not None else ""
    if not total:
        label = f"{title} · preparing data and model…"
    elif progress.step >= total:
        label = f"{title} · learning done; scoring the test reviews and predicting every review{eta}"
    else:
        planned = progress.passes_planned
        passes = f"{planned:g}" if planned.is_integer() else f"{planned:.1f}"
        label = f"{title} · step {progress.step:,} of {total:,} · epoch {progress.epoch:.1f} of {passes}{eta}"
    st.progress(progress.summary.progress, text=label)
    speed, rate = st.columns(2)
    speed.metric(
        "Reviews per second",
        f"{progress.samples_per_second:,.1f}" if progress.samples_per_second else "—",
        help="How many training reviews the model works through each second.",
    )
    rate.metric(
        "Time left",
        f"about {duration_text(progress.eta_seconds)}" if progress.eta_seconds is not None else "—",
        help="For the whole job: the remaining passes, then scoring the test reviews and predicting every "
        "review."
        + (f" The learning rate is now {progress.learning_rate:.2e}." if progress.learning_rate else ""),
    )
    st.caption(
        f"Training on {device_in_plain_words(progress.summary.device)}.",
        help=f"Technical details: {progress.summary.device}." if progress.summary.device else None,
    )
    _curves_ui(progress)


def _curves_ui(progress: RunProgress) -> None:
    if not progress.train_curve:
        return
    figure = go.Figure()
    steps, losses = zip(*progress.train_curve, strict=True)
    figure.add_scatter(x=steps, y=losses, name="training loss", mode="lines")
    if progress.eval_curve:
        eval_steps, eval_loss, _, eval_f1 = zip(*progress.eval_curve, strict=True)
        figure.add_scatter(x=eval_steps, y=eval_loss, name="validation loss", mode="lines+markers")
        figure.add_scatter(
            x=eval_steps, y=eval_f1, name="validation macro-F1", mode="lines+markers", yaxis="y2"
        )
    figure.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title="step",
        yaxis_title="loss",
        # Whole percentages on a fixed 0-100% scale: the loss axis's grid would otherwise set odd ticks here.
        yaxis2={
            "title": "validation macro-F1",
            "overlaying": "y",
            "side": "right",
            "range": [0, 1],
            "tickmode": "linear",
            "dtick": 0.25,
            "tickformat": ".0%",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.25},
    )
    st.plotly_chart(figure, config={"displayModeBar": False}, key=f"curves_{progress.summary.id}")


def _finished_ui(progress: RunProgress) -> None:
    summary = progress.summary
    icon = _STATUS_ICONS[summary.status]
    st.markdown(f"**Latest run #{summary.id}** · {icon} {summary.status.value}")
    if summary.error:
        st.error(summary.error, icon=":material/error:")
    if progress.metrics.get("partial"):
        st.caption("Cancelled before the end: the curves and any validation scores below are partial.")
    test = progress.metrics.get("test") or {}
    validation = progress.metrics.get("validation") or {}
    if test or validation:
        a, b, c = st.columns(3)
        a.metric("Test accuracy", percent_text(test.get("accuracy")))
        b.metric("Test macro-F1", percent_text(test.get("macro_f1")), help=_MACRO_F1_HELP)
        c.metric("Validation macro-F1", percent_text(validation.get("macro_f1")), help=_MACRO_F1_HELP)
        d, e, _ = st.columns(3)
        d.metric(
            "Learning time",
            duration_text(progress.metrics.get("train_seconds")),
            help="The passes over the training reviews.",
        )
        e.metric(
            "Whole job",
            duration_text(summary.duration.total_seconds() if summary.duration else None),
            help="From start to saved model: loading, learning, scoring and predicting every review.",
        )
        _margin_ui(summary)
    if test.get("confusion_matrix"):
        never_predicted_ui(
            never_predicted(
                cast(list[list[int]], test["confusion_matrix"]),
                [str(n) for n in cast(list[object], test["labels"])],
            )
        )
        _confusion_ui(test)
    _curves_ui(progress)


def _margin_ui(summary: RunSummary) -> None:
    if summary.keyword_margin is not None:
        margin_verdict_ui(
            summary.keyword_margin,
            context="on the test reviews",
            advice="Label more reviews of the weakest label (see Results), or try Balanced or "
            "**Search for better settings**.",
        )


def _confusion_ui(scores: dict[str, object]) -> None:
    names = [plot_text(str(name)) for name in cast(list[object], scores["labels"])]
    matrix = cast(list[list[int]], scores["confusion_matrix"])
    positions = list(range(len(names)))
    # Positions with shortened tick text: a long label name would otherwise take the plot's width.
    ticks = {"tickmode": "array", "tickvals": positions, "ticktext": [short_label(n) for n in names]}
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=positions,
            y=positions,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            customdata=[[[names[row], names[column]] for column in positions] for row in positions],
            hovertemplate="true %{customdata[0]} → predicted %{customdata[1]}: %{z}<extra></extra>",
            showscale=False,
        )
    )
    figure.update_layout(
        height=max(320, 150 + 55 * len(names)),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title="Test confusion matrix",
        xaxis={**ticks, "title": "predicted"},
        yaxis={**ticks, "title": "true", "autorange": "reversed"},
    )
    st.plotly_chart(figure, config={"displayModeBar": False})


# A fragment of its own, refreshed like the live view, so a run that just ended shows up here
# without redrawing the setup form the user may be editing.
