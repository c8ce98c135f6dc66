"""From final labels to tensors: the split a run records, tokenization, and length-grouped batches."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from sklearn.model_selection import train_test_split
from sqlalchemy import select

from core.db import Database
from core.errors import InvalidInputError
from core.final_labels import final_labels
from core.models import LabelClass, Record, RecordSplit, RunPart

MIN_EXAMPLES_PER_CLASS = 2
FEW_EXAMPLES_WARNING = 10
# Shuffle, then sort by length inside windows of this many batches: little padding, still random.
_LENGTH_GROUP_BATCHES = 50


@dataclass(frozen=True)
class Part:
    record_ids: list[int]
    texts: list[str]
    labels: list[int]  # indices into TrainingData.label_names


@dataclass(frozen=True)
class TrainingData:
    label_names: list[str]
    label_class_ids: list[int]
    train: Part
    validation: Part
    test: Part
    warnings: list[str] = field(default_factory=list)

    def parts(self) -> dict[RunPart, Part]:
        return {RunPart.TRAIN: self.train, RunPart.VALIDATION: self.validation, RunPart.TEST: self.test}


def build_training_data(db: Database, dataset_id: int, *, validation_share: float, seed: int) -> TrainingData:
    """Labeled records split three ways: the dataset's test split held out, validation cut from the rest."""
    finals = final_labels(db, dataset_id)
    with db.read() as session:
        classes = session.execute(
            select(LabelClass.id, LabelClass.name)
            .where(LabelClass.dataset_id == dataset_id)
            .order_by(LabelClass.position)
        ).all()
        rows = session.execute(
            select(Record.id, Record.text, Record.split)
            # Near-duplicates set aside train nothing new and would leak between the parts.
            .where(
                Record.dataset_id == dataset_id, Record.id.in_(list(finals)), Record.duplicate_of.is_(None)
            )
            .order_by(Record.position)
        ).all()
    counts = Counter(finals[record_id] for record_id, _, split in rows if split != RecordSplit.TEST)
    usable = [
        (class_id, name) for class_id, name in classes if counts.get(class_id, 0) >= MIN_EXAMPLES_PER_CLASS
    ]
    if len(usable) < 2:
        raise InvalidInputError(
            f"Training needs at least two labels with {MIN_EXAMPLES_PER_CLASS}+ labeled reviews each "
            "(outside the test split). Label some more reviews first."
        )
    warnings = [
        f"“{name}” has only {counts.get(class_id, 0)} labeled reviews; the model will struggle with it."
        for class_id, name in usable
        if counts.get(class_id, 0) < FEW_EXAMPLES_WARNING
    ]
    skipped = [name for class_id, name in classes if 0 < counts.get(class_id, 0) < MIN_EXAMPLES_PER_CLASS]
    if skipped:
        warnings.append("Left out (too few examples): " + ", ".join(skipped) + ".")
    index_of = {class_id: index for index, (class_id, _) in enumerate(usable)}
    pool: list[tuple[int, str, int]] = []
    test: list[tuple[int, str, int]] = []
    for record_id, text, split in rows:
        label = index_of.get(finals[record_id])
        if label is None:
            continue
        (test if split == RecordSplit.TEST else pool).append((record_id, text, label))
    train_rows, validation_rows = _stratified_split(pool, validation_share, seed)
    return TrainingData(
        label_names=[name for _, name in usable],
        label_class_ids=[class_id for class_id, _ in usable],
        train=_part(train_rows),
        validation=_part(validation_rows),
        test=_part(test),
        warnings=warnings,
    )


def training_part_size(pool: int, validation_share: float) -> int:
    """How many of `pool` labeled reviews a run learns from: train_test_split rounds the validation
    part up (see _stratified_split)."""
    return pool - math.ceil(pool * validation_share)


def _stratified_split(
    rows: list[tuple[int, str, int]], share: float, seed: int
) -> tuple[list[tuple[int, str, int]], list[tuple[int, str, int]]]:
    labels = [label for _, _, label in rows]
    stratify = labels if min(Counter(labels).values()) >= 2 else None
    try:
        train, validation = train_test_split(rows, test_size=share, random_state=seed, stratify=stratify)
    except ValueError:  # a split too small to stratify
        train, validation = train_test_split(rows, test_size=share, random_state=seed)
    return list(train), list(validation)


