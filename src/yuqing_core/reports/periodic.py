"""舆情周报、月报、季报: a week, a month or a quarter in review (``reports.model.PeriodicReport``).

For one period (local days, Asia/Shanghai) against the period of the same kind just before: how
much was collected, about the county and sensitive, per day; the incidents (events at a warning
level) and how each was handled (warning status, official response and its timeliness, cases);
the response timeliness of every timed event (on time / late / missing / pending); cases opened,
answered, closed and overdue, and each lead unit's on-time rate over the period's cases; the risk
points that rose.

Periods are named the way people say them: ``2026-W48`` (ISO week, Monday to Sunday), ``2026-11``,
``2026-Q4``; or by any date inside (``2026-11-25``). Without one, the last complete period before
now: last week on a Monday morning, last month on the 1st, last quarter on the first day of a quarter.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from yuqing_core.cases.metrics import CaseSection, case_line, case_section, unit_metrics
from yuqing_core.cases.states import OPEN_STATES
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Case, EarlyWarning, Event
from yuqing_core.errors import InvalidInput
from yuqing_core.levels import Level
from yuqing_core.numbers import format_number
from yuqing_core.reports.data import (
    STATUS_LABELS,
    _library,
    _risk_points_in,
    day_window,
    event_summary,
    events_with_items_in,
    office,
    response_section,
    special_report_addressees,
    trend,
)
from yuqing_core.reports.model import (
    IncidentLine,
    PeriodicReport,
    PeriodTotals,
    ResponseSection,
    RiskPointChange,
    TrendPoint,
)
from yuqing_core.risk.explain import judgement_of
from yuqing_core.timeutil import format_local, utcnow

PERIOD_KINDS = ("weekly", "monthly", "quarterly")
NAMES = {"weekly": "舆情周报", "monthly": "舆情月报", "quarterly": "舆情季报"}
THIS_PERIOD = {"weekly": "本周", "monthly": "本月", "quarterly": "本季度"}
LAST_PERIOD = {"weekly": "上周", "monthly": "上月", "quarterly": "上季度"}
QUARTER_NAMES = "一二三四"
MAX_INCIDENTS = 20
MAX_RISK_POINTS = 15

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A week, month or quarter of local days: ``first`` to ``last`` inclusive."""

    kind: str
    first: date
    last: date
    year: int  # the ISO year for weeks
    index: int  # week, month or quarter number in the year

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        """2026年第48周（11月23日至11月29日）, 2026年11月, 2026年第四季度."""
        if self.kind == "weekly":
            return (f"{self.year}年第{self.index}周（{self.first.month}月{self.first.day}日至"
                    f"{self.last.month}月{self.last.day}日）")  # fmt: skip
        if self.kind == "monthly":
            return f"{self.year}年{self.index}月"
        return f"{self.year}年第{QUARTER_NAMES[self.index - 1]}季度"

    @property
    def span(self) -> str:
        """11月23日至11月29日"""
        return f"{self.first.month}月{self.first.day}日至{self.last.month}月{self.last.day}日"

    def before(self) -> Period:
        """The period of the same kind just before this one."""
        return period_containing(self.kind, self.first - timedelta(days=1))


def period_containing(kind: str, day: date) -> Period:
    """The week (Monday to Sunday), month or quarter ``day`` falls in."""
    if kind == "weekly":
        first = day - timedelta(days=day.weekday())
        iso = first.isocalendar()
        return Period(kind, first, first + timedelta(days=6), iso.year, iso.week)
    if kind == "monthly":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return Period(kind, first, following - timedelta(days=1), day.year, day.month)
    if kind == "quarterly":
        quarter = (day.month - 1) // 3 + 1
        first = date(day.year, 3 * quarter - 2, 1)
        following = date(day.year + 1, 1, 1) if quarter == 4 else date(day.year, 3 * quarter + 1, 1)
        return Period(kind, first, following - timedelta(days=1), day.year, quarter)
    raise InvalidInput(f"未知的报告周期 {kind!r}，可用：{'、'.join(PERIOD_KINDS)}")


