"""Results → Compare runs: metrics with deltas, overlaid loss curves, per-label F1, settings, ensemble."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.db import Database
from core.services.compare import Comparison, compare_runs, ensemble_scores
from core.services.training import RunSummary, trained_on_text
from ui.formatting import run_kind
from ui.widgets import plot_text, user_errors

_PLOT_CONFIG = {"displayModeBar": False}


def compare_ui(db: Database, runs: list[RunSummary]) -> None:
    if len(runs) < 2:
        st.info(
            "Comparing needs two or more finished runs of this dataset.", icon=":material/compare_arrows:"
        )
        return
    chosen = st.multiselect(
        "Runs to compare",
        [r.id for r in runs],
        default=[r.id for r in runs[:2]],
        format_func=lambda i: f"#{i} · {run_kind(next(r for r in runs if r.id == i))}",
        key="compare_runs",
        help="The first one chosen is the baseline for the deltas.",
    )
    if len(chosen) < 2:
        st.caption("Pick at least two runs.")
        return
    with user_errors():
        comparison = compare_runs(db, chosen)
        _metrics_table(comparison)
        curves_col, f1_col = st.columns(2, gap="large")
        with curves_col:
            _loss_curves(comparison)
        with f1_col:
            _per_label_f1(comparison)
        _settings_table(comparison)
        _ensemble_ui(db, chosen)


def _with_delta(value: float | None, reference: float | None) -> str:
    if value is None:
        return "—"
    if reference is None:
        return f"{value:.1%}"
    # Percentage points: "+6.9%" next to a percentage would read as a relative change.
    return f"{value:.1%} ({100 * (value - reference):+.1f} pts)"


def _metrics_table(comparison: Comparison) -> None:
    base = comparison.runs[0]
    rows = []
    for index, column in enumerate(comparison.runs):
        test, reference = column.test, (None if index == 0 else base.test)
        rows.append(
            {
                "Run": f"#{column.run_id}" + (" (baseline)" if index == 0 else ""),
                "Test accuracy": _with_delta(
                    test.accuracy if test else None, reference.accuracy if reference else None
                ),
                "Test macro-F1": _with_delta(
                    test.macro_f1 if test else None, reference.macro_f1 if reference else None
                ),
                "Test weighted F1": _with_delta(
                    test.weighted_f1 if test else None, reference.weighted_f1 if reference else None
                ),
                "Validation macro-F1": _with_delta(
                    column.validation_macro_f1, None if index == 0 else base.validation_macro_f1
                ),
                "Trained on": trained_on_text(column.train_samples, column.reviews_read),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def _loss_curves(comparison: Comparison) -> None:
    figure = go.Figure()
    for column in comparison.runs:
        if column.progress.train_curve:
            steps, losses = zip(*column.progress.train_curve, strict=True)
            figure.add_scatter(x=steps, y=losses, mode="lines", name=f"#{column.run_id} training")
        if column.progress.eval_curve:
            steps, eval_loss, _, _ = zip(*column.progress.eval_curve, strict=True)
            figure.add_scatter(
                x=steps,
                y=eval_loss,
                mode="lines+markers",
                name=f"#{column.run_id} validation",
                line={"dash": "dot"},
            )
    figure.update_layout(
        height=300,
        title="Loss",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis_title="step",
        yaxis_title="loss",
        legend={"orientation": "h", "y": -0.3},
    )
    st.plotly_chart(figure, config=_PLOT_CONFIG, key="compare_loss")


def _per_label_f1(comparison: Comparison) -> None:
    figure = go.Figure()
    for column in comparison.runs:
        if column.test is None:
            continue
        figure.add_bar(
            x=[plot_text(c.label) for c in column.test.per_class],
            y=[c.f1 for c in column.test.per_class],
            name=f"#{column.run_id}",
            hovertemplate="%{x}: F1 %{y:.1%}<extra></extra>",
        )
    figure.update_layout(
        barmode="group",
        height=300,
        title="Test F1 per label",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        yaxis={"tickformat": ".0%", "range": [0, 1]},
        legend={"orientation": "h", "y": -0.3},
    )
    st.plotly_chart(figure, config=_PLOT_CONFIG, key="compare_f1")


def _settings_table(comparison: Comparison) -> None:
    if not comparison.config_differences:
        st.caption("These runs used the same settings.")
        return
    st.markdown("**Settings that differ**")
    frame = pd.DataFrame(
        {
            f"#{column.run_id}": [str(values[i]) for values in comparison.config_differences.values()]
            for i, column in enumerate(comparison.runs)
        },
        index=list(comparison.config_differences),
    )
    st.dataframe(frame)


def _ensemble_ui(db: Database, run_ids: list[int]) -> None:
    st.markdown("**Ensemble**")
    st.caption(
        "The average of these runs' probabilities, scored as one model on the test reviews every run held out."
    )
    if not st.toggle(
        "Evaluate the ensemble",
        key="compare_ensemble",
        help="Averages the chosen runs' answers for each review and scores that combination on the test "
        "reviews they share: several models together are often better than the best one alone.",
    ):
        return
    ensemble = ensemble_scores(db, run_ids)
    rows = [("Ensemble (average)", ensemble.scores)] + [
        (f"#{run_id}", scores) for run_id, scores in ensemble.members.items()
    ]
    st.dataframe(
        pd.DataFrame(
            {
                "Model": [name for name, _ in rows],
                "Test accuracy": [f"{s.accuracy:.1%}" for _, s in rows],
                "Test macro-F1": [f"{s.macro_f1:.1%}" for _, s in rows],
                "Test weighted F1": [f"{s.weighted_f1:.1%}" for _, s in rows],
                "Reviews": [s.size for _, s in rows],
            }
        ),
        hide_index=True,
    )
