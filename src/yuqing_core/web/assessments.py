"""研判 on the event page: an analyst drafts (the system's facts filled in) and submits; the office head approves
(签发) or sends it back with a reason.

Every step goes through ``cases.assessments`` and is recorded in the audit log with the account; the
actor stored on the 研判 is ``actor_label(account)``, never a typed name. An account without the right
(``assessment.draft`` / ``assessment.approve``) gets 404, as for a page that does not exist.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from yuqing_core.accounts import SignedIn, actor_label, record_audit
from yuqing_core.accounts.access import DeskAction, may_use
from yuqing_core.cases.assessments import (
    approve_assessment,
    draft_assessment,
    edit_assessment,
    get_assessment,
    return_assessment,
    submit_assessment,
)
from yuqing_core.errors import NotFound, UserError
from yuqing_core.web.app import workbench
from yuqing_core.web.auth import client_address
from yuqing_core.web.office import OfficePost

router = APIRouter()
DONE = {
    "saved": "研判草稿已保存。",
    "submitted": "研判已提交，待中心主任签发。",
    "approved": "研判已签发。",
    "returned": "研判已退回起草人。",
}


def _allowed(signed: SignedIn, desk: DeskAction) -> None:
    if not may_use(signed.account, desk):
        raise HTTPException(status_code=404)


def _back(event_id: int, done: str | None = None, error: str | None = None) -> Response:
    query = f"?assessment={done}" if done else ""
    if error:
        query = f"?assessment_error={quote(error)}"
    return RedirectResponse(f"/events/{event_id}{query}#assessment", status_code=303)


@router.post("/events/{event_id}/assessments")
def assessment_save(
    request: Request,
    event_id: int,
    signed: OfficePost,
    nature: Annotated[str, Form()] = "",
    trend: Annotated[str, Form()] = "",
    risks: Annotated[str, Form()] = "",
    handling: Annotated[str, Form()] = "",
    talking_points: Annotated[str, Form()] = "",
    assessment_id: Annotated[int | None, Form()] = None,
    then: Annotated[str, Form()] = "save",
) -> Response:
    """Save the draft (a new one, or the editable one the form showed); with ``then=submit`` also submit it."""
    _allowed(signed, "assessment.draft")
    wb = workbench(request)
    parts = {"nature": nature, "trend": trend, "risks": risks, "handling": handling, "talking_points": talking_points}
    try:
        if assessment_id is None:
            row = draft_assessment(wb.db, event_id, actor=actor_label(signed.account), parts=parts, tz=wb.settings.tz)
        else:
            if get_assessment(wb.db, assessment_id).event_id != event_id:
                raise HTTPException(status_code=404)
            row = edit_assessment(wb.db, assessment_id, parts)
        if then == "submit":
            row = submit_assessment(wb.db, row.id)
    except NotFound:
        raise HTTPException(status_code=404) from None
    except UserError as exc:
        return _back(event_id, error=str(exc))
    record_audit(wb.db, account=signed.account, action=f"assessment.{'submit' if then == 'submit' else 'save'}",
                 target=f"assessment:{row.id}", client=client_address(request), details={"event": event_id})  # fmt: skip
    return _back(event_id, "submitted" if then == "submit" else "saved")


@router.post("/assessments/{assessment_id}/approve")
def assessment_approve(request: Request, assessment_id: int, signed: OfficePost) -> Response:
    """签发 by the office head."""
    _allowed(signed, "assessment.approve")
    wb = workbench(request)
    try:
        row = approve_assessment(wb.db, assessment_id, actor=actor_label(signed.account))
    except NotFound:
        raise HTTPException(status_code=404) from None
    except UserError as exc:
        return _back(get_assessment(wb.db, assessment_id).event_id, error=str(exc))
    record_audit(wb.db, account=signed.account, action="assessment.approve", target=f"assessment:{row.id}",
                 client=client_address(request), details={"event": row.event_id})  # fmt: skip
    return _back(row.event_id, "approved")


@router.post("/assessments/{assessment_id}/return")
def assessment_return(request: Request, assessment_id: int, signed: OfficePost, reason: Annotated[str, Form()] = "") -> Response:
    """The office head sends the 研判 back to the analyst, saying why."""
    _allowed(signed, "assessment.approve")
    wb = workbench(request)
    try:
        row = return_assessment(wb.db, assessment_id, reason=reason)
    except NotFound:
        raise HTTPException(status_code=404) from None
    except UserError as exc:
        return _back(get_assessment(wb.db, assessment_id).event_id, error=str(exc))
    record_audit(wb.db, account=signed.account, action="assessment.return", target=f"assessment:{row.id}",
                 client=client_address(request), details={"event": row.event_id, "reason": row.returned_reason})  # fmt: skip
    return _back(row.event_id, "returned")
