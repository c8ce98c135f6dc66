"""Runs side by side, and an ensemble: the average of several runs' probabilities as a virtual model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.db import Database
from core.errors import InvalidInputError
from core.models import RunPart
from core.services.results import RunScores, ScoredRecord, run_labels, scored_records, scores_of
from core.services.training import RunProgress, run_progress

# Config keys that say nothing about how a run was trained.
_IGNORED_CONFIG = {"model_source"}


@dataclass(frozen=True)
class RunColumn:
    run_id: int
    progress: RunProgress
    test: RunScores | None
    validation_macro_f1: float | None
    train_samples: int | None
    reviews_read: int | None


@dataclass(frozen=True)
class Comparison:
    runs: list[RunColumn]
    config_differences: dict[str, list[Any]]  # key -> value per run, only keys that differ


def compare_runs(db: Database, run_ids: list[int]) -> Comparison:
    if len(run_ids) < 2:
        raise InvalidInputError("Pick two or more runs to compare.")
    columns = []
    for run_id in run_ids:
        progress = run_progress(db, run_id)
        records = scored_records(db, run_id, RunPart.TEST)
        test = scores_of(records, run_labels(db, run_id)) if records else None
        columns.append(
            RunColumn(
                run_id=run_id,
                progress=progress,
                test=test,
                validation_macro_f1=(progress.metrics.get("validation") or {}).get("macro_f1"),
                train_samples=progress.metrics.get("train_samples"),
                reviews_read=progress.metrics.get("reviews_read"),
            )
        )
    keys = sorted({key for column in columns for key in column.progress.config} - _IGNORED_CONFIG)
    differences: dict[str, list[Any]] = {
        key: [column.progress.config.get(key) for column in columns]
        for key in keys
        if len({repr(column.progress.config.get(key)) for column in columns}) > 1
    }
    sources: list[Any] = [column.progress.summary.model_source for column in columns]
    if len(set(sources)) > 1:
        differences = {"model": sources, **differences}
    return Comparison(columns, differences)


@dataclass(frozen=True)
class Ensemble:
    scores: RunScores
    members: dict[int, RunScores]  # each member on exactly the same reviews


def ensemble_scores(db: Database, run_ids: list[int], part: RunPart = RunPart.TEST) -> Ensemble:
    """Average the members' probabilities per review, on the reviews every member was scored on."""
    if len(run_ids) < 2:
        raise InvalidInputError("An ensemble needs two or more runs.")
    labels = run_labels(db, run_ids[0])
    if any(run_labels(db, run_id) != labels for run_id in run_ids[1:]):
        raise InvalidInputError(
            "These runs predict different labels, so their probabilities cannot be averaged."
        )
    per_run = {run_id: {r.record_id: r for r in scored_records(db, run_id, part)} for run_id in run_ids}
    shared = set.intersection(*(set(records) for records in per_run.values()))
    if not shared:
        raise InvalidInputError(f"These runs share no {part.value} reviews to score together.")
    ordered = sorted(shared)
    # The label each review has in the newest member's split: the freshest ground truth of the group.
    truth = per_run[max(run_ids)]
    averaged = []
    for record_id in ordered:
        mean = np.mean(
            [[per_run[r][record_id].probabilities[label] for label in labels] for r in run_ids], axis=0
        )
        best = int(mean.argmax())
        base = truth[record_id]
        averaged.append(
            ScoredRecord(
                record_id=record_id,
                position=base.position,
                text=base.text,
                text_length=base.text_length,
                true_label=base.true_label,
                predicted_label=labels[best],
                confidence=float(mean[best]),
                probabilities={label: float(p) for label, p in zip(labels, mean, strict=True)},
            )
        )
    members = {}
    for run_id in run_ids:
        own = [per_run[run_id][record_id] for record_id in ordered]
        # Members are scored against the same truth as the ensemble.
        members[run_id] = scores_of(
            [
                ScoredRecord(
                    r.record_id,
                    r.position,
                    r.text,
                    r.text_length,
                    truth[r.record_id].true_label,
                    r.predicted_label,
                    r.confidence,
                    r.probabilities,
                )
                for r in own
            ],
            labels,
        )
    return Ensemble(scores_of(averaged, labels), members)
