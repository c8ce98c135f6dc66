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


def find_suspicious_labels(db: Database, suggester: Suggester, dataset_id: int) -> LabelIssueReport:
    """Every final label (imported ones included: those are the ones nobody has looked at) is scored
    out of sample; labels a person kept are left out until the model suggests something new."""
    view = suggester.view()
    finals = final_labels(db, dataset_id)
    row_of = {int(record_id): row for row, record_id in enumerate(view.record_ids)}
    labeled = [(record_id, label) for record_id, label in finals.items() if record_id in row_of]
    label_ids = sorted({label for _, label in labeled})
    if len(label_ids) < 2:
        return LabelIssueReport(checked=len(labeled), flagged=0, estimated_wrong=0, issues=[], too_few=True)
    index_of = {label_id: index for index, label_id in enumerate(label_ids)}
    y = [index_of[label] for _, label in labeled]
    if np.bincount(y).min() < MIN_PER_LABEL:
        return LabelIssueReport(checked=len(labeled), flagged=0, estimated_wrong=0, issues=[], too_few=True)
    vectors = view.vectors[[row_of[record_id] for record_id, _ in labeled]]
    probabilities = out_of_sample_probabilities(vectors, y)
    issues = find_issues(y, probabilities)
    record_ids = [labeled[issue.row][0] for issue in issues]
    with db.read() as session:
        kept = {
            check.record_id: check
            for check in session.scalars(select(LabelCheck).where(LabelCheck.record_id.in_(record_ids)))
        }
        texts = {
            row.id: (row.position, row.text)
            for row in session.execute(
                select(Record.id, Record.position, Record.text).where(Record.id.in_(record_ids))
            )
        }
    pending = []
    for issue, record_id in zip(issues, record_ids, strict=True):
        given, suggested = labeled[issue.row][1], label_ids[issue.suggested]
        check = kept.get(record_id)
        if check is not None and check.label_class_id == given and check.suggested_label_id == suggested:
            continue  # kept before, and the model still says the same
        position, text = texts[record_id]
        pending.append(SuspiciousLabel(record_id, position, text, given, suggested, issue.quality))
    return LabelIssueReport(
        checked=len(labeled),
        flagged=len(issues),
        estimated_wrong=estimated_issue_count(y, probabilities),
        issues=pending,
    )


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
