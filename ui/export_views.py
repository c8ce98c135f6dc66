"""Download buttons for exports. Files are built on request (a click), not on every rerun."""

from __future__ import annotations

import streamlit as st

from core.db import Database
from core.exporting import to_csv_bytes, to_excel_bytes, to_jsonl_bytes
from core.services.exports import labeled_data_frame, model_zip
from ui.resources import runs_dir
from ui.widgets import user_errors

_FORMATS = {
    "CSV": ("csv", "text/csv", to_csv_bytes),
    "JSON Lines": ("jsonl", "application/x-ndjson", to_jsonl_bytes),
    "Excel": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_excel_bytes),
}
_READY = "export_ready"  # widget key -> (request, file name, mime, bytes)


def labeled_data_export_ui(
    db: Database,
    dataset_id: int,
    file_stem: str,
    run_ids: list[int],
    *,
    key: str,
    default_run: int | None = None,
) -> None:
    # Stacked, not side by side: in a half-width column the format buttons would be cut off.
    chosen_format = st.segmented_control(
        "Format", list(_FORMATS), default="CSV", required=True, key=f"{key}_format"
    )
    options: list[int | None] = [None, *run_ids]
    run_id = st.selectbox(
        "With predictions of",
        options,
        index=options.index(default_run) if default_run in options else 0,
        format_func=lambda i: "no run" if i is None else f"run #{i}",
        key=f"{key}_run",
        help="Adds that trained model's label and its probability for each label to every review.",
    )
    extension, mime, writer = _FORMATS[chosen_format]
    request = (dataset_id, run_id, chosen_format)
    if st.button("Prepare file", icon=":material/description:", key=f"{key}_prepare"):
        with user_errors(), st.spinner("Building the file…"):
            frame = labeled_data_frame(db, dataset_id, run_id=run_id)
            suffix = f"-run{run_id}" if run_id is not None else ""
            st.session_state.setdefault(_READY, {})[key] = (
                request,
                f"{file_stem}{suffix}.{extension}",
                mime,
                writer(frame),
            )
    _download_ui(key, request)
    st.caption(
        "Text, final label, each annotator's label"
        + (", and the run's predicted label and probabilities." if run_id else ".")
        + " Spreadsheet cells that could run as formulas get a leading '."
    )


def model_export_ui(db: Database, run_id: int, *, key: str) -> None:
    if st.button("Prepare model zip", icon=":material/folder_zip:", key=f"{key}_prepare"):
        with user_errors(), st.spinner("Zipping the model…"):
            st.session_state.setdefault(_READY, {})[key] = (
                run_id,
                f"review-studio-run-{run_id}.zip",
                "application/zip",
                model_zip(db, run_id, runs_dir()),
            )
    _download_ui(key, run_id)
    st.caption(
        "The trained model as a folder, zipped: everything another program needs to label reviews the "
        "same way, its labels, and a README that says how it was trained and how well it scores.",
        help="For engineers: saved with `save_pretrained` (safetensors) with its tokenizer and label map. "
        'Load it with `pipeline("text-classification", model=folder, trust_remote_code=True)`; the '
        "README inside shows the code.",
    )


def _download_ui(key: str, request: object) -> None:
    """The download button for a file prepared under `key`, if it was prepared for this same request."""
    ready = st.session_state.get(_READY, {}).get(key)
    if ready and ready[0] == request:
        _, name, mime, data = ready
        st.download_button(
            f"Download {name}", data, name, mime, icon=":material/download:", key=f"{key}_download"
        )
