"""Scoring a trained model after its passes: the metrics a run stores, calibration, and its baselines.

Pure: no database. The job (core.training.job) calls these and writes what they return.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from scipy.stats import bootstrap
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from core.quality import KEYWORDS, MAJORITY
from core.training.baselines import fit_baselines
from core.training.calibration import fit_temperature, fold_temperature, negative_log_likelihood, tempered
from core.training.config import TrainConfig
from core.training.data import TrainingData

log = logging.getLogger(__name__)

# How sure the range of a margin over the keyword model is, and how many resamples it is read from.
MARGIN_CONFIDENCE = 0.95
MARGIN_RESAMPLES = 2000
# Resamples held in memory at once: 200 x 20,000 test reviews is 32 MB per array.
_RESAMPLE_BATCH = 200


def scores(probabilities: np.ndarray, labels: list[int], label_names: list[str]) -> dict[str, Any]:
    """Accuracy, macro/weighted F1, per-class precision/recall/F1/support and the confusion matrix."""
    if not labels:
        return {}
    predicted = probabilities.argmax(axis=1)
    indices = list(range(len(label_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=indices, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, labels=indices, average="macro", zero_division=0)),
        "weighted_f1": float(
            f1_score(labels, predicted, labels=indices, average="weighted", zero_division=0)
        ),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(label_names, precision, recall, f1, support, strict=True)
        },
        "confusion_matrix": confusion_matrix(labels, predicted, labels=indices).tolist(),
        "labels": label_names,
        "size": len(labels),
    }


def calibrate(model: Any, validation_probabilities: np.ndarray, labels: list[int]) -> dict[str, Any]:
    """Fit temperature scaling on the validation part and fold it into the model's head."""
    temperature = fit_temperature(validation_probabilities, labels)
    if not fold_temperature(model, temperature):
        temperature = 1.0
    calibrated = tempered(validation_probabilities, temperature)
    return {
        "temperature": temperature,
        "validation_nll_before": negative_log_likelihood(validation_probabilities, labels)
        if labels
        else None,
        "validation_nll_after": negative_log_likelihood(calibrated, labels) if labels else None,
    }


def fit_and_score_baselines(
    data: TrainingData, config: TrainConfig, model_predicted: dict[str, np.ndarray] | None = None
) -> dict[str, dict[str, Any]]:
    """Both baselines fitted on exactly this run's training part (before any augmentation). A training
    part with no usable words (TF-IDF finds an empty vocabulary) leaves them out: the run stands.

    model_predicted, the run's own predicted label indices per part ("validation", "test"), adds to the
    keyword model's scores on that part the range of the run's margin over it (see margin_intervals)."""
    try:
        fitted = fit_baselines(
            data.train.texts,
            data.train.labels,
            len(data.label_names),
            class_weight_power=config.rare_label_power,
        )
    except ValueError:
        log.warning("Baselines skipped: the training part has no words the keyword model can use")
        return {}
    result: dict[str, dict[str, Any]] = {MAJORITY: {}, KEYWORDS: {}}
    for part_name, part in (("validation", data.validation), ("test", data.test)):
        if not part.labels:
            continue
        for name, probabilities in fitted.probabilities(part.texts).items():
            result[name][part_name] = scores(probabilities, part.labels, data.label_names)
            if name == KEYWORDS and model_predicted is not None and part_name in model_predicted:
                result[name][part_name]["margin_interval"] = margin_intervals(
                    part.labels,
                    model_predicted[part_name],
                    probabilities.argmax(axis=1),
                    len(data.label_names),
                    seed=config.seed,
                )
    return result


def accuracy_along(labels: np.ndarray, predicted: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.asarray(np.mean(labels == predicted, axis=axis))


def macro_f1_along(
    labels: np.ndarray, predicted: np.ndarray, axis: int = -1, *, num_labels: int
) -> np.ndarray:
    """As scikit-learn's f1_score(average="macro", zero_division=0) over every label, along `axis`, so
    that thousands of resamples are scored in one pass."""
    per_label = []
    for label in range(num_labels):
        truth, guess = labels == label, predicted == label
        hits = np.sum(truth & guess, axis=axis)
        mistakes = np.sum(truth ^ guess, axis=axis)  # false positives plus false negatives
        per_label.append(
            np.where(2 * hits + mistakes > 0, 2 * hits / np.maximum(2 * hits + mistakes, 1), 0.0)
        )
    return np.asarray(np.mean(per_label, axis=0))


def _lead_in_points(metric: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def lead(truth: np.ndarray, ours: np.ndarray, theirs: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray(100 * (metric(truth, ours, axis=axis) - metric(truth, theirs, axis=axis)))

    return lead


def margin_intervals(
    labels: Sequence[int],
    model_predicted: Sequence[int] | np.ndarray,
    baseline_predicted: Sequence[int] | np.ndarray,
    num_labels: int,
    *,
    seed: int,
) -> dict[str, list[float]] | None:
    """The range, in points, that the model's lead over a baseline on accuracy and on macro-F1 would
    likely take on other reviews like these: a paired bootstrap over the reviews (both models answer
    the same resampled reviews; scipy.stats.bootstrap, percentile, MARGIN_CONFIDENCE). On a few hundred
    reviews a gap of one or two points can be chance, and the pages say so. None below two reviews."""
    if len(labels) < 2:
        return None
    data = (np.asarray(labels), np.asarray(model_predicted), np.asarray(baseline_predicted))
    metrics: dict[str, Callable[..., np.ndarray]] = {
        "accuracy": accuracy_along,
        "macro_f1": partial(macro_f1_along, num_labels=num_labels),
    }
    found: dict[str, list[float]] = {}
    for name, metric in metrics.items():
        interval = bootstrap(
            data,
            _lead_in_points(metric),
            paired=True,
            vectorized=True,
            n_resamples=MARGIN_RESAMPLES,
            batch=_RESAMPLE_BATCH,
            confidence_level=MARGIN_CONFIDENCE,
            method="percentile",
            rng=np.random.default_rng(seed),
        ).confidence_interval
        found[name] = [float(interval.low), float(interval.high)]
    return found
