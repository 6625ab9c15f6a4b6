"""The collect stage: which sources are due, and one poll of one source end to end.

``Collector.collect`` is what one Prefect task runs for one source: fetch,
parse, normalize, then one transaction that stores new items and the
source's new health. A poll that brings no items (most of them: a 304, the
same content again, a failure) has only the source's health and its poll
log to write; the polls of one run write those together, a batch per
transaction, because one transaction per unchanged source was most of
what re-polling cost. Each poll still returns only once its own writes are
committed. A ``Collector`` also reads the sources it is told to expect in
bulk, not one query per poll. Feed-side failures (HTTP errors, timeouts,
bad XML) never raise: they are the source's health, recorded and returned. So is
any other failure inside one source's run (a parser surprise, an item the
database refuses, a schedule out of range): an entry that cannot be kept
is skipped and counted in the note, and a failure of the whole poll is
recorded as the source's error. Only a database that cannot be reached
(busy, connection lost) raises, so the task layer can retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from yuqing_core.collect.fetch import Fetcher, FetchError, FetchResult, RateLimited
from yuqing_core.collect.health import PollOutcome, PollStatus
from yuqing_core.collect.hotlist import record_positions
from yuqing_core.collect.kinds import POLLABLE_KINDS, fetch_following_pages, parse_source_document
from yuqing_core.collect.normalize import ItemRecord, normalize_document
from yuqing_core.collect.parse import FeedParseError
from yuqing_core.collect.replies import record_replies
from yuqing_core.collect.store import is_transient_database_error, record_poll, record_polls_without_items
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Source
from yuqing_core.errors import InvalidInput
from yuqing_core.text import storable
from yuqing_core.timeutil import utcnow

Clock = Callable[[], datetime]
MAX_ERROR_CHARS = 500
# Sources read per query when a collector knows which sources it will poll.
SNAPSHOT_BATCH_SOURCES = 256
# Polls without items whose health and poll log go into one transaction, at most.
HEALTH_BATCH_POLLS = 500
# How long a batch waits for more polls to join it while other polls of the run are still under way:
# a transaction costs far more than a row, and a poll that waits this long for its commit loses nothing.
HEALTH_BATCH_WAIT_S = 0.05

logger = logging.getLogger(__name__)


class UnknownSources(InvalidInput):
    def __init__(self, names: list[str]) -> None:
        super().__init__("没有这些信息源：" + "、".join(names))
        self.names = names


@dataclass(frozen=True)
class SourceRef:
    id: int
    name: str


@dataclass(frozen=True)
class SourceSnapshot:
    """What a poll needs to know about a source, read before the network is touched."""

    id: int
    name: str
    url: str
    kind: str
    timezone: str
    etag: str | None
    last_modified: str | None
    content_sha1: str | None
    extract: dict[str, Any] | None = None  # a page source's selectors, a json source's mapping


@dataclass(frozen=True)
class SourceResult:
    """The outcome of one source's poll, as shown to operators (CLI, Prefect artifact)."""

    source_id: int
    name: str
    status: PollStatus
    http_status: int | None = None
    entries_seen: int = 0
    items_new: int = 0
    error: str | None = None
    note: str | None = None
    enabled: bool = True
    disabled_reason: str | None = None
    consecutive_errors: int = 0
    next_poll_at: datetime | None = None
    duration_s: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", "not_modified")


def parse_shard(shard: str | None) -> tuple[int, int] | None:
    """``"2/3"`` -> (2, 3): the second of three shards; None for no sharding.

    >>> parse_shard("2/3"), parse_shard(None)
    ((2, 3), None)
    """
    if not shard:
        return None
    try:
        part, _, total = shard.partition("/")
        k, n = int(part), int(total)
    except ValueError:
        raise InvalidInput(f"分片应写成 k/n，如 1/3：{shard!r}") from None
    if not 1 <= k <= n:
        raise InvalidInput(f"分片应写成 k/n 且 1 ≤ k ≤ n：{shard!r}")
    return k, n


