"""Risk notice letters (网络风险提示函): risk points whose signals are rising.

For each risk point that is not positive coverage, the items matched in the
last 24 hours are compared with the point's own baseline (the 14 days
before, 24 hours at a time) by ``events.spike_test``; a rising point gets
one notice record per local day,
with the figures and example items, for the report stage to render and send
to the responsible units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select

from yuqing_core.db.database import Database
from yuqing_core.db.models import Item, ItemAnalysis, Match, RiskNotice
from yuqing_core.db.upsert import insert_ignore
from yuqing_core.events import spike_test
from yuqing_core.risk.signals import BASELINE_DAYS, SPIKE_WINDOW, risk_point_counts
from yuqing_core.risk.versions import ActiveLibrary
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
            insert_ignore(session, RiskNotice.__table__, rows, conflict=("risk_point_name", "day"), returning="risk_point_name")
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
