"""JSON Lines archive import: same normalize-and-store path, exactly once, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import add_sources, item_rows, source_row
from yuqing_core.collect.archive import import_archive
from yuqing_core.db import Item, Source
from yuqing_core.yamlfile import ConfigFileError

LINES = [
    {
        "title": "柳湾镇道路破损",
        "text": "<p>村民反映道路破损</p>",
        "url": "http://weibo.example/1",
        "published": "2026-10-03 12:53",
        "guid": "w1",
    },
    {"title": "", "text": "转发微博//@某某: 化工园区附近有异味", "published": "2026年10月04日 08:00", "guid": "w2"},
    {"summary": "只有摘要，没有标题、地址和 guid", "published": "2026-10-05T10:00:00+08:00"},
    {"title": "无日期的帖子", "url": "http://weibo.example/4"},
]


def write_jsonl(tmp_path: Path, rows: list, name: str = "archive.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def test_import_creates_the_archive_source_and_stores_once(db, settings, tmp_path) -> None:
    path = write_jsonl(tmp_path, LINES)
    summary = import_archive(db, settings, path, "微博存档")
    assert summary.source_created and (summary.lines, summary.items_new, summary.dates_fallback) == (4, 4, 1)
    source = source_row(db, "微博存档")
    assert (source.kind, source.url, source.last_new_item_at is not None) == ("archive", None, True)
    stored = item_rows(db)
    again = import_archive(db, settings, path, "微博存档")
    assert (again.source_created, again.items_new, again.items_existing) == (False, 0, 4)
    assert item_rows(db) == stored


def test_archive_items_are_normalized_like_feed_items(db, settings, tmp_path) -> None:
    import_archive(db, settings, write_jsonl(tmp_path, LINES), "存档")
    with db.reader() as session:
        items = {i.guid or i.url or i.text: i for i in session.scalars(select(Item))}
    first = items["w1"]
    assert (first.text, first.url) == ("村民反映道路破损", "http://weibo.example/1")
    assert first.published_at.isoformat() == "2026-10-03T04:53:00+00:00"
    assert items["w2"].title == "" and items["w2"].entry_key == "id:w2"
    summary_only = items["只有摘要，没有标题、地址和 guid"]
    assert summary_only.entry_key.startswith("hash:")
    assert items["http://weibo.example/4"].published_fallback == "missing"


def test_archive_into_an_existing_feed_source(db, settings, tmp_path) -> None:
    add_sources(db, settings, 县政府网="http://example.org/gov.xml")
    summary = import_archive(db, settings, write_jsonl(tmp_path, LINES[:1]), "县政府网")
    assert not summary.source_created and summary.items_new == 1
    assert source_row(db, "县政府网").kind == "auto"


def test_bad_lines_are_named_and_nothing_is_imported(db, settings, tmp_path) -> None:
    rows = [LINES[0], "{not json", {"title": ["list"]}, {"url": ""}, {"title": "x", "published": "下周三"}, "[1, 2]"]
    path = write_jsonl(tmp_path, rows)
    with pytest.raises(ConfigFileError) as caught:
        import_archive(db, settings, path, "存档")
    found = [str(p) for p in caught.value.problems]
    assert found == [
        f"{path} 第 2 行第 2 列：JSON 格式错误：Expecting property name enclosed in double quotes",
        f"{path} 第 3 行，字段 title：应为文本",
        f"{path} 第 4 行：title、text/summary、url 至少要有一项",
        f"{path} 第 5 行，字段 published：无法识别的时间 '下周三'",
        f"{path} 第 6 行：每行应为一个 JSON 对象",
    ]
    assert item_rows(db) == []
    with db.reader() as session:
        assert session.scalars(select(Source.name)).all() == []  # not even the source was created


def test_not_utf8_and_missing_file(db, settings, tmp_path) -> None:
    path = tmp_path / "gbk.jsonl"
    path.write_bytes(json.dumps({"title": "青禾"}, ensure_ascii=False).encode("gbk"))
    with pytest.raises(ConfigFileError, match="不是 UTF-8"):
        import_archive(db, settings, path, "存档")
    with pytest.raises(ConfigFileError, match="文件不存在"):
        import_archive(db, settings, tmp_path / "missing.jsonl", "存档")


def test_repeated_guids_across_batches_are_made_unique(db, settings, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("yuqing_core.collect.archive.BATCH_LINES", 2)
    rows = [{"title": f"帖{i}", "url": f"http://x/{i}", "guid": "same"} for i in range(5)]
    summary = import_archive(db, settings, write_jsonl(tmp_path, rows), "存档")
    assert summary.items_new == 5