def parse_period(kind: str, text: str | None, *, today: date) -> Period:
    """The period ``text`` names (``2026-W48``, ``2026-11``, ``2026-Q4`` or a date inside it); default the last complete one.

    >>> parse_period("weekly", "2026-W48", today=date(2026, 12, 2)).label
    '2026年第48周（11月23日至11月29日）'
    >>> parse_period("quarterly", None, today=date(2026, 10, 1)).label
    '2026年第三季度'
    """
    if kind not in PERIOD_KINDS:
        raise InvalidInput(f"未知的报告周期 {kind!r}，可用：{'、'.join(PERIOD_KINDS)}")
    if not text:
        return period_containing(kind, today).before()
    text = text.strip()
    try:
        if (week := _WEEK.match(text)) and kind == "weekly":
            return period_containing(kind, date.fromisocalendar(int(week.group(1)), int(week.group(2)), 1))
        if (month := _MONTH.match(text)) and kind == "monthly":
            return period_containing(kind, date(int(month.group(1)), int(month.group(2)), 1))
        if (quarter := _QUARTER.match(text)) and kind == "quarterly":
            return period_containing(kind, date(int(quarter.group(1)), 3 * int(quarter.group(2)) - 2, 1))
        return period_containing(kind, date.fromisoformat(text))
    except ValueError:
        pass
    examples = {"weekly": "2026-W48", "monthly": "2026-11", "quarterly": "2026-Q4"}[kind]
    raise InvalidInput(f"无法识别的报告期 {text!r}：请写成 {examples}，或写期内任一日期（如 2026-11-25）")


def _totals(db: Database, points: tuple[TrendPoint, ...], start: datetime, end: datetime) -> PeriodTotals:
    in_period = Event.id.in_(events_with_items_in(start, end))
    with db.reader() as session:
        events = session.scalar(select(func.count()).select_from(Event).where(in_period, Event.merged_into_id.is_(None)))
        warned = session.scalar(
            select(func.count()).select_from(Event).where(in_period, Event.merged_into_id.is_(None), Event.level.is_not(None))
        )
        warnings = session.scalar(
            select(func.count()).select_from(EarlyWarning).where(EarlyWarning.created_at >= start, EarlyWarning.created_at < end)
        )
    return PeriodTotals(
        items=sum(p.items for p in points), relevant=sum(p.relevant for p in points), sensitive=sum(p.sensitive for p in points),
        events=events or 0, warned=warned or 0, new_warnings=warnings or 0,
    )  # fmt: skip


