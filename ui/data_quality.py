"""Datasets page: what is odd about a dataset before anyone trains on it, in plain words."""

from __future__ import annotations

import streamlit as st

from core.assist.refresh import labels_version
from core.db import Database
from core.services.data_quality import MIN_WORDS, DataQuality, FlaggedReview, check_dataset
from core.services.suggestions import record_count
from ui import state
from ui.duplicates import near_duplicates_ui
from ui.formatting import count_text
from ui.label.suspicious import cached_label_scores
from ui.resources import get_suggester
from ui.text import markdown_literal

SHOWN_EXAMPLES = 5
_LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "ru": "Russian",
    "tr": "Turkish",
    "zh-cn": "Chinese",
    "ja": "Japanese",
}


def _language(code: str) -> str:
    return _LANGUAGE_NAMES.get(code, code)


def data_quality_ui(db: Database, dataset_id: int) -> None:
    labels, reviews = labels_version(db, dataset_id), record_count(db, dataset_id)
    with st.spinner("Reading every review for oddities…"):
        quality = _quality(db, dataset_id, labels, reviews)
    _balance_ui(quality)
    _label_errors_ui(db, dataset_id, labels, reviews)
    _length_ui(quality)
    _characters_ui(quality)
    _language_ui(quality)
    st.markdown("##### Near-duplicates")
    near_duplicates_ui(db, dataset_id)


@st.cache_data(max_entries=4, show_spinner=False)
def _quality(_db: Database, dataset_id: int, labels: str, reviews: int) -> DataQuality:
    # Seconds of language detection: redone only when labels or the reviews change.
    return check_dataset(_db, dataset_id)


def _examples_ui(title: str, reviews: list[FlaggedReview], notes: list[str] | None = None) -> None:
    if not reviews:
        return
    with st.expander(f"{title} ({count_text(len(reviews), 'review')})"):
        for index, review in enumerate(reviews[:SHOWN_EXAMPLES]):
            note = f" · {notes[index]}" if notes else ""
            st.caption(f"Review #{review.position + 1:,}{note}")
            st.markdown(markdown_literal(review.text[:400] + ("…" if len(review.text) > 400 else "")))
        if len(reviews) > SHOWN_EXAMPLES:
            st.caption(
                f"…and {len(reviews) - SHOWN_EXAMPLES:,} more. Browse reviews lists them all by length."
            )


def _balance_ui(quality: DataQuality) -> None:
    st.markdown("##### Balance between labels")
    labeled = sum(label.reviews for label in quality.labels)
    if not labeled:
        st.caption("No labels yet.")
        return
    shares = ", ".join(
        f"{markdown_literal(label.name)} {label.reviews / labeled:.0%}" for label in quality.labels
    )
    st.markdown(f"Of {count_text(labeled, 'labeled review')}: {shares}.")
    for label in quality.rare_labels:
        st.warning(
            f"**{markdown_literal(label.name)}** has {count_text(label.reviews, 'review')}, under a third of "
            f"**{markdown_literal(quality.labels[0].name)}**. A model sees few examples of it and may rarely "
            "predict it. Training already counts rare labels more; labeling more of them helps most: the "
            "Label page's “least sure” order tends to find them.",
            icon=":material/balance:",
        )
    if not quality.rare_labels:
        st.caption("No label is much rarer than the others.")


def _label_errors_ui(db: Database, dataset_id: int, labels: str, reviews: int) -> None:
    st.markdown("##### Labels that may be wrong")
    suggester = get_suggester(dataset_id)
    embedded = len(suggester.view().record_ids)
    if embedded < reviews:
        st.caption("Checked once the model has read every review (it is reading them in the background).")
        return
    scores = cached_label_scores(db, suggester, dataset_id, labels, embedded)
    if scores.too_few:
        st.caption("Checked once every label has at least five labeled reviews.")
        return
    share = scores.estimated_wrong / scores.checked if scores.checked else 0.0
    st.markdown(
        f"About **{share:.0%}** of the {scores.checked:,} labels may be wrong "
        f"({count_text(len(scores.doubted), 'review')} worth a look).",
        help="Each labeled review is scored by a quick model that never saw it; cleanlab estimates how many "
        "labels disagree with what the rest of the data teaches (confident learning).",
    )
    if scores.doubted and st.button(
        "Look at them", key=f"open_suspicious_{dataset_id}", icon=":material/rule:"
    ):
        state.request_view(state.LABEL_VIEW, state.VIEW_SUSPICIOUS)
        st.switch_page("app_pages/label.py")


def _length_ui(quality: DataQuality) -> None:
    st.markdown("##### Very short and very long reviews")
    if not quality.short and not quality.long:
        st.caption("Every review's length is in line with the rest.")
        return
    short = f"fewer than {count_text(MIN_WORDS, 'word')}"
    if quality.short_below > 1:
        short = f"under {count_text(quality.short_below, 'character')} or {short}"
    st.caption(
        f"Unusual for this dataset: {short}, or over {count_text(quality.long_above, 'character')}. Very short "
        "reviews give the model little to go on; very long ones are read only at their start and end."
    )
    _examples_ui("Very short", quality.short)
    _examples_ui("Very long", quality.long)


def _characters_ui(quality: DataQuality) -> None:
    st.markdown("##### Broken characters")
    if not quality.broken_characters:
        st.caption("No garbled characters (such as “Ã©” where “é” was meant) found.")
        return
    st.caption(
        "Garbled characters usually mean the file was saved in one text encoding and read in another. "
        "Re-exporting it as UTF-8 and importing again fixes them."
    )
    _examples_ui("Garbled characters", quality.broken_characters)


def _language_ui(quality: DataQuality) -> None:
    st.markdown("##### Other languages")
    checked = (
        f"all {quality.language_checked:,} reviews"
        if quality.language_checked >= quality.reviews
        else f"a random {quality.language_checked:,} of {quality.reviews:,} reviews"
    )
    if quality.main_language is None:
        st.caption(f"Checked {checked}: too short to tell their language.")
        return
    if not quality.other_language:
        st.caption(f"Checked {checked}: all in {_language(quality.main_language)}.")
        return
    st.caption(
        f"Checked {checked}: most are in {_language(quality.main_language)}; these seem to be in another language. "
        "The bundled model reads English best."
    )
    _examples_ui(
        "In another language",
        [review for review, _ in quality.other_language],
        [f"looks like {_language(language)}" for _, language in quality.other_language],
    )
