"""Will more labels help? The quick model's learning curve, and a forecast where it has earned trust."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.assist.learning_curve import BACKTEST_TOLERANCE, MIN_PER_LABEL, LearningCurve
from core.assist.refresh import labels_version
from core.db import Database
from core.services.datasets import DatasetRef
from core.services.learning_curve import MORE_LABELS, LabelingForecast, forecast_labeling
from core.services.suggestions import Suggester, record_count
from ui.resources import get_suggester

_TICKS = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000]
SCORE_HELP = (
    "The score is macro-F1 on a 0-100 scale: for each label, how well the quick model finds the reviews "
    "that have it and avoids those that do not, averaged so that a rare label counts as much as a common one."
)


def labeling_progress_ui(db: Database, dataset: DatasetRef) -> None:
    suggester = get_suggester(dataset.id)
    embedded, total = len(suggester.view().record_ids), record_count(db, dataset.id)
    if embedded < total:
        st.info(
            f"The model has read {embedded:,} of this dataset's {total:,} reviews so far; the curve uses "
            "labels of those only. It fills in as reading goes on in the background.",
            icon=":material/hourglass_top:",
        )
    with st.spinner("Measuring how the quick model improves with more labels…"):
        forecast = cached_forecast(db, suggester, dataset.id, labels_version(db, dataset.id), embedded)
    if forecast.curve is None or not forecast.curve.points:
        st.info(
            f"Every label needs at least {MIN_PER_LABEL} labeled reviews (outside the test part) before the "
            f"app can tell how much more labeling would help. {forecast.labeled:,} are labeled so far.",
            icon=":material/hourglass_empty:",
        )
        return
    _verdict_ui(forecast)
    _curve_chart(forecast.curve)
    st.caption(
        "Each dot is the quick model's score when it learns from that many of your labels and is checked "
        "on labels it did not learn from (cross-validation), with its spread across checks. The quick "
        "model is what suggests labels while you work; a full training run usually scores higher, but "
        "tends to gain from more labels in a similar way."
    )


@st.cache_data(max_entries=4, show_spinner=False)
def cached_forecast(
    _db: Database, _suggester: Suggester, dataset_id: int, labels: str, embedded: int
) -> LabelingForecast:
    # About a second of cross-validation: redone only when labels or the embedded reviews change.
    return forecast_labeling(_db, _suggester, dataset_id)


def _points(value: float) -> str:
    return f"{value * 100:+.1f}".replace("-", "−")


def _verdict_ui(forecast: LabelingForecast) -> None:
    curve = forecast.curve
    assert curve is not None
    backtest = curve.backtest
    now = curve.fit.macro_f1(curve.labels_now) if curve.fit is not None else curve.points[-1].macro_f1
    st.markdown(
        f"**With {curve.labels_now:,} labels the quick model scores about {float(now) * 100:.0f} out of 100.**",
        help=SCORE_HELP,
    )
    if forecast.gains:
        columns = st.columns(len(forecast.gains))
        for column, gain in zip(columns, forecast.gains, strict=True):
            column.metric(
                f"Label {gain.more:,} more",
                f"{_points(gain.expected)} points",
                delta=f"likely {_points(gain.low)} to {_points(gain.high)}",
                delta_color="off",
                delta_arrow="off",
                help="Eight times in ten the gain should land in this range, judging by how well the "
                "curve fits the dots and how well it predicted its own last dot.",
                border=True,
            )
        assert backtest is not None
        st.caption(
            f"Forecast from a curve fitted to the dots below. Checked on this dataset: fitted to the first "
            f"{backtest.fitted_on} dots only, it predicted the last one within {backtest.error * 100:.1f} points."
        )
        return
    if backtest is None:
        st.caption("Too few dots yet to check a forecast against; label more to see one.")
    else:
        st.caption(
            f"No forecast yet: fitted to the first {backtest.fitted_on} dots, the curve missed the last one by "
            f"{backtest.error * 100:.1f} points (a forecast is shown once that is within "
            f"{BACKTEST_TOLERANCE * 100:.0f}). The dots still show the trend."
        )


def _curve_chart(curve: LearningCurve) -> None:
    sizes = [p.labels for p in curve.points]
    scores = [100 * p.macro_f1 for p in curve.points]
    figure = go.Figure(
        go.Scatter(
            x=sizes,
            y=scores,
            mode="markers",
            name="Measured",
            error_y={"type": "data", "array": [100 * p.spread for p in curve.points], "thickness": 1},
            marker={"size": 9, "color": "#3949ab"},
            hovertemplate="%{x:,} labels: %{y:.1f}<extra></extra>",
        )
    )
    if curve.fit is not None and curve.can_forecast:
        ahead = np.geomspace(sizes[0], curve.labels_now + max(MORE_LABELS), 60)
        figure.add_scatter(
            x=ahead,
            y=100 * curve.fit.macro_f1(ahead),
            mode="lines",
            name="Forecast",
            line={"dash": "dot", "color": "#ef6c00"},
            hovertemplate="%{x:,.0f} labels: about %{y:.1f}<extra></extra>",
        )
    low, high = min(scores) - 5, max(scores) + 5
    figure.add_scatter(
        x=[curve.labels_now, curve.labels_now],
        y=[low, high],
        mode="lines",
        name=f"Your {curve.labels_now:,} labels",
        line={"dash": "dash", "color": "#9e9e9e", "width": 1},
        hoverinfo="skip",
    )
    ticks = [t for t in _TICKS if sizes[0] / 1.5 <= t <= (curve.labels_now + max(MORE_LABELS)) * 1.5]
    figure.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={
            "title": "Labeled reviews",
            "type": "log",
            "tickvals": ticks,
            "ticktext": [f"{t:,}" for t in ticks],
        },
        yaxis={"title": "Score (0-100)"},
        legend={"orientation": "h", "y": 1.12},
    )
    st.plotly_chart(figure, config={"displayModeBar": False}, key="learning_curve_chart")
