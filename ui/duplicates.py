"""Datasets page: groups of near-identical reviews, and keeping one of each (reversible)."""

from __future__ import annotations

import streamlit as st

from core.assist.duplicates import DEFAULT_SIMILARITY
from core.db import Database
from core.services.duplicates import (
    DuplicateGroup,
    describe_groups,
    duplicate_record_groups,
    keep_one,
    put_back,
    put_back_all,
    set_aside_count,
)
from core.services.labeling import label_choices
from core.services.suggestions import Suggester, record_count
from ui import state
from ui.formatting import count_text
from ui.resources import get_suggester
from ui.text import markdown_literal
from ui.widgets import user_errors

SHOWN_GROUPS = 20


def near_duplicates_ui(db: Database, dataset_id: int) -> None:
    st.caption(
        "Reviews that say nearly the same thing teach the model little and make a score look better than "
        "it is when one copy is trained on and another tested. Keeping one of a group sets the others "
        "aside: they leave labeling and training, nothing is deleted, and you can put them back."
    )
    suggester = get_suggester(dataset_id)
    embedded, total = len(suggester.view().record_ids), record_count(db, dataset_id)
    if embedded < total:
        st.info(
            f"The model has read {embedded:,} of {total:,} reviews so far; only those are compared. "
            "Come back when it has read them all.",
            icon=":material/hourglass_top:",
        )
    similarity = st.slider(
        "How alike must reviews be?",
        min_value=0.80,
        max_value=1.00,
        value=DEFAULT_SIMILARITY,
        step=0.01,
        format="percent",
        key=f"duplicate_similarity_{dataset_id}",
        help="How close two reviews are in meaning, as the model reads them. 100% finds copies only; "
        "90% also finds the same review with a few words changed; lower finds reviews that merely agree.",
    )
    with st.spinner("Comparing every review with every other…"):
        groups = describe_groups(db, dataset_id, _groups(suggester, dataset_id, similarity, embedded))
    aside = set_aside_count(db, dataset_id)
    _summary_ui(db, dataset_id, groups, aside)
    names = {label.id: label.name for label in label_choices(db, dataset_id)}
    for index, group in enumerate(groups[:SHOWN_GROUPS]):
        _group_ui(db, dataset_id, index, group, names)
    if len(groups) > SHOWN_GROUPS:
        st.caption(
            f"The {SHOWN_GROUPS} largest groups are shown; “Keep one of each” covers all {len(groups):,}."
        )


@st.cache_data(max_entries=8, show_spinner=False)
def _groups(_suggester: Suggester, dataset_id: int, similarity: float, embedded: int) -> list[list[int]]:
    # Comparing every pair is the costly part; keeping or putting back reruns the page with the same groups.
    return duplicate_record_groups(_suggester, similarity=similarity)


def _summary_ui(db: Database, dataset_id: int, groups: list[DuplicateGroup], aside: int) -> None:
    if not groups:
        st.success(
            "No near-duplicates at this setting."
            + (f" {count_text(aside, 'review is', 'reviews are')} set aside from before." if aside else ""),
            icon=":material/task_alt:",
        )
    else:
        extra = sum(len(g.members) - 1 for g in groups)
        st.markdown(
            f"**{count_text(len(groups), 'group')} of near-identical reviews**: "
            f"{count_text(extra, 'review')} beyond one per group."
        )
    left, right = st.columns(2)
    pending = [g for g in groups if not g.settled]
    if pending and left.button(
        f"Keep one of each ({count_text(len(pending), 'group')})",
        key=f"keep_all_{dataset_id}",
        icon=":material/filter_1:",
    ):
        with user_errors():
            moved = sum(keep_one(db, dataset_id, g) for g in pending)
            state.toast_after_rerun(f"Set aside {moved:,} reviews.", ":material/check:")
            st.rerun()
    if aside and right.button(
        "Put back the set-aside review" if aside == 1 else f"Put back all {aside:,} set-aside reviews",
        key=f"put_back_all_{dataset_id}",
        icon=":material/undo:",
    ):
        with user_errors():
            put_back_all(db, dataset_id)
            state.toast_after_rerun("Every review is back in labeling and training.", ":material/undo:")
            st.rerun()


def _group_ui(
    db: Database, dataset_id: int, index: int, group: DuplicateGroup, names: dict[int, str]
) -> None:
    with st.container(border=True):
        for member in group.members:
            label = names.get(member.label_id, "") if member.label_id is not None else "not labeled"
            standing = "set aside" if member.set_aside else ("kept" if group.settled else "")
            facts = " · ".join(
                f for f in (f"Review #{member.position + 1:,}", markdown_literal(label), standing) if f
            )
            st.caption(facts)
            st.markdown(markdown_literal(member.text[:300] + ("…" if len(member.text) > 300 else "")))
        if group.settled:
            if st.button("Put back", key=f"put_back_{dataset_id}_{index}", icon=":material/undo:"):
                with user_errors():
                    put_back(db, dataset_id, [m.record_id for m in group.members if m.set_aside])
                    state.toast_after_rerun("Back in labeling and training.", ":material/undo:")
                    st.rerun()
        elif st.button(
            f"Keep review #{group.keeper.position + 1:,}, set aside the rest",
            key=f"keep_one_{dataset_id}_{index}",
            icon=":material/filter_1:",
        ):
            with user_errors():
                keep_one(db, dataset_id, group)
                state.toast_after_rerun(
                    f"Kept review #{group.keeper.position + 1:,}; the rest are set aside.", ":material/check:"
                )
                st.rerun()
