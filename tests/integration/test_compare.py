"""Comparing real (tiny) runs, and their ensemble against a hand-made average."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from core.config import Settings
from core.db import Database
from core.errors import InvalidInputError
from core.models import RunStatus
from core.services.compare import compare_runs, ensemble_scores
from core.services.results import run_scores, scored_records
from core.services.training import start_training
from core.training.job import run_training_job
from core.training.runner import claim_next_run
from tests.integration.training_helpers import make_dataset, tiny_config

pytestmark = pytest.mark.integration


def two_runs(db: Database, settings: Settings, tiny_model: str) -> tuple[int, int]:
    dataset_id = make_dataset(db, rows=120)
    runs = []
    for changes in ({"epochs": 1, "learning_rate": 1e-3}, {"epochs": 2, "learning_rate": 5e-4, "seed": 7}):
        run_id = start_training(db, dataset_id, tiny_config(tiny_model, **changes), preset=None)
        assert claim_next_run(db) == run_id
        assert run_training_job(run_id, db, runs_dir=settings.runs_dir) == RunStatus.SUCCEEDED
        runs.append(run_id)
    return runs[0], runs[1]


def test_comparison_lists_scores_curves_and_only_the_settings_that_differ(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    first, second = two_runs(db, settings, tiny_model)
    comparison = compare_runs(db, [first, second])
    assert [c.run_id for c in comparison.runs] == [first, second]
    assert set(comparison.config_differences) == {"epochs", "learning_rate", "seed"}
    assert comparison.config_differences["epochs"] == [1, 2]
    for column in comparison.runs:
        assert column.test is not None and column.test == run_scores(db, column.run_id)
        assert column.progress.train_curve and column.train_samples
    with pytest.raises(InvalidInputError, match="two or more"):
        compare_runs(db, [first])


def test_ensemble_is_the_average_of_the_members_probabilities(
    db: Database, settings: Settings, tiny_model: str
) -> None:
    first, second = two_runs(db, settings, tiny_model)
    ensemble = ensemble_scores(db, [first, second])
    a = {r.record_id: r for r in scored_records(db, first)}
    b = {r.record_id: r for r in scored_records(db, second)}
    shared = sorted(set(a) & set(b))
    assert ensemble.scores.size == len(shared) == 30  # the same held-out test split
    labels = ["negative", "positive"]
    mean = np.array([[(a[i].probabilities[k] + b[i].probabilities[k]) / 2 for k in labels] for i in shared])
    predicted = [labels[j] for j in mean.argmax(axis=1)]
    truth = [b[i].true_label for i in shared]
    assert ensemble.scores.accuracy == pytest.approx(accuracy_score(truth, predicted))
    assert ensemble.scores.macro_f1 == pytest.approx(
        f1_score(truth, predicted, average="macro", zero_division=0)
    )
    assert ensemble.members[first] == run_scores(db, first)