def due_sources(
    db: Database, now: datetime, *, all_sources: bool = False, names: list[str] | None = None, shard: str | None = None
) -> list[SourceRef]:
    """Enabled feed sources whose next poll is due (or all of them), in name order.

    ``names`` restricts the selection and must name existing sources.
    ``shard`` ``"k/n"`` keeps the k-th of n disjoint shares of the sources
    (by id), so n collect deployments on n machines split the polling.
    """
    with db.reader() as session:
        query = select(Source.id, Source.name).where(
            Source.enabled.is_(True), Source.kind.in_(POLLABLE_KINDS), Source.url.is_not(None)
        )
        if names:
            known = set(session.scalars(select(Source.name).where(Source.name.in_(names))))
            unknown = [n for n in names if n not in known]
            if unknown:
                raise UnknownSources(unknown)
            query = query.where(Source.name.in_(names))
        if not all_sources:
            query = query.where(or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
        sharding = parse_shard(shard)
        if sharding is not None:
            k, n = sharding
            query = query.where(Source.id % n == k - 1)
        return [SourceRef(id=row.id, name=row.name) for row in session.execute(query.order_by(Source.name))]


_SNAPSHOT_COLUMNS = (
    Source.id, Source.name, Source.url, Source.kind, Source.timezone, Source.etag, Source.last_modified, Source.content_sha1,
    Source.extract,
)  # fmt: skip


def read_snapshots(db: Database, source_ids: Sequence[int]) -> dict[int, SourceSnapshot]:
    """The snapshots of the given sources that exist and have a URL, by id; one query per ``SNAPSHOT_BATCH_SOURCES``."""
    snapshots: dict[int, SourceSnapshot] = {}
    ids = list(dict.fromkeys(source_ids))
    with db.reader() as session:
        for start in range(0, len(ids), SNAPSHOT_BATCH_SOURCES):
            query = select(*_SNAPSHOT_COLUMNS).where(Source.id.in_(ids[start : start + SNAPSHOT_BATCH_SOURCES]))
            for row in session.execute(query):
                if row.url:
                    snapshots[row.id] = SourceSnapshot(**row._asdict())
    return snapshots


def snapshot(db: Database, source_id: int) -> SourceSnapshot | None:
    """What a poll of one source needs to know; None if it is gone or has no URL."""
    return read_snapshots(db, [source_id]).get(source_id)


# Fetch errors with a status of their own; any other is an "error".
_ERROR_STATUS: dict[str, PollStatus] = {"gone": "gone", "rate_limited": "rate_limited"}


def outcome_from_error(exc: FetchError, started_at: datetime, finished_at: datetime) -> PollOutcome:
    return PollOutcome(
        status=_ERROR_STATUS.get(exc.kind, "error"),
        started_at=started_at,
        finished_at=finished_at,
        http_status=exc.http_status,
        error=exc.message,
        final_url=exc.final_url,
        retry_after_s=exc.retry_after_s if isinstance(exc, RateLimited) else None,
    )


def describe_failure(exc: BaseException) -> str:
    """An unexpected exception as one storable line for a source's health."""
    return storable(f"{type(exc).__name__}: {exc}")[:MAX_ERROR_CHARS]


def process_document(
    source: SourceSnapshot,
    fetch: FetchResult,
    settings: Settings,
    *,
    started_at: datetime,
    fetched_at: datetime,
    following: Sequence[FetchResult] = (),
    following_note: str | None = None,
) -> tuple[PollOutcome, list[ItemRecord]]:
    """Parse and normalize a fetched document (and a page source's following pages); unchanged content and every failure become outcomes."""
    try:
        return _process_document(
            source, fetch, settings, started_at=started_at, fetched_at=fetched_at, following=following, note=following_note
        )
    except Exception as exc:  # a surprise in parsing is this source's failure, not the run's
        logger.exception("%s：处理文档时出错", source.name)
        failed = PollOutcome(
            status="error",
            started_at=started_at,
            finished_at=fetched_at,
            http_status=fetch.http_status,
            final_url=fetch.final_url,
            error=f"处理失败：{describe_failure(exc)}",
            bytes_read=fetch.bytes_read,
        )
        return failed, []


def _process_document(
    source: SourceSnapshot,
    fetch: FetchResult,
    settings: Settings,
    *,
    started_at: datetime,
    fetched_at: datetime,
    following: Sequence[FetchResult],
    note: str | None,
) -> tuple[PollOutcome, list[ItemRecord]]:
    # What the fetch itself told, common to every outcome below.
    unchanged = PollOutcome(
        status="not_modified",
        started_at=started_at,
        finished_at=fetched_at,
        http_status=fetch.http_status,
        final_url=fetch.final_url,
        permanent_redirect=fetch.permanent_redirect,
        etag=fetch.etag,
        last_modified=fetch.last_modified,
        bytes_read=fetch.bytes_read,
    )
    if fetch.not_modified:
        return unchanged, []
    content_sha1 = hashlib.sha1(fetch.body).hexdigest()
    if content_sha1 == source.content_sha1:
        return replace(unchanged, note="内容与上次相同", content_sha1=content_sha1), []
    try:
        parsed = parse_source_document(
            source.kind, source.extract, fetch, following, max_entries=settings.fetch_max_entries_per_feed, note=note
        )
    except FeedParseError as exc:
        return replace(unchanged, status="error", error=f"解析失败：{exc}"), []
    document = normalize_document(
        parsed.entries,
        base_url=fetch.final_url,
        source_tz=ZoneInfo(source.timezone),
        fetched_at=fetched_at,
        max_text_chars=settings.fetch_max_field_chars,
        future_tolerance=timedelta(seconds=settings.collect_future_tolerance_s),
    )
    records = document.records
    notes = []
    if parsed.warning:
        notes.append(parsed.warning)
    if parsed.entries_total > len(parsed.entries):
        notes.append(f"条目 {parsed.entries_total} 条，只取前 {len(parsed.entries)} 条")
    if not parsed.entries_total:
        notes.append("订阅源中没有条目")
    if document.skipped_empty:
        notes.append(f"{document.skipped_empty} 个条目没有标题、正文或链接，已跳过")
    if document.duplicates:
        notes.append(f"{document.duplicates} 个条目与同一文档中的条目重复，已合并")
    if document.skipped_failed:
        notes.append(f"{document.skipped_failed} 个条目无法处理，已跳过（{document.first_failure}）")
    outcome = replace(
        unchanged,
        status="ok",
        note="；".join(notes) or None,
        content_sha1=content_sha1,
        entries_seen=len(records),
    )
    return outcome, records


def commit_poll(
    db: Database, settings: Settings, source_id: int, outcome: PollOutcome, records: list[ItemRecord]
) -> SourceResult | None:
    """Write a poll's items and health in one transaction; ``None`` if the source vanished meanwhile.

    If that fails for any reason but an unreachable database, nothing of it
    is kept and the failure is recorded as the source's error instead, in a
    transaction of its own; if even that fails, the first error is raised.
    """
    try:
        return _commit_poll(db, settings, source_id, outcome, records)
    except Exception as exc:
        if is_transient_database_error(exc):
            raise
        logger.exception("信息源 %d：保存采集结果时出错", source_id)
        failed = replace(
            outcome,
            status="error",
            error=f"保存失败：{describe_failure(exc)}",
            note=None,
            entries_seen=len(records),
            etag=None,
            last_modified=None,
            content_sha1=None,
            permanent_redirect=None,
        )
        try:
            return _commit_poll(db, settings, source_id, failed, [])
        except Exception:
            logger.exception("信息源 %d：连采集失败也无法记录", source_id)
            raise exc from None


def _commit_poll(
    db: Database, settings: Settings, source_id: int, outcome: PollOutcome, records: list[ItemRecord]
) -> SourceResult | None:
    with db.writer() as session:
        source = session.get(Source, source_id)
        if source is None:
            return None
        outcome, _new_ids = record_poll(session, source, outcome, records, settings)
        record_replies(session, source.id, records)
        record_positions(session, source.id, records, outcome.finished_at, keep=settings.hot_list_retention)
        return result_of(source, outcome)


def commit_polls_without_items(
    db: Database, settings: Settings, polls: Sequence[tuple[int, PollOutcome]]
) -> list[SourceResult | None]:
    """Write the health and poll log of many polls that brought no items, in one transaction.

    Each source is updated exactly as ``commit_poll`` would with no records
    (``record_polls_without_items``), but the sources are read in one query
    and written in one commit. The results are in the order of ``polls``;
    ``None`` for a source that vanished meanwhile. It raises whatever the
    transaction raised, and then nothing of it is kept (``HealthBatches``
    then writes the polls one by one with ``commit_poll``).
    """
    with db.writer() as session:
        ids = sorted({source_id for source_id, _outcome in polls})
        sources = {source.id: source for source in session.scalars(select(Source).where(Source.id.in_(ids)))}
        found = [(sources[source_id], outcome) for source_id, outcome in polls if source_id in sources]
        record_polls_without_items(session, found, settings)
        return [result_of(sources[source_id], outcome) if source_id in sources else None for source_id, outcome in polls]


def result_of(source: Source, outcome: PollOutcome) -> SourceResult:
    """What operators see of a recorded poll: the outcome and the source's health after it."""
    return SourceResult(
        source_id=source.id,
        name=source.name,
        status=outcome.status,
        http_status=outcome.http_status,
        entries_seen=outcome.entries_seen,
        items_new=outcome.items_new,
        error=outcome.error,
        note=outcome.note,
        enabled=source.enabled,
        disabled_reason=source.disabled_reason,
        consecutive_errors=source.consecutive_errors,
        next_poll_at=source.next_poll_at,
        duration_s=(outcome.finished_at - outcome.started_at).total_seconds(),
    )


class HealthBatches:
    """Group commit for polls without items: the polls waiting when a write starts go together.

    While other polls of the run are under way (``more_coming``), a batch
    waits ``HEALTH_BATCH_WAIT_S`` for them before it is written; otherwise
    it is written at once. The polls that arrive while a transaction is
    being written wait for the next, which takes them all (up to
    ``HEALTH_BATCH_POLLS``), so the busier the run the fewer the
    transactions. A batch the database refuses for any reason but an
    unreachable database is written again poll by poll (``commit_poll``), so
    one bad poll costs only itself; an unreachable database fails every poll
    of the batch with its error, for the task layer to retry. A run killed
    before a batch commits leaves those sources as they were: polled again
    next time, nothing half-written (no items ride in these batches).
    """

    def __init__(self, db: Database, settings: Settings, more_coming: Callable[[], bool] = lambda: False) -> None:
        self.db = db
        self.settings = settings
        self._more_coming = more_coming
        self._waiting: list[tuple[int, PollOutcome, asyncio.Future[SourceResult | None]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def write(self, source_id: int, outcome: PollOutcome) -> SourceResult | None:
        """Record one poll without items; return once its transaction is committed."""
        future: asyncio.Future[SourceResult | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((source_id, outcome, future))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_waiting())
        return await future

    async def _write_waiting(self) -> None:
        while self._waiting:
            if len(self._waiting) < HEALTH_BATCH_POLLS and self._more_coming():
                await asyncio.sleep(HEALTH_BATCH_WAIT_S)
            batch = self._waiting[:HEALTH_BATCH_POLLS]
            del self._waiting[:HEALTH_BATCH_POLLS]
            try:
                results = await self._write_batch([(source_id, outcome) for source_id, outcome, _future in batch])
            except BaseException as exc:
                for _source_id, _outcome, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):  # cancelled: the run is ending
                    raise
                continue
            for (_source_id, _outcome, future), result in zip(batch, results, strict=True):
                if not future.done():  # its poll may have been cancelled meanwhile
                    future.set_result(result)

    async def _write_batch(self, polls: list[tuple[int, PollOutcome]]) -> list[SourceResult | None]:
        try:
            return await self.db.run(commit_polls_without_items, self.db, self.settings, polls)
        except Exception as exc:
            if is_transient_database_error(exc):
                raise
            logger.warning("%d 个信息源的采集记录无法一并保存，改为逐个保存：%r", len(polls), exc)
        # One by one (every source in its own transaction); a source whose write fails even alone
        # fails the batch's waiters with its error, as commit_poll would have failed its own poll.
        return [await self.db.run(commit_poll, self.db, self.settings, source_id, outcome, []) for source_id, outcome in polls]


class Collector:
    """The polls of one collect run: one HTTP client, sources read in bulk, polls without items written in batches.

    Example::

        async with Fetcher(settings) as fetcher:
            collector = Collector(db, settings, fetcher)
            collector.expect(source_ids)
            results = await asyncio.gather(*(collector.collect(source_id) for source_id in source_ids))
    """

    def __init__(self, db: Database, settings: Settings, fetcher: Fetcher, *, clock: Clock = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.fetcher = fetcher
        self.clock = clock
        self._health = HealthBatches(db, settings, more_coming=lambda: self._polling > 0)
        self._polling = 0  # polls of this collector that have not yet reached their writes
        self._expected: list[int] = []
        self._unread: dict[int, int] = {}  # expected source id -> its first position in _expected
        self._snapshots: dict[int, SourceSnapshot | None] = {}

    def expect(self, source_ids: Sequence[int]) -> None:
        """The sources this run is about to poll, in about the order it polls them.

        Their snapshots are then read ``SNAPSHOT_BATCH_SOURCES`` at a time, as
        the polls reach them, instead of one query per poll. Each is used
        once: polling a source again reads it afresh.
        """
        self._expected = list(source_ids)
        self._unread = {}
        for position, source_id in enumerate(self._expected):
            self._unread.setdefault(source_id, position)

    def _snapshot(self, source_id: int) -> SourceSnapshot | None:
        if source_id in self._snapshots:
            return self._snapshots.pop(source_id)
        position = self._unread.get(source_id)
        if position is None:
            return snapshot(self.db, source_id)
        window = [sid for sid in self._expected[position : position + SNAPSHOT_BATCH_SOURCES] if sid in self._unread]
        read = read_snapshots(self.db, window)
        for sid in window:
            del self._unread[sid]
            self._snapshots[sid] = read.get(sid)
        return self._snapshots.pop(source_id)

    async def collect(self, source_id: int) -> SourceResult | None:
        """Poll one source once and record the result. ``None`` if the source no longer exists."""
        self._polling += 1
        polling = True
        try:
            async with self.fetcher.slot():
                # A short read that never waits on writers (WAL readers, MVCC): cheaper inline than handed to a thread.
                source = self._snapshot(source_id)
                if source is None:
                    return None
                outcome, records = await self._poll(source)
                self._polling -= 1
                polling = False
                if records:  # items and the validators that describe them: one transaction of their own
                    return await self.db.run(commit_poll, self.db, self.settings, source_id, outcome, records)
        finally:
            if polling:
                self._polling -= 1
        # No body is held any more, so the place goes to the next poll while this one waits for its batch.
        return await self._health.write(source_id, outcome)

    async def _poll(self, source: SourceSnapshot) -> tuple[PollOutcome, list[ItemRecord]]:
        clock = self.clock
        started_at = clock()
        try:
            fetch = await self.fetcher.fetch(source.url, etag=source.etag, last_modified=source.last_modified)
        except FetchError as exc:
            return outcome_from_error(exc, started_at, clock()), []
        except Exception as exc:  # not a feed-side failure we know: still this source's, recorded in its health
            logger.exception("%s：抓取时出错", source.name)
            failed = PollOutcome(
                status="error", started_at=started_at, finished_at=clock(), error=f"抓取失败：{describe_failure(exc)}"
            )
            return failed, []
        if fetch.not_modified:  # nothing to parse: no need to leave the event loop
            return process_document(source, fetch, self.settings, started_at=started_at, fetched_at=clock())
        following, note = await fetch_following_pages(self.fetcher, source.kind, source.extract, fetch, source.content_sha1)
        # Parsing is CPU-bound: keep the event loop free for the other fetches meanwhile.
        return await asyncio.to_thread(
            process_document, source, fetch, self.settings, started_at=started_at, fetched_at=clock(),
            following=following, following_note=note,
        )  # fmt: skip


async def collect_source(
    db: Database, settings: Settings, source_id: int, fetcher: Fetcher, *, clock: Clock = utcnow
) -> SourceResult | None:
    """Poll one source once on its own and record the result. ``None`` if the source no longer exists.

    Many polls at once should share one ``Collector``, which reads and writes them in batches.
    """
    return await Collector(db, settings, fetcher, clock=clock).collect(source_id)


def ingest_document(
    db: Database,
    settings: Settings,
    source_id: int,
    body: bytes,
    *,
    content_type: str | None = None,
    clock: Clock = utcnow,
) -> SourceResult | None:
    """Parse, normalize and store a document as if it had just been fetched (tests, benchmarks, replays)."""
    source = snapshot(db, source_id)
    if source is None:
        return None
    started_at = clock()
    fetch = FetchResult(
        url=source.url, final_url=source.url, http_status=200, not_modified=False, body=body,
        content_type=content_type, bytes_read=len(body),
    )  # fmt: skip
    outcome, records = process_document(source, fetch, settings, started_at=started_at, fetched_at=clock())
    return commit_poll(db, settings, source_id, outcome, records)
