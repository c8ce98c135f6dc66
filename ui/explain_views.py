"""Explain page pieces: the attention heatmap and received attention, and integrated-gradients attributions."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.explain import (
    AttentionView,
    TokenizedReview,
    Word,
    attention_rollout,
    ig_steps,
    integrated_gradients,
    received_attention,
    review_words,
    word_attention,
    word_weights,
)
from ui.highlight import highlighted_words_html
from ui.resources import get_model
from ui.text import markdown_literal
from ui.widgets import plot_text

ROLLOUT = "All layers combined"
AVERAGE = "Average of all heads"
_FROM_SUMMARY, _FROM_ALL = "what the decision reads", "average of all words"


def attention_matrix_ui(view: AttentionView) -> np.ndarray:
    """The layer and head pickers; returns the chosen tokens x tokens attention matrix."""
    layers, heads = view.attentions.shape[:2]
    layer_col, head_col = st.columns(2)
    layer = layer_col.selectbox(
        "Layer",
        [ROLLOUT, *[f"Layer {i + 1}" for i in range(layers)]],
        key="explain_layer",
        help=f"The model reads the review in {layers} layers, each building on the one before. "
        "“All layers combined” follows attention through every layer (attention rollout).",
    )
    head = head_col.selectbox(
        "Head",
        [AVERAGE, *[f"Head {i + 1}" for i in range(heads)]],
        key="explain_head",
        disabled=layer == ROLLOUT,
        help=f"Each layer looks at the review in {heads} ways at once, called heads. With all layers "
        "combined, the heads are always averaged.",
    )
    if layer == ROLLOUT:
        return attention_rollout(view.attentions)
    per_layer: np.ndarray = view.attentions[int(layer.split()[-1]) - 1]
    chosen: np.ndarray = per_layer.mean(axis=0) if head == AVERAGE else per_layer[int(head.split()[-1]) - 1]
    return chosen


def received_attention_ui(view: AttentionView, matrix: np.ndarray, text: str) -> None:
    source = st.segmented_control(
        "Attention each word receives",
        [_FROM_SUMMARY, _FROM_ALL],
        default=_FROM_SUMMARY,
        required=True,
        key="explain_received",
        help="The model sums the review up at a marker placed before its first word (called [CLS]); "
        "its decision is read from there. “What the decision reads” is where that marker looks; the "
        "average is over every word.",
    )
    received = received_attention(matrix, source="cls" if source == _FROM_SUMMARY else "mean")
    words = review_words(view.review)
    st.html(
        highlighted_words_html(
            text,
            words,
            word_weights(words, received).tolist(),
            cut_text=view.review.cut_text(text),
            cut_before_word=_cut_before_word(view.review, words),
        )
    )
    st.caption(
        "Darker blue: more attention. Attention shows where the model looked while reading, not why it "
        "decided."
    )


def _cut_before_word(review: TokenizedReview, words: list[Word]) -> int | None:
    """Where the marker for the unread middle goes, in words; None when it read to the end."""
    if not review.truncated:
        return None
    return next((i for i, word in enumerate(words) if word.tokens[0] >= review.tokens_before_cut), None)


def attention_map_ui(view: AttentionView, matrix: np.ndarray, text: str) -> None:
    words = review_words(view.review)
    _heatmap(word_attention(words, matrix), [text[word.start : word.end] for word in words])
    st.caption(
        "Each row is a word; its colours show where that word looks. The brightest 1% of cells share "
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
    axis = {"tickmode": "array", "tickvals": positions, "ticktext": labels, "tickfont": {"size": 13}}
    # About 17 px a word keeps every label readable; a 100-word review makes a tall but legible map.
    size = max(380, 200 + 17 * len(tokens))
    figure.update_layout(
        height=size,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={**axis, "side": "top", "tickangle": -90, "title": "attends to"},
        yaxis={**axis, "autorange": "reversed", "title": "word"},
    )
    st.plotly_chart(figure, config={"displayModeBar": False}, key="explain_heatmap")


@st.cache_data(max_entries=64, show_spinner="Working out which words pushed the model…")
def _attributions(run_id: int, text: str, target: int) -> tuple[TokenizedReview, list[float], float]:
    review, attributions, delta = integrated_gradients(get_model(run_id, attention=True), text, target)
    return review, attributions.tolist(), delta


def attribution_ui(run_id: int, view: AttentionView, labels: list[str], text: str) -> None:
    predicted = int(view.probabilities.argmax())
    target = st.selectbox(
        "Explain the label",
        list(range(len(labels))),
        index=predicted,
        format_func=lambda i: f"{labels[i]} (predicted)" if i == predicted else labels[i],
        key="explain_target",
        help="Whose score to explain: the predicted label by default, or another one to see what held it back.",
    )
    review, attributions, delta = _attributions(run_id, text, int(target))
    words = review_words(review)
    st.html(
        highlighted_words_html(
            text,
            words,
            word_weights(words, attributions).tolist(),
            cut_text=review.cut_text(text),
            cut_before_word=_cut_before_word(review, words),
            signed=True,
        )
    )
    tokens = len(review.tokens)
    st.caption(
        f"Green pushed toward “{markdown_literal(labels[int(target)])}”, red pushed away; darker is stronger. "
        f"Integrated gradients over {tokens} tokens.",
        help=f"How it is measured: the review is faded in from blank, in {ig_steps(tokens)} steps, and "
        "each word is credited with its share of how the label's score changed (integrated gradients, "
        f"from captum). The shares add up to the whole change to within {delta:.3f}. The model reads "
        "words in pieces (tokens); a word's shade adds up its pieces.",
    )
