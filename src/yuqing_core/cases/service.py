"""Supervision cases (督办件): opening, acting on, and reading them, with an audit trail.

Every change goes through ``act`` (or ``open_case``): it checks the
transition against the state machine, writes the new state and one
``case_events`` row in the same transaction, and bumps the case's
``version``. A change computed from a stale read (someone else acted in
between, or the caller passed an ``expected_version`` that no longer holds)
fails with ``CaseConflict`` and changes nothing.

Who may act: the office may take every action; a unit, named by
``on_behalf_of``, only the unit actions (``UNIT_ACTIONS``: acknowledge,
start, return, ask for an extension) and only on a case it leads or
co-handles. Anything else is refused with ``ActionNotPermitted`` and
changes nothing.

Who is assigned (1+3+N): the N are the units the origin names (its risk
points' units, or the units a 提示函 was addressed to), the first of them
leading; unless the caller names the co-units, the units file's roles add
the 1 (``role: case_coordinator``, 宣传部) and the 3 (``role: case_core``,
网信、公安、国安) as co-units.

Closing a case settles the warning of the event it is about (status
``resolved``, with a ``warning_actions`` row naming the case); reopening it
puts the warning back to ``acknowledged``, again with a row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from yuqing_core.cases.calendar import Deadline, TimeLimit
from yuqing_core.cases.config import CasePolicy
from yuqing_core.cases.states import ACTIONS, STATE_LABELS, TransitionRefused, check
from yuqing_core.db.database import Database
from yuqing_core.db.models import Case, CaseEvent, EarlyWarning, EarlyWarningAction, Event, EventItem, Item, RiskNotice, Unit
from yuqing_core.errors import InvalidInput, NotFound, UserError
from yuqing_core.numbers import allocate_number, format_number
from yuqing_core.risk.versions import NoActiveLibrary, active_library
from yuqing_core.timeutil import SHANGHAI, utcnow

DEFAULT_REQUIREMENT = "请核实有关情况，依法依规处置，并在期限内书面反馈核查处置结果。"
# The units file's roles for 1+3+N: the 1 (宣传部) and the 3 (网信、公安、国安), added to every new case.
COORDINATOR_ROLE = "case_coordinator"
CORE_ROLE = "case_core"
# Warning statuses a closed case settles (a dismissed or merged warning stays as it is).
SETTLED_WARNING_STATUSES = ("open", "acknowledged", "downgraded")


class CaseConflict(UserError, RuntimeError):
    """Someone changed the case between reading and writing it."""


class CaseNotFound(NotFound):
    pass


class ActionNotPermitted(InvalidInput):
    """The unit acted for may not take this action on this case; the message says why."""


# What a unit does on its own case; everything else (dispatch, close, send back, reopen, cancel,
# grant or refuse an extension) is the office's.
UNIT_ACTIONS = frozenset({"ack", "start", "return", "extend"})


def check_unit_may_act(case: Case, action: str, unit: str | None) -> None:
    """Refuse ``action`` on ``case`` for ``unit`` unless it is a unit action on a case the unit leads or
    co-handles; ``unit`` None is the office, which may take every action."""
    if unit is None:
        return
    label = ACTIONS[action].label if action in ACTIONS else action
    if unit != case.lead_unit and unit not in (case.co_units or []):
        raise ActionNotPermitted(f"{unit} 不是督办件 {case.number} 的牵头或配合单位，不能代其「{label}」")
    if action not in UNIT_ACTIONS:
        allowed = "、".join(f"{ACTIONS[name].label}（{name}）" for name in ACTIONS if name in UNIT_ACTIONS)
        raise ActionNotPermitted(f"「{label}」由监控中心办理，{unit} 不能代为操作；单位可执行：{allowed}")


@dataclass(frozen=True)
class Origin:
    kind: str  # warning | event | item | risk_notice | manual
    id: int | None
    title: str
    units: tuple[str, ...]  # the responsible units the origin suggests (risk points' units)
    requirement: str | None = None  # what the origin already asked of the units (a 提示函's 工作要求)


def _limit_dict(limit: TimeLimit) -> dict[str, Any]:
    return {"kind": limit.kind, "days": limit.days, "counting": limit.counting}


def _limit_of(case: Case) -> TimeLimit:
    return TimeLimit(**case.time_limit)


def origin_of(
    db: Database,
    *,
    warning_id: int | None = None,
    event_id: int | None = None,
    item_id: int | None = None,
    risk_notice_id: int | None = None,
) -> Origin:
    """What a case is about: a warning (its event), an event, an item or a 提示函; suggested units from its risk points
    (for a 提示函: the units it was addressed to)."""
    given = [x for x in (warning_id, event_id, item_id, risk_notice_id) if x is not None]
    if len(given) > 1:
        raise InvalidInput("督办件只能来自一个预警、事件、信息或提示函")
    with db.reader() as session:
        if risk_notice_id is not None:
            notice = session.get(RiskNotice, risk_notice_id)
            if notice is None:
                raise CaseNotFound(f"没有编号为 {risk_notice_id} 的风险提示函")
            return Origin("risk_notice", risk_notice_id, notice.risk_point_name, tuple(notice.units), notice.requirements)
        if warning_id is not None:
            warning = session.get(EarlyWarning, warning_id)
            if warning is None:
                raise CaseNotFound(f"没有编号为 {warning_id} 的预警")
            event = session.get(Event, warning.event_id)
            if event is None:  # deleting an event deletes its warnings; a concurrent delete can still get here
                raise CaseNotFound(f"编号为 {warning_id} 的预警所属的事件已不存在")
            return Origin("warning", warning_id, event.title, _units(db, event.risk_points))
        if event_id is not None:
            event = session.get(Event, event_id)
            if event is None:
                raise CaseNotFound(f"没有编号为 {event_id} 的事件")
            return Origin("event", event_id, event.title, _units(db, event.risk_points))
        if item_id is not None:
            item = session.get(Item, item_id)
            if item is None:
                raise CaseNotFound(f"没有编号为 {item_id} 的信息")
            event_id = session.scalar(select(EventItem.event_id).where(EventItem.item_id == item_id))
            event = session.get(Event, event_id) if event_id else None
            return Origin("item", item_id, item.title or item.excerpt[:40], _units(db, event.risk_points if event else []))
    return Origin("manual", None, "", ())


def _units(db: Database, risk_points: list[str]) -> tuple[str, ...]:
    try:
        spec = active_library(db).spec
    except NoActiveLibrary:
        return ()
    found: list[str] = []
    for name in risk_points:
        point = spec.risk_point(name)
        for unit in point.units if point else ():
            if unit not in found:
                found.append(unit)
    return tuple(found)


def open_case(
    db: Database,
    policy: CasePolicy,
    *,
    actor: str,
    title: str | None = None,
    lead_unit: str | None = None,
    co_units: list[str] | None = None,
    requirement: str | None = None,
    case_type: str | None = None,
    origin: Origin | None = None,
    dispatch: bool = False,
    now: datetime | None = None,
) -> Case:
    """List a new case (列单), numbered 督〔year〕N号; with ``dispatch`` it is dispatched at once."""
    now = now or utcnow()
    origin = origin or Origin("manual", None, "", ())
    type_key, kind = policy.case_type(case_type)
    units = list(origin.units)
    lead = lead_unit or (units[0] if units else None)
    if not lead:
        raise InvalidInput("请指定牵头单位（--unit）：来源没有可用的责任单位")
    named = co_units if co_units is not None else [*units, *one_plus_three(db)]
    co = [u for u in dict.fromkeys(named) if u != lead]
    subject = title or origin.title
    if not subject:
        raise InvalidInput("请写明督办事项（--title）")
    year = now.astimezone(SHANGHAI).year
    number = format_number(policy.number_prefix, year, allocate_number(db, "case", year, f"case:{uuid.uuid4()}", now=now))
    with db.writer() as session:
        case = Case(
            number=number, title=subject, origin_kind=origin.kind, origin_id=origin.id, lead_unit=lead, co_units=co,
            requirement=requirement or origin.requirement or DEFAULT_REQUIREMENT, case_type=type_key, time_limit=_limit_dict(kind.time_limit),
            state="listed", created_at=now, created_by=actor, updated_at=now, attachments=[],
        )  # fmt: skip
        session.add(case)
        session.flush()
        _audit(
            session, case, actor, "open", None, "listed", f"列单：{subject}", now, {"origin": origin.kind, "origin_id": origin.id}
        )
    if dispatch:
        return act(db, policy, number, "dispatch", actor=actor, now=now)
    return case


def one_plus_three(db: Database) -> list[str]:
    """The 1 and the 3 of 1+3+N: enabled units with role ``case_coordinator``, then ``case_core``, in file order."""
    with db.reader() as session:
        units = list(session.scalars(select(Unit).where(Unit.enabled.is_(True)).order_by(Unit.id)))
    return [u.name for role in (COORDINATOR_ROLE, CORE_ROLE) for u in units if role in (u.roles or [])]


def event_of_case(session: Session, case: Case) -> int | None:
    """The event a case is about (through its warning or item), following merges to the survivor; None if none."""
    event_id: int | None = None
    if case.origin_kind == "warning" and case.origin_id is not None:
        event_id = session.scalar(select(EarlyWarning.event_id).where(EarlyWarning.id == case.origin_id))
    elif case.origin_kind == "event":
        event_id = case.origin_id
    elif case.origin_kind == "item" and case.origin_id is not None:
        event_id = session.scalar(select(EventItem.event_id).where(EventItem.item_id == case.origin_id))
    seen: set[int] = set()
    while event_id is not None and event_id not in seen:
        seen.add(event_id)
        survivor = session.scalar(select(Event.merged_into_id).where(Event.id == event_id))
        if survivor is None:
            break
        event_id = survivor
    return event_id


def _settle_warning(session: Session, case: Case, action: str, actor: str, now: datetime) -> dict[str, Any]:
    """On close, the warning of the case's event is 已办结; on reopen it is back to 已确认. Each with a recorded reason."""
    event_id = event_of_case(session, case)
    if event_id is None:
        return {}
    warning = session.scalar(select(EarlyWarning).where(EarlyWarning.event_id == event_id))
    if warning is None:
        return {}
    if action == "close" and warning.status in SETTLED_WARNING_STATUSES:
        status, verb, reason = "resolved", "resolve", f"督办件 {case.number} 已办结，预警随之办结"
    elif action == "reopen" and warning.status == "resolved":
        status, verb, reason = "acknowledged", "reopen", f"督办件 {case.number} 重新办理，预警恢复为已确认"
    else:
        return {}
    before = warning.status
    warning.status, warning.updated_at = status, now
    session.add(EarlyWarningAction(warning_id=warning.id, action=verb, actor=actor, reason=reason,
                                   from_level=warning.effective_level, to_level=warning.effective_level, created_at=now))  # fmt: skip
    return {"warning": warning.id, "warning_status": [before, status]}


