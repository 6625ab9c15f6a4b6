"""Notices for units (督报, 网络风险提示函) and their acknowledgements (回执).

A unit member lists the notices addressed to their unit, opens one and
acknowledges it with an optional note; the office lists every notice with
the units that have acknowledged it and those that have not. A notice not
addressed to the account's unit answers 404, as a missing one does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from yuqing_core.accounts import SignedIn, record_audit
from yuqing_core.accounts.access import may_notice, may_use
from yuqing_core.reports.receipts import MAX_NOTE_CHARS, UnitNotice, acknowledge, get_notice, list_notices, receipts_of
from yuqing_core.web.app import Workbench, workbench
from yuqing_core.web.auth import checked_post, client_address, signed_in

router = APIRouter()


@router.get("/notices")
def notice_list(request: Request, signed: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    """A unit member: the notices to their unit, unacknowledged first. The office: every notice, who has and has not signed."""
    wb = workbench(request)
    account = signed.account
    if not may_use(account, "desk.notices"):
        raise HTTPException(status_code=404)
    office = may_use(account, "desk.notice_receipts")
    notices = list_notices(wb.db, wb.settings, unit=None if office else account.unit)
    receipts = receipts_of(wb.db, notices)
    if not office:
        notices.sort(key=lambda n: account.unit in receipts[(n.kind, n.id)])  # stable: newest first within each group
    return wb.render(request, "notice_list.html", notices=notices, receipts=receipts, office=office)


@router.get("/notices/{kind}/{notice_id}")
def notice_page(request: Request, kind: str, notice_id: int, signed: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    wb = workbench(request)
    notice = _visible_notice(wb, signed, kind, notice_id)
    return _notice_page(request, wb, signed, notice, done=request.query_params.get("done") == "ack")


@router.post("/notices/{kind}/{notice_id}/ack")
def notice_ack(
    request: Request,
    kind: str,
    notice_id: int,
    signed: Annotated[SignedIn, Depends(checked_post)],
    note: Annotated[str, Form()] = "",
) -> Response:
    """回执: the unit signs for the notice, once; a second receipt changes nothing."""
    wb = workbench(request)
    notice = _visible_notice(wb, signed, kind, notice_id)
    account = signed.account
    if not may_notice(account, "notice.ack", notice.units) or account.unit is None:
        raise HTTPException(status_code=404)
    if len(note.strip()) > MAX_NOTE_CHARS:
        return _notice_page(request, wb, signed, notice, status_code=400, note=note,
                            error=f"说明不能超过 {MAX_NOTE_CHARS} 字。")  # fmt: skip
    if acknowledge(wb.db, notice, unit=account.unit, account=account, note=note):
        record_audit(wb.db, account=account, action="notice.ack", target=notice.number or notice.path,
                     client=client_address(request), details={"kind": notice.kind, "id": notice.id})  # fmt: skip
    return RedirectResponse(f"{notice.path}?done=ack", status_code=303)


def _visible_notice(wb: Workbench, signed: SignedIn, kind: str, notice_id: int) -> UnitNotice:
    notice = get_notice(wb.db, wb.settings, kind, notice_id)
    if notice is None or not may_notice(signed.account, "notice.view", notice.units):
        raise HTTPException(status_code=404, detail="没有找到这份通知。")
    return notice


def _notice_page(request: Request, wb: Workbench, signed: SignedIn, notice: UnitNotice, *, status_code: int = 200,
                 done: bool = False, error: str | None = None, note: str = "") -> Response:  # fmt: skip
    receipts = receipts_of(wb.db, [notice])[(notice.kind, notice.id)]
    account = signed.account
    may_ack = may_notice(account, "notice.ack", notice.units)
    own = receipts.get(account.unit) if may_ack and account.unit else None
    return wb.render(request, "notice.html", status_code=status_code, notice=notice, receipts=receipts, own=own,
                     may_ack=may_ack, office=may_use(account, "desk.notice_receipts"), done=done, error=error,
                     note=note)  # fmt: skip
