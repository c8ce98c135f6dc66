"""Our training loop against the Hugging Face Trainer, side by side in one process, on the sample.

    python bench/train_throughput.py [--epochs 2] [--max-tokens 128] [--batch-size 16] [--threads N]
                                     [--skip-tuned-trainer]

All runs share the model (bundled MiniLM with the mean-pooling head, same initial weights), the split
the app makes (drugsComTrain.tsv into train/validation; drugsComTest.tsv held out), max tokens, batch
size, epochs, learning rate, warmup, weight decay, seed and thread count. Each engine keeps its own
choices beyond that:

- ours: length-grouped batches, dynamic padding, bf16 autocast where the device runs it natively,
  class-weighted loss, a validation pass per epoch (counted in its time) and best-epoch restore;
- "Trainer (defaults)": random batches, DataCollatorWithPadding, fp32;
- "Trainer (bf16 + group_by_length)": the two switches a Trainer user could flip to catch up.

Throughput is training samples (epochs x train size) over the wall time of the train call. Test
accuracy and macro-F1 use the same inference code for every model. Target (issue #4, CPU): ours /
Trainer (defaults) >= 1.3 at equal or better test macro-F1.
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

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score

from core.config import DATA_DIR_ENV, load_settings
from core.db import open_database
from core.services.sample import load_sample_dataset
from core.training.config import BUNDLED_MODEL, TrainConfig
from core.training.data import Encoded, build_training_data, encode
from core.training.device import DeviceInfo, choose_device, prepare_device
from core.training.loop import predict_probabilities, train_model
from core.training.modeling import load_for_training


@dataclasses.dataclass
class Result:
    name: str
    seconds: float
    samples: int
    accuracy: float
    macro_f1: float

    @property
    def samples_per_second(self) -> float:
        return self.samples / self.seconds


def _test_scores(model: Any, test: Encoded, pad: int, device: DeviceInfo) -> tuple[float, float]:
    predicted = predict_probabilities(model, test, pad, device).argmax(axis=1)
    return (
        float(accuracy_score(test.labels, predicted)),
        float(f1_score(test.labels, predicted, average="macro", zero_division=0)),
    )


def _ours(
    config: TrainConfig,
    labels: list[str],
    train: Encoded,
    validation: Encoded,
    test: Encoded,
    device: DeviceInfo,
) -> Result:
    torch.manual_seed(config.seed)
    model, tokenizer = load_for_training(config.model_source, labels, pooling=config.pooling)
    started = time.perf_counter()
    outcome = train_model(
        model, train, validation, pad_token_id=tokenizer.pad_token_id, config=config, device=device
    )
    seconds = time.perf_counter() - started
    accuracy, macro_f1 = _test_scores(model, test, tokenizer.pad_token_id, device)
    return Result("ours", seconds, outcome.samples_seen, accuracy, macro_f1)


def _trainer(
    name: str,
    config: TrainConfig,
    labels: list[str],
    train: Encoded,
    test: Encoded,
    device: DeviceInfo,
    *,
    tuned: bool,
) -> Result:
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    torch.manual_seed(config.seed)
    model, tokenizer = load_for_training(config.model_source, labels, pooling=config.pooling)
    rows = [
        {"input_ids": ids, "labels": label} for ids, label in zip(train.input_ids, train.labels, strict=True)
    ]
    with tempfile.TemporaryDirectory() as output:
        arguments = TrainingArguments(
            output_dir=output,
            per_device_train_batch_size=config.batch_size,
            num_train_epochs=config.epochs,
            learning_rate=config.learning_rate,
            warmup_steps=config.warmup_ratio,
            weight_decay=config.weight_decay,
            max_grad_norm=config.gradient_clip,
            seed=config.seed,
            use_cpu=device.kind == "cpu",
            save_strategy="no",
            eval_strategy="no",
            report_to="none",
            disable_tqdm=True,
            logging_strategy="no",
            bf16=tuned and device.bf16,
            train_sampling_strategy="group_by_length" if tuned else "random",
        )
        trainer = Trainer(
            model=model,
            args=arguments,
            train_dataset=rows,
            data_collator=DataCollatorWithPadding(tokenizer),
        )
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    torch.set_num_threads(device.threads)  # in case the Trainer changed it
    accuracy, macro_f1 = _test_scores(model, test, tokenizer.pad_token_id, device)
    return Result(name, seconds, len(train) * config.epochs, accuracy, macro_f1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=None, help="default: as the app (all cores but one)")
    parser.add_argument("--skip-tuned-trainer", action="store_true")
    args = parser.parse_args()

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    config = TrainConfig(
        model_source=BUNDLED_MODEL,
        epochs=args.epochs,
        max_tokens=args.max_tokens,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        # Every epoch runs to the end in every engine: equal work.
        early_stopping_patience=args.epochs + 1,
    )
    device = choose_device()
    if args.threads:
        device = dataclasses.replace(device, threads=args.threads)
    prepare_device(device)

    os.environ[DATA_DIR_ENV] = tempfile.mkdtemp(prefix="bench-throughput-")
    db = open_database(load_settings())
    sample = load_sample_dataset(db)
    data = build_training_data(db, sample.id, validation_share=config.validation_share, seed=config.seed)
    _, tokenizer = load_for_training(config.model_source, data.label_names, pooling=config.pooling)
    train, validation, test = (
        encode(tokenizer, part.texts, part.labels, config.max_tokens)
        for part in (data.train, data.validation, data.test)
    )
    lengths = np.array([len(ids) for ids in train.input_ids])
    print(
        f"{len(train)} training reviews (median {np.median(lengths):.0f} tokens at max {config.max_tokens}), "
        f"{len(test)} test reviews; batch {config.batch_size}, {config.epochs} epochs, lr {config.learning_rate}; "
        f"{device.describe()}; torch {torch.__version__}",
        flush=True,
    )
    results = [_ours(config, data.label_names, train, validation, test, device)]
    print(_line(results[-1]), flush=True)
    results.append(_trainer("Trainer (defaults)", config, data.label_names, train, test, device, tuned=False))
    print(_line(results[-1]), flush=True)
    if not args.skip_tuned_trainer:
        results.append(
            _trainer(
                "Trainer (bf16 + group_by_length)", config, data.label_names, train, test, device, tuned=True
            )
        )
        print(_line(results[-1]), flush=True)
    ours = results[0]
    for other in results[1:]:
        print(
            f"ratio ours / {other.name}: {ours.samples_per_second / other.samples_per_second:.2f}x "
            f"(test macro-F1 {ours.macro_f1:.3f} vs {other.macro_f1:.3f})"
        )


def _line(result: Result) -> str:
    return (
        f"{result.name:<34} {result.samples_per_second:6.2f} samples/s ({result.samples} samples in "
        f"{result.seconds:.0f} s); test accuracy {result.accuracy:.3f}, macro-F1 {result.macro_f1:.3f}"
    )


if __name__ == "__main__":
    main()
