"""Source health rules: backoff, Retry-After, disabling, permanent redirects."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from yuqing_core.collect.fetch import parse_retry_after
from yuqing_core.collect.health import PollOutcome, apply_outcome, backoff_delay, retry_after_delay
from yuqing_core.config import Settings
from yuqing_core.db.models import Source

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
SETTINGS = Settings(collect_disable_after_errors=4, collect_max_backoff_s=6 * 3600, collect_permanent_redirects_to_move=3)


def source(**overrides) -> Source:
    values = {
        "name": "s", "url": "http://a/feed", "kind": "auto", "poll_interval_s": 600, "enabled": True, "consecutive_errors": 0,
        "redirect_count": 0, "weight": 1.0, "timezone": "Asia/Shanghai", "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    values.update(overrides)
    return Source(**values)


def outcome(status="ok", **kwargs) -> PollOutcome:
    return PollOutcome(status=status, started_at=NOW, finished_at=NOW, **kwargs)


def test_backoff_grows_exponentially_with_bounded_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    for n, base in [(1, 600), (2, 1200), (3, 2400), (4, 4800)]:
        delay = backoff_delay(n, 600, 86400, rng).total_seconds()
        assert base <= delay <= base * 1.25
    assert backoff_delay(40, 600, 3600, rng) == timedelta(seconds=3600)


def test_jitter_spreads_sources() -> None:
    delays = {backoff_delay(3, 600, 86400, random.Random(seed)) for seed in range(20)}
    assert len(delays) > 10


def test_retry_after_is_honoured_within_bounds() -> None:
    assert retry_after_delay(3600, 600, 86400) == timedelta(seconds=3600)
    assert retry_after_delay(5, 600, 86400) == timedelta(seconds=600)  # never sooner than the interval
    assert retry_after_delay(10**9, 600, 86400) == timedelta(seconds=86400)


def test_parse_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Sat, 28 Nov 2026 03:00:00 GMT", NOW) == 3600
    assert parse_retry_after("Sat, 28 Nov 2026 01:00:00 GMT", NOW) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_success_resets_errors_and_schedules_next_poll() -> None:
    s = source(consecutive_errors=3, last_error="HTTP 500")
    apply_outcome(s, outcome("ok", etag='"v2"', last_modified="x", content_sha1="abc", items_new=2), SETTINGS)
    assert (s.consecutive_errors, s.last_error, s.etag, s.content_sha1) == (0, None, '"v2"', "abc")
    assert s.next_poll_at == NOW + timedelta(seconds=600)
    assert s.last_success_at == NOW and s.last_new_item_at == NOW


def test_not_modified_keeps_validators() -> None:
    s = source(etag='"v1"', last_modified="lm", content_sha1="abc")
    apply_outcome(s, outcome("not_modified", http_status=304), SETTINGS)
    assert (s.etag, s.last_modified, s.content_sha1) == ('"v1"', "lm", "abc")
    assert s.last_new_item_at is None


def test_failures_back_off_and_disable_after_the_limit() -> None:
    s = source()
    for n in range(1, 4):
        apply_outcome(s, outcome("error", error="HTTP 500"), SETTINGS, random.Random(n))
        assert s.enabled and s.consecutive_errors == n
        assert s.next_poll_at >= NOW + timedelta(seconds=600 * 2 ** (n - 1))
    apply_outcome(s, outcome("error", error="HTTP 500"), SETTINGS)
    assert not s.enabled and s.next_poll_at is None
    assert s.disabled_reason == "连续 4 次采集失败，最后一次：HTTP 500"


def test_gone_disables_at_once() -> None:
    s = source()
    apply_outcome(s, outcome("gone", error="HTTP 410：订阅源已被发布方永久删除", http_status=410), SETTINGS)
    assert not s.enabled and "410" in s.disabled_reason


def test_rate_limit_defers_without_counting_as_an_error() -> None:
    s = source(consecutive_errors=1)
    apply_outcome(s, outcome("rate_limited", error="HTTP 429", retry_after_s=7200), SETTINGS)
    assert s.consecutive_errors == 1 and s.enabled
    assert s.next_poll_at == NOW + timedelta(seconds=7200)


@pytest.mark.parametrize("moves_after", [3])
def test_url_moves_only_after_repeated_permanent_redirects(moves_after: int) -> None:
    s = source()
    for _ in range(moves_after - 1):
        apply_outcome(s, outcome("ok", permanent_redirect="http://b/feed"), SETTINGS)
        assert s.url == "http://a/feed"
    apply_outcome(s, outcome("ok", permanent_redirect="http://b/feed"), SETTINGS)
    assert s.url == "http://b/feed" and s.redirect_count == 0
    assert "永久迁移" in s.last_note


def test_redirect_count_resets_when_the_redirect_stops_or_changes() -> None:
    s = source()
    apply_outcome(s, outcome("ok", permanent_redirect="http://b/feed"), SETTINGS)
    apply_outcome(s, outcome("ok", permanent_redirect="http://b/feed"), SETTINGS)
    apply_outcome(s, outcome("ok"), SETTINGS)  # a temporary redirect or none at all
    assert (s.redirect_url, s.redirect_count) == (None, 0)
    apply_outcome(s, outcome("ok", permanent_redirect="http://b/feed"), SETTINGS)
    apply_outcome(s, outcome("ok", permanent_redirect="http://c/feed"), SETTINGS)
    assert (s.redirect_url, s.redirect_count, s.url) == ("http://c/feed", 1, "http://a/feed")
