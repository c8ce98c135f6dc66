"""Pooler head (BertForSequenceClassification) versus a mean-pooling head, same data, loop and settings.

    python bench/pooling_compare.py [--epochs 2] [--lr 5e-5] [--max-tokens 128] [--threads 2]

all-MiniLM-L6-v2 was trained as a sentence encoder with mean pooling; its BERT pooler was never trained
for that. Both heads train through core.training.loop on the sample's train file; the decision uses
validation macro-F1, and the test file is printed for the record only.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from transformers.modeling_outputs import SequenceClassifierOutput

from core.config import DATA_DIR_ENV, load_settings
from core.db import open_database
from core.services.sample import load_sample_dataset
from core.training.config import TrainConfig
from core.training.data import build_training_data, encode
from core.training.device import choose_device, prepare_device
from core.training.loop import evaluate, train_model
from core.training.modeling import load_for_training


class MeanPoolingClassifier(torch.nn.Module):
    """The encoder of a BertForSequenceClassification, mean-pooled over real tokens, then a linear layer."""

    def __init__(self, bert_classifier: Any) -> None:
        super().__init__()
        self.config = bert_classifier.config
        self.base_model_prefix = "bert"
        self.bert = bert_classifier.bert
        self.dropout = torch.nn.Dropout(self.config.hidden_dropout_prob)
        self.classifier = torch.nn.Linear(self.config.hidden_size, self.config.num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SequenceClassifierOutput:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return SequenceClassifierOutput(logits=self.classifier(self.dropout(pooled)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    os.environ[DATA_DIR_ENV] = tempfile.mkdtemp(prefix="bench-pooling-")
    db = open_database(load_settings())
    sample = load_sample_dataset(db)
    config = TrainConfig(
        epochs=args.epochs,
        learning_rate=args.lr,
        max_tokens=args.max_tokens,
        early_stopping_patience=args.epochs,
    )
    data = build_training_data(db, sample.id, validation_share=config.validation_share, seed=config.seed)
    device = dataclasses.replace(choose_device(), threads=args.threads)
    prepare_device(device)
    print(
        f"{config}\n{device.describe()}; train {len(data.train.texts)}, validation {len(data.validation.texts)}, "
        f"test {len(data.test.texts)}",
        flush=True,
    )
    for head in ("pooler", "mean"):
        model, tokenizer = load_for_training(config.model_source, data.label_names)
        if head == "mean":
            model = MeanPoolingClassifier(model)
        pad = tokenizer.pad_token_id
        train = encode(tokenizer, data.train.texts, data.train.labels, config.max_tokens)
        validation = encode(tokenizer, data.validation.texts, data.validation.labels, config.max_tokens)
        test = encode(tokenizer, data.test.texts, data.test.labels, config.max_tokens)
        started = time.perf_counter()
        outcome = train_model(model, train, validation, pad_token_id=pad, config=config, device=device)
        _, val_acc, val_f1 = evaluate(model, validation, pad, device)
        _, test_acc, test_f1 = evaluate(model, test, pad, device)
        print(
            f"{head:>6} head: validation acc {val_acc:.3f} macro-F1 {val_f1:.3f} | test acc {test_acc:.3f} "
            f"macro-F1 {test_f1:.3f} | {time.perf_counter() - started:.0f} s, "
            f"{outcome.samples_seen / outcome.seconds:.1f} samples/s",
            flush=True,
        )


if __name__ == "__main__":
    main()
