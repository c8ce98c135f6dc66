"""Predict: try a finished run's model on typed text, or run it over a new file and download the results."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from core.exporting import (
    CONFIDENCE_COLUMN,
    PREDICTED_COLUMN,
    ROW_IN_FILE_COLUMN,
    predictions_frame,
    probability_column,
    to_csv_bytes,
    to_excel_bytes,
)
from core.importing.table import SUPPORTED_EXTENSIONS
from core.services.results import score_predictions
from ui import state
from ui.charts import probability_chart
from ui.formatting import run_title
from ui.importer import mapping_ui, plan_cached, read_upload_ui
from ui.resources import get_db, get_model
from ui.results_views import scores_ui
from ui.text import markdown_literal
from ui.widgets import current_dataset_ui, finished_runs_ui, progress_reporter, user_errors

# Top two probabilities closer than this: say so, rather than let a coin flip look like an answer.
UNSURE_MARGIN = 0.15
_BATCH_RESULT = "predict_batch_result"  # (file id, run id, DataFrame, CSV bytes)
_PARSE_CACHE = "predict_parse_cache"


def playground_ui(run_id: int) -> None:
    text = st.text_area(
        "Review", height=140, placeholder="Paste or type a review…", key="predict_text", max_chars=20_000
    )
    # A text box hands its text over when it loses focus or on Ctrl+Enter; a button makes that obvious
    # (clicking it takes the focus, so the text arrives with the click).
    st.button("Predict", type="primary", icon=":material/bolt:", key="predict_go")
    if not text.strip():
        st.caption("Type or paste a review, then press **Predict** (or Ctrl+Enter in the box).")
        return
    model = get_model(run_id)
    started = time.perf_counter()
    probabilities = model.predict([text])[0].tolist()
    took = (time.perf_counter() - started) * 1000
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    st.metric(
        "Predicted label",
        model.labels[best],
        f"{probabilities[best]:.0%} confident",
        delta_color="off",
        delta_arrow="off",  # an up arrow would read as "better than before"
    )
    probability_chart(model.labels, probabilities, key="predict_playground_chart")
    runner_up = sorted(range(len(probabilities)), key=probabilities.__getitem__)[-2]
    if probabilities[best] - probabilities[runner_up] < UNSURE_MARGIN:
        st.warning(
            f"The model is unsure: “{markdown_literal(model.labels[runner_up])}” is close behind.",
            icon=":material/help:",
        )
    st.caption(f"Answered in {took:.0f} ms.", help=f"Technical details: {model.describe_device()}.")


def batch_ui(run_id: int) -> None:
    uploaded = st.file_uploader(
        "File of reviews to label with the model",
        type=list(SUPPORTED_EXTENSIONS),
        key="predict_upload",
        help="Read exactly as on the Datasets page: CSV, TSV, text, JSON, JSON Lines, Excel or Parquet.",
    )
    if uploaded is None:
        st.caption("Nothing is saved to the database: the results are for download.")
        return
    table = read_upload_ui(uploaded, cache_key=_PARSE_CACHE)
    if table is None:
        return
    st.dataframe(table.preview(5), hide_index=True)
    mapping, decode = mapping_ui(table, f"predict_{uploaded.file_id}")
    plan = plan_cached(table, mapping, decode)
    skipped = f" ({plan.rows_rejected:,} rows skipped: empty or unreadable)" if plan.rows_rejected else ""
    st.caption(f"{plan.rows_to_import:,} reviews to predict{skipped}.")
    if st.button(
        f"Predict {plan.rows_to_import:,} reviews",
        type="primary",
        icon=":material/bolt:",
        disabled=not plan.rows_to_import,
    ):
        model = get_model(run_id)
        report = progress_reporter("Predicting…")
        started = time.perf_counter()
        texts = [record.text for record in plan.records]
        probabilities = model.predict(texts, progress=lambda share: report(share, f"Predicting… {share:.0%}"))
        took = time.perf_counter() - started
        report(
            1.0,
            f"Predicted {len(texts):,} reviews in {took:.1f} s ({len(texts) / max(took, 1e-9):,.0f} per second).",
        )
        base = pd.DataFrame(
            {
                **({"id": [r.external_id for r in plan.records]} if mapping.external_id else {}),
                "text": texts,
                **({"label": [r.label for r in plan.records]} if mapping.label else {}),
                ROW_IN_FILE_COLUMN: [r.location for r in plan.records],
            }
        )
        predicted = predictions_frame(base, probabilities, model.labels)
        # The CSV is built once here (milliseconds per thousand rows) and served as a plain file: a
        # file built on the click goes through a server round trip that a busy machine can lose.
        st.session_state[_BATCH_RESULT] = (uploaded.file_id, run_id, predicted, to_csv_bytes(predicted))
    result = st.session_state.get(_BATCH_RESULT)
    if not result or result[0] != uploaded.file_id or result[1] != run_id:
        return
    frame: pd.DataFrame = result[2]
    csv_bytes: bytes = result[3]
    st.dataframe(
        frame.head(200),
        hide_index=True,
        column_config=_column_titles(get_model(run_id).labels),
    )
    if "label" in frame.columns:
        _file_labels_ui(frame, get_model(run_id).labels)
    stem = uploaded.name.rsplit(".", 1)[0] or "reviews"
    csv_col, excel_col = st.columns(2)
    csv_col.download_button(
        "Download CSV",
        csv_bytes,
        f"{stem}-predictions-run{run_id}.csv",
        "text/csv",
        icon=":material/download:",
    )
    # A callable: the Excel file is built when the button is clicked, not on every rerun of this page
    # (a few hundred reviews take seconds).
    excel_col.download_button(
        "Download Excel",
        partial(to_excel_bytes, frame),
        f"{stem}-predictions-run{run_id}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
    )
    st.caption(
        "Cells that a spreadsheet could run as a formula (starting with = + - @) get a leading ' so they stay text."
    )


def _file_labels_ui(frame: pd.DataFrame, labels: list[str]) -> None:
    """The file came with labels: score the model on the rows whose label it knows."""
    known = frame[frame["label"].isin(labels)]
    unknown = len(frame) - len(known)
    if known.empty:
        st.caption(
            "The file's labels do not match this model's labels "
            f"({', '.join(markdown_literal(label) for label in labels)}), so it is not scored."
        )
        return
    scores = score_predictions(known["label"].tolist(), known["predicted_label"].tolist(), labels)
    with st.expander(
        f"The file has labels: the model agrees with {scores.accuracy:.0%} of {len(known):,}",
        icon=":material/fact_check:",
    ):
        scores_ui(scores)
        if unknown:
            st.caption(f"{unknown:,} rows with no label or a label this model does not know are left out.")


def _column_titles(labels: list[str]) -> dict[str, Any]:
    """Plain titles on screen; the downloaded files keep names a spreadsheet formula can refer to."""
    titles: dict[str, Any] = {
        "id": st.column_config.TextColumn("ID"),
        "text": st.column_config.TextColumn("Review", width="large"),
        "label": st.column_config.TextColumn("Label in your file"),
        ROW_IN_FILE_COLUMN: st.column_config.NumberColumn("Row in file"),
        PREDICTED_COLUMN: st.column_config.TextColumn("Predicted label"),
        CONFIDENCE_COLUMN: st.column_config.ProgressColumn(
            "Confidence", format="percent", min_value=0.0, max_value=1.0
        ),
    }
    for label in labels:
        titles[probability_column(label)] = st.column_config.NumberColumn(
            f"Chance of {label}", format="percent"
        )
    return titles


def render_predict_page() -> None:
    db = get_db()
    st.title("Predict")
    dataset = current_dataset_ui(db)
    if dataset is None:
        return
    runs = finished_runs_ui(db, dataset, "to use it here")
    if not runs:
        return
    by_id = {r.id: r for r in runs}
    run = by_id[
        st.selectbox(
            "Model",
            list(by_id),
            format_func=lambda i: run_title(by_id[i]),
            key=state.persist("predict_run", allowed=by_id),
        )
    ]
    playground, batch = st.tabs(["Try a review", "Predict a file"])
    with playground, user_errors():
        playground_ui(run.id)
    with batch, user_errors():
        batch_ui(run.id)


render_predict_page()
