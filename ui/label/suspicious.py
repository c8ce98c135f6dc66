"""The suspicious-labels queue: labels the app thinks are wrong, one at a time, to keep or change."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.assist.refresh import labels_version
from core.db import Database
from core.services.datasets import DatasetRef
from core.services.label_issues import (
    LabelIssueReport,
    LabelScores,
    SuspiciousLabel,
    change_label,
    keep_label,
    score_labels,
    still_to_check,
)
from core.services.labeling import label_choices
from core.services.suggestions import Suggester, record_count
from ui import state
from ui.resources import get_suggester
from ui.text import markdown_literal
from ui.widgets import user_errors


def suspicious_labels_ui(db: Database, dataset: DatasetRef, annotator_id: int | None) -> None:
    suggester = get_suggester(dataset.id)
    embedded, total = len(suggester.view().record_ids), record_count(db, dataset.id)
    if embedded < total:
        st.info(
            f"The model has read {embedded:,} of this dataset's {total:,} reviews so far, in the background; "
            "only labels of reviews it has read are checked. Come back in a minute for all of them.",
            icon=":material/hourglass_top:",
        )
        if not embedded:
            return
    with st.spinner("Checking every label against a model that never saw it…"):
        scores = cached_label_scores(db, suggester, dataset.id, labels_version(db, dataset.id), embedded)
    report = still_to_check(db, scores)
    names = {label.id: label.name for label in label_choices(db, dataset.id)}
    _summary_ui(report)
    if not report.issues:
        return
    table = pd.DataFrame(
        {
            "Review": [issue.text[:140] for issue in report.issues],
            "Given label": [names.get(issue.given_label_id, "?") for issue in report.issues],
            "Model suggests": [names.get(issue.suggested_label_id, "?") for issue in report.issues],
            "How likely the given label is": [issue.quality for issue in report.issues],
        }
    )
    event = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=f"suspicious_table_{dataset.id}",
        column_config={
            "How likely the given label is": st.column_config.ProgressColumn(
                "How likely the given label is",
                help="The probability a model that never saw this review gives to its label. Low is suspicious.",
                format="percent",
                min_value=0.0,
                max_value=1.0,
            )
        },
        height=320,
    )
    rows = event.selection.rows if event is not None else []
    issue = report.issues[rows[0]] if rows else report.issues[0]
    _decide_ui(db, issue, names, annotator_id)


@st.cache_data(max_entries=4, show_spinner=False)
def cached_label_scores(
    _db: Database, _suggester: Suggester, dataset_id: int, labels: str, embedded: int
) -> LabelScores:
    # Cross-validation on every label is the costly part; picking a row or keeping a label reruns the
    # page, so it is redone only when people's labels or the embedded reviews change.
    return score_labels(_db, _suggester, dataset_id)


def _summary_ui(report: LabelIssueReport) -> None:
    if report.too_few:
        st.info(
            "Every label needs at least five labeled reviews (that the model has read) before the app can "
            "tell which labels look wrong.",
            icon=":material/hourglass_empty:",
        )
        return
    st.markdown(
        f"**About {report.estimated_error_share:.0%} of the {report.checked:,} labels may be wrong**; "
        f"{report.flagged:,} reviews are worth a look.",
        help="Each review is scored by a model fitted on the other reviews, and cleanlab flags the ones "
        "whose label that model finds unlikely (confident learning). A quick model makes mistakes too: "
        "the top of the list is where wrong labels concentrate, further down many labels are just hard.",
    )
    if not report.issues:
        st.success("You have looked at every one of them.", icon=":material/task_alt:")
    else:
        st.caption(
            f"{len(report.issues):,} still to look at, the most doubtful first. Pick a row, read the review, "
            "and keep its label or change it. A kept label is not flagged again unless the model changes its mind."
        )


def _decide_ui(db: Database, issue: SuspiciousLabel, names: dict[int, str], annotator_id: int | None) -> None:
    given = markdown_literal(names.get(issue.given_label_id, "?"))
    suggested = markdown_literal(names.get(issue.suggested_label_id, "?"))
    st.caption(f"Review #{issue.position + 1:,}")
    with st.container(border=True):
        st.markdown(markdown_literal(issue.text))
    keep, change, other = st.columns(3)
    if keep.button(f"Keep “{given}”", key=f"keep_{issue.record_id}", width="stretch"):
        with user_errors():
            keep_label(db, issue, annotator_id=annotator_id)
            state.toast_after_rerun(f"Kept “{markdown_literal(given)}”.", ":material/check:")
            st.rerun()
    # Neither choice is primary: the quick model that raised the doubt is often wrong itself.
    if change.button(f"Change to “{suggested}”", key=f"change_{issue.record_id}", width="stretch"):
        with user_errors():
            change_label(db, issue, issue.suggested_label_id, annotator_id=annotator_id)
            state.toast_after_rerun(f"Changed to “{markdown_literal(suggested)}”.", ":material/edit:")
            st.rerun()
    alternatives = [
        label_id for label_id in names if label_id not in (issue.given_label_id, issue.suggested_label_id)
    ]
    if alternatives:
        picked = other.selectbox(
            "Another label",
            alternatives,
            index=None,
            format_func=names.__getitem__,
            key=f"other_{issue.record_id}",
            label_visibility="collapsed",
            placeholder="Another label…",
        )
        if picked is not None:
            with user_errors():
                change_label(db, issue, int(picked), annotator_id=annotator_id)
                state.toast_after_rerun(
                    f"Changed to “{markdown_literal(names[int(picked)])}”.", ":material/edit:"
                )
                st.rerun()
