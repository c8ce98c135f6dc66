"""The guided demo tour: a card in the sidebar that points at one page at a time.

It lives in the sidebar so it never covers the page it talks about, and it only ever reads: each
step's status line comes from the database (your labels, the run's progress), so it is true even after
a refresh. The step is kept in the address (?tour=2) like the dataset, so a refresh resumes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import streamlit as st

from core.db import Database
from core.models import RunStatus
from core.services.labeling import labeling_progress
from core.services.training import active_run, latest_run
from ui import state
from ui.formatting import duration_text

TOUR_STEP = "tour_step"  # 1-based step, or None when no tour is on
TOUR_PAUSED_AT = "tour_paused_at"  # the step a skipped tour would resume at
TOUR_PARAM = "tour"
LABELS_TO_TRY = 5


@dataclass(frozen=True)
class TourStep:
    page: str  # the file st.switch_page takes
    page_title: str  # as in the navigation
    title: str
    body: str


STEPS = [
    TourStep(
        "app_pages/label.py",
        "Label",
        "Label a few reviews",
        "Read the review and press the key of its label (1, 2 or 3). Under the review, the app "
        "suggests a label and says how sure it is: **Enter** accepts it. Try five or so; a model is "
        "already training on the sample's labels meanwhile.",
    ),
    TourStep(
        "app_pages/train.py",
        "Train",
        "Watch the model learn",
        "The curves show the model getting better pass by pass, and the estimate says how long is "
        "left. When it finishes, its scores appear next to a simple keyword model's, so you can see "
        "whether it earned its place.",
    ),
    TourStep(
        "app_pages/results.py",
        "Results",
        "Read the confusion matrix",
        "Each row is a review's real label, each column what the model answered: the diagonal is "
        "where it was right. **Click a square** to list those reviews, pick one, and press **Explain**.",
    ),
    TourStep(
        "app_pages/explain.py",
        "Explain",
        "See why it decided",
        "The highlighted words are the ones the model paid attention to, and the attributions show "
        "which words pushed it toward each label.",
    ),
]


def start_tour() -> None:
    st.session_state[TOUR_STEP] = 1
    st.session_state.pop(TOUR_PAUSED_AT, None)


def tour_step() -> int | None:
    """The current step; on a session's first run, the one in the address (a refresh resumes it)."""
    if TOUR_STEP not in st.session_state:
        raw = st.query_params.get(TOUR_PARAM, "")
        st.session_state[TOUR_STEP] = int(raw) if raw.isdigit() and 1 <= int(raw) <= len(STEPS) else None
    value = st.session_state.get(TOUR_STEP)
    return int(value) if value is not None else None


def paused_step() -> int | None:
    value = st.session_state.get(TOUR_PAUSED_AT)
    return int(value) if value is not None else None


def resume_tour() -> None:
    st.session_state[TOUR_STEP] = paused_step() or 1
    st.session_state.pop(TOUR_PAUSED_AT, None)


def mirror_tour_to_link() -> None:
    state.mirror_to_link(TOUR_PARAM, st.session_state.get(TOUR_STEP))


def _go(step: int) -> None:
    st.session_state[TOUR_STEP] = step
    st.switch_page(STEPS[step - 1].page)


def _skip(step: int) -> None:
    st.session_state[TOUR_STEP] = None
    st.session_state[TOUR_PAUSED_AT] = step


def _finish() -> None:
    st.session_state[TOUR_STEP] = None
    st.session_state.pop(TOUR_PAUSED_AT, None)
    state.toast_after_rerun(
        "Tour finished. Home lists what to do next with your own data.", ":material/celebration:"
    )


def tour_ui(db: Database, current_page_title: str) -> None:
    """The sidebar card; nothing when no tour is on."""
    step_number = tour_step()
    if step_number is None:
        return
    step = STEPS[step_number - 1]
    with st.sidebar, st.container(border=True, key="tour_card"):
        st.caption(f":material/tour: Guided tour · step {step_number} of {len(STEPS)}")
        st.markdown(f"**{step.title}**")
        st.markdown(step.body)
        _status_ui(db, step_number)
        here = current_page_title == step.page_title
        if not here and st.button(
            f"Show me on {step.page_title}", type="primary", key="tour_show", width="stretch"
        ):
            st.switch_page(step.page)
        back, forward = st.columns(2)
        if step_number > 1 and back.button("Back", key="tour_back", width="stretch"):
            _go(step_number - 1)
        if step_number < len(STEPS):
            if forward.button(
                "Next", key="tour_next", type="primary" if here else "secondary", width="stretch"
            ):
                _go(step_number + 1)
        elif forward.button("Finish", key="tour_finish", type="primary", width="stretch"):
            _finish()
            st.rerun()
        st.button(
            "Skip the tour",
            key="tour_skip",
            type="tertiary",
            on_click=_skip,
            args=(step_number,),
            help="Home offers to pick it up where you left it.",
        )


def _status_ui(db: Database, step_number: int) -> None:
    """The status line; while a run is on, it refreshes itself, since the page beside it may not."""
    dataset_id = state.current_dataset_id()
    training = dataset_id is not None and active_run(db, dataset_id) is not None

    def draw() -> None:
        status = _status_text(db, step_number)
        if status:
            st.caption(status)

    st.fragment(draw, run_every=_REFRESH_SECONDS if training else None)()


_REFRESH_SECONDS = 3


def _status_text(db: Database, step_number: int) -> str | None:
    """A fact from the database that tells the user where they stand in this step."""
    dataset_id = state.current_dataset_id()
    if dataset_id is None:
        return None
    if step_number == 1:
        annotator_id = state.current_annotator_id()
        if annotator_id is None:
            return "First choose who is labeling, above."
        mine = labeling_progress(db, dataset_id, annotator_id, since=datetime.min).mine
        return f"You have labeled {mine} of {LABELS_TO_TRY}." if mine < LABELS_TO_TRY else "Nicely done."
    run = active_run(db, dataset_id)
    if run is not None:
        return (
            f"Run #{run.id} is training: {run.progress:.0%} done."
            if run.status == RunStatus.RUNNING
            else (f"Run #{run.id} is waiting its turn.")
        )
    finished = latest_run(db, dataset_id)
    if finished is not None and finished.status == RunStatus.SUCCEEDED and step_number == 2:
        took = finished.duration
        return f"Run #{finished.id} finished" + (
            f" in {duration_text(took.total_seconds())}." if took else "."
        )
    return None
