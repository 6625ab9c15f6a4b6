"""Sources files: every problem named by file, line and field; all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from yuqing_core.collect.sources import import_sources, load_sources_file, parse_duration, set_enabled
from yuqing_core.db import Source
from yuqing_core.yamlfile import ConfigFileError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigFileError) as caught:
        load_sources_file(path)
    return [str(p) for p in caught.value.problems]


def test_simplest_file(tmp_path) -> None:
    (spec,) = load_sources_file(write(tmp_path, 'sources: [{name: 县政府网, url: "http://127.0.0.1:8000/gov.xml"}]'))
    assert (spec.name, spec.kind, spec.weight, spec.poll_interval, spec.enabled) == ("县政府网", "auto", 1.0, 1800, True)


def test_every_field(tmp_path) -> None:
    (spec,) = load_sources_file(
        write(
            tmp_path,
            """sources:
  - name: 江华日报
    url: https://example.org/rss.xml
    kind: rss
    owner_unit: 县委宣传部
    category: 媒体
    weight: 1.2
    poll_interval: 15m
    enabled: false
    timezone: Asia/Urumqi
""",
        )
    )
    assert (spec.kind, spec.owner_unit, spec.weight, spec.poll_interval, spec.enabled, spec.timezone) == (
        "rss", "县委宣传部", 1.2, 900, False, "Asia/Urumqi",
    )  # fmt: skip


def test_problems_name_file_line_and_field(tmp_path) -> None:
    path = write(
        tmp_path,
        """sources:
  - name: 好的
    url: http://example.org/a.xml
  - name: 坏地址
    url: javascript:alert(1)
  - url: http://example.org/noname.xml
  - name: 坏权重
    url: http://example.org/w.xml
    weight: -1
  - name: 坏间隔
    url: http://example.org/i.xml
    poll_interval: 每天
  - name: 多余字段
    url: http://example.org/x.xml
    colour: red
  - name: 好的
    url: http://example.org/dup.xml
  - name: 缺地址
    kind: rss
