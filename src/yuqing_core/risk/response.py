"""快速回应, measured: when the public first raised an event, when an official source first answered,
and how many working hours that took against the risk library's target.

The risk library sets the targets (working hours per warning level) and the office hours that
count; every key is optional and these are the defaults::

    response:
      target_hours: {I: 2, II: 4, III: 8, IV: 24}    # working hours to the first official response
      office_hours: ["08:30-12:00", "14:30-17:30"]   # Asia/Shanghai; on working days only

The defaults follow the 快速回应 norms for government bodies (authoritative information on a major
incident within five hours, a routine matter answered within a few working days): I 特别重大
within 2 working hours, II 重大 within 4, III 较大 within 8 (about one working day), IV 一般
within 24 (under four working days of 6.5 office hours). Working days are the office's working-day calendar (``cases.calendar``:
Chinese public holidays and make-up working days, plus the cases file's local holidays), so a
signal on Friday evening is not "late" on Saturday.

* **first public signal** (首发): the earliest *problem item* of the event — an item that is not
  positive coverage and not an answer: not a response stance (official_response, debunk,
  resolution) from anyone, and nothing but a harm report from an official source (an official
  source's meeting notice or work report is not the public raising a matter);
* **first official response** (首次官方回应): the earliest item from an ``official`` source with a
  response stance. One published *before* the first signal is a proactive disclosure (主动发布):
  the authorities spoke first, so the delay is 0 and the response is on time;
* **delay**: working hours (office hours on working days) from signal to response, and clock hours;
* **status**: ``on_time`` (answered within the target), ``late`` (answered after it), ``overdue``
  (no answer and the target has passed), ``pending`` (no answer, target not yet passed), or
  ``None`` when there is no problem item, or no answer to an event below every warning level
  (answers to such events are timed against the IV target).

>>> from datetime import datetime, timezone
>>> cal = WeekdayCalendar()
>>> friday_evening = datetime(2026, 11, 27, 11, 0, tzinfo=timezone.utc)   # 19:00 Shanghai
>>> monday_10 = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)          # 10:00 Shanghai
>>> work_hours_between(friday_evening, monday_10, cal, ResponseSpec())
1.5
>>> timing = response_timing(
...     [(friday_evening, "public", "complaint"), (monday_10, "official", "official_response")],
...     level=4, now=monday_10, calendar=cal, spec=ResponseSpec())
>>> timing.status, timing.delay_work_h, timing.delay_clock_h
('on_time', 1.5, 63.0)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yuqing_core.errors import InvalidInput
from yuqing_core.risk.stance import RESPONSE_STANCES
from yuqing_core.timeutil import SHANGHAI

ResponseStatus = Literal["on_time", "late", "overdue", "pending"]
STATUS_LABELS: dict[str | None, str] = {
    "on_time": "按时",
    "late": "超时",
    "overdue": "未回应（已超时限）",
    "pending": "待回应",
    None: "不计时限",
}
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_ONE_DAY = timedelta(days=1)


class WorkdayCalendar(Protocol):
    """What response timing needs of a calendar (``cases.calendar.WorkCalendar`` is one)."""

    def is_workday(self, d: date) -> bool: ...


class WeekdayCalendar:
    """Monday to Friday: for doctests and callers without the office's calendar."""

    def is_workday(self, d: date) -> bool:
        return d.weekday() < 5


