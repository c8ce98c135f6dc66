"""One dataset: numbers, charts, browsing, label set, guidelines, rename and delete."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.db import Database
from core.labels import PALETTE, LabelSpec
from core.models import RunStatus
from core.services.datasets import (
    DatasetOverview,
    DatasetSummary,
    delete_dataset,
    get_dataset_overview,
    list_records,
    rename_dataset,
    update_guidelines,
    update_label_set,
)
from core.services.training import list_runs
from ui import state
from ui.data_quality import data_quality_ui
from ui.export_views import labeled_data_export_ui
from ui.resources import data_dir, runs_dir
from ui.text import markdown_literal
from ui.widgets import plot_text, user_errors

_PAGE_SIZE = 50
_CHART_HEIGHT = 300


def datasets_table_ui(datasets: list[DatasetSummary]) -> None:
    """All datasets; picking a row makes it the current one."""
    frame = pd.DataFrame(
        {
            "Dataset": [d.name for d in datasets],
            "Reviews": [d.records for d in datasets],
            "Labeled": [d.labeled_share * 100 for d in datasets],
            "Labels": [d.label_count for d in datasets],
            "Test split": [d.test_records for d in datasets],
            "Created": [d.created_at for d in datasets],
        }
    )
    ids = [d.id for d in datasets]

    def on_pick() -> None:
        rows = st.session_state["datasets_table"].selection.rows
        if rows:
            state.set_current_dataset(ids[rows[0]])

    current = state.current_dataset_id()
    st.dataframe(
        frame,
        key="datasets_table",
        hide_index=True,
        on_select=on_pick,
        selection_mode="single-row",
        selection_default={"selection": {"rows": [ids.index(current)] if current in ids else []}},
        column_config={
            "Labeled": st.column_config.ProgressColumn(
                "Labeled", format="%.0f%%", min_value=0, max_value=100
            ),
            "Created": st.column_config.DatetimeColumn("Created", format="D MMM YYYY, HH:mm"),
        },
        height=min(240, 38 + 35 * len(frame)),
    )


def dataset_detail_ui(db: Database, dataset_id: int) -> None:
    overview = get_dataset_overview(db, dataset_id)
    summary = overview.summary
    st.subheader(markdown_literal(summary.name), anchor=False)
    facts = [
        overview.import_info.get("format"),
        overview.source_filename and f"from {overview.source_filename}",
    ]
    st.caption(" · ".join(str(f) for f in facts if f) or "")

    reviews, labeled, labels, test = st.columns(4)
    reviews.metric("Reviews", f"{summary.records:,}")
    labeled.metric(
        "Labeled",
        f"{summary.labeled_share:.0%}",
        help=f"{summary.labeled:,} reviews have at least one label.",
    )
    labels.metric("Labels", summary.label_count)
    test.metric(
        "Held-out test", f"{summary.test_records:,}", help="Reviews kept out of training for honest scores."
    )

    left, right = st.columns(2)
    with left:
        _label_chart_ui(overview)
    with right:
        _length_chart_ui(overview)

    browse, label_set, quality, guidelines, export, settings = st.tabs(
        ["Browse reviews", "Label set", "Data quality", "Guidelines", "Export", "Settings"],
        key=f"dataset_tab_{dataset_id}",
        on_change="rerun",
    )
    with browse:
        _browse_ui(db, dataset_id, summary.records)
    if quality.open:  # seconds of checks: only when someone opens the tab
        with quality:
            data_quality_ui(db, dataset_id)
    with label_set:
        _label_set_ui(db, overview)
    with guidelines:
        _guidelines_ui(db, overview)
    with export:
        runs = [r.id for r in list_runs(db, dataset_id) if r.status == RunStatus.SUCCEEDED]
        labeled_data_export_ui(
            db, dataset_id, file_stem=_file_stem(summary.name), run_ids=runs, key="dataset_export"
        )
    with settings:
        _settings_ui(db, summary)


def _label_chart_ui(overview: DatasetOverview) -> None:
    st.markdown("**Labels given, per label**")
    if not overview.labels:
        st.info("No labels yet. Add them under **Label set** below, then label on the Label page.")
        return
    names = [plot_text(label.name) for label in overview.labels]
    counts = [label.annotations for label in overview.labels]
    figure = go.Figure(
        go.Bar(
            x=names,
            y=counts,
            marker_color=[label.color for label in overview.labels],
            text=[f"{c:,}" for c in counts],
            textposition="outside",
            hovertemplate="%{x}: %{y:,} labels<extra></extra>",
        )
    )
    figure.update_layout(
        height=_CHART_HEIGHT,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis_title="labels",
        showlegend=False,
    )
    figure.update_yaxes(range=[0, max([*counts, 1]) * 1.15])
    st.plotly_chart(figure, config={"displayModeBar": False})


def _length_chart_ui(overview: DatasetOverview) -> None:
    st.markdown("**Review length**")
    bins = overview.length_bins
    if not bins:
        st.info("No reviews.")
        return
    figure = go.Figure(
        go.Bar(
            x=[(b.start + b.end) / 2 for b in bins],
            y=[b.count for b in bins],
            width=[b.end - b.start for b in bins],
            marker_color=PALETTE[0],
            customdata=[[b.start, b.end - 1] for b in bins],
            hovertemplate="%{customdata[0]:,}–%{customdata[1]:,} characters: %{y:,} reviews<extra></extra>",
        )
    )
    figure.update_layout(
        height=_CHART_HEIGHT,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title="characters",
        yaxis_title="reviews",
        bargap=0.05,
    )
    st.plotly_chart(figure, config={"displayModeBar": False})


def _browse_ui(db: Database, dataset_id: int, total: int) -> None:
    pages = max(1, math.ceil(total / _PAGE_SIZE))
    page_col, info_col = st.columns([1, 3])
    page = page_col.number_input(
        "Page", min_value=1, max_value=pages, value=1, key=f"browse_page_{dataset_id}"
    )
    result = list_records(db, dataset_id, offset=(int(page) - 1) * _PAGE_SIZE, limit=_PAGE_SIZE)
    first = result.offset + 1
    info_col.caption(
        f"Reviews {first:,}–{result.offset + len(result.rows):,} of {result.total:,}, in import order"
    )
    frame = pd.DataFrame(
        {
            "#": [row.position + 1 for row in result.rows],
            "Review": [row.text for row in result.rows],
            "Labels": [row.labels for row in result.rows],
            "Split": [row.split for row in result.rows],
            "Id": [row.external_id or "" for row in result.rows],
        }
    )
    st.dataframe(
        frame,
        hide_index=True,
        column_config={"Review": st.column_config.TextColumn("Review", width="large")},
        height=420,
    )


def _label_set_ui(db: Database, overview: DatasetOverview) -> None:
    st.caption(
        "Names, colours and the key that applies each label on the Label page (1–9 or any letter except "
        "s and u, which skip and undo). Add a row to add a label."
    )
    frame = pd.DataFrame(
        {
            "id": [label.id for label in overview.labels],
            "Name": [label.name for label in overview.labels],
            "Key": [label.shortcut_key or "" for label in overview.labels],
            "Colour": [label.color for label in overview.labels],
            "Meaning": [label.description or "" for label in overview.labels],
            "Labels given": [label.annotations for label in overview.labels],
        }
    ).astype(
        {
            "id": "Int64",
            "Name": "string",
            "Key": "string",
            "Colour": "string",
            "Meaning": "string",
            "Labels given": "Int64",
        }
    )
    dataset_id = overview.summary.id
    edited = st.data_editor(
        frame,
        key=f"label_editor_{dataset_id}",
        num_rows="dynamic",
        hide_index=True,
        disabled=["Labels given"],
        column_config={
            "id": None,
            "Name": st.column_config.TextColumn("Name", required=True, max_chars=100),
            "Key": st.column_config.TextColumn("Key", max_chars=1, width="small"),
            "Colour": st.column_config.TextColumn(
                "Colour", validate=r"^#[0-9a-fA-F]{6}$", help="A hex colour such as #2E9E5B", width="small"
            ),
            "Meaning": st.column_config.TextColumn(
                "Meaning",
                max_chars=300,
                help="What the label means, in a sentence, e.g. “the reviewer is happy with the drug”. "
                "Before anyone has labeled, suggestions compare each review with these; empty uses the name.",
            ),
            "Labels given": st.column_config.NumberColumn("Labels given", format="%d"),
        },
    )
    removed_used = [
        label for label in overview.labels if label.annotations and label.id not in set(edited["id"].dropna())
    ]
    confirm = False
    if removed_used:
        names = ", ".join(f"“{markdown_literal(label.name)}”" for label in removed_used)
        confirm = st.checkbox(
            f"Yes, delete {names} and every label given with it", key=f"confirm_drop_{dataset_id}"
        )
    if st.button("Save label set", type="primary", key=f"save_labels_{dataset_id}"):
        specs = [
            LabelSpec(
                name=str(row["Name"] or ""),
                color=str(row["Colour"] or PALETTE[index % len(PALETTE)]),
                shortcut_key=str(row["Key"] or "") or None,
                id=None if pd.isna(row["id"]) else int(row["id"]),
                description=None if pd.isna(row["Meaning"]) else str(row["Meaning"]),
            )
            for index, row in edited.iterrows()
            if not (pd.isna(row["Name"]) or str(row["Name"]).strip() == "") or not pd.isna(row["id"])
        ]
        with user_errors():
            update_label_set(db, dataset_id, specs, allow_deleting_used=confirm)
            st.session_state.pop(f"label_editor_{dataset_id}", None)
            state.toast_after_rerun("Label set saved.", ":material/check_circle:")
            st.rerun()


def _guidelines_ui(db: Database, overview: DatasetOverview) -> None:
    dataset_id = overview.summary.id
    st.caption(
        "What each label means, with examples. Labelers see it beside every review, exactly as typed "
        "(line breaks kept; nothing in it is turned into formatting or links)."
    )
    text = st.text_area(
        "Guidelines",
        value=overview.guidelines,
        height=200,
        key=f"guidelines_{dataset_id}",
        label_visibility="collapsed",
        placeholder="positive: the reviewer would recommend the drug…",
    )
    if st.button("Save guidelines", key=f"save_guidelines_{dataset_id}"):
        with user_errors():
            update_guidelines(db, dataset_id, text)
            st.toast("Guidelines saved.", icon=":material/check_circle:")


def _settings_ui(db: Database, summary: DatasetSummary) -> None:
    with st.form(f"rename_{summary.id}", border=False):
        new_name = st.text_input("Dataset name", value=summary.name, max_chars=120)
        if st.form_submit_button("Rename"):
            with user_errors():
                rename_dataset(db, summary.id, new_name)
                state.toast_after_rerun("Renamed.", ":material/check_circle:")
                st.rerun()
    st.divider()
    st.markdown("**Delete this dataset**")
    st.caption(
        f"Removes its {summary.records:,} reviews, its labels and everything trained on it. This cannot be undone."
    )
    sure = st.checkbox(f"Yes, delete “{markdown_literal(summary.name)}”", key=f"confirm_delete_{summary.id}")
    if st.button(
        "Delete dataset",
        type="primary",
        disabled=not sure,
        icon=":material/delete:",
        key=f"delete_{summary.id}",
    ):
        with user_errors():
            delete_dataset(db, summary.id, data_dir=data_dir(), runs_dir=runs_dir())
            state.set_current_dataset(None)
            state.toast_after_rerun(f"Deleted “{markdown_literal(summary.name)}”.", ":material/delete:")
            st.rerun()


def _file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return "-".join(part for part in stem.split("-") if part) or "dataset"
