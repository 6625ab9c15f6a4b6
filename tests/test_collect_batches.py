"""Polls without items written in batches, and sources read in bulk: the same database as one poll at a time.

Plain function calls on SQLite and PostgreSQL; the end-to-end paths (HTTP,
killed runs, the Prefect flow) are in test_collect.py, test_exactly_once.py
and test_collect_flow.py, which all go through ``Collector``.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from helpers import add_sources, collect, entries, rss
from yuqing_core.collect import service
from yuqing_core.collect.fetch import Fetcher
from yuqing_core.collect.health import PollOutcome
from yuqing_core.collect.service import Collector, HealthBatches, commit_poll, commit_polls_without_items
from yuqing_core.db import FetchAttempt, Source
from yuqing_core.timeutil import utcnow

HEALTH_COLUMNS = (
    "enabled", "disabled_reason", "etag", "last_modified", "content_sha1", "last_polled_at", "last_success_at",
    "last_new_item_at", "next_poll_at", "last_status", "last_http_status", "last_error", "last_note",
    "consecutive_errors", "redirect_url", "redirect_count", "url",
)  # fmt: skip


def outcomes() -> list[PollOutcome]:
    """One of each kind of poll that brings no items."""
    now = utcnow()
    started = now - timedelta(seconds=1)
    return [
        PollOutcome(status="not_modified", started_at=started, finished_at=now, http_status=304, final_url="http://a/"),
        PollOutcome(status="ok", started_at=started, finished_at=now, http_status=200, etag='"v2"', content_sha1="c" * 40,
                    note="内容与上次相同"),
        PollOutcome(status="error", started_at=started, finished_at=now, http_status=500, error="HTTP 500"),
        PollOutcome(status="gone", started_at=started, finished_at=now, http_status=410, error="HTTP 410"),
        PollOutcome(status="rate_limited", started_at=started, finished_at=now, http_status=429, error="HTTP 429",
                    retry_after_s=7200),
        PollOutcome(status="ok", started_at=started, finished_at=now, http_status=200, permanent_redirect="http://b/feed"),
    ]  # fmt: skip


def health(db, names: list[str]) -> list[tuple]:
    with db.reader() as session:
        by_name = {s.name: s for s in session.scalars(select(Source).where(Source.name.in_(names)))}
    return [tuple(getattr(by_name[name], column) for column in HEALTH_COLUMNS) for name in names]


def poll_log(db, names: list[str]) -> list[tuple]:
    with db.reader() as session:
        rows = session.execute(
            select(Source.name, FetchAttempt.status, FetchAttempt.http_status, FetchAttempt.error, FetchAttempt.final_url,
                   FetchAttempt.items_new, FetchAttempt.started_at)
            .join(Source, Source.id == FetchAttempt.source_id)
            .where(Source.name.in_(names))
        )  # fmt: skip
        by_name = {row[0]: row[1:] for row in rows}
    return [by_name[name] for name in names]


def test_a_batch_leaves_each_source_as_polling_it_alone_would(db, settings, monkeypatch) -> None:
    monkeypatch.setattr("yuqing_core.collect.health._rng", random.Random(1))  # the backoff jitter, alike on both sides
    batched = [f"批{i}" for i in range(6)]
    alone = [f"单{i}" for i in range(6)]
    # Each pair shares its URL, so the two sides can be compared column by column.
    ids = add_sources(db, settings, **{name: f"http://example.org/{name[1:]}.xml" for name in batched + alone})
    polls = outcomes()

    results = commit_polls_without_items(
        db, settings, [(ids[name], outcome) for name, outcome in zip(batched, polls, strict=True)]
    )
    monkeypatch.setattr("yuqing_core.collect.health._rng", random.Random(1))
    expected = [commit_poll(db, settings, ids[name], outcome, []) for name, outcome in zip(alone, polls, strict=True)]

    assert health(db, batched) == health(db, alone)
    assert poll_log(db, batched) == poll_log(db, alone)

    def shown(result):
        return result.status, result.http_status, result.error, result.enabled, result.consecutive_errors, result.next_poll_at

    assert [shown(r) for r in results] == [shown(r) for r in expected]
    assert [r.name for r in results] == batched


def test_a_source_removed_meanwhile_is_none_and_the_rest_are_written(db, settings) -> None:
    ids = add_sources(db, settings, 在="http://example.org/a.xml")
    (poll, *_rest) = outcomes()
    results = commit_polls_without_items(db, settings, [(ids["在"], poll), (10_000_000, poll)])
    assert results[1] is None and results[0] is not None and results[0].status == "not_modified"
    assert poll_log(db, ["在"])[0][0] == "not_modified"

    async def poll_a_missing_source():
        async with Fetcher(settings) as fetcher:
            collector = Collector(db, settings, fetcher)
            collector.expect([10_000_000])
            return await collector.collect(10_000_000)

    assert asyncio.run(poll_a_missing_source()) is None


def write_together(db, settings, polls) -> list:
    async def go() -> list:
        batches = HealthBatches(db, settings)
        return await asyncio.gather(*(batches.write(source_id, outcome) for source_id, outcome in polls), return_exceptions=True)

    return asyncio.run(go())


def test_a_refused_batch_is_written_poll_by_poll_and_an_unreachable_database_fails_each_poll(db, settings, monkeypatch) -> None:
    ids = add_sources(db, settings, a="http://example.org/a.xml", b="http://example.org/b.xml")
    poll = outcomes()[0]

    def unreachable(*args, **kwargs):
        raise OperationalError("UPDATE sources", {}, Exception("database is locked"))

    monkeypatch.setattr(service, "commit_polls_without_items", unreachable)
    results = write_together(db, settings, [(ids["a"], poll), (ids["b"], poll)])
    assert all(isinstance(r, OperationalError) for r in results)  # for the task layer to retry
    with db.reader() as session:
        assert session.scalars(select(FetchAttempt)).all() == []

    def refuse(*args, **kwargs):
        raise ValueError("a value the database refuses")

    monkeypatch.setattr(service, "commit_polls_without_items", refuse)
    results = write_together(db, settings, [(ids["a"], poll), (ids["b"], poll)])
    assert [(r.name, r.status) for r in results] == [("a", "not_modified"), ("b", "not_modified")]
    assert [row[0] for row in poll_log(db, ["a", "b"])] == ["not_modified", "not_modified"]


def test_a_collector_reads_the_sources_it_expects_in_one_query_and_polls_again_afresh(
    db, settings, feed_server, monkeypatch
) -> None:
    names = [f"源{i}" for i in range(5)]
    for i, name in enumerate(names):
        feed_server.add(f"/{i}.xml", rss(entries(2, prefix=name)))
    ids = add_sources(db, settings, **{name: feed_server.url(f"/{i}.xml") for i, name in enumerate(names)})
    collect(db, settings, *ids.values())  # every feed stored, with its ETag

    reads: list[list[int]] = []
    read_snapshots = service.read_snapshots

    def counted(db_, source_ids):
        reads.append(list(source_ids))
        return read_snapshots(db_, source_ids)

    monkeypatch.setattr(service, "read_snapshots", counted)

    async def twice() -> tuple[list, object]:
        async with Fetcher(settings) as fetcher:
            collector = Collector(db, settings, fetcher)
            collector.expect(list(ids.values()))
            first = await asyncio.gather(*(collector.collect(source_id) for source_id in ids.values()))
            again = await collector.collect(ids["源0"])
        return first, again

    first, again = asyncio.run(twice())
    assert reads == [list(ids.values()), [ids["源0"]]]
    assert [(r.name, r.status, r.http_status) for r in first] == [(name, "not_modified", 304) for name in names]
    assert (again.status, again.http_status) == ("not_modified", 304)
    with db.reader() as session:
        assert len(session.scalars(select(FetchAttempt)).all()) == 2 * 5 + 1
