"""Scoring a trained model after its passes: the metrics a run stores, calibration, and its baselines.

Pure: no database. The job (core.training.job) calls these and writes what they return.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from core.quality import KEYWORDS, MAJORITY
from core.training.baselines import fit_baselines
from core.training.calibration import fit_temperature, fold_temperature, negative_log_likelihood, tempered
from core.training.config import TrainConfig
from core.training.data import TrainingData

log = logging.getLogger(__name__)


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


def fit_and_score_baselines(data: TrainingData, config: TrainConfig) -> dict[str, dict[str, Any]]:
    """Both baselines fitted on exactly this run's training part (before any augmentation). A training
    part with no usable words (TF-IDF finds an empty vocabulary) leaves them out: the run stands."""
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
    return result
