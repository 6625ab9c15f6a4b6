"""Hot lists (热榜): heat as lists write it, a rank observed at every poll of a real local server, a climb,
the risk score's 上榜 part, the daily report's 上榜 line, ``yuqing sources test`` showing rank and heat."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpers import collect, rss, source_row
from yuqing_core.collect.hotlist import parse_heat
from yuqing_core.collect.service import ingest_document
from yuqing_core.collect.sources import SourceSpec, import_sources, load_sources_file
from yuqing_core.collect.trial import TrialTarget, trial_source
from yuqing_core.db import Item
from yuqing_core.db.models import Event, EventItem, HotListObservation
from yuqing_core.demo.feeds import FeedEntry, HotListRow, render_hot_list
from yuqing_core.risk.hotlist import Observation, events_with_hot_list_changes, sightings_of
from yuqing_core.risk.response import WeekdayCalendar
from yuqing_core.risk.scoring import EventFacts, ScoredItem, score_event
from yuqing_core.timeutil import SHANGHAI, utcnow
from yuqing_core.yamlfile import ConfigFileError

HOT_PAGE = {
    "items": "ol.hot-list > li",
    "link": "a.title::attr(href)",
    "title": "a.title",
    "rank": "span.rank",
    "heat": "span.heat",
}
HOT_JSON = {"items": "data.realtime", "id": "mid", "title": "word", "heat": "num", "link_template": "http://127.0.0.1/s?q={id}"}
COUNTY_TOPIC = "东坪村化工园区刺鼻异味 村民担忧"
OTHERS = [f"江华市区新闻{i}" for i in range(1, 13)]


@pytest.mark.parametrize(
    ("text", "heat"),
    [
        ("123.4万", 1_234_000),
        ("热 98765", 98_765),
        ("热度 523万", 5_230_000),
        ("1.2亿", 120_000_000),
        ("98,765", 98_765),
        ("12.3w", 123_000),
        ("3.5千万", 35_000_000),
        ("4987123", 4_987_123),
        ("1234.5", 1_234),
        ("爆", None),
        ("", None),
    ],
)
def test_heat_is_read_in_the_forms_lists_write_it(text: str, heat: int | None) -> None:
    assert parse_heat(text) == heat


def hot_page(ranking: list[str], heat: str = "热 9{}000") -> bytes:
    rows = [HotListRow(title, f"/t/{abs(hash(title)) % 10**8}.html", heat.format(rank)) for rank, title in enumerate(ranking, 1)]
    return render_hot_list("江华同城热榜", rows)


def ranked(place: int) -> list[str]:
    """The other topics, with the county's at ``place`` (1 = top)."""
    return [*OTHERS[: place - 1], COUNTY_TOPIC, *OTHERS[place - 1 :]]


def add_hot_list(db, settings, url: str, kind: str = "page", extract: dict | None = None) -> int:
    spec = SourceSpec.model_validate(
        {"name": "江华同城热榜", "url": url, "kind": kind, kind: extract or HOT_PAGE, "hot_list": True, "category": "热榜"}
    )
    import_sources(db, [spec], settings)
    return source_row(db, "江华同城热榜").id


def observations(db) -> list[tuple[str, int | None, int | None]]:
    with db.reader() as session:
        rows = session.execute(
            select(Item.title, HotListObservation.rank, HotListObservation.heat)
            .join(Item, Item.id == HotListObservation.item_id)
            .order_by(HotListObservation.polled_at, HotListObservation.rank)
        )
        return [tuple(row) for row in rows]


def test_each_poll_records_every_entrys_rank_and_heat_and_stores_each_entry_once(db, settings, feed_server) -> None:
    feed_server.add("/hot.html", hot_page(ranked(9)))
    source_id = add_hot_list(db, settings, feed_server.url("/hot.html"))
    (first,) = collect(db, settings, source_id)
    assert (first.status, first.items_new) == ("ok", 13)
    feed_server.add("/hot.html", hot_page(ranked(2)))
    (second,) = collect(db, settings, source_id)
    assert (second.status, second.items_new) == ("ok", 0)  # the same topics: stored once, observed again
    (unchanged,) = collect(db, settings, source_id)
    assert unchanged.status in ("ok", "not_modified") and unchanged.items_new == 0

    seen = observations(db)
    assert len(seen) == 26  # two changed polls of 13 entries; the unchanged poll adds none
    county = [(rank, heat) for title, rank, heat in seen if title == COUNTY_TOPIC]
    assert county == [(9, 99000), (2, 92000)]
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 13

    # Observations older than the retention window go at the next changed poll.
    later = utcnow() + timedelta(days=settings.hot_list_retention_days + 1)
    ingest_document(db, settings, source_id, hot_page(ranked(1)), content_type="text/html", clock=lambda: later)
    assert [(rank, heat) for title, rank, heat in observations(db) if title == COUNTY_TOPIC] == [(1, 91000)]


