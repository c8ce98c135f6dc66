"""The suspicious-labels queue: likely label errors in a dataset, and what a person decided about each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from core.assist.label_issues import (
    MIN_PER_LABEL,
    estimated_issue_count,
    find_issues,
    out_of_sample_probabilities,
)
from core.db import Database
from core.final_labels import final_labels
from core.models import LabelCheck, Record, utcnow
from core.services.agreement import adjudicate
from core.services.duplicates import set_aside_ids
from core.services.suggestions import Suggester


@dataclass(frozen=True)
class SuspiciousLabel:
    record_id: int
    position: int
    text: str
    given_label_id: int
    suggested_label_id: int
    quality: float  # how likely the given label is to the model that never saw this review, 0-1


@dataclass(frozen=True)
class LabelIssueReport:
    checked: int  # labeled, embedded reviews looked at
    flagged: int  # flagged as likely wrong, before people's decisions
    estimated_wrong: int  # cleanlab's estimate of how many labels are wrong
    issues: list[SuspiciousLabel]  # still to look at, least likely label first
    too_few: bool = False  # some label has fewer than MIN_PER_LABEL examples: nothing is flagged

    @property
    def estimated_error_share(self) -> float:
        return self.estimated_wrong / self.checked if self.checked else 0.0


@dataclass(frozen=True)
class LabelScores:
    """Every label the out-of-sample model doubts, before people's decisions: the costly part, which
    changes only when labels or embeddings do."""

    checked: int
    estimated_wrong: int
    doubted: list[SuspiciousLabel]
    too_few: bool = False


def score_labels(db: Database, suggester: Suggester, dataset_id: int) -> LabelScores:
    """Every final label (imported ones included: those are the ones nobody has looked at) scored by a
    fast model that never saw its review; the doubted ones, least likely label first."""
    view = suggester.view()
    finals = final_labels(db, dataset_id)
    row_of = {int(record_id): row for row, record_id in enumerate(view.record_ids)}
    aside = set_aside_ids(db, dataset_id)
    labeled = [
        (record_id, label)
        for record_id, label in finals.items()
        if record_id in row_of and record_id not in aside
    ]
    label_ids = sorted({label for _, label in labeled})
    index_of = {label_id: index for index, label_id in enumerate(label_ids)}
    y = [index_of[label] for _, label in labeled]
    if len(label_ids) < 2 or np.bincount(y).min() < MIN_PER_LABEL:
        return LabelScores(checked=len(labeled), estimated_wrong=0, doubted=[], too_few=True)
    vectors = view.vectors[[row_of[record_id] for record_id, _ in labeled]]
    probabilities = out_of_sample_probabilities(vectors, y)
    issues = find_issues(y, probabilities)
    record_ids = [labeled[issue.row][0] for issue in issues]
    with db.read() as session:
        texts = {
            row.id: (row.position, row.text)
            for row in session.execute(
                select(Record.id, Record.position, Record.text).where(Record.id.in_(record_ids))
            )
        }
    doubted = [
        SuspiciousLabel(
            record_id,
            *texts[record_id],
            given_label_id=labeled[issue.row][1],
            suggested_label_id=label_ids[issue.suggested],
            quality=issue.quality,
        )
        for issue, record_id in zip(issues, record_ids, strict=True)
    ]
    return LabelScores(
        checked=len(labeled), estimated_wrong=estimated_issue_count(y, probabilities), doubted=doubted
    )


def still_to_check(db: Database, scores: LabelScores) -> LabelIssueReport:
    """The doubted labels minus those a person kept while the model suggested what it suggests now."""
    with db.read() as session:
        kept = {
            check.record_id: (check.label_class_id, check.suggested_label_id)
            for check in session.scalars(
                select(LabelCheck).where(LabelCheck.record_id.in_([d.record_id for d in scores.doubted]))
            )
        }
    pending = [
        issue
        for issue in scores.doubted
        if kept.get(issue.record_id) != (issue.given_label_id, issue.suggested_label_id)
    ]
    return LabelIssueReport(
        checked=scores.checked,
        flagged=len(scores.doubted),
        estimated_wrong=scores.estimated_wrong,
        issues=pending,
        too_few=scores.too_few,
    )


def find_suspicious_labels(db: Database, suggester: Suggester, dataset_id: int) -> LabelIssueReport:
    return still_to_check(db, score_labels(db, suggester, dataset_id))


def keep_label(db: Database, issue: SuspiciousLabel, *, annotator_id: int | None) -> None:
    """The label is right after all: remember it, with what the model suggested, so it is not
    flagged again until the model suggests something else."""
    with db.write() as session:
        check = session.get(LabelCheck, issue.record_id)
        if check is None:
            check = LabelCheck(record_id=issue.record_id)
            session.add(check)
        check.label_class_id = issue.given_label_id
        check.suggested_label_id = issue.suggested_label_id
        check.annotator_id = annotator_id
        check.checked_at = utcnow()


def change_label(
    db: Database, issue: SuspiciousLabel, label_class_id: int, *, annotator_id: int | None
) -> None:
    """Settle the review's final label (an adjudication: it outranks every annotator's vote)."""
    adjudicate(db, record_id=issue.record_id, label_class_id=label_class_id, annotator_id=annotator_id)