""",
    )
    found = problems(path)
    text = "\n".join(found)
    assert f"{path} 第 5 行第 10 列，字段 sources[1].url：只允许 http/https 地址" in text
    assert "第 6 行第 5 列，字段 sources[2].name：缺少必填字段" in text
    assert "第 9 行第 13 列，字段 sources[3].weight：应大于 0" in text
    assert "第 12 行第 20 列，字段 sources[4].poll_interval：无法识别的时长 '每天'" in text
    assert "第 15 行第 13 列，字段 sources[5].colour：未知字段" in text
    assert "第 18 行第 5 列，字段 sources[7]：url：订阅源必须有地址" in text
    assert len(found) == 6
    # Duplicates are reported once the rest is valid.
    path2 = write(tmp_path, "sources:\n  - {name: a, url: 'http://x/1'}\n  - {name: a, url: 'http://x/2'}\n")
    assert problems(path2) == [f"{path2} 第 3 行第 12 列，字段 sources[1].name：名称 'a' 与第 2 行重复"]


def test_yaml_syntax_and_duplicate_keys(tmp_path) -> None:
    (syntax,) = problems(write(tmp_path, "sources:\n  - name: a\n   url: [\n"))
    assert "YAML 语法错误" in syntax and "第 3 行" in syntax
    (duplicate,) = problems(write(tmp_path, "sources:\n  - name: a\n    url: http://x/1\n    url: http://x/2\n"))
    assert "第 4 行第 5 列，字段 sources[0].url：重复的字段" in duplicate


def test_empty_or_wrong_shape(tmp_path) -> None:
    assert "缺少必填字段" in problems(write(tmp_path, ""))[0]
    assert "应为列表" in problems(write(tmp_path, "sources: 县政府网\n"))[0]
    assert "文件不存在" in problems(tmp_path / "missing.yaml")[0]


def test_durations() -> None:
    assert [parse_duration(v) for v in ("90s", "15m", "2h", "1d", "600", 600, "1.5h", "10分钟")] == [
        90, 900, 7200, 86400, 600, 600, 5400, 600,
    ]  # fmt: skip


def test_bad_file_imports_nothing(db, settings, tmp_path) -> None:
    path = write(tmp_path, "sources:\n  - {name: a, url: 'http://x/1'}\n  - {name: b, url: 'ftp://x/2'}\n")
    with pytest.raises(ConfigFileError):
        import_sources(db, load_sources_file(path), settings)
    with db.reader() as session:
        assert session.scalars(select(Source)).all() == []


def test_reimport_updates_and_reports(db, settings, tmp_path) -> None:
    first = write(tmp_path, "sources:\n  - {name: a, url: 'http://x/1'}\n  - {name: b, url: 'http://x/2'}\n")
    summary = import_sources(db, load_sources_file(first), settings)
    assert (summary.added, summary.updated) == (["a", "b"], [])
    second = write(tmp_path, "sources:\n  - {name: a, url: 'http://x/1', weight: 2}\n")
    summary = import_sources(db, load_sources_file(second), settings)
    assert (summary.added, summary.updated, summary.unchanged, summary.not_in_file) == ([], ["a"], [], ["b"])
    assert import_sources(db, load_sources_file(second), settings).unchanged == ["a"]


def test_automatically_disabled_source_stays_disabled_until_its_url_changes(db, settings, tmp_path) -> None:
    path = write(tmp_path, "sources:\n  - {name: a, url: 'http://x/1'}\n")
    import_sources(db, load_sources_file(path), settings)
    set_enabled(db, "a", False, reason="HTTP 410")
    summary = import_sources(db, load_sources_file(path), settings)
    assert summary.still_disabled == ["a"]
    moved = write(tmp_path, "sources:\n  - {name: a, url: 'http://x/new'}\n")
    import_sources(db, load_sources_file(moved), settings)
    with db.reader() as session:
        source = session.scalars(select(Source)).one()
    assert source.enabled and source.url == "http://x/new" and source.etag is None


def test_enabled_false_in_the_file_disables_and_true_restores(db, settings, tmp_path) -> None:
    off = write(tmp_path, "sources:\n  - {name: a, url: 'http://x/1', enabled: false}\n")
    import_sources(db, load_sources_file(off), settings)
    with db.reader() as session:
        assert session.scalars(select(Source.enabled)).one() is False
    on = write(tmp_path, "sources:\n  - {name: a, url: 'http://x/1'}\n")
    import_sources(db, load_sources_file(on), settings)
    with db.reader() as session:
        assert session.scalars(select(Source.enabled)).one() is True


def test_role_is_validated_with_file_line_and_field(tmp_path) -> None:
    path = write(tmp_path, "sources:\n  - name: 江华日报\n    url: http://example.org/a.xml\n    role: 官方\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path} 第 4 行") and "字段 sources[0].role" in problem
    assert "official" in problem and "media" in problem and "public" in problem


def test_role_declared_or_inferred_from_category_and_name(db, settings, tmp_path) -> None:
    path = write(
        tmp_path,
        """sources:
  - {name: 县政府网, url: 'http://x/1', category: 政务}
  - {name: 江华日报, url: 'http://x/2'}
  - {name: 县网络问政平台, url: 'http://x/3', category: 留言板}
  - {name: 青禾生活圈, url: 'http://x/4', category: 自媒体}
  - {name: 某某网, url: 'http://x/5'}
  - {name: 县融媒体中心, url: 'http://x/6', role: official}
""",
    )
    specs = load_sources_file(path)
    assert [s.effective_role for s in specs] == ["official", "media", "public", "public", "public", "official"]
    import_sources(db, specs, settings)
    with db.reader() as session:
        stored = {s.name: (s.role, s.role_inferred) for s in session.scalars(select(Source))}
    assert stored["县融媒体中心"] == ("official", False) and stored["江华日报"] == ("media", True)
    # Declaring the inferred role makes it explicit: an update, no longer marked as inferred.
    declared = write(tmp_path, "sources:\n  - {name: 江华日报, url: 'http://x/2', role: media}\n")
    assert import_sources(db, load_sources_file(declared), settings).updated == ["江华日报"]
    with db.reader() as session:
        assert session.scalars(select(Source.role_inferred).where(Source.name == "江华日报")).one() is False
