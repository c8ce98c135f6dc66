"""Session-state keys and their accessors. Only ids and plain values live here, never ORM objects."""

from __future__ import annotations

from collections.abc import Collection
from datetime import tzinfo

import streamlit as st

from ui.formatting import browser_zone

CURRENT_DATASET_ID = "current_dataset_id"
CURRENT_ANNOTATOR_ID = "current_annotator_id"
SIDEBAR_DATASET_WIDGET = "sidebar_dataset_widget"
SIDEBAR_ANNOTATOR_WIDGET = "sidebar_annotator_widget"

DATASETS_VIEW = "datasets_view"
VIEW_OVERVIEW = "Overview"
VIEW_IMPORT = "Import a file"

LABEL_VIEW = "label_view"
VIEW_LABEL = "Label"
VIEW_BROWSE = "Browse"
VIEW_AGREEMENT = "Agreement"
VIEW_SUSPICIOUS = "Suspicious labels"
VIEW_PROGRESS = "Will more labels help?"

# Set by "Explain this review" elsewhere: (run id, review number shown as “Review #n”).
EXPLAIN_REQUEST = "explain_request"
EXPLAIN_REVIEW_NUMBER = "explain_review_number"
EXPLAIN_RUN = "explain_run"


def current_dataset_id() -> int | None:
    value = st.session_state.get(CURRENT_DATASET_ID)
    return int(value) if value is not None else None


def set_current_dataset(dataset_id: int | None) -> None:
    st.session_state[CURRENT_DATASET_ID] = dataset_id


def viewer_zone() -> tzinfo:
    """The time zone of the browser looking at the page: 'today' and clock times are theirs."""
    return browser_zone(st.context.timezone)


def current_annotator_id() -> int | None:
    value = st.session_state.get(CURRENT_ANNOTATOR_ID)
    return int(value) if value is not None else None


# The current dataset and annotator also live in the address (?dataset=3&annotator=2), so a refresh
# keeps them and a link shares them. Read once per browser session, written back on every run.
DATASET_PARAM, ANNOTATOR_PARAM = "dataset", "annotator"
_LINK_READ = "context_link_read"


def _id_from_link(name: str, valid: Collection[int]) -> tuple[int | None, bool]:
    """(id, whether the link named one that is not valid) for one query parameter."""
    raw = st.query_params.get(name)
    if raw is None:
        return None, False
    value = int(raw) if raw.isdigit() and len(raw) < 12 else None
    return (value, False) if value in valid else (None, True)


def restore_context_from_link(datasets: Collection[int], annotators: Collection[int]) -> list[str]:
    """On a session's first run, take the dataset and annotator from the address. Returns what could
    not be used, in words, so the page can say so instead of failing."""
    if st.session_state.get(_LINK_READ):
        return []
    st.session_state[_LINK_READ] = True
    problems = []
    dataset, bad_dataset = _id_from_link(DATASET_PARAM, datasets)
    if dataset is not None:
        set_current_dataset(dataset)
    elif bad_dataset:
        problems.append("The link named a dataset that does not exist (any more); showing the newest one.")
    annotator, bad_annotator = _id_from_link(ANNOTATOR_PARAM, annotators)
    if annotator is not None:
        st.session_state[CURRENT_ANNOTATOR_ID] = annotator
    elif bad_annotator:
        problems.append("The link named an annotator who does not exist (any more); choose who is labeling.")
    return problems


def mirror_to_link(name: str, value: int | None) -> None:
    """Keep one query parameter equal to `value` (gone when None), touching the address only on change."""
    if value is None:
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != str(value):
        st.query_params[name] = str(value)


def mirror_context_to_link() -> None:
    """Write the current dataset and annotator into the address."""
    mirror_to_link(DATASET_PARAM, current_dataset_id())
    mirror_to_link(ANNOTATOR_PARAM, current_annotator_id())


def request_view(switcher_key: str, view: str) -> None:
    """Ask a page to switch view on its next run (its switcher may already be drawn in this one)."""
    st.session_state[f"{switcher_key}__requested"] = view


def apply_requested_view(switcher_key: str, default: str) -> str:
    """Call before drawing the view switcher: a widget's state may only change before it is drawn."""
    requested = st.session_state.pop(f"{switcher_key}__requested", None)
    if requested is not None:
        st.session_state[switcher_key] = requested
    st.session_state.setdefault(switcher_key, default)
    return str(st.session_state[switcher_key])


def show_view(view: str) -> None:
    request_view(DATASETS_VIEW, view)


_PERSISTED_KEYS = "persisted_widget_keys"


def _kept(key: str) -> str:
    return f"{key}__kept"


def persist(key: str, allowed: Collection[object] | None = None) -> str:
    """Let a widget keep its value through runs that do not draw it (a closed lazy tab, another page).

    Streamlit drops a widget's state after any run that skips it, so a user coming back to Results
    would find the run, the split and the cell they chose reset. `keep_persisted_widgets` copies the
    values aside at the start and the end of every run; this puts the copy back before the widget is
    drawn. Call it before anything else sets the key (a `setdefault`, a request from another page):
    those win. A kept value no longer in `allowed` (a deleted run, another dataset's run) is dropped.
    Returns the key, to pass straight to the widget.
    """
    keys: set[str] = st.session_state.setdefault(_PERSISTED_KEYS, set())
    keys.add(key)
    kept = st.session_state.get(_kept(key))
    if key not in st.session_state and kept is not None and (allowed is None or kept in allowed):
        st.session_state[key] = kept
    return key


def preset_widget(key: str, value: object) -> None:
    """Choose a persisted widget's value from another page: the widget takes it when next drawn."""
    st.session_state.pop(key, None)
    st.session_state[_kept(key)] = value


def keep_persisted_widgets() -> None:
    """Call before and after the page draws: at the start, a rerun's values from the last run are there;
    at the end, this run's values are (a page switch drops them before the next run starts)."""
    for key in st.session_state.get(_PERSISTED_KEYS, ()):
        if key in st.session_state:
            st.session_state[_kept(key)] = st.session_state[key]


_PENDING_TOASTS = "pending_toasts"


def toast_after_rerun(message: str, icon: str) -> None:
    """A toast for the next run: one raised just before st.switch_page or st.rerun would be lost."""
    st.session_state.setdefault(_PENDING_TOASTS, []).append((message, icon))


def show_pending_toasts() -> None:
    for message, icon in st.session_state.pop(_PENDING_TOASTS, []):
        st.toast(message, icon=icon)
