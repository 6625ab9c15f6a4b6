"""Chasing cases: reminders before the deadline (催办), overdue notices (超期) escalated to the
unit's leadership, listing for public reprimand (通报), and recomputing provisional deadlines.

``track_cases`` is what the hourly ``track-cases`` flow runs. It decides,
from the clock and each case's deadline, which notices are due, and sends
them through the send-once delivery of ``notify``: each notice has an
idempotency key naming the case, the kind of notice and the deadline it is
about, so running it again (or retrying it) never repeats a notice, while an
extended deadline arms new reminders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from yuqing_core.cases.config import CasePolicy
from yuqing_core.cases.service import _audit, deadline_for
from yuqing_core.cases.states import OPEN_STATES, STATE_LABELS
from yuqing_core.db.database import Database
from yuqing_core.db.models import Case
from yuqing_core.notify import DeliveryReport, Message, NotifyConfig, deliver, resolve_recipients
from yuqing_core.timeutil import SHANGHAI, utcnow

# Where case notices go when the units file does not say: the lead and co-units, and for
# overdue and reprimand notices their leadership too.
DEFAULT_CASE_ROUTES = {
    "case_reminder": ["risk_point_units"],
    "case_overdue": ["risk_point_units", "leaders"],
    "case_reprimand": ["risk_point_units", "leaders"],
}


@dataclass
class TrackingSummary:
    reminders: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    reprimanded: list[str] = field(default_factory=list)
    recomputed: list[str] = field(default_factory=list)
    overdue_notified: list[str] = field(default_factory=list)  # cases whose overdue notice went out in this run
    delivery: list[str] = field(default_factory=list)
    sends: DeliveryReport = field(default_factory=DeliveryReport)  # every send this run tried, for its failures

    def lines(self) -> list[str]:
        out = [f"到期应催办 {len(self.reminders)} 件，超期 {len(self.overdue)} 件，新列入通报 {len(self.reprimanded)} 件，"
               f"重算期限 {len(self.recomputed)} 件（每条通知只发一次，见下）。"]  # fmt: skip
        return out + self.delivery


def _local(value: datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _offset_label(offset: timedelta) -> str:
    hours = int(offset.total_seconds() // 3600)
    return f"{hours // 24}天" if hours % 24 == 0 and hours >= 24 else f"{hours}小时"


def overdue_day(policy: CasePolicy, deadline: datetime) -> datetime:
    """When an overdue notice is due: the start of the first working day after the deadline's day."""
    calendar = policy.calendar()
    day = calendar.next_workday(deadline.astimezone(SHANGHAI).date(), include_today=False).date
    return datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI)


def track_cases(db: Database, policy: CasePolicy, config: NotifyConfig | None, *, now: datetime | None = None) -> TrackingSummary:
    """Recompute provisional deadlines, then send every reminder, overdue notice and reprimand listing now due.

    ``config`` is the units file's routing (``None``: nothing is sent, and the summary says so).
    """
    now = now or utcnow()
    summary = TrackingSummary()
    routes = config.model_copy(update={"routing": {**DEFAULT_CASE_ROUTES, **config.routing}}) if config else None

    def send(message: Message, concerned: list[str], kind: str) -> bool:
        if routes is None:
            summary.delivery.append(f"未配置单位与通知渠道，未发送：{message.subject}")
            return False
        report = deliver(db, message, resolve_recipients(db, kind, concerned, config=routes), config=routes, now=now)
        summary.delivery += report.lines()
        summary.sends.extend(report)
        return bool(report.sent)

    calendar = policy.calendar()
    with db.writer() as session:
        cases = session.scalars(select(Case).where(Case.state.in_(OPEN_STATES), Case.deadline_at.is_not(None))).all()
        for case in cases:
            before = case.deadline_at
            if before is not None and case.deadline_provisional and case.dispatched_at is not None:
                fresh = deadline_for(policy, case, case.dispatched_at)
                if not fresh.provisional:
                    case.deadline_at, case.deadline_provisional = fresh.at, False
                    case.updated_at = now
                    _audit(session, case, "系统", "recompute", case.state, case.state,
                           f"节假日安排已公布，期限由 {_local(before)} 重算为 {_local(fresh.at)}", now,
                           {"from": before.isoformat(), "to": fresh.at.isoformat()})  # fmt: skip
                    summary.recomputed.append(case.number)
        due_reprimand = []
        for case in cases:
            deadline = case.deadline_at
            if deadline is None:  # never: the query selects cases with a deadline
                continue
            overdue_days = calendar.workdays_between(deadline.astimezone(SHANGHAI).date(), now.astimezone(SHANGHAI).date())
            if now > deadline and overdue_days >= policy.reprimand_after and case.reprimand_listed_at is None:
                case.reprimand_listed_at = now
                case.updated_at = now
                _audit(session, case, "系统", "reprimand", case.state, case.state, f"超期 {overdue_days} 个工作日，列入通报", now)
                due_reprimand.append(case.number)
        snapshot = [
            (c.number, c.title, c.lead_unit, list(c.co_units), deadline, c.state, c.reprimand_listed_at)
            for c in cases
            if (deadline := c.deadline_at) is not None
        ]
    summary.reprimanded = due_reprimand

    for number, title, lead, co_units, deadline, state, _listed in snapshot:
        concerned = [lead, *co_units]
        stamp = deadline.isoformat()
        if now < deadline:
            # Only the latest reminder now due: after a gap (nothing ran for a day) one notice, not a burst.
            passed = [offset for offset in policy.reminders if now >= deadline - offset]
            if passed:
                offset = min(passed)
                message = Message(
                    kind="case_reminder", key=f"case-reminder:{number}:{stamp}:{int(offset.total_seconds())}",
                    subject=f"【催办】{number} {title}",
                    body=f"{number}「{title}」将于 {_local(deadline)} 到期（还剩不到{_offset_label(offset)}），"
                         f"当前状态：{STATE_LABELS[state]}。请{lead}抓紧办理并按时反馈。",
                    reference=number,
                )  # fmt: skip
                send(message, concerned, "case_reminder")
                summary.reminders.append(number)
            continue
        if now >= overdue_day(policy, deadline):
            message = Message(
                kind="case_overdue", key=f"case-overdue:{number}:{stamp}", subject=f"【超期】{number} {title}",
                body=f"{number}「{title}」已于 {_local(deadline)} 到期，{lead}尚未交单（当前状态：{STATE_LABELS[state]}）。"
                     f"请{lead}及其分管领导督促办理，立即反馈。",
                reference=number,
            )  # fmt: skip
            if send(message, concerned, "case_overdue"):
                summary.overdue_notified.append(number)
            summary.overdue.append(number)
        if number in due_reprimand:
            message = Message(
                kind="case_reprimand", key=f"case-reprimand:{number}:{stamp}", subject=f"【通报】{number} 超期未办结",
                body=f"{number}「{title}」超期 {policy.reprimand_after} 个工作日以上仍未交单，已列入舆情日报通报。牵头单位：{lead}。",
                reference=number,
            )  # fmt: skip
            send(message, concerned, "case_reprimand")
    return summary
