"""Cases from the command line and from Prefect: open from a warning in one command, act, list, show;
the calendar commands staff check deadlines with; the case-action and track-cases flows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import add_sources
from test_analysis import LEAK, library, load, post
from yuqing_core.analysis import analyze
from yuqing_core.cli import main
from yuqing_core.timeutil import utcnow


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def warned(env_settings, db, tmp_path):
    now = utcnow()
    add_sources(db, env_settings, now - timedelta(days=3), 青禾论坛="http://example.org/bbs.xml")
    library(db, tmp_path)
    load(
        db,
        env_settings,
        tmp_path,
        "青禾论坛",
        [post(f"p{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), now - timedelta(hours=i + 1)) for i in range(4)],
    )
    summary = analyze(db, now=now)
    return summary.warnings[0]


def test_calendar_commands(runner, env_settings) -> None:
    assert runner.invoke(main, ["calendar", "add-workdays", "2024-09-30", "3"]).output.strip() == "2024-10-10"
    holiday = runner.invoke(main, ["calendar", "is-workday", "2024-10-01"])
    assert holiday.exit_code == 1 and holiday.output.strip() == "非工作日"
    makeup = runner.invoke(main, ["calendar", "is-workday", "2024-10-12"])  # a Saturday worked for the National Day holiday
    assert makeup.exit_code == 0 and makeup.output.strip() == "工作日"
    future = runner.invoke(main, ["calendar", "add-workdays", "2027-03-01", "2"])
    assert future.output.startswith("2027-03-03（暂定")


def test_open_from_a_warning_in_one_command_then_act(runner, warned, env_settings) -> None:
    opened = runner.invoke(main, ["case", "open", "--warning", str(warned.id), "--by", "舆情中心"])
    assert opened.exit_code == 0, opened.output
    number = opened.output.split("「")[0]
    assert number.startswith("督〔") and "派单" in opened.output and "牵头 县应急管理局" in opened.output
    notice_files = [line for line in opened.output.splitlines() if line.endswith((".html", ".md", ".docx", ".txt"))]
    assert len(notice_files) == 4 and "舆情督报" in notice_files[0]
    assert number in Path(notice_files[1]).read_text(encoding="utf-8")  # the notice names its case

    refused = runner.invoke(main, ["case", "close", number])
    assert refused.exit_code == 1 and "当前状态为「派单」，不能「办结」" in refused.output and "签收（ack）" in refused.output
    other_unit = runner.invoke(main, ["case", "ack", number, "--for", "县水利局"])
    assert other_unit.exit_code == 1 and "县水利局 不是督办件" in other_unit.output and "牵头或配合单位" in other_unit.output
    for args in (["ack", number, "--for", "县应急管理局"], ["start", number], ["return", number, "--answer", "已核查整改", "--attachment", "http://x/r.pdf"],
                 ["close", number, "--by", "舆情中心"]):  # fmt: skip
        result = runner.invoke(main, ["case", *args])
        assert result.exit_code == 0, result.output
    shown = runner.invoke(main, ["case", "show", number]).output
    assert "办结" in shown and "办理结果：已核查整改" in shown and shown.count("→") == 6
    listed = [json.loads(line) for line in runner.invoke(main, ["case", "list", "--format", "jsonl"]).output.splitlines()]
    assert listed[0]["number"] == number and listed[0]["state"] == "closed"
    stale = runner.invoke(main, ["case", "reopen", number, "--note", "群众再次反映", "--version", "2"])
    assert stale.exit_code == 1 and "已被修改" in stale.output


def test_manual_case_needs_a_unit_and_a_title(runner, env_settings) -> None:
    missing = runner.invoke(main, ["case", "open", "--title", "道路破损"])
    assert missing.exit_code == 1 and "请指定牵头单位" in missing.output
    ok = runner.invoke(
        main, ["case", "open", "--title", "道路破损", "--unit", "柳湾镇人民政府", "--type", "urgent", "--list-only"]
    )
    assert ok.exit_code == 0 and "列单" in ok.output and "期限 -" in ok.output
    bad_type = runner.invoke(main, ["case", "open", "--title", "x", "--unit", "y", "--type", "weekly"])
    assert bad_type.exit_code == 1 and "没有督办件类型 'weekly'" in bad_type.output


@pytest.mark.prefect
def test_case_action_and_track_cases_flows(env_settings, warned, db, prefect_harness) -> None:
    from prefect.settings import PREFECT_API_AUTH_STRING, temporary_settings

    from flows.case_action import case_action
    from flows.track_cases import track_cases
    from yuqing_core.cases import CasePolicy, get_case, history, open_case, origin_of

    case = open_case(db, CasePolicy(), actor="中心", origin=origin_of(db, warning_id=warned.id), dispatch=True)
    assert case.lead_unit == "县应急管理局"
    # The harness checks no credential; what matters is that the worker's own is what the row records.
    with temporary_settings({PREFECT_API_AUTH_STRING: "yuqing-ops:not-checked-by-the-harness"}):
        done = case_action(case_number=case.number, action="ack", unit="县应急管理局", return_state=True)
    assert done.is_completed() and done.result()["state"] == "acknowledged"
    row = history(db, case.number)[-1]
    assert row.actor == "Prefect 账号 yuqing-ops（代 县应急管理局）"
    assert row.details == {"flow_run_id": str(done.state_details.flow_run_id), "on_behalf_of": "县应急管理局"}

    other_unit = case_action(case_number=case.number, action="start", unit="县水利局", return_state=True)
    assert other_unit.is_failed() and "县水利局 不是督办件" in str(other_unit.result(raise_on_failure=False))
    no_unit = case_action(case_number=case.number, action="start", return_state=True)
    assert no_unit.is_failed() and "请在 unit 中填写" in no_unit.message
    unit_closing = case_action(case_number=case.number, action="close", unit="县应急管理局", return_state=True)
    assert unit_closing.is_failed() and "由监控中心办理" in str(unit_closing.result(raise_on_failure=False))
    refused = case_action(case_number=case.number, action="close", return_state=True)
    assert refused.is_failed() and "不能「办结」" in str(refused.result(raise_on_failure=False))
    assert get_case(db, case.number).state == "acknowledged"
    assert len(history(db, case.number)) == 3  # open, dispatch, ack: the refusals recorded nothing

    tracked = track_cases(now=case.deadline_at - timedelta(hours=1), return_state=True)
    assert tracked.is_completed() and tracked.result().reminders == [case.number]


@pytest.mark.prefect
def test_a_reminder_that_fails_to_send_fails_the_track_cases_flow_and_the_next_run_sends_it(
    env_settings, warned, db, prefect_harness, tmp_path, monkeypatch
) -> None:
    from flows.track_cases import track_cases
    from receivers import WebhookReceiver
    from tasks.cases import track
    from yuqing_core.cases import CasePolicy, open_case, origin_of
    from yuqing_core.config import get_settings
    from yuqing_core.notify import list_deliveries

    with WebhookReceiver() as hook:
        units = tmp_path / "units.yaml"
        units.write_text(f"""units:
  - {{name: 舆情中心, kind: office, targets: ["{hook.url("/office")}"]}}
  - {{name: 县应急管理局, kind: department, targets: ["{hook.url("/emergency")}"]}}
routing: {{IV: [舆情中心], III: [舆情中心], II: [舆情中心], I: [舆情中心]}}
""", encoding="utf-8")  # fmt: skip
        monkeypatch.setenv("YUQING_UNITS_FILE", str(units))
        get_settings.cache_clear()
        monkeypatch.setattr("flows.track_cases.track", track.with_options(retries=0))
        case = open_case(db, CasePolicy(), actor="中心", origin=origin_of(db, warning_id=warned.id), dispatch=True)
        hook.status = 500  # the bureau's webhook refuses the reminder
        failed = track_cases(now=case.deadline_at - timedelta(hours=1), return_state=True)
        assert failed.is_failed() and failed.message.startswith("送达失败 1 条（共 1 条）"), failed.message
        assert "县应急管理局" in failed.message
        hook.status = 200  # the next hourly run: the failed reminder goes out, once
        again = track_cases(now=case.deadline_at - timedelta(minutes=50), return_state=True)
        assert again.is_completed(), again.message
        rows = [row for row in list_deliveries(db) if row.kind == "case_reminder"]
        assert [row.status for row in rows] == ["sent"] and len([p for p in hook.posts if p.path == "/emergency"]) == 1
    get_settings.cache_clear()
