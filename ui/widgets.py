"""Reusable *_ui() functions: they draw widgets and return values. No business rules here."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.db import Database
from core.errors import ReviewStudioError
from core.models import RunStatus
from core.quality import Margin
from core.services.annotators import add_annotator, list_annotators
from core.services.datasets import DatasetRef, get_dataset_summary, list_dataset_refs
from core.services.importing import ProgressCallback
from core.services.training import RunSummary, list_runs
from ui import state
from ui.formatting import margin_text
from ui.gate import sign_out, signed_in_as, write_session_cookie
from ui.text import markdown_literal

log = logging.getLogger(__name__)


@contextmanager
def user_errors() -> Iterator[None]:
    """Show domain errors as plain messages; anything else as a short apology (details go to the log)."""
    try:
        yield
    except ReviewStudioError as error:
        st.error(str(error), icon=":material/error:")
    except Exception:
        log.exception("Unexpected error")
        st.error(
            "Something went wrong here, and it was not your fault. Reload the page to see what was saved; "
            "if it keeps happening, the server log has the details.",
            icon=":material/error:",
        )


def margin_verdict_ui(margin: Margin, *, context: str, advice: str) -> None:
    """The margin over the keyword model in plain words: a clear win, a near tie, or not yet, with advice.
    `context` follows "over a keyword model", e.g. "on the test reviews"."""
    text = f"**{margin_text(margin)}** {context}"
    if margin.clearly_beats:
        st.success(f"{text}.", icon=":material/trending_up:")
    elif margin.beats:
        st.info(
            f"{text}: ahead, but by less than a point on one measure, within the noise of a few hundred "
            "reviews.",
            icon=":material/balance:",
        )
    elif (behind := margin.behind_only_by_chance) is not None:
        measure, (low, high) = behind
        ahead_name, behind_name = (
            ("macro-F1", "accuracy") if measure == "accuracy" else ("accuracy", "macro-F1")
        )
        st.info(
            f"{text}: clearly ahead on {ahead_name}; on {behind_name} the two are level within chance "
            f"(on reviews like these the gap could fall anywhere from {low:+.1f} to {high:+.1f} pts), so "
            f"it has not clearly earned its place yet. {advice}",
            icon=":material/balance:",
        )
    else:
        st.warning(
            f"{text}: this model has not yet earned its place over a simple keyword model. {advice}",
            icon=":material/lightbulb:",
        )


def never_predicted_ui(labels: list[str]) -> None:
    """Say plainly when the model skips a label altogether, with what to do about it."""
    if not labels:
        return
    names = " and ".join(f"“{markdown_literal(label)}”" for label in labels)
    st.warning(
        f"**It never predicts {names}** on these reviews: with few examples of a label, a model learns "
        "to skip it. Label more of those reviews, or give rare labels more help (Train → Advanced → "
        "Help for rare labels → Make their reviews count fully as much).",
        icon=":material/visibility_off:",
    )


def plot_text(value: str) -> str:
    """Plotly renders a subset of HTML in labels and hovers; user text must show as typed."""
    return html.escape(value, quote=False)


def progress_reporter(label: str) -> ProgressCallback:
    bar = st.progress(0.0, text=label)

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=message)

    return report


def _sync_dataset_from_widget() -> None:
    state.set_current_dataset(st.session_state.get(state.SIDEBAR_DATASET_WIDGET))


def _sync_annotator_from_widget() -> None:
    st.session_state[state.CURRENT_ANNOTATOR_ID] = st.session_state.get(state.SIDEBAR_ANNOTATOR_WIDGET)


def sidebar_context_ui(db: Database) -> None:
    """The sidebar's 'where am I': current dataset and annotator, on every page and every rerun.

    Only the current dataset is counted: the list of names is a cheap query, so a key press on the
    Label page does not pay for counting every dataset.
    """
    with st.sidebar:
        names = {ref.id: ref.name for ref in list_dataset_refs(db)}
        annotators = {a.id: a.name for a in list_annotators(db)}
        for problem in state.restore_context_from_link(names, annotators):
            st.toast(problem, icon=":material/link_off:")
        current = state.current_dataset_id()
        if current not in names:
            current = next(iter(names), None)
            state.set_current_dataset(current)
        if current is not None:
            # Drawn after the page may have changed the current dataset: align the widget first.
            st.session_state[state.SIDEBAR_DATASET_WIDGET] = current
            st.selectbox(
                "Dataset",
                options=list(names),
                format_func=names.__getitem__,
                key=state.SIDEBAR_DATASET_WIDGET,
                on_change=_sync_dataset_from_widget,
            )
            summary = get_dataset_summary(db, current)
            st.caption(
                f"{summary.records:,} reviews · {summary.labeled_share:.0%} labeled · {summary.label_count} labels"
            )
        else:
            st.caption("No dataset yet. Try the demo on Home, or import one on the Datasets page.")
        _annotator_ui(db, annotators)


def _annotator_ui(db: Database, annotators: dict[int, str]) -> None:
    identity = signed_in_as()
    if identity is not None:
        # The password gate decided who this is; labeling as someone else is not offered.
        st.caption(f"Labeling as **{markdown_literal(identity)}**")
        st.button("Sign out", icon=":material/logout:", on_click=sign_out, width="stretch")
        write_session_cookie()
        return
    current = state.current_annotator_id()
    if current not in annotators:
        current = None
        st.session_state[state.CURRENT_ANNOTATOR_ID] = None
    if annotators:
        options: list[int | None] = [None, *annotators]
        st.session_state[state.SIDEBAR_ANNOTATOR_WIDGET] = current
        st.selectbox(
            "Annotator",
            options=options,
            format_func=lambda a: "Choose who is labeling…" if a is None else annotators[a],
            placeholder="Choose who is labeling…",
            key=state.SIDEBAR_ANNOTATOR_WIDGET,
            on_change=_sync_annotator_from_widget,
        )
    popover = st.popover("Add annotator", icon=":material/person_add:", width="stretch")
    with popover, st.form("add_annotator", clear_on_submit=True, border=False):
        name = st.text_input("Name", placeholder="e.g. Alex")
        if st.form_submit_button("Add", type="primary"):
            with user_errors():
                added = add_annotator(db, name)
                st.session_state[state.CURRENT_ANNOTATOR_ID] = added.id
                state.toast_after_rerun(
                    f"Added {markdown_literal(added.name)}; labels you give now are theirs.",
                    ":material/person_add:",
                )
                st.rerun()


def current_dataset_ui(db: Database, *, quiet: bool = False) -> DatasetRef | None:
    """The sidebar's current dataset (or the newest one); None, with a pointer to Datasets unless
    `quiet`, if there is none."""
    refs = {ref.id: ref for ref in list_dataset_refs(db)}
    dataset = refs.get(state.current_dataset_id() or -1) or next(iter(refs.values()), None)
    if dataset is None and not quiet:
        st.info(
            "No dataset yet. **Try the demo** on Home, or import a dataset on the **Datasets** page "
            "(left, under Data).",
            icon=":material/database:",
        )
    return dataset


def finished_runs_ui(db: Database, dataset: DatasetRef, purpose: str) -> list[RunSummary]:
    """The dataset's finished runs, newest first; with none, a pointer to the Train page (and [])."""
    runs = [r for r in list_runs(db, dataset.id) if r.status == RunStatus.SUCCEEDED]
    if not runs:
        st.info(
            f"No finished run for this dataset yet. Train one on the **Train** page {purpose}.",
            icon=":material/model_training:",
        )
    return runs
