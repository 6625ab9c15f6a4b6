"""The report flows end to end: files written, an artifact, delivery through a real local SMTP
server and webhook receiver, and a retried flow that still delivers exactly once."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from prefect.flow_engine import run_flow

from flows.analyze import analyze
from flows.daily_report import daily_report
from flows.special_report import special_report
from helpers import add_sources
from receivers import SmtpReceiver, WebhookReceiver
from test_analysis import LEAK, library, load, post
from test_collect_flow import deployment_flow_run_of, press_retry
from yuqing_core.cli import main
from yuqing_core.notify import list_deliveries
from yuqing_core.timeutil import SHANGHAI, utcnow

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def units_file(tmp_path: Path, smtp: SmtpReceiver, hook: WebhookReceiver) -> Path:
    path = tmp_path / "units.yaml"
    path.write_text(
        f"""units:
  - name: 县网络舆情应急监控中心
    kind: office
    targets: ["{smtp.url(to="office@qinghe.example")}"]
  - name: 县委宣传部
    kind: leadership
    roles: [county_leadership]
    targets: ["{hook.url("/propaganda")}"]
  - name: 县应急管理局
    kind: department
    leader: 县委宣传部
    targets: ["{hook.url("/emergency")}"]
routing:
  IV: [县网络舆情应急监控中心]
  III: [县网络舆情应急监控中心, risk_point_units]
  II: [县网络舆情应急监控中心, risk_point_units, role:county_leadership]
  I: [县网络舆情应急监控中心, risk_point_units, role:county_leadership]
  daily_report: [县网络舆情应急监控中心, role:county_leadership]
  special_report: [县网络舆情应急监控中心, risk_point_units]
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def county(env_settings, db, tmp_path, monkeypatch):
    """Yesterday's posts about a leak at the chemical park, analysed, with units wired to local receivers."""
    from yuqing_core.config import get_settings

    smtp, hook = SmtpReceiver(), WebhookReceiver()
    with smtp, hook:
        monkeypatch.setenv("YUQING_UNITS_FILE", str(units_file(tmp_path, smtp, hook)))
        monkeypatch.setenv("YUQING_COUNTY_NAME", "青禾县")
        monkeypatch.setenv("YUQING_OFFICE_SHORT_NAME", "青舆")
        get_settings.cache_clear()
        settings = get_settings()
        now = utcnow()
        day = (now.astimezone(SHANGHAI) - timedelta(days=1)).date()
        noon = now.astimezone(SHANGHAI).replace(year=day.year, month=day.month, day=day.day, hour=12, minute=0)
        add_sources(db, settings, noon - timedelta(days=10), 青禾论坛="http://example.org/bbs.xml")
        library(db, tmp_path)
        load(
            db,
            settings,
            tmp_path,
            "青禾论坛",
            [post(f"p{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), noon + timedelta(hours=i)) for i in range(6)],
            now=now,  # the posts are yesterday's by the wall clock, not by test_analysis's fixed NOW
        )
        yield settings, day, smtp, hook


def test_daily_report_written_and_delivered_once_even_when_retried(county, db) -> None:
    settings, day, smtp, hook = county
    assert analyze(return_state=True).is_completed()
    warnings_mail = len(smtp.wait_for(1))  # the analyze flow told the office about its warnings

    flow_run = asyncio.run(deployment_flow_run_of(daily_report, "test-daily", {"day": day.isoformat()}))
    first = run_flow(daily_report, flow_run=flow_run, return_type="state")  # a sync flow: a state, not a coroutine
    assert first.is_completed(), first.message
    written = first.result()["report"]
    files = [Path(p) for p in written.files]
    assert [p.suffix for p in files] == [".html", ".md", ".docx", ".txt"] and all(p.exists() for p in files)
    assert str(settings.effective_reports_dir) in written.files[0] and day.isoformat() in written.files[0]
    document = docx.Document(str(files[2]))
    assert any("舆情日报" in p.text for p in document.paragraphs)

    mails = smtp.wait_for(warnings_mail + 1)
    report_mail = mails[-1]
    assert "舆情日报" in report_mail.subject and set(report_mail.attachments) >= {files[2].name, files[0].name}
    hook.wait_for(1)
    assert any(p.path == "/propaganda" and "舆情日报" in str(p.json) for p in hook.posts)

    # The operator retries the run: nothing is sent twice.
    second = run_flow(daily_report, flow_run=asyncio.run(press_retry(flow_run.id)), return_type="state")
    assert second.is_completed()
    third = daily_report(day=day, return_state=True)  # and a fresh run of the same day neither
    assert third.is_completed()
    assert len(smtp.messages) == warnings_mail + 1
    assert sum(1 for p in hook.posts if p.path == "/propaganda" and "舆情日报" in str(p.json)) == 1
    daily_rows = list_deliveries(db, message_key=f"daily-report:{day.isoformat()}")
    assert {row.status for row in daily_rows} == {"sent"} and len(daily_rows) == 2


def test_special_report_for_an_event_goes_to_the_risk_point_units(county, db) -> None:
    _settings, _day, _smtp, hook = county
    analyze(return_state=True)
    from yuqing_core.analysis.queries import list_events

    (event,) = list_events(db, since=utcnow() - timedelta(days=5), with_risk=True)
    state = special_report(event_id=event.id, deliver=True, return_state=True)
    assert state.is_completed(), state.message
    written = state.result()["report"]
    assert written.number.startswith("青舆专〔") and all(Path(p).exists() for p in written.files)
    assert written.title == event.title  # a special report on an event is titled by the event
    deadline = time.monotonic() + 10
    while not any(p.path == "/emergency" and "专报" in str(p.json) for p in hook.posts) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(p.path == "/emergency" and "专报" in str(p.json) for p in hook.posts), [p.json for p in hook.posts]


def test_cli_report_commands_print_paths(county, db, tmp_path) -> None:
    _settings, day, _smtp, _hook = county
    analyze(return_state=True)
    runner = CliRunner()
    out = tmp_path / "out"
    daily = runner.invoke(main, ["report", "daily", "--day", day.isoformat(), "--out", str(out)])
    assert daily.exit_code == 0, daily.output
    paths = [line for line in daily.output.splitlines() if line.startswith(str(out))]
    assert len(paths) == 4 and all(Path(p).exists() for p in paths)
    special = runner.invoke(main, ["report", "special", "--expr", "化工园区 & 泄漏", "--since", day.isoformat(),
                                   "--until", (day + timedelta(days=1)).isoformat(), "--out", str(out / "s")])  # fmt: skip
    assert special.exit_code == 0, special.output
    assert sum(1 for line in special.output.splitlines() if Path(line).exists()) == 4
    bad = runner.invoke(main, ["report", "special", "--expr", "(化工园区", "--since", "2026-11-01", "--until", "2026-11-02"])
    assert bad.exit_code == 1 and "缺少右括号" in bad.output
    assert runner.invoke(main, ["report", "special"]).exit_code == 2
    notice = runner.invoke(main, ["report", "supervision", "--unit", "县应急管理局", "--item", "1", "--requirements", "请核实并反馈",
                                  "--deadline", (date.today() + timedelta(days=3)).isoformat(), "--out", str(out / "d")])  # fmt: skip
    assert notice.exit_code == 0, notice.output and len(notice.output.splitlines()) == 4


def test_weekly_report_written_and_delivered_where_the_daily_goes(county, db, tmp_path) -> None:
    from sqlalchemy import func, select

    from flows.periodic_report import periodic_report
    from yuqing_core.db import Item

    _settings, _day, _smtp, _hook = county
    analyze(return_state=True)
    with db.reader() as session:  # the archive import dates posts it finds in the future at its own clock
        day = session.scalar(select(func.min(Item.published_at))).astimezone(SHANGHAI).date()
    state = periodic_report(kind="weekly", period=day.isoformat(), out_dir=str(tmp_path / "w"), return_state=True)
    assert state.is_completed(), state.message
    data = state.result()
    written = data["report"]
    assert written.title.startswith("青禾县舆情周报") and written.number.startswith("青舆周〔")
    assert sorted(Path(p).suffix for p in written.files) == [".docx", ".html", ".md", ".txt"]
    assert "东坪村化工园区泄漏" in Path(written.files[1]).read_text(encoding="utf-8")  # the incident, in the Markdown
    # No periodic_report route in the units file: it goes where the daily report goes.
    rows = list_deliveries(db, message_key=f"weekly-report:{written.number}")
    assert {row.recipient for row in rows} == {"县网络舆情应急监控中心", "县委宣传部"} and {row.status for row in rows} == {
        "sent"
    }

    bad = CliRunner().invoke(main, ["report", "quarterly", "--period", "2026-Q5"])  # said before any flow run
    assert bad.exit_code == 1 and "2026-Q4" in bad.output


def test_a_failed_send_fails_the_task_the_flow_and_the_command_after_trying_everyone(county, db, tmp_path, monkeypatch) -> None:
    from tasks.report import deliver_report

    _settings, day, smtp, hook = county
    analyze(return_state=True)
    before = len(smtp.messages)
    monkeypatch.setattr("flows.daily_report.deliver_report", deliver_report.with_options(retries=0))
    hook.status = 500  # the leadership's webhook refuses; the office's mail gets through

    result = CliRunner().invoke(main, ["report", "daily", "--day", day.isoformat(), "--out", str(tmp_path / "out"), "--deliver"])

    assert result.exit_code == 1, result.output
    assert "送达失败 1 条（共 2 条）：县委宣传部" in result.output
    assert sum(1 for line in result.output.splitlines() if line.startswith(str(tmp_path / "out"))) == 4  # files still listed
    assert any("舆情日报" in mail.subject for mail in smtp.wait_for(before + 1)[before:])  # the others were delivered
    rows = list_deliveries(db, message_key=f"daily-report:{day.isoformat()}")
    assert sorted(row.status for row in rows) == ["failed", "sent"]

    hook.status = 200  # the run again: only the failed send goes out, and it all ends well
    state = daily_report(day=day, out_dir=str(tmp_path / "again"), return_state=True)
    assert state.is_completed(), state.message
    assert {row.status for row in list_deliveries(db, message_key=f"daily-report:{day.isoformat()}")} == {"sent"}
    assert sum(1 for mail in smtp.messages if "舆情日报" in mail.subject) == 1


def test_the_flow_ends_failed_with_the_files_when_a_send_fails(county, monkeypatch) -> None:
    from tasks.report import deliver_report

    _settings, day, _smtp, hook = county
    monkeypatch.setattr("flows.daily_report.deliver_report", deliver_report.with_options(retries=0))
    hook.status = 500
    state = daily_report(day=day, return_state=True)
    assert state.is_failed() and state.message.startswith("送达失败 1 条（共 2 条）")
    data = state.result(raise_on_failure=False)
    assert data["failed"] == state.message and all(Path(p).exists() for p in data["report"].files)


def test_failed_sends_are_retried_but_unreachable_units_are_not() -> None:
    from types import SimpleNamespace

    from tasks.policies import database_error_or_failed_sends
    from tasks.report import deliver_report, escalate_open_warnings, notify_warnings
    from yuqing_core.notify import DeliveryFailed

    def retried(error: BaseException) -> bool:
        return database_error_or_failed_sends(None, None, SimpleNamespace(data=error))  # type: ignore[arg-type]

    assert retried(DeliveryFailed("送达失败 1 条（共 2 条）", [], retryable=True))
    assert not retried(DeliveryFailed("送达失败 1 条（共 1 条）", [], retryable=False))
    assert not retried(ValueError("a bug"))
    for task in (deliver_report, notify_warnings, escalate_open_warnings):
        assert task.retries == 2 and task.retry_condition_fn is database_error_or_failed_sends


def test_periodic_reports_are_scheduled_in_shanghai_time() -> None:
    import yaml

    from flows.deployments import build_deployments

    served = {d.name: d for d in build_deployments() if d.flow_name == "periodic-report"}
    crons = {name: (d.schedules[0].schedule.cron, d.schedules[0].schedule.timezone, d.parameters) for name, d in served.items()}
    assert crons == {
        "weekly": ("0 8 * * 1", "Asia/Shanghai", {"kind": "weekly"}),  # Monday 08:00
        "monthly": ("0 8 1 * *", "Asia/Shanghai", {"kind": "monthly"}),  # the 1st, 08:00
        "quarterly": ("0 8 1 1,4,7,10 *", "Asia/Shanghai", {"kind": "quarterly"}),  # the first day of a quarter
    }
    declared = yaml.safe_load((Path(__file__).parents[1] / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))
    in_yaml = {d["name"]: (d["schedules"][0]["cron"], d["schedules"][0]["timezone"], d["parameters"])
               for d in declared["deployments"] if d["entrypoint"].endswith(":periodic_report")}  # fmt: skip
    assert in_yaml == crons
