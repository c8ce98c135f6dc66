"""The table view: filter, page, select rows, label them in bulk, or open one in the review view."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import streamlit as st

from core.db import Database
from core.services.annotators import list_annotators
from core.services.browse import UNLABELED, RecordFilter, bulk_label, search_records
from core.services.datasets import DatasetRef
from core.services.labeling import LabelChoice, label_choices
from ui import state
from ui.label.review import open_record_for_labeling
from ui.widgets import user_errors

_PAGE_SIZE = 100
_ANY = 0


def label_browse_ui(db: Database, dataset: DatasetRef, annotator_id: int | None) -> None:
    labels = label_choices(db, dataset.id)
    label_names = {label.id: label.name for label in labels}
    annotators = {a.id: a.name for a in list_annotators(db, include_system=True)}

    text_col, label_col, who_col, date_col = st.columns([3, 2, 2, 3])
    needle = text_col.text_input("Text contains", key="browse_text", placeholder="e.g. headache")
    label_filter = label_col.selectbox(
        "Label",
        [_ANY, UNLABELED, *label_names],
        format_func=lambda v: {_ANY: "Any", UNLABELED: "Unlabeled"}.get(v) or label_names[v],
        key="browse_label",
    )
    annotator_filter = who_col.selectbox(
        "Annotator",
        [_ANY, *annotators],
        format_func=lambda v: "Anyone" if v == _ANY else annotators[v],
        key="browse_annotator",
    )
    dates = date_col.date_input("Labeled between", value=[], key="browse_dates", format="YYYY-MM-DD")
    labeled_from, labeled_to = _date_range(dates)
    record_filter = RecordFilter(
        text_contains=needle,
        label_class_id=None if label_filter == _ANY else label_filter,
        annotator_id=None if annotator_filter == _ANY else annotator_filter,
        labeled_from=labeled_from,
        labeled_to=labeled_to,
        day_zone=state.viewer_zone(),
    )

    # One query per render: read the requested page first, then draw the pager with the real total.
    requested = max(1, int(st.session_state.get("browse_page", 1)))
    result = search_records(
        db, dataset.id, record_filter, offset=(requested - 1) * _PAGE_SIZE, limit=_PAGE_SIZE
    )
    pages = max(1, math.ceil(result.total / _PAGE_SIZE))
    if requested > pages:  # the filter shrank the result: show its last page
        st.session_state["browse_page"] = pages
        result = search_records(
            db, dataset.id, record_filter, offset=(pages - 1) * _PAGE_SIZE, limit=_PAGE_SIZE
        )
    page_col, count_col = st.columns([1, 4])
    page = int(page_col.number_input("Page", min_value=1, max_value=pages, key="browse_page"))
    count_col.caption(f"{result.total:,} matching reviews · page {page} of {pages}")
    frame = pd.DataFrame(
        {
            "#": [row.position + 1 for row in result.rows],
            "Review": [row.text for row in result.rows],
            "Labels": [row.labels for row in result.rows],
            "Annotators": [row.annotators for row in result.rows],
            "Split": [row.split for row in result.rows],
        }
    )
    selection = st.dataframe(
        frame,
        key=f"browse_table_{page}",
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        column_config={"Review": st.column_config.TextColumn("Review", width="large")},
        height=420,
    )
    chosen = [result.rows[i].id for i in selection.selection.rows if i < len(result.rows)]
    _selection_actions_ui(db, chosen, labels, annotator_id)


def _date_range(dates: object) -> tuple[date | None, date | None]:
    if isinstance(dates, tuple | list):
        if len(dates) == 2:
            return dates[0], dates[1]
        if len(dates) == 1:
            return dates[0], dates[0]
    return None, None


def _selection_actions_ui(
    db: Database, chosen: list[int], labels: list[LabelChoice], annotator_id: int | None
) -> None:
    if not chosen:
        st.caption("Select rows (tick the boxes at the left) to label them together, or one row to open it.")
        return
    label_col, apply_col, open_col = st.columns([2, 2, 2], vertical_alignment="bottom")
    target = label_col.selectbox(
        f"Label the {len(chosen)} selected as",
        [label.id for label in labels],
        format_func={label.id: label.name for label in labels}.__getitem__,
        key="bulk_label_choice",
    )
    if apply_col.button(
        f"Apply to {len(chosen)} reviews", type="primary", key="bulk_apply", disabled=annotator_id is None
    ):
        with user_errors():
            assert annotator_id is not None
            changed = bulk_label(db, record_ids=chosen, annotator_id=annotator_id, label_class_id=target)
            state.toast_after_rerun(
                f"Labeled {len(chosen)} reviews ({changed} changed).", ":material/check_circle:"
            )
            st.rerun()
    if len(chosen) == 1 and open_col.button("Open in the review view", key="browse_open"):
        open_record_for_labeling(chosen[0])
        state.request_view(state.LABEL_VIEW, state.VIEW_LABEL)
        st.rerun()
