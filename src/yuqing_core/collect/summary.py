"""What a collect run did, for the people who read it (CLI table, Prefect artifact)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yuqing_core.collect.service import SourceResult
from yuqing_core.db.models import Source
from yuqing_core.timeutil import format_local

STATUS_LABELS = {
    "ok": "正常",
    "not_modified": "未更新",
    "error": "失败",
    "gone": "已删除(410)",
    "rate_limited": "限流",
}


def source_state(source: Source) -> str:
    """A source's health in a word or two: 停用, 尚未采集, or how its last poll went (正常, 失败 …)."""
    if not source.enabled:
        return "停用"
    if source.last_status is None:
        return "尚未采集"
    return STATUS_LABELS.get(source.last_status, source.last_status)


def needs_attention(source: Source) -> bool:
    """Disabled, or its last polls failed: the office looks at these first."""
    return not source.enabled or source.consecutive_errors > 0


@dataclass
class CollectSummary:
    results: list[SourceResult] = field(default_factory=list)
    # Sources whose task ended without a result (crashed, cancelled): named, never silently dropped.
    not_run: list[str] = field(default_factory=list)

    @property
    def items_new(self) -> int:
        return sum(r.items_new for r in self.results)

    @property
    def failed(self) -> list[SourceResult]:
        return [r for r in self.results if r.failed]

    @property
    def trouble(self) -> list[str]:
        """Names of the sources that failed or did not finish."""
        return [r.name for r in self.failed] + self.not_run

    def description(self) -> str:
        text = f"采集 {len(self.results)} 个信息源，新增 {self.items_new} 条。"
        failed = [r.name for r in self.failed]
        if failed:
            text += " 有问题的信息源：" + "、".join(failed) + "。"
        if self.not_run:
            text += " 未完成：" + "、".join(self.not_run) + "。"
        return text


def summary_rows(results: list[SourceResult]) -> list[dict[str, Any]]:
    """One row per source: sources in trouble first, then by name."""
    ordered = sorted(results, key=lambda r: (not r.failed, r.name))
    return [
        {
            "信息源": r.name,
            "状态": STATUS_LABELS.get(r.status, r.status),
            "条目": r.entries_seen,
            "新增": r.items_new,
            "HTTP": r.http_status or "",
            "连续错误": r.consecutive_errors,
            "下次采集": format_local(r.next_poll_at) if r.enabled else "已停用",
            "说明": r.error or r.disabled_reason or r.note or "",
        }
        for r in ordered
    ]
