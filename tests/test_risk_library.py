"""The risk library: validation with places, versions, diff, export, backtest, verdicts."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from helpers import add_sources
from yuqing_core.collect.archive import import_archive
from yuqing_core.risk.backtest import backtest
from yuqing_core.risk.library import CompiledLibrary, describe_changes, diff_libraries, load_library_file, load_library_text
from yuqing_core.risk.versions import NoActiveLibrary, active_library, import_library, list_versions, version_content
from yuqing_core.rules import MatchText
from yuqing_core.yamlfile import ConfigFileError

DEMO_LIBRARY = resources.files("yuqing_core.demo").joinpath("risk.yaml").read_text(encoding="utf-8")

SMALL = """name: 测试库
region:
  terms: [青禾县, 柳湾镇]
  local_sources: [青禾论坛]
exclusions:
  - name: 广告
    rule: 广告 | 促销
risk_points:
  - name: 化工异味
    category: 安全生产
    units: [县应急管理局]
    severity: 3
    rules: ['化工园区 & (异味 | 泄漏)']
  - name: 正面
    severity: 1
    positive: true
    rules: [丰收]
sensitive_words: [中毒]
"""


def with_point(text: str, name: str, rule: str) -> str:
    """The library text with one more risk point at the end of the list."""
    return text.replace("sensitive_words:", f"  - name: {name}\n    rules: ['{rule}']\nsensitive_words:")


def write(tmp_path: Path, text: str, name: str = "risk.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigFileError) as caught:
        load_library_file(path)
    return [str(p) for p in caught.value.problems]


def test_the_sample_library_is_valid() -> None:
    spec = load_library_text(DEMO_LIBRARY)
    assert len(spec.risk_points) >= 8 and spec.region.terms and spec.exclusions
    assert any(point.positive for point in spec.risk_points)


def test_problems_are_named_by_line_and_field(tmp_path) -> None:
    text = SMALL.replace("rules: ['化工园区 & (异味 | 泄漏)']", "rules: ['化工园区 & (异味 | 泄漏']").replace(
        "severity: 3", "severity: 7"
    )
    text = with_point(text, "化工异味", "x")
    text += "warning_levels: {IV: 60, III: 50, II: 70, I: 85}\ncolour: red\n"
    path = write(tmp_path, text)
    found = problems(path)
    joined = "\n".join(found)
    assert "第 12 行第 15 列，字段 risk_points[0].severity：应不大于 4" in joined
    assert "字段 warning_levels：预警阈值必须逐级升高" in joined
    assert "字段 colour：未知字段" in joined
    # Schema problems come first; rule syntax and duplicates once the schema holds.
    fixed = (
        text.replace("severity: 7", "severity: 3")
        .replace("warning_levels: {IV: 60", "warning_levels: {IV: 30")
        .replace("colour: red\n", "")
    )
    later = problems(write(tmp_path, fixed))
    assert any("第 13 行" in p and "risk_points[0].rules[0]" in p and "缺少右括号" in p for p in later), later
    assert any("risk_points[2].name：名称 '化工异味' 与第 9 行重复" in p for p in later), later


def test_compiled_verdicts(tmp_path) -> None:
    library = CompiledLibrary(load_library_text(SMALL))
    about = library.judge(MatchText(title="柳湾镇化工园区有异味", text="居民担心中毒", source="江华日报"))
    assert (about.relevant, about.excluded, about.risk_points) == (True, False, ["化工异味"])
    elsewhere = library.judge(MatchText(title="外县化工园区泄漏", text="", source="江华日报"))
    assert (elsewhere.relevant, elsewhere.risk_points) == (False, [])
    local = library.judge(MatchText(title="化工园区泄漏？", text="", source="青禾论坛"))
    assert local.relevant and local.risk_points == ["化工异味"]
    advert = library.judge(MatchText(title="青禾县化工园区异味治理设备促销", text="", source="江华日报"))
    assert advert.excluded and advert.risk_points == []
    kinds = {library.meta[key].kind for key, _ in about.matches}
    assert kinds == {"region", "risk"}


def test_versions_import_diff_export(db, settings, tmp_path) -> None:
    with pytest.raises(NoActiveLibrary):
        active_library(db)
    first = import_library(db, load_library_file(write(tmp_path, SMALL)), author="张分析", note="初版")
    assert first.created and first.version.version == 1 and first.version.author == "张分析"
    assert first.version.changes["risk_points"]["added"] == ["化工异味", "正面"]
    again = import_library(db, load_library_file(write(tmp_path, SMALL)), author="张分析")
    assert not again.created and again.version.version == 1

    changed_text = with_point(
        SMALL.replace("severity: 3", "severity: 4").replace("rules: [丰收]", "rules: [丰收, 通车]"), "新增", "欠薪"
    )
    second = import_library(db, load_library_file(write(tmp_path, changed_text, "v2.yaml")), author="李分析")
    assert second.version.version == 2
    lines = describe_changes(second.version.changes)
    assert "+ 新增风险点：新增" in lines
    assert "~ 化工异味：基础等级 3 → 4" in lines
    assert "~ 正面：新增规则 通车" in lines
    assert [v.version for v in list_versions(db)] == [2, 1]
    assert version_content(db, 1)[1] == SMALL
    assert active_library(db).version.version == 2
    assert diff_libraries(load_library_text(changed_text), load_library_text(changed_text)) == {}


def test_backtest_shows_newly_and_stopped(db, settings, tmp_path) -> None:
    import json

    add_sources(db, settings, 江华日报="http://example.org/jh.xml")
    archive = tmp_path / "a.jsonl"
    rows = [
        {"title": "青禾县化工园区异味", "text": "居民反映", "guid": "1"},
        {"title": "青禾县化工园区泄漏传闻", "text": "", "guid": "2"},
        {"title": "青禾县讨薪", "text": "工地欠薪", "guid": "3"},
    ]
    archive.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    import_archive(db, settings, archive, "江华日报")
    import_library(db, load_library_file(write(tmp_path, SMALL)))
    proposed = load_library_text(with_point(SMALL.replace("(异味 | 泄漏)", "异味"), "欠薪", "欠薪 | 讨薪"))
    report = backtest(db, proposed, days=3650)
    assert report.items == 3
    assert (report.points["化工异味"].before, report.points["化工异味"].after) == (2, 1)
    assert len(report.points["化工异味"].stopped) == 1 and report.points["欠薪"].after == 1
    text = "\n".join(report.lines())
    assert "化工异味：2 → 1（-1）" in text and "青禾县化工园区泄漏传闻" in text


@pytest.mark.parametrize("rule", ["化工 & /(a+)+$/", "化工 & /(\\d+人)\\1/"])
def test_slow_regular_expressions_are_refused_with_file_line_and_column(tmp_path, rule: str) -> None:
    path = write(tmp_path, with_point(SMALL, "慢正则", rule))
    joined = "\n".join(problems(path))
    assert str(path) in joined or path.name in joined
    line = with_point(SMALL, "慢正则", rule).splitlines().index(f"    rules: ['{rule}']") + 1
    assert f"第 {line} 行" in joined and "列" in joined
    assert "可能极慢" in joined
