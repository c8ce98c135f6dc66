"""Results: a finished run's scores, where it goes wrong (confusion drill-down), confidence and length."""

from __future__ import annotations

import streamlit as st

from core.db import Database
from core.models import RunPart
from core.services.datasets import DatasetRef
from core.services.results import run_labels, run_quality, scored_records, scores_of
from core.services.training import RunSummary
from ui import state
from ui.compare_views import compare_ui
from ui.export_views import labeled_data_export_ui, model_export_ui
from ui.formatting import run_title
from ui.resources import get_db
from ui.results_views import (
    baseline_ui,
    cell_reviews_ui,
    cell_summary_ui,
    confidence_ui,
    confusion_ui,
    length_ui,
    scores_ui,
)
from ui.widgets import current_dataset_ui, finished_runs_ui, user_errors

_PARTS = {"Test": RunPart.TEST, "Validation": RunPart.VALIDATION}


def render_results_page() -> None:
    db = get_db()
    st.title("Results")
    dataset = current_dataset_ui(db)
    if dataset is None:
        return
    runs = finished_runs_ui(db, dataset, "to see its scores here")
    if not runs:
        return
    # Lazy tabs: only the open one runs, so a click in one run's drill-down does not re-score every run
    # for the comparison (and the ensemble) it cannot see.
    one_run, compare = st.tabs(["One run", "Compare runs"], key="results_tab", on_change="rerun")
    if compare.open:
        with compare:
            compare_ui(db, runs)
    if one_run.open:
        with one_run:
            _one_run_ui(db, dataset, runs)


def _one_run_ui(db: Database, dataset: DatasetRef, runs: list[RunSummary]) -> None:
    by_id = {r.id: r for r in runs}
    run_col, part_col = st.columns([3, 1])
    run_id = run_col.selectbox(
        "Run",
        list(by_id),
        format_func=lambda i: run_title(by_id[i]),
        key=state.persist("results_run", allowed=by_id),
    )
    run = by_id[run_id]
    part_key = state.persist("results_part", allowed=_PARTS)
    st.session_state.setdefault(part_key, "Test")
    part_name = part_col.segmented_control(
        "Scored on",
        list(_PARTS),
        required=True,
        key=part_key,
        help="Test: reviews kept out of training altogether, the honest score. Validation: the share "
        "held back during training to check progress and to calibrate the confidence.",
    )
    part = _PARTS[part_name or "Test"]
    with user_errors():
        labels = run_labels(db, run.id)
        records = scored_records(db, run.id, part)
        if not records:
            st.info(f"This run has no {part.value} reviews.", icon=":material/info:")
            return
        scores = scores_of(records, labels)
        quality = run_quality(db, run.id, part)
        baseline_ui(quality, scores, {c.label: c.f1 for c in scores.per_class})
        scores_ui(scores)
        st.subheader("Where it goes wrong", anchor=False)
        st.caption("Click a square of the confusion matrix (or pick its labels) to list the reviews in it.")
        matrix_col, summary_col = st.columns([2, 3], gap="large")
        with matrix_col:
            cell = confusion_ui(scores, run.id, part)
        with summary_col:
            cell_summary_ui(scores, cell)
        cell_reviews_ui(db, dataset, run.id, part, cell)
        st.subheader("Confidence", anchor=False)
        confidence_ui(records, quality)
        length_ui(records)
        st.subheader("Export", anchor=False)
        data_col, model_col = st.columns(2, gap="large")
        with data_col:
            st.markdown("**Labeled data with predictions**")
            labeled_data_export_ui(
                db,
                dataset.id,
                file_stem="labeled-data",
                run_ids=[r.id for r in runs],
                key="results_export",
                default_run=run.id,
            )
        with model_col:
            st.markdown("**Model**")
            model_export_ui(db, run.id, key="results_model")


render_results_page()
