"""The leaders' dashboard: the day's and the week's figures, open warnings, incidents, cases by unit, the trend.

Every figure comes from the daily report's own queries (``reports.data``), so
the dashboard for a day says what that day's 舆情日报 says: items collected
and sensitive items as the report counts them, events as the report's events
(those with an item published in the period), warnings by the level they were
raised at. The week is the seven local days ending with the day.

Example::

    board = leader_dashboard(db, settings, date(2026, 11, 27))
    board.today.items, board.week.sensitive
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from yuqing_core.cases.metrics import UnitMetric, unit_metrics
from yuqing_core.cases.service import list_cases
from yuqing_core.cases.states import OPEN_STATES
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import EarlyWarning, Event
from yuqing_core.levels import Level
from yuqing_core.reports.data import day_window, events_with_items_in, response_section, trend
from yuqing_core.reports.model import ResponseSection, TrendPoint
from yuqing_core.timeutil import utcnow

WEEK_DAYS = 7
# A warning still being worked on (not dismissed, not merged into another event's warning).
LIVE_WARNING_STATUSES = ("open", "acknowledged", "downgraded")


@dataclass(frozen=True)
class LevelCount:
    level: int
    label: str  # II级（重大）
    colour: str  # 橙色
    count: int


@dataclass(frozen=True)
class PeriodFigures:
    start: datetime
    end: datetime
    items: int  # collected (published in the period)
    sensitive: int
    events: int
    warnings: tuple[LevelCount, ...]  # raised in the period, by level, I first; every level listed

    @property
    def warnings_total(self) -> int:
        return sum(w.count for w in self.warnings)


@dataclass(frozen=True)
class UnitCases:
    unit: str
    open: int
    on_time: int  # open and not past the deadline
    overdue: int  # open and past the deadline
    on_time_rate: float | None  # closed cases answered by their deadline, over closed cases


@dataclass(frozen=True)
class LeaderDashboard:
    day: date
    today: PeriodFigures
    week: PeriodFigures
    open_warnings: tuple[LevelCount, ...]  # status 待处理, by effective level
    incidents: ResponseSection  # warned events seen this week, with their response timing
    cases: tuple[UnitCases, ...]
    trend: tuple[TrendPoint, ...]  # the daily report's trend: 14 days ending with ``day``


def _by_level(counts: Mapping[int, int]) -> tuple[LevelCount, ...]:
    return tuple(LevelCount(level.value, level.label, level.colour, counts.get(level.value, 0)) for level in Level)


def period_figures(db: Database, start: datetime, end: datetime, points: tuple[TrendPoint, ...]) -> PeriodFigures:
    """The figures of [start, end); ``points``: the trend's days in it (items and sensitive as the report counts them)."""
    with db.reader() as session:
        events = session.scalar(select(func.count()).select_from(events_with_items_in(start, end).subquery())) or 0
        raised = (
            select(EarlyWarning.level, func.count())
            .where(EarlyWarning.created_at >= start, EarlyWarning.created_at < end)
            .group_by(EarlyWarning.level)
        )
        levels = dict(session.execute(raised).all())
    return PeriodFigures(
        start=start, end=end, items=sum(p.items for p in points), sensitive=sum(p.sensitive for p in points),
        events=events, warnings=_by_level(levels),
    )  # fmt: skip


def open_warnings(db: Database) -> tuple[LevelCount, ...]:
    with db.reader() as session:
        waiting = (
            select(EarlyWarning.effective_level, func.count())
            .where(EarlyWarning.status == "open")
            .group_by(EarlyWarning.effective_level)
        )
        rows = dict(session.execute(waiting).all())
    return _by_level(rows)


def incidents(db: Database, since: datetime) -> ResponseSection:
    """Events with a live warning, seen since ``since``, with their 快速回应 timing (as in the daily report)."""
    with db.reader() as session:
        events = list(
            session.scalars(
                select(Event)
                .join(EarlyWarning, EarlyWarning.event_id == Event.id)
                .where(EarlyWarning.status.in_(LIVE_WARNING_STATUSES), Event.last_seen_at >= since)
                .order_by(Event.id)
            )
        )
    return response_section(events)


def cases_by_unit(db: Database, now: datetime) -> tuple[UnitCases, ...]:
    """Per lead unit: open cases on time and overdue now, and the on-time closure rate (``cases.metrics``)."""
    cases = list_cases(db)
    metrics: dict[str, UnitMetric] = {m.unit: m for m in unit_metrics(cases, now)}
    rows = []
    for unit, metric in metrics.items():
        open_count = sum(1 for c in cases if c.lead_unit == unit and c.state in OPEN_STATES)
        rows.append(UnitCases(unit, open_count, open_count - metric.overdue, metric.overdue, metric.on_time_rate))
    return tuple(sorted(rows, key=lambda r: (-r.overdue, -r.open, r.unit)))


def leader_dashboard(db: Database, settings: Settings, day: date, *, now: datetime | None = None) -> LeaderDashboard:
    """The dashboard for the local ``day`` (its week: the seven days ending with it); cases as of ``now``."""
    now = now or utcnow()
    tz: Any = settings.tz
    points = trend(db, day, tz)
    start, end = day_window(day, tz)
    week_start, _ = day_window(day - timedelta(days=WEEK_DAYS - 1), tz)
    return LeaderDashboard(
        day=day,
        today=period_figures(db, start, end, points[-1:]),
        week=period_figures(db, week_start, end, points[-WEEK_DAYS:]),
        open_warnings=open_warnings(db),
        incidents=incidents(db, week_start),
        cases=cases_by_unit(db, now),
        trend=points,
    )
