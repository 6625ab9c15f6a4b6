"""The working-day calendar: known holiday schedules, unknown years, local overrides, counting laws, deadlines.

The holiday facts below are those of the State Council's annual notices
(国务院办公厅关于2024年/2025年/2026年部分节假日安排的通知) and are also
checked against ``chinesecalendar`` itself, so a package upgrade that
changed a published schedule would show up here.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing_core.cases import calendar as calendar_module
from yuqing_core.cases.calendar import Deadline, TimeLimit, WorkCalendar, WorkdayResult, parse_time_limit

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
THREE = TimeLimit("working_days", 3)
SAME_DAY = TimeLimit("same_day")
CJK = re.compile(r"[\u4e00-\u9fff]")


def d(text: str) -> date:
    return date.fromisoformat(text)


def span(first: str, last: str) -> list[date]:
    a, b = d(first), d(last)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def at(text: str, tz=SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


# -- known schedules -------------------------------------------------------------

# (days off, make-up working days) per holiday, as the State Council notices publish them.
SCHEDULES = {
    "National Day 2024": (span("2024-10-01", "2024-10-07"), [d("2024-09-29"), d("2024-10-12")]),
    "Mid-Autumn 2024": (span("2024-09-15", "2024-09-17"), [d("2024-09-14")]),
    "Spring Festival 2025": (span("2025-01-28", "2025-02-04"), [d("2025-01-26"), d("2025-02-08")]),
    "Labour Day 2025": (span("2025-05-01", "2025-05-05"), [d("2025-04-27")]),
    "National Day and Mid-Autumn 2025": (span("2025-10-01", "2025-10-08"), [d("2025-09-28"), d("2025-10-11")]),
    "New Year 2026": (span("2026-01-01", "2026-01-03"), [d("2026-01-04")]),
    "Spring Festival 2026": (span("2026-02-15", "2026-02-23"), [d("2026-02-14"), d("2026-02-28")]),
    "Labour Day 2026": (span("2026-05-01", "2026-05-05"), [d("2026-05-09")]),
    "Mid-Autumn 2026": (span("2026-09-25", "2026-09-27"), []),
    "National Day 2026": (span("2026-10-01", "2026-10-07"), [d("2026-09-20"), d("2026-10-10")]),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_published_holidays_and_make_up_days_are_honoured(name: str) -> None:
    off, on = SCHEDULES[name]
    for day in off:
        assert not CAL.is_workday(day), day
        assert chinese_calendar.is_holiday(day), day
    for day in on:
        assert day.weekday() >= 5, f"{day} is a make-up day, so a weekend"
        assert CAL.is_workday(day), day
        assert chinese_calendar.is_workday(day), day
    # the holiday is bounded by working days on both sides
    assert CAL.is_workday(min(off) - timedelta(days=1)) and CAL.is_workday(max(off) + timedelta(days=1))
    assert all(CAL.is_known(day) for day in off + on)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # National Day 2024: 10-01..07 off, 10-08 is day 1.
        ("2024-09-30", 3, "2024-10-10"),
        ("2024-09-27", 1, "2024-09-29"),  # Sat off, Sun 09-29 a make-up working day
        ("2024-09-29", 1, "2024-09-30"),
        ("2024-09-30", 1, "2024-10-08"),
        ("2024-10-08", 4, "2024-10-12"),  # Sat 10-12 a make-up working day
        ("2024-09-13", 1, "2024-09-14"),  # Mid-Autumn 2024: Sat 09-14 worked
        # Spring Festival 2025: Sun 01-26 and Sat 02-08 worked, 01-28..02-04 off.
        ("2025-01-20", 13, "2025-02-12"),
        ("2025-01-24", 1, "2025-01-26"),
        ("2025-01-27", 1, "2025-02-05"),
        ("2025-02-07", 1, "2025-02-08"),
        # Labour Day 2025: Sun 04-27 worked, 05-01..05 off.
        ("2025-04-25", 1, "2025-04-27"),
        ("2025-04-28", 5, "2025-05-08"),
        ("2025-04-30", 1, "2025-05-06"),
        # Spring Festival 2026: Sat 02-14 and Sat 02-28 worked, 02-15..23 off.
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-14", 1, "2026-02-24"),
        ("2026-02-24", 4, "2026-02-28"),
        # Mid-Autumn 2026 (09-25..27) and National Day 2026 (10-01..07); Sun 09-20 and Sat 10-10 worked.
        ("2026-09-18", 1, "2026-09-20"),
        ("2026-09-24", 1, "2026-09-28"),
        ("2026-09-30", 3, "2026-10-10"),
        ("2026-09-18", 13, "2026-10-13"),
        # n = 0: the day itself if it is a working day, else the next one.
        ("2024-10-08", 0, "2024-10-08"),
        ("2024-10-01", 0, "2024-10-08"),
        ("2024-09-29", 0, "2024-09-29"),
    ],
)
def test_add_workdays_by_hand(start: str, n: int, expected: str) -> None:
    assert CAL.add_workdays(d(start), n) == WorkdayResult(d(expected), provisional=False)


def test_workdays_between_counts_the_half_open_interval() -> None:
    assert CAL.workdays_between(d("2024-09-30"), d("2024-10-10")) == 3
    assert CAL.workdays_between(d("2024-09-27"), d("2024-09-29")) == 1
    assert CAL.workdays_between(d("2024-10-10"), d("2024-09-30")) == 0
    assert CAL.workdays_between(d("2024-10-10"), d("2024-10-10")) == 0
    assert CAL.workdays_between(d("2025-01-20"), d("2025-02-12")) == 13


def test_next_workday() -> None:
    assert CAL.next_workday(d("2024-10-01")) == WorkdayResult(d("2024-10-08"), False)
    assert CAL.next_workday(d("2024-10-08")) == WorkdayResult(d("2024-10-08"), False)
    assert CAL.next_workday(d("2024-10-08"), include_today=False) == WorkdayResult(d("2024-10-09"), False)
    assert CAL.next_workday(d("2024-09-28"), include_today=False) == WorkdayResult(d("2024-09-29"), False)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="负数"):
        CAL.add_workdays(d("2025-01-01"), -1)
    with pytest.raises(TypeError):
        CAL.add_workdays(d("2025-01-01"), True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a datetime"):
        CAL.is_workday(datetime(2025, 1, 1, tzinfo=SHANGHAI))  # which zone's date? the caller decides
    with pytest.raises(TypeError):
        CAL.add_workdays("2025-01-01", 1)  # type: ignore[arg-type]


# -- years the package does not know --------------------------------------------


def test_unknown_year_falls_back_to_monday_to_friday() -> None:
    assert not CAL.is_known(d("2027-01-01"))
    assert CAL.is_known(d("2026-12-31")) and CAL.is_known(d("2004-01-01"))
    assert not CAL.is_known(d("2003-12-31"))
    week = span("2027-01-04", "2027-01-10")  # Mon..Sun
    assert [CAL.is_workday(day) for day in week] == [True] * 5 + [False] * 2
    assert CAL.add_workdays(d("2027-01-04"), 3) == WorkdayResult(d("2027-01-07"), provisional=True)
    assert CAL.add_workdays(d("2027-01-08"), 1) == WorkdayResult(d("2027-01-11"), provisional=True)
    with pytest.raises(NotImplementedError):  # the fallback is ours, the package really does not know
        chinese_calendar.is_workday(d("2027-01-01"))


def test_crossing_into_an_unknown_year_is_provisional_and_staying_inside_is_not() -> None:
    # 2026-12-31 is a Thursday, 2027-01-01 a Friday (New Year's Day in reality, a working day in the fallback)
    assert CAL.add_workdays(d("2026-12-25"), 4) == WorkdayResult(d("2026-12-31"), provisional=False)
    assert CAL.add_workdays(d("2026-12-25"), 5) == WorkdayResult(d("2027-01-01"), provisional=True)
    assert CAL.add_workdays(d("2026-12-30"), 1) == WorkdayResult(d("2026-12-31"), provisional=False)
    assert CAL.add_workdays(d("2026-12-31"), 0) == WorkdayResult(d("2026-12-31"), provisional=False)
    assert CAL.add_workdays(d("2026-12-31"), 1).provisional
    assert CAL.next_workday(d("2026-12-31"), include_today=False).provisional
    assert not CAL.add_workdays(d("2026-09-18"), 13).provisional
    assert CAL.add_workdays(d("2003-12-30"), 3).provisional  # before the package's first year, too


def test_provisional_deadline_is_recomputed_once_the_year_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    start = at("2026-12-30T10:00")
    first = CAL.deadline(start, THREE)
    # 12-31 day 1, 01-01 day 2 (assumed a working day), Mon 01-04 day 3
    assert first == Deadline(at("2027-01-04T18:00"), provisional=True)
    assert CAL.recompute(first, start, THREE) is first  # nothing new known yet: the same object

    # A newer chinesecalendar that knows 2027 (New Year's Day off): recompute gives the real deadline.
    real = calendar_module._package_workday

    def knows_2027(day: date) -> bool | None:
        if day.year == 2027:
            return day.weekday() < 5 and day != date(2027, 1, 1)
        return real(day)

    monkeypatch.setattr(calendar_module, "_package_workday", knows_2027)
    again = CAL.recompute(first, start, THREE)
    assert again == Deadline(at("2027-01-05T18:00"), provisional=False)
    assert CAL.recompute(again, start, THREE) is again


# -- local overrides ---------------------------------------------------------------


def test_local_holidays_and_workdays_override_the_package() -> None:
    local = WorkCalendar(
        extra_holidays=[d("2026-12-31"), d("2025-03-03")],
        extra_workdays=[d("2024-10-05"), d("2025-03-08"), d("2027-01-09")],
    )
    assert not local.is_workday(d("2026-12-31")) and CAL.is_workday(d("2026-12-31"))
    assert not local.is_workday(d("2025-03-03"))  # an ordinary Monday, off locally
    assert local.is_workday(d("2024-10-05"))  # inside National Day, worked locally
    assert local.is_workday(d("2025-03-08"))  # a Saturday, worked locally
    assert local.is_workday(d("2027-01-09"))  # a Saturday of an unknown year
    assert not local.is_known(d("2027-01-09"))  # overrides do not make a year known
    assert local.add_workdays(d("2026-12-30"), 1) == WorkdayResult(d("2027-01-01"), provisional=True)
    assert local.add_workdays(d("2025-02-28"), 1) == WorkdayResult(d("2025-03-04"), provisional=False)
    assert local.add_workdays(d("2025-03-07"), 1) == WorkdayResult(d("2025-03-08"), provisional=False)
    assert local.add_workdays(d("2024-09-30"), 1) == WorkdayResult(d("2024-10-05"), provisional=False)
    # an examined day of an unknown year keeps the answer provisional even when overridden locally
    assert local.add_workdays(d("2027-01-08"), 1) == WorkdayResult(d("2027-01-09"), provisional=True)


def test_local_overrides_are_validated() -> None:
    with pytest.raises(ValueError, match=r"同时配置为本地节假日和本地工作日.*2026-12-31"):
        WorkCalendar(extra_holidays=[d("2026-12-31")], extra_workdays=[d("2026-12-31")])
    assert WorkCalendar(extra_holidays=["2026-12-31"]) == WorkCalendar(extra_holidays=[d("2026-12-31")])
    with pytest.raises(ValueError, match=r"本地节假日.*无法识别"):
        WorkCalendar(extra_holidays=["31/12/2026"])
    with pytest.raises(TypeError):
        WorkCalendar(extra_workdays=[datetime(2026, 12, 31)])


def test_a_calendar_is_shared_safely_between_threads() -> None:
    local = WorkCalendar(extra_holidays=[d("2025-03-03")])
    expected = [local.add_workdays(d("2025-01-01") + timedelta(days=i), 13) for i in range(200)]
    results: list[list[WorkdayResult]] = []

    def work() -> None:
        results.append([local.add_workdays(d("2025-01-01") + timedelta(days=i), 13) for i in range(200)])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 8


# -- properties --------------------------------------------------------------------

dates = st.dates(min_value=date(2004, 1, 1), max_value=date(2030, 12, 31))
counts = st.integers(min_value=0, max_value=60)
positive = st.integers(min_value=1, max_value=60)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    """The plain calendar, or one with random local days off and working days."""
    if draw(st.booleans()):
        return CAL
    holidays = draw(st.sets(dates, max_size=30))
    workdays = draw(st.sets(dates, max_size=30)) - holidays
    return WorkCalendar(extra_holidays=holidays, extra_workdays=workdays)


@settings(max_examples=300)
@given(calendars(), dates, counts)
def test_result_is_a_working_day_not_before_the_start(cal: WorkCalendar, start: date, n: int) -> None:
    result = cal.add_workdays(start, n)
    assert cal.is_workday(result.date)
    assert result.date > start if n >= 1 else result.date >= start
    assert cal.workdays_between(start, result.date) == (n if n >= 1 or cal.is_workday(start) else 1)
    # the days examined are (start, result] (or [start, result] for n = 0): provisional iff one is unknown
    first = start if n == 0 else start + timedelta(days=1)
    examined = [first + timedelta(days=i) for i in range((result.date - first).days + 1)]
    assert result.provisional == (not all(cal.is_known(day) for day in examined))


@settings(max_examples=300)
@given(calendars(), dates, positive, counts)
def test_adding_n_then_m_equals_adding_n_plus_m(cal: WorkCalendar, start: date, n: int, m: int) -> None:
    """Holds for n >= 1 and any m >= 0 (m = 0 returns a working day unchanged)."""
    first = cal.add_workdays(start, n)
    second = cal.add_workdays(first.date, m)
    both = cal.add_workdays(start, n + m)
    assert second.date == both.date
    assert (first.provisional or second.provisional) == both.provisional


@settings(max_examples=300)
@given(calendars(), dates, counts)
def test_what_holds_for_zero(cal: WorkCalendar, start: date, m: int) -> None:
    """add(add(d, 0), m) == add(d, m) when d is a working day or m == 0; else it equals add(d, m + 1).

    Proof: add(d, 0) is the first working day w >= d. If d works, w = d and there is nothing to
    show. Otherwise w = add(d, 1), and add(add(d, 1), m) = add(d, 1 + m) by the n >= 1 law; for
    m = 0, add(w, 0) = w because w is a working day.
    """
    rolled = cal.add_workdays(start, 0).date
    shift = 0 if m == 0 or cal.is_workday(start) else 1
    assert cal.add_workdays(rolled, m).date == cal.add_workdays(start, m + shift).date
    assert cal.add_workdays(cal.add_workdays(start, m).date, 0).date == cal.add_workdays(start, m).date
    assert cal.add_workdays(start, 0) == cal.next_workday(start)
    assert cal.add_workdays(start, 1) == cal.next_workday(start, include_today=False)


@settings(max_examples=300)
@given(calendars(), dates, counts, counts)
def test_monotonic_in_n(cal: WorkCalendar, start: date, n: int, m: int) -> None:
    low, high = sorted((n, m))
    a, b = cal.add_workdays(start, low).date, cal.add_workdays(start, high).date
    assert a <= b
    if 1 <= low < high:
        assert a < b


@settings(max_examples=300)
@given(calendars(), dates, dates, dates)
def test_workdays_between_is_additive(cal: WorkCalendar, x: date, y: date, z: date) -> None:
    a, b, c = sorted((x, y, z))
    assert cal.workdays_between(a, c) == cal.workdays_between(a, b) + cal.workdays_between(b, c)
    assert cal.workdays_between(c, a) == 0


@settings(max_examples=300)
@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)))
def test_known_years_agree_with_chinesecalendar(day: date) -> None:
    assert CAL.is_known(day)
    assert CAL.is_workday(day) == chinese_calendar.is_workday(day)


# -- time limits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("same_day", TimeLimit("same_day")),
        ("当日", TimeLimit("same_day")),
        (" 当天 ", TimeLimit("same_day")),
        ("Same Day", TimeLimit("same_day")),
        ("3", TimeLimit("working_days", 3)),
        (3, TimeLimit("working_days", 3)),
        ("3 working days", TimeLimit("working_days", 3)),
        ("1 working day", TimeLimit("working_days", 1)),
        ("3个工作日", TimeLimit("working_days", 3)),
        ("3 个工作日", TimeLimit("working_days", 3)),
        ("３个工作日", TimeLimit("working_days", 3)),  # full-width digit
        ({"working_days": 13, "counting": "next_day"}, TimeLimit("working_days", 13, "next_day")),
        ({"working_days": 13}, TimeLimit("working_days", 13)),
        ({"working_days": "5", "counting": "same_day"}, TimeLimit("working_days", 5, "same_day")),
        ({"working_days": 5, "counting": "当日起算"}, TimeLimit("working_days", 5, "same_day")),
        ({"kind": "working_days", "days": 3, "counting": "next_day"}, TimeLimit("working_days", 3)),
        ({"kind": "same_day", "days": 0, "counting": "next_day"}, TimeLimit("same_day")),
        (TimeLimit("working_days", 7), TimeLimit("working_days", 7)),
    ],
)
def test_parse_time_limit(value: object, expected: TimeLimit) -> None:
    assert parse_time_limit(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        0,
        -1,
        True,
        3.5,
        None,
        [3],
        "",
        "three",
        "三个工作日",
        "3天",
        "-3",
        "0个工作日",
        "3 calendar days",
        {},
        {"working_days": 0},
        {"working_days": 13, "counting": "tomorrow"},
        {"working_days": 3, "extra": 1},
        {"kind": "weeks", "days": 2},
        {"kind": "same_day", "days": 2},
        {"counting": "next_day"},
        {"working_days": True},
    ],
)
def test_parse_time_limit_refuses_with_a_chinese_message(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_time_limit(value)  # type: ignore[arg-type]
    assert CJK.search(str(caught.value)), str(caught.value)


def test_time_limit_checks_itself() -> None:
    for bad in ({"kind": "weeks"}, {"kind": "same_day", "days": 3}, {"kind": "working_days", "days": 0},
                {"kind": "working_days", "days": 3, "counting": "later"}):  # fmt: skip
        with pytest.raises(ValueError) as caught:
            TimeLimit(**bad)  # type: ignore[arg-type]
        assert CJK.search(str(caught.value))
    assert str(TimeLimit("working_days", 13)) == "13个工作日（次日起算）"
    assert str(SAME_DAY) == "当日"


# -- deadlines -----------------------------------------------------------------------


def test_deadline_cutoff() -> None:
    # Monday 2025-03-03; 3 working days counted from the next day: Thursday 18:00.
    assert CAL.deadline(at("2025-03-03T10:00"), THREE) == Deadline(at("2025-03-06T18:00"), False)
    assert CAL.deadline(at("2025-03-03T17:59:59"), THREE).at == at("2025-03-06T18:00")
    # at or after the cutoff the case is dated Tuesday: Friday 18:00
    assert CAL.deadline(at("2025-03-03T18:00"), THREE).at == at("2025-03-07T18:00")
    assert CAL.deadline(at("2025-03-03T23:30"), THREE).at == at("2025-03-07T18:00")
    # the start's zone does not matter, its local time in tz does
    assert CAL.deadline(datetime(2025, 3, 3, 9, 30, tzinfo=UTC), THREE).at == at("2025-03-06T18:00")  # 17:30 local
    assert CAL.deadline(datetime(2025, 3, 3, 10, 30, tzinfo=UTC), THREE).at == at("2025-03-07T18:00")  # 18:30 local
    assert CAL.deadline(datetime(2025, 3, 2, 16, 30, tzinfo=UTC), THREE).at == at("2025-03-06T18:00")  # Mon 00:30 local
    # a custom cutoff
    assert CAL.deadline(at("2025-03-03T17:45"), THREE, cutoff=time(17, 30)) == Deadline(at("2025-03-07T17:30"), False)


def test_deadline_after_cutoff_before_a_weekend_or_holiday() -> None:
    # Friday evening is dated Saturday: same deadline as a Saturday or Friday-morning start (never later than them).
    friday_evening = CAL.deadline(at("2025-03-07T19:00"), THREE)
    assert friday_evening == CAL.deadline(at("2025-03-08T10:00"), THREE) == CAL.deadline(at("2025-03-07T10:00"), THREE)
    assert friday_evening.at == at("2025-03-12T18:00")
    # the evening before National Day 2024
    assert CAL.deadline(at("2024-09-30T20:00"), THREE).at == at("2024-10-10T18:00")


def test_same_day_limit() -> None:
    assert CAL.deadline(at("2025-03-03T10:00"), SAME_DAY) == Deadline(at("2025-03-03T18:00"), False)
    assert CAL.deadline(at("2025-03-03T19:00"), SAME_DAY).at == at("2025-03-04T18:00")
    assert CAL.deadline(at("2025-03-07T19:00"), SAME_DAY).at == at("2025-03-10T18:00")  # Fri evening -> Monday
    assert CAL.deadline(at("2025-03-08T10:00"), SAME_DAY).at == at("2025-03-10T18:00")  # Saturday -> Monday
    assert CAL.deadline(at("2024-10-01T09:00"), SAME_DAY).at == at("2024-10-08T18:00")  # National Day -> 10-08
    assert CAL.deadline(at("2024-09-29T10:00"), SAME_DAY).at == at("2024-09-29T18:00")  # a make-up Sunday
    assert CAL.deadline(at("2024-09-27T19:00"), SAME_DAY).at == at("2024-09-29T18:00")  # Fri evening -> make-up Sunday
    assert CAL.deadline(at("2025-01-27T18:30"), SAME_DAY).at == at("2025-02-05T18:00")  # Spring Festival 2025


def test_same_day_counting_counts_the_start_day() -> None:
    counting_today = TimeLimit("working_days", 3, "same_day")
    assert CAL.deadline(at("2025-03-03T10:00"), counting_today).at == at("2025-03-05T18:00")  # Mon, Tue, Wed
    assert CAL.deadline(at("2025-03-03T19:00"), counting_today).at == at("2025-03-06T18:00")  # Tue, Wed, Thu
    assert CAL.deadline(at("2025-03-08T10:00"), counting_today).at == at("2025-03-12T18:00")  # Sat: Mon, Tue, Wed
    assert CAL.deadline(at("2025-03-03T10:00"), TimeLimit("working_days", 1, "same_day")).at == at("2025-03-03T18:00")


def test_complaint_across_spring_festival_2025() -> None:
    complaint = parse_time_limit({"working_days": 13, "counting": "next_day"})
    assert CAL.deadline(at("2025-01-20T10:00"), complaint) == Deadline(at("2025-02-12T18:00"), False)


def test_deadline_is_aware_in_the_office_zone() -> None:
    deadline = CAL.deadline(datetime(2025, 3, 3, 2, 0, tzinfo=UTC), THREE)
    assert deadline.at.tzinfo is SHANGHAI and deadline.at.utcoffset() == timedelta(hours=8)
    assert deadline.at == datetime(2025, 3, 6, 10, 0, tzinfo=UTC)
    in_utc = CAL.deadline(datetime(2025, 3, 3, 2, 0, tzinfo=UTC), THREE, tz=UTC)
    assert in_utc.at == datetime(2025, 3, 6, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.deadline(datetime(2025, 3, 3, 10, 0), THREE)
    with pytest.raises(ValueError):
        Deadline(datetime(2025, 3, 3, 10, 0), False)


def test_deadline_in_an_unknown_year_is_provisional() -> None:
    assert CAL.deadline(at("2027-03-01T10:00"), SAME_DAY) == Deadline(at("2027-03-01T18:00"), True)
    assert CAL.deadline(at("2026-12-31T10:00"), SAME_DAY) == Deadline(at("2026-12-31T18:00"), False)
    assert CAL.deadline(at("2026-12-31T19:00"), SAME_DAY) == Deadline(at("2027-01-01T18:00"), True)
    # counting from the same day looks at the start day too: here an unknown one (2003), though the due date is known
    local = WorkCalendar(extra_holidays=[d("2003-12-31")])
    counting_today = TimeLimit("working_days", 1, "same_day")
    assert local.deadline(at("2003-12-31T10:00"), counting_today) == Deadline(at("2004-01-02T18:00"), True)


zones = st.sampled_from([SHANGHAI, UTC, ZoneInfo("America/New_York"), timezone(timedelta(hours=-12))])
limits = st.one_of(
    st.just(SAME_DAY),
    st.builds(TimeLimit, st.just("working_days"), positive, st.sampled_from(["next_day", "same_day"])),
)
instants = st.datetimes(min_value=datetime(2004, 1, 2), max_value=datetime(2030, 12, 30), timezones=zones)
cutoffs = st.times()


@settings(max_examples=300)
@given(calendars(), instants, limits, cutoffs)
def test_deadline_is_a_working_day_at_the_cutoff_after_the_start(
    cal: WorkCalendar, start: datetime, limit: TimeLimit, cutoff: time
) -> None:
    deadline = cal.deadline(start, limit, cutoff=cutoff)
    local = deadline.at.astimezone(SHANGHAI)
    assert deadline.at.utcoffset() is not None
    assert cal.is_workday(local.date())
    assert local.time() == cutoff
    assert deadline.at > start
    # provisional iff a day the rule looked at lies in a year the package does not know
    office_day = start.astimezone(SHANGHAI).date() + timedelta(days=start.astimezone(SHANGHAI).time() >= cutoff)
    first = office_day + timedelta(days=limit.kind == "working_days" and limit.counting == "next_day")
    looked_at = [first + timedelta(days=i) for i in range((local.date() - first).days + 1)]
    assert deadline.provisional == (not all(cal.is_known(day) for day in looked_at))


@settings(max_examples=300)
@given(calendars(), instants, instants, limits)
def test_a_later_start_never_gets_an_earlier_deadline(cal: WorkCalendar, x: datetime, y: datetime, limit: TimeLimit) -> None:
    early, late = sorted((x, y))
    assert cal.deadline(early, limit).at <= cal.deadline(late, limit).at
