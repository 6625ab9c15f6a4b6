"""The working-day calendar behind supervision-case deadlines (督办期限).

Which days are working days:

- For the years the ``chinesecalendar`` package knows (2004-2026 in 1.11),
  its answer: public holidays are off and make-up working weekends (调休)
  are on.
- For a year the package does not know yet, Monday to Friday. Any answer
  that depended on such a day is marked *provisional*; once a newer package
  knows the year, computing it again gives the real answer
  (``WorkCalendar.recompute``).
- Local extra holidays and extra working days (a county's own days off or
  make-up days) override both. They do not make an unknown year known: an
  answer that looked at a day of that year is still provisional.

Counting (the same rule staff apply by hand, and the one
``yuqing calendar add-workdays DATE N`` prints)::

    cal = WorkCalendar(extra_holidays=[date(2026, 12, 31)])
    cal.add_workdays(date(2024, 9, 30), 3)     # WorkdayResult(date=2024-10-10, provisional=False)
    cal.add_workdays(date(2026, 12, 30), 1)    # WorkdayResult(date=2027-01-01, provisional=True)

``add_workdays(d, n)`` counts from the day after ``d``: ``n=1`` is the first
working day after ``d``. ``n=0`` is ``d`` itself if it is a working day,
else the next working day. Laws that hold (and are tested):

- ``add_workdays(add_workdays(d, n).date, m) == add_workdays(d, n + m)``
  for ``n >= 1`` (any ``m >= 0``) and for ``m == 0``; with ``n == 0`` and
  ``m >= 1`` it holds when ``d`` is a working day, and otherwise the left
  side equals ``add_workdays(d, m + 1)``: rolling a non-working ``d`` forward
  to its next working day uses up that day as "the start".
- ``workdays_between(d, add_workdays(d, n).date) == n`` for ``n >= 1``.

Deadlines. ``deadline(start, limit)`` turns the instant a case starts into
the instant it is due: the deadline *date* at the ``cutoff`` time (18:00 by
default) in the office's zone. The office's day ends at the cutoff: a case
that starts at or after the cutoff is dated the next calendar day, exactly as
if it had arrived early that next day. So a same-day case opened Monday
19:00 is due Tuesday 18:00, and one opened Friday 19:00 is due at the cutoff
of the next working day; with "N working days counted from the next day", a
case opened Friday 19:00 gets the same deadline as one opened on Saturday.
(Dating it "the next *working* day" instead would give a Friday-evening case
a later deadline than a Saturday-morning one; with this rule a later start
never gets an earlier deadline.)

Instances are immutable and share no mutable state, so one calendar may be
used from many threads; the package lookups are cached per date.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Literal

import chinese_calendar

from yuqing_core.errors import InvalidInput
from yuqing_core.timeutil import SHANGHAI

__all__ = ["Deadline", "TimeLimit", "WorkCalendar", "WorkdayResult", "parse_time_limit"]

_ONE_DAY = timedelta(days=1)
DEFAULT_CUTOFF = time(18, 0)

# About a year of working days: a longer limit is a typo, and would take the calendar past its end.
MAX_WORKING_DAYS = 250


@lru_cache(maxsize=16384)
def _package_workday(day: date) -> bool | None:
    """``chinesecalendar``'s answer for ``day``; None when the package has no data for its year."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def _plain_date(value: object, what: str) -> date:
    """``value`` as a calendar date; a datetime is refused (which zone's date would it be?)."""
    if isinstance(value, datetime):
        raise TypeError(f"{what} expects a date, not a datetime; take the local date of the instant first")
    if not isinstance(value, date):
        raise TypeError(f"{what} expects a date, got {type(value).__name__}")
    return value


