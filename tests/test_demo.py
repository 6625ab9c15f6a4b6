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
    assert len(COUNTY.sources) == 12 and 300 <= len(COUNTY.items) <= 400
    assert formats == {"rss2", "rss2-gbk", "atom", "rss1", "jsonfeed"}
    assert styles == {"rfc822", "iso8601", "chinese", "slash", "cst"}
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
    with sqlite_db.reader() as session:
        stored = session.scalars(select(Item)).all()
    seen = {}
    for item in stored:
        key = re.search(r"(?:qinghe-|/a/)([a-z]+-\d+)", item.guid or "").group(1)
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
    assert "示例县：青禾县" in out and "共 12 个信息源，新增 0 条。" in out
    first_new = int(re.search(r"共 12 个信息源，新增 (\d+) 条", out).group(1))
    assert first_new > 200
    lines = (tmp_path / "demo" / "reports" / "items.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == first_new
    assert "工作台" in out and "demo-analyst" in out and "demo-unit" in out and "demo-leader" in out
    assert "kill $(cat " in out and (tmp_path / "demo" / "web.pid").is_file()
    # The loop: the dispatched case's 督报 reaches the demo's local receivers (1+3+N), and a hand-written 提示函
    # is sent and opens a case whose 督报 goes out too.
    delivered = re.search(r"演示接收端收到舆情督报 (\d+) 条，网络风险提示函 (\d+) 条", out)
    assert delivered and int(delivered.group(1)) >= 2 and int(delivered.group(2)) >= 1, out[-3000:]
    assert "研判" in out and "已由中心主任签发" in out
    assert re.search(r"一函四单：提示函 青舆提〔\d{4}〕1号 → 督办件 督〔\d{4}〕\d+号 → 督报 青舆督〔\d{4}〕\d+号", out)
    assert "县委宣传部、县委网信办、公安局网安大队、县委国安办" in out  # 1+3+N
