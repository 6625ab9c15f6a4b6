"""The sample county: every feed format and date style lands with the right time, hostile bits neutralised."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import SHANGHAI, collect
from yuqing_core.cli.demo_web import stop_demo_web
from yuqing_core.collect.sources import import_sources, load_sources_file
from yuqing_core.db import Item, Source
from yuqing_core.demo import item_time, load_county, serve_county, sources_yaml

COUNTY = load_county()
ROOT = Path(__file__).resolve().parents[1]


def test_sample_county_shape() -> None:
    formats = {s["format"] for s in COUNTY.sources}
    styles = {s["date_style"] for s in COUNTY.sources}
    assert len(COUNTY.sources) == 15 and 300 <= len(COUNTY.items) <= 400
    assert formats == {"rss2", "rss2-gbk", "atom", "rss1", "jsonfeed", "page", "board-json", "hot-page"}
    assert styles == {"rfc822", "iso8601", "chinese", "slash", "cst", "local"}
    assert len({i["id"] for i in COUNTY.items}) == len(COUNTY.items)


def test_every_served_item_is_stored_once_with_its_true_time(sqlite_db, sqlite_settings, feed_server, tmp_path) -> None:
    serve_county(feed_server, COUNTY)
    path = tmp_path / "sources.yaml"
    path.write_text(sources_yaml(COUNTY, feed_server.base_url), encoding="utf-8")
    import_sources(sqlite_db, load_sources_file(path), sqlite_settings)
    with sqlite_db.reader() as session:
        ids = list(session.scalars(select(Source.id)))
    results = collect(sqlite_db, sqlite_settings, *ids)
    assert all(r.status == "ok" for r in results), [(r.name, r.error) for r in results]

    now = datetime.now(SHANGHAI)
    by_id = {i["id"]: i for i in COUNTY.items}
    expected = {i for i, item in by_id.items() if item_time(item, now.date()) <= now}
    with sqlite_db.reader() as session:  # the hot list's entries are its topics, not the county's dated items
        stored = session.scalars(select(Item).join(Source).where(Source.name != "江华同城热榜")).all()
    seen = {}
    for item in stored:
        key = re.search(r"(?:qinghe-|/a/)([a-z]+-\d+)", item.guid or item.url or "").group(1)  # a page's items: the link
        seen[key] = item
    # Items published in the minutes between rendering and now may differ; everything earlier must match.
    settled = {i for i in expected if item_time(by_id[i], now.date()) < now - timedelta(minutes=1)}
    assert settled <= set(seen) <= expected
    for key in settled:
        item = seen[key]
        assert item.published_at == item_time(by_id[key], now.date()), key
        assert item.published_fallback is None
        assert item.text and "<" not in item.title

    # The hostile items are dated days ago, so they are always stored by now: look them up, never skip them.
    hostile_titles = [i["id"] for i in COUNTY.items if "<script>" in i.get("title", "")]
    javascript_links = [i["id"] for i in COUNTY.items if str(i.get("link", "")).startswith("javascript:")]
    assert hostile_titles and javascript_links
    for key in hostile_titles:
        assert "script" not in seen[key].title, key
    for key in javascript_links:
        assert seen[key].url is None, key
    # The 县长信箱 letter answered by a unit keeps the reply, at its time.
    (letter,) = [i for i in COUNTY.items if i.get("reply")]
    stored_letter = seen[letter["id"]]
    assert stored_letter.reply_by == letter["reply"]["by"] and stored_letter.reply_text == letter["reply"]["text"]
    assert stored_letter.reply_at == item_time(letter["reply"], now.date())


@pytest.mark.slow
def test_make_demo_command_end_to_end(tmp_path, request) -> None:
    request.addfinalizer(lambda: stop_demo_web(tmp_path / "demo"))  # the demo leaves its workbench running
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "PREFECT_"))}
    completed = subprocess.run(
        [sys.executable, "-m", "yuqing_core.cli", "demo", "--home", str(tmp_path / "demo")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    # The wait for the local Prefect API is said, once (every flow run of the demo reuses it).
    assert completed.stderr.count("正在启动本地 Prefect 服务") == 1 and "本地 Prefect 服务已启动" in completed.stderr
    assert "示例县：青禾县" in out and "共 15 个信息源，新增 0 条。" in out
    first_new = int(re.search(r"共 15 个信息源，新增 (\d+) 条", out).group(1))
    assert first_new > 200
    # The hot list's earlier polls are stored before the first collect (their topics are items too).
    assert re.search(r"热榜此前的 \d+ 次采集（名次、热度）已按当时时间补录", out)
    lines = (tmp_path / "demo" / "reports" / "items.jsonl").read_text(encoding="utf-8").splitlines()
    replayed = sum(1 for line in lines if '"江华同城热榜"' in line)
    assert replayed >= 20 and len(lines) - replayed <= first_new <= len(lines)
    assert "工作台" in out and "demo-analyst" in out and "demo-unit" in out and "demo-leader" in out
    assert "kill $(cat " in out and (tmp_path / "demo" / "web.pid").is_file()
    # No YUQING_ variable was set: the documents name the demo county from its units file, never the defaults.
    (daily,) = (tmp_path / "demo" / "reports" / "daily").glob("*/舆情日报-*.md")
    text = daily.read_text(encoding="utf-8")
    assert "**青禾县网络舆情应急监控中心**　青舆日〔" in text and "内部资料　注意保存" in text
    assert "报：县委书记周明远、县长陈立新、县委宣传部部长许文静" in text and "印发" in text
    sms = daily.with_suffix(".txt").read_text(encoding="utf-8").strip()
    assert len(sms) <= 200 and sms.startswith("【舆情日报】青禾县") and "全文：青舆日〔" in sms
    # A forum post's page was read and kept by the backlog's analyze run, then taken down: today's run notices.
    assert "原文已删除：听说有工人被送医院了？求证" in out and "留存快照 1 份" in out
    assert "原文已删除1条" in sms and "其中 1 条原文已删除，已留存快照。" in text
    # Yesterday the dam rumour climbed the city's hot list to third place: the report says so (上榜).
    assert "上榜：“紧急扩散！凤鸣水库大坝出现裂缝？”江华同城热榜第3名（上升" in text

    # The loop: the dispatched case's 督报 reaches the demo's local receivers (1+3+N), and a hand-written 提示函
    # is sent and opens a case whose 督报 goes out too.
    delivered = re.search(r"演示接收端收到舆情督报 (\d+) 条，网络风险提示函 (\d+) 条", out)
    assert delivered and int(delivered.group(1)) >= 2 and int(delivered.group(2)) >= 1, out[-3000:]
    assert "研判" in out and "已由中心主任签发" in out
    assert re.search(r"一函四单：提示函 青舆提〔\d{4}〕1号 → 督办件 督〔\d{4}〕\d+号 → 督报 青舆督〔\d{4}〕\d+号", out)
    assert "县委宣传部、县委网信办、公安局网安大队、县委国安办" in out  # 1+3+N


def test_special_report_on_the_chemical_park_incident_says_what_happened(
    sqlite_db, sqlite_settings, feed_server, tmp_path
) -> None:
    """The demo's chemical-park incident, collected and analysed as the demo does (its items only, to stay cheap):
    the 专报 states the cause, the residents' demands and the time of the first official reply."""
    from yuqing_core.analysis import analyze
    from yuqing_core.demo import County, county_feeds
    from yuqing_core.demo.backlog import RISK_FILE
    from yuqing_core.demo.events import DEMO_TODAY
    from yuqing_core.reports.data import build_special_report, latest_events
    from yuqing_core.reports.render import Renderer, suggested_handling
    from yuqing_core.risk.library import load_library_file
    from yuqing_core.risk.versions import import_library

    incident = County({**COUNTY.data, "items": [i for i in COUNTY.items if i.get("story") == "chem-leak"]})
    evening = datetime.combine(DEMO_TODAY, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=23)
    for path, (body, content_type) in county_feeds(incident, feed_server.base_url, now=evening).items():
        feed_server.add(path, body, content_type=content_type)
    sources = tmp_path / "sources.yaml"
    sources.write_text(sources_yaml(incident, feed_server.base_url), encoding="utf-8")
    import_sources(sqlite_db, load_sources_file(sources), sqlite_settings)
    with sqlite_db.reader() as session:
        collect(sqlite_db, sqlite_settings, *session.scalars(select(Source.id)))
    import_library(sqlite_db, load_library_file(RISK_FILE), author="演示")
    analyze(sqlite_db, now=evening)
    settings = sqlite_settings.model_copy(update={"county_name": "青禾县", "office_short_name": "青舆"})
    (event_id, *_) = latest_events(sqlite_db)
    report = build_special_report(sqlite_db, settings, event_id=event_id, handling=suggested_handling, now=evening)

    said = "".join(f.text for f in (report.first_report, *report.key_facts, report.latest_status) if f)
    assert "储罐阀门密封" in said and "老化" in said  # the cause
    asks = "".join(f.text for f in report.public_asks)
    assert "井水" in asks and "监测数据" in asks  # the residents' demands
    first = report.official_responses[0]
    assert first.item.published.astimezone(SHANGHAI).strftime("%H:%M") == "13:10" and first.label.startswith("首次回应")
    assert report.recipients == ("县委书记", "县长", "县委宣传部部长") and "县生态环境分局" in report.copy_to
    # The handling no longer asks for a first statement "24小时内": it says when the reply came.
    assert "24小时内" not in report.suggested_handling and "13:10发布官方回应" in report.suggested_handling
    markdown = Renderer().markdown(report)
    assert "储罐阀门密封" in markdown and "井水" in markdown and "13:10" in markdown
