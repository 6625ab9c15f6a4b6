"""Full text of relevant items, and noticing when their pages are deleted.

A feed entry carries a summary; the rules see more when they read the article itself. For the
items that the region scope or a risk rule made relevant (never every item), ``enrich_items``
fetches the item's page, extracts its main text with trafilatura, stores it on the item
(``Item.full_text``, with when and from which URL) and keeps an evidence snapshot of the page
(``collect.snapshots``). Fetched again later (``recheck_candidates``), a page that answers 404 or
410, or whose main text has disappeared, marks its item 原文已删除 (``Item.deleted_at``).

These fetches go through the collector's ``Fetcher`` (the address policy on every hop, the body
cap, the per-host limit on requests in flight) and are polite on top: robots.txt is read once per
host per run (``urllib.robotparser`` over our fetcher) and obeyed, and requests to one host are
spaced ``fulltext_host_delay_s`` apart.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx
import trafilatura
from sqlalchemy import ColumnElement, and_, exists, or_, select, update

from yuqing_core.collect.fetch import Fetcher, FetchError, FetchResult
from yuqing_core.collect.parse import decode_document
from yuqing_core.collect.snapshots import store_copy
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.filters import one_of
from yuqing_core.db.models import Item, ItemAnalysis, Match, PageSnapshot
from yuqing_core.db.upsert import insert_ignore

log = logging.getLogger(__name__)

# A page answering these is gone: 原文已删除.
DELETED_STATUSES = frozenset({404, 410})
# A later fetch whose main text is below this share of the first one's means the text was taken down
# (a "内容已删除" notice in the page's frame), as long as the first text was long enough to judge by.
DISAPPEARED_SHARE = 0.1
MIN_JUDGED_CHARS = 50
_BLANK_LINES = re.compile(r"\n\s*\n+")


def extract_main_text(body: bytes, content_type: str | None = None, url: str | None = None, *, max_chars: int = 20_000) -> str:
    """The main text of an article page ("" when none is found), at most ``max_chars`` characters.

    The bytes are decoded by the collector's rules (BOM, UTF-8, the declared charset with GB2312
    and GBK read as GB18030), then trafilatura finds the article: without comments, with tables.
    """
    html, _encoding = decode_document(body, content_type)
    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=True, deduplicate=False)
    if not text:
        return ""
    return _BLANK_LINES.sub("\n", text).strip()[:max_chars]


@dataclass
class EnrichSummary:
    attempted: int = 0  # pages asked for (each counts against the run's bound)
    fetched: int = 0
    enriched: list[int] = field(default_factory=list)  # items whose full text is new: the rules read them again
    snapshots: int = 0
    deleted: list[int] = field(default_factory=list)  # items found deleted in this run
    refused_by_robots: int = 0
    failed: int = 0

    def add(self, other: EnrichSummary) -> None:
        self.attempted += other.attempted
        self.fetched += other.fetched
        self.enriched += other.enriched
        self.snapshots += other.snapshots
        self.deleted += other.deleted
        self.refused_by_robots += other.refused_by_robots
        self.failed += other.failed

    @property
    def description(self) -> str:
        parts = [f"抓取原文 {self.fetched} 篇，补全正文 {len(self.enriched)} 条，留存快照 {self.snapshots} 份"]
        if self.deleted:
            parts.append(f"发现原文已删除 {len(self.deleted)} 条")
        if self.refused_by_robots:
            parts.append(f"robots.txt 不允许 {self.refused_by_robots} 篇")
        if self.failed:
            parts.append(f"抓取失败 {self.failed} 篇")
        return "，".join(parts) + "。"


class PolitePageFetcher:
    """Article pages through a ``Fetcher``, obeying each host's robots.txt and spacing requests to a host."""

    def __init__(self, fetcher: Fetcher, *, user_agent: str, host_delay_s: float) -> None:
        self._fetcher = fetcher
        self._user_agent = user_agent
        self._host_delay_s = host_delay_s
        self._robots: dict[str, RobotFileParser] = {}
        self._robots_loading: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._host_turn: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._next_request_at: dict[str, float] = {}

    async def allowed(self, url: str) -> bool:
        """Whether the host's robots.txt lets us fetch ``url`` (read once per host, then cached)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._robots_loading[origin]:
            if origin not in self._robots:
                self._robots[origin] = await self._load_robots(origin)
        return self._robots[origin].can_fetch(self._user_agent, url)

    async def _load_robots(self, origin: str) -> RobotFileParser:
        """RFC 9309: a 4xx means no rules (all allowed); a 5xx or no answer means all disallowed."""
        parser = RobotFileParser(origin + "/robots.txt")
        try:
            result = await self._spaced(origin + "/robots.txt")
        except FetchError as exc:
            status = exc.http_status
            if status is not None and 400 <= status < 500:
                parser.parse([])
            else:
                parser.disallow_all = True  # type: ignore[attr-defined]  # robotparser's own flag for "all disallowed"
            return parser
        parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
        return parser

    async def fetch(self, url: str) -> FetchResult:
        """One page, no sooner than the host's delay after the previous request to that host."""
        return await self._spaced(url)

    async def _spaced(self, url: str) -> FetchResult:
        host = urlsplit(url).hostname or ""
        if self._host_delay_s <= 0:
            return await self._fetcher.fetch(url)
        loop = asyncio.get_running_loop()
        async with self._host_turn[host]:
            wait = self._next_request_at.get(host, 0.0) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self._fetcher.fetch(url)
            finally:
                self._next_request_at[host] = loop.time() + self._host_delay_s


