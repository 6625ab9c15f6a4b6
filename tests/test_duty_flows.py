"""Duty and escalation in Prefect: the risk-library flow refuses unknown units, every analyze run
warns loudly about them, and the escalation task announces ``yuqing.warning.escalated``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

from flows.analyze import analyze
from flows.risk_library import risk_library
from helpers import add_sources, prefect_events
from receivers import WebhookReceiver
from tasks.report import escalate_open_warnings
from test_analysis import LEAK, load, post
from test_notify_duty import HEAD, LIBRARY, units_text
from yuqing_core.analysis import analyze as analyze_core
from yuqing_core.risk.library import load_library_file
from yuqing_core.risk.versions import import_library, list_versions
from yuqing_core.timeutil import utcnow

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


@pytest.fixture
def units_env(env_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from yuqing_core.config import get_settings

    with WebhookReceiver() as hook:
        path = tmp_path / "units.yaml"
        path.write_text(units_text(hook), encoding="utf-8")
        monkeypatch.setenv("YUQING_UNITS_FILE", str(path))
        get_settings.cache_clear()
        yield hook
        get_settings.cache_clear()


async def run_logs(flow_run_id, until: Callable[[list[str]], bool]) -> list[str]:
    """The flow run's log lines ("<level> <message>"), read until ``until`` holds (logs arrive in batches)."""
    lines: list[str] = []
    async with get_client() as client:
        for _ in range(120):
            logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
            lines = [f"{log.level} {log.message}" for log in logs]
            if until(lines):
                break
            await asyncio.sleep(0.25)
    return lines


def test_the_daily_risk_library_flow_refuses_a_unit_the_units_file_lacks(units_env, db, tmp_path: Path) -> None:
    path = tmp_path / "risk.yaml"
    path.write_text(LIBRARY, encoding="utf-8")
    failed = risk_library(str(path), return_state=True)
    message = str(failed.result(raise_on_failure=False))
    assert failed.is_failed() and f"{path} 第 9 行" in message and "县不存在局" in message
    assert list_versions(db) == []


def test_every_analyze_run_warns_about_unknown_units_until_fixed(units_env, db, tmp_path: Path) -> None:
    path = tmp_path / "risk.yaml"
    path.write_text(LIBRARY, encoding="utf-8")
    import_library(db, load_library_file(path), author="测试")  # imported before the units file lost the unit
    for _ in range(2):
        state = analyze(return_state=True)
        assert state.is_completed(), state.message

        def warned(lines: list[str]) -> bool:
            return any(line.startswith("30 ") and "县不存在局（风险点 化工异味）" in line for line in lines)

        logs = asyncio.run(run_logs(state.state_details.flow_run_id, until=warned))
        assert warned(logs), logs


def test_the_escalation_task_sends_a_due_step_once_and_announces_it(units_env, db, env_settings, tmp_path: Path) -> None:
    started = utcnow() - timedelta(seconds=5)
    path = tmp_path / "risk.yaml"
    path.write_text(LIBRARY.replace("      - 县不存在局\n", "").replace("severity: 1", "severity: 2"), encoding="utf-8")
    # Eight posts within the hour on one forum about a severity-2 point: II under the risk score (risk.scoring);
    # 45 minutes later step 1 (30 min) of a II warning is due and step 2 (60 min) is not.
    raised = utcnow() - timedelta(minutes=45)
    add_sources(db, env_settings, raised - timedelta(days=3), 青禾论坛="http://example.org/bbs.xml")
    import_library(db, load_library_file(path), author="测试", now=raised)
    load(db, env_settings, tmp_path, "青禾论坛",
         [post(f"p{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), raised - timedelta(minutes=10 * i + 5)) for i in range(8)])  # fmt: skip
    warnings = analyze_core(db, now=raised).warnings
    assert warnings and min(w.level for w in warnings) == 2, [(w.level, w.score) for w in warnings]

    @flow(name="escalation-check")
    def check() -> list[str]:
        return escalate_open_warnings()

    first_run = check(return_state=True)
    first, second = first_run.result(), check()
    assert first and "第 1 级升级至：" + HEAD in first[0] and second == []
    units_env.wait_for(1)
    assert units_env.posts[0].path == "/head"
    events = asyncio.run(
        prefect_events(
            "yuqing.warning.escalated", since=started, expected=len(first), flow_run_id=first_run.state_details.flow_run_id
        )
    )
    assert len(events) == len(first) and events[0]["payload"]["step"] == 1 and events[0]["payload"]["level"] == "II"
