"""Agreement between annotators, and adjudication of the reviews they disagree on."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.db import Database
from core.services.agreement import Conflict, adjudicate, agreement_report
from core.services.datasets import DatasetRef
from core.services.labeling import label_choices
from ui.text import markdown_literal
from ui.widgets import user_errors

_CONFLICTS_SHOWN = 50
_UNDECIDED = 0


def _kappa(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def label_agreement_ui(db: Database, dataset: DatasetRef, annotator_id: int | None) -> None:
    # On by default: the Label page promises that this view compares people's labels with the file's.
    include_imported = st.toggle(
        "Count imported labels as an annotator",
        value=True,
        key="agreement_include_imported",
        help="Compare people with the labels that came with the file. Off: people with each other only.",
    )
    report = agreement_report(db, dataset.id, include_imported=include_imported)
    if report.multi_labeled_records == 0:
        st.info(
            "No review has labels from two annotators yet. Pick **Labeled by others, not by me** as the queue "
            "order on the Label view to build overlap.",
            icon=":material/group:",
        )
        return
    shared, percent, fleiss = st.columns(3)
    shared.metric("Reviews with 2+ annotators", f"{report.multi_labeled_records:,}")
    percent.metric("All agree", f"{(report.percent_agreement or 0):.0%}")
    fleiss.metric(
        "Fleiss' kappa",
        _kappa(report.fleiss_kappa),
        help=f"Over {report.fleiss_records:,} reviews labeled by exactly {report.fleiss_raters} annotators. "
        "1 is perfect agreement, 0 is what chance alone would give.",
    )
    st.markdown("**Pairs of annotators**")
    st.dataframe(
        pd.DataFrame(
            {
                "Annotator A": [p.annotator_a for p in report.pairs],
                "Annotator B": [p.annotator_b for p in report.pairs],
                "Shared reviews": [p.shared_records for p in report.pairs],
                "Agreement": [p.percent_agreement * 100 for p in report.pairs],
                "Cohen's kappa": [_kappa(p.cohen_kappa) for p in report.pairs],
            }
        ),
        hide_index=True,
        column_config={"Agreement": st.column_config.NumberColumn("Agreement", format="%.0f%%")},
    )
    _conflicts_ui(db, dataset, report.conflicts, annotator_id)


def _conflicts_ui(
    db: Database, dataset: DatasetRef, conflicts: list[Conflict], annotator_id: int | None
) -> None:
    open_count = sum(1 for c in conflicts if c.adjudicated_label_id is None)
    st.markdown(f"**Conflicts** · {len(conflicts):,} reviews, {open_count:,} not yet decided")
    if not conflicts:
        st.caption("Everyone agrees so far.")
        return
    labels = label_choices(db, dataset.id)
    names = {label.id: label.name for label in labels}
    for conflict in conflicts[:_CONFLICTS_SHOWN]:
        with st.container(border=True):
            text_col, decide_col = st.columns([3, 1], vertical_alignment="center")
            text_col.caption(
                f"Review #{conflict.position + 1} · "
                + markdown_literal(", ".join(f"{who}: {label}" for who, label in conflict.votes))
            )
            text_col.markdown(markdown_literal(conflict.excerpt))
            options = [_UNDECIDED, *names]
            current = conflict.adjudicated_label_id or _UNDECIDED
            choice = decide_col.selectbox(
                "Final label",
                options,
                index=options.index(current) if current in options else 0,
                format_func=lambda v: "Not decided" if v == _UNDECIDED else names[v],
                key=f"adjudicate_{conflict.record_id}",
            )
            if choice != current:
                with user_errors():
                    adjudicate(
                        db,
                        record_id=conflict.record_id,
                        label_class_id=None if choice == _UNDECIDED else choice,
                        annotator_id=annotator_id,
                    )
                    st.toast("Final label saved.", icon=":material/gavel:")
    if len(conflicts) > _CONFLICTS_SHOWN:
        st.caption(f"Showing the first {_CONFLICTS_SHOWN} of {len(conflicts):,} conflicts, in import order.")
