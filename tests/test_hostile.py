"""Issue 11: one bad item must not blind a source; every input is bounded.

Each probe of the issue is a test here: over real HTTP on 127.0.0.1 where
the fetch path is involved, on SQLite and PostgreSQL where the database is.
The files of ``tests/hostile/`` are run through their entry points by
``test_every_hostile_file_fails_safely``.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from helpers import RebindingResolver, add_sources, collect, entries, item_rows, listener, rss, source_row
from yuqing_core.cases import load_policy
from yuqing_core.collect import kinds, netpolicy
from yuqing_core.collect.archive import import_archive
from yuqing_core.collect.health import MAX_POLL_INTERVAL_S, PollOutcome
from yuqing_core.collect.normalize import ItemRecord
from yuqing_core.collect.parse import MAX_ELEMENT_DEPTH, FeedParseError, decode_document, parse_feed
from yuqing_core.collect.service import commit_poll
from yuqing_core.collect.sources import SourcesFile, import_sources, load_sources_file
from yuqing_core.config import Settings
from yuqing_core.db import FetchAttempt, Item, Source
from yuqing_core.demo.server import FeedServer
from yuqing_core.notify.units import load_units_file
from yuqing_core.risk.library import load_library_file
from yuqing_core.text import storable
from yuqing_core.timeutil import utcnow
from yuqing_core.yamlfile import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_VALUES, ConfigFileError, load_document, validate

SURROGATE_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>青禾县论坛</title>
<item><title>前一条 正常</title><guid>ok-1</guid><link>http://example.org/1</link></item>
<item><title>坏标题&#xd800;尾</title><guid>bad-&#xdfff;</guid><link>http://example.org/&#xd800;</link>
  <author>网友&#xDC00;</author><description>正文&#55296;完</description></item>
<item><title>后一条 正常</title><guid>ok-2</guid><link>http://example.org/2</link></item>
</channel></rss>""".encode()


def _titles(db) -> list[str]:
    with db.reader() as session:
        return sorted(session.scalars(select(Item.title)))


# --- 1. a lone surrogate ---------------------------------------------------------


def test_a_lone_surrogate_in_rss_is_repaired_and_its_neighbours_are_stored(db, settings, feed_server) -> None:
    feed_server.add("/forum.xml", rss(entries(2, prefix="旧")))
    ids = add_sources(db, settings, forum=feed_server.url("/forum.xml"))
    collect(db, settings, ids["forum"])
    before = item_rows(db)
    feed_server.add("/forum.xml", SURROGATE_RSS)
    (result,) = collect(db, settings, ids["forum"])
    assert (result.status, result.items_new) == ("ok", 3)
    assert _titles(db) == sorted(["前一条 正常", "坏标题\ufffd尾", "后一条 正常", *(row[4] for row in before)])
    with db.reader() as session:
        bad = session.scalars(select(Item).where(Item.title.like("坏标题%"))).one()
    assert bad.guid == "bad-\ufffd" and bad.author == "网友\ufffd" and bad.text == "正文\ufffd完"
    assert set(item_rows(db)) >= set(before)  # nothing stored before is lost
    source = source_row(db, "forum")
    assert source.consecutive_errors == 0 and source.last_status == "ok"


def test_a_lone_surrogate_in_a_json_feed_is_repaired_in_every_field(db, settings, feed_server) -> None:
    items = [
        {"id": "a\ud800", "url": "http://example.org/\udc00", "title": "标题\ud800", "content_text": "正文\udbff",
         "authors": [{"name": "作者\ud800"}], "date_published": "2026-11-27T09:00:00+08:00\ud800"},
        {"id": "b", "url": "http://example.org/b", "title": "正常", "content_text": "正常正文"},
    ]  # fmt: skip
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()
    assert b"\\ud800" in body  # the escape a hostile server sends
    feed_server.add("/feed.json", body, content_type="application/feed+json")
    ids = add_sources(db, settings, json=feed_server.url("/feed.json"))
    (result,) = collect(db, settings, ids["json"])
    assert (result.status, result.items_new) == ("ok", 2)
    with db.reader() as session:
        bad = session.scalars(select(Item).where(Item.guid == "a\ufffd")).one()
    assert (bad.title, bad.text, bad.author) == ("标题\ufffd", "正文\ufffd", "作者\ufffd")
    assert bad.url is None or "\ufffd" in bad.url or "%" in bad.url