def _config_date(value: object, what: str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(f"{what} 中的日期 {value!r} 无法识别（应为 2026-10-08 这样的日期）") from None
    return _plain_date(value, what)


@dataclass(frozen=True)
class WorkdayResult:
    """A date found by counting working days; ``provisional`` if a day looked at lies in a year the package does not know."""

    date: date
    provisional: bool


class WorkCalendar:
    """Working days: ``chinesecalendar`` where it knows the year, Monday-Friday elsewhere, local overrides on top."""

    __slots__ = ("_extra_holidays", "_extra_workdays")

    def __init__(self, extra_holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()) -> None:
        holidays = frozenset(_config_date(d, "本地节假日") for d in extra_holidays)
        workdays = frozenset(_config_date(d, "本地工作日") for d in extra_workdays)
        both = holidays & workdays
        if both:
            listed = "、".join(d.isoformat() for d in sorted(both))
            raise InvalidInput(f"以下日期同时配置为本地节假日和本地工作日，请只保留一处：{listed}")
        self._extra_holidays = holidays
        self._extra_workdays = workdays

    @property
    def extra_holidays(self) -> frozenset[date]:
        return self._extra_holidays

    @property
    def extra_workdays(self) -> frozenset[date]:
        return self._extra_workdays

    def __repr__(self) -> str:
        return f"WorkCalendar(extra_holidays={sorted(self._extra_holidays)!r}, extra_workdays={sorted(self._extra_workdays)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WorkCalendar):
            return NotImplemented
        return (self._extra_holidays, self._extra_workdays) == (other._extra_holidays, other._extra_workdays)

    def __hash__(self) -> int:
        return hash((self._extra_holidays, self._extra_workdays))

    # -- single days ---------------------------------------------------------

    def _status(self, day: date) -> tuple[bool, bool]:
        """(is a working day, the package knows the year)."""
        package = _package_workday(day)
        known = package is not None
        if day in self._extra_holidays:
            return False, known
        if day in self._extra_workdays:
            return True, known
        if package is None:
            return day.weekday() < 5, False
        return package, True

    def is_workday(self, d: date) -> bool:
        """Whether ``d`` is a working day (for an unknown year: Monday-Friday, unless overridden locally)."""
        return self._status(_plain_date(d, "is_workday"))[0]

    def is_known(self, d: date) -> bool:
        """Whether the package has the holiday schedule of ``d``'s year (local overrides do not count)."""
        return _package_workday(_plain_date(d, "is_known")) is not None

    # -- counting ------------------------------------------------------------

    def _nth_workday_from(self, first: date, n: int) -> WorkdayResult:
        """The ``n``-th working day (n >= 1) among ``first``, ``first + 1``, ..."""
        day, provisional = first, False
        while True:
            working, known = self._status(day)
            provisional = provisional or not known
            if working:
                n -= 1
                if n == 0:
                    return WorkdayResult(day, provisional)
            day += _ONE_DAY

    def add_workdays(self, start: date, n: int) -> WorkdayResult:
        """The date ``n`` working days after ``start``, counting from the next day.

        ``n=1`` is the first working day after ``start``; ``n=0`` is ``start``
        if it is a working day, else the next working day.
        """
        start = _plain_date(start, "add_workdays")
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"add_workdays expects an int number of days, got {type(n).__name__}")
        if n < 0:
            raise InvalidInput(f"工作日数不能为负数：{n}")
        if n == 0:
            return self._nth_workday_from(start, 1)
        return self._nth_workday_from(start + _ONE_DAY, n)

    def next_workday(self, d: date, *, include_today: bool = True) -> WorkdayResult:
        """The first working day on or after ``d`` (strictly after it with ``include_today=False``)."""
        return self.add_workdays(d, 0 if include_today else 1)

    def workdays_between(self, a: date, b: date) -> int:
        """How many working days lie in ``(a, b]``; 0 if ``b <= a``. "Overdue by N working days"."""
        a, b = _plain_date(a, "workdays_between"), _plain_date(b, "workdays_between")
        count, day = 0, a + _ONE_DAY
        while day <= b:
            count += self._status(day)[0]
            day += _ONE_DAY
        return count

    # -- deadlines -----------------------------------------------------------

    def deadline(
        self,
        start: datetime,
        limit: TimeLimit,
        *,
        tz: tzinfo = SHANGHAI,
        cutoff: time = DEFAULT_CUTOFF,
    ) -> Deadline:
        """When a case that starts at ``start`` is due under ``limit``.

        The local date of ``start`` (in ``tz``) is day 0, except that a start
        at or after ``cutoff`` is dated the next calendar day. The deadline is
        the deadline date at ``cutoff`` local time:

        - ``same_day``: day 0 if it is a working day, else the next working day;
        - ``working_days`` counted from the next day: ``add_workdays(day 0, days)``;
        - ``working_days`` counted from the same day: the first working day on
          or after day 0 is day 1.
        """
        if not isinstance(start, datetime) or start.utcoffset() is None:
            raise ValueError(f"deadline() needs a timezone-aware start, got {start!r}")
        if cutoff.tzinfo is not None:
            raise ValueError("cutoff is a local wall-clock time; give it without a zone (the zone is tz)")
        local = start.astimezone(tz)
        day0 = local.date()
        if local.time() >= cutoff:
            day0 += _ONE_DAY
        if limit.kind == "same_day":
            due = self.next_workday(day0)
        elif limit.counting == "next_day":
            due = self.add_workdays(day0, limit.days)
        else:
            first = self.next_workday(day0)
            last = self.add_workdays(first.date, limit.days - 1)
            due = WorkdayResult(last.date, first.provisional or last.provisional)
        return Deadline(datetime.combine(due.date, cutoff, tzinfo=tz), due.provisional)

    def recompute(
        self,
        deadline: Deadline,
        start: datetime,
        limit: TimeLimit,
        *,
        tz: tzinfo = SHANGHAI,
        cutoff: time = DEFAULT_CUTOFF,
    ) -> Deadline:
        """``deadline`` computed again (for provisional ones, once the package knows the year); the same object if unchanged."""
        fresh = self.deadline(start, limit, tz=tz, cutoff=cutoff)
        return deadline if fresh == deadline else fresh


