"""How units do with their cases, and the cases section of the daily report.

Per lead unit: the on-time closure rate (closed cases answered by their
deadline, over closed cases), the average handling time (dispatch to
answer, in days) and the count of cases overdue now.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from yuqing_core.cases.states import OPEN_STATES, STATE_LABELS
from yuqing_core.db.database import Database
from yuqing_core.db.models import Case
from yuqing_core.timeutil import SHANGHAI


@dataclass(frozen=True)
class CaseLine:
    number: str  # 督〔2026〕17号
    title: str
    lead_unit: str
    state_label: str
    deadline: datetime | None
    overdue_days: int = 0


@dataclass(frozen=True)
class UnitMetric:
    unit: str
    on_time_rate: float | None  # 0..1, None when nothing closed yet
    average_handling_days: float | None
    overdue: int


@dataclass(frozen=True)
class CaseSection:
    """Supervision cases of the day. ``available`` is False until the cases stage exists."""

    available: bool
    note: str = ""
    opened: tuple[CaseLine, ...] = ()
    answered: tuple[CaseLine, ...] = ()
    overdue: tuple[CaseLine, ...] = ()
    closed: tuple[CaseLine, ...] = ()
    reprimands: tuple[CaseLine, ...] = ()  # listed for public reprimand (通报)
    unit_metrics: tuple[UnitMetric, ...] = ()


def _answered_on_time(case: Case) -> bool:
    """Whether a closed case was answered (or, never answered, closed) by its deadline; no deadline is on time."""
    if case.deadline_at is None:
        return True
    answered = case.returned_at or case.closed_at
    return answered is not None and answered <= case.deadline_at


def unit_metrics(cases: list[Case], now: datetime) -> tuple[UnitMetric, ...]:
    by_unit: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_unit[case.lead_unit].append(case)
    metrics = []
    for unit, owned in sorted(by_unit.items()):
        closed = [c for c in owned if c.state == "closed"]
        on_time = [c for c in closed if _answered_on_time(c)]
        handling_s = [(c.returned_at - c.dispatched_at).total_seconds() for c in owned if c.returned_at and c.dispatched_at]
        overdue = [c for c in owned if c.state in OPEN_STATES and c.deadline_at is not None and c.deadline_at < now]
        metrics.append(
            UnitMetric(
                unit=unit,
                on_time_rate=len(on_time) / len(closed) if closed else None,
                average_handling_days=sum(handling_s) / len(handling_s) / 86400 if handling_s else None,
                overdue=len(overdue),
            )
        )
    return tuple(metrics)


def _line(case: Case, now: datetime) -> CaseLine:
    overdue_days = 0
    if case.state in OPEN_STATES and case.deadline_at is not None and case.deadline_at < now:
        # ``now`` is an exclusive end (the next midnight): count up to the day that ends there.
        last_day = (now - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
        overdue_days = (last_day - case.deadline_at.astimezone(SHANGHAI).date()).days
    return CaseLine(case.number, case.title, case.lead_unit, STATE_LABELS[case.state], case.deadline_at, overdue_days)


def case_section(db: Database, start: datetime, end: datetime) -> CaseSection:
    """Cases opened, answered, overdue and closed in [start, end); reprimands; unit metrics.

    Cases are few (hundreds a year in a county), so all of them are read.
    """
    with db.reader() as session:
        cases = list(session.scalars(select(Case).where(Case.created_at < end).order_by(Case.id)))

    def within(value: datetime | None) -> bool:
        return value is not None and start <= value < end

    open_at_end = [c for c in cases if c.state in OPEN_STATES]
    return CaseSection(
        available=True,
        opened=tuple(_line(c, end) for c in cases if within(c.created_at)),
        answered=tuple(_line(c, end) for c in cases if within(c.returned_at)),
        overdue=tuple(_line(c, end) for c in open_at_end if c.deadline_at is not None and c.deadline_at < end),
        closed=tuple(_line(c, end) for c in cases if within(c.closed_at)),
        reprimands=tuple(_line(c, end) for c in open_at_end if c.reprimand_listed_at is not None),
        unit_metrics=unit_metrics(cases, end),
    )


def case_line(case: Case, now: datetime) -> CaseLine:
    """One case as a report lists it, its overdue days counted up to ``now``."""
    return _line(case, now)
