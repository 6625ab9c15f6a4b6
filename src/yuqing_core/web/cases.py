"""The unit desk (mobile first) and the office's read-only view of cases (the leaders' page is ``web.leader``).

A unit member lists their unit's cases (overdue first), opens one, and signs
for it, starts it, hands in an answer with attachments, or asks for an
extension -- each through the core's ``act`` with the account as the actor and
the version the page showed, so a concurrent change is caught, not
overwritten. Every route answers 404 for a case the account may not see.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from yuqing_core.accounts import SignedIn, actor_label, record_audit
from yuqing_core.accounts.access import OFFICE_CASE_ACTIONS, UNIT_ACTIONS, may, may_use, visible_cases
from yuqing_core.cases import ACTIONS, STATE_LABELS, CaseConflict, CaseNotFound, act, get_case, history
from yuqing_core.cases.attachments import (
    ACCEPTED_TEXT,
    AttachmentRefused,
    CheckedFile,
    attachment_path,
    case_attachments,
    check_attachment,
    get_attachment,
    remove_attachments,
    store_attachments,
)
from yuqing_core.db.models import Case
from yuqing_core.errors import UserError
from yuqing_core.reports.case_notice import issue_case_notice, units_config
from yuqing_core.timeutil import utcnow
from yuqing_core.web.app import MAX_FILES_PER_ANSWER, Workbench, case_url, workbench
from yuqing_core.web.auth import checked_post, client_address, signed_in
from yuqing_core.web.views import case_units, deadline_view, desk_rows, history_lines

router = APIRouter()

DONE_MESSAGES = {
    "ack": "已签收。",
    "start": "已开始办理。",
    "return": "已交单，等待舆情中心审核。",
    "extend": "延期申请已提交，等待批准。",
    "open": "督办件已立案并派单。",
    "open_notice": "督办件已立案并派单，舆情督报已写入报告存档。",
    "dispatch": "已派单，办理期限开始计算。",
    "close": "已办结。",
    "send_back": "已退回牵头单位重新办理。",
    "grant": "已批准延期。",
    "refuse": "已驳回延期申请。",
    "reopen": "已重新办理。",
    "cancel": "已撤销。",
}
ACT_REFUSED_UNIT = "只有牵头单位可以办理此督办件。"
ACT_REFUSED_OFFICE = "此页面只读：督办件由牵头单位办理。"


def _visible_case(wb: Workbench, signed: SignedIn, number: str) -> Case:
    """The case, if the account may see it; 404 exactly as for a number that does not exist."""
    try:
        case = get_case(wb.db, number)
    except CaseNotFound:
        raise HTTPException(status_code=404) from None
    if not may(signed.account, "case.view", case):
        raise HTTPException(status_code=404)
    return case


def _acting_case(wb: Workbench, signed: SignedIn, number: str, action: str) -> Case:
    case = _visible_case(wb, signed, number)
    if action not in UNIT_ACTIONS or not may(signed.account, f"case.{action}", case):
        raise HTTPException(status_code=403, detail=ACT_REFUSED_UNIT if signed.account.role == "unit" else ACT_REFUSED_OFFICE)
    return case


def _case_page(request: Request, wb: Workbench, signed: SignedIn, number: str, *, status_code: int = 200,
               error: str | None = None, done: str | None = None, form: dict[str, str] | None = None) -> Response:  # fmt: skip
    case = _visible_case(wb, signed, number)
    account = signed.account
    actions = [
        ACTIONS[name] for name in UNIT_ACTIONS if case.state in ACTIONS[name].sources and may(account, f"case.{name}", case)
    ]
    if case.extension_request:
        actions = [a for a in actions if a.name != "extend"]
    office_actions = [
        ACTIONS[name] for name in OFFICE_CASE_ACTIONS
        if case.state in ACTIONS[name].sources and may(account, f"case.{name}", case)
        and (name not in ("grant", "refuse") or case.extension_request)
    ]  # fmt: skip
    return wb.render(
        request, "case.html", status_code=status_code, case=case, state_label=STATE_LABELS[case.state],
        deadline=deadline_view(wb.policy, case, utcnow(), wb.settings.tz), history=history_lines(history(wb.db, number)),
        attachments=case_attachments(wb.db, case.id) if may(account, "case.attachment", case) else [],
        actions={a.name: a for a in actions}, office_actions=office_actions, error=error, done=DONE_MESSAGES.get(done or ""), form=form or {},
        accepted=ACCEPTED_TEXT, max_upload=wb.settings.web_max_upload_bytes // (1024 * 1024) or 1,
        max_files=MAX_FILES_PER_ANSWER,
    )  # fmt: skip


@router.get("/cases")
def case_list(request: Request, signed: Annotated[SignedIn, Depends(signed_in)], unit: str | None = None) -> Response:
    """A unit member: their unit's cases. The office: every unit's, or one unit's with ``?unit=``."""
    wb = workbench(request)
    account = signed.account
    if account.role == "leader":
        return RedirectResponse("/leader", status_code=303)
    office = may_use(account, "desk.units")
    chosen = unit if office and unit else None
    rows = desk_rows(wb.policy, visible_cases(wb.db, account, unit=chosen), utcnow(), wb.settings.tz)
    units = case_units(wb.db) if office else []
    return wb.render(request, "case_list.html", rows=rows, units=units, chosen=chosen, office=office)


