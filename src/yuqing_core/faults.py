"""Injected faults, for rehearsing a failure and the operator's retry (and for testing it).

Set ``YUQING_FAULT_INJECTION_FILE`` to a path; while that file exists, every
stage named in it (one per line: ``collect``, ``analyze``, ``report``) fails
at its first step with a clear message. Delete the file, press Retry in the
Prefect UI, and only the failed stage runs again.
"""

from __future__ import annotations

from yuqing_core.config import Settings


class InjectedFault(RuntimeError):
    """A failure asked for by the fault-injection file, not a real one."""


def check_fault(settings: Settings, stage: str) -> None:
    path = settings.fault_injection_file
    if path is None or not path.exists():
        return
    stages = {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    if stage in stages:
        raise InjectedFault(f"故障演练：{stage} 阶段按 {path} 的要求失败（删除该文件后重试即可恢复）")