def _made_relevant() -> ColumnElement[bool]:
    """Items in the region scope, or hit by a risk rule, and not excluded (ads and the like)."""
    risk_hit = exists().where(Match.item_id == Item.id, Match.kind == "risk")
    return and_(ItemAnalysis.excluded.is_(False), or_(ItemAnalysis.relevant.is_(True), risk_hit))


def _fetchable() -> ColumnElement[bool]:
    return or_(Item.url.like("http://%"), Item.url.like("https://%"))


def enrichment_candidates(db: Database, item_ids: Sequence[int], *, now: datetime, settings: Settings, limit: int) -> list[int]:
    """Of ``item_ids``, those made relevant whose page was never fetched (or not within the recheck interval), at most ``limit``."""
    if limit <= 0 or not item_ids:
        return []
    again_after = now - timedelta(seconds=settings.fulltext_recheck_interval_s)
    query = (
        select(Item.id)
        .join(ItemAnalysis, ItemAnalysis.item_id == Item.id)
        .where(
            one_of(Item.id, item_ids, db.dialect),
            Item.enriched_at.is_(None),
            Item.deleted_at.is_(None),
            or_(Item.checked_at.is_(None), Item.checked_at < again_after),
            _fetchable(),
            _made_relevant(),
        )
        .order_by(Item.published_at, Item.id)
        .limit(limit)
    )
    with db.reader() as session:
        return list(session.scalars(query))


def recheck_candidates(db: Database, *, now: datetime, settings: Settings, limit: int) -> list[int]:
    """Enriched items published within ``fulltext_recheck_days``, not known deleted, not fetched within the
    recheck interval: the longest unchecked first, at most ``limit``."""
    if limit <= 0:
        return []
    query = (
        select(Item.id)
        .where(
            Item.enriched_at.is_not(None),
            Item.deleted_at.is_(None),
            Item.published_at >= now - timedelta(days=settings.fulltext_recheck_days),
            Item.checked_at < now - timedelta(seconds=settings.fulltext_recheck_interval_s),
        )
        .order_by(Item.checked_at, Item.id)
        .limit(limit)
    )
    with db.reader() as session:
        return list(session.scalars(query))


@dataclass(frozen=True)
class _Target:
    item_id: int
    url: str
    enriched: bool
    previous_chars: int | None  # of the latest snapshot's text, for noticing that the text disappeared


