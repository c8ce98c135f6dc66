"""Labels that are probably wrong: cleanlab's confident learning on out-of-sample probabilities.

Each labeled review is scored by a fast model that never saw it (cross-validation), so a wrong label
cannot vouch for itself; cleanlab then flags the reviews whose given label that model finds unlikely,
ranked by how unlikely (Northcutt et al., "Confident Learning", 2021).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from cleanlab.count import num_label_issues
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from core.assist.fast_model import FAST_MODEL_C

MAX_FOLDS = 5
# Fewer labeled reviews than this per label and the out-of-sample scores are too thin to accuse anyone.
MIN_PER_LABEL = 5


@dataclass(frozen=True)
class LabelIssue:
    row: int  # into the labels given
    quality: float  # cleanlab's label quality: the model's probability of the given label, 0-1
    suggested: int  # the label the out-of-sample model finds most likely


def out_of_sample_probabilities(vectors: np.ndarray, labels: Sequence[int], *, seed: int = 0) -> np.ndarray:
    """Probabilities for each labeled review from a fast model fitted without it (stratified folds).
    Labels are 0..k-1."""
    y = np.asarray(labels)
    folds = min(MAX_FOLDS, int(np.bincount(y).min()))
    if folds < 2:
        raise ValueError("Every label needs at least two labeled reviews to cross-validate.")
    # Unweighted, unlike the suggestion model: weighting rare labels up makes common labels look
    # doubtful, and on planted errors in the sample it lowered precision among the top 20-60 suspects.
    model = LogisticRegression(C=FAST_MODEL_C, max_iter=1000)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return np.asarray(cross_val_predict(model, vectors, y, cv=splitter, method="predict_proba"))


def estimated_issue_count(labels: Sequence[int], probabilities: np.ndarray) -> int:
    """cleanlab's estimate of how many labels are wrong (calibrated confident joint); steadier than
    counting the flagged reviews, which on weak models includes many that are merely hard."""
    return int(num_label_issues(np.asarray(labels), probabilities))


def find_issues(labels: Sequence[int], probabilities: np.ndarray) -> list[LabelIssue]:
    """Likely label errors, the least likely given label first: the head of the list is where the
    errors concentrate (10% planted flips in the sample's training file: half of the top 10 were
    planted, a quarter of everything flagged; bench/assist_quality.py)."""
    y = np.asarray(labels)
    if len(y) == 0 or np.bincount(y, minlength=probabilities.shape[1]).min() < MIN_PER_LABEL:
        return []
    # n_jobs=1: with more, cleanlab forks a multiprocessing pool, and forking a server process that has
    # torch and other threads running can hang the child on a lock one of them held (it did, under load).
    rows = find_label_issues(y, probabilities, return_indices_ranked_by="self_confidence", n_jobs=1)
    quality = get_label_quality_scores(y, probabilities, method="self_confidence")
    return [LabelIssue(int(r), float(quality[r]), int(probabilities[r].argmax())) for r in rows]
