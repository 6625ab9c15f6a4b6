"""``page`` and ``json`` sources: selectors on real captured list pages, a JSON message board whose
replies time the response, site changes as named health errors, ``yuqing sources test``."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from helpers import collect, source_row
from yuqing_core.collect.pages import PageSpec, parse_page
from yuqing_core.collect.sources import SourceSpec, import_sources, load_sources_file
from yuqing_core.collect.trial import TrialTarget, trial_source
from yuqing_core.config import get_settings
from yuqing_core.db import Item
from yuqing_core.risk.response import WeekdayCalendar
from yuqing_core.risk.scoring import EventFacts, ScoredItem, score_event
from yuqing_core.yamlfile import ConfigFileError

PAGES = Path(__file__).parent / "data" / "pages"
HRFUND = {"items": "div.infor-con li", "title": "h2 a", "link": "h2 a", "date": "i"}
LETTERS = {
    "items": "data.list",
    "id": "letterId",
    "title": "title",
    "text": "content",
    "time": "createTime",
    "link_template": "http://127.0.0.1/letter.html?id={id}",
    "reply": {"text": "reply.content", "time": "reply.replyTime", "by": "reply.unitName"},
}


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def add_extracted(db, settings, name: str, url: str, kind: str, extract: dict, role: str = "official") -> int:
    spec = SourceSpec.model_validate({"name": name, "url": url, "kind": kind, kind: extract, "role": role})
    import_sources(db, [spec], settings)
    return source_row(db, name).id


def test_selectors_read_real_list_pages_css_and_xpath() -> None:
    fund = parse_page([(page("hrfund_announcement.html"), None, "http://127.0.0.1/news/")], PageSpec(**HRFUND))
    assert fund.entries_total == 10 and fund.warning is None
    first = fund.entries[0]
    assert first.title.startswith("华融基金管理有限公司关于旗下基金") and first.date_raw == "2020-04-30"
    assert first.link == "http://127.0.0.1/Upload/File/202004/20200429175329_3226.pdf"
    rolling = PageSpec(
        items="//div[@id='instantPanel']//ul[@class='list_txt']/li",
        title="a:not(.cBlue)",
        link="a:not(.cBlue)",
        date="span.cDGray",
        summary="a.cBlue",
    )
    news = parse_page([(page("netease_rolling_news.html"), None, "http://127.0.0.1/")], rolling)
    assert news.entries_total == 40
    assert news.entries[0].date_raw == "2020-08-16 22:26:38"  # "(2020-08-16 22:26:38)" on the page
    assert news.entries[0].body == "[社会]"


def test_page_source_follows_next_page_and_stores_each_entry_once(db, settings, feed_server) -> None:
    feed_server.add("/fund/news.html", page("hrfund_announcement.html"), content_type="text/html; charset=utf-8")
    feed_server.add(
        "/fund/information_3.html", page("hrfund_announcement.html").replace(b"20200429175329_3226", b"next-page-only")
    )
    spec = {**HRFUND, "next_page": "a.next", "max_pages": 3}
    source_id = add_extracted(db, settings, "华融公告", feed_server.url("/fund/news.html"), "page", spec)
    (result,) = collect(db, settings, source_id)
    assert result.status == "ok" and result.items_new == 11  # ten, and the one link only page 2 has
    assert feed_server.hits["/fund/information_3.html"] == 1  # page 2's next link is itself: not fetched again
    with db.reader() as session:
        dates = {item.published_at for item in session.scalars(select(Item))}
    assert datetime(2020, 4, 29, 16, 0, tzinfo=UTC) in dates  # 2020-04-30 in the source's zone (+08:00)
    (again,) = collect(db, settings, source_id)
    assert again.items_new == 0


def test_a_site_change_is_a_health_error_naming_the_selector(db, settings, feed_server) -> None:
    feed_server.add("/fund/news.html", page("hrfund_announcement.html"))
    source_id = add_extracted(db, settings, "华融公告", feed_server.url("/fund/news.html"), "page", HRFUND)
    collect(db, settings, source_id)
    feed_server.add("/fund/news.html", page("dfa66_announcement.html"))  # redesigned: another layout
    (changed,) = collect(db, settings, source_id)
    assert changed.status == "error"
    assert "page.items「div.infor-con li」" in (changed.error or "") and "改版" in (changed.error or "")
    feed_server.add("/fund/news.html", page("hrfund_announcement.html").replace(b"<i>", b"<b>").replace(b"</i>", b"</b>"))
    (no_dates,) = collect(db, settings, source_id)
    assert no_dates.status == "error" and "page.date「i」" in (no_dates.error or "")


def test_json_board_replies_are_stored_with_their_message_and_later_replies_too(db, settings, feed_server) -> None:
    letters = json.loads(page("letters.json"))
    feed_server.add("/api/letters", json.dumps(letters).encode(), content_type="application/json")
    source_id = add_extracted(db, settings, "县长信箱", feed_server.url("/api/letters"), "json", LETTERS, role="public")
    (first,) = collect(db, settings, source_id)
    assert (first.status, first.items_new) == ("ok", 3)
    letters["data"]["list"][0]["reply"] = {"content": "已安排疏通排水沟。", "replyTime": "2026-11-28 10:00", "unitName": "柳湾镇"}
    feed_server.add("/api/letters", json.dumps(letters).encode(), content_type="application/json")
    (second,) = collect(db, settings, source_id)
    assert second.items_new == 0
    with db.reader() as session:
        items = {item.guid: item for item in session.scalars(select(Item))}
    assert len(items) == 3
    assert items["9003"].reply_at == datetime(2026, 11, 28, 2, 0, tzinfo=UTC) and items["9003"].reply_by == "柳湾镇"
    assert items["9002"].reply_text == "经核查，系管网冲洗所致，现已恢复正常。"
    assert items["9002"].reply_at == datetime(2026, 11, 26, 8, 40, tzinfo=UTC)
    assert items["9001"].reply_at == datetime.fromtimestamp(1764122400, UTC)  # epoch milliseconds
    assert items["9001"].url == "http://127.0.0.1/letter.html?id=9001"
    letters["data"]["list"][0]["reply"]["replyTime"] = "2026-11-29 10:00"  # a reply edited later: the first is kept
    feed_server.add("/api/letters", json.dumps(letters).encode(), content_type="application/json")
    collect(db, settings, source_id)
    with db.reader() as session:
        kept = session.scalar(select(Item.reply_at).where(Item.guid == "9003"))
    assert kept == datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    letters["data"] = {"rows": letters["data"]["list"]}  # the API changed its shape
    feed_server.add("/api/letters", json.dumps(letters).encode(), content_type="application/json")
    (broken,) = collect(db, settings, source_id)
    assert broken.status == "error" and "json.items「data.list」" in (broken.error or "")


def test_a_reply_is_the_official_response_of_the_message_event() -> None:
    t0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Tuesday 09:00 Shanghai
    message = ScoredItem(t0, "县长信箱", "public", "complaint", 1.0)
    unanswered = score_event(EventFacts(3, "供水", (message,)), now=t0 + timedelta(days=3), calendar=WeekdayCalendar())
    answered = score_event(
        EventFacts(3, "供水", (message,), replies=(t0 + timedelta(hours=2),)),
        now=t0 + timedelta(days=3),
        calendar=WeekdayCalendar(),
    )
    assert unanswered.response.first_response_at is None
    assert answered.response.first_response_at == t0 + timedelta(hours=2) and answered.response.status == "on_time"


def test_a_page_of_replies_names_the_post_each_answers() -> None:
    replies = """<html><body><ul class="replies">
