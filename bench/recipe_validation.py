"""Compare training recipes on validation splits of the sample's training file only (never its test file).

    python bench/recipe_validation.py '{"epochs": 3, "max_tokens": 128}' [--splits 1 2] [--seeds 13 14 15]
        [--held-out 150]

Each split holds out --held-out of the 600 training reviews (stratified) and trains on the rest with the
default TrainConfig changed by the JSON given, on one thread as the app does. Prints, per split and on
average, validation accuracy and macro-F1 of the model and of the keyword baseline fitted on the same
reviews, per-pass validation scores and the learning time. This is how the presets were chosen (issue #14):
two splits of 150 reviews give 300 held-out predictions per recipe, three times a run's own validation part.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
from label_sets import LABEL_SETS
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from core.quality import KEYWORDS
from core.sample_data import SOURCE_COLUMN, TRAIN_FILE, read_sample_table
from core.training.baselines import fit_baselines
from core.training.calibration import (
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    tempered,
)
from core.training.config import TrainConfig
from core.training.data import encode
from core.training.device import choose_device, prepare_device
from core.training.loop import predict_probabilities, train_model
from core.training.modeling import load_for_training

LABELS = ["negative", "neutral", "positive"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("changes", nargs="?", default="{}", help="TrainConfig fields to change, as JSON")
    parser.add_argument("--splits", nargs="+", type=int, default=[1, 2])
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        help="train each split once per seed (default: the config's own): on the sample, one seed's "
        "validation mean moved by 3 points from the next's, more than most recipe changes",
    )
    parser.add_argument("--held-out", type=int, default=150)
    parser.add_argument(
        "--label-set",
        choices=list(LABEL_SETS),
        help="the training file's reviews labeled as in bench/label_sets.py instead of by sentiment",
    )
    parser.add_argument(
        "--train-share",
        type=float,
        default=1.0,
        help="train on this share of the rest (0.85: as a run's selection fit, which holds its validation part back)",
    )
    parser.add_argument(
        "--save-probabilities",
        type=Path,
        help="save each split's held-out probabilities here (.npz), with --train-share below 1 also the calibration part's",
    )
    parser.add_argument(
        "--predict-tokens",
        type=int,
        help="also score the held-out reviews read up to this many tokens (trained at max_tokens)",
    )
    args = parser.parse_args()
    base_config = dataclasses.replace(TrainConfig(), **json.loads(args.changes)).validated()
    seeds = args.seeds or [base_config.seed]
    texts, labels, label_names = _training_file(args.label_set)
    device = dataclasses.replace(choose_device(), threads=1)
    prepare_device(device)
    print(f"{base_config}\nseeds {seeds}\n{device.describe()}", flush=True)
    found: list[tuple[float, float, float, float]] = []
    longer_found: list[tuple[float, float]] = []
    calibration_found: list[tuple[float, float]] = []
    by_seed: dict[int, list[tuple[float, float, float, float]]] = {}
    for seed, split in itertools.product(seeds, args.splits):
        config = dataclasses.replace(base_config, seed=seed)
        train, held = train_test_split(
            list(range(len(texts))), test_size=args.held_out, random_state=split, stratify=labels
        )
        calibration_rows: list[int] = []
        if args.train_share < 1.0:
            train, calibration_rows = train_test_split(
                train, train_size=args.train_share, random_state=split, stratify=[labels[i] for i in train]
            )
        train_texts, train_labels = [texts[i] for i in train], [labels[i] for i in train]
        held_texts, held_labels = [texts[i] for i in held], [labels[i] for i in held]
        keywords = fit_baselines(
            train_texts, train_labels, len(label_names), class_weight_power=config.rare_label_power
        )
        baseline = keywords.probabilities(held_texts)[KEYWORDS].argmax(axis=1)
        torch.manual_seed(config.seed)
        model, tokenizer = load_for_training(config.model_source, label_names, pooling=config.pooling)
        encoded_train = encode(
            tokenizer, train_texts, train_labels, config.max_tokens, keep_tail=config.keep_tail
        )
        encoded_held = encode(
            tokenizer, held_texts, held_labels, config.max_tokens, keep_tail=config.keep_tail
        )
        started = time.perf_counter()
        outcome = train_model(
            model,
            encoded_train,
            encoded_held,
            pad_token_id=tokenizer.pad_token_id,
            config=config,
            device=device,
        )
        seconds = time.perf_counter() - started
        held_probabilities = predict_probabilities(model, encoded_held, tokenizer.pad_token_id, device)
        predicted = held_probabilities.argmax(axis=1)
        longer_note = ""
        if args.predict_tokens:
            encoded_longer = encode(
                tokenizer, held_texts, held_labels, args.predict_tokens, keep_tail=config.keep_tail
            )
            longer = predict_probabilities(model, encoded_longer, tokenizer.pad_token_id, device).argmax(
                axis=1
            )
            longer_found.append(
                (accuracy_score(held_labels, longer), f1_score(held_labels, longer, average="macro"))
            )
            longer_note = (
                f"; read {args.predict_tokens} tokens: {longer_found[-1][0]:.3f}/{longer_found[-1][1]:.3f}"
            )
        calibration_note = ""
        saved = {"held": held_probabilities, "held_labels": np.array(held_labels)}
        if calibration_rows:
            # As a run does: the temperature is fitted on the reviews its selection fit held back, and
            # judged here on the held-out ones, which played no part in training or fitting it.
            calibration_labels = [labels[i] for i in calibration_rows]
            encoded_calibration = encode(
                tokenizer,
                [texts[i] for i in calibration_rows],
                calibration_labels,
                config.max_tokens,
                keep_tail=config.keep_tail,
            )
            calibration_probabilities = predict_probabilities(
                model, encoded_calibration, tokenizer.pad_token_id, device
            )
            temperature = fit_temperature(calibration_probabilities, calibration_labels)
            calibrated = tempered(held_probabilities, temperature)
            calibration_note = (
                f"; temperature {temperature:.2f} from {len(calibration_rows)} reviews: held-out ECE "
                f"{expected_calibration_error(held_probabilities, held_labels):.3f} -> "
                f"{expected_calibration_error(calibrated, held_labels):.3f}, NLL "
                f"{negative_log_likelihood(held_probabilities, held_labels):.3f} -> "
                f"{negative_log_likelihood(calibrated, held_labels):.3f}"
            )
            calibration_found.append(
                (
                    expected_calibration_error(calibrated, held_labels),
                    negative_log_likelihood(calibrated, held_labels),
                )
            )
            saved |= {
                "calibration": calibration_probabilities,
                "calibration_labels": np.array(calibration_labels),
            }
        if args.save_probabilities:
            args.save_probabilities.mkdir(parents=True, exist_ok=True)
            np.savez(args.save_probabilities / _probabilities_file(seeds, seed, split), **saved)
        scores = (
            accuracy_score(held_labels, predicted),
            f1_score(held_labels, predicted, average="macro"),
            accuracy_score(held_labels, baseline),
            f1_score(held_labels, baseline, average="macro"),
        )
        found.append(scores)
        by_seed.setdefault(seed, []).append(scores)
        passes = ", ".join(f"{e.accuracy:.3f}/{e.macro_f1:.3f}" for e in outcome.evaluations)
        print(
            f"seed {seed} split {split}: model {scores[0]:.3f}/{scores[1]:.3f}, keyword model {scores[2]:.3f}/{scores[3]:.3f} "
            f"(accuracy/macro-F1); per pass {passes}; learning {seconds:.0f} s{longer_note}{calibration_note}",
            flush=True,
        )
    mean = [statistics.mean(column) for column in zip(*found, strict=True)]
    print(f"mean: model {mean[0]:.3f}/{mean[1]:.3f}, keyword model {mean[2]:.3f}/{mean[3]:.3f}")
    if longer_found:
        longer_mean = [statistics.mean(column) for column in zip(*longer_found, strict=True)]
        print(f"mean, read {args.predict_tokens} tokens: model {longer_mean[0]:.3f}/{longer_mean[1]:.3f}")
    if len(by_seed) > 1:
        seed_means = [[statistics.mean(c) for c in zip(*rows, strict=True)] for rows in by_seed.values()]
        for seed, seed_mean in zip(by_seed, seed_means, strict=True):
            print(f"  seed {seed}: model {seed_mean[0]:.3f}/{seed_mean[1]:.3f}")
        accuracy_sd = statistics.stdev(m[0] for m in seed_means)
        f1_sd = statistics.stdev(m[1] for m in seed_means)
        print(f"  sd of the seeds' means: accuracy {accuracy_sd:.3f}, macro-F1 {f1_sd:.3f}")
    if calibration_found:
        ece, nll = (statistics.mean(column) for column in zip(*calibration_found, strict=True))
        print(f"mean after temperature scaling: held-out ECE {ece:.3f}, NLL {nll:.3f}")


def _training_file(label_set: str | None) -> tuple[list[str], list[int], list[str]]:
    """(texts, label indices, label names) of the training file's reviews that the label set keeps."""
    table = read_sample_table()
    text_at, source_at = table.columns.index("review"), table.columns.index(SOURCE_COLUMN)
    if label_set is None:
        label_at = table.columns.index("rating")
        names: list[str | None] = [str(row.values[label_at]) for row in table.rows]
    else:
        names = LABEL_SETS[label_set](table)
    kept = [
        (str(row.values[text_at]), name)
        for row, name in zip(table.rows, names, strict=True)
        if name is not None and row.values[source_at] == TRAIN_FILE
    ]
    label_names = LABELS if label_set is None else sorted({name for _, name in kept})
    return [text for text, _ in kept], [label_names.index(name) for _, name in kept], label_names


def _probabilities_file(seeds: list[int], seed: int, split: int) -> str:
    return f"split{split}.npz" if len(seeds) == 1 else f"seed{seed}-split{split}.npz"


if __name__ == "__main__":
    main()
