"""An event's judgement in words: its risk score with the named parts, and its 快速回应 timing.

The CLI (``yuqing events show``), the reports and the web read events through these, so every
view shows the same score, the same parts and the same timing, stored by the warn stage
(``risk.scoring.score_event``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from yuqing_core.levels import Level
from yuqing_core.risk.response import ResponseTiming
from yuqing_core.risk.scoring import ScorePart
from yuqing_core.timeutil import SHANGHAI, format_local


@dataclass(frozen=True)
class Judgement:
    """What the office is told about an event: score, level, parts, response timing."""

    score: float
    level: int | None
    parts: tuple[ScorePart, ...]
    response: ResponseTiming

    @property
    def level_label(self) -> str:
        return Level.label_of(self.level, "未达预警")

    def part_lines(self) -> list[str]:
        """``立场构成 -8：官方回应 1 条…`` for each part, the sign always shown."""
        return [f"{part.label} {part.points:+g}：{part.detail}" for part in self.parts]

    def response_lines(self, tz: tzinfo = SHANGHAI) -> list[str]:
        """首发时间, 首次官方回应, 回应用时 and 状态, one line each."""
        timing = self.response
        if timing.first_signal_at is None:
            return ["快速回应：无群众诉求或风险信号，不计回应时效"]
        lines = [f"首发时间：{format_local(timing.first_signal_at, tz)}"]
        if timing.first_response_at is not None:
            lines.append(f"首次官方回应：{format_local(timing.first_response_at, tz)}")
            lines.append(f"回应用时：{_hours(timing.delay_work_h)} 个工作小时（自然时长 {_hours(timing.delay_clock_h)} 小时）")
        else:
            lines.append("首次官方回应：尚无")
            if timing.delay_work_h is not None:
                lines.append(f"已等待：{_hours(timing.delay_work_h)} 个工作小时（自然时长 {_hours(timing.delay_clock_h)} 小时）")
            else:
                lines.append(f"已等待：自然时长 {_hours(timing.delay_clock_h)} 小时（未达预警，不计工作时长）")
        target = f"（时限 {timing.target_work_h:g} 个工作小时）" if timing.target_work_h is not None else ""
        lines.append(f"状态：{timing.status_label}{target}")
        return lines


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def judgement_of(event: Any) -> Judgement:
    """The stored judgement of an ``Event`` row (parts empty for events not refreshed since migration 0008)."""
    parts = tuple(
        ScorePart(p.get("name", ""), p.get("label", ""), float(p.get("points", 0.0)), p.get("detail", ""))
        for p in (event.score_parts or [])
    )
    signal, answer = event.first_signal_at, event.first_response_at
    proactive = signal is not None and answer is not None and answer < signal  # 主动发布 (risk.response)
    until = answer or event.updated_at
    clock = round((until - signal).total_seconds() / 3600, 2) if signal is not None and until is not None else None
    timing = ResponseTiming(
        signal, answer, event.response_delay_work_h, 0.0 if proactive else clock, event.response_target_work_h,
        event.response_due_at, event.response_status, proactive=proactive,
    )  # fmt: skip
    return Judgement(event.score, event.level, parts, timing)
