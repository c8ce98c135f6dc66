"""Explain: why a run's model labels a review the way it does: attention, and token attributions."""

from __future__ import annotations

import streamlit as st

from core.explain import attention_view
from core.services.datasets import record_id_at
from core.services.importing import IMPORT_ANNOTATOR_NAME
from core.services.labeling import get_review
from ui import state
from ui.charts import probability_chart
from ui.explain_views import attention_map_ui, attention_matrix_ui, attribution_ui, received_attention_ui
from ui.formatting import run_title
from ui.resources import get_db, get_model
from ui.text import markdown_literal
from ui.widgets import current_dataset_ui, finished_runs_ui, user_errors

_FROM_DATASET, _OWN_TEXT = "A review from the dataset", "My own text"


def _apply_request(run_ids: list[int]) -> None:
    """Arriving from "Explain this review" on the Results page: preselect that run and review."""
    request = st.session_state.pop(state.EXPLAIN_REQUEST, None)
    if request is None:
        return
    run_id, number = request
    if run_id in run_ids:
        st.session_state[state.EXPLAIN_RUN] = run_id
    st.session_state["explain_source"] = _FROM_DATASET
    st.session_state[state.EXPLAIN_REVIEW_NUMBER] = number


def render_explain_page() -> None:
    db = get_db()
    st.title("Explain")
    dataset = current_dataset_ui(db)
    if dataset is None:
        return
    finished = finished_runs_ui(db, dataset, "to explain its decisions")
    if not finished:
        return
    runs = {r.id: r for r in finished}
    # Coming back to Explain finds the last run and review; a request from Results still wins.
    state.persist(state.EXPLAIN_RUN, allowed=runs)
    for key in ("explain_source", state.EXPLAIN_REVIEW_NUMBER, "explain_text"):
        state.persist(key)
    _apply_request(list(runs))
    run_col, source_col = st.columns([3, 2])
    run_id = run_col.selectbox(
        "Model", list(runs), format_func=lambda i: run_title(runs[i]), key=state.EXPLAIN_RUN
    )
    st.session_state.setdefault("explain_source", _FROM_DATASET)
    source = source_col.segmented_control(
        "Review", [_FROM_DATASET, _OWN_TEXT], required=True, key="explain_source"
    )
    with user_errors():
        given_labels: list[tuple[str, str]] = []  # (annotator, label) of a dataset review
        if source == _FROM_DATASET:
            st.session_state.setdefault(state.EXPLAIN_REVIEW_NUMBER, 1)
            number = st.number_input("Review #", min_value=1, step=1, key=state.EXPLAIN_REVIEW_NUMBER)
            record_id = record_id_at(db, dataset.id, int(number) - 1)
            if record_id is None:
                st.info("There is no review with that number.", icon=":material/info:")
                return
            review = get_review(db, record_id, None)
            text, given_labels = review.text, review.other_labels
        else:
            text = st.text_area(
                "Your text", height=120, key="explain_text", placeholder="Type or paste a review…"
            )
            if not text.strip():
                return
        model = get_model(run_id, attention=True)
        view = attention_view(model, text)
        summary_col, chart_col = st.columns([3, 2])
        with summary_col:
            best = int(view.probabilities.argmax())
            st.markdown(
                f"**Predicted: {markdown_literal(model.labels[best])}** ({view.probabilities[best]:.0%}). "
                + (
                    "The review is longer than the model reads at once: the greyed part after ✂ was left out."
                    if view.review.truncated
                    else "The model read the whole review."
                )
            )
            if given_labels:
                # Arriving from a wrong prediction on Results, the user wants the label next to the guess.
                st.caption(
                    "Labeled "
                    + ", ".join(
                        f"**{markdown_literal(label)}** "
                        + (
                            "in the imported file"
                            if who == IMPORT_ANNOTATOR_NAME
                            else f"by {markdown_literal(who)}"
                        )
                        for who, label in given_labels
                    )
                    + "."
                )
        with chart_col:
            probability_chart(model.labels, view.probabilities.tolist(), key="explain_probabilities")
        st.info(
            "Attention shows where the model looked while reading, not why it decided: for that, "
            "trust the attributions, which measure how much each word moved the prediction.",
            icon=":material/lightbulb:",
        )
        attention_col, attribution_col = st.columns(2, gap="large")
        with attention_col:
            st.subheader("Attention", anchor=False)
            matrix = attention_matrix_ui(view)
            received_attention_ui(view, matrix, text)
        with attribution_col:
            st.subheader("What pushed the decision", anchor=False)
            attribution_ui(run_id, view, model.labels, text)
        st.subheader(
            "Attention map",
            anchor=False,
            help="Word by word: where each word of the review looks, for the same layer and head as above.",
        )
        attention_map_ui(view, matrix, text)


render_explain_page()
