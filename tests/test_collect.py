"""The collect stage end to end over real HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from helpers import add_sources, collect, entries, item_rows, rss, source_row
from yuqing_core.collect.service import SourceRef, UnknownSources, due_sources, ingest_document
from yuqing_core.collect.sources import set_enabled
from yuqing_core.db import FetchAttempt, Item, Source
from yuqing_core.timeutil import utcnow


def respond(status, body=b"", headers=None):
    def handler(request):
        request.send_response(status)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handler


def test_first_poll_stores_items_and_a_second_stores_nothing(db, settings, feed_server) -> None:
    feed_server.add("/gov.xml", rss(entries(5)))
    ids = add_sources(db, settings, 县政府网=feed_server.url("/gov.xml"))
    (first,) = collect(db, settings, ids["县政府网"])
    assert (first.status, first.entries_seen, first.items_new) == ("ok", 5, 5)
    stored = item_rows(db)
    (second,) = collect(db, settings, ids["县政府网"])
    assert (second.status, second.http_status, second.items_new) == ("not_modified", 304, 0)
    assert item_rows(db) == stored and len(stored) == 5
    source = source_row(db, "县政府网")
    assert source.etag and source.last_success_at and source.last_new_item_at
    assert source.consecutive_errors == 0 and source.next_poll_at > utcnow()


def test_only_new_entries_are_added_when_a_feed_grows(db, settings, feed_server) -> None:
    route = feed_server.add("/gov.xml", rss(entries(3)))
    ids = add_sources(db, settings, gov=feed_server.url("/gov.xml"))
    collect(db, settings, ids["gov"])
    feed_server.add("/gov.xml", rss(entries(3, prefix="新") + entries(3)))
    assert route.etag != feed_server.routes["/gov.xml"].etag
    (result,) = collect(db, settings, ids["gov"])
    assert (result.entries_seen, result.items_new) == (6, 3)
    assert len(item_rows(db)) == 6


def test_same_content_under_a_new_etag_is_unchanged(db, settings, feed_server) -> None:
    body = rss(entries(2))
    feed_server.add("/gov.xml", body, etag='"v1"')
    ids = add_sources(db, settings, gov=feed_server.url("/gov.xml"))
    collect(db, settings, ids["gov"])
    feed_server.add("/gov.xml", body, etag='"v2"')
    (result,) = collect(db, settings, ids["gov"])
    assert result.status == "not_modified" and result.note == "内容与上次相同"
    assert source_row(db, "gov").etag == '"v2"'


def test_items_keep_zones_and_record_date_fallbacks(db, settings, feed_server) -> None:
    body = """<?xml version="1.0" encoding="gb2312"?><rss version="2.0"><channel><title>镇</title>
