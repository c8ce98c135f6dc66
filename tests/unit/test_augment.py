"""Small-class augmentation: which classes grow, by how much, and what an edit may do to a review."""

from __future__ import annotations

import random
from collections import Counter

from core.training.augment import MAX_COPIES_PER_TEXT, augment_small_classes, edit_text


def test_only_small_classes_are_topped_up_and_never_past_two_copies_each() -> None:
    texts = [f"review number {i} with enough words to edit" for i in range(130)]
    labels = [0] * 100 + [1] * 10 + [2] * 20 + [3] * 0
    extra_texts, extra_labels = augment_small_classes(texts, labels, seed=3)
    added = Counter(extra_labels)
    assert 0 not in added  # the largest class is left alone
    assert added[1] == 10 * MAX_COPIES_PER_TEXT  # capped: 10 originals, target was 50
    assert added[2] == 30  # up to half the largest class
    assert len(extra_texts) == len(extra_labels)


def test_edits_keep_words_from_the_review_and_are_reproducible() -> None:
    text = "the tablets helped my migraine within an hour every single time"
    first = edit_text(text, random.Random(7))
    assert first == edit_text(text, random.Random(7))
    assert first != text
    assert set(first.split()) <= set(text.split())
    assert edit_text("too short", random.Random(1)) == "too short"


def test_nothing_to_augment_when_classes_are_balanced() -> None:
    texts = ["a b c d e"] * 20
    assert augment_small_classes(texts, [0, 1] * 10, seed=1) == ([], [])