<li><a class="r" href="/p/9?pid=1">回复：化工园区的味道又来了</a><a class="thread" href="/p/9">原帖</a><span>11-27 10:02</span></li>
<li><a class="r" href="http://bbs.example.cn/p/12?pid=4">回复：同问</a><a class="thread" href="http://bbs.example.cn/p/12">原帖</a></li>
<li><a class="r" href="/p/15">新帖：周末去梅岭采茶</a></li>
</ul></body></html>""".encode()
    spec = PageSpec(items="ul.replies > li", link="a.r", title="a.r", parent="a.thread")
    parsed = parse_page([(replies, "text/html; charset=utf-8", "http://bbs.example.cn/replies?page=2")], spec)
    # Resolved against the page, like links; a new post answers nothing, and no entry answering any is no error.
    assert [entry.in_reply_to for entry in parsed.entries] == ["http://bbs.example.cn/p/9", "http://bbs.example.cn/p/12", None]
    posts_only = replies.replace(b'<a class="thread" href="/p/9">', b"<a>").replace(
        b'<a class="thread" href="http://bbs.example.cn/p/12">', b"<a>"
    )
    assert [entry.in_reply_to for entry in parse_page([(posts_only, None, "http://bbs.example.cn/")], spec).entries] == [None] * 3


def test_sources_file_validates_selectors_and_mappings_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        """sources:
  - name: 镇政府
    url: http://127.0.0.1/list.html
    kind: page
    page:
      items: "ul > li["
  - name: 信箱
    url: http://127.0.0.1/api
    kind: json
    json:
      items: "data.[list"
      title: title
  - name: 无配置
    url: http://127.0.0.1/x
    kind: page
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigFileError) as raised:
        load_sources_file(path)
    problems = {(p.line, p.field) for p in raised.value.problems}
    assert (6, "sources[0].page.items") in problems
    assert (11, "sources[1].json.items") in problems
    assert any(p.field.startswith("sources[2]") and "page" in p.message for p in raised.value.problems)


