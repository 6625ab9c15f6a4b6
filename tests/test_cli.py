"""The yuqing command as scripts and operators use it."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from helpers import entries, rss
from yuqing_core.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def sources_file(tmp_path, text: str):
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sources_import_and_list(runner, env_settings, tmp_path) -> None:
    path = sources_file(tmp_path, 'sources: [{name: 县政府网, url: "http://127.0.0.1:8000/gov.xml"}]')
    result = runner.invoke(main, ["sources", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "新增 1 个" in result.output
    listed = runner.invoke(main, ["sources", "list"])
    assert "县政府网" in listed.output and "上次成功" in listed.output and "停用原因" in listed.output
    as_json = json.loads(runner.invoke(main, ["sources", "list", "--format", "jsonl"]).output)
    assert as_json["name"] == "县政府网" and as_json["enabled"] is True and as_json["consecutive_errors"] == 0
    # No role in the file: inferred from the name, and the list says it was inferred.
    assert "官方（推断）" in listed.output and (as_json["role"], as_json["role_inferred"]) == ("official", True)


def test_bad_sources_file_is_a_message_not_a_traceback(runner, env_settings, tmp_path) -> None:
    path = sources_file(tmp_path, "sources:\n  - name: 坏\n    url: ftp://x/feed\n")
    result = runner.invoke(main, ["sources", "import", str(path)])
    assert result.exit_code == 1
    assert "未导入任何内容" in result.output and "第 3 行" in result.output and "sources[0].url" in result.output
    assert "Traceback" not in result.output


def test_enable_disable(runner, env_settings, tmp_path) -> None:
    runner.invoke(main, ["sources", "import", str(sources_file(tmp_path, "sources: [{name: a, url: 'http://x/1'}]"))])
    assert runner.invoke(main, ["sources", "disable", "a", "--reason", "维护"]).exit_code == 0
    assert "维护" in runner.invoke(main, ["sources", "list"]).output
    assert runner.invoke(main, ["sources", "enable", "a"]).exit_code == 0
    missing = runner.invoke(main, ["sources", "enable", "不存在"])
    assert missing.exit_code == 1 and "没有名为 '不存在' 的信息源" in missing.output


def test_archive_import_and_items_list_jsonl(runner, env_settings, tmp_path) -> None:
    archive = tmp_path / "a.jsonl"
    archive.write_text(
        json.dumps({"title": "柳湾镇", "text": "道路", "url": "http://x/1", "published": "2026-11-27 09:30", "guid": "g1"}, ensure_ascii=False)
        + "\n" + json.dumps({"text": "无标题的帖子", "published": "2026-11-26 08:00"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    result = runner.invoke(main, ["import", str(archive), "--source", "微博存档"])
    assert result.exit_code == 0 and "新增 2 条" in result.output
    lines = runner.invoke(main, ["items", "list", "--since", "2026-11-27", "--format", "jsonl"]).output.splitlines()
    (item,) = [json.loads(line) for line in lines]
    assert set(item) == {"id", "source", "title", "url", "published", "fetched", "guid"}
    assert item["source"] == "微博存档" and item["guid"] == "g1" and item["published"] == "2026-11-27T09:30:00+08:00"
    assert datetime.fromisoformat(item["fetched"]).utcoffset().total_seconds() == 8 * 3600
    table = runner.invoke(main, ["items", "list"]).output
    assert "无标题的帖子" in table and "柳湾镇" in table
    bad = runner.invoke(main, ["items", "list", "--since", "昨天"])
    assert bad.exit_code == 1 and "无法识别的时间" in bad.output


def test_archive_errors_name_the_line(runner, env_settings, tmp_path) -> None:
    archive = tmp_path / "bad.jsonl"
    archive.write_text('{"title": "ok"}\n{"title": 1, "published": "soon"}\n', encoding="utf-8")
    result = runner.invoke(main, ["import", str(archive), "--source", "存档"])
    assert result.exit_code == 1 and "第 2 行，字段 published" in result.output


@pytest.mark.prefect
def test_collect_command_prints_a_per_source_summary(runner, env_settings, feed_server, tmp_path, prefect_harness) -> None:
    feed_server.add("/gov.xml", rss(entries(4)))
    path = sources_file(tmp_path, f"sources:\n  - {{name: 县政府网, url: '{feed_server.url('/gov.xml')}'}}\n")
    runner.invoke(main, ["sources", "import", str(path)])
    first = runner.invoke(main, ["collect"])
    assert first.exit_code == 0, first.output
    assert "县政府网" in first.output and "共 1 个信息源，新增 4 条。" in first.output
    nothing_due = runner.invoke(main, ["collect"])
    assert "没有到期的信息源" in nothing_due.output
    again = runner.invoke(main, ["collect", "--all"])
    assert "未更新" in again.output and "新增 0 条" in again.output