# -- time limits ---------------------------------------------------------------

_KINDS = ("same_day", "working_days")
_COUNTINGS = ("next_day", "same_day")


@dataclass(frozen=True)
class TimeLimit:
    """How long a case type has: the same day, or ``days`` working days.

    ``counting`` applies to working days: ``next_day`` (the default) counts
    from the day after the start; ``same_day`` lets the start day count as
    day 1 when it is a working day and the case arrives before the cutoff.
    It is ignored for ``same_day`` limits.
    """

    kind: Literal["same_day", "working_days"]
    days: int = 0
    counting: Literal["next_day", "same_day"] = "next_day"

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InvalidInput(f"办理时限类型 {self.kind!r} 无法识别（应为 same_day 或 working_days）")
        if self.counting not in _COUNTINGS:
            raise InvalidInput(f"起算方式 {self.counting!r} 无法识别（应为 next_day 次日起算 或 same_day 当日起算）")
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise InvalidInput(f"工作日数应为整数，而不是 {self.days!r}")
        if self.kind == "same_day" and self.days != 0:
            raise InvalidInput(f"当日办结的时限不带工作日数（得到 {self.days}）")
        if self.kind == "working_days" and self.days < 1:
            raise InvalidInput(f"工作日数应为正整数（得到 {self.days}）；当日办结请写 same_day 或 当日")

    def __str__(self) -> str:
        if self.kind == "same_day":
            return "当日"
        return f"{self.days}个工作日（{'次日' if self.counting == 'next_day' else '当日'}起算）"


_HINT = (
    '应为 same_day（当日）、工作日数（如 3、"3个工作日"、"3 working days"），'
    "或 {working_days: 13, counting: next_day}（counting：next_day 次日起算，same_day 当日起算）"
)
_SAME_DAY_WORDS = frozenset({"same_day", "same day", "当日", "当天", "当日办结"})
_WORKING_DAYS = re.compile(r"(\d+)\s*(?:个?\s*工作日|working\s+days?)?")
_COUNTING_WORDS: dict[str, Literal["next_day", "same_day"]] = {
    "next_day": "next_day",
    "次日": "next_day",
    "次日起算": "next_day",
    "same_day": "same_day",
    "当日": "same_day",
    "当日起算": "same_day",
}


