"""Risk notice letters (网络风险提示函): risk points whose signals are rising, and risks foreseen by hand.

For each risk point that is not positive coverage, the items matched in the
last 24 hours are compared with the point's own baseline (the 14 days
before, 24 hours at a time) by ``events.spike_test``; a rising point gets
one notice record per local day,
with the figures and example items, for the report stage to render and send
to the responsible units.

``write_hand_notice`` is the other way in (关口前移): the office writes a
letter for a risk it sees coming before any signal rises -- a festival, a
demolition date, a policy about to take effect -- addressed to the units it
names. Both kinds are sent, acknowledged (回执) and tracked the same way
(``reports.risk_letter``), and either can open a case (origin ``risk_notice``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select

from yuqing_core.db.database import Database
from yuqing_core.db.models import Item, ItemAnalysis, Match, RiskNotice
from yuqing_core.db.upsert import insert_ignore
from yuqing_core.errors import InvalidInput, NotFound
from yuqing_core.events import spike_test
from yuqing_core.risk.signals import BASELINE_DAYS, SPIKE_WINDOW, risk_point_counts
from yuqing_core.risk.versions import ActiveLibrary, NoActiveLibrary, active_library
from yuqing_core.timeutil import SHANGHAI, utcnow

EXAMPLES = 5


@dataclass(frozen=True)
class NoticeRecord:
    risk_point: str
    day: str
    current: int
    expected: float
    p_value: float
    units: list[str]
    created: bool


def write_risk_notices(
    db: Database, library: ActiveLibrary, *, now: datetime | None = None, alpha: float = 0.01, min_count: int = 3
) -> list[NoticeRecord]:
    """A notice record for every risk point rising today (local day of ``now``); idempotent per day."""
    now = now or utcnow()
    points = [p for p in library.spec.risk_points if not p.positive]
    counts = risk_point_counts(db, [p.name for p in points], end=now, windows=BASELINE_DAYS + 1)
    local = now.astimezone(SHANGHAI)
    records, rows = [], []
    for point in points:
        series = counts[point.name]
        result = spike_test(series[:-1], series[-1], alpha=alpha, min_count=min_count)
        if not result.is_spike:
            continue
        with db.reader() as session:
            examples = list(
                session.scalars(
                    select(Item.id)
                    .join(Match, Match.item_id == Item.id)
                    .join(ItemAnalysis, and_(ItemAnalysis.item_id == Match.item_id, ItemAnalysis.version_id == Match.version_id))
                    .where(Match.risk_point_name == point.name, Item.published_at > now - SPIKE_WINDOW, Item.published_at <= now)
                    .distinct()
                    .order_by(Item.id)
                    .limit(EXAMPLES)
                )
            )
        rows.append(
            {
                "risk_point_name": point.name,
                "day": local.date().isoformat(),
                "origin": "signal",
                "version_id": library.version_id,
                "units": list(point.units),
                "current_count": result.current,
                "expected": result.expected,
                "p_value": result.p_value,
                "baseline": series[:-1],
                "example_item_ids": examples,
                "created_at": now,
            }
        )
        records.append((point, result))
    with db.writer() as session:
        created_ids = set(
            insert_ignore(
                session, RiskNotice.__table__, rows, conflict=("risk_point_name", "day", "origin"), returning="risk_point_name"
            )
        )
    return [
        NoticeRecord(
            point.name,
            local.date().isoformat(),
            result.current,
            result.expected,
            result.p_value,
            list(point.units),
            point.name in created_ids,
        )
        for point, result in records
    ]


MAX_SUBJECT_CHARS = 200  # risk_notices.risk_point_name


def write_hand_notice(
    db: Database,
    *,
    subject: str,
    units: list[str],
    body: str,
    actor: str,
    title: str | None = None,
    requirements: str | None = None,
    now: datetime | None = None,
) -> RiskNotice:
    """Record a 提示函 the office writes for a foreseen risk (关口前移); one per subject and local day.

    ``subject`` is a risk point's name or a short free subject; ``units`` are whom it is addressed
    to, in order. A second letter on the same subject the same day is refused (naming the first),
    so a retried command never writes two.
    """
    now = now or utcnow()
    subject, body = subject.strip(), body.strip()
    units = list(dict.fromkeys(unit.strip() for unit in units if unit.strip()))
    if not subject or len(subject) > MAX_SUBJECT_CHARS:
        raise InvalidInput(f"提示函须写明事项（--subject），不超过 {MAX_SUBJECT_CHARS} 字")
    if not units:
        raise InvalidInput("提示函须写明送达单位（--unit，可重复）")
    if not body:
        raise InvalidInput("提示函须写明预见的风险（--body）")
    try:
        version_id: int | None = active_library(db).version_id
    except NoActiveLibrary:
        version_id = None
    day = now.astimezone(SHANGHAI).date().isoformat()
    row = {
        "risk_point_name": subject, "day": day, "origin": "manual", "version_id": version_id, "units": units,
        "current_count": 0, "expected": 0.0, "p_value": 1.0, "baseline": [], "example_item_ids": [], "created_at": now,
        "title": (title or "").strip() or None, "body": body, "requirements": (requirements or "").strip() or None,
        "created_by": actor,
    }  # fmt: skip
    with db.writer() as session:
        created = insert_ignore(session, RiskNotice.__table__, [row], conflict=("risk_point_name", "day", "origin"))
        existing = session.scalar(
            select(RiskNotice).where(RiskNotice.risk_point_name == subject, RiskNotice.day == day, RiskNotice.origin == "manual")
        )
    if not created or existing is None:
        number = existing.id if existing is not None else "?"
        raise InvalidInput(f"今天已就“{subject}”写过提示函（编号 {number}）：请补充该函，或换一个事项名称")
    return existing


def get_risk_notice(db: Database, notice_id: int) -> RiskNotice:
    """The 提示函 record ``notice_id``; ``NotFound`` naming it otherwise."""
    with db.reader() as session:
        notice = session.get(RiskNotice, notice_id)
    if notice is None:
        raise NotFound(f"没有编号为 {notice_id} 的风险提示函")
    return notice


def list_risk_notices(db: Database, *, limit: int = 100) -> list[RiskNotice]:
    """Recent 提示函 records, newest first."""
    with db.reader() as session:
        return list(session.scalars(select(RiskNotice).order_by(RiskNotice.created_at.desc(), RiskNotice.id.desc()).limit(limit)))