def _part(rows: Sequence[tuple[int, str, int]]) -> Part:
    return Part([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


@dataclass(frozen=True)
class Encoded:
    """Token ids per text, unpadded: padding happens per batch (dynamic padding)."""

    input_ids: list[list[int]]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)


def encode(
    tokenizer: Any, texts: Sequence[str], labels: Sequence[int], max_tokens: int, *, keep_tail: bool = False
) -> Encoded:
    """Token ids with the tokenizer's special tokens. A review longer than max_tokens keeps its start
    or, with keep_tail, its start and its end (see head_and_tail)."""
    if not texts:  # a dataset without a test part: the fast tokenizers fail on an empty batch
        return Encoded([], list(labels))
    if not keep_tail:
        encoded = tokenizer(list(texts), truncation=True, max_length=max_tokens)
        return Encoded(list(encoded["input_ids"]), list(labels))
    prefix, suffix = special_wrapping(tokenizer)
    budget = max_tokens - len(prefix) - len(suffix)
    # Whole reviews are tokenized here and cut below, so the tokenizer's length warning does not apply.
    pieces = tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    return Encoded([prefix + head_and_tail(ids, budget) + suffix for ids in pieces], list(labels))


def special_wrapping(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special token ids a tokenizer puts before and after one text ([CLS] … [SEP] for BERT,
    <s> … </s> for RoBERTa), read off a probe text: transformers 5 no longer exposes a builder for it."""
    plain = list(tokenizer("probe", add_special_tokens=False)["input_ids"])
    wrapped = list(tokenizer("probe", add_special_tokens=True)["input_ids"])
    for start in range(len(wrapped) - len(plain) + 1):
        if wrapped[start : start + len(plain)] == plain:
            return wrapped[:start], wrapped[start + len(plain) :]
    raise ValueError("This tokenizer changes a text when it adds its special tokens; keep_tail cannot apply.")


def kept_positions(length: int, budget: int) -> tuple[int, int]:
    """(head, tail): a text of `length` tokens keeps its first `head` and its last `tail` tokens.

    A quarter of the budget goes to the start and the rest to the end: reviews tend to end on their
    verdict (Sun et al. 2019 found head + tail best for long texts; cutting the sample's reviews from
    128 to 96 tokens from the start cost 5 points of validation accuracy)."""
    if length <= budget:
        return length, 0
    head = max(1, budget // 4)
    return head, budget - head


def head_and_tail(ids: Sequence[int], budget: int) -> list[int]:
    head, tail = kept_positions(len(ids), budget)
    return list(ids[:head]) + (list(ids[len(ids) - tail :]) if tail else [])


def length_grouped_batches(lengths: Sequence[int], batch_size: int, *, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * _LENGTH_GROUP_BATCHES
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i], reverse=True)
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """For inference: longest first, so the biggest batch is met (and fails, if memory is short) first."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def collate(
    encoded: Encoded,
    indices: Sequence[int],
    pad_token_id: int,
    *,
    with_labels: bool = True,
    pad_multiple: int = 1,
) -> dict[str, torch.Tensor]:
    """Pads to the longest input of the batch, rounded up to `pad_multiple` (see DeviceInfo.pad_multiple)."""
    longest = max(len(encoded.input_ids[i]) for i in indices)
    width = -(-longest // pad_multiple) * pad_multiple
    input_ids = torch.full((len(indices), width), pad_token_id, dtype=torch.long)
    attention = torch.zeros((len(indices), width), dtype=torch.long)
    for row, index in enumerate(indices):
        ids = encoded.input_ids[index]
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention[row, : len(ids)] = 1
    batch = {"input_ids": input_ids, "attention_mask": attention}
    if with_labels:
        batch["labels"] = torch.tensor([encoded.labels[i] for i in indices], dtype=torch.long)
    return batch
