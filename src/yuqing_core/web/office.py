"""The office desk: the warnings queue, opening a case from a warning, events, and the cases board.

Only the office's analysts, duty officers and head use these pages
(``may_use(account, "desk.office")``); to any other account every route here
is a 404, as for a page that does not exist. Decisions go through the core
(``risk.decisions.decide``, ``cases.open_case``, ``cases.act``) with the
account as the actor, and each is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from yuqing_core.accounts import SignedIn, actor_label, csrf_matches, record_audit
from yuqing_core.accounts.access import may_use, visible_cases
from yuqing_core.analysis.queries import get_warning, warning_queue
from yuqing_core.cases import STATE_LABELS, open_case, origin_of
from yuqing_core.cases.service import DEFAULT_REQUIREMENT
from yuqing_core.db.models import EarlyWarning, Event
from yuqing_core.errors import UserError
from yuqing_core.levels import Level
from yuqing_core.reports.case_notice import issue_case_notice, units_config
from yuqing_core.risk import response
from yuqing_core.risk.decisions import ACTION_LABELS, STATUS_LABELS, DecisionRefused, decide
from yuqing_core.risk.decisions import ACTIONS as DECISIONS
from yuqing_core.timeutil import utcnow
from yuqing_core.web.app import Workbench, case_url, workbench
from yuqing_core.web.auth import CSRF_REFUSED, client_address, signed_in
from yuqing_core.web.views import case_units, desk_rows

router = APIRouter()

# The queue's filter: what each choice shows.
WARNING_FILTERS = {"open": ["open"], "acknowledged": ["acknowledged"], "all": []}
FILTER_LABELS = {"open": "待处理", "acknowledged": "已确认", "all": "全部"}
DECISION_DONE = {"acknowledge": "预警已确认。", "downgrade": "预警已降级。", "dismiss": "预警已排除。"}


def office_desk(request: Request) -> SignedIn:
    """The signed-in office account; 404 for every other account, as for a page that does not exist."""
    signed = signed_in(request)
    if not may_use(signed.account, "desk.office"):
        raise HTTPException(status_code=404)
    return signed


def office_post(request: Request, csrf_token: Annotated[str, Form()] = "") -> SignedIn:
    """An office account's form post with its session's CSRF token (403 otherwise; nothing changes)."""
    signed = office_desk(request)
    if not csrf_matches(signed, csrf_token):
        raise HTTPException(status_code=403, detail=CSRF_REFUSED)
    return signed


Office = Annotated[SignedIn, Depends(office_desk)]
OfficePost = Annotated[SignedIn, Depends(office_post)]


# --- warnings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarningRow:
    warning: EarlyWarning
    event: Event
    level_label: str
    original_label: str  # the raised level when an analyst downgraded it, else ""
    status_label: str
    risk_points: list[str]
    response_label: str
    age: str
    lower_levels: list[tuple[int, str]]


def age_text(since: datetime, now: datetime) -> str:
    """How long ago, in the words of the queue: ``3 天 2 小时``, ``5 小时 10 分钟``, ``12 分钟``.

    >>> from datetime import UTC
    >>> age_text(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 4, 2, 30, tzinfo=UTC))
    '3 天 2 小时'
    """
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {mins} 分钟"
    return f"{mins} 分钟"


def warning_row(warning: EarlyWarning, event: Event, now: datetime) -> WarningRow:
    level = warning.effective_level
    return WarningRow(
        warning, event, Level(level).label, Level(warning.level).label if warning.level != level else "",
        STATUS_LABELS.get(warning.status, warning.status), list(warning.reasons.get("risk_points", [])),
        response.STATUS_LABELS.get(event.response_status, "不计时限"), age_text(warning.created_at, now),
        [(rank, Level(rank).label) for rank in range(level + 1, 5)],
    )  # fmt: skip


def _queue_page(request: Request, wb: Workbench, chosen: str, *, status_code: int = 200, error: str | None = None,
                done: str | None = None) -> Response:  # fmt: skip
    now = utcnow()
    rows = [warning_row(w, e, now) for w, e in warning_queue(wb.db, statuses=WARNING_FILTERS[chosen])]
    return wb.render(request, "office_warnings.html", status_code=status_code, rows=rows, chosen=chosen,
                     filters=FILTER_LABELS, decisions=ACTION_LABELS, error=error, done=done)  # fmt: skip


@router.get("/warnings")
def warnings_queue(request: Request, signed: Office, status: str = "open", done: str | None = None) -> Response:
    """Warnings by level (I first), the oldest first within a level; ``?status=open|acknowledged|all``."""
    chosen = status if status in WARNING_FILTERS else "open"
    return _queue_page(request, workbench(request), chosen, done=DECISION_DONE.get(done or ""))


@router.post("/warnings/{warning_id}/decide")
def warning_decide(
    request: Request,
    warning_id: int,
    signed: OfficePost,
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    to_level: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "open",
) -> Response:
    """Acknowledge, downgrade (to a chosen lower level) or dismiss a warning, with a reason (``yuqing warnings ack`` …)."""
    wb = workbench(request)
    chosen = back if back in WARNING_FILTERS else "open"
    if get_warning(wb.db, warning_id) is None:
        raise HTTPException(status_code=404)
    if action not in DECISIONS:
        return _queue_page(request, wb, chosen, status_code=400, error="请选择确认、降级或排除。")
    level = int(to_level) if to_level.isdigit() else None
    try:
        warning = decide(wb.db, warning_id, action, actor=actor_label(signed.account), reason=reason, to_level=level)
    except DecisionRefused as exc:
        return _queue_page(request, wb, chosen, status_code=400, error=f"预警 #{warning_id}：{exc}")
    record_audit(wb.db, account=signed.account, action=f"warning.{action}", target=f"warning:{warning_id}",
                 client=client_address(request), details={"status": warning.status, "level": warning.effective_level,
                                                          "reason": reason.strip()})  # fmt: skip
    return RedirectResponse(f"/warnings?status={chosen}&done={action}", status_code=303)


def _case_form(request: Request, wb: Workbench, warning_id: int, *, status_code: int = 200, error: str | None = None,
               form: dict[str, object] | None = None) -> Response:  # fmt: skip
    warning = get_warning(wb.db, warning_id)
    if warning is None:
        raise HTTPException(status_code=404)
    origin = origin_of(wb.db, warning_id=warning_id)
    suggested = list(origin.units)
    defaults: dict[str, object] = {
        "title": origin.title, "lead_unit": suggested[0] if suggested else "", "co_units": suggested[1:],
        "case_type": wb.policy.default_type, "requirement": DEFAULT_REQUIREMENT,
    }  # fmt: skip
    return wb.render(request, "office_case_open.html", status_code=status_code, warning=warning,
                     level_label=Level(warning.effective_level).label, units=case_units(wb.db),
                     types=wb.policy.case_types, form={**defaults, **(form or {})}, error=error)  # fmt: skip


@router.get("/warnings/{warning_id}/case")
def warning_case_form(request: Request, warning_id: int, signed: Office) -> Response:
    """Open a case from a warning: one lead unit, optional co-units (1+3+N), the case type, what to do."""
    return _case_form(request, workbench(request), warning_id)


@router.post("/warnings/{warning_id}/case")
def warning_case_open(
    request: Request,
    warning_id: int,
    signed: OfficePost,
    title: Annotated[str, Form()] = "",
    lead_unit: Annotated[str, Form()] = "",
    co_units: Annotated[list[str] | None, Form()] = None,
    case_type: Annotated[str, Form()] = "",
    requirement: Annotated[str, Form()] = "",
) -> Response:
    """List and dispatch the case with the warning as its origin (``yuqing case open --warning``); show it."""
    wb = workbench(request)
    co = [unit for unit in co_units or [] if unit and unit != lead_unit]
    form: dict[str, object] = {"title": title, "lead_unit": lead_unit, "co_units": co, "case_type": case_type,
                               "requirement": requirement}  # fmt: skip
    if get_warning(wb.db, warning_id) is None:
        raise HTTPException(status_code=404)
    known = set(case_units(wb.db))
    if lead_unit not in known or any(unit not in known for unit in co):
        return _case_form(request, wb, warning_id, status_code=400, error="请从单位列表中选择牵头单位和配合单位。", form=form)
    if case_type not in wb.policy.case_types:
        return _case_form(request, wb, warning_id, status_code=400, error="请选择督办类型。", form=form)
    try:
        origin = origin_of(wb.db, warning_id=warning_id)
        opened = open_case(wb.db, wb.policy, actor=actor_label(signed.account), title=title.strip() or None,
                           lead_unit=lead_unit, co_units=co, requirement=requirement.strip() or None,
                           case_type=case_type, origin=origin, dispatch=True)  # fmt: skip
    except UserError as exc:
        return _case_form(request, wb, warning_id, status_code=400, error=str(exc), form=form)
    try:  # the case stands even if its notice cannot be written (its warning deleted meanwhile) or sent
        notice = issue_case_notice(wb.db, wb.settings, opened, origin, config=units_config(wb.db, wb.settings)).files
    except UserError:
        notice = []
    reports = wb.settings.effective_reports_dir
    record_audit(wb.db, account=signed.account, action="case.open", target=opened.number, client=client_address(request),
                 details={"warning": warning_id, "lead_unit": opened.lead_unit, "co_units": opened.co_units,
                          "case_type": opened.case_type, "version": opened.version,
                          "notice": [path.relative_to(reports).as_posix() for path in notice]})  # fmt: skip
    return RedirectResponse(f"{case_url(opened.number)}?done={'open_notice' if notice else 'open'}", status_code=303)


# --- the cases board -----------------------------------------------------------------------------


@router.get("/office/cases")
def cases_board(request: Request, signed: Office, state: str = "") -> Response:
    """Every case, listed ones too: those the units owe first, the overdue first among them, then by deadline;
    ``?state=`` narrows it to one state."""
    wb = workbench(request)
    chosen = state if state in STATE_LABELS else ""
    cases = [case for case in visible_cases(wb.db, signed.account) if not chosen or case.state == chosen]
    rows = desk_rows(wb.policy, cases, utcnow(), wb.settings.tz)
    return wb.render(request, "office_cases.html", rows=rows, states=STATE_LABELS, chosen=chosen,
                     overdue=sum(row.deadline.overdue for row in rows))  # fmt: skip