def _text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).lower()


def _days(value: object, original: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        days = value
    elif isinstance(value, str) and (written := _WORKING_DAYS.fullmatch(_text(value))):
        days = int(written.group(1))
    else:
        raise InvalidInput(f"无法识别的办理时限 {original!r}：工作日数 {value!r} 不是整数。{_HINT}")
    if days < 1:
        raise InvalidInput(f"无法识别的办理时限 {original!r}：工作日数应为正整数。当日办结请写 same_day 或 当日")
    if days > MAX_WORKING_DAYS:
        raise InvalidInput(f"办理时限 {original!r} 太长：最多 {MAX_WORKING_DAYS} 个工作日")
    return days


def _counting(value: object, original: object) -> Literal["next_day", "same_day"]:
    counting = _COUNTING_WORDS.get(_text(value)) if isinstance(value, str) else None
    if counting is None:
        raise InvalidInput(
            f"无法识别的办理时限 {original!r}：起算方式 {value!r} 应为 next_day（次日起算）或 same_day（当日起算）"
        )
    return counting


def parse_time_limit(value: str | int | Mapping[str, Any] | TimeLimit) -> TimeLimit:
    """A case type's time limit as written in configuration.

    >>> parse_time_limit("当日")
    TimeLimit(kind='same_day', days=0, counting='next_day')
    >>> parse_time_limit("3个工作日")
    TimeLimit(kind='working_days', days=3, counting='next_day')
    >>> parse_time_limit({"working_days": 13, "counting": "next_day"})
    TimeLimit(kind='working_days', days=13, counting='next_day')

    Also ``3``, ``"3"``, ``"3 working days"`` and the stored form
    ``{"kind": ..., "days": ..., "counting": ...}``. Anything else is a
    ValueError in Chinese saying what is accepted. Calendar days ("3天") are
    refused on purpose: they are not working days.
    """
    if isinstance(value, TimeLimit):
        return value
    if isinstance(value, bool):
        raise InvalidInput(f"无法识别的办理时限 {value!r}：{_HINT}")
    if isinstance(value, int):
        return TimeLimit("working_days", _days(value, value))
    if isinstance(value, str):
        text = _text(value)
        if text in _SAME_DAY_WORDS:
            return TimeLimit("same_day")
        if _WORKING_DAYS.fullmatch(text):
            return TimeLimit("working_days", _days(text, value))
        raise InvalidInput(f"无法识别的办理时限 {value!r}：{_HINT}")
    if isinstance(value, Mapping):
        keys = set(value)
        counting = _counting(value["counting"], value) if "counting" in value else "next_day"
        if keys <= {"working_days", "counting"} and "working_days" in keys:
            return TimeLimit("working_days", _days(value["working_days"], value), counting)
        if keys <= {"kind", "days", "counting"} and "kind" in keys:
            kind = value["kind"]
            if kind == "same_day":
                if value.get("days", 0) not in (0, None):
                    raise InvalidInput(f"无法识别的办理时限 {value!r}：当日办结的时限不带工作日数")
                return TimeLimit("same_day", 0, counting)
            if kind == "working_days":
                return TimeLimit("working_days", _days(value.get("days"), value), counting)
            raise InvalidInput(f"无法识别的办理时限 {value!r}：kind 应为 same_day 或 working_days")
        raise InvalidInput(f"无法识别的办理时限 {value!r}：{_HINT}")
    raise InvalidInput(f"无法识别的办理时限 {value!r}：{_HINT}")


@dataclass(frozen=True)
class Deadline:
    """When a case is due: an aware instant in the office's zone, and whether the calendar was provisional."""

    at: datetime
    provisional: bool

    def __post_init__(self) -> None:
        if self.at.utcoffset() is None:
            raise ValueError(f"a deadline is an aware instant, got {self.at!r}")
