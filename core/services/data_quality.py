"""What is odd about a dataset before anyone trains on it: label balance, very short and very long
reviews, broken characters, and reviews in another language than the rest.

Broken characters are found with ftfy (mojibake such as "Ã©" for "é", replacement characters) and
languages with langdetect (Google's language-detection profiles, offline; seeded so the same review
always gets the same answer). langdetect takes ~7 ms a review, so larger datasets are checked on a
random sample of LANGUAGE_SAMPLE reviews and the page says so.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from core.db import Database
from core.final_labels import final_labels
from core.models import LabelClass, Record

LANGUAGE_SAMPLE = 1000
# langdetect guesses poorly on a few words, and a reply like "ok" is not another language.
MIN_CHARS_FOR_LANGUAGE = 40
LANGUAGE_CONFIDENCE = 0.9
# A label with fewer than this share of the largest label's reviews is called out.
RARE_SHARE = 1 / 3
# Tukey's fences on log length: outside 1.5 interquartile ranges of the middle half is unusual.
FENCE = 1.5
MIN_FACTOR = 3.0
# Fewer words than this is too short to say much, whatever the rest of the dataset looks like.
MIN_WORDS = 3


@dataclass(frozen=True)
class FlaggedReview:
    record_id: int
    position: int
    text: str


@dataclass(frozen=True)
class LabelCount:
    name: str
    reviews: int


@dataclass(frozen=True)
class DataQuality:
    reviews: int
    labels: list[LabelCount]  # final labels per label, the largest first
    short: list[FlaggedReview]
    long: list[FlaggedReview]
    short_below: int  # characters
    long_above: int
    broken_characters: list[FlaggedReview]
    main_language: str | None  # ISO 639-1 code, e.g. "en"
    other_language: list[tuple[FlaggedReview, str]]
    language_checked: int

    @property
    def rare_labels(self) -> list[LabelCount]:
        if len(self.labels) < 2 or not self.labels[0].reviews:
            return []
        return [label for label in self.labels if label.reviews < self.labels[0].reviews * RARE_SHARE]


def length_fences(lengths: np.ndarray) -> tuple[int, int]:
    """(shorter than, longer than) in characters: Tukey's fences on log length, but never closer to the
    median than a factor of MIN_FACTOR, so a dataset of very even lengths does not flag ordinary reviews."""
    if len(lengths) == 0:
        return 0, 0
    logs = np.log(np.maximum(lengths, 1))
    q1, median, q3 = np.quantile(logs, [0.25, 0.5, 0.75])
    spread = q3 - q1
    low = min(q1 - FENCE * spread, median - np.log(MIN_FACTOR))
    high = max(q3 + FENCE * spread, median + np.log(MIN_FACTOR))
    return int(np.floor(np.exp(low))), int(np.ceil(np.exp(high)))


def has_broken_characters(text: str) -> bool:
    from ftfy.badness import is_bad

    return "\ufffd" in text or is_bad(text)


def detect_language(text: str) -> tuple[str, float] | None:
    """(language, probability) of the likeliest language, or None for text too short to tell."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    if len(text) < MIN_CHARS_FOR_LANGUAGE:
        return None
    DetectorFactory.seed = 0  # langdetect samples; seeded, it answers the same every time
    try:
        best = detect_langs(text)[0]
    except LangDetectException:
        return None
    return str(best.lang), float(best.prob)


def check_dataset(db: Database, dataset_id: int, *, seed: int = 0) -> DataQuality:
    with db.read() as session:
        rows = session.execute(
            select(Record.id, Record.position, Record.text, Record.text_length)
            .where(Record.dataset_id == dataset_id, Record.duplicate_of.is_(None))
            .order_by(Record.position)
        ).all()
        names = dict(
            session.execute(
                select(LabelClass.id, LabelClass.name).where(LabelClass.dataset_id == dataset_id)
            ).all()
        )
    kept = {row.id for row in rows}
    counts = Counter(label for record_id, label in final_labels(db, dataset_id).items() if record_id in kept)
    labels = sorted((LabelCount(names[i], counts.get(i, 0)) for i in names), key=lambda c: -c.reviews)
    short_below, long_above = length_fences(np.array([row.text_length for row in rows]))
    flagged = {row.id: FlaggedReview(row.id, row.position, row.text) for row in rows}
    short = [
        flagged[row.id] for row in rows if row.text_length < short_below or len(row.text.split()) < MIN_WORDS
    ]
    long = [flagged[row.id] for row in rows if row.text_length > long_above]
    broken = [flagged[row.id] for row in rows if has_broken_characters(row.text)]
    sample = rows if len(rows) <= LANGUAGE_SAMPLE else random.Random(seed).sample(rows, LANGUAGE_SAMPLE)
    detected = {row.id: detect_language(row.text) for row in sample}
    sure = {record_id: found for record_id, found in detected.items() if found is not None}
    main = Counter(language for language, _ in sure.values()).most_common(1)
    main_language = main[0][0] if main else None
    other = [
        (flagged[record_id], language)
        for record_id, (language, probability) in sure.items()
        if language != main_language and probability >= LANGUAGE_CONFIDENCE
    ]
    other.sort(key=lambda pair: pair[0].position)
    return DataQuality(
        reviews=len(rows),
        labels=labels,
        short=short,
        long=long,
        short_below=short_below,
        long_above=long_above,
        broken_characters=broken,
        main_language=main_language,
        other_language=other,
        language_checked=len(sample),
    )
