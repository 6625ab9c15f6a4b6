"""The analysts' commands: risk, rules test, analyze, events, warnings."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from helpers import add_sources
from test_analysis import LEAK, LIBRARY, post
from yuqing_core.cli import main
from yuqing_core.collect.archive import import_archive
from yuqing_core.timeutil import utcnow


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def library_file(tmp_path):
    path = tmp_path / "risk.yaml"
    path.write_text(LIBRARY, encoding="utf-8")
    return path


@pytest.fixture
def stored(env_settings, db, tmp_path):
    now = utcnow()
    rows = [post(f"p{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), now - timedelta(hours=i + 1)) for i in range(4)]
    rows.append(post("w", "柳湾工地欠薪", "三十多名工人讨薪", now - timedelta(hours=3)))
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    add_sources(db, env_settings, 青禾论坛="http://example.org/bbs.xml")
    import_archive(db, env_settings, path, "青禾论坛")
    return db


def test_validate_names_problems(runner, env_settings, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(LIBRARY.replace("(异味 | 泄漏 | 刺鼻)", "(异味 | 泄漏"), encoding="utf-8")
    result = runner.invoke(main, ["risk", "validate", str(bad)])
    assert result.exit_code == 1 and "缺少右括号" in result.output and "risk_points[0].rules[0]" in result.output
    good = tmp_path / "good.yaml"
    good.write_text(LIBRARY, encoding="utf-8")
    assert "有效：3 个风险点" in runner.invoke(main, ["risk", "validate", str(good)]).output


def test_import_diff_versions_export(runner, env_settings, library_file, tmp_path) -> None:
    first = runner.invoke(main, ["risk", "import", str(library_file), "--author", "王", "--note", "初版"])
    assert first.exit_code == 0 and "已导入为第 1 版（王" in first.output and "+ 新增风险点：化工异味" in first.output
    assert "与当前第 1 版相同" in runner.invoke(main, ["risk", "import", str(library_file)]).output
    changed = tmp_path / "v2.yaml"
    changed.write_text(LIBRARY.replace("severity: 2", "severity: 3"), encoding="utf-8")
    diff = runner.invoke(main, ["risk", "diff", str(changed)])
    assert "对比第 1 版" in diff.output and "~ 讨薪：基础等级 2 → 3" in diff.output
    runner.invoke(main, ["risk", "import", str(changed), "--author", "李"])
    versions = runner.invoke(main, ["risk", "versions"]).output
    assert "李" in versions and "王" in versions and "初版" in versions
    assert runner.invoke(main, ["risk", "export", "--version", "1"]).output == LIBRARY
    out = tmp_path / "exported.yaml"
    runner.invoke(main, ["risk", "export", "-o", str(out)])
    assert out.read_text(encoding="utf-8") == changed.read_text(encoding="utf-8")


def test_rules_test_on_stored_items_and_a_file(runner, stored, tmp_path) -> None:
    text = runner.invoke(main, ["rules", "test", "化工园区 & 泄漏"])
    assert text.exit_code == 0, text.output
    assert "【化工园区】【泄漏】" in text.output and "共检查 5 条，命中 4 次" in text.output
    assert text.output.count("立场：伤亡事故（公众来源；线索：泄漏") == 4  # every hit with its stance and why
    lines = [
        json.loads(line)
        for line in runner.invoke(main, ["rules", "test", "欠薪 | 讨薪", "--format", "jsonl"]).output.splitlines()
    ]
    # Issue 10: each hit also carries the item's stance and why (the source's role and the cue words).
    assert len(lines) == 1 and set(lines[0]) == {"item_id", "rule", "terms", "stance", "stance_reason"}
    assert {t["term"] for t in lines[0]["terms"]} == {"欠薪", "讨薪"}
    assert lines[0]["stance"] == "complaint" and lines[0]["stance_reason"]["role"] == "public"
    assert {"欠薪", "讨薪"} <= set(lines[0]["stance_reason"]["cues"])

    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        '{"title": "东坪村化工厂异味", "text": "很臭", "source": "青禾论坛", "source_role": "public"}\n{"title": "无关"}\n',
        encoding="utf-8",
    )
    library_file = tmp_path / "risk.yaml"
    library_file.write_text(LIBRARY, encoding="utf-8")
    result = runner.invoke(main, ["rules", "test", "--library", str(library_file), "--input", str(samples), "--format", "jsonl"])
    (line,) = [json.loads(x) for x in result.output.splitlines()]
    assert line["line"] == 1 and line["risk_point"] == "化工异味" and line["stance_reason"]["role"] == "public"
    assert {(t["term"], t["field"], t["start"], t["end"]) for t in line["terms"]} >= {
        ("化工厂", "title", 3, 6),
        ("异味", "title", 6, 8),
    }
    assert runner.invoke(main, ["items", "list"]).output.count("东坪村化工园区泄漏") == 4  # rules test stored nothing new


def test_rules_test_errors(runner, env_settings, tmp_path) -> None:
    bad = runner.invoke(main, ["rules", "test", "(化工园区 & 泄漏"])
    assert bad.exit_code == 1 and "第11列：缺少右括号" in bad.output and "^" in bad.output
    assert runner.invoke(main, ["rules", "test"]).exit_code == 2
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"title": "ok"}\n{"title": 3}\nnot json\n', encoding="utf-8")
    result = runner.invoke(main, ["rules", "test", "ok", "--input", str(broken)])
    assert result.exit_code == 1 and "第 2 行，字段 title：应为文本" in result.output and "第 3 行" in result.output
    broken.write_text('{"title": "ok", "source_role": "official"}\n{"title": "ok", "source_role": "官方"}\n', encoding="utf-8")
    result = runner.invoke(main, ["rules", "test", "ok", "--input", str(broken)])
    assert result.exit_code == 1 and "第 2 行，字段 source_role：应为 official | media | public 之一" in result.output


@pytest.mark.prefect
def test_analyze_events_warnings(runner, stored, library_file, prefect_harness) -> None:
    assert "还没有导入风险库" in runner.invoke(main, ["analyze"]).output
    runner.invoke(main, ["risk", "import", str(library_file)])
    result = runner.invoke(main, ["analyze"])
    assert result.exit_code == 0, result.output
    assert "分析 5 条" in result.output and "新预警" in result.output

    listed = runner.invoke(main, ["events", "list", "--risk"]).output
    assert "化工异味" in listed and "讨薪" in listed
    exported = [json.loads(line) for line in runner.invoke(main, ["events", "export", "--format", "jsonl"]).output.splitlines()]
    assert len(exported) == 5 and set(exported[0]) == {"item_id", "guid", "source", "published", "event_id", "joined_by"}
    leak_event = exported[0]["event_id"]
    assert sum(1 for row in exported if row["event_id"] == leak_event) == 4
    shown = runner.invoke(main, ["events", "show", str(leak_event)]).output
    assert "命中【化工异味】" in shown and "【东坪村】" in shown
    assert "立场：伤亡事故（公众来源；线索：泄漏" in shown  # the stance with its reason, for every item

    warnings = [json.loads(line) for line in runner.invoke(main, ["warnings", "list", "--format", "jsonl"]).output.splitlines()]
    # By hand (risk/scoring.py): severity 3 -> 24, 送医院 -> +5; 4 problem items -> 5 log2 5 = 11.61; one source -> no
    # spread (and no spike points); 4 in the last 6 h -> 2; weight 1 -> 8; four harm reports -> 15 (capped);
    # no official response yet, 8 working hours allowed at III: pending, 0. 65.61: level III.
    assert [(w["status"], w["level"], w["score"]) for w in warnings] == [("open", "III", 65.61)]
    assert "风险分构成：" in shown and "立场构成 +15：伤亡/危害报告 4 条 +15" in shown
    assert "快速回应：" in shown and "首次官方回应：尚无" in shown and "状态：待回应（时限 8 个工作小时）" in shown
    wid = warnings[0]["warning_id"]
    assert runner.invoke(main, ["warnings", "downgrade", str(wid), "--to", "II", "--reason", "x"]).exit_code == 1
    done = runner.invoke(main, ["warnings", "downgrade", str(wid), "--to", "IV", "--reason", "核实后影响有限", "--by", "值班员"])
    assert done.exit_code == 0 and "已降级" in done.output
    shown = runner.invoke(main, ["warnings", "show", str(wid)]).output
    assert "IV级（一般）（原为III级（较大））" in shown and "风险分 65.61" in shown and "立场构成 +15" in shown
    assert "值班员 降级：核实后影响有限" in shown and "状态：待回应" in shown
    assert runner.invoke(main, ["warnings", "show", "999"]).exit_code == 1
    done = runner.invoke(main, ["warnings", "dismiss", str(wid), "--reason", "已处置"])
    assert "已排除" in done.output
    assert "已排除" in runner.invoke(main, ["warnings", "list"]).output