<item><title>柳湾镇通知</title><guid>1</guid><pubDate>2026年11月27日 09:30</pubDate><description>镕</description></item>
<item><title>无日期</title><guid>2</guid></item></channel></rss>""".encode("gb18030")
    feed_server.add("/town.xml", body, content_type="text/xml")
    ids = add_sources(db, settings, town=feed_server.url("/town.xml"))
    collect(db, settings, ids["town"])
    with db.reader() as session:
        dated, undated = session.scalars(select(Item).order_by(Item.guid)).all()
    assert dated.title == "柳湾镇通知" and dated.text == "镕"
    assert dated.published_at.isoformat() == "2026-11-27T01:30:00+00:00"
    assert dated.published_fallback is None
    assert undated.published_fallback == "missing" and undated.published_at == undated.fetched_at


def test_malformed_feed_with_entries_is_not_a_failure(db, settings, feed_server) -> None:
    feed_server.add("/broken.xml", rss(entries(3))[:-30])
    ids = add_sources(db, settings, broken=feed_server.url("/broken.xml"))
    (result,) = collect(db, settings, ids["broken"])
    assert result.status == "ok" and result.items_new >= 2
    assert "格式不规范" in result.note
    assert source_row(db, "broken").consecutive_errors == 0


def test_not_a_feed_is_recorded_as_an_error(db, settings, feed_server) -> None:
    feed_server.add("/page.html", b"<html><body>hello</body></html>", content_type="text/html")
    ids = add_sources(db, settings, page=feed_server.url("/page.html"))
    (result,) = collect(db, settings, ids["page"])
    assert result.failed and result.error.startswith("解析失败")
    source = source_row(db, "page")
    assert source.consecutive_errors == 1 and source.last_error == result.error
    assert source.etag is None  # a failed parse must not save validators that would hide the next try


def test_gone_disables_and_drops_out_of_the_schedule(db, settings, feed_server) -> None:
    feed_server.add_handler("/gone.xml", respond(410))
    ids = add_sources(db, settings, gone=feed_server.url("/gone.xml"))
    (result,) = collect(db, settings, ids["gone"])
    assert result.status == "gone" and not result.enabled
    assert due_sources(db, utcnow() + timedelta(days=30), all_sources=True) == []


def test_rate_limit_defers_the_next_poll(db, settings, feed_server) -> None:
    feed_server.add_handler("/busy.xml", respond(429, headers={"Retry-After": "7200"}))
    ids = add_sources(db, settings, busy=feed_server.url("/busy.xml"))
    (result,) = collect(db, settings, ids["busy"])
    assert result.status == "rate_limited" and result.consecutive_errors == 0
    assert due_sources(db, utcnow() + timedelta(minutes=90)) == []
    assert [s.name for s in due_sources(db, utcnow() + timedelta(hours=2, minutes=1))] == ["busy"]


def test_repeated_failures_disable_with_a_reason(db, settings, feed_server) -> None:
    settings = settings.model_copy(update={"collect_disable_after_errors": 3})
    feed_server.add_handler("/err.xml", respond(500))
    ids = add_sources(db, settings, err=feed_server.url("/err.xml"))
    for _ in range(3):
        (result,) = collect(db, settings, ids["err"])
    assert not result.enabled and result.disabled_reason.startswith("连续 3 次采集失败")
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(FetchAttempt)) == 3


def test_url_moves_after_repeated_permanent_redirects(db, settings, feed_server) -> None:
    feed_server.add("/new.xml", rss(entries(1)))
    feed_server.add_handler("/old.xml", respond(301, headers={"Location": "/new.xml"}))
    ids = add_sources(db, settings, moved=feed_server.url("/old.xml"))
    for _ in range(3):
        collect(db, settings, ids["moved"])
    assert source_row(db, "moved").url == feed_server.url("/new.xml")
    assert len(item_rows(db)) == 1


def test_a_crash_while_recording_leaves_nothing_half_written(db, settings, feed_server, monkeypatch) -> None:
    feed_server.add("/gov.xml", rss(entries(4)))
    ids = add_sources(db, settings, gov=feed_server.url("/gov.xml"))

    def explode(*args, **kwargs):
        raise RuntimeError("killed between the items and the source update")

    monkeypatch.setattr("yuqing_core.collect.store.apply_outcome", explode)
    with pytest.raises(RuntimeError):
        collect(db, settings, ids["gov"])
    assert item_rows(db) == []
    assert source_row(db, "gov").etag is None
    monkeypatch.undo()
    (result,) = collect(db, settings, ids["gov"])
    assert result.items_new == 4  # nothing was hidden behind a saved ETag


def test_due_sources_filters(db, settings, feed_server) -> None:
    now = utcnow()
    ids = add_sources(db, settings, now=now, b=feed_server.url("/b"), a=feed_server.url("/a"), later=feed_server.url("/l"),
                      off=feed_server.url("/o"))  # fmt: skip
    with db.writer() as session:
        session.execute(update(Source).where(Source.name == "later").values(next_poll_at=now + timedelta(hours=1)))
    set_enabled(db, "off", False)

    def ref(name: str) -> SourceRef:
        return SourceRef(id=ids[name], name=name)

    assert due_sources(db, now) == [ref("a"), ref("b")]  # in name order; not before its next poll, never when disabled
    assert due_sources(db, now + timedelta(hours=1)) == [ref("a"), ref("b"), ref("later")]
    assert due_sources(db, now, all_sources=True) == [ref("a"), ref("b"), ref("later")]
    assert due_sources(db, now, names=["b"]) == [ref("b")]
    assert due_sources(db, now, names=["later", "off"]) == []
    assert due_sources(db, now, names=["later", "off"], all_sources=True) == [ref("later")]
    with pytest.raises(UnknownSources, match="没有这些信息源：c") as raised:
        due_sources(db, now, names=["b", "c"])
    assert raised.value.names == ["c"]


def test_ingest_document_is_the_same_path_without_http(db, settings) -> None:
    ids = add_sources(db, settings, replay="http://example.org/feed.xml")
    result = ingest_document(db, settings, ids["replay"], rss(entries(3)))
    again = ingest_document(db, settings, ids["replay"], rss(entries(3, prefix="另")))
    assert (result.items_new, again.items_new) == (3, 3)
    assert ingest_document(db, settings, ids["replay"], rss(entries(3))).items_new == 0


def test_shards_split_the_sources_between_machines(db, settings, feed_server) -> None:
    add_sources(db, settings, **{f"s{i}": feed_server.url(f"/{i}.xml") for i in range(7)})
    everyone = {s.name for s in due_sources(db, utcnow())}
    first = {s.name for s in due_sources(db, utcnow(), shard="1/2")}
    second = {s.name for s in due_sources(db, utcnow(), shard="2/2")}
    assert first | second == everyone and not first & second and first and second
    with pytest.raises(ValueError, match="分片应写成 k/n"):
        due_sources(db, utcnow(), shard="3/2")