def parse_office_span(text: str) -> tuple[time, time]:
    """``"08:30-12:00"`` as two wall-clock times.

    >>> parse_office_span("14:30-17:30")
    (datetime.time(14, 30), datetime.time(17, 30))
    """
    match = _SPAN.match(text)
    if not match:
        raise InvalidInput(f"办公时段 {text!r} 的格式应为 08:30-12:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise InvalidInput(f"办公时段 {text!r} 不是有效的时刻")
    start, end = time(h1, m1), time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
    if start >= end:
        raise InvalidInput(f"办公时段 {text!r} 的结束应晚于开始")
    return start, end


class ResponseTargets(BaseModel):
    """Working hours to the first official response, per warning level."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    i: float = Field(2, alias="I", gt=0, le=240)
    ii: float = Field(4, alias="II", gt=0, le=240)
    iii: float = Field(8, alias="III", gt=0, le=240)
    iv: float = Field(24, alias="IV", gt=0, le=240)

    @model_validator(mode="after")
    def _severe_first(self) -> ResponseTargets:
        if not self.i <= self.ii <= self.iii <= self.iv:
            raise InvalidInput("回应时限应逐级放宽：I ≤ II ≤ III ≤ IV（工作小时）")
        return self

    def by_level(self) -> dict[int, float]:
        return {1: self.i, 2: self.ii, 3: self.iii, 4: self.iv}


class ResponseSpec(BaseModel):
    """The risk library's ``response`` section: targets and office hours."""

    model_config = ConfigDict(extra="forbid")

    target_hours: ResponseTargets = Field(default_factory=ResponseTargets)
    office_hours: list[str] = Field(default_factory=lambda: ["08:30-12:00", "14:30-17:30"], min_length=1)
    timezone: str = "Asia/Shanghai"

    @field_validator("office_hours")
    @classmethod
    def _spans(cls, value: list[str]) -> list[str]:
        spans = sorted(parse_office_span(v) for v in value)
        for (_, end), (start, _) in pairwise(spans):
            if start < end:
                raise InvalidInput("办公时段不应重叠")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from yuqing_core.timeutil import known_zone

        return known_zone(value)

    def spans(self) -> list[tuple[time, time]]:
        return list(_parsed_spans(tuple(self.office_hours)))

    def tz(self) -> tzinfo:
        from zoneinfo import ZoneInfo

        return SHANGHAI if self.timezone == "Asia/Shanghai" else ZoneInfo(self.timezone)

    def work_hours_per_day(self) -> float:
        """Office hours in one working day (6.5 by default)."""
        return sum(_seconds(start, end) for start, end in self.spans()) / 3600


def _seconds(start: time, end: time) -> float:
    return (datetime.combine(date.min, end) - datetime.combine(date.min, start)).total_seconds()


@lru_cache(maxsize=64)
def _parsed_spans(office_hours: tuple[str, ...]) -> tuple[tuple[time, time], ...]:
    return tuple(sorted(parse_office_span(v) for v in office_hours))


def _office_windows(day: date, spec: ResponseSpec, tz: tzinfo) -> Iterable[tuple[datetime, datetime]]:
    for start, end in _parsed_spans(tuple(spec.office_hours)):
        yield datetime.combine(day, start, tzinfo=tz), datetime.combine(day, end, tzinfo=tz)


def _overlap_seconds(
    day: date, start: datetime, end: datetime, calendar: WorkdayCalendar, spec: ResponseSpec, tz: tzinfo
) -> float:
    if not calendar.is_workday(day):
        return 0.0
    return sum(
        max(0.0, (min(end, close_at) - max(start, open_at)).total_seconds())
        for open_at, close_at in _office_windows(day, spec, tz)
    )


def work_hours_between(start: datetime, end: datetime, calendar: WorkdayCalendar, spec: ResponseSpec) -> float:
    """Office hours on working days in [start, end), rounded to 0.01; 0 if ``end <= start``.

    The first and last days are cut to the interval; every working day between counts whole.

    >>> from datetime import timezone
    >>> noon = datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc)   # Tuesday 12:00 Shanghai
    >>> work_hours_between(noon - timedelta(hours=2), noon + timedelta(hours=5), WeekdayCalendar(), ResponseSpec())
    4.5
    >>> work_hours_between(noon, noon + timedelta(days=14), WeekdayCalendar(), ResponseSpec())  # ten working days
    65.0
    """
    if end <= start:
        return 0.0
    tz = spec.tz()
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    seconds = _overlap_seconds(first, start, end, calendar, spec, tz)
    if last > first:
        seconds += _overlap_seconds(last, start, end, calendar, spec, tz)
        whole_day = spec.work_hours_per_day() * 3600
        day = first + _ONE_DAY
        while day < last:
            if calendar.is_workday(day):
                seconds += whole_day
            day += _ONE_DAY
    return round(seconds / 3600, 2)


MAX_SEARCH_DAYS = 400  # a target beyond a year of holidays is a configuration mistake, not a loop


def add_work_hours(start: datetime, hours: float, calendar: WorkdayCalendar, spec: ResponseSpec) -> datetime:
    """The instant ``hours`` office hours after ``start`` (a signal out of hours starts counting at the next opening).

    >>> from datetime import timezone
    >>> friday_evening = datetime(2026, 11, 27, 11, 0, tzinfo=timezone.utc)   # 19:00 Shanghai
    >>> add_work_hours(friday_evening, 4, WeekdayCalendar(), ResponseSpec()).astimezone(SHANGHAI).strftime("%a %H:%M")
    'Mon 15:00'
    """
    tz = spec.tz()
    remaining = hours * 3600
    day = start.astimezone(tz).date()
    for _ in range(MAX_SEARCH_DAYS):
        if calendar.is_workday(day):
            for open_at, close_at in _office_windows(day, spec, tz):
                begin = max(start, open_at)
                available = (close_at - begin).total_seconds()
                if available <= 0:
                    continue
                if remaining <= available:
                    return (begin + timedelta(seconds=remaining)).astimezone(UTC)
                remaining -= available
        day += _ONE_DAY
    raise InvalidInput(f"{MAX_SEARCH_DAYS} 天内找不到 {hours} 个工作小时：请检查工作日历与办公时段")


def is_problem_item(role: str | None, stance: str | None) -> bool:
    """Whether an item is a public signal of the problem (see the module docstring).

    >>> is_problem_item("public", "complaint"), is_problem_item("official", "other"), is_problem_item("official", "harm_report")
    (True, False, True)
    >>> is_problem_item("media", "debunk"), is_problem_item("public", "positive"), is_problem_item("public", None)
    (False, False, True)
    """
    if stance in RESPONSE_STANCES or stance == "positive":
        return False
    return role != "official" or stance == "harm_report"


def is_official_response(role: str | None, stance: str | None) -> bool:
    return role == "official" and stance in RESPONSE_STANCES


@dataclass(frozen=True)
class ResponseTiming:
    """What ``response_timing`` found; all times UTC-aware, hours rounded to 0.01."""

    first_signal_at: datetime | None
    first_response_at: datetime | None
    delay_work_h: float | None  # signal to response, or to ``now`` while there is no response
    delay_clock_h: float | None
    target_work_h: float | None
    due_at: datetime | None
    status: ResponseStatus | None
    proactive: bool = False  # the first official response came before the public signal (主动发布)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def overdue_by_work_h(self) -> float:
        """Working hours past the target (0 unless late or overdue)."""
        if self.delay_work_h is None or self.target_work_h is None or self.status not in ("late", "overdue"):
            return 0.0
        return round(max(0.0, self.delay_work_h - self.target_work_h), 2)

    def as_json(self) -> dict[str, Any]:
        return {
            "first_signal_at": self.first_signal_at.isoformat() if self.first_signal_at else None,
            "first_response_at": self.first_response_at.isoformat() if self.first_response_at else None,
            "delay_work_h": self.delay_work_h,
            "delay_clock_h": self.delay_clock_h,
            "target_work_h": self.target_work_h,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "status": self.status,
            "proactive": self.proactive,
        }

    def describe(self) -> str:
        """One line for reasons, reports and the CLI.

        >>> ResponseTiming(None, None, None, None, None, None, None).describe()
        '无群众诉求或风险信号，不计回应时效'
        """
        if self.first_signal_at is None:
            return "无群众诉求或风险信号，不计回应时效"
        if self.proactive and self.first_response_at is not None:
            return f"官方先于群众发声（主动发布，早于首发 {(self.first_signal_at - self.first_response_at).total_seconds() / 3600:.1f} 小时）：{self.status_label}"
        if self.first_response_at is not None and self.delay_work_h is not None:
            text = f"首次官方回应用时 {self.delay_work_h:g} 个工作小时（自然时长 {self.delay_clock_h:g} 小时）"
        elif self.delay_work_h is not None:
            text = f"尚无官方回应，已过 {self.delay_work_h:g} 个工作小时（自然时长 {self.delay_clock_h:g} 小时）"
        else:
            text = f"尚无官方回应（自然时长 {self.delay_clock_h:g} 小时）"
        if self.target_work_h is not None:
            text += f"，时限 {self.target_work_h:g} 个工作小时"
        return f"{text}：{self.status_label}"


def response_timing(
    items: Sequence[tuple[datetime, str | None, str | None]],
    *,
    level: int | None,
    now: datetime,
    calendar: WorkdayCalendar,
    spec: ResponseSpec,
) -> ResponseTiming:
    """First signal, first official response, delay and status of an event's ``(published_at, role, stance)`` items.

    ``level`` is the event's level before its response status is counted (the target depends on it).
    Below every level (``None``) an answer is timed against the IV target, and an unanswered event
    has no target and no status: it is not chased.

    >>> from datetime import timezone
    >>> t0 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)                 # Tuesday 09:00 Shanghai
    >>> rows = [(t0, "public", "rumour")]
    >>> response_timing(rows, level=2, now=t0 + timedelta(hours=1), calendar=WeekdayCalendar(), spec=ResponseSpec()).status
    'pending'
    >>> late = response_timing(rows, level=2, now=t0 + timedelta(hours=8), calendar=WeekdayCalendar(), spec=ResponseSpec())
    >>> late.status, late.delay_work_h, late.overdue_by_work_h
    ('overdue', 5.5, 1.5)

    An official statement before the first complaint is a proactive disclosure, on time:

    >>> early = response_timing([(t0 - timedelta(hours=2), "official", "official_response")] + rows,
    ...                         level=2, now=t0 + timedelta(hours=8), calendar=WeekdayCalendar(), spec=ResponseSpec())
    >>> early.status, early.proactive, early.delay_work_h
    ('on_time', True, 0.0)
    """
    ordered = sorted(items, key=lambda row: row[0])
    signal = next((at for at, role, stance in ordered if is_problem_item(role, stance)), None)
    if signal is None:
        return ResponseTiming(None, None, None, None, None, None, None)
    answer = next((at for at, role, stance in ordered if is_official_response(role, stance)), None)
    if answer is not None and answer < signal:  # 主动发布: the authorities spoke before anyone raised it
        hours = spec.target_hours.by_level()
        timed_by = hours[level] if level in hours else hours[4]
        return ResponseTiming(signal, answer, 0.0, 0.0, timed_by, add_work_hours(signal, timed_by, calendar, spec),
                              "on_time", proactive=True)  # fmt: skip
    until = answer if answer is not None else max(now, signal)
    delay_clock = round((until - signal).total_seconds() / 3600, 2)
    targets = spec.target_hours.by_level()
    # An answer is timed against the event's level, or the most lenient target (IV) below every level;
    # an unanswered event below every level is not chased (nor is its wait counted in working hours).
    target = targets[level] if level in targets else (targets[4] if answer is not None else None)
    delay_work = work_hours_between(signal, until, calendar, spec) if target is not None else None
    status: ResponseStatus | None = None
    due = add_work_hours(signal, target, calendar, spec) if target is not None else None
    if target is not None and due is not None:
        if answer is not None:
            status = "on_time" if answer <= due else "late"
        else:
            status = "overdue" if now > due else "pending"
    return ResponseTiming(signal, answer, delay_work, delay_clock, target, due, status)
