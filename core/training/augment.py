"""Text augmentation for small classes: random word deletion and swaps (EDA-style), training part only.

No maintained augmentation package works offline without downloading models or word lists, and
these two edits need neither. Off by default: bench/augment_compare.py measures whether it raises
validation macro-F1 on the sample before any preset may turn it on.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

DELETE_PROBABILITY = 0.1
SWAPS = 2
# A class smaller than this share of the largest one is topped up, to at most this share.
SMALL_CLASS_SHARE = 0.5
# Never more than this many edited copies per original review: beyond that they are near-duplicates.
MAX_COPIES_PER_TEXT = 2


def edit_text(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) < 4:
        return text
    kept = [word for word in words if rng.random() > DELETE_PROBABILITY] or words[:1]
    for _ in range(SWAPS):
        i, j = rng.randrange(len(kept)), rng.randrange(len(kept))
        kept[i], kept[j] = kept[j], kept[i]
    return " ".join(kept)


def augment_small_classes(
    texts: Sequence[str], labels: Sequence[int], *, seed: int
) -> tuple[list[str], list[int]]:
    """Extra (text, label) pairs for classes under SMALL_CLASS_SHARE of the largest; originals not included."""
    rng = random.Random(seed)
    counts = Counter(labels)
    if not counts:
        return [], []
    target = int(max(counts.values()) * SMALL_CLASS_SHARE)
    extra_texts: list[str] = []
    extra_labels: list[int] = []
    for label, count in sorted(counts.items()):
        wanted = min(target - count, count * MAX_COPIES_PER_TEXT)
        if wanted <= 0:
            continue
        members = [text for text, own in zip(texts, labels, strict=True) if own == label]
        for index in range(wanted):
            extra_texts.append(edit_text(members[index % len(members)], rng))
            extra_labels.append(label)
    return extra_texts, extra_labels
