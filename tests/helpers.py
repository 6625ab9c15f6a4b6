"""Small builders shared by the tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from yuqing_core.collect import netpolicy
from yuqing_core.collect.fetch import Fetcher
from yuqing_core.collect.service import Collector, SourceResult
from yuqing_core.collect.sources import SourceSpec, import_sources
from yuqing_core.config import Settings
from yuqing_core.db import Database, Item, Source
from yuqing_core.demo.feeds import FeedEntry, render_feed

SHANGHAI = ZoneInfo("Asia/Shanghai")


def entries(count: int, *, start: int = 0, prefix: str = "条目", when: datetime | None = None) -> list[FeedEntry]:
    when = when or datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)
    return [
        FeedEntry(
            guid=f"{prefix}-{i}",
            title=f"{prefix}{i}：青禾县政务动态",
            text=f"第{i}条。青禾县柳湾镇召开会议，研究道路建设与河道治理。",
            published=when - timedelta(minutes=i),
            link=f"/a/{prefix}-{i}.html",
        )
        for i in range(start, start + count)
    ]


def rss(items: list[FeedEntry], fmt: str = "rss2", date_style: str = "rfc822") -> bytes:
    return render_feed(fmt, title="青禾县", site_url="http://example.org/", entries=items, date_style=date_style)  # type: ignore[arg-type]


def add_sources(db: Database, settings: Settings, now: datetime | None = None, **urls: str) -> dict[str, int]:
    """Create sources named by keyword (added at ``now``, default: now), return name -> id."""
    import_sources(db, [SourceSpec(name=name, url=url) for name, url in urls.items()], settings, now=now)
    with db.reader() as session:
        return {s.name: s.id for s in session.scalars(select(Source))}


def collect(db: Database, settings: Settings, *source_ids: int) -> list[SourceResult]:
    """Poll the sources once, together, the way a collect flow run does (one ``Collector``)."""

    async def go() -> list[SourceResult]:
        async with Fetcher(settings) as fetcher:
            collector = Collector(db, settings, fetcher)
            collector.expect(source_ids)
            results = await asyncio.gather(*(collector.collect(sid) for sid in source_ids))
        return [r for r in results if r is not None]

    return asyncio.run(go())


def item_rows(db: Database) -> list[tuple]:
    """The stored items by natural key, without surrogate ids or fetch times."""
    with db.reader() as session:
        rows = session.execute(
            select(Source.name, Item.entry_key, Item.guid, Item.url, Item.title, Item.text, Item.published_at, Item.fingerprint)
            .join(Source, Source.id == Item.source_id)
            .order_by(Source.name, Item.entry_key)
        )
        return [tuple(row) for row in rows]


def source_row(db: Database, name: str) -> Source:
    with db.reader() as session:
        return session.scalars(select(Source).where(Source.name == name)).one()


async def task_runs_of(flow_run_id, expected: int = 0, attempts: int = 40) -> list:  # type: ignore[no-untyped-def]
    """The task runs of a flow run. They reach the server asynchronously: wait until ``expected`` are there."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        for _ in range(attempts):
            runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            if len(runs) >= expected:
                break
            await asyncio.sleep(0.25)
    return runs


def task_run_name(run) -> str:  # type: ignore[no-untyped-def]
    """A task run's name without the provisional "-<3 hex>" suffix it may still show just after it is recorded."""
    return re.sub(r"-[0-9a-f]{3}$", "", run.name)


def jieba_tfidf_of_joined_texts(texts: list[str], user_words: list[str]) -> list[tuple[str, float]]:
    """The oracle: jieba's own TF-IDF over the texts joined into one document, with a fresh tokenizer."""
    import jieba.analyse

    from yuqing_core.events._hotwords import _CJK_WORD, CHINESE_STOP_WORDS
    from yuqing_core.text import new_jieba_tokenizer, normalize_text

    tokenizer = new_jieba_tokenizer()
    tokenizer.initialize()
    for word in user_words:
        tokenizer.add_word(normalize_text(word))
    tfidf = jieba.analyse.TFIDF()
    tfidf.tokenizer, tfidf.postokenizer = tokenizer, None
    tfidf.stop_words = set(tfidf.stop_words) | CHINESE_STOP_WORDS
    document = "\n".join(normalize_text(text) for text in texts if text)
    ranked = [(w, float(x)) for w, x in tfidf.extract_tags(document, topK=None, withWeight=True) if _CJK_WORD.fullmatch(w)]
    return sorted(ranked, key=lambda pair: (-pair[1], pair[0]))


async def prefect_events(name: str, *, since: datetime, expected: int, flow_run_id: object = None) -> list[dict[str, Any]]:
    """Prefect events called ``name`` since ``since``, polled until ``expected`` have arrived (the server
    persists them asynchronously); with ``flow_run_id``, only those a run emitted (other tests' runs may
    be as recent)."""
    from prefect.client.orchestration import get_client

    events: list[dict[str, Any]] = []
    async with get_client() as client:
        for _ in range(60):
            response = await client._client.post(
                "/events/filter",
                json={"filter": {"event": {"name": [name]}, "occurred": {"since": since.isoformat()}}, "limit": 50},
            )
            events = [
                event
                for event in response.json()["events"]
                if flow_run_id is None
                or any(related.get("prefect.resource.id") == f"prefect.flow-run.{flow_run_id}" for related in event["related"])
            ]
            if len(events) >= expected:
                break
            await asyncio.sleep(0.25)
    return events


# --- hostile networks ---------------------------------------------------------


@dataclass
class Listener:
    """A TCP port on 127.0.0.1 that counts the connections it accepts (an internal service to protect)."""

    port: int
    connections: int = 0


@contextmanager
def listener() -> Iterator[Listener]:
    """A ``Listener`` for the duration of the block; it closes every connection it accepts."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(0.05)
        counted = Listener(port=server.getsockname()[1])
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                try:
                    connection, _ = server.accept()
                except TimeoutError:
                    continue
                counted.connections += 1
                connection.close()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            yield counted
        finally:
            stop.set()
            thread.join()


@dataclass
class RebindingResolver:
    """A stand-in for ``netpolicy.resolve``: ``name`` resolves to ``first``, then to ``then`` on every later lookup.

    Other names resolve as usual. ``lookups`` counts the lookups of ``name``.
    """

    name: str
    first: list[str]
    then: list[str]
    lookups: int = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        if host != self.name:
            return await REAL_RESOLVE(host, port)
        self.lookups += 1
        return list(self.first if self.lookups == 1 else self.then)


REAL_RESOLVE = netpolicy.resolve