def record_decision(db: Database, number: str, decision: str, *, actor: str, source: str, now: datetime | None = None) -> Case:
    """A meeting's decision updates a case: added to its requirement and to its audit trail (the state stays)."""
    decision = decision.strip()
    if not decision:
        raise InvalidInput("会议决定不能为空")
    now = now or utcnow()
    try:
        with db.writer() as session:
            case = _case_by_number(session, number)
            case.requirement = f"{case.requirement}\n{source}决定：{decision}"
            case.updated_at = now
            _audit(session, case, actor, "decision", case.state, case.state, f"{source}决定：{decision}", now, {"source": source})
            session.flush()
            return case
    except StaleDataError as exc:
        raise CaseConflict(f"{number} 刚被他人修改，本次操作未生效，请刷新后重试") from exc


def _case_by_number(session: Session, number: str) -> Case:
    """The case numbered ``number`` in ``session``; ``CaseNotFound`` naming it otherwise."""
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise CaseNotFound(f"没有督办件 {number}")
    return case


def get_case(db: Database, number: str) -> Case:
    with db.reader() as session:
        return _case_by_number(session, number)


def history(db: Database, number: str) -> list[CaseEvent]:
    with db.reader() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == number))
        if case_id is None:
            raise CaseNotFound(f"没有督办件 {number}")
        return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def _audit(session: Session, case: Case, actor: str, action: str, before: str | None, after: str, note: str | None,
           now: datetime, details: dict[str, Any] | None = None) -> None:  # fmt: skip
    session.add(CaseEvent(case_id=case.id, at=now, actor=actor, action=action, from_state=before, to_state=after,
                          note=note, details=details or {}))  # fmt: skip


