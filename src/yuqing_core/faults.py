"""Injected faults, for rehearsing a failure and the operator's retry (and for testing it).

Set ``YUQING_FAULT_INJECTION_FILE`` to a path; while that file exists, every
stage named in it fails with a clear message, one line per fault:

- ``collect`` — every source's collect task fails before polling;
  ``collect:青禾论坛`` — only that source's (a red task named after it);
- ``analyze`` — every ``match-N`` task fails;
- ``report`` — every report delivery (``deliver-…``) fails before anything is
  sent; ``report:daily_report`` — only that kind's.

Delete the file (or the line), press Retry in the Prefect UI, and only what
failed runs again.
"""

from __future__ import annotations

from yuqing_core.config import Settings

STAGES = ("collect", "analyze", "report")


class InjectedFault(RuntimeError):
    """A failure asked for by the fault-injection file, not a real one."""


def check_fault(settings: Settings, stage: str, subject: str | None = None) -> None:
    """Raise ``InjectedFault`` if the fault file names ``stage`` (or ``stage:subject``).

    >>> check_fault(Settings(fault_injection_file=None), "collect", "县政府网")  # no file: nothing happens
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; faults exist for {', '.join(STAGES)}")
    path = settings.fault_injection_file
    if path is None or not path.exists():
        return
    wanted = {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    named = f"{stage}:{subject}" if subject is not None else None
    if stage in wanted or (named is not None and named in wanted):
        where = f"{stage}（{subject}）" if subject is not None else stage
        raise InjectedFault(f"故障演练：{where} 阶段按 {path} 的要求失败（删除该文件后重试即可恢复）")
