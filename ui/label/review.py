"""One review at a time, keyboard first. Saves go straight to the database; the browser holds only ids."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ParamSpec

import streamlit as st

from core.db import Database
from core.errors import ReviewStudioError
from core.models import utcnow
from core.services.active import ActivePick, next_active
from core.services.datasets import DatasetRef, get_guidelines
from core.services.labeling import (
    MODEL_ORDERS,
    QUEUE_ORDER_LABELS,
    LabelChoice,
    QueueOrder,
    get_review,
    label_choices,
    labeling_progress,
    next_record_id,
    recent_labels,
    restore_label,
    save_label,
)
from core.services.suggestions import suggest_for_review
from ui import state
from ui.formatting import start_of_local_day
from ui.label.suggestion import suggestion_ui, why_picked_ui
from ui.resources import get_assist_runner, get_suggester
from ui.text import markdown_literal

_TRAIL_KEY = "labeling_trail"
_ERROR_KEY = "labeling_error"
_HISTORY_SIZE = 6
# The diverse order avoids the groups of this many reviews shown last.
_DIVERSE_RECENT = 5
P = ParamSpec("P")
log = logging.getLogger(__name__)
_REVIEW_CSS = """
<style>
.st-key-review_card p { font-size: 1.3rem; line-height: 1.65; }
.st-key-undo_ctrl_z { display: none; }
/* A click anywhere on the page focuses Streamlit's scrolling main area; the first shortcut key then
   turns on its keyboard-focus ring, a grey frame around the whole page that flashes on every label.
   Here keys label reviews and never move focus, so the frame says nothing. */