def test_sources_test_shows_what_each_selector_extracts(sqlite_settings, feed_server, tmp_path, monkeypatch) -> None:
    settings = sqlite_settings
    feed_server.add("/fund/news.html", page("hrfund_announcement.html"))
    target = TrialTarget(
        "华融公告", feed_server.url("/fund/news.html"), "page", {"page": {**HRFUND, "summary": "p.none"}}, "Asia/Shanghai"
    )
    report = asyncio.run(trial_source(target, settings))
    assert not report.ok and "page.summary「p.none」" in (report.error or "")
    assert [(c.field, c.matched) for c in report.counts] == [
        ("items", 10),
        ("link", 10),
        ("title", 10),
        ("date", 10),
        ("summary", 0),
    ]

    from yuqing_core.cli import main

    path = tmp_path / "new.yaml"
    path.write_text(
        f"""sources:
  - name: 华融公告
    url: {feed_server.url("/fund/news.html")}
    kind: page
    page: {json.dumps(HRFUND)}
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("YUQING_HOME", str(tmp_path))
    monkeypatch.setenv("YUQING_FETCH_ALLOWED_NETWORKS", "127.0.0.1")
    get_settings.cache_clear()
    try:
        outcome = CliRunner().invoke(main, ["sources", "test", str(path), "--limit", "2"])
    finally:
        get_settings.cache_clear()
    assert outcome.exit_code == 0, outcome.output
    assert "✓ items「div.infor-con li」：10/10" in outcome.output
    assert "提取到 10 个条目" in outcome.output and "2020-04-30 00:00" in outcome.output
    assert feed_server.hits["/fund/news.html"] == 2  # fetched, nothing stored (no database was needed)


def test_a_collected_reply_times_the_event_and_leads_the_special_report(sqlite_db, sqlite_settings, feed_server) -> None:
    from yuqing_core.analysis import analyze
    from yuqing_core.db.models import Event, EventItem
    from yuqing_core.demo.backlog import RISK_FILE
    from yuqing_core.reports.data import build_special_report
    from yuqing_core.risk.library import load_library_file
    from yuqing_core.risk.versions import import_library

    feed_server.add("/api/letters", page("letters.json"), content_type="application/json")
    source_id = add_extracted(
        sqlite_db, sqlite_settings, "县长信箱", feed_server.url("/api/letters"), "json", LETTERS, role="public"
    )
    collect(sqlite_db, sqlite_settings, source_id)
    import_library(sqlite_db, load_library_file(RISK_FILE), author="测试")
    now = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    analyze(sqlite_db, now=now)
    with sqlite_db.reader() as session:
        water = session.scalar(select(Item).where(Item.guid == "9002"))
        event = session.scalar(select(Event).join(EventItem, EventItem.event_id == Event.id).where(EventItem.item_id == water.id))
    assert event is not None and event.first_response_at == water.reply_at  # the unit's reply, 16:40 the same day
    assert event.response_status == "on_time"
    report = build_special_report(sqlite_db, sqlite_settings, event_id=event.id, now=now)
    first = report.official_responses[0]
    assert first.item.published == water.reply_at and first.item.source == "县水利局（县长信箱）"
    assert first.label.startswith("首次回应，按时") and "管网冲洗" in first.item.excerpt


def test_sources_test_by_name_shows_the_mapping_and_replies(db, env_settings, feed_server) -> None:
    from yuqing_core.cli import main

    feed_server.add("/api/letters", page("letters.json"), content_type="application/json")
    add_extracted(db, env_settings, "县长信箱", feed_server.url("/api/letters"), "json", LETTERS, role="public")
    outcome = CliRunner().invoke(main, ["sources", "test", "县长信箱"])
    assert outcome.exit_code == 0, outcome.output
    assert "✓ reply.text「reply.content」：2/3 个条目有匹配" in outcome.output
    assert "官方回复（县水利局）：2026-11-26 16:40 经核查" in outcome.output
    with db.reader() as session:
        assert session.scalar(select(Item.id)) is None  # nothing stored
    missing = CliRunner().invoke(main, ["sources", "test", "没有这个源"])
    assert missing.exit_code == 1 and "没有名为 '没有这个源' 的信息源" in missing.output


COMMENTS = {
    "items": "data.comments",
    "id": "cid",
    "text": "content",
    "time": "created",
    "parent": "statusId",  # an id: the link template makes it the post's address
    "link_template": "http://127.0.0.1/letter.html?id={id}",
}


def test_comments_name_their_post_and_join_its_event_whatever_their_words(sqlite_db, sqlite_settings, feed_server) -> None:
    from yuqing_core.analysis import analyze
    from yuqing_core.db.models import EventItem, ItemAnalysis
    from yuqing_core.demo.backlog import RISK_FILE
    from yuqing_core.risk.library import load_library_file
    from yuqing_core.risk.versions import import_library

    comments = {
        "data": {
            "comments": [
                {"cid": "c1", "content": "[怒][怒]", "created": "2026-11-26 10:02", "statusId": 9002},
                {"cid": "c2", "content": "我们小区也是这样，已经好几天了", "created": "2026-11-26 10:30", "statusId": "9002"},
                {"cid": "c3", "content": "[赞]", "created": "2026-11-26 11:00", "statusId": "7777"},  # a post not collected
                {"cid": "c4", "content": "路过", "created": "2026-11-26 11:10"},  # no parent: a post of its own
            ]
        }
    }
    board = json.loads(page("letters.json"))
    board["data"]["list"][1]["createTime"] = "2026-11-10 09:15"  # 16 days before its comments: out of the grouping window
    feed_server.add("/api/letters", json.dumps(board).encode(), content_type="application/json")
    feed_server.add("/api/comments", json.dumps(comments).encode(), content_type="application/json")
    letters = add_extracted(
        sqlite_db, sqlite_settings, "县长信箱", feed_server.url("/api/letters"), "json", LETTERS, role="public"
    )
    remarks = add_extracted(
        sqlite_db, sqlite_settings, "县长信箱评论", feed_server.url("/api/comments"), "json", COMMENTS, role="public"
    )
    import_library(sqlite_db, load_library_file(RISK_FILE), author="测试")
    collect(sqlite_db, sqlite_settings, letters)
    analyze(sqlite_db, now=datetime(2026, 11, 20, 4, 0, tzinfo=UTC))  # the post is grouped days before its comments come
    (polled,) = collect(sqlite_db, sqlite_settings, remarks)
    assert (polled.status, polled.items_new) == ("ok", 4)  # a list with no parent in some entries is fine
    with sqlite_db.reader() as session:
        replies = dict(session.execute(select(Item.guid, Item.in_reply_to).where(Item.source_id == remarks)).all())
    assert replies == {
        "c1": "http://127.0.0.1/letter.html?id=9002",
        "c2": "http://127.0.0.1/letter.html?id=9002",
        "c3": "http://127.0.0.1/letter.html?id=7777",
        "c4": None,
    }
    analyze(sqlite_db, now=datetime(2026, 11, 30, 4, 0, tzinfo=UTC))
    with sqlite_db.reader() as session:
        rows = session.execute(
            select(Item.guid, ItemAnalysis.relevant, EventItem.event_id, EventItem.joined_by)
            .join(ItemAnalysis, ItemAnalysis.item_id == Item.id)
            .outerjoin(EventItem, EventItem.item_id == Item.id)
            .where(Item.guid.in_(["9002", "c1", "c2", "c3", "c4"]))
        ).all()
    by_guid = {row.guid: row for row in rows}
    assert by_guid["9002"].relevant and by_guid["9002"].event_id is not None
    for guid in ("c1", "c2"):  # relevant with their post, and in its event through the thread
        assert by_guid[guid].relevant and by_guid[guid].event_id == by_guid["9002"].event_id
    assert by_guid["c1"].joined_by == "thread"
    assert not by_guid["c3"].relevant and by_guid["c3"].event_id is None
    assert not by_guid["c4"].relevant and by_guid["c4"].event_id is None
    # Matched again (a re-analysis of the window): the comments stay relevant with their post.
    analyze(
        sqlite_db,
        since=datetime(2026, 11, 1, tzinfo=UTC),
        until=datetime(2026, 12, 1, tzinfo=UTC),
        now=datetime(2026, 11, 30, 5, 0, tzinfo=UTC),
    )
    with sqlite_db.reader() as session:
        again = dict(
            session.execute(
                select(Item.guid, ItemAnalysis.relevant)
                .join(ItemAnalysis, ItemAnalysis.item_id == Item.id)
                .where(Item.guid.in_(["c1", "c2", "c3"]))
            ).all()
        )
    assert again == {"c1": True, "c2": True, "c3": False}
