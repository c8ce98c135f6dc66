"""Home: the first-run choice on an empty database; afterwards, the current dataset at a glance and
what to do next."""

from __future__ import annotations

import streamlit as st

from core.assist.refresh import labels_version
from core.db import Database
from core.services.home import HomeSnapshot, NextStep, home_snapshot, suggest_next_steps
from core.services.label_issues import still_to_check
from core.services.learning_curve import MORE_LABELS
from core.services.suggestions import record_count
from ui.home_views import (
    first_run_ui,
    glance_ui,
    label_distribution_ui,
    latest_run_ui,
    next_steps_ui,
    tour_offer_ui,
)
from ui.label.progress import cached_forecast
from ui.label.suspicious import cached_label_scores
from ui.resources import get_db, get_suggester
from ui.text import markdown_literal
from ui.widgets import current_dataset_ui, user_errors


def render_home_page() -> None:
    db = get_db()
    st.title("Review Studio")
    dataset = current_dataset_ui(db, quiet=True)
    if dataset is None:
        first_run_ui(db)
        return
    st.caption(f"{markdown_literal(dataset.name)} at a glance")
    snapshot = home_snapshot(db, dataset.id)
    glance_ui(snapshot)
    distribution_col, run_col = st.columns(2, gap="large")
    with distribution_col:
        label_distribution_ui(snapshot)
    with run_col:
        latest_run_ui(snapshot)
    with user_errors():
        next_steps_ui(_next_steps(db, snapshot))
    tour_offer_ui()


def _next_steps(db: Database, snapshot: HomeSnapshot) -> list[NextStep]:
    """The cheap steps always; the ones that need the reviews' embeddings once those are complete."""
    dataset_id = snapshot.dataset.id
    suggester = get_suggester(dataset_id)
    embedded = len(suggester.view().record_ids)
    if embedded < record_count(db, dataset_id) or (
        not snapshot.people_labels and not snapshot.dataset.labeled
    ):
        return suggest_next_steps(snapshot)
    version = labels_version(db, dataset_id)
    with st.spinner("Looking for what would help most…"):
        scores = cached_label_scores(db, suggester, dataset_id, version, embedded)
        forecast = cached_forecast(db, suggester, dataset_id, version, embedded)
    wanted = MORE_LABELS[1]
    gain = next((g for g in forecast.gains if g.more == wanted), None)
    return suggest_next_steps(snapshot, suspicious=len(still_to_check(db, scores).issues), gain=gain)


render_home_page()