[data-testid="stMain"]:focus-visible::before { box-shadow: none; }
</style>
"""


@dataclass
class LabelingTrail:
    """Where this browser tab is in the queue. Plain ids only; the labels themselves live in the database."""

    context: tuple[int, int, str, int]  # dataset, annotator, queue order, seed
    records: list[int] = field(default_factory=list)
    cursor: int = -1
    passed: set[int] = field(default_factory=set)  # moved past without a label (Skip or Next)
    undo: list[tuple[str, int, int | None]] = field(default_factory=list)  # (action, record, previous label)
    why: dict[int, ActivePick] = field(default_factory=dict)  # what the model saw in a review it picked
    shown_at: float = field(default_factory=time.monotonic)

    @property
    def current(self) -> int | None:
        return self.records[self.cursor] if 0 <= self.cursor < len(self.records) else None

    def show(self, record_id: int) -> None:
        if record_id in self.records:
            self.cursor = self.records.index(record_id)
        else:
            self.records.insert(self.cursor + 1, record_id)
            self.cursor += 1
        self.shown_at = time.monotonic()


def _trail(dataset_id: int, annotator_id: int, order: QueueOrder, seed: int) -> LabelingTrail:
    context = (dataset_id, annotator_id, order.value, seed)
    trail: LabelingTrail | None = st.session_state.get(_TRAIL_KEY)
    if trail is None or trail.context != context:
        trail = LabelingTrail(context=context)
        st.session_state[_TRAIL_KEY] = trail
    return trail


def open_record_for_labeling(record_id: int) -> None:
    """Used by the table view: show this record next in the single-review view."""
    trail: LabelingTrail | None = st.session_state.get(_TRAIL_KEY)
    if trail is not None:
        trail.show(record_id)
    else:
        st.session_state["labeling_open_record"] = record_id


def _advance(db: Database, trail: LabelingTrail, *, position: int | None) -> None:
    if trail.cursor < len(trail.records) - 1:
        trail.cursor += 1
        trail.shown_at = time.monotonic()
        return
    dataset_id, annotator_id, order, seed = trail.context
    exclude = trail.passed | set(trail.records[trail.cursor :])
    following: int | None = None
    if QueueOrder(order) in MODEL_ORDERS:
        pick = next_active(
            db,
            get_suggester(dataset_id),
            dataset_id,
            diverse=QueueOrder(order) is QueueOrder.UNCERTAIN_DIVERSE,
            exclude=exclude,
            recent=trail.records[-_DIVERSE_RECENT:],
        )
        if pick is not None:
            following = pick.record_id
            trail.why[following] = pick
    if following is None:  # an SQL order, or no review embedded yet: import order meanwhile
        sql_order = QueueOrder.UNLABELED_FIRST if QueueOrder(order) in MODEL_ORDERS else QueueOrder(order)
        following = next_record_id(
            db,
            dataset_id,
            annotator_id,
            order=sql_order,
            seed=seed,
            after_position=position,
            after_record_id=trail.current,
            exclude=exclude,
        )
    if following is None:
        trail.cursor = len(trail.records)  # past the end: the queue is done
    else:
        trail.records.append(following)
        trail.cursor = len(trail.records) - 1
    trail.shown_at = time.monotonic()


def _guarded(action_name: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Callbacks run before the page draws; keep their errors for the page to show."""

    def wrap(func: Callable[P, None]) -> Callable[P, None]:
        def run(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                func(*args, **kwargs)
            except ReviewStudioError as error:
                st.session_state[_ERROR_KEY] = str(error)
            except Exception:
                log.exception("%s failed", action_name)
                st.session_state[_ERROR_KEY] = (
                    f"Could not {action_name}. Try again; your earlier labels are saved."
                )

        return run

    return wrap


@_guarded("save the label")
def _on_label(
    db: Database, trail: LabelingTrail, label_id: int, position: int, suggested_label_id: int | None = None
) -> None:
    record_id = trail.current
    if record_id is None:
        return
    _, annotator_id, _, _ = trail.context
    duration_ms = int((time.monotonic() - trail.shown_at) * 1000)
    result = save_label(
        db,
        record_id=record_id,
        annotator_id=annotator_id,
        label_class_id=label_id,
        duration_ms=duration_ms,
        suggested_label_id=suggested_label_id,
    )
    get_assist_runner().wake()  # the fast model refits on the new label within a second or so
    trail.undo.append(("label", record_id, result.previous_label_id))
    trail.passed.discard(record_id)
    _advance(db, trail, position=position)


@_guarded("skip")
def _on_skip(db: Database, trail: LabelingTrail, position: int) -> None:
    if trail.current is None:
        return
    trail.passed.add(trail.current)
    trail.undo.append(("skip", trail.current, None))
    _advance(db, trail, position=position)


@_guarded("move on")
def _on_next(db: Database, trail: LabelingTrail, position: int) -> None:
    if trail.current is not None:
        trail.passed.add(trail.current)
    _advance(db, trail, position=position)


def _on_back(trail: LabelingTrail) -> None:
    if trail.cursor > 0:
        trail.cursor = min(trail.cursor, len(trail.records)) - 1
        trail.shown_at = time.monotonic()


@_guarded("undo")
def _on_undo(db: Database, trail: LabelingTrail) -> None:
    if not trail.undo:
        return
    action, record_id, previous = trail.undo.pop()
    if action == "label":
        _, annotator_id, _, _ = trail.context
        restore_label(db, record_id=record_id, annotator_id=annotator_id, label_class_id=previous)
    trail.passed.discard(record_id)
    trail.show(record_id)


def label_review_ui(db: Database, dataset: DatasetRef, annotator_id: int) -> None:
    st.html(_REVIEW_CSS)
    labels = label_choices(db, dataset.id)
    if not labels:
        st.info(
            "This dataset has no labels yet. Add some under **Datasets → Label set**.",
            icon=":material/label_off:",
        )
        return
    order_col, seed_col, blind_col = st.columns([3, 1, 1.4], vertical_alignment="bottom")
    order = order_col.selectbox(
        "Queue order",
        list(QUEUE_ORDER_LABELS),
        format_func=QUEUE_ORDER_LABELS.__getitem__,
        key="label_queue_order",
        help="Which review comes next. The model-chosen orders show first the reviews it is least sure "
        "about, where a label teaches it most.",
    )
    seed = int(
        seed_col.number_input(
            "Seed",
            min_value=0,
            value=0,
            step=1,
            key="label_queue_seed",
            disabled=order != QueueOrder.RANDOM,
            help="For the random order: the same number gives the same order, so two people can share it.",
        )
    )
    show_others = blind_col.toggle(
        "Show others' labels",
        key="label_show_others",
        help="Off by default: seeing an earlier label sways yours, and agreement figures then "
        "measure copying instead of agreement.",
    )
    trail = _trail(dataset.id, annotator_id, QueueOrder(order), seed)
    pending = st.session_state.pop("labeling_open_record", None)
    if pending is not None:
        trail.show(int(pending))
    if trail.cursor == -1:
        _advance(db, trail, position=None)

    _progress_ui(db, dataset.id, annotator_id)
    if error := st.session_state.pop(_ERROR_KEY, None):
        st.error(error, icon=":material/error:")

    main, side = st.columns([3, 1], gap="large")
    with side:
        _guidelines_ui(db, dataset.id)
        _history_ui(db, dataset.id, annotator_id, trail)
    with main:
        if trail.current is None:
            st.success(
                "Nothing left in this queue. Pick another queue order, or review what you labeled with **Back**.",
                icon=":material/task_alt:",
            )
            _controls_ui(db, trail, position=None, can_label=False)
            return
        card = get_review(db, trail.current, annotator_id)
        why_picked_ui(trail.why.get(card.record_id), QueueOrder(order), labels)
        suggester = get_suggester(dataset.id)
        suggestion = suggest_for_review(db, suggester, dataset.id, card.record_id)
        _card_ui(
            card.text,
            card.position,
            card.external_id,
            card.split,
            card.other_labels if show_others else None,
            labels,
            card.my_label_id,
            hidden_labels=0 if show_others else len(card.other_labels),
        )
        suggested_id = suggestion.label_class_id if suggestion is not None else None
        suggestion_ui(
            db,
            dataset.id,
            suggestion,
            labels,
            read_so_far=suggester.embedded,
            ready=lambda: suggest_for_review(db, suggester, dataset.id, card.record_id) is not None,
            on_accept=_on_label,
            args=(db, trail, suggested_id, card.position, suggested_id),
        )
        _label_buttons_ui(db, trail, labels, card.position, card.my_label_id, suggested_id)
        _controls_ui(db, trail, position=card.position, can_label=True)


def _progress_ui(db: Database, dataset_id: int, annotator_id: int) -> None:
    start_of_day = start_of_local_day(utcnow(), state.viewer_zone())
    progress = labeling_progress(db, dataset_id, annotator_id, since=start_of_day)
    st.progress(
        progress.labeled_share,
        text=(
            f"**{progress.labeled:,}** of {progress.total:,} reviews labeled by people ({progress.labeled_share:.0%}) · "
            f"you: {progress.mine:,} in total, **{progress.mine_today:,} today**"
        ),
    )
    if progress.imported:
        st.caption(
            f"{progress.imported:,} reviews also carry a label from the imported file; "
            "yours are kept beside it, and the Agreement view compares them."
        )


def _card_ui(
    text: str,
    position: int,
    external_id: str | None,
    split: str,
    other_labels: list[tuple[str, str]] | None,
    labels: list[LabelChoice],
    my_label_id: int | None,
    *,
    hidden_labels: int = 0,
) -> None:
    facts = [f"Review #{position + 1:,}"]
    if external_id:
        facts.append(f"id {external_id}")
    if split == "test":
        facts.append("held-out test")
    mine = next((label.name for label in labels if label.id == my_label_id), None)
    if mine:
        facts.append(f"your label: {mine}")
    st.caption(markdown_literal(" · ".join(facts)))
    with st.container(border=True, key="review_card"):
        st.markdown(markdown_literal(text))
    if other_labels:
        st.caption("Others: " + markdown_literal(", ".join(f"{who}: {label}" for who, label in other_labels)))
    elif hidden_labels:
        someone = "1 other label" if hidden_labels == 1 else f"{hidden_labels} other labels"
        st.caption(f"{someone} hidden while you decide (Show others' labels, above).")


def _label_buttons_ui(
    db: Database,
    trail: LabelingTrail,
    labels: list[LabelChoice],
    position: int,
    my_label_id: int | None,
    suggested_id: int | None,
) -> None:
    columns = st.columns(min(len(labels), 5))
    for index, label in enumerate(labels):
        # Streamlit prints each button's shortcut beside its label.
        columns[index % len(columns)].button(
            markdown_literal(label.name),
            key=f"label_button_{label.id}",
            type="primary" if label.id == my_label_id else "secondary",
            shortcut=label.shortcut_key.upper() if label.shortcut_key else None,
            on_click=_on_label,
            args=(db, trail, label.id, position, suggested_id),
            width="stretch",
        )


def _controls_ui(db: Database, trail: LabelingTrail, *, position: int | None, can_label: bool) -> None:
    back, skip, undo, forward = st.columns(4)
    back.button(
        "← Back",
        key="label_back",
        shortcut="Left",
        on_click=_on_back,
        args=(trail,),
        width="stretch",
        disabled=trail.cursor <= 0,
    )
    skip.button(
        "Skip",
        key="label_skip",
        shortcut="S",
        on_click=_on_skip,
        args=(db, trail, position or 0),
        width="stretch",
        disabled=not can_label,
    )
    undo.button(
        "Undo",
        key="label_undo",
        shortcut="U",
        on_click=_on_undo,
        args=(db, trail),
        width="stretch",
        disabled=not trail.undo,
    )
    # A second, invisible trigger so Ctrl+Z undoes too (one button carries one shortcut).
    st.button(
        "Undo",
        key="undo_ctrl_z",
        shortcut="Ctrl+Z",
        on_click=_on_undo,
        args=(db, trail),
        disabled=not trail.undo,
    )
    forward.button(
        "Next →",
        key="label_next",
        shortcut="Right",
        on_click=_on_next,
        args=(db, trail, position or 0),
        width="stretch",
        disabled=not can_label,
    )


def _guidelines_ui(db: Database, dataset_id: int) -> None:
    guidelines = get_guidelines(db, dataset_id)
    with st.expander("Guidelines", icon=":material/menu_book:", expanded=bool(guidelines)):
        if guidelines.strip():
            # As typed: anyone who can edit a dataset writes these, and every labeler reads them.
            st.markdown(markdown_literal(guidelines))
        else:
            st.caption("No guidelines yet. Write them under **Datasets → Guidelines**.")


def _history_ui(db: Database, dataset_id: int, annotator_id: int, trail: LabelingTrail) -> None:
    st.markdown("**Your last labels**")
    history = recent_labels(db, dataset_id, annotator_id, limit=_HISTORY_SIZE)
    if not history:
        st.caption("Labels you give show up here; click one to revisit it.")
        return
    for item in history:
        age = _age(item.updated_at)
        st.button(
            f"#{item.position + 1} · {markdown_literal(item.label_name)} · {age}",
            key=f"history_{item.record_id}",
            help=item.excerpt,
            on_click=trail.show,
            args=(item.record_id,),
            type="tertiary",
        )


def _age(moment: datetime) -> str:
    seconds = max(0, int((utcnow() - moment) / timedelta(seconds=1)))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return moment.astimezone(state.viewer_zone()).strftime("%d %b %H:%M")
