"""Two simple models every run is scored against, fitted in seconds on exactly its training part.

"Always the most common label" is the floor any model must clear; a bag-of-words logistic regression
is the keyword model a transformer has to beat to earn its place (scikit-learn's DummyClassifier and
TfidfVectorizer + LogisticRegression, class-weighted like the run itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from core.quality import KEYWORDS, MAJORITY
from core.training.loop import class_weight_array


@dataclass(frozen=True)
class FittedBaselines:
    majority: DummyClassifier
    keywords: Pipeline
    num_labels: int

    def probabilities(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Per baseline, one row of class probabilities per text, columns in label order."""
        return {
            MAJORITY: self._full(self.majority, self.majority.predict_proba(np.zeros((len(texts), 1)))),
            KEYWORDS: self._full(self.keywords, self.keywords.predict_proba(list(texts))),
        }

    def _full(self, model: object, probabilities: np.ndarray) -> np.ndarray:
        # A label missing from the training part gets a zero column, so indices match the run's labels.
        full = np.zeros((probabilities.shape[0], self.num_labels), dtype=np.float64)
        full[:, model.classes_] = probabilities  # type: ignore[attr-defined]
        return full


# Words seen in fewer reviews than this are dropped, once there are enough reviews to afford it.
MIN_REVIEWS_PER_WORD = 2
_SMALL_TRAINING_PART = 50


def keyword_model(weights: dict[int, float] | None, *, reviews: int = _SMALL_TRAINING_PART) -> Pipeline:
    min_df = MIN_REVIEWS_PER_WORD if reviews >= _SMALL_TRAINING_PART else 1
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df, strip_accents="unicode"),
        LogisticRegression(C=10.0, max_iter=2000, class_weight=weights),
    )


def fit_baselines(
    texts: Sequence[str], labels: Sequence[int], num_labels: int, *, class_weight_power: float | None
) -> FittedBaselines:
    """class_weight_power None fits the keyword model unweighted, as a run without class weighting."""
    weights = (
        None
        if class_weight_power is None
        else dict(enumerate(class_weight_array(labels, num_labels, power=class_weight_power)))
    )
    majority = DummyClassifier(strategy="most_frequent").fit(np.zeros((len(labels), 1)), list(labels))
    keywords = keyword_model(weights, reviews=len(texts)).fit(list(texts), list(labels))
    return FittedBaselines(majority, keywords, num_labels)
