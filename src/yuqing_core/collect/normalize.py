"""Raw entries to item records: plain text, safe links, honest dates, stable identity.

- Titles become one line of plain text; bodies become plain text for
  matching, plus a short excerpt for lists and reports.
- Links are kept only if they are http(s) after resolving against the feed URL.
- Dates are parsed from the raw strings (``dates``); a missing, unreadable
  or future date falls back to the fetch time and the record says which.
- Identity per source: the guid (with the link appended for guids the feed
  repeats), else the link, else a hash of title and text.
- Every text field is made storable first (a lone surrogate such as
  ``&#xd800;`` becomes U+FFFD), and an entry that still cannot be turned into
  a record is skipped and counted: one bad entry never costs its neighbours.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urljoin, urlsplit

from yuqing_core.collect.dates import parse_feed_date
from yuqing_core.collect.hotlist import ListPosition
from yuqing_core.collect.parse import RawEntry
from yuqing_core.text import clean_whitespace, excerpt, fingerprint, html_to_text, plain_title, storable, truncate

MAX_TITLE_CHARS = 500
MAX_AUTHOR_CHARS = 300
MAX_REPLY_BY_CHARS = 200
MAX_URL_CHARS = 2000
MAX_GUID_CHARS = 1000
MAX_ENTRY_KEY_CHARS = 512
MAX_DATE_RAW_CHARS = 200
EXCERPT_CHARS = 200
OLDEST_PLAUSIBLE_YEAR = 1990

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemRecord:
    """An item ready to store; ``entry_key`` is unique within its source."""

    entry_key: str
    guid: str | None
    url: str | None
    title: str
    text: str
    excerpt: str
    author: str | None
    published_at: datetime
    published_raw: str | None
    published_fallback: str | None
    fingerprint: str
    # The official reply published with the entry (message boards), else None; see ``RawEntry``.
    reply_text: str | None = None
    reply_at: datetime | None = None
    reply_by: str | None = None
    # The post the entry answers or forwards (an absolute http(s) URL), else None; see ``RawEntry``.
    in_reply_to: str | None = None
    # Where a hot list's entry stood at this poll (``collect.hotlist``); not a column of the item.
    position: ListPosition | None = None


# ``ItemRecord`` fields that are not columns of ``items``.
NOT_ITEM_COLUMNS = frozenset({"position"})


def safe_link(link: str | None, base_url: str | None) -> str | None:
    """An absolute http(s) URL, or None (``javascript:``, ``data:`` and the like are dropped).

    >>> safe_link("/a/1.html", "http://example.com/feed.xml")
    'http://example.com/a/1.html'
    >>> safe_link("javascript:alert(1)", "http://example.com/") is None
    True
    """
    if not link:
        return None
    link = "".join(link.split())  # feeds wrap long links across lines
    try:
        absolute = urljoin(base_url, link) if base_url else link
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if len(absolute) > MAX_URL_CHARS:
        return None
    return absolute


def resolve_published(
    entry: RawEntry, *, source_tz: tzinfo, fetched_at: datetime, future_tolerance: timedelta
) -> tuple[datetime, str | None]:
    """The publication time and, if it is the fetch time instead, why."""
    if not entry.date_raw and entry.date_struct is None:
        return fetched_at, "missing"
    published = parse_feed_date(entry.date_raw, source_tz, now=fetched_at)
    if published is None and entry.date_struct is not None:
        try:
            published = datetime.fromtimestamp(calendar.timegm(entry.date_struct), UTC)
        except (OverflowError, ValueError, OSError):
            published = None
    if published is None or published.year < OLDEST_PLAUSIBLE_YEAR:
        return fetched_at, "unparseable"
    if published > fetched_at + future_tolerance:
        return fetched_at, "future"
    return published.astimezone(UTC), None


def storable_entry(entry: RawEntry) -> RawEntry:
    """``entry`` with every text field storable (lone surrogates as U+FFFD, no NUL)."""
    changes: dict[str, Any] = {}
    for field in fields(entry):
        value = getattr(entry, field.name)
        if isinstance(value, str):
            repaired = storable(value)
            if repaired is not value:
                changes[field.name] = repaired
    return replace(entry, **changes) if changes else entry


@dataclass(frozen=True)
class NormalizedDocument:
    records: list[ItemRecord]
    # Entries with no title, no text and no usable link: nothing a reader could use.
    skipped_empty: int = 0
    # Entries repeating an identity already seen in the same document.
    duplicates: int = 0
    # Entries that failed to normalize for a reason of their own, and the first such reason.
    skipped_failed: int = 0
    first_failure: str | None = None


def normalize_entries(entries: list[RawEntry], **options: Any) -> list[ItemRecord]:
    """Item records for the entries of one feed document (see ``normalize_document``)."""
    return normalize_document(entries, **options).records


def normalize_document(
    entries: list[RawEntry],
    *,
    base_url: str | None,
    source_tz: tzinfo,
    fetched_at: datetime,
    max_text_chars: int = 20_000,
    future_tolerance: timedelta = timedelta(minutes=10),
    repeated_guids: set[str] | None = None,
) -> NormalizedDocument:
    """Item records for the entries of one feed document, one per distinct identity.

    ``repeated_guids`` overrides which guids count as repeated, for documents
    (archives) that are normalized in batches.
    """
    entries = [storable_entry(entry) for entry in entries]
    if repeated_guids is None:
        counts = Counter(entry.guid.strip() for entry in entries if entry.guid and entry.guid.strip())
        repeated_guids = {guid for guid, count in counts.items() if count > 1}
    records: dict[str, ItemRecord] = {}
    skipped_empty = duplicates = skipped_failed = 0
    first_failure = None
    for position, entry in enumerate(entries, start=1):
        try:
            record = _record(entry, base_url, repeated_guids, source_tz, fetched_at, max_text_chars, future_tolerance)
        except Exception as exc:  # one entry's surprise must not cost the others theirs
            logger.warning("条目 %d 无法处理，已跳过：%r", position, exc, exc_info=True)
            skipped_failed += 1
            first_failure = first_failure or f"第 {position} 个条目：{type(exc).__name__}: {exc}"[:300]
            continue
        if record is None:
            skipped_empty += 1
        elif record.entry_key in records:
            duplicates += 1  # the first occurrence wins: feeds list newest first
        else:
            records[record.entry_key] = record
    return NormalizedDocument(
        list(records.values()),
        skipped_empty=skipped_empty,
        duplicates=duplicates,
        skipped_failed=skipped_failed,
        first_failure=storable(first_failure) if first_failure else None,
    )


def _record(
    entry: RawEntry,
    base_url: str | None,
    repeated_guids: set[str],
    source_tz: tzinfo,
    fetched_at: datetime,
    max_text_chars: int,
    future_tolerance: timedelta,
) -> ItemRecord | None:
    """The record of one entry, or None for an entry with nothing a reader could use."""
    link = safe_link(entry.link, base_url)
    title = truncate(plain_title(entry.title), MAX_TITLE_CHARS)
    text = html_to_text(entry.body) if entry.body_is_html else clean_whitespace(entry.body)
    text = truncate(text, max_text_chars)
    guid = truncate(entry.guid.strip(), MAX_GUID_CHARS) if entry.guid and entry.guid.strip() else None
    if not (title or text or link):
        return None
    key = entry_key(guid, link, title, text, guid_repeated=bool(entry.guid and entry.guid.strip() in repeated_guids))
    published, fallback = resolve_published(entry, source_tz=source_tz, fetched_at=fetched_at, future_tolerance=future_tolerance)
    return ItemRecord(
        entry_key=key,
        guid=guid,
        url=link,
        title=title,
        text=text,
        excerpt=excerpt(text, EXCERPT_CHARS),
        author=truncate(clean_whitespace(plain_title(entry.author)), MAX_AUTHOR_CHARS) if entry.author else None,
        published_at=published,
        published_raw=truncate(entry.date_raw, MAX_DATE_RAW_CHARS) if entry.date_raw else None,
        published_fallback=fallback,
        fingerprint=fingerprint(title, text),
        position=entry.position,
        in_reply_to=safe_link(entry.in_reply_to, base_url) if entry.in_reply_to else None,
        **_reply(entry, source_tz, fetched_at, max_text_chars),
    )


def _reply(entry: RawEntry, source_tz: tzinfo, fetched_at: datetime, max_text_chars: int) -> dict[str, Any]:
    """The reply fields of a record: text, time and who replied, when the entry carries a reply.

    A reply whose date is missing or unreadable is dated when it was first fetched: the
    official answer existed by then, and that is the latest it can have been given.
    """
    text = truncate(clean_whitespace(html_to_text(entry.reply_text)), max_text_chars) if entry.reply_text else ""
    if not text:
        return {}
    replied_at = parse_feed_date(entry.reply_date_raw, source_tz, now=fetched_at) if entry.reply_date_raw else None
    if replied_at is None or replied_at > fetched_at or replied_at.year < OLDEST_PLAUSIBLE_YEAR:
        replied_at = fetched_at
    by = truncate(clean_whitespace(plain_title(entry.reply_by)), MAX_REPLY_BY_CHARS) if entry.reply_by else None
    return {"reply_text": text, "reply_at": replied_at.astimezone(UTC), "reply_by": by or None}


def entry_key(guid: str | None, link: str | None, title: str, text: str, *, guid_repeated: bool = False) -> str:
    """The identity of an entry within its source.

    >>> entry_key("abc", "http://x/1", "t", "b")
    'id:abc'
    >>> entry_key("abc", "http://x/1", "t", "b", guid_repeated=True)
    'id:abc|http://x/1'
    >>> entry_key(None, None, "t", "b")[:5]
    'hash:'
    """
    digest = hashlib.sha1(f"{title}\x1f{text}".encode()).hexdigest()
    if guid and guid_repeated:
        key = f"id:{guid}|{link}" if link else f"id:{guid}|hash:{digest}"
    elif guid:
        key = f"id:{guid}"
    elif link:
        key = f"url:{link}"
    else:
        return f"hash:{digest}"
    if len(key) > MAX_ENTRY_KEY_CHARS:
        return f"{key.split(':', 1)[0]}-sha1:{hashlib.sha1(key.encode()).hexdigest()}"
    return key