@router.get("/cases/{number}")
def case_page(request: Request, number: str, signed: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    return _case_page(request, workbench(request), signed, number, done=request.query_params.get("done"))


@router.get("/cases/{number}/attachments/{attachment_id}")
def case_attachment(
    request: Request, number: str, attachment_id: int, signed: Annotated[SignedIn, Depends(signed_in)]
) -> Response:
    wb = workbench(request)
    case = _visible_case(wb, signed, number)
    row = get_attachment(wb.db, case.id, attachment_id) if may(signed.account, "case.attachment", case) else None
    path = attachment_path(wb.settings, row) if row else None
    if row is None or path is None or not path.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(path, media_type=row.content_type, filename=row.filename, content_disposition_type="attachment",
                        headers={"cache-control": "private, no-store"})  # fmt: skip


def _act(request: Request, signed: SignedIn, number: str, action: str, expected_version: int, *,
         form: dict[str, str] | None = None, details: dict[str, object] | None = None,
         note: str | None = None, answer: str | None = None, attachments: list[str] | None = None,
         until: datetime | None = None) -> Response:  # fmt: skip
    """Apply the unit's action through the core; a refusal or a concurrent change shows the case again with why."""
    wb = workbench(request)
    try:
        # A unit member acts for their unit: the core checks it again (on_behalf_of), whatever the page allowed.
        on_behalf_of = signed.account.unit if signed.account.role == "unit" else None
        updated = act(wb.db, wb.policy, number, action, actor=actor_label(signed.account), on_behalf_of=on_behalf_of,
                      note=note, answer=answer, attachments=attachments, until=until,
                      expected_version=expected_version)  # fmt: skip
    except CaseConflict as exc:
        return _case_page(request, wb, signed, number, status_code=409, error=str(exc), form=form)
    except UserError as exc:
        return _case_page(request, wb, signed, number, status_code=400, error=str(exc), form=form)
    if action == "dispatch":  # the 督报 goes to the lead and co-units as the case is dispatched
        details = {**(details or {}), "notice": _issue_notice(wb, updated)}
    record_audit(wb.db, account=signed.account, action=f"case.{action}", target=number, client=client_address(request),
                 details={"version": updated.version, "state": updated.state, **(details or {})})  # fmt: skip
    return RedirectResponse(f"{case_url(number)}?done={action}", status_code=303)


def _issue_notice(wb: Workbench, case: Case) -> list[str]:
    """Write and send the dispatched case's 督报; the files written (relative to the reports folder), for the audit row.

    The case stands whatever happens here: a notice that cannot be written (its warning deleted meanwhile)
    or sent (a channel down: the ledger keeps the failure for the next sweep) is not the dispatch's failure.
    """
    try:
        issued = issue_case_notice(wb.db, wb.settings, case, config=units_config(wb.db, wb.settings))
    except UserError:
        return []
    reports = wb.settings.effective_reports_dir
    return [path.relative_to(reports).as_posix() for path in issued.files]


@router.post("/cases/{number}/ack")
def case_ack(request: Request, number: str, signed: Annotated[SignedIn, Depends(checked_post)],
             expected_version: Annotated[int, Form()]) -> Response:  # fmt: skip
    _acting_case(workbench(request), signed, number, "ack")
    return _act(request, signed, number, "ack", expected_version)


@router.post("/cases/{number}/start")
def case_start(request: Request, number: str, signed: Annotated[SignedIn, Depends(checked_post)],
               expected_version: Annotated[int, Form()]) -> Response:  # fmt: skip
    _acting_case(workbench(request), signed, number, "start")
    return _act(request, signed, number, "start", expected_version)


@router.post("/cases/{number}/return")
def case_return(
    request: Request,
    number: str,
    signed: Annotated[SignedIn, Depends(checked_post)],
    expected_version: Annotated[int, Form()],
    answer: Annotated[str, Form()] = "",
    attachments: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Hand in the answer (交单) with its attachments; the files are kept only if the answer is accepted."""
    wb = workbench(request)
    case = _acting_case(wb, signed, number, "return")
    form = {"answer": answer}
    uploads = [upload for upload in attachments or [] if upload.filename]
    if not answer.strip():
        return _case_page(request, wb, signed, number, status_code=400, error="请填写办理结果后再交单。", form=form)
    if len(uploads) > MAX_FILES_PER_ANSWER:
        return _case_page(request, wb, signed, number, status_code=400, form=form,
                          error=f"一次最多上传 {MAX_FILES_PER_ANSWER} 个附件。")  # fmt: skip
    limit = wb.settings.web_max_upload_bytes
    try:
        checked: list[CheckedFile] = [
            check_attachment(upload.filename or "", upload.file.read(limit + 1), max_bytes=limit) for upload in uploads
        ]
    except AttachmentRefused as exc:
        return _case_page(request, wb, signed, number, status_code=400, error=str(exc), form=form)
    rows = store_attachments(wb.db, wb.settings, case_id=case.id, account=signed.account, files=checked)
    response = _act(request, signed, number, "return", expected_version, form=form, answer=answer.strip(),
                    attachments=[f"attachment:{row.id} {row.filename}" for row in rows],
                    details={"attachments": [row.id for row in rows]})  # fmt: skip
    if response.status_code != 303:  # not accepted: the files go too
        remove_attachments(wb.db, wb.settings, rows)
    return response


@router.post("/cases/{number}/extend")
def case_extend(
    request: Request,
    number: str,
    signed: Annotated[SignedIn, Depends(checked_post)],
    expected_version: Annotated[int, Form()],
    until: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Ask for a later deadline: the new day (its deadline hour from the cases policy) and why."""
    wb = workbench(request)
    case = _acting_case(wb, signed, number, "extend")
    form = {"until": until, "reason": reason}
    try:
        day = date.fromisoformat(until.strip())
    except ValueError:
        return _case_page(request, wb, signed, number, status_code=400, error="请选择新的期限日期。", form=form)
    when = datetime.combine(day, wb.policy.deadline_time, tzinfo=wb.settings.tz)
    if case.deadline_at is not None and when <= case.deadline_at:
        return _case_page(request, wb, signed, number, status_code=400, form=form,
                          error=f"新的期限须晚于当前期限（{wb.local(case.deadline_at)}）。")  # fmt: skip
    return _act(request, signed, number, "extend", expected_version, form=form, note=reason.strip() or None, until=when,
                details={"until": when.isoformat()})  # fmt: skip


@router.post("/cases/{number}/office/{action}")
def case_office_action(
    request: Request,
    number: str,
    action: str,
    signed: Annotated[SignedIn, Depends(checked_post)],
    expected_version: Annotated[int, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    """The office's actions (派单, 办结, 退回, 批准或不予延期, 重新办理, 撤销), with a reason where one is needed;
    404 to an account that may not take them, as for a page that does not exist."""
    case = _visible_case(workbench(request), signed, number)
    if action not in OFFICE_CASE_ACTIONS or not may(signed.account, f"case.{action}", case):
        raise HTTPException(status_code=404)
    return _act(request, signed, number, action, expected_version, form={"note": note}, note=note.strip() or None)
