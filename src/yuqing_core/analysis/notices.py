"""Sending the notices a refresh owes: new warnings, level rises and material changes.

One place for every caller that refreshes events — the analyze flow's
``notify-warnings`` task and the analyst's ``yuqing events merge/split`` — so
a warning raised by an analyst's correction reaches the same people, once,
as one raised by the pipeline::

    summary = refresh_events(db, library, [survivor])
    outcome = send_warning_notices(db, summary.warnings, config=units_file, spec=library.spec)
    for line in outcome.report.lines():
        print(line)

Each notice goes out once: its ledger key names the warning and the level or
change (``warning:17:level:2``, ``warning:17:change:overdue``), so a notice
already sent by another run is not sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from yuqing_core.analysis.warn import RaisedWarning
from yuqing_core.db.database import Database
from yuqing_core.levels import Level
from yuqing_core.notify.channels import Sender
from yuqing_core.notify.deliver import DeliveryReport, Message, deliver, sweep
from yuqing_core.notify.units import UnitsFile, resolve_recipients
from yuqing_core.office import Office
from yuqing_core.risk.library import LibrarySpec, unknown_units
from yuqing_core.timeutil import utcnow


@dataclass
class NoticeOutcome:
    """What sending the notices did, and the library's units the units file does not know (they receive nothing)."""

    report: DeliveryReport = field(default_factory=DeliveryReport)
    unknown_units: dict[str, list[str]] = field(default_factory=dict)

    def unknown_units_line(self) -> str | None:
        if not self.unknown_units:
            return None
        return "风险库中的责任单位不在单位文件中，这些单位收不到预警（修正单位文件或风险库前每次运行都会提示）：" + "；".join(
            f"{unit}（风险点 {'、'.join(points)}）" for unit, points in self.unknown_units.items()
        )


def warning_body(warning: RaisedWarning) -> str:
    """The text of a warning notice: what happened to the warning, why, and its numbers."""
    if warning.kind == "level" and warning.previous_level is not None:
        head = f"预警由{Level(warning.previous_level).label}上调为{warning.label}：{warning.title}"
    elif warning.kind == "change":
        head = f"{warning.label}预警有新情况：{warning.title}"
    else:
        head = f"{warning.label}预警：{warning.title}"
    lines = [head, f"风险点：{'、'.join(warning.risk_points)}；风险分 {warning.score}。"]
    if warning.changes:
        lines.append("变化：" + "；".join(warning.changes) + "。")
    if warning.reasons:
        lines.append("依据：" + "；".join(warning.reasons) + "。")
    lines.append(f"事件编号 {warning.event_id}，预警编号 {warning.id}。")
    return "\n".join(lines)


WARNING_SMS_LIMIT = 70


def warning_sms(warning: RaisedWarning, office: Office | None = None) -> str:
    """The warning for a phone, at most ``WARNING_SMS_LIMIT`` characters: level, event, and where to read more."""
    numeral = Level(warning.level).name
    if warning.kind == "level" and warning.previous_level is not None:
        head = f"【预警升为{numeral}级】"
    elif warning.kind == "change":
        head = f"【{numeral}级预警·新情况】"
    else:
        head = f"【{numeral}级预警】"
    link = office.link(f"/events/{warning.event_id}") if office else ""
    where = f"详见{link}" if link else f"详见工作台预警{warning.id}（事件{warning.event_id}）"
    room = WARNING_SMS_LIMIT - len(head) - len(where) - 1
    title = " ".join(warning.title.split())
    if len(title) > room:
        title = title[: max(0, room - 1)] + "…"
    return f"{head}{title}。{where}"[:WARNING_SMS_LIMIT]


def send_warning_notices(
    db: Database,
    warnings: Sequence[RaisedWarning],
    *,
    config: UnitsFile,
    spec: LibrarySpec | None,
    now: datetime | None = None,
    sender: Sender | None = None,
    office: Office | None = None,
) -> NoticeOutcome:
    """Tell each notice to whoever is on duty, then to the units its level and risk points route to; then sweep.

    Nobody reachable: the fallback unit gets it and the ledger says why.
    ``spec`` (the active risk library) names each risk point's units; without
    it, notices go by level only. SMS channels get ``warning_sms`` (with a link
    when ``office`` names its workbench) instead of the full text.
    """
    outcome = NoticeOutcome()
    if spec is not None:
        outcome.unknown_units = unknown_units(spec, {unit.name for unit in config.units})
    for warning in warnings:
        points = [spec.risk_point(name) for name in warning.risk_points] if spec else []
        units = [unit for point in points if point for unit in point.units]
        message = Message(
            kind="warning",
            key=warning.key or f"warning:{warning.id}:level:{warning.level}",
            subject=warning.subject,
            body=warning_body(warning),
            level=warning.level,
            reference=f"warning:{warning.id}",
            short=warning_sms(warning, office),
        )
        recipients = resolve_recipients(db, warning.level, units, config=config)
        at = now or utcnow()
        outcome.report.extend(
            deliver(db, message, recipients, config=config, now=at, on_duty=config.on_duty(at), fallback=True, sender=sender)
        )
    outcome.report.extend(sweep(db, now, config=config, sender=sender))
    return outcome


__all__ = ["WARNING_SMS_LIMIT", "NoticeOutcome", "send_warning_notices", "warning_body", "warning_sms"]
