"""Full text of relevant items and evidence snapshots (collect.fulltext, collect.snapshots), on captured
Chinese article pages (tests/data/articles, see SOURCE.md) served on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from helpers import add_sources
from yuqing_core.analysis import analyze
from yuqing_core.analysis.match import match_batch
from yuqing_core.collect.archive import import_archive
from yuqing_core.collect.fulltext import enrich_items, enrichment_candidates, extract_main_text, recheck_candidates
from yuqing_core.collect.snapshots import prune_snapshots, read_copy
from yuqing_core.db.models import EventItem, Item, Match, PageSnapshot
from yuqing_core.reports.data import build_daily_report, build_special_report
from yuqing_core.reports.render import Renderer
from yuqing_core.risk.library import load_library_file
from yuqing_core.risk.versions import active_library, import_library

ARTICLES = Path(__file__).parent / "data" / "articles"
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)

# The county bulletin's summary in the feed names the county; only its full text speaks of 固定资产投资.
LIBRARY = """name: 测试库
region:
  terms: [全县, 南沙]
risk_points:
  - name: 投资下滑
    severity: 2
    rules: ['固定资产投资 & 同比']
"""


def test_main_text_of_captured_pages() -> None:
    bulletin = extract_main_text((ARTICLES / "gne_gzggw.html").read_bytes())
    assert bulletin.startswith("1-10月，全县固定资产投资完成246.79亿元")
    feature = extract_main_text((ARTICLES / "gne_people.html").read_bytes())
    assert "父亲节" in feature and "<" not in feature
    assert len(extract_main_text((ARTICLES / "gne_people.html").read_bytes(), max_chars=100)) == 100


def _county(db, settings, tmp_path: Path, server) -> list[int]:
    add_sources(db, settings, 县政府网="http://example.org/gov.xml")
    (tmp_path / "risk.yaml").write_text(LIBRARY, encoding="utf-8")
    import_library(db, load_library_file(tmp_path / "risk.yaml"), author="测试", now=NOW)
    rows = [
        {"guid": "a", "title": "全县经济运行情况", "text": "1-10月全县经济运行平稳。", "url": server.url("/news/a.html"),
         "published": (NOW - timedelta(hours=3)).isoformat()},
        {"guid": "b", "title": "读诗过父亲节", "text": "父亲节读诗。", "url": server.url("/news/b.html"),
         "published": (NOW - timedelta(hours=2)).isoformat()},
        {"guid": "c", "title": "全县通知", "text": "全县通知一则。", "url": server.url("/private/c.html"),
         "published": (NOW - timedelta(hours=1)).isoformat()},
    ]  # fmt: skip
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    import_archive(db, settings, path, "县政府网", now=NOW)
    analyze(db, now=NOW)
    with db.reader() as session:
        return list(session.scalars(select(Item.id).order_by(Item.published_at)))


def test_relevant_items_get_full_text_snapshots_and_deletions_are_noticed(db, settings, tmp_path, feed_server) -> None:
    settings = settings.model_copy(update={"fulltext_host_delay_s": 0.0, "snapshots_dir": tmp_path / "snapshots"})
    feed_server.add("/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    feed_server.add("/news/a.html", (ARTICLES / "gne_gzggw.html").read_bytes(), content_type="text/html")
    feed_server.add("/news/b.html", (ARTICLES / "gne_people.html").read_bytes(), content_type="text/html; charset=utf-8")
    bulletin, feature, private = _county(db, settings, tmp_path, feed_server)

    # Only items the region scope or a risk rule made relevant: not the feature on 父亲节.
    chosen = enrichment_candidates(db, [bulletin, feature, private], now=NOW, settings=settings, limit=10)
    assert chosen == [bulletin, private]
    summary = enrich_items(db, settings, chosen, now=NOW)
    assert (summary.enriched, summary.snapshots, summary.refused_by_robots, summary.deleted) == ([bulletin], 1, 1, [])
    assert enrichment_candidates(db, chosen, now=NOW, settings=settings, limit=10) == []  # the run's work is done

    with db.reader() as session:
        item = session.get(Item, bulletin)
        assert item.full_text.startswith("1-10月，全县固定资产投资") and item.enriched_at == NOW
        assert item.enriched_from == feed_server.url("/news/a.html")
        snapshot = session.scalars(select(PageSnapshot)).one()
    html, text = read_copy(settings.effective_snapshots_dir, snapshot.path)
    assert html == (ARTICLES / "gne_gzggw.html").read_bytes() and text == item.full_text
    assert (snapshot.http_status, snapshot.final_url, len(snapshot.content_hash)) == (200, item.enriched_from, 64)

    # The rules read the full text: the risk point only the article names now matches.
    match_batch(db, active_library(db), summary.enriched, now=NOW)
    with db.reader() as session:
        assert session.scalars(select(Match.risk_point_name).where(Match.item_id == bulletin, Match.kind == "risk")).all() == [
            "投资下滑"
        ]

    # Fetched again unchanged: no second copy. Then the page is taken down: 原文已删除, noticed once.
    later = NOW + timedelta(hours=7)
    assert recheck_candidates(db, now=later, settings=settings, limit=10) == [bulletin]
    assert enrich_items(db, settings, [bulletin], now=later).snapshots == 0
    del feed_server.routes["/news/a.html"]  # now answered 404
    gone = enrich_items(db, settings, [bulletin], now=later + timedelta(hours=7))
    assert gone.deleted == [bulletin]
    assert enrich_items(db, settings, [bulletin], now=later + timedelta(hours=14)).deleted == []
    with db.reader() as session:
        assert session.get(Item, bulletin).deleted_at == later + timedelta(hours=7)
    assert recheck_candidates(db, now=later + timedelta(days=1), settings=settings, limit=10) == []

    # The daily report says so.
    report = build_daily_report(db, settings, (NOW + timedelta(hours=8)).date(), now=later)
    assert [ref.item_id for ref in report.deleted] == [bulletin] and "1 条原文已删除" in report.summary
    with db.reader() as session:
        event_id = session.scalars(select(EventItem.event_id).where(EventItem.item_id == bulletin)).one()
    special = build_special_report(db, settings, event_id=event_id, now=later)
    renderer = Renderer()
    assert "原文已删除（" in renderer.markdown(special) and "原文已删除（" in renderer.html(special)

    # Retention: past it, the record and the files go.
    assert prune_snapshots(db, settings.effective_snapshots_dir, retention_days=1, now=NOW + timedelta(days=2)) == 1
    assert not list(settings.effective_snapshots_dir.rglob("*.gz"))


def test_text_that_disappears_is_a_deletion_and_robots_unreachable_means_stay_away(
    sqlite_db, sqlite_settings, tmp_path, feed_server
) -> None:
    db, site = sqlite_db, feed_server
    settings = sqlite_settings.model_copy(update={"fulltext_host_delay_s": 0.0})
    site.add("/news/a.html", (ARTICLES / "gne_gzggw.html").read_bytes(), content_type="text/html")
    bulletin, _feature, private = _county(db, settings, tmp_path, site)
    assert enrich_items(db, settings, [bulletin], now=NOW).enriched == [bulletin]

    # Still 200, but the article is replaced by a notice: its text has disappeared.
    site.add("/news/a.html", "<html><body><p>该内容已被删除</p></body></html>".encode(), content_type="text/html; charset=utf-8")
    later = NOW + timedelta(hours=7)
    assert enrich_items(db, settings, [bulletin], now=later).deleted == [bulletin]

    # robots.txt answering 503 (RFC 9309: unreachable) means no page of that host is fetched.
    site.add_handler("/robots.txt", lambda handler: handler._plain(503, b"busy"))
    site.add("/private/c.html", (ARTICLES / "gne_thepaper.html").read_bytes(), content_type="text/html")
    refused = enrich_items(db, settings, [private], now=later)
    assert (refused.refused_by_robots, refused.fetched) == (1, 0)
