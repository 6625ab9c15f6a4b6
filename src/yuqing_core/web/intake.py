"""报送: a unit member reports a lead to the centre; the office works through the queue of leads.

The lead -- a link, a text, an optional screenshot or document -- becomes
an item of the source 单位报送 through the core (``collect.leads``), so the
next analyze run treats it like any collected item. The link is never
fetched by the web server. The office's queue shows the newest leads first
with the reporting unit and, once analysed, the item's event; a unit member
sees the form and their own unit's leads. Leaders have no such page (404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from yuqing_core.accounts import SignedIn, record_audit
from yuqing_core.accounts.access import may_lead, may_use
from yuqing_core.cases.attachments import ACCEPTED_TEXT, AttachmentRefused, CheckedFile, check_attachment
from yuqing_core.collect.leads import (
    MAX_LEAD_TEXT_CHARS,
    LeadRefused,
    get_lead,
    lead_file_path,
    list_leads,
    report_lead,
)
from yuqing_core.config import MIB
from yuqing_core.web.app import workbench
from yuqing_core.web.auth import checked_post, client_address, signed_in

router = APIRouter()


@router.get("/intake")
def intake_page(request: Request, signed: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    """The office: every unit's leads, newest first. A unit member: the form and their unit's leads."""
    return _intake_page(request, signed, done=request.query_params.get("done") == "1")


@router.post("/intake")
def intake_report(
    request: Request,
    signed: Annotated[SignedIn, Depends(checked_post)],
    url: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    wb = workbench(request)
    account = signed.account
    if not may_use(account, "lead.report"):
        raise HTTPException(status_code=404)
    form = {"url": url, "text": text}
    limit = wb.settings.web_max_upload_bytes
    try:
        checked: CheckedFile | None = None
        if file is not None and file.filename:
            checked = check_attachment(file.filename, file.file.read(limit + 1), max_bytes=limit)
        lead = report_lead(wb.db, wb.settings, account=account, text=text, url=url, file=checked)
    except (LeadRefused, AttachmentRefused) as exc:
        return _intake_page(request, signed, status_code=400, error=str(exc), form=form)
    record_audit(wb.db, account=account, action="lead.report", target=f"lead:{lead.id}", client=client_address(request),
                 details={"item": lead.item_id, "file": lead.filename})  # fmt: skip
    return RedirectResponse("/intake?done=1", status_code=303)


@router.get("/intake/{lead_id}/file")
def intake_file(request: Request, lead_id: int, signed: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    wb = workbench(request)
    lead = get_lead(wb.db, lead_id)
    path = lead_file_path(wb.settings, lead) if lead and may_lead(signed.account, "lead.attachment", lead.unit) else None
    if lead is None or path is None or not path.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(path, media_type=lead.content_type, filename=lead.filename, content_disposition_type="attachment",
                        headers={"cache-control": "private, no-store"})  # fmt: skip


def _intake_page(request: Request, signed: SignedIn, *, status_code: int = 200, done: bool = False,
                 error: str | None = None, form: dict[str, str] | None = None) -> Response:  # fmt: skip
    wb = workbench(request)
    account = signed.account
    office = may_use(account, "desk.intake")
    if not office and not may_use(account, "lead.report"):
        raise HTTPException(status_code=404)
    rows = list_leads(wb.db, unit=None if office else account.unit)
    return wb.render(request, "intake.html", status_code=status_code, rows=rows, office=office, done=done, error=error,
                     form=form or {}, max_text=MAX_LEAD_TEXT_CHARS, max_upload=wb.settings.web_max_upload_bytes // MIB,
                     accepted=ACCEPTED_TEXT)  # fmt: skip
