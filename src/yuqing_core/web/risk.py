"""The risk library editor (风险库): the active version's YAML, validate, preview (backtest and diff), import.

The office reads it (``risk.read``); analysts and the head edit (``risk.edit``):
the duty officer sees the page and the versions but posts nothing (403);
leaders and units get 404 everywhere. "Validate" lists every problem with its
line and column, as ``yuqing risk validate`` does (units checked against the
units table); "preview" adds the backtest over the last N days and a line diff
against the active version. "Import" stores a new version with the account as
its author and a required note -- only text that validated: the page carries
the validated text's digest, the import re-validates exactly the text it is
sent, and refuses text that differs, or a library someone else has changed
since the editor started from it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from yuqing_core.accounts import SignedIn, actor_label, record_audit
from yuqing_core.accounts.access import may_use
from yuqing_core.errors import NotFound
from yuqing_core.risk.backtest import EXAMPLES, backtest
from yuqing_core.risk.editing import check_library_text, known_unit_names, library_summary, line_diff, text_digest
from yuqing_core.risk.library import UNITS_NOT_CHECKED, describe_changes, diff_libraries, load_library_text
from yuqing_core.risk.versions import NoActiveLibrary, VersionInfo, import_library, list_versions, version_content
from yuqing_core.web.app import Workbench, workbench
from yuqing_core.web.auth import checked_post, client_address, signed_in
from yuqing_core.yamlfile import ConfigFileError

router = APIRouter()

BACKTEST_DAYS = 14
MAX_BACKTEST_DAYS = 90
READ_ONLY = "您只能查看风险库：导入新版本由分析员或中心负责人进行。"
NOT_VALIDATED = "提交的文本与校验通过的文本不一致（或尚未校验），请先校验再导入。"
NOTE_REQUIRED = "请填写本次修改的说明后再导入。"
UNITS_TABLE_EMPTY = "单位表为空，未能核对风险点的责任单位是否存在。"


def _reader(signed: SignedIn) -> None:
    if not may_use(signed.account, "risk.read"):
        raise HTTPException(status_code=404)


def _editor(signed: SignedIn) -> None:
    _reader(signed)
    if not may_use(signed.account, "risk.edit"):
        raise HTTPException(status_code=403, detail=READ_ONLY)


def _active(wb: Workbench) -> tuple[VersionInfo | None, str]:
    try:
        return version_content(wb.db)
    except NoActiveLibrary:
        return None, ""


def _page(request: Request, wb: Workbench, signed: SignedIn, *, text: str | None = None, base_version: int | None = None,
          status_code: int = 200, **context: Any) -> Response:  # fmt: skip
    active, active_text = _active(wb)
    values: dict[str, Any] = {"problems": [], "summary": None, "validated": None, "report": None, "diff": [],
                              "changes": [], "error": None, "done": None, "note": "", "days": BACKTEST_DAYS}  # fmt: skip
    values.update(context)
    return wb.render(
        request, "risk.html", status_code=status_code, active=active, versions=list_versions(wb.db),
        text=active_text if text is None else text, editable=may_use(signed.account, "risk.edit"),
        base_version=(active.version if active else 0) if base_version is None else base_version,
        units_checked=known_unit_names(wb.db) is not None, units_table_empty=UNITS_TABLE_EMPTY,
        units_not_checked=UNITS_NOT_CHECKED, examples=EXAMPLES, **values,
    )  # fmt: skip


@router.get("/risk")
def risk_page(request: Request, signed: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    _reader(signed)
    wb = workbench(request)
    done = request.query_params.get("done", "")
    return _page(request, wb, signed, done=f"已导入为第 {done} 版。" if done.isdigit() else None)


@router.get("/risk/versions/{number}")
def risk_version_page(request: Request, number: int, signed: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    _reader(signed)
    wb = workbench(request)
    if number < 1:
        raise HTTPException(status_code=404)
    try:
        info, content = version_content(wb.db, number)
    except NotFound:
        raise HTTPException(status_code=404) from None
    return wb.render(request, "risk_version.html", info=info, content=content, changes=describe_changes(info.changes))


def _checked(request: Request, wb: Workbench, signed: SignedIn, text: str, base_version: int, days: int,
             **context: Any) -> tuple[Any, Response | None]:  # fmt: skip
    """The validated library, or the page listing every problem (400)."""
    try:
        return check_library_text(wb.db, text), None
    except ConfigFileError as exc:
        return None, _page(request, wb, signed, text=text, base_version=base_version, status_code=400,
                           problems=exc.problems, days=days, **context)  # fmt: skip


@router.post("/risk/check")
def risk_check(
    request: Request,
    signed: Annotated[SignedIn, Depends(checked_post)],
    text: Annotated[str, Form()] = "",
    step: Annotated[str, Form()] = "validate",
    base_version: Annotated[int, Form()] = 0,
    days: Annotated[int, Form()] = BACKTEST_DAYS,
) -> Response:
    """Validate the text; with ``step=preview`` also backtest it and compare it with the active version."""
    _editor(signed)
    wb = workbench(request)
    days = min(max(days, 1), MAX_BACKTEST_DAYS)
    loaded, refused = _checked(request, wb, signed, text, base_version, days)
    if refused is not None:
        return refused
    context: dict[str, Any] = {}
    if step == "preview":
        active, active_text = _active(wb)
        old_name = f"第 {active.version} 版" if active else "空库"
        current = load_library_text(active_text, old_name) if active else None
        context = {
            "report": backtest(wb.db, loaded.spec, days=days),
            "diff": line_diff(active_text, loaded.content, old_name, "修改稿"),
            "changes": describe_changes(diff_libraries(current, loaded.spec)),
        }
    return _page(request, wb, signed, text=loaded.content, base_version=base_version, summary=library_summary(loaded.spec),
                 validated=text_digest(loaded.content), days=days, **context)  # fmt: skip


@router.post("/risk/import")
def risk_import(
    request: Request,
    signed: Annotated[SignedIn, Depends(checked_post)],
    text: Annotated[str, Form()] = "",
    validated: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    base_version: Annotated[int, Form()] = 0,
    days: Annotated[int, Form()] = BACKTEST_DAYS,
) -> Response:
    """A new version from exactly the text that validated, with the account as author and the note; audited."""
    _editor(signed)
    wb = workbench(request)
    note = note.strip()
    if not validated or validated != text_digest(text):
        return _page(request, wb, signed, text=text, base_version=base_version, status_code=400, error=NOT_VALIDATED,
                     note=note, days=days)  # fmt: skip
    keep = {"validated": validated, "note": note, "days": days}
    if not note:
        return _page(request, wb, signed, text=text, base_version=base_version, status_code=400, error=NOTE_REQUIRED, **keep)
    active, _ = _active(wb)
    if (active.version if active else 0) != base_version:
        message = f"风险库已在您修改期间更新为第 {active.version if active else 0} 版，请查看最新版本后重新修改。"
        return _page(request, wb, signed, text=text, base_version=base_version, status_code=409, error=message, **keep)
    loaded, refused = _checked(request, wb, signed, text, base_version, days, note=note)
    if refused is not None:
        return refused
    result = import_library(wb.db, loaded, author=actor_label(signed.account), note=note)
    version = result.version
    if not result.created:
        return _page(request, wb, signed, text=text, error=f"与当前第 {version.version} 版相同，未生成新版本。")
    record_audit(wb.db, account=signed.account, action="risk.import", target=f"风险库第 {version.version} 版",
                 client=client_address(request),
                 details={"version": version.version, "sha1": loaded.content_sha1, "note": note})  # fmt: skip
    return RedirectResponse(f"/risk?done={version.version}", status_code=303)
