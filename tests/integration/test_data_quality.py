"""Data quality on a constructed dataset: a rare label, a very short review, garbled characters and a
review in another language are each found; ordinary reviews are not flagged."""

from __future__ import annotations

import numpy as np
import pytest

from core.db import Database
from core.importing.plan import ColumnMapping, build_import_plan
from core.importing.reader import read_table
from core.services.data_quality import check_dataset, has_broken_characters, length_fences
from core.services.importing import import_dataset

pytestmark = pytest.mark.integration

ENGLISH = [
    "This medicine helped my back pain within a week and I had no side effects at all.",
    "I felt sick every morning on this drug and stopped taking it after two weeks.",
    "It worked for my migraines but the tiredness during the day was hard to live with.",
    "My doctor switched me to this one and my blood pressure has been normal since then.",
    "The rash came back after a month, so it only helped for a short while for me.",
]


def test_rare_labels_short_reviews_garbled_characters_and_other_languages_are_found(db: Database) -> None:
    rows = [(f"{ENGLISH[i % 5]} Week {i}.", "positive" if i % 7 else "negative") for i in range(40)]
    rows += [
        ("Ok.", "positive"),
        ("The pills workâ€™s great, Iâ€™m sleeping again and my mood is much better now.", "positive"),
        ("Este medicamento me cambió la vida, ya no tengo dolor y duermo toda la noche.", "positive"),
    ]
    csv = "review,label\n" + "\n".join(f'"{text}",{label}' for text, label in rows) + "\n"
    plan = build_import_plan(read_table(csv.encode(), "q.csv"), ColumnMapping(text="review", label="label"))
    dataset_id = import_dataset(db, plan, name="quality", source_filename=None, test_indices=[]).id

    quality = check_dataset(db, dataset_id)

    assert quality.reviews == 43
    assert [(label.name, label.reviews) for label in quality.labels] == [("positive", 37), ("negative", 6)]
    assert [label.name for label in quality.rare_labels] == ["negative"]
    assert [review.text for review in quality.short] == ["Ok."]
    assert [review.position for review in quality.broken_characters] == [41]
    assert quality.main_language == "en"
    assert [(review.position, language) for review, language in quality.other_language] == [(42, "es")]
    assert quality.language_checked == 43


def test_length_fences_and_broken_characters() -> None:
    low, high = length_fences(np.array([100] * 20 + [120] * 20))
    assert low < 100 and high > 120
    assert not has_broken_characters("café, naïve and “quotes” are fine")
    assert has_broken_characters("cafÃ© is garbled")
    assert has_broken_characters("a replacement \ufffd character")
