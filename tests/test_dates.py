"""Publication dates as feeds write them: zone-less means the source's zone; CST is China's."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from yuqing_core.collect.dates import parse_feed_date

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHICAGO = ZoneInfo("America/Chicago")


def at(text: str, tz=SHANGHAI, now=None) -> str | None:
    value = parse_feed_date(text, tz, now=now)
    return value.astimezone(UTC).isoformat() if value else None


@pytest.mark.parametrize(
    "raw, expected_utc",
    [
        # The two forms feedparser gets silently wrong.
        ("2026/10/03 12:53:46", "2026-10-03T04:53:46+00:00"),
        ("2026年10月03日 12:53", "2026-10-03T04:53:00+00:00"),
        ("2026年10月3日 12时53分", "2026-10-03T04:53:00+00:00"),
        ("2026年10月3日12:53:46", "2026-10-03T04:53:46+00:00"),
        ("2026年10月03日", "2026-10-02T16:00:00+00:00"),
        ("2026年10月03日 下午3:05", "2026-10-03T07:05:00+00:00"),
        ("2026/10/3", "2026-10-02T16:00:00+00:00"),
        ("2026.10.03 12:53", "2026-10-03T04:53:00+00:00"),
        # ISO 8601 / W3CDTF, with and without zones.
        ("2026-10-03T12:53:46+08:00", "2026-10-03T04:53:46+00:00"),
        ("2026-10-03T12:53:46Z", "2026-10-03T12:53:46+00:00"),
        ("2026-10-03T12:53:46.123+0800", "2026-10-03T04:53:46.123000+00:00"),
        ("2026-10-03 12:53:46", "2026-10-03T04:53:46+00:00"),
        ("2026-10-03", "2026-10-02T16:00:00+00:00"),
        ("20261003T125346", "2026-10-03T04:53:46+00:00"),
        # RFC 822 and its many variants.
        ("Sat, 03 Oct 2026 12:53:46 +0800", "2026-10-03T04:53:46+00:00"),
        ("Sat, 03 Oct 2026 12:53:46 GMT", "2026-10-03T12:53:46+00:00"),
        ("03 Oct 2026 12:53 GMT", "2026-10-03T12:53:00+00:00"),
        ("Sat, 3 Oct 26 12:53:46 EST", "2026-10-03T17:53:46+00:00"),
        ("Saturday, 03-Oct-2026 12:53:46 UTC", "2026-10-03T12:53:46+00:00"),
        ("Sat, 03 Oct 2026 12:53:46", "2026-10-03T04:53:46+00:00"),
        ("Sat Oct 03 12:53:46 CST 2026", "2026-10-03T04:53:46+00:00"),
        ("1790000000", "2026-09-21T14:13:20+00:00"),
        ("1790000000000", "2026-09-21T14:13:20+00:00"),
    ],
)
def test_formats_read_in_the_source_zone(raw: str, expected_utc: str) -> None:
    assert at(raw) == expected_utc


def test_cst_means_china_standard_time_on_a_chinese_source() -> None:
    assert at("Sat, 03 Oct 2026 12:53:46 CST") == "2026-10-03T04:53:46+00:00"


def test_cst_means_us_central_elsewhere() -> None:
    assert at("Sat, 03 Oct 2026 12:53:46 CST", tz=CHICAGO) == "2026-10-03T18:53:46+00:00"


def test_zone_less_dates_follow_the_source_zone() -> None:
    assert at("2026/10/03 12:53:46", tz=ZoneInfo("UTC")) == "2026-10-03T12:53:46+00:00"
    # Daylight saving applies where the zone has it.
    assert at("2026-07-01 12:00", tz=CHICAGO) == "2026-07-01T17:00:00+00:00"


def test_relative_chinese_forms_need_a_reference_time() -> None:
    now = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
    assert at("3小时前", now=now) == "2026-11-27T23:00:00+00:00"
    assert at("15分钟前", now=now) == "2026-11-28T01:45:00+00:00"
    assert at("昨天 12:53", now=now) == "2026-11-27T04:53:00+00:00"
    assert at("刚刚", now=now) == "2026-11-28T02:00:00+00:00"
    assert at("3小时前") is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "not a date",
        "2026-13-45",
        "2026/02/30 10:00",
        "Sat, 32 Foo 2026 12:00 GMT",
        "2026-10-03T25:61:00",
        "x" * 500,
        "2026-10-03 12:00 +9999",
    ],
)
def test_garbage_is_none_not_an_exception(raw: str) -> None:
    assert parse_feed_date(raw, SHANGHAI) is None


def test_twenty_four_hundred_is_the_end_of_the_day() -> None:
    assert at("2026-10-03T24:00:00+00:00") == "2026-10-04T00:00:00+00:00"


def test_result_is_always_aware() -> None:
    value = parse_feed_date("2026/10/03 12:53:46", SHANGHAI)
    assert value is not None and value.utcoffset() == timedelta(hours=8)
