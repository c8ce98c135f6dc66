"""The fast in-loop model: logistic regression on review embeddings, and zero-shot scores before it.

Before enough labels exist, a review is scored by its cosine similarity to each label's description
(by default the label's name). After that, a logistic regression fitted on the labeled reviews'
embeddings takes over: it refits in well under a second, so it can follow every few labels.

A fitted model is kept as plain arrays (weights, bias, label ids) in an .npz file, never a pickle.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression
from sklearn.utils.class_weight import compute_class_weight

# The fast model takes over from the descriptions once every label has this many labeled reviews.
MIN_LABELS_PER_CLASS = 3
# Similarities are divided by this before the softmax. 0.2 makes the average confidence on the sample's
# training file (0.40, label names as descriptions) match how often the guess is right there (0.38):
# MiniLM's similarity reads topic more than sentiment, and a first guess must not sound surer than it
# is. Where descriptions separate the labels better, it understates: the safe side.
ZERO_SHOT_TEMPERATURE = 0.2
# scikit-learn's default regularisation, deliberately untuned: the model refits on every few labels
# of any dataset, so it must not depend on a value chosen for one (bench/assist_quality.py prints its
# scores on the sample by label count).
FAST_MODEL_C = 1.0
# The cross-validated score behind the fine-tune takeover is measured on at most this many labels.
CV_ROWS = 5000


def zero_shot_probabilities(review_vectors: np.ndarray, description_vectors: np.ndarray) -> np.ndarray:
    """Softmax over labels of the cosine similarity between each review and each description.

    Both inputs are rows of unit length (as the embedding store keeps them)."""
    if review_vectors.ndim != 2 or description_vectors.ndim != 2:
        raise ValueError("Reviews and descriptions must be 2-D arrays of vectors.")
    return np.asarray(softmax(review_vectors @ description_vectors.T / ZERO_SHOT_TEMPERATURE, axis=1))


@dataclass(frozen=True)
class FastModel:
    """Multinomial logistic regression as plain arrays: probabilities = softmax(x @ weights.T + bias)."""

    label_ids: np.ndarray  # label class ids, in the order of the weight rows
    weights: np.ndarray
    bias: np.ndarray
    trained_on: int  # how many labeled reviews
    # Which state of the labels it was fitted on (see core.assist.refresh.labels_version).
    labels_version: str = ""
    # Cross-validated macro-F1 on those labels: what a fine-tuned run must beat to take over
    # suggestions. None when too few labels to cross-validate (or for files older than the field).
    cv_macro_f1: float | None = None

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ self.weights.T + self.bias
        if len(self.label_ids) == 2 and self.weights.shape[0] == 1:  # scikit-learn's binary form
            logits = np.hstack([-logits / 2, logits / 2])
        return np.asarray(softmax(logits, axis=1))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.stem}.partial.npz")
        np.savez(
            partial,
            label_ids=self.label_ids,
            weights=self.weights,
            bias=self.bias,
            trained_on=np.array(self.trained_on),
            labels_version=np.array(self.labels_version),
            cv_macro_f1=np.array(np.nan if self.cv_macro_f1 is None else self.cv_macro_f1),
        )
        os.replace(partial, path)  # a reader never sees half a file

    @classmethod
    def load(cls, path: Path) -> FastModel | None:
        if not path.is_file():
            return None
        with np.load(path) as data:
            return cls(
                data["label_ids"],
                data["weights"],
                data["bias"],
                int(data["trained_on"]),
                str(data["labels_version"]),
                _optional_float(data, "cv_macro_f1"),
            )


def _optional_float(data: object, name: str) -> float | None:
    files = getattr(data, "files", [])
    if name not in files:
        return None
    value = float(data[name])  # type: ignore[index]
    return None if np.isnan(value) else value


def ready_for_fast_model(label_ids: Sequence[int]) -> bool:
    counts = Counter(label_ids)
    return len(counts) >= 2 and min(counts.values()) >= MIN_LABELS_PER_CLASS


def fast_model_class_weights(labels: np.ndarray) -> dict[int, float]:
    """Rare labels weighted up by the square root of their "balanced" weight (the fine-tune's default too)."""
    classes = np.unique(labels)
    weights = compute_class_weight("balanced", classes=classes, y=labels) ** 0.5
    return {int(c): float(w) for c, w in zip(classes.tolist(), weights, strict=True)}


def cross_validated_macro_f1(
    vectors: np.ndarray, label_ids: Sequence[int] | np.ndarray, *, seed: int = 0
) -> float | None:
    """The fast model's macro-F1 on labels it did not see (stratified folds, at most CV_ROWS rows);
    None when a label has fewer than two labeled reviews."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    labels = np.asarray(label_ids)
    if len(labels) > CV_ROWS:
        keep = np.random.default_rng(seed).choice(len(labels), size=CV_ROWS, replace=False)
        vectors, labels = vectors[keep], labels[keep]
    folds = min(5, int(min(Counter(labels.tolist()).values())))
    if len(set(labels.tolist())) < 2 or folds < 2:
        return None
    model = LogisticRegression(C=FAST_MODEL_C, max_iter=1000, class_weight=fast_model_class_weights(labels))
    predicted = cross_val_predict(
        model, vectors, labels, cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    )
    return float(f1_score(labels, predicted, average="macro"))


def fit_fast_model(
    vectors: np.ndarray, label_ids: Sequence[int], *, labels_version: str = "", with_score: bool = False
) -> FastModel:
    """Logistic regression on embeddings, rare labels weighted up (fast_model_class_weights)."""
    if len(vectors) != len(label_ids):
        raise ValueError("Each labeled review needs exactly one vector.")
    if len(set(label_ids)) < 2:
        raise ValueError("The fast model needs labeled reviews of at least two labels.")
    labels = np.asarray(label_ids)
    model = LogisticRegression(
        C=FAST_MODEL_C, max_iter=1000, class_weight=fast_model_class_weights(labels)
    ).fit(vectors, labels)
    return FastModel(
        label_ids=model.classes_.astype(np.int64),
        weights=model.coef_.astype(np.float32),
        bias=model.intercept_.astype(np.float32),
        trained_on=len(labels),
        labels_version=labels_version,
        cv_macro_f1=cross_validated_macro_f1(vectors, labels) if with_score else None,
    )