def _targets(db: Database, item_ids: Sequence[int]) -> list[_Target]:
    latest_chars = (
        select(PageSnapshot.text_chars)
        .where(PageSnapshot.item_id == Item.id)
        .order_by(PageSnapshot.fetched_at.desc(), PageSnapshot.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    with db.reader() as session:
        rows = session.execute(
            select(Item.id, Item.url, Item.enriched_at, latest_chars.label("previous_chars")).where(Item.id.in_(item_ids))
        ).all()
    by_id = {row.id: _Target(row.id, row.url, row.enriched_at is not None, row.previous_chars) for row in rows if row.url}
    return [by_id[i] for i in item_ids if i in by_id]


def enrich_items(
    db: Database, settings: Settings, item_ids: Sequence[int], *, now: datetime, transport: httpx.AsyncBaseTransport | None = None
) -> EnrichSummary:
    """Fetch the pages of ``item_ids``: full text for those not enriched yet, a snapshot of each page
    fetched, 原文已删除 for those found gone. Idempotent: a page fetched twice with the same content
    keeps one snapshot, and a deletion keeps the time it was first noticed."""
    targets = _targets(db, item_ids)
    if not targets:
        return EnrichSummary()
    enrich = partial(_enrich, db, settings, targets, now=now, transport=transport)
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: a sync task or the CLI, no loop in this thread
        return asyncio.run(enrich())
    # Called from a thread that runs an event loop (an async flow calling the stage inline): a loop of
    # its own in another thread, since asyncio.run cannot nest.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fulltext") as pool:
        return pool.submit(lambda: asyncio.run(enrich())).result()


async def _enrich(
    db: Database, settings: Settings, targets: list[_Target], *, now: datetime, transport: httpx.AsyncBaseTransport | None
) -> EnrichSummary:
    summary = EnrichSummary(attempted=len(targets))
    async with Fetcher(settings, transport=transport) as fetcher:
        pages = PolitePageFetcher(fetcher, user_agent=settings.user_agent, host_delay_s=settings.fulltext_host_delay_s)
        outcomes = await asyncio.gather(*(_fetch_one(pages, fetcher, target) for target in targets))
    for target, outcome in zip(targets, outcomes, strict=True):
        _record(db, settings, target, outcome, now=now, summary=summary)
    return summary


# What fetching one page came to: the page, a failure, or refused by robots.txt (None).
_Outcome = FetchResult | FetchError | None


async def _fetch_one(pages: PolitePageFetcher, fetcher: Fetcher, target: _Target) -> _Outcome:
    async with fetcher.slot():
        try:
            if not await pages.allowed(target.url):
                return None
            return await pages.fetch(target.url)
        except FetchError as exc:
            return exc


def _record(
    db: Database, settings: Settings, target: _Target, outcome: _Outcome, *, now: datetime, summary: EnrichSummary
) -> None:
    values: dict[str, object] = {"checked_at": now}
    deleted = False
    if outcome is None:
        summary.refused_by_robots += 1
    elif isinstance(outcome, FetchError):
        if outcome.http_status in DELETED_STATUSES and target.enriched:
            deleted = True  # gone since we read it; a page never read is only a failed fetch
        else:
            summary.failed += 1
            log.info("item %d: page %s not fetched: %s", target.item_id, target.url, outcome.message)
    else:
        summary.fetched += 1
        text = extract_main_text(outcome.body, outcome.content_type, outcome.final_url, max_chars=settings.fetch_max_field_chars)
        copy = store_copy(settings.effective_snapshots_dir, outcome.body, text)
        row = {
            "item_id": target.item_id, "content_hash": copy.content_hash, "path": copy.path, "fetched_at": now,
            "url": target.url, "final_url": outcome.final_url, "http_status": outcome.http_status,
            "html_bytes": len(outcome.body), "text_chars": len(text),
        }  # fmt: skip
        with db.writer() as session:
            summary.snapshots += len(insert_ignore(session, PageSnapshot.__table__, [row], conflict=("item_id", "content_hash")))
        if not target.enriched and text:
            values.update(full_text=text, enriched_at=now, enriched_from=outcome.final_url)
            summary.enriched.append(target.item_id)
        elif target.enriched and _text_disappeared(target.previous_chars, len(text)):
            deleted = True
    with db.writer() as session:
        session.execute(update(Item).where(Item.id == target.item_id).values(**values))
        if deleted:
            noticed = session.execute(
                update(Item).where(Item.id == target.item_id, Item.deleted_at.is_(None)).values(deleted_at=now)
            ).rowcount  # type: ignore[attr-defined]
            if noticed:
                summary.deleted.append(target.item_id)


def _text_disappeared(previous_chars: int | None, chars: int) -> bool:
    return previous_chars is not None and previous_chars >= MIN_JUDGED_CHARS and chars < previous_chars * DISAPPEARED_SHARE
