"""Explain page pieces: the attention heatmap and received attention, and integrated-gradients attributions."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.explain import AttentionView, attention_rollout, ig_steps, integrated_gradients, received_attention
from ui.highlight import SPECIAL_TOKENS, highlighted_tokens_html
from ui.resources import get_model
from ui.widgets import plot_text

ROLLOUT = "Rollout (all layers)"
AVERAGE = "Average over heads"


def attention_matrix_ui(view: AttentionView) -> np.ndarray:
    """The layer and head pickers; returns the chosen tokens x tokens attention matrix."""
    layers, heads = view.attentions.shape[:2]
    layer_col, head_col = st.columns(2)
    layer = layer_col.selectbox(
        "Layer", [ROLLOUT, *[f"Layer {i + 1}" for i in range(layers)]], key="explain_layer"
    )
    head = head_col.selectbox(
        "Head",
        [AVERAGE, *[f"Head {i + 1}" for i in range(heads)]],
        key="explain_head",
        disabled=layer == ROLLOUT,
        help="Rollout always averages the heads.",
    )
    if layer == ROLLOUT:
        return attention_rollout(view.attentions)
    per_layer: np.ndarray = view.attentions[int(layer.split()[-1]) - 1]
    chosen: np.ndarray = per_layer.mean(axis=0) if head == AVERAGE else per_layer[int(head.split()[-1]) - 1]
    return chosen


def received_attention_ui(view: AttentionView, matrix: np.ndarray, text: str) -> None:
    source = st.segmented_control(
        "Attention each word receives",
        ["from [CLS]", "mean over tokens"],
        default="from [CLS]",
        required=True,
        key="explain_received",
        help="[CLS] is the token whose final state the classifier reads; the mean is over every token.",
    )
    received = received_attention(matrix, source="cls" if source == "from [CLS]" else "mean")
    st.html(
        highlighted_tokens_html(
            view.review.tokens,
            received.tolist(),
            cut_text=view.review.cut_text(text),
            tokens_before_cut=view.review.tokens_before_cut,
        )
    )
    st.caption(
        f"Darker words receive more attention ({source}). [CLS] and [SEP], which soak up "
        "much of it, are left out of the shading."
    )


def attention_map_ui(view: AttentionView, matrix: np.ndarray) -> None:
    hide_special = st.toggle("Leave out [CLS] and [SEP]", value=True, key="explain_hide_special")
    positions = [
        i for i, token in enumerate(view.review.tokens) if not (hide_special and token in SPECIAL_TOKENS)
    ]
    shown = matrix[np.ix_(positions, positions)]
    _heatmap(shown, [view.review.tokens[i] for i in positions])
    st.caption(
        "Each row is a token; its colours show where that token looks. The brightest 1% of cells share "
        "the darkest blue, so a few strong links do not wash out the rest. Hover a cell for its value."
    )


def _heatmap(matrix: np.ndarray, tokens: list[str]) -> None:
    labels = [plot_text(token) for token in tokens]
    positions = list(range(len(tokens)))
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=positions,
            y=positions,
            colorscale="Blues",
            zmin=0.0,
            zmax=float(np.quantile(matrix, 0.99)) if matrix.size else 1.0,
            showscale=False,
            customdata=[[[labels[row], labels[column]] for column in positions] for row in positions],
            hovertemplate="%{customdata[0]} → %{customdata[1]}: %{z:.3f}<extra></extra>",
        )
    )
    # Tokens repeat, so the axes are positions with token text as tick labels (categories would merge them).
    axis = {"tickmode": "array", "tickvals": positions, "ticktext": labels, "tickfont": {"size": 10}}
    # About 13 px a token keeps every label readable; a 128-token review makes a tall but legible map.
    size = max(360, 160 + 13 * len(tokens))
    figure.update_layout(
        height=size,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={**axis, "side": "top", "tickangle": -90, "title": "attends to"},
        yaxis={**axis, "autorange": "reversed", "title": "token"},
    )
    st.plotly_chart(figure, config={"displayModeBar": False}, key="explain_heatmap")


@st.cache_data(max_entries=64, show_spinner="Computing integrated gradients…")
def _attributions(run_id: int, text: str, target: int) -> tuple[list[str], list[float], float, str, int]:
    review, attributions, delta = integrated_gradients(get_model(run_id, attention=True), text, target)
    return review.tokens, attributions.tolist(), delta, review.cut_text(text), review.tokens_before_cut


def attribution_ui(run_id: int, view: AttentionView, labels: list[str], text: str) -> None:
    predicted = int(view.probabilities.argmax())
    target = st.selectbox(
        "Explain the class",
        list(range(len(labels))),
        index=predicted,
        format_func=lambda i: f"{labels[i]} (predicted)" if i == predicted else labels[i],
        key="explain_target",
    )
    tokens, attributions, delta, cut_text, tokens_before_cut = _attributions(run_id, text, int(target))
    st.html(
        highlighted_tokens_html(
            tokens, attributions, cut_text=cut_text, tokens_before_cut=tokens_before_cut, signed=True
        )
    )
    st.caption(
        f"Green pushed toward “{labels[int(target)]}”, red pushed away. Integrated gradients over "
        f"{len(tokens)} tokens in {ig_steps(len(tokens))} steps against an all-[PAD] baseline "
        f"(convergence error {delta:.3f})."
    )
