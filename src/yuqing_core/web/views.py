"""What the case pages show beyond the case's fields: deadlines in working days, the order of the desk list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from yuqing_core.cases import ACTIONS, STATE_LABELS, CasePolicy
from yuqing_core.cases.states import OPEN_STATES
from yuqing_core.db.database import Database
from yuqing_core.db.models import Case, CaseEvent
from yuqing_core.notify import list_units

WEEKDAYS = "一二三四五六日"
FAR_FUTURE = datetime.max.replace(tzinfo=None)


@dataclass(frozen=True)
class DeadlineView:
    text: str  # 2026-11-19（周四）18:00
    status: str  # 还剩 3 个工作日 / 今日到期 / 已超期 2 个工作日 / "" when the unit owes nothing
    overdue: bool


def deadline_view(policy: CasePolicy, case: Case, now: datetime, tz: tzinfo) -> DeadlineView:
    """The deadline on the Chinese working-day calendar, with what is left of it (or by how much it is passed)."""
    if case.deadline_at is None:
        return DeadlineView("未派单", "", False)
    local = case.deadline_at.astimezone(tz)
    text = f"{local:%Y-%m-%d}（周{WEEKDAYS[local.weekday()]}）{local:%H:%M}"
    if case.deadline_provisional:
        text += "（暂定：该年节假日安排尚未公布）"
    if case.state not in OPEN_STATES:
        return DeadlineView(text, "", False)
    calendar = policy.calendar()
    today = now.astimezone(tz).date()
    if now >= case.deadline_at:
        days = calendar.workdays_between(local.date(), today)
        return DeadlineView(text, f"已超期 {days} 个工作日" if days else "已超期", True)
    days = calendar.workdays_between(today, local.date())
    return DeadlineView(text, f"还剩 {days} 个工作日" if days else "今日到期", False)


@dataclass(frozen=True)
class CaseRow:
    case: Case
    state_label: str
    deadline: DeadlineView


def desk_rows(policy: CasePolicy, cases: list[Case], now: datetime, tz: tzinfo) -> list[CaseRow]:
    """Open cases first, the overdue among them first, then by deadline; answered and finished cases after."""
    rows = [CaseRow(case, STATE_LABELS[case.state], deadline_view(policy, case, now, tz)) for case in cases]

    def order(row: CaseRow) -> tuple[bool, bool, datetime, int]:
        deadline = row.case.deadline_at.replace(tzinfo=None) if row.case.deadline_at else FAR_FUTURE
        return (row.case.state not in OPEN_STATES, not row.deadline.overdue, deadline, row.case.id)

    return sorted(rows, key=order)


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    actor: str
    action: str
    change: str
    note: str


def history_lines(entries: list[CaseEvent]) -> list[HistoryLine]:
    labels = {name: action.label for name, action in ACTIONS.items()} | {"open": "列单"}
    lines = []
    for entry in entries:
        before = STATE_LABELS.get(entry.from_state or "", "")
        after = STATE_LABELS.get(entry.to_state, entry.to_state)
        change = f"{before} → {after}" if before and before != after else after
        lines.append(HistoryLine(entry.at, entry.actor, labels.get(entry.action, entry.action), change, entry.note or ""))
    return lines


def case_units(db: Database) -> list[str]:
    """The units a case can be given to (or a list narrowed to): every unit but the duty roster and the office."""
    return [unit.name for unit in list_units(db) if unit.kind not in ("duty", "office")]
