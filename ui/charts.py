"""Small charts shared by pages."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from ui.widgets import plot_text


def probability_chart(labels: list[str], probabilities: list[float], key: str) -> None:
    figure = go.Figure(
        go.Bar(
            x=probabilities,
            y=[plot_text(label) for label in labels],
            orientation="h",
            text=[f"{p:.0%}" for p in probabilities],
            textposition="auto",
            marker_color=["#3949ab" if p == max(probabilities) else "#9fa8da" for p in probabilities],
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    figure.update_layout(
        height=60 + 36 * len(labels),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"range": [0, 1], "tickformat": ".0%"},
        yaxis={"autorange": "reversed"},
    )
    st.plotly_chart(figure, config={"displayModeBar": False}, key=key)
