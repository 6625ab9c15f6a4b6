"""快速回应 timing (risk/response.py) on the real 2026 calendar: weekends, National Day, make-up working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from yuqing_core.cases.calendar import WorkCalendar
from yuqing_core.risk.library import load_library_file
from yuqing_core.risk.response import (
    ResponseSpec,
    add_work_hours,
    is_problem_item,
    response_timing,
    work_hours_between,
)
from yuqing_core.timeutil import SHANGHAI
from yuqing_core.yamlfile import ConfigFileError

CALENDAR = WorkCalendar()
SPEC = ResponseSpec()


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def timing(*rows: tuple[datetime, str, str], level: int | None = 4, now: datetime | None = None, calendar=CALENDAR):
    return response_timing(list(rows), level=level, now=now or rows[-1][0], calendar=calendar, spec=SPEC)


def test_office_hours_on_a_weekday() -> None:
    assert work_hours_between(local(2026, 12, 1, 8), local(2026, 12, 1, 20), CALENDAR, SPEC) == 6.5
    assert work_hours_between(local(2026, 12, 1, 11), local(2026, 12, 1, 15), CALENDAR, SPEC) == 1.5  # lunch does not count
    assert work_hours_between(local(2026, 12, 1, 15), local(2026, 12, 1, 11), CALENDAR, SPEC) == 0


def test_a_weekend_counts_nothing_and_clock_hours_are_shown_beside() -> None:
    result = timing(
        (local(2026, 11, 27, 17), "public", "complaint"),  # Friday 17:00
        (local(2026, 11, 30, 9), "official", "official_response"),  # Monday 09:00
    )
    assert (result.delay_work_h, result.delay_clock_h, result.status) == (1.0, 64.0, "on_time")
    assert result.describe() == "首次官方回应用时 1 个工作小时（自然时长 64 小时），时限 24 个工作小时：按时"


def test_national_day_holidays_do_not_count() -> None:
    # 2026: 1-7 October off; Wednesday 30 September 17:00 to Thursday 8 October 09:30.
    result = timing((local(2026, 9, 30, 17), "public", "rumour"), (local(2026, 10, 8, 9, 30), "official", "debunk"), level=2)
    assert result.delay_work_h == 1.5  # 17:00-17:30, then 08:30-09:30
    assert result.delay_clock_h == 7 * 24 + 16.5
    assert result.status == "on_time"  # II: 4 working hours


def test_a_make_up_working_sunday_counts() -> None:
    # Sunday 20 September 2026 is a working day (调休 for National Day); Saturday the 19th is not.
    assert CALENDAR.is_workday(date(2026, 9, 20)) and not CALENDAR.is_workday(date(2026, 9, 19))
    result = timing((local(2026, 9, 19, 10), "public", "complaint"), (local(2026, 9, 20, 15), "official", "official_response"))
    assert result.delay_work_h == 3.5 + 0.5
    # The same hours on an ordinary Sunday (no make-up) count nothing.
    ordinary = timing(
        (local(2026, 11, 28, 10), "public", "complaint"), (local(2026, 11, 29, 15), "official", "official_response")
    )
    assert ordinary.delay_work_h == 0


def test_local_holidays_from_the_cases_file_count_as_days_off() -> None:
    county = WorkCalendar(extra_holidays=[date(2026, 12, 1)])
    rows = ((local(2026, 11, 30, 17), "public", "complaint"), (local(2026, 12, 2, 9), "official", "official_response"))
    assert timing(*rows).delay_work_h == 0.5 + 6.5 + 0.5
    assert timing(*rows, calendar=county).delay_work_h == 0.5 + 0.5


def test_due_time_skips_weekends_and_holidays() -> None:
    due = add_work_hours(local(2026, 9, 30, 16), 4, CALENDAR, SPEC)  # 1.5 h on the 30th, then the holiday week
    assert due == local(2026, 10, 8, 11)


@pytest.mark.parametrize(
    ("now", "status"),
    [((2026, 12, 1, 10), "pending"), ((2026, 12, 1, 16), "overdue")],
)
def test_unanswered_events_are_pending_then_overdue(now: tuple[int, ...], status: str) -> None:
    result = timing((local(2026, 12, 1, 9), "public", "harm_report"), level=2, now=local(*now))
    assert result.status == status and result.first_response_at is None
    assert result.due_at == local(2026, 12, 1, 15, 30)  # II: 4 h; 09:00-12:00 is 3, then 14:30-15:30


def test_late_answer() -> None:
    result = timing((local(2026, 12, 1, 9), "public", "harm_report"), (local(2026, 12, 2, 9), "official", "resolution"), level=2)
    assert result.status == "late" and result.delay_work_h == 6.5 and result.overdue_by_work_h == 2.5  # 3 + 3 + 0.5


def test_what_counts_as_signal_and_as_answer() -> None:
    meeting = (local(2026, 12, 1, 8), "official", "other")  # an official's own notice is no public signal
    relayed = (local(2026, 12, 1, 9), "media", "official_response")  # media relaying an answer is no official answer
    signal = (local(2026, 12, 1, 10), "public", "question")
    answer = (local(2026, 12, 1, 11), "official", "debunk")
    result = timing(meeting, relayed, signal, answer)
    assert (result.first_signal_at, result.first_response_at) == (signal[0], answer[0])
    assert timing(meeting).first_signal_at is None and timing(meeting).status is None
    assert is_problem_item("official", "harm_report") and not is_problem_item("public", "positive")


def test_an_official_statement_before_the_first_complaint_is_a_proactive_disclosure_on_time() -> None:
    """县应急管理局 announces the leak on Friday evening; residents complain on Monday: nobody is late."""
    disclosure = (local(2026, 11, 27, 20), "official", "official_response")
    complaint = (local(2026, 11, 30, 9), "public", "complaint")
    result = timing(disclosure, complaint, level=2, now=local(2026, 12, 3, 9))
    assert (result.status, result.proactive, result.delay_work_h, result.delay_clock_h) == ("on_time", True, 0.0, 0.0)
    assert (result.first_signal_at, result.first_response_at) == (complaint[0], disclosure[0])
    assert "主动发布" in result.describe() and "按时" in result.describe()
    assert result.as_json()["proactive"] is True
    # An answer after the complaint is timed as before, not proactive.
    later = timing(complaint, (local(2026, 11, 30, 10), "official", "official_response"), level=2)
    assert (later.status, later.proactive, later.delay_work_h) == ("on_time", False, 1.0)


def test_below_every_level_an_unanswered_event_is_not_chased_but_an_answer_is_timed() -> None:
    signal = (local(2026, 12, 1, 9), "public", "complaint")
    assert timing(signal, level=None, now=local(2026, 12, 20, 9)).status is None
    answered = timing(signal, (local(2026, 12, 1, 10), "official", "official_response"), level=None)
    assert (answered.status, answered.target_work_h) == ("on_time", 24)


def test_the_library_validates_the_response_section_with_lines(tmp_path: Path) -> None:
    text = """name: 测试库
region: {terms: [青禾县]}
risk_points:
  - name: 讨薪
    severity: 2
    rules: [讨薪]
response:
  target_hours: {I: 2, II: 4, III: 8, IV: 24}
  office_hours: ["08:30-12:00", "14:30-1730"]
"""
    path = tmp_path / "risk.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_library_file(path)
    assert "第 9 行" in str(caught.value) and "08:30-12:00" in str(caught.value)
    path.write_text(text.replace("1730", "17:30").replace("IV: 24", "IV: 1"), encoding="utf-8")
    with pytest.raises(ConfigFileError, match="回应时限应逐级放宽"):
        load_library_file(path)
    path.write_text(text.replace("1730", "17:30"), encoding="utf-8")
    spec = load_library_file(path).spec.response
    assert spec.target_hours.by_level() == {1: 2, 2: 4, 3: 8, 4: 24} and spec.work_hours_per_day() == 6.5


def test_default_targets_and_hours() -> None:
    assert SPEC.target_hours.by_level() == {1: 2, 2: 4, 3: 8, 4: 24}
    assert SPEC.office_hours == ["08:30-12:00", "14:30-17:30"]
    assert timedelta(hours=SPEC.work_hours_per_day()) == timedelta(hours=6, minutes=30)