def deadline_for(policy: CasePolicy, case: Case, start: datetime) -> Deadline:
    return policy.calendar().deadline(start, _limit_of(case), tz=SHANGHAI, cutoff=policy.deadline_time)


def act(
    db: Database,
    policy: CasePolicy,
    number: str,
    action: str,
    *,
    actor: str,
    note: str | None = None,
    answer: str | None = None,
    attachments: list[str] | None = None,
    until: datetime | None = None,
    expected_version: int | None = None,
    on_behalf_of: str | None = None,
    audit_details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Case:
    """Apply ``action`` to the case; refused transitions, refused units and conflicts change nothing.

    ``actor`` is who did it, as the caller authenticated them; ``on_behalf_of`` the unit they act for
    (None: the office), checked by ``check_unit_may_act`` and kept in the audit row with ``audit_details``.
    """
    now = now or utcnow()
    try:
        with db.writer() as session:
            case = _case_by_number(session, number)
            check_unit_may_act(case, action, on_behalf_of)
            if expected_version is not None and case.version != expected_version:
                raise CaseConflict(
                    f"{number} 已被修改（当前第 {case.version} 版，您看到的是第 {expected_version} 版），请刷新后重试"
                )
            spec = check(number, case.state, action)
            if spec.needs_note and not (note or answer):
                raise TransitionRefused(f"「{spec.label}」须写明{'办理结果' if action == 'return' else '理由'}")
            before = case.state
            details = _apply(
                policy, case, action, note=note, answer=answer, attachments=attachments, until=until, actor=actor, now=now
            )
            if spec.target is not None:
                case.state = spec.target
            case.updated_at = now
            if action in ("close", "reopen"):
                details = {**details, **_settle_warning(session, case, action, actor, now)}
            details = {**(audit_details or {}), **details}
            if on_behalf_of is not None:
                details["on_behalf_of"] = on_behalf_of
            _audit(session, case, actor, action, before, case.state, note or answer, now, details)
            session.flush()  # the version check happens here
            return case
    except StaleDataError as exc:
        raise CaseConflict(f"{number} 刚被他人修改，本次操作未生效，请刷新后重试") from exc


def _apply(policy: CasePolicy, case: Case, action: str, *, note: str | None, answer: str | None,
           attachments: list[str] | None, until: datetime | None, actor: str, now: datetime) -> dict[str, Any]:  # fmt: skip
    """The effects of an action beyond the state change; what it returns goes into the audit row."""
    if action == "dispatch":
        deadline = deadline_for(policy, case, now)
        case.dispatched_at, case.deadline_at, case.deadline_provisional = now, deadline.at, deadline.provisional
        return {"deadline": deadline.at.isoformat(), "provisional": deadline.provisional}
    if action == "ack":
        case.acknowledged_at = now
    elif action == "return":
        case.returned_at = now
        case.answer = answer or note
        case.attachments = list(attachments or [])
        return {"attachments": case.attachments}
    elif action == "close":
        case.closed_at = now
        return {"on_time": case.deadline_at is None or (case.returned_at or now) <= case.deadline_at}
    elif action == "reopen":
        case.closed_at = None
    elif action == "cancel":
        case.cancel_reason = note
    elif action == "extend":
        if case.extension_request:
            raise TransitionRefused(f"{case.number} 已有待批准的延期申请，请先批准或驳回")
        if case.deadline_at is not None and now >= case.deadline_at:
            raise TransitionRefused(
                f"{case.number} 已过办理期限（{case.deadline_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}），不能再申请延期"
            )
        if until is None or (case.deadline_at is not None and until <= case.deadline_at):
            raise TransitionRefused("延期申请须给出晚于当前期限的新期限（--until）")
        case.extension_request = {"until": until.isoformat(), "reason": note, "by": actor, "at": now.isoformat()}
        return {"until": until.isoformat()}
    elif action in ("grant", "refuse"):
        request = case.extension_request
        if not request:
            raise TransitionRefused(f"{case.number} 没有待批准的延期申请")
        case.extension_request = None
        if action == "grant":
            previous = case.deadline_at
            case.deadline_at = datetime.fromisoformat(request["until"])
            case.deadline_provisional = False
            case.reprimand_listed_at = None
            return {"from": previous.isoformat() if previous else None, "to": request["until"], "reason": request.get("reason")}
        return {"requested": request["until"]}
    return {}


def list_cases(db: Database, *, states: list[str] | None = None, unit: str | None = None) -> list[Case]:
    query = select(Case).order_by(Case.deadline_at.is_(None), Case.deadline_at, Case.id)
    if states:
        query = query.where(Case.state.in_(states))
    if unit:
        query = query.where(Case.lead_unit == unit)
    with db.reader() as session:
        return list(session.scalars(query))


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


__all__ = [
    "ACTIONS",
    "DEFAULT_REQUIREMENT",
    "UNIT_ACTIONS",
    "ActionNotPermitted",
    "CaseConflict",
    "CaseNotFound",
    "Origin",
    "TransitionRefused",
    "act",
    "check_unit_may_act",
    "event_of_case",
    "get_case",
    "history",
    "list_cases",
    "one_plus_three",
    "open_case",
    "origin_of",
    "record_decision",
    "state_label",
]  # fmt: skip
