"""Agreement between annotators, the conflicts behind it, and adjudication of those conflicts."""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from core.db import Database
from core.errors import InvalidInputError, NotFoundError
from core.models import Adjudication, Annotation, Annotator, LabelClass, Record

CONFLICT_EXCERPT_CHARS = 300


@dataclass(frozen=True)
class PairAgreement:
    annotator_a: str
    annotator_b: str
    shared_records: int
    percent_agreement: float
    cohen_kappa: float | None  # None where kappa is undefined (e.g. both gave one label only)


@dataclass(frozen=True)
class Conflict:
    record_id: int
    position: int
    excerpt: str
    votes: list[tuple[str, str]]  # (annotator, label name)
    adjudicated_label_id: int | None


@dataclass(frozen=True)
class AgreementReport:
    annotators: list[str]
    multi_labeled_records: int
    percent_agreement: float | None
    fleiss_kappa: float | None
    fleiss_records: int
    fleiss_raters: int
    pairs: list[PairAgreement]
    conflicts: list[Conflict]


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def agreement_report(db: Database, dataset_id: int, *, include_imported: bool = False) -> AgreementReport:
    """Agreement among people (and, on request, imported labels) over records two or more labeled."""
    with db.read() as session:
        query = (
            select(Annotation.record_id, Annotator.name, Annotation.label_class_id)
            .join(Annotator, Annotator.id == Annotation.annotator_id)
            .join(Record, Record.id == Annotation.record_id)
            .where(Record.dataset_id == dataset_id)
        )
        if not include_imported:
            query = query.where(Annotator.is_system.is_(False))
        rows = session.execute(query).all()
        label_names = dict(
            session.execute(
                select(LabelClass.id, LabelClass.name).where(LabelClass.dataset_id == dataset_id)
            ).all()
        )
        by_record: dict[int, dict[str, int]] = defaultdict(dict)
        for record_id, annotator, label_id in rows:
            by_record[record_id][annotator] = label_id
        multi = {record_id: votes for record_id, votes in by_record.items() if len(votes) >= 2}
        conflict_ids = [record_id for record_id, votes in multi.items() if len(set(votes.values())) > 1]
        conflicts = _conflicts(session, conflict_ids, multi, label_names)

    annotators = sorted({name for votes in by_record.values() for name in votes}, key=str.lower)
    pairs = [_pair(a, b, multi) for a, b in itertools.combinations(annotators, 2)]
    fleiss, fleiss_records, raters = _fleiss(multi)
    agree = [len(set(votes.values())) == 1 for votes in multi.values()]
    return AgreementReport(
        annotators=annotators,
        multi_labeled_records=len(multi),
        percent_agreement=sum(agree) / len(agree) if agree else None,
        fleiss_kappa=fleiss,
        fleiss_records=fleiss_records,
        fleiss_raters=raters,
        pairs=[pair for pair in pairs if pair.shared_records],
        conflicts=conflicts,
    )


def _pair(a: str, b: str, multi: dict[int, dict[str, int]]) -> PairAgreement:
    shared = [(votes[a], votes[b]) for votes in multi.values() if a in votes and b in votes]
    if not shared:
        return PairAgreement(a, b, 0, 0.0, None)
    labels_a, labels_b = zip(*shared, strict=True)
    with warnings.catch_warnings():
        # Kappa is undefined when both annotators used a single label; sklearn warns (a RuntimeWarning,
        # and a UserWarning about the confusion matrix's shape) and returns nan, which _finite turns to None.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        kappa = cohen_kappa_score(labels_a, labels_b)
    agreement = sum(x == y for x, y in shared) / len(shared)
    return PairAgreement(a, b, len(shared), agreement, _finite(kappa))


def _fleiss(multi: dict[int, dict[str, int]]) -> tuple[float | None, int, int]:
    """Fleiss' kappa needs the same number of raters per record: use the most common count."""
    if not multi:
        return None, 0, 0
    raters = Counter(len(votes) for votes in multi.values()).most_common(1)[0][0]
    matrix = np.array([sorted(votes.values()) for votes in multi.values() if len(votes) == raters])
    counts, _categories = aggregate_raters(matrix)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        value = fleiss_kappa(counts, method="fleiss")
    return _finite(value), len(matrix), raters


def _conflicts(
    session: Session, record_ids: list[int], multi: dict[int, dict[str, int]], label_names: dict[int, str]
) -> list[Conflict]:
    if not record_ids:
        return []
    records = session.execute(
        select(Record.id, Record.position, Record.text)
        .where(Record.id.in_(record_ids))
        .order_by(Record.position)
    ).all()
    adjudicated = dict(
        session.execute(
            select(Adjudication.record_id, Adjudication.label_class_id).where(
                Adjudication.record_id.in_(record_ids)
            )
        ).all()
    )
    return [
        Conflict(
            record_id=record_id,
            position=position,
            excerpt=text if len(text) <= CONFLICT_EXCERPT_CHARS else text[: CONFLICT_EXCERPT_CHARS - 1] + "…",
            votes=sorted((who, label_names.get(label, "?")) for who, label in multi[record_id].items()),
            adjudicated_label_id=adjudicated.get(record_id),
        )
        for record_id, position, text in records
    ]


def adjudicate(db: Database, *, record_id: int, label_class_id: int | None, annotator_id: int | None) -> None:
    """Set (or with None, clear) the final label of a record; it outranks every annotation."""
    with db.write() as session:
        dataset_id = session.scalar(select(Record.dataset_id).where(Record.id == record_id))
        if dataset_id is None:
            raise NotFoundError("That review no longer exists.")
        if label_class_id is None:
            session.execute(delete(Adjudication).where(Adjudication.record_id == record_id))
            return
        if session.scalar(select(LabelClass.dataset_id).where(LabelClass.id == label_class_id)) != dataset_id:
            raise InvalidInputError("That label is not part of this dataset's label set. Reload the page.")
        existing = session.get(Adjudication, record_id)
        if existing is None:
            session.add(
                Adjudication(record_id=record_id, label_class_id=label_class_id, annotator_id=annotator_id)
            )
        else:
            existing.label_class_id = label_class_id
            existing.annotator_id = annotator_id
