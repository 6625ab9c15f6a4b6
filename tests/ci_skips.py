"""Under ``CI=true`` a skipped test fails the run.

A skip in CI means something the suite needs is missing there (a service,
an extra, a data folder), and a green run that silently tested less is a
run that lies. Locally a skip stays a skip, with its reason under ``-ra``.

Every skip -- from a test, a fixture or a whole module at collection -- is
turned into a failure that keeps the skip's reason, and the end of the run
lists them under one heading. ``conftest.py`` loads this module as a plugin
(``pytest_plugins``), so it also covers the doctests collected from
``src/yuqing_core``, which no conftest in ``tests/`` reaches.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

SKIPPED_IN_CI = pytest.StashKey[list[str]]()


def in_ci() -> bool:
    """Whether this run is CI's (read at report time, so a test can set ``CI`` for an inner run)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: reason")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail_if_skipped_in_ci(config: pytest.Config, report: pytest.TestReport | pytest.CollectReport) -> None:
    if not report.skipped or hasattr(report, "wasxfail") or not in_ci():
        return
    reason = _reason(report)
    config.stash.setdefault(SKIPPED_IN_CI, []).append(f"{report.nodeid}: {reason}")
    report.outcome = "failed"
    report.longrepr = f"CI=true 时不允许跳过测试（skipped under CI=true, which fails the run）：{reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _fail_if_skipped_in_ci(item.config, report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _fail_if_skipped_in_ci(collector.config, report)
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    skipped = config.stash.get(SKIPPED_IN_CI, [])
    if skipped:
        terminalreporter.section(f"CI=true: {len(skipped)} skipped test(s) failed the run", sep="=", red=True, bold=True)
        for line in skipped:
            terminalreporter.line(line)