def test_a_json_hot_list_ranks_by_place_and_reads_numeric_heat(db, settings, feed_server) -> None:
    realtime = [{"mid": f"m{i}", "word": title, "num": 2_000_000 - 1000 * i} for i, title in enumerate(ranked(4))]
    feed_server.add("/api/hot", json.dumps({"data": {"realtime": realtime}}).encode(), content_type="application/json")
    source_id = add_hot_list(db, settings, feed_server.url("/api/hot"), "json", HOT_JSON)
    (result,) = collect(db, settings, source_id)
    assert result.status == "ok"
    assert [(rank, heat) for title, rank, heat in observations(db) if title == COUNTY_TOPIC] == [(4, 1_997_000)]


def test_rank_and_heat_belong_to_hot_lists_only(tmp_path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        f"""sources:
  - name: 镇政府
    url: http://127.0.0.1/list.html
    kind: page
    page: {json.dumps({"items": "li", "rank": "span.rank"})}
  - name: 订阅源
    url: http://127.0.0.1/rss.xml
    hot_list: true
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigFileError) as raised:
        load_sources_file(path)
    messages = " ".join(p.message for p in raised.value.problems)
    assert "page.rank：名次和热度只用于热榜" in messages and "hot_list：热榜须是 kind: page 或 kind: json" in messages


def test_a_climb_is_the_places_risen_from_the_first_rank_to_the_best() -> None:
    t0 = datetime(2026, 11, 27, tzinfo=UTC)
    polls = [(0, 18), (1, 9), (2, 3), (3, 6)]
    (sighting,) = sightings_of(Observation("江华同城热榜", 7, t0 + timedelta(hours=h), rank) for h, rank in polls)
    assert (sighting.first_rank, sighting.best_rank, sighting.last_rank, sighting.climb) == (18, 3, 6, 15)
    assert sighting.climbing and sighting.describe() == "江华同城热榜第3名（上升15位）"
    (falling,) = sightings_of(Observation("江华同城热榜", 7, t0 + timedelta(hours=h), rank) for h, rank in ((0, 2), (1, 8)))
    assert falling.climb == 0 and not falling.climbing and falling.describe() == "江华同城热榜第2名"


def test_the_score_has_an_explained_part_for_a_problem_on_a_hot_list() -> None:
    t0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    posts = (ScoredItem(t0, "青禾论坛", "public", "complaint", 0.4), ScoredItem(t0, "江华同城热榜", "public", "complaint", 0.6))
    seen = [Observation("江华同城热榜", 1, t0 + timedelta(hours=h), rank) for h, rank in ((0, 15), (1, 3))]
    now = t0 + timedelta(days=3)

    def score(*sightings):
        facts = EventFacts(3, "化工园区异味泄漏", posts, hot_lists=tuple(sightings))
        return score_event(facts, now=now, calendar=WeekdayCalendar())

    plain = score()
    assert "hot_list" not in plain.points()  # an event never seen on a hot list has no such part
    climbed = score(*sightings_of(seen))
    part = next(p for p in climbed.parts if p.name == "hot_list")
    assert (part.label, part.points) == ("上榜", 8.0)
    assert part.detail == "上榜：江华同城热榜第3名（上升12位）（上榜 +3，进入前 10 名 +2，上升 5 位以上 +3）"
    assert climbed.total == plain.total + 8
    low = sightings_of([Observation("江华同城热榜", 1, t0, 30)])
    assert next(p for p in score(*low).parts if p.name == "hot_list").points == 3.0


def test_a_county_item_climbing_a_hot_list_raises_its_event_and_the_daily_report_says_so(db, settings, feed_server) -> None:
    """Collected from a real local server: a forum's posts and a hot list on which the same matter climbs.
    The climb comes with no new item, and the analysis still rescores the event."""
    from yuqing_core.analysis import analyze
    from yuqing_core.demo.backlog import RISK_FILE
    from yuqing_core.reports.data import build_daily_report
    from yuqing_core.reports.render import Renderer
    from yuqing_core.risk.library import load_library_file
    from yuqing_core.risk.versions import import_library

    now = utcnow()
    posts = [
        FeedEntry(
            f"p{i}",
            f"东坪村化工园区又有刺鼻异味{i}",
            "白沙镇东坪村一早全是刺鼻异味，化工园区是不是泄漏了？",
            now - timedelta(hours=i + 1),
        )
        for i in range(2)
    ]
    feed_server.add("/bbs.xml", rss(posts))
    feed_server.add("/hot.html", hot_page(ranked(9)))
    import_sources(db, [SourceSpec(name="青禾论坛", url=feed_server.url("/bbs.xml"), role="public")], settings)
    forum, hot = source_row(db, "青禾论坛").id, add_hot_list(db, settings, feed_server.url("/hot.html"))
    collect(db, settings, forum, hot)
    import_library(db, load_library_file(RISK_FILE), author="测试")
    analyze(db, now=utcnow())

    def county_event() -> Event:
        with db.reader() as session:
            item_id = session.scalar(select(Item.id).where(Item.title == COUNTY_TOPIC))
            return session.scalar(
                select(Event).join(EventItem, EventItem.event_id == Event.id).where(EventItem.item_id == item_id)
            )

    def hot_part(event: Event) -> dict:
        return next(part for part in event.score_parts if part["name"] == "hot_list")

    before = county_event()
    assert before.item_count == 3 and hot_part(before)["points"] == 5.0  # on the list, in its top 10

    feed_server.add("/hot.html", hot_page(ranked(2)))
    collect(db, settings, hot)
    analyze(db, now=utcnow())  # no new item: the event is rescored for the climb alone
    after = county_event()
    assert after.id == before.id and hot_part(after)["points"] == 8.0
    assert "江华同城热榜第2名（上升7位）" in hot_part(after)["detail"]
    assert after.score == pytest.approx(before.score + 3)

    report = build_daily_report(db, settings, utcnow().astimezone(SHANGHAI).date())
    (line,) = report.hot_lists
    assert (line.title, line.best_rank, line.climb, line.event_id) == (COUNTY_TOPIC, 2, 7, after.id)
    assert f"上榜：“{COUNTY_TOPIC}”江华同城热榜第2名（上升7位）" in report.summary
    renderer = Renderer()
    markdown, sms = renderer.markdown(report), renderer.short_text(report)
    assert "### 上榜" in markdown and f"| 江华同城热榜 | [{COUNTY_TOPIC}](http://127.0.0.1:" in markdown
    assert "| 第2名（上升7位） | 热 99000 |" in markdown and "上榜：江华同城热榜第2名（上升7位）" in markdown
    assert len(sms) <= 200 and "上榜：" in sms and "江华同城热榜第2名（上升7位）" in sms
    assert '<h3 id="hot-lists">上榜</h3>' in renderer.html(report)

    # A day later the sighting has left the window: the event is rescored without the part.
    assert events_with_hot_list_changes(db, utcnow() + timedelta(hours=25)) == [after.id]
    analyze(db, now=utcnow() + timedelta(hours=25))
    assert "hot_list" not in [part["name"] for part in county_event().score_parts]


def test_sources_test_shows_each_entrys_rank_and_heat(sqlite_settings, feed_server) -> None:
    from yuqing_core.cli.collect import trial_lines

    feed_server.add("/hot.html", hot_page(ranked(3), heat="{}23.4万"))
    extract = {"page": HOT_PAGE, "hot_list": True}
    report = asyncio.run(
        trial_source(TrialTarget("江华同城热榜", feed_server.url("/hot.html"), "page", extract, "Asia/Shanghai"), sqlite_settings)
    )
    assert report.ok and [(c.field, c.matched) for c in report.counts][-2:] == [("rank", 13), ("heat", 13)]
    lines = trial_lines(report, 3)
    assert lines[0].startswith("== 江华同城热榜（page，热榜）")
    assert f"3. {COUNTY_TOPIC}" in lines and "   热榜：第3名，热度 323.4万（3234000）" in lines
