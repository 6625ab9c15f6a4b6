"""Document numbers (文号), sequential per kind and year, stable per subject.

>>> format_number("青舆专", 2026, 7)
'青舆专〔2026〕7号'
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from yuqing_core.db.database import Database
from yuqing_core.db.models import DocumentNumber
from yuqing_core.timeutil import utcnow

MAX_ATTEMPTS = 20


def format_number(prefix: str, year: int, number: int) -> str:
    return f"{prefix}〔{year}〕{number}号"


def allocate_number(db: Database, kind: str, year: int, subject: str, *, now: datetime | None = None) -> int:
    """The number of ``subject`` within (kind, year), allocating the next free one the first time.

    Safe under concurrency: two writers racing for the same next number
    collide on the unique constraint and the loser takes the one after.
    """
    now = now or utcnow()
    for _attempt in range(MAX_ATTEMPTS):
        with db.writer() as session:
            existing = session.scalar(
                select(DocumentNumber.number).where(
                    DocumentNumber.kind == kind, DocumentNumber.year == year, DocumentNumber.subject == subject
                )
            )
            if existing is not None:
                return existing
            number = (
                session.scalar(
                    select(func.max(DocumentNumber.number)).where(DocumentNumber.kind == kind, DocumentNumber.year == year)
                )
                or 0
            ) + 1
            try:
                with session.begin_nested():
                    session.add(DocumentNumber(kind=kind, year=year, subject=subject, number=number, created_at=now))
            except IntegrityError:
                continue  # someone took this number (or numbered this subject) meanwhile: look again
            return number
    raise RuntimeError(f"无法为 {kind} {subject} 分配文号：并发冲突过多")
