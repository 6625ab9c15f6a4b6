"""When a message goes out: at once, after quiet hours, or with its digest (pure functions, local wall clock)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from yuqing_core.notify import NotifyConfig, plan_delivery
from yuqing_core.notify.schedule import digest_period_end, in_quiet_hours

SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")


def at(hour: int, minute: int = 0, *, day: int = 27) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def config(**fields: object) -> NotifyConfig:
    return NotifyConfig.model_validate(fields)


QUIET = {"start": "22:00", "end": "07:00", "hold_below": "II", "hold_kinds": ["case_reminder"]}


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(21, 59, False), (22, 0, True), (23, 30, True), (0, 0, True), (6, 59, True), (7, 0, False), (12, 0, False)],
)
def test_quiet_hours_run_over_midnight(hour: int, minute: int, quiet: bool) -> None:
    assert in_quiet_hours(at(hour, minute), config(quiet_hours=QUIET).quiet_hours, SHANGHAI) is quiet  # type: ignore[arg-type]


def test_a_daytime_window_is_start_inclusive_end_exclusive() -> None:
    lunch = config(quiet_hours={"start": "12:00", "end": "14:00"}).quiet_hours
    assert [in_quiet_hours(at(h), lunch, SHANGHAI) for h in (11, 12, 13, 14)] == [False, True, True, False]  # type: ignore[arg-type]


def test_quiet_hours_hold_less_severe_levels_and_listed_kinds_until_they_end() -> None:
    quiet = config(quiet_hours=QUIET)

    assert plan_delivery(4, "warning", at(23), quiet).release_at == at(7, day=28)
    assert plan_delivery(3, "warning", at(2, day=28), quiet).release_at == at(7, day=28)
    assert plan_delivery(2, "warning", at(23), quiet).release_at is None  # II and above: at once
    assert plan_delivery(None, "case_reminder", at(23), quiet).release_at == at(7, day=28)
    assert plan_delivery(None, "daily_report", at(23), quiet).release_at is None
    assert plan_delivery(4, "warning", at(9), quiet).release_at is None


def test_digest_periods_count_from_local_midnight() -> None:
    digest = config(digest={"below": "III", "every": "2h"}).digest
    assert digest_period_end(at(8, 10), digest, SHANGHAI) == at(10)  # type: ignore[arg-type]
    assert digest_period_end(at(10, 0), digest, SHANGHAI) == at(12)  # type: ignore[arg-type]
    assert digest_period_end(at(23, 59), digest, SHANGHAI) == at(0, day=28)  # type: ignore[arg-type]


def test_only_levels_below_the_digest_level_are_collected() -> None:
    both = config(digest={"below": "III", "every": "2h"}, quiet_hours=QUIET)

    assert plan_delivery(4, "warning", at(8, 10), both).digest is True
    assert plan_delivery(3, "warning", at(8, 10), both).release_at is None
    assert plan_delivery(None, "daily_report", at(8, 10), both).digest is False
    # A digest whose period ends in quiet hours waits for their end, with the rest of the night's.
    assert plan_delivery(4, "warning", at(21, 30), both).release_at == at(7, day=28)
    assert plan_delivery(4, "warning", at(3, 0, day=28), both).release_at == at(7, day=28)
