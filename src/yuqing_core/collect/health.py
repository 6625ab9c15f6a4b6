"""Source health: what one poll's outcome does to a source's schedule and state.

The rules, each a function with its own test:

- success (new, unchanged or empty): errors reset, next poll one interval on;
- 410 Gone: disabled at once;
- 429/503 with Retry-After: next poll no sooner than the server asked (at
  least one interval, at most ``collect_max_retry_after_s``); not counted
  as an error;
- any other failure: the error count goes up, the next poll backs off
  exponentially from the poll interval (capped, plus up to 25% jitter so
  failing sources do not all return at once); at
  ``collect_disable_after_errors`` in a row the source is disabled with a reason;
- a feed URL moves only after ``collect_permanent_redirects_to_move`` polls
  in a row ended in the same permanent (301/308) redirect;
- a poll interval is honoured up to ``MAX_POLL_INTERVAL_S`` (sources files
  refuse longer ones; a longer one stored earlier must not push the next
  poll past the calendar).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from yuqing_core.config import Settings
from yuqing_core.db.models import Source

PollStatus = Literal["ok", "not_modified", "error", "gone", "rate_limited"]
SUCCESS_STATUSES = frozenset({"ok", "not_modified"})

MAX_POLL_INTERVAL_S = 30 * 24 * 3600

_rng = random.Random()


@dataclass(frozen=True)
class PollOutcome:
    """Everything one poll learned about a source."""

    status: PollStatus
    started_at: datetime
    finished_at: datetime
    http_status: int | None = None
    error: str | None = None
    note: str | None = None
    final_url: str | None = None
    permanent_redirect: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_sha1: str | None = None
    entries_seen: int = 0
    items_new: int = 0
    bytes_read: int = 0
    retry_after_s: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status in SUCCESS_STATUSES


def effective_poll_interval_s(poll_interval_s: int) -> int:
    """The interval a poll is scheduled by: the source's, within 1 second and ``MAX_POLL_INTERVAL_S``.

    >>> effective_poll_interval_s(10**13) == MAX_POLL_INTERVAL_S
    True
    """
    return min(max(poll_interval_s, 1), MAX_POLL_INTERVAL_S)


def backoff_delay(consecutive_errors: int, poll_interval_s: int, max_backoff_s: int, rng: random.Random = _rng) -> timedelta:
    """Wait after the n-th failure in a row: interval * 2^(n-1), capped, plus up to 25% jitter.

    >>> backoff_delay(3, 600, 86400, random.Random(0)) >= timedelta(seconds=2400)
    True
    """
    exponent = min(max(consecutive_errors - 1, 0), 30)
    delay = min(float(max_backoff_s), poll_interval_s * 2.0**exponent)
    return timedelta(seconds=min(float(max_backoff_s), delay * rng.uniform(1.0, 1.25)))


def retry_after_delay(retry_after_s: float, poll_interval_s: int, max_retry_after_s: int) -> timedelta:
    """Honour Retry-After, but never poll sooner than the interval nor wait absurdly long."""
    return timedelta(seconds=min(float(max_retry_after_s), max(float(poll_interval_s), retry_after_s)))


def apply_outcome(source: Source, outcome: PollOutcome, settings: Settings, rng: random.Random | None = None) -> None:
    """Update ``source`` in place for ``outcome`` (the caller commits it with the items)."""
    now = outcome.finished_at
    source.last_polled_at = outcome.started_at
    source.last_status = outcome.status
    source.last_http_status = outcome.http_status
    source.last_note = outcome.note
    source.updated_at = now
    interval_s = effective_poll_interval_s(source.poll_interval_s)
    interval = timedelta(seconds=interval_s)

    if outcome.succeeded:
        source.last_success_at = now
        source.consecutive_errors = 0
        source.last_error = None
        source.next_poll_at = now + interval
        if outcome.items_new:
            source.last_new_item_at = now
        if outcome.http_status != 304:  # a full response: its validators replace ours
            source.etag = outcome.etag
            source.last_modified = outcome.last_modified
            source.content_sha1 = outcome.content_sha1 or source.content_sha1
        _track_permanent_redirect(source, outcome, settings)
        return

    source.last_error = outcome.error
    if outcome.status == "rate_limited":
        delay = retry_after_delay(outcome.retry_after_s or 0.0, interval_s, settings.collect_max_retry_after_s)
        source.next_poll_at = now + delay
        return

    source.consecutive_errors += 1
    if outcome.status == "gone":
        disable(source, outcome.error or "HTTP 410：订阅源已被发布方永久删除", now)
        return
    source.next_poll_at = now + backoff_delay(source.consecutive_errors, interval_s, settings.collect_max_backoff_s, rng or _rng)
    if source.consecutive_errors >= settings.collect_disable_after_errors:
        disable(source, f"连续 {source.consecutive_errors} 次采集失败，最后一次：{outcome.error}", now)


def disable(source: Source, reason: str, now: datetime) -> None:
    source.enabled = False
    source.disabled_reason = reason
    source.disabled_at = now
    source.next_poll_at = None


def enable(source: Source, now: datetime) -> None:
    """Put a source back in rotation, due at once, with a clean error count."""
    source.enabled = True
    source.disabled_reason = None
    source.disabled_at = None
    source.consecutive_errors = 0
    source.next_poll_at = now
    source.updated_at = now


def _track_permanent_redirect(source: Source, outcome: PollOutcome, settings: Settings) -> None:
    target = outcome.permanent_redirect
    if not target:
        source.redirect_url = None
        source.redirect_count = 0
        return
    if target == source.redirect_url:
        source.redirect_count += 1
    else:
        source.redirect_url = target
        source.redirect_count = 1
    if source.redirect_count >= settings.collect_permanent_redirects_to_move:
        source.last_note = f"订阅源地址已永久迁移：{source.url} → {target}"
        source.url = target
        source.redirect_url = None
        source.redirect_count = 0
