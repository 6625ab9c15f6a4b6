"""``yuqing sources test``: fetch a source once and show what each selector or mapping extracts, storing nothing.

This is how an operator builds a new source: write the selectors, run the test, read which
selector matched how many entries and what the first entries look like, fix, run again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from yuqing_core.collect.fetch import Fetcher, FetchError, FetchResult
from yuqing_core.collect.jsonlist import extract_values, load_json
from yuqing_core.collect.kinds import fetch_following_pages, json_spec, page_spec, parse_source_document
from yuqing_core.collect.normalize import ItemRecord, normalize_document
from yuqing_core.collect.pages import extract_page
from yuqing_core.collect.parse import FeedParseError, decode_document
from yuqing_core.config import Settings
from yuqing_core.timeutil import utcnow


@dataclass(frozen=True)
class TrialTarget:
    """What a trial needs to know of a source, from the database or straight from a sources file."""

    name: str
    url: str
    kind: str
    extract: dict[str, Any] | None
    timezone: str


@dataclass(frozen=True)
class SelectorCount:
    """One selector or mapping and how many of the entries it found something in."""

    field: str
    expression: str
    matched: int
    of: int


@dataclass
class TrialReport:
    target: TrialTarget
    http_status: int | None = None
    pages: int = 0
    counts: list[SelectorCount] = field(default_factory=list)
    records: list[ItemRecord] = field(default_factory=list)
    entries_total: int = 0
    error: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def selector_counts(target: TrialTarget, first: FetchResult) -> list[SelectorCount]:
    """How many entries each selector (page) or mapping (json) of the first page or list matched."""
    if target.kind == "page":
        spec = page_spec(target.extract)
        text, _encoding = decode_document(first.body, first.content_type)
        extraction = extract_page(text, spec, base_url=first.final_url)
        total = extraction.items_matched
        counts = [SelectorCount("items", spec.items, total, total)]
        counts += [SelectorCount(name, getattr(spec, name), hits, total) for name, hits in extraction.field_hits.items()]
        return counts
    if target.kind == "json":
        mapping = json_spec(target.extract)
        rows, hits = extract_values(load_json(first.body), mapping)
        expressions = mapping.fields()
        return [SelectorCount("items", mapping.items, len(rows), len(rows))] + [
            SelectorCount(name, expressions[name], count, len(rows)) for name, count in hits.items()
        ]
    return []


async def trial_source(target: TrialTarget, settings: Settings, *, now: datetime | None = None) -> TrialReport:
    """Fetch ``target`` once (no conditional GET), follow its pages, extract and normalize; store nothing."""
    report = TrialReport(target)
    async with Fetcher(settings) as fetcher:
        try:
            first = await fetcher.fetch(target.url)
        except FetchError as exc:
            report.http_status, report.error = exc.http_status, f"抓取失败：{exc.message}"
            return report
        following, note = await fetch_following_pages(fetcher, target.kind, target.extract, first, None)
    report.http_status, report.pages, report.note = first.http_status, 1 + len(following), note
    try:
        report.counts = selector_counts(target, first)
        parsed = parse_source_document(
            target.kind, target.extract, first, following, max_entries=settings.fetch_max_entries_per_feed, note=note
        )
    except FeedParseError as exc:
        report.error = f"解析失败：{exc}"
        return report
    report.note = parsed.warning
    report.entries_total = parsed.entries_total
    report.records = normalize_document(
        parsed.entries,
        base_url=first.final_url,
        source_tz=ZoneInfo(target.timezone),
        fetched_at=now or utcnow(),
        max_text_chars=settings.fetch_max_field_chars,
        future_tolerance=timedelta(seconds=settings.collect_future_tolerance_s),
    ).records
    return report