def test_a_lone_surrogate_in_an_archive_line_is_repaired(db, settings, tmp_path) -> None:
    path = tmp_path / "archive.jsonl"
    lines = [{"title": "坏\ud800", "text": "正文", "guid": "g\udc00", "author": "网友\ud800"}, {"title": "好", "guid": "g2"}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    summary = import_archive(db, settings, path, "旧帖")
    assert summary.items_new == 2
    assert _titles(db) == ["坏\ufffd", "好"]


def test_storable_joins_pairs_and_replaces_halves() -> None:
    assert storable("\ud83d\ude00") == "😀"
    assert storable("\ude00\ud83d") == "\ufffd\ufffd"
    assert storable("a\x00b") == "ab"


def _records(count: int) -> list[ItemRecord]:
    now = utcnow()
    return [
        ItemRecord(entry_key=f"id:{i}", guid=str(i), url=None, title=f"条目{i}", text="正文", excerpt="正文", author=None,
                   published_at=now, published_raw=None, published_fallback=None, fingerprint=f"{i:040d}")
        for i in range(count)
    ]  # fmt: skip


def test_an_item_the_database_refuses_is_skipped_and_the_others_are_stored(db, settings) -> None:
    ids = add_sources(db, settings, gov="http://example.org/gov.xml")
    records = _records(4)
    records[1] = replace(records[1], title="未经修复\ud800")  # as if normalization had missed it
    now = utcnow()
    outcome = PollOutcome(status="ok", started_at=now, finished_at=now, http_status=200, entries_seen=4)
    result = commit_poll(db, settings, ids["gov"], outcome, records)
    assert result is not None and (result.status, result.items_new) == ("ok", 3)
    assert "1 个条目无法保存，已跳过" in result.note
    assert _titles(db) == ["条目0", "条目2", "条目3"]
    assert source_row(db, "gov").last_note == result.note


def test_a_poll_whose_every_item_the_database_refuses_is_a_failure(db, settings) -> None:
    ids = add_sources(db, settings, gov="http://example.org/gov.xml")
    records = [replace(record, title="\ud800") for record in _records(2)]
    now = utcnow()
    outcome = PollOutcome(status="ok", started_at=now, finished_at=now, http_status=200, etag='"v1"', entries_seen=2)
    result = commit_poll(db, settings, ids["gov"], outcome, records)
    assert result is not None and result.failed and result.error.startswith("全部 2 个条目无法保存")
    source = source_row(db, "gov")
    assert source.consecutive_errors == 1 and source.etag is None and _titles(db) == []


def test_an_unexpected_parser_failure_is_recorded_in_the_sources_health(db, settings, feed_server, monkeypatch) -> None:
    feed_server.add("/gov.xml", rss(entries(3)))
    ids = add_sources(db, settings, gov=feed_server.url("/gov.xml"))

    def surprise(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(kinds, "parse_feed", surprise)  # feeds are parsed through collect.kinds
    (result,) = collect(db, settings, ids["gov"])
    assert result.failed and result.error.startswith("处理失败：RecursionError")
    source = source_row(db, "gov")
    assert source.consecutive_errors == 1 and source.last_error == result.error
    assert source.etag is None  # the next poll reads the feed afresh
    monkeypatch.undo()
    (again,) = collect(db, settings, ids["gov"])
    assert again.items_new == 3 and source_row(db, "gov").consecutive_errors == 0


def test_a_failure_while_storing_is_recorded_and_nothing_half_written(db, settings, feed_server, monkeypatch) -> None:
    feed_server.add("/gov.xml", rss(entries(3)))
    ids = add_sources(db, settings, gov=feed_server.url("/gov.xml"))

    def refuse(*args, **kwargs):
        raise ValueError("a value no database takes")

    monkeypatch.setattr("yuqing_core.collect.store.insert_items_one_by_one", refuse)
    (result,) = collect(db, settings, ids["gov"])
    assert result.failed and result.error.startswith("保存失败：ValueError")
    assert item_rows(db) == []
    source = source_row(db, "gov")
    assert source.consecutive_errors == 1 and source.etag is None and source.content_sha1 is None
    with db.reader() as session:
        assert session.scalars(select(FetchAttempt.status)).all() == ["error"]


def test_a_poll_interval_past_the_calendar_stored_earlier_still_schedules(sqlite_db, sqlite_settings, feed_server) -> None:
    db, settings = sqlite_db, sqlite_settings
    feed_server.add("/gov.xml", rss(entries(1)))
    ids = add_sources(db, settings, gov=feed_server.url("/gov.xml"))
    with db.writer() as session:  # stored before sources files were bounded
        session.execute(update(Source).values(poll_interval_s=10**13))
    (result,) = collect(db, settings, ids["gov"])
    assert (result.status, result.items_new) == ("ok", 1)
    assert result.next_poll_at <= utcnow() + timedelta(seconds=MAX_POLL_INTERVAL_S)


# --- 2. a few bad bytes in a Chinese feed ---------------------------------------------

HOSTILE = Path(__file__).parent / "hostile"
GB_TITLES = ["县政府召开常务会议", "柳湾镇开展河道治理", "城区道路改造工程启动", "县医院门诊楼投入使用",
             "农村饮水安全工程验收", "第一中学举行运动会", "县交警大队通报事故", "冬季供暖工作部署"]  # fmt: skip


@pytest.mark.parametrize("content_type", ["text/xml", "text/xml; charset=gb2312"])
def test_a_gb2312_feed_with_three_bad_bytes_keeps_every_other_title(db, settings, feed_server, content_type) -> None:
    body = (HOSTILE / "gb2312-bad-bytes.xml").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb18030")  # the bytes really are broken
    feed_server.add("/gb.xml", body, content_type=content_type)
    ids = add_sources(db, settings, gb=feed_server.url("/gb.xml"))
    (result,) = collect(db, settings, ids["gb"])
    assert (result.status, result.items_new) == ("ok", 8)
    assert "按 gb18030 解码，无法解码的字节已替换" in result.note
    with db.reader() as session:
        titles = dict(session.execute(select(Item.guid, Item.title)).all())
    broken = titles.pop("gb-3")  # a broken lead byte leaves its trail byte to pair with the next: a few characters go
    assert titles == {f"gb-{i}": title for i, title in enumerate(GB_TITLES) if i != 3}
    assert broken.startswith("县") and broken.count("\ufffd") >= 3 and len(broken) < 2 * len(GB_TITLES[3])


def test_undeclared_gb18030_with_a_bad_byte_is_read_as_gb18030() -> None:
    text = "<rss><channel><item><title>县政府召开常务会议</title></item></channel></rss>"
    body = text.encode("gb18030").replace("会议".encode("gb18030"), b"\x80\x80")
    decoded, encoding = decode_document(body)
    assert encoding == "gb18030 (有乱码替换)" and "县政府召开常务" in decoded


def test_utf8_with_a_bad_byte_is_still_read_as_utf8_despite_a_gb2312_declaration() -> None:
    text = '<?xml version="1.0" encoding="gb2312"?><rss><channel><item><title>县政府召开常务会议</title></item></channel></rss>'
    body = text.encode("utf-8").replace("会".encode(), b"\xff\xff\xff")
    decoded, encoding = decode_document(body)
    assert encoding == "utf-8 (有乱码替换)" and "县政府召开常务" in decoded


# --- 5. deep nesting -----------------------------------------------------------------


def deeply_nested_feed(depth: int) -> bytes:
    """An RSS feed whose one description holds ``depth`` nested elements (500,000 make 3.5 MB)."""
    return (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>x</title><description>'
        + b"<a>" * depth + b"x" + b"</a>" * depth
        + b"</description></item></channel></rss>"
    )  # fmt: skip


def test_half_a_million_nested_elements_are_refused_before_parsing(db, settings, feed_server) -> None:
    body = deeply_nested_feed(500_000)
    assert len(body) > 3_000_000
    feed_server.add("/deep.xml", body)
    ids = add_sources(db, settings, deep=feed_server.url("/deep.xml"))
    started = time.process_time()  # CPU of the whole poll (server thread included), not wall time
    (result,) = collect(db, settings, ids["deep"])
    assert time.process_time() - started < 8  # 13-20 s of parsing before; a pre-scan stops at level 257
    assert result.failed and result.error == f"解析失败：元素嵌套超过 {MAX_ELEMENT_DEPTH} 层（第 1 行），拒绝解析"
    source = source_row(db, "deep")
    assert source.consecutive_errors == 1 and source.last_error == result.error


def test_the_depth_scan_is_cheap_and_stops_early() -> None:
    started = time.thread_time()
    with pytest.raises(FeedParseError, match="嵌套超过"):
        parse_feed(deeply_nested_feed(2_000_000))
    assert time.thread_time() - started < 5


def test_html_in_descriptions_does_not_count_as_nesting() -> None:
    html = "<p>段落<br>换行<img src='x'>" * 400  # unclosed paragraphs and void elements, as feeds write them
    body = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>CDATA</title><description><![CDATA[{html}]]></description></item>
<item><title>comment</title><description>x<!-- {"<div>" * 400} --></description></item>
<item><title>raw</title><description>{"<br>" * 400}{"<p>x</p>" * 400}</description></item>
</channel></rss>"""
    assert [e.title for e in parse_feed(body.encode()).entries] == ["CDATA", "comment", "raw"]


def test_a_deeply_nested_json_feed_is_refused() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": [' + b"[" * 200_000 + b"]" * 200_000 + b"]}"
    with pytest.raises(FeedParseError, match="嵌套过深"):
        parse_feed(body)


# --- 3. configuration files -----------------------------------------------------------


def _problems(excinfo: pytest.ExceptionInfo[ConfigFileError]) -> list[tuple[int | None, int | None, str, str]]:
    return [(p.line, p.column, p.field, p.message) for p in excinfo.value.problems]


def test_an_alias_bomb_is_refused_within_a_bounded_cost() -> None:
    started = time.thread_time()
    with pytest.raises(ConfigFileError) as excinfo:
        load_sources_file(HOSTILE / "alias-bomb.yaml")
    assert time.thread_time() - started < 10  # 9^9 values if expanded: minutes and gigabytes before
    ((line, column, field, message),) = _problems(excinfo)
    assert line and column and field and f"展开后超过 {MAX_YAML_VALUES} 个值" in message
    assert str(excinfo.value).startswith(f"{HOSTILE / 'alias-bomb.yaml'} 第 {line} 行第 {column} 列，字段 ")


def test_a_handling_file_in_the_templates_folder_is_read_with_the_same_bounds(tmp_path: Path) -> None:
    from yuqing_core.reports.render import TemplatesError, suggested_handling

    (tmp_path / "handling.yaml").write_bytes((HOSTILE / "alias-bomb.yaml").read_bytes())
    started = time.thread_time()
    with pytest.raises(TemplatesError, match=f"展开后超过 {MAX_YAML_VALUES} 个值") as excinfo:
        suggested_handling(1, tmp_path)
    assert time.thread_time() - started < 10 and str(tmp_path / "handling.yaml") in str(excinfo.value)
    (tmp_path / "handling.yaml").write_text("levels:\n  I: 立即报告。\n  V: 五级\n", encoding="utf-8")
    with pytest.raises(TemplatesError, match=r"第 3 行第 6 列，字段 levels\.V：未知级别 'V'"):
        suggested_handling(1, tmp_path)


def test_an_alias_inside_the_node_it_names_is_refused() -> None:
    with pytest.raises(ConfigFileError) as excinfo:
        load_sources_file(HOSTILE / "self-alias.yaml")
    # The place named is the anchored node (line 2, "&s"), the field is where its alias sits.
    assert _problems(excinfo) == [(2, 10, "sources[0].more", "别名 * 引用了包含它自身的节点（无限循环），拒绝读取")]


def test_a_merge_key_that_merges_its_own_mapping_is_refused() -> None:
    with pytest.raises(ConfigFileError) as excinfo:
        load_document("loop.yaml", "a: &a\n  x: 1\n  b:\n    <<: *a\n")
    assert str(excinfo.value) == "loop.yaml 第 1 行第 4 列，字段 a.b：别名 * 引用了包含它自身的节点（无限循环），拒绝读取"


def test_a_control_character_is_a_problem_at_its_place_not_a_crash() -> None:
    with pytest.raises(ConfigFileError) as excinfo:
        load_document("pasted.yaml", "a: 1\nb: 中\x1bx\n")
    assert str(excinfo.value) == "pasted.yaml 第 2 行第 5 列：YAML 语法错误：不允许的控制字符 U+001B"


def test_nesting_deeper_than_the_bound_is_refused_where_it_happens() -> None:
    with pytest.raises(ConfigFileError) as excinfo:
        load_sources_file(HOSTILE / "deep-nesting.yaml")
    assert _problems(excinfo) == [(1, 10 + MAX_YAML_DEPTH - 1, "", f"嵌套超过 {MAX_YAML_DEPTH} 层，拒绝读取")]


def test_a_lone_surrogate_in_a_configuration_file_is_repaired(db, settings, tmp_path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text('sources:\n  - name: "县政府网\\ud800"\n    url: http://example.org/gov.xml\n', encoding="utf-8")
    (spec,) = load_sources_file(path)
    assert spec.name == "县政府网\ufffd"
    import_sources(db, [spec], settings)
    assert source_row(db, "县政府网\ufffd").url == "http://example.org/gov.xml"


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * MAX_YAML_BYTES + "\nsources: []\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match=r"big\.yaml：文件太大"):
        load_sources_file(path)
    with pytest.raises(ConfigFileError, match="文件太大"):
        load_library_file(path)


def test_merge_keys_merge_and_written_keys_win() -> None:
    gov, daily, tv = load_sources_file(HOSTILE / "merge-key.yaml")
    assert (daily.name, daily.url, daily.kind, daily.owner_unit, daily.poll_interval) == (
        "江华日报", "http://example.org/daily.xml", "rss", "县委宣传部", 900,
    )  # fmt: skip
    # The first mapping of a merged list wins over the later ones; keys written in the mapping win over all.
    assert (tv.name, tv.kind, tv.category, tv.poll_interval, tv.owner_unit) == (
        "县广播电视台",
        "atom",
        "媒体",
        7200,
        "县委宣传部",
    )
    assert gov.name == "县政府网"


def test_an_error_in_a_merged_value_points_at_where_it_is_written() -> None:
    text = "sources:\n  - &a\n    name: 甲\n    url: http://example.org/a.xml\n    weight: 99\n  - <<: *a\n    name: 乙\n"
    with pytest.raises(ConfigFileError) as excinfo:
        validate(load_document("m.yaml", text), SourcesFile)
    assert [(p.line, p.field) for p in excinfo.value.problems] == [(5, "sources[0].weight"), (5, "sources[1].weight")]


@pytest.mark.parametrize(
    ("value", "message"),
    [("<<: 3", "合并键 << 的值应为映射或映射的列表"), ("<<: {a: 1}\n<<: {b: 2}", "重复的合并键 <<")],
)
def test_a_merge_key_that_cannot_merge_is_a_clear_error(value: str, message: str) -> None:
    with pytest.raises(ConfigFileError, match=message):
        load_document("m.yaml", value + "\n")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("10000000000000", "时长 10000000000000 太长（最长 30 天）"),
        ("100000000000000000000", "时长 100000000000000000000 太长（最长 30 天）"),
        (".inf", "时长 inf 太长（最长 30 天）"),
        ("31d", "时长 '31d' 太长（最长 30 天）"),
        ("9" * 5000 + "d", "太长（最长 30 天）"),
    ],
)
def test_a_poll_interval_past_the_bound_names_file_line_and_field(tmp_path, written: str, expected: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(f"sources:\n  - name: 县政府网\n    url: http://example.org/gov.xml\n    poll_interval: {written}\n")
    with pytest.raises(ConfigFileError) as excinfo:
        load_sources_file(path)
    ((line, column, field, message),) = _problems(excinfo)
    assert (line, column, field) == (4, 20, "sources[0].poll_interval") and expected in message


def test_case_and_unit_durations_are_bounded(tmp_path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "reminders: [1d, 10000000000000]\ncase_types:\n  big: {label: 大, limit: 10000000000000}\ndefault_type: big\n"
    )
    with pytest.raises(ConfigFileError) as excinfo:
        load_policy(cases)
    assert [(p.line, p.field) for p in excinfo.value.problems] == [(3, "case_types.big.limit"), (1, "reminders")]
    units = "units:\n  - name: 县委宣传部\nsending:\n  in_flight: 100000000000000000000\n"
    with pytest.raises(ConfigFileError) as excinfo:
        load_units_file(tmp_path / "units.yaml", units)
    assert [(p.line, p.field) for p in excinfo.value.problems] == [(4, "sending.in_flight")]


def test_settings_durations_are_bounded() -> None:
    for name in ("collect_max_backoff_s", "collect_max_retry_after_s", "collect_future_tolerance_s"):
        with pytest.raises(ValidationError):
            Settings(**{name: 10**13})


@pytest.mark.parametrize("loader", ["sources", "library", "units", "cases"])
def test_every_configuration_file_goes_through_the_bounds(tmp_path, loader: str) -> None:
    path = tmp_path / f"{loader}.yaml"
    path.write_text((HOSTILE / "self-alias.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    load = {"sources": load_sources_file, "library": load_library_file, "units": load_units_file, "cases": load_policy}
    with pytest.raises(ConfigFileError, match="无限循环"):
        load[loader](path)


# --- 6. the address policy ------------------------------------------------------------
# The collector may reach exactly the feed server's address and port (as in the demo); a feed that
# redirects elsewhere, or a name that rebinds, is refused before anything is sent to the target,
# nothing is stored and the source's health says why.


def only(settings: Settings, server: FeedServer) -> Settings:
    """``settings`` allowing exactly ``server``'s address and port, nothing else on loopback."""
    return Settings(
        home=settings.home,
        database_url=settings.database_url,
        fetch_allowed_networks=[server.base_url.removeprefix("http://")],
        fetch_total_timeout_s=settings.fetch_total_timeout_s,
        fetch_connect_timeout_s=settings.fetch_connect_timeout_s,
    )


def _refused_and_recorded(db, name: str, result, message: str, items_before: list[tuple]) -> None:
    assert result.failed and message in result.error, result.error
    assert "YUQING_FETCH_ALLOWED_NETWORKS" in result.error
    source = source_row(db, name)
    assert (source.consecutive_errors, source.last_error, source.last_status) == (1, result.error, result.status)
    assert item_rows(db) == items_before


@pytest.mark.parametrize("status", [301, 302])
def test_a_redirect_to_the_metadata_service_is_refused_and_recorded(db, settings, feed_server, status: int) -> None:
    settings = only(settings, feed_server)
    feed_server.add("/feed.xml", rss(entries(2)))
    ids = add_sources(db, settings, gov=feed_server.url("/feed.xml"))
    collect(db, settings, ids["gov"])
    before = item_rows(db)
    assert len(before) == 2
    target = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    feed_server.add_handler("/feed.xml", lambda request: _redirect(request, status, target))
    (result,) = collect(db, settings, ids["gov"])
    _refused_and_recorded(db, "gov", result, "指向内网或保留地址 169.254.169.254:80，已拒绝", before)
    assert source_row(db, "gov").url == feed_server.url("/feed.xml")  # a permanent redirect does not move it there


def test_a_redirect_to_an_unlisted_loopback_port_is_refused_and_that_port_sees_nothing(db, settings, feed_server) -> None:
    settings = only(settings, feed_server)
    with listener() as internal:
        feed_server.add_handler("/feed.xml", lambda request: _redirect(request, 302, f"http://127.0.0.1:{internal.port}/"))
        ids = add_sources(db, settings, forum=feed_server.url("/feed.xml"))
        (result,) = collect(db, settings, ids["forum"])
    assert internal.connections == 0
    _refused_and_recorded(db, "forum", result, f"127.0.0.1:{internal.port}，已拒绝", [])


def test_a_rebinding_name_is_refused_before_anything_is_sent(db, settings, feed_server, monkeypatch) -> None:
    settings = only(settings, feed_server)
    rebinding = RebindingResolver("feeds.rebind.test", first=["93.184.216.34"], then=["127.0.0.1"])
    monkeypatch.setattr(netpolicy, "resolve", rebinding)
    with listener() as internal:
        ids = add_sources(db, settings, tieba=f"http://feeds.rebind.test:{internal.port}/feed.xml")
        (result,) = collect(db, settings, ids["tieba"])
    assert internal.connections == 0 and rebinding.lookups == 2
    _refused_and_recorded(db, "tieba", result, "连接前复查：feeds.rebind.test 此时解析到内网或保留地址", [])
    assert "未发送任何请求" in result.error


def _redirect(request, status: int, location: str) -> None:
    request.send_response(status)
    request.send_header("Location", location)
    request.send_header("Content-Length", "0")
    request.end_headers()


# --- the corpus ----------------------------------------------------------------------

# What each file of tests/hostile must come to: "items" (a feed or archive whose every entry is
# kept), "refused" (a feed refused and recorded in the source's health), "config error" (a YAML
# file refused with file, line and field), "sources" (a YAML file that loads) or "blocked" (a
# sources file that loads, whose every source is refused by the address policy when collected).
HOSTILE_OUTCOMES = {
    "surrogate.rss": ("items", 3),
    "lone-surrogate.json": ("items", 2),
    "lone-surrogate.jsonl": ("items", 2),
    "gb2312-bad-bytes.xml": ("items", 8),
    "deep-nesting.xml": ("refused", "嵌套超过"),
    "alias-bomb.yaml": ("config error", "展开后超过"),
    "self-alias.yaml": ("config error", "无限循环"),
    "deep-nesting.yaml": ("config error", "嵌套超过"),
    "poll-interval-huge.yaml": ("config error", "太长"),
    "merge-key.yaml": ("sources", 3),
    "internal-addresses.yaml": ("blocked", "内网或保留地址"),
}
HOSTILE_FILES = sorted(path.name for path in HOSTILE.iterdir() if path.name != "README.md")


def test_every_hostile_file_has_an_expected_outcome() -> None:
    assert sorted(HOSTILE_OUTCOMES) == HOSTILE_FILES


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_every_hostile_file_fails_safely(db, settings, feed_server, name: str) -> None:
    path = HOSTILE / name
    kind, expected = HOSTILE_OUTCOMES[name]
    started = time.process_time()
    if path.suffix == ".yaml":
        if kind == "config error":
            with pytest.raises(ConfigFileError) as excinfo:
                load_sources_file(path)
            assert all(p.file == str(path) and p.line for p in excinfo.value.problems)
            assert expected in str(excinfo.value)
        elif kind == "sources":
            specs = load_sources_file(path)
            assert len(specs) == expected
            assert len(import_sources(db, specs, settings).added) == expected
        else:
            settings = only(settings, feed_server)
            specs = load_sources_file(path)
            import_sources(db, specs, settings)
            with db.reader() as session:
                ids = list(session.scalars(select(Source.id)))
            results = {result.name: result for result in collect(db, settings, *ids)}
            assert sorted(results) == sorted(spec.name for spec in specs)
            for spec in specs:
                result = results[spec.name]
                assert result.failed and expected in result.error, (spec.url, result.error)
                assert source_row(db, spec.name).last_error == result.error
    elif path.suffix == ".jsonl":
        assert import_archive(db, settings, path, "archive").items_new == expected
    else:
        feed_server.add(f"/{name}", path.read_bytes(), content_type="application/octet-stream")
        ids = add_sources(db, settings, feed=feed_server.url(f"/{name}"))
        (result,) = collect(db, settings, ids["feed"])
        source = source_row(db, "feed")
        assert source.last_status == result.status  # whatever happened is in the source's health
        if kind == "items":
            assert (result.status, result.items_new) == ("ok", expected)
        else:
            assert result.failed and expected in result.error
            assert source.consecutive_errors == 1 and source.last_error == result.error
    assert time.process_time() - started < 20  # generous: each is milliseconds to a second
    for row in item_rows(db):
        assert all(storable(value) == value for value in row if isinstance(value, str))
