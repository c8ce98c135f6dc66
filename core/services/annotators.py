"""Who is labeling. People pick or add their name in the sidebar; no accounts, no passwords."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from core.db import Database
from core.errors import InvalidInputError
from core.models import Annotator

MAX_ANNOTATOR_NAME_CHARS = 80


@dataclass(frozen=True)
class AnnotatorInfo:
    id: int
    name: str
    is_system: bool


def list_annotators(db: Database, *, include_system: bool = False) -> list[AnnotatorInfo]:
    with db.read() as session:
        query = select(Annotator.id, Annotator.name, Annotator.is_system).order_by(func.lower(Annotator.name))
        if not include_system:
            query = query.where(Annotator.is_system.is_(False))
        return [AnnotatorInfo(*row) for row in session.execute(query)]


def add_annotator(db: Database, name: str) -> AnnotatorInfo:
    """Create an annotator, or return the existing one of that name (case-insensitive)."""
    clean = re.sub(r"\s+", " ", name).strip()
    if not clean:
        raise InvalidInputError("Type a name for the annotator.")
    if len(clean) > MAX_ANNOTATOR_NAME_CHARS:
        raise InvalidInputError(f"Names are limited to {MAX_ANNOTATOR_NAME_CHARS} characters.")
    with db.write() as session:
        existing = session.execute(
            select(Annotator.id, Annotator.name, Annotator.is_system).where(
                func.lower(Annotator.name) == clean.lower()
            )
        ).first()
        if existing is not None:
            if existing.is_system:
                raise InvalidInputError(f"“{clean}” is reserved for imported labels. Pick another name.")
            return AnnotatorInfo(*existing)
        annotator = Annotator(name=clean, is_system=False)
        session.add(annotator)
        session.flush()
        return AnnotatorInfo(annotator.id, annotator.name, annotator.is_system)
