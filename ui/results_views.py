"""Results page pieces: scores, a clickable confusion matrix with its reviews, confidence and length views."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.db import Database
from core.models import RunPart
from core.quality import (
    KEYWORDS,
    MAJORITY,
    calibration_error,
    calibration_error_by_chance,
    margin_over,
    never_predicted,
)
from core.services.datasets import DatasetRef
from core.services.labeling import label_choices, save_label
from core.services.results import (
    RunQuality,
    RunScores,
    ScoredRecord,
    current_labels,
    error_rate_by_length,
    reliability,
    scored_records,
)
from ui import state
from ui.formatting import points_text, short_label
from ui.text import markdown_literal
from ui.widgets import margin_verdict_ui, never_predicted_ui, plot_text, user_errors

_CELL_KEY = "results_cell"  # (run id, part, true label, predicted label) chosen in the matrix
_CLICK_KEY = "results_cell_click"  # the last click applied, so a kept chart selection applies once
_PLOT_CONFIG = {"displayModeBar": False}


def scores_ui(scores: RunScores) -> None:
    a, b, c, d = st.columns(4)
    a.metric("Accuracy", f"{scores.accuracy:.1%}")
    b.metric(
        "Macro-F1",
        f"{scores.macro_f1:.1%}",
        help="The mean of the per-label F1: every label counts the same.",
    )
    c.metric(
        "Weighted F1", f"{scores.weighted_f1:.1%}", help="Per-label F1 weighted by how common each label is."
    )
    d.metric("Reviews scored", f"{scores.size:,}")
    table = pd.DataFrame(
        {
            "Label": [c.label for c in scores.per_class],
            "Precision": [c.precision for c in scores.per_class],
            "Recall": [c.recall for c in scores.per_class],
            "F1": [c.f1 for c in scores.per_class],
            "Support": [c.support for c in scores.per_class],
        }
    )
    share = st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)
    st.dataframe(
        table,
        hide_index=True,
        column_config={"Precision": share, "Recall": share, "F1": share},
    )


def baseline_ui(quality: RunQuality, scores: RunScores, per_class_f1: dict[str, float]) -> None:
    """The run against the two baselines its job fitted on the same training reviews, in plain words."""
    never_predicted_ui(never_predicted(scores.confusion, scores.labels))
    keywords, majority = quality.baselines.get(KEYWORDS), quality.baselines.get(MAJORITY)
    if keywords is None or majority is None:
        st.caption("This run is older than the comparison with simple models; train again to see it.")
        return
    weakest = min(per_class_f1, key=per_class_f1.__getitem__)
    margin = margin_over(scores.accuracy, scores.macro_f1, keywords)
    margin_verdict_ui(
        margin,
        context="fitted on the same training reviews",
        advice=f"Label more reviews of “{weakest}” (its F1 is {per_class_f1[weakest]:.0%}), or try the "
        "Balanced preset or **Search for better settings** on the Train page.",
    )
    table = pd.DataFrame(
        {
            "Model": [
                "This model",
                "Keyword model (word counts + logistic regression)",
                f"Always answer “{majority.predicted}”",
            ],
            "Accuracy": [100 * v for v in (scores.accuracy, keywords.accuracy, majority.accuracy)],
            "Macro-F1": [100 * v for v in (scores.macro_f1, keywords.macro_f1, majority.macro_f1)],
        }
    )
    share = st.column_config.ProgressColumn(format="%.1f%%", min_value=0.0, max_value=100.0)
    with st.expander("Compared with simple models", icon=":material/balance:"):
        st.caption(
            "Both simple models were fitted in seconds on exactly the reviews this model trained on. "
            "A model worth using beats both."
        )
        if margin.accuracy_range and margin.macro_f1_range:
            st.caption(
                "Its lead over the keyword model on other reviews like these would likely fall "
                f"(95 times in 100) between {_points_range(margin.accuracy_range)} of accuracy and "
                f"{_points_range(margin.macro_f1_range)} of macro-F1: a range read from these "
                f"{scores.size:,} reviews, resampled."
            )
        st.dataframe(table, hide_index=True, column_config={"Accuracy": share, "Macro-F1": share})


def _points_range(bounds: tuple[float, float]) -> str:
    return f"{points_text(bounds[0])} and {points_text(bounds[1])}"


def _short_ticks(names: list[str]) -> dict[str, object]:
    """Long label names shortened on the axis only: the cells keep the full names, which clicks return."""
    return {"tickmode": "array", "tickvals": names, "ticktext": [short_label(n) for n in names]}


def confusion_ui(scores: RunScores, run_id: int, part: RunPart) -> tuple[str, str]:
    """A heatmap with an invisible point on each cell: Streamlit gets click events from scatter points
    but not from heatmaps. Returns the chosen (true, predicted) cell, from a click or the pickers."""
    normalized = st.toggle(
        "Normalize by true label",
        key=state.persist("results_normalized"),
        help="Each row as shares of that label's reviews instead of counts, so a rare label reads as "
        "clearly as a common one.",
    )
    labels = scores.labels
    shown = [plot_text(label) for label in labels]
    counts = scores.confusion
    totals = [sum(row) or 1 for row in counts]
    values = [[count / totals[i] if normalized else count for count in row] for i, row in enumerate(counts)]
    texts = [
        [f"{v:.0%}" if normalized else str(c) for v, c in zip(vr, cr, strict=True)]
        for vr, cr in zip(values, counts, strict=True)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=shown,
            y=shown,
            text=texts,
            texttemplate="%{text}",
            textfont={"size": 15},
            colorscale="Blues",
            showscale=False,
            hoverinfo="skip",
        )
    )
    cells = [(i, j) for i in range(len(labels)) for j in range(len(labels))]
    figure.add_scatter(
        x=[shown[j] for _, j in cells],
        y=[shown[i] for i, _ in cells],
        mode="markers",
        marker={"size": 40, "opacity": 0.01, "color": "white"},
        customdata=[[counts[i][j]] for i, j in cells],
        hovertemplate="true %{y} → predicted %{x}: %{customdata[0]} reviews<extra>click to list them</extra>",
        showlegend=False,
    )
    figure.update_layout(
        height=110 * len(labels) + 90,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": "predicted", "side": "top", "showgrid": False, **_short_ticks(shown)},
        yaxis={"title": "true", "autorange": "reversed", "showgrid": False, **_short_ticks(shown)},
    )
    event = st.plotly_chart(
        figure,
        config=_PLOT_CONFIG,
        on_select="rerun",
        selection_mode="points",
        key=f"confusion_{run_id}_{part.value}_{normalized}",
    )
    selection: dict[str, list[dict[str, object]]] = dict(event.selection or {}) if event else {}
    points = selection.get("points", [])
    clicked = None
    column, row = (points[0].get("x"), points[0].get("y")) if points else (None, None)
    if isinstance(column, str) and isinstance(row, str) and column in shown and row in shown:
        clicked = (labels[shown.index(row)], labels[shown.index(column)])
    # A chart keeps its selection across reruns: apply a click once, so the pickers can still change it.
    if clicked is not None and st.session_state.get(_CLICK_KEY) != (run_id, part.value, clicked):
        st.session_state[_CLICK_KEY] = (run_id, part.value, clicked)
        st.session_state[_CELL_KEY] = (run_id, part.value, *clicked)
    chosen = st.session_state.get(_CELL_KEY)
    if not chosen or chosen[0] != run_id or chosen[1] != part.value:
        chosen = (run_id, part.value, *_worst_cell(scores))
    true_col, predicted_col = st.columns(2)
    true_label = true_col.selectbox(
        "True label",
        labels,
        index=labels.index(chosen[2]),
        key=f"cell_true_{run_id}_{part.value}_{chosen[2]}",
    )
    predicted_label = predicted_col.selectbox(
        "Predicted label",
        labels,
        index=labels.index(chosen[3]),
        key=f"cell_predicted_{run_id}_{part.value}_{chosen[3]}",
    )
    st.session_state[_CELL_KEY] = (run_id, part.value, true_label, predicted_label)
    return true_label, predicted_label


def _worst_cell(scores: RunScores) -> tuple[str, str]:
    """Open on the biggest mistake: the off-diagonal cell with the most reviews."""
    size = len(scores.labels)
    cells = [(i, j) for i in range(size) for j in range(size) if i != j] or [(0, 0)]
    i, j = max(cells, key=lambda cell: scores.confusion[cell[0]][cell[1]])
    return scores.labels[i], scores.labels[j]


def cell_summary_ui(scores: RunScores, cell: tuple[str, str]) -> None:
    """What the chosen square holds, next to the matrix, and how to read the matrix at all."""
    true_label, predicted_label = cell
    labels = scores.labels
    row = scores.confusion[labels.index(true_label)]
    count, total = row[labels.index(predicted_label)], sum(row)
    verdict = "right" if true_label == predicted_label else "wrong"
    st.markdown(
        f"**{count}** reviews labeled **{markdown_literal(true_label)}**, predicted "
        f"**{markdown_literal(predicted_label)}** ({verdict}), most confident first."
    )
    if total:
        st.caption(
            f"That is {count / total:.0%} of the {total} reviews labeled {markdown_literal(true_label)}."
        )
    st.caption(
        "Each row of the matrix holds the reviews people gave one label; each column, what the model "
        "answered. The squares from top left to bottom right are the right answers; every other square "
        "is a kind of mistake. The reviews of the chosen square are listed below."
    )


def cell_reviews_ui(
    db: Database, dataset: DatasetRef, run_id: int, part: RunPart, cell: tuple[str, str]
) -> None:
    true_label, predicted_label = cell
    records = scored_records(db, run_id, part, true_label=true_label, predicted_label=predicted_label)
    if not records:
        return
    now = current_labels(db, dataset.id, [r.record_id for r in records])
    table = pd.DataFrame(
        {
            "Review": [r.text for r in records],
            "True label": [r.true_label for r in records],
            "Predicted": [r.predicted_label for r in records],
            "Confidence": [r.confidence for r in records],
            "Label now": [now.get(r.record_id, "—") for r in records],
        }
    )
    selection = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=f"cell_reviews_{run_id}_{part.value}_{true_label}_{predicted_label}",
        # The list spans the page and its label columns stay narrow, so a review reads as a sentence at
        # 1280 px rather than as its first few words; the whole text is a click away.
        column_config={
            "Review": st.column_config.TextColumn(width="large"),
            "True label": st.column_config.TextColumn(width="small"),
            "Predicted": st.column_config.TextColumn(width="small"),
            "Confidence": st.column_config.NumberColumn(
                "Sure", width="small", format="percent", help="How sure the model was of its answer."
            ),
            "Label now": st.column_config.TextColumn(width="small"),
        },
    )
    rows = selection.selection.rows if selection else []
    if rows:
        _relabel_ui(db, dataset, run_id, records[rows[0]], now.get(records[rows[0]].record_id), part)
    else:
        st.caption("Select a row to read the whole review and relabel it.")


def _relabel_ui(
    db: Database, dataset: DatasetRef, run_id: int, record: ScoredRecord, label_now: str | None, part: RunPart
) -> None:
    with st.container(border=True):
        st.markdown(f"**Review #{record.position + 1:,}**")
        st.markdown(markdown_literal(record.text))
        probabilities = ", ".join(f"{markdown_literal(k)} {v:.0%}" for k, v in record.probabilities.items())
        st.caption(f"Model: {probabilities}. Label now: {markdown_literal(label_now or '—')}.")
        if st.button("Explain", icon=":material/psychology:", key=f"explain_{record.record_id}"):
            st.session_state[state.EXPLAIN_REQUEST] = (run_id, record.position + 1)
            st.switch_page("app_pages/explain.py")
        annotator_id = state.current_annotator_id()
        if annotator_id is None:
            st.info(
                "Choose who is labeling in the sidebar (or add yourself) to relabel this review.",
                icon=":material/person:",
            )
            return
        choices = label_choices(db, dataset.id)
        columns = st.columns(len(choices) or 1)
        for column, choice in zip(columns, choices, strict=False):
            current = choice.name == label_now
            if column.button(
                choice.name,
                key=f"relabel_{record.record_id}_{choice.id}",
                type="primary" if current else "secondary",
                icon=":material/check:" if current else None,
                width="stretch",
            ):
                with user_errors():
                    save_label(
                        db, record_id=record.record_id, annotator_id=annotator_id, label_class_id=choice.id
                    )
                    state.toast_after_rerun(
                        f"Saved “{markdown_literal(choice.name)}” for this review.", ":material/check:"
                    )
                    st.rerun()
        if part == RunPart.TEST:
            st.caption(
                "Relabeling saves your label, as on the Label page. This review is held out for testing: "
                "the next run is scored against your label, never trained on it."
            )
        else:
            st.caption("Relabeling saves your label, as on the Label page; the next run trains on it.")


def confidence_ui(records: list[ScoredRecord], quality: RunQuality) -> None:
    confidence = [r.confidence for r in records]
    error = calibration_error(confidence, [r.correct for r in records])
    calibrated = (
        f" The confidences were calibrated on the validation reviews after training "
        f"(every score divided by a temperature of {quality.temperature:.2f})."
        if quality.temperature
        else " This run is older than calibration: its confidences are the model's raw scores."
    )
    by_chance = calibration_error_by_chance(confidence)
    error_col, chance_col = st.columns(2)
    error_col.metric(
        "Calibration error",
        f"{error:.1%}",
        help="How far, on average, the model's confidence is from how often it is right "
        "(expected calibration error, 15 bins). Near 0% means a 90% prediction is right about 90% of "
        "the time. Few reviews make it higher by chance alone: compare it with the figure beside it.",
    )
    chance_col.metric(
        "From chance alone",
        f"{by_chance:.1%}",
        help=f"The calibration error a model whose confidence is exactly right would still show on "
        f"{len(records):,} reviews as sure as these, because each review either is right or is not. "
        "More reviews bring it down.",
    )
    st.caption(
        f"Even perfectly judged confidences would show about {by_chance:.1%} on these {len(records):,} "
        f"reviews, so a figure near that is as good as this many reviews can show.{calibrated}"
    )
    histogram_col, reliability_col = st.columns(2)
    with histogram_col:
        figure = go.Figure()
        for outcome, color in (("right", "#2e7d32"), ("wrong", "#c62828")):
            chosen = [r.confidence for r in records if r.correct == (outcome == "right")]
            figure.add_histogram(
                x=chosen, name=outcome, marker_color=color, xbins={"start": 0, "end": 1.0001, "size": 0.05}
            )
        figure.update_layout(
            barmode="stack",
            height=280,
            title="Confidence of predictions",
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
            xaxis={"title": "confidence", "tickformat": ".0%", "range": [0, 1]},
            yaxis_title="reviews",
            legend={"orientation": "h", "y": -0.3},
        )
        st.plotly_chart(figure, config=_PLOT_CONFIG)
    with reliability_col:
        curve = reliability(records)
        figure = go.Figure()
        figure.add_scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="perfectly calibrated",
            line={"dash": "dot", "color": "gray"},
        )
        figure.add_scatter(x=curve.mean_confidence, y=curve.accuracy, mode="lines+markers", name="this model")
        figure.update_layout(
            height=280,
            title="Reliability: is a 90% prediction right 90% of the time?",
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
            xaxis={"title": "mean confidence in bin", "tickformat": ".0%", "range": [0, 1]},
            yaxis={"title": "share right", "tickformat": ".0%", "range": [0, 1]},
            legend={"orientation": "h", "y": -0.3},
        )
        st.plotly_chart(figure, config=_PLOT_CONFIG)


def length_ui(records: list[ScoredRecord]) -> None:
    buckets = error_rate_by_length(records)
    if not buckets:
        return
    figure = go.Figure(
        go.Bar(
            x=[f"{b.low:,}–{b.high:,}" for b in buckets],
            y=[b.error_rate for b in buckets],
            customdata=[b.reviews for b in buckets],
            hovertemplate="%{x} characters: %{y:.0%} wrong of %{customdata} reviews<extra></extra>",
            marker_color="#5c6bc0",
        )
    )
    figure.update_layout(
        height=260,
        title="Error rate by review length",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis_title="review length (characters), buckets of about equal size",
        yaxis={"title": "wrong", "tickformat": ".0%", "rangemode": "tozero"},
    )
    st.plotly_chart(figure, config=_PLOT_CONFIG)
