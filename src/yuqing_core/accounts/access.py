"""The one answer to "may this account do this action on this case?", asked by every page and every list.

Unit members see the dispatched cases their unit leads or works on as a
co-unit; only the lead unit acts on one (签收, 开始办理, 交单, 申请延期).
The office's analysts, duty officers and head see every case and take the
office's actions on it (``OFFICE_CASE_ACTIONS``: 派单, 办结, 退回, 延期审批,
重新办理, 撤销) and use the office desk (``desk.office``: warnings, events,
the cases board, item search, source health); leaders read the open cases'
overview only. A case an account may not see is, to it, a case that does not
exist: the pages answer 404, as for a wrong number.

Notices (督报, 提示函) and leads (报送) follow the same rule: the office sees
all of them; a unit member sees, and acknowledges, those of their own unit.

>>> from yuqing_core.db.models import Account, Case
>>> member = Account(role="unit", unit="柳湾镇", disabled=False)
>>> case = Case(lead_unit="县应急管理局", co_units=["柳湾镇"], state="dispatched", dispatched_at=None)
>>> may(member, "case.view", case)  # not yet dispatched
False
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from yuqing_core.accounts.service import OFFICE_ROLES
from yuqing_core.cases.service import list_cases
from yuqing_core.cases.states import OPEN_STATES
from yuqing_core.db.database import Database
from yuqing_core.db.models import Account, Case

# What a unit's answer to a case consists of; each is the core action of the same name, asked as "case.<name>".
UNIT_ACTIONS = ("ack", "start", "return", "extend")
# What only the office does to a case (派单, 办结, 退回, 批准或不予延期, 重新办理, 撤销): the office desk's panel.
OFFICE_CASE_ACTIONS = ("dispatch", "close", "send_back", "grant", "refuse", "reopen", "cancel")
DeskAction = Literal[
    "desk.units",
    "desk.all_cases",
    "desk.leader",
    "desk.notices",
    "desk.notice_receipts",
    "desk.intake",
    "lead.report",
    "risk.read",
    "risk.edit",
    "desk.office",
    "report.special",
    "assessment.draft",
    "assessment.approve",
]
# Who edits the risk library (imports a new version); the other office role (duty) reads it.
RISK_EDITORS = ("analyst", "head")
# Who starts a special report on an event from the workbench; duty officers follow the runs.
SPECIAL_REPORT_ROLES = ("analyst", "head")
# 研判: analysts (and the head) draft and submit; only the head approves (签发) or returns one.
ASSESSMENT_DRAFTERS = ("analyst", "head")
ASSESSMENT_APPROVERS = ("head",)
NoticeAction = Literal["notice.view", "notice.ack"]
LeadAction = Literal["lead.view", "lead.attachment"]


def concerns(account: Account, case: Case) -> bool:
    """The case is the account's unit's: it leads it or works on it as a co-unit, once dispatched."""
    return (
        account.role == "unit"
        and case.dispatched_at is not None
        and account.unit is not None
        and (case.lead_unit == account.unit or account.unit in (case.co_units or []))
    )


def may(account: Account, action: str, case: Case) -> bool:
    """``action``: ``case.view``, ``case.attachment`` (download its files), ``case.<one of UNIT_ACTIONS>``
    (the lead unit) or ``case.<one of OFFICE_CASE_ACTIONS>`` (the office)."""
    if account.disabled:
        return False
    if action in ("case.view", "case.attachment"):
        return account.role in OFFICE_ROLES or concerns(account, case)
    if action.removeprefix("case.") in UNIT_ACTIONS:  # only the lead unit answers for the case
        return concerns(account, case) and case.lead_unit == account.unit
    if action.removeprefix("case.") in OFFICE_CASE_ACTIONS:
        return account.role in OFFICE_ROLES
    return False


def may_use(account: Account, desk: DeskAction) -> bool:
    """Pages that are not about one case: every unit's list (office), the leaders' overview (leaders and office),
    the risk library (the office reads it; analysts and the head import new versions), the office desk (warnings,
    events, the cases board, item search, source health, reports: analysts, duty officers, head); starting a
    special report on an event (``report.special``: analysts and the head); drafting a 研判 (``assessment.draft``:
    analysts and the head) and approving one (``assessment.approve``: the head only)."""
    if account.disabled:
        return False
    if desk == "desk.leader":
        return account.role in (*OFFICE_ROLES, "leader")
    if desk in ("desk.units", "desk.all_cases", "desk.notice_receipts", "desk.intake", "risk.read", "desk.office"):
        return account.role in OFFICE_ROLES
    if desk == "risk.edit":
        return account.role in RISK_EDITORS
    if desk == "report.special":  # 生成专报 (a run of the special-report deployment): analysts and the head
        return account.role in SPECIAL_REPORT_ROLES
    if desk == "assessment.draft":
        return account.role in ASSESSMENT_DRAFTERS
    if desk == "assessment.approve":
        return account.role in ASSESSMENT_APPROVERS
    if desk == "desk.notices":  # a unit's notices, or the office's overview of them
        return account.role in OFFICE_ROLES or _has_unit(account)
    if desk == "lead.report":  # 报送: a unit member reports a lead for their unit
        return _has_unit(account)
    return False


def may_notice(account: Account, action: NoticeAction, units: Collection[str]) -> bool:
    """A notice (督报, 提示函) addressed to ``units``: the office sees every one; a unit sees and acknowledges its own."""
    if account.disabled:
        return False
    addressed = _has_unit(account) and account.unit in units
    if action == "notice.view":
        return account.role in OFFICE_ROLES or addressed
    return addressed


def may_lead(account: Account, action: LeadAction, reported_by: str) -> bool:
    """A lead (报送) the unit ``reported_by`` reported, and its file: the office, and that unit's members."""
    if account.disabled:
        return False
    return account.role in OFFICE_ROLES or (_has_unit(account) and account.unit == reported_by)


def _has_unit(account: Account) -> bool:
    return account.role == "unit" and bool(account.unit)


def visible_cases(db: Database, account: Account, *, unit: str | None = None) -> list[Case]:
    """The cases the account may see, by deadline; the office may narrow them to one unit (lead or co-unit)."""
    cases = [case for case in list_cases(db) if may(account, "case.view", case)]
    if unit and account.role in OFFICE_ROLES:
        cases = [case for case in cases if case.lead_unit == unit or unit in (case.co_units or [])]
    return cases


def open_cases_overview(db: Database, account: Account) -> list[Case]:
    """The open cases (the unit owes an answer, or it is returned and awaits the office) for the leaders' page."""
    if not may_use(account, "desk.leader"):
        return []
    return list_cases(db, states=[*OPEN_STATES, "returned"])