def _risk_point_counts(db: Database, start: datetime, end: datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    for names in _risk_points_in(db, start, end).values():
        counts.update(names)
    return counts


def _response_labels(event: Event, tz: Any) -> tuple[str, str]:
    """How the event was answered: (按时 / 超时 / ..., 按时（2026-11-27 13:10）)."""
    timing = judgement_of(event).response
    if timing.first_signal_at is None:
        return "不计时效", "不计回应时效"
    status = timing.status_label if timing.status else ("已回应" if timing.first_response_at else "尚无回应")
    if timing.first_response_at is not None:
        return status, f"{status}（{format_local(timing.first_response_at, tz)}）"
    return status, status


def _incidents(db: Database, events: list[Event], library: Any, tz: Any) -> tuple[IncidentLine, ...]:
    warned = sorted((e for e in events if e.level is not None), key=lambda e: (e.level, -e.score, e.id))[:MAX_INCIDENTS]
    if not warned:
        return ()
    ids = [e.id for e in warned]
    with db.reader() as session:
        warnings = {w.event_id: w for w in session.scalars(select(EarlyWarning).where(EarlyWarning.event_id.in_(ids)))}
        warning_ids = [w.id for w in warnings.values()]
        cases = list(
            session.scalars(
                select(Case)
                .where(
                    or_(
                        (Case.origin_kind == "event") & Case.origin_id.in_(ids),
                        (Case.origin_kind == "warning") & Case.origin_id.in_(warning_ids or [-1]),
                    )
                )
                .order_by(Case.id)
            )
        )
    event_of_warning = {w.id: event_id for event_id, w in warnings.items()}
    now = utcnow()
    lines = []
    for event in warned:
        own = [
            c for c in cases
            if (c.origin_kind == "event" and c.origin_id == event.id)
            or (c.origin_kind == "warning" and event_of_warning.get(c.origin_id or -1) == event.id)
        ]  # fmt: skip
        warning = warnings.get(event.id)
        status, response = _response_labels(event, tz)
        lines.append(
            IncidentLine(
                event=event_summary(event, library),
                warning_status=STATUS_LABELS.get(warning.status, warning.status) if warning else "",
                response=response,
                response_status=status,
                cases=tuple(case_line(c, now) for c in own),
            )
        )
    return tuple(lines)


def _cases(db: Database, start: datetime, end: datetime) -> CaseSection:
    """The cases section of the period, each lead unit's on-time rate over the cases the period dealt with."""
    section = case_section(db, start, end)
    with db.reader() as session:
        cases = list(session.scalars(select(Case).where(Case.created_at < end).order_by(Case.id)))
    dealt_with = [
        c for c in cases
        if c.created_at >= start or (c.closed_at is not None and c.closed_at >= start) or c.state in OPEN_STATES
    ]  # fmt: skip
    return replace(section, unit_metrics=unit_metrics(dealt_with, end))


def _compared(current: int, previous: int, last: str) -> str:
    """（上周 42 条）: the figure of the period before, not a percentage of a small number."""
    return f"（{last} {previous} 条）" if previous != current else f"（与{last}持平）"


def _summary(kind: str, period: Period, totals: PeriodTotals, previous: PeriodTotals, responses: ResponseSection,
             incidents: tuple[IncidentLine, ...], cases: CaseSection, rising: tuple[RiskPointChange, ...]) -> str:  # fmt: skip
    this, last = THIS_PERIOD[kind], LAST_PERIOD[kind]
    if not totals.items:
        return (f"{this}（{period.span}）未采集到任何信息。请先核对信息源状态：没有信息不等于没有风险。"
                f"{last}采集信息 {previous.items} 条。")  # fmt: skip
    parts = [
        f"{this}（{period.span}）共采集信息 {totals.items} 条{_compared(totals.items, previous.items, last)}，"
        f"涉本县 {totals.relevant} 条，敏感信息 {totals.sensitive} 条{_compared(totals.sensitive, previous.sensitive, last)}。"
    ]
    if totals.events:
        levels = Counter(i.event.level for i in incidents)
        graded = "、".join(f"{Level(level).label} {levels[level]} 起" for level in sorted(lv for lv in levels if lv))
        parts.append(
            f"舆情事件 {totals.events} 起，其中达到预警级别 {totals.warned} 起" + (f"（{graded}）" if graded else "") + "。"
        )
    else:
        parts.append(f"{this}无舆情事件。")
    if responses.events:
        parts.append(
            f"需回应事件 {len(responses.events)} 起：按时 {responses.count('on_time')} 起，超时 {responses.count('late')} 起，"
            f"超过时限未回应 {responses.count('overdue')} 起，待回应 {responses.count('pending')} 起。"
        )
    parts.append(f"督办件新开 {len(cases.opened)} 件、办结 {len(cases.closed)} 件，期末超期未办结 {len(cases.overdue)} 件。")
    if rising:
        parts.append(f"较{last}上升的风险点：" + "、".join(f"{r.name}（{r.previous}→{r.current}）" for r in rising[:3]) + "。")
    return "".join(parts)


def build_periodic_report(
    db: Database, settings: Settings, kind: str, period: str | None = None, *, now: datetime | None = None
) -> PeriodicReport:
    """舆情周报 / 月报 / 季报 (``kind`` weekly | monthly | quarterly) for ``period`` (default: the last complete one)."""
    now = now or utcnow()
    tz = settings.tz
    chosen = parse_period(kind, period, today=now.astimezone(tz).date())
    earlier = chosen.before()
    start, end = day_window(chosen.first, tz)[0], day_window(chosen.last, tz)[1]
    earlier_start, earlier_end = day_window(earlier.first, tz)[0], start
    library = _library(db)
    points = trend(db, chosen.last, tz, days=chosen.days)
    totals = _totals(db, points, start, end)
    previous = _totals(db, trend(db, earlier.last, tz, days=earlier.days), earlier_start, earlier_end)
    with db.reader() as session:
        events = list(
            session.scalars(select(Event).where(Event.id.in_(events_with_items_in(start, end)), Event.merged_into_id.is_(None)))
        )
    current_points, earlier_points = _risk_point_counts(db, start, end), _risk_point_counts(db, earlier_start, earlier_end)
    by_point = sorted(
        (RiskPointChange(name, current_points[name], earlier_points[name], library.units([name]))
         for name in set(current_points) | set(earlier_points)),
        key=lambda r: (-r.current, -r.change, r.name),
    )  # fmt: skip
    # Positive coverage rising is good news, not a risk.
    rising = tuple(
        sorted(
            (r for r in by_point if r.change > 0 and not library.positive(r.name)), key=lambda r: (-r.change, -r.current, r.name)
        )
    )
    incidents = _incidents(db, events, library, tz)
    responses = response_section(events)
    cases = _cases(db, start, min(end, now))  # a period not over yet: cases as they stand now, not at its end
    number = format_number(office(settings).number_prefix(kind), chosen.year, chosen.index)
    return PeriodicReport(
        office=office(settings), number=number, kind=kind, name=NAMES[kind], period_label=chosen.label,
        period_start=start, period_end=end, generated_at=now, totals=totals, previous=previous, trend=points,
        incidents=incidents, response_section=responses, cases=cases, rising=rising[:MAX_RISK_POINTS],
        by_risk_point=tuple(by_point[:MAX_RISK_POINTS]),
        summary=_summary(kind, chosen, totals, previous, responses, incidents, cases, rising),
        recipients=special_report_addressees(settings),
    )  # fmt: skip
