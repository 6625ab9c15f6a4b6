"""Every Prefect task has a timeout, taken from the settings of its kind (no test waits for one)."""

from __future__ import annotations

import importlib

from prefect import Task

from yuqing_core.config import Settings

MODULES = {"tasks.analyze": "analyze", "tasks.cases": "cases", "tasks.collect": "collect", "tasks.risk": "risk"}
REPORT_BUILDERS = {"build-daily-report", "build-special-report"}


def _tasks(module_name: str) -> list[Task]:
    module = importlib.import_module(module_name)
    return [value for value in vars(module).values() if isinstance(value, Task) and value.__module__ == module_name]


def test_every_task_has_the_timeout_of_its_kind() -> None:
    settings = Settings()
    seen = 0
    for module_name, kind in {**MODULES, "tasks.report": "report"}.items():
        tasks = _tasks(module_name)
        assert tasks, module_name
        for task in tasks:
            of = kind if module_name != "tasks.report" else "report" if task.name in REPORT_BUILDERS else "notify"
            expected = getattr(settings, f"task_timeout_{of}_s")
            assert task.timeout_seconds == expected, (module_name, task.name, task.timeout_seconds)
            seen += 1
    assert seen >= 20


def test_the_timeout_comes_from_the_setting(monkeypatch) -> None:
    from tasks.policies import task_timeout

    monkeypatch.setenv("YUQING_TASK_TIMEOUT_ANALYZE_S", "42")
    assert task_timeout("analyze") == 42.0
    assert task_timeout("notify") == Settings().task_timeout_notify_s
