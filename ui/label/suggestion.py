"""The suggestion under a review on the Label page: what the app thinks, how sure, and from what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core.db import Database
from core.services.active import ActivePick
from core.services.labeling import MODEL_ORDERS, LabelChoice, QueueOrder
from core.services.suggestions import Suggestion, SuggestionSource, record_count, suggestion_record
from ui.text import markdown_literal

# Until this many labels were given beside a suggestion, the page does not report a hit rate.
_RECORD_AFTER = 5
_POLL_SECONDS = 2


def suggestion_ui(
    db: Database,
    dataset_id: int,
    suggestion: Suggestion | None,
    labels: list[LabelChoice],
    *,
    read_so_far: Callable[[], int],
    ready: Callable[[], bool],
    on_accept: Callable[..., None],
    args: tuple[Any, ...],
) -> None:
    """`read_so_far` counts the reviews embedded so far; `ready` says whether this review now has a
    suggestion. While reviews are still being read, the note polls them, and the whole page reruns
    once the suggestion is there: someone who just clicked Try the demo sees it arrive."""
    names = {label.id: label.name for label in labels}
    if suggestion is None or suggestion.label_class_id not in names:
        total = record_count(db, dataset_id)
        reading = read_so_far() < total

        def waiting_note() -> None:
            found = ready()  # first: asking for the suggestion is what reads newly embedded reviews
            read = read_so_far()
            if reading and (found or read >= total):
                st.rerun(scope="app")
            st.caption(
                f"No suggestion for this review yet: the model has read {read:,} of {total:,} reviews "
                "of this dataset so far, in the background. Label as usual meanwhile."
            )

        st.fragment(waiting_note, run_every=_POLL_SECONDS if reading else None)()
        return
    name = names[suggestion.label_class_id]
    text, button = st.columns([3, 1], vertical_alignment="center")
    with text:
        st.markdown(
            f"Suggested: **{markdown_literal(name)}** · {_sureness(suggestion.confidence)} ({suggestion.confidence:.0%})",
            help=_why(suggestion, names),
        )
        st.caption(_source(suggestion) + _record(db, dataset_id))
    button.button(
        "Accept",
        key="accept_suggestion",
        shortcut="Enter",
        icon=":material/check:",
        on_click=on_accept,
        args=args,
        width="stretch",
        help="Give the suggested label (Enter).",
    )


def _sureness(confidence: float) -> str:
    if confidence >= 0.8:
        return "fairly sure"
    if confidence >= 0.6:
        return "leaning"
    return "unsure"


def _why(suggestion: Suggestion, names: dict[int, str]) -> str:
    runner_up = names.get(suggestion.runner_up_id or -1)
    if runner_up is None:
        return "The only label with enough examples."
    return f"Next most likely: {markdown_literal(runner_up)} ({suggestion.runner_up_confidence:.0%})."


def _source(suggestion: Suggestion) -> str:
    if suggestion.source is SuggestionSource.FINE_TUNED:
        compared = (
            f", above the quick model's {suggestion.quick_macro_f1 * 100:.0f}"
            if suggestion.quick_macro_f1 is not None
            else ""
        )
        return (
            f"From training run #{suggestion.run_id} (trained on {suggestion.trained_on:,} reviews), which scores "
            f"{(suggestion.run_macro_f1 or 0) * 100:.0f} out of 100 on reviews held back to check it{compared}."
        )
    if suggestion.source is SuggestionSource.FAST_MODEL:
        return f"Learned from the {suggestion.trained_on:,} reviews people labeled here so far."
    return (
        "No labels to learn from yet: this compares the review with what each label means "
        "(Datasets → Label set → Meaning)."
    )


def _record(db: Database, dataset_id: int) -> str:
    record = suggestion_record(db, dataset_id)
    if record.shown < _RECORD_AFTER:
        return ""
    return f" Suggestions matched the label given {record.taken:,} of {record.shown:,} times ({record.share_right:.0%})."


def why_picked_ui(pick: ActivePick | None, order: QueueOrder, labels: list[LabelChoice]) -> None:
    """Under a model-chosen queue order, why this review came up."""
    if order not in MODEL_ORDERS:
        return
    names = {label.id: markdown_literal(label.name) for label in labels}
    if pick is None:
        st.caption(
            "The model has not read this dataset's reviews yet, so this one comes in import order; "
            "its choices start as soon as it has."
        )
    elif pick.torn_between is not None:
        (first, first_share), (second, second_share) = pick.torn_between
        st.caption(
            f"Why this review: the model is torn between **{markdown_literal(names.get(first, '?'))}** ({first_share:.0%}) "
            f"and **{markdown_literal(names.get(second, '?'))}** ({second_share:.0%}); your label here teaches it most."
        )
    else:
        st.caption(
            f"Why this review: it is typical of a group of {pick.group_size:,} similar reviews nobody has "
            "labeled yet. Once every label has three examples, the model starts picking where it is unsure."
        )
