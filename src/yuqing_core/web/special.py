"""生成专报 from the event page: a run of the ``special-report/ad-hoc`` deployment, and a page that follows it.

The workbench does not write the report itself: it asks the Prefect API
(``PREFECT_API_URL``, with ``PREFECT_API_AUTH_STRING`` when the server wants
it) to run the deployment that ``yuqing serve`` serves, for the event, and
records the flow run's id in the audit log with the account. The progress
page reads the run's state and refreshes itself (``<meta http-equiv="refresh">``,
no script) until it is final; a completed run's files are the event's
special report in the reports archive, downloaded through ``/reports/download``.

Analysts and the head start one (``may_use(account, "report.special")``); the
office (duty officers too) may follow a run. To every other account both
routes are a 404. Without a Prefect API, or with one that refuses or does not
answer, the page says so in Chinese and how to start one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from yuqing_core.accounts import SignedIn, csrf_matches, record_audit
from yuqing_core.accounts.access import may_use
from yuqing_core.analysis.queries import get_event
from yuqing_core.reports.archive import ArchivedReport, event_special_reports
from yuqing_core.web.app import workbench
from yuqing_core.web.auth import CSRF_REFUSED, client_address, signed_in
from yuqing_core.web.office import Office

router = APIRouter()

DEPLOYMENT = "special-report/ad-hoc"
# A page waits for the API this long, and does not retry: the user sees the answer, or that there is none.
PREFECT_TIMEOUT_S = 10.0
REFRESH_S = 3
FINAL_STATES = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
STATE_LABELS = {
    "SCHEDULED": "已排队，等待执行",
    "PENDING": "准备中",
    "RUNNING": "正在生成",
    "PAUSED": "已暂停",
    "CANCELLING": "正在取消",
    "CANCELLED": "已取消",
    "COMPLETED": "已完成",
    "FAILED": "生成失败",
    "CRASHED": "异常中止",
}
HOW_TO_SERVE = (
    "请在服务器上另开终端运行 yuqing serve（它启动 Prefect 服务器并登记专报等部署），"
    "再以 PREFECT_API_URL=http://127.0.0.1:4200/api 和 PREFECT_API_AUTH_STRING"
    "（$YUQING_HOME/prefect-server/api-auth-string 中的那一行）启动工作台；"
    "也可以在命令行直接运行 yuqing report special --event 事件编号。"
)


class PrefectUnavailable(Exception):
    """The Prefect API is not configured, refuses this process, or does not answer; the message says which."""


@dataclass(frozen=True)
class SpecialRun:
    """One run of the special-report deployment, as the progress page shows it."""

    id: UUID
    event_id: int | None
    state: str  # Prefect's state type: SCHEDULED, RUNNING, COMPLETED …
    message: str
    started_at: datetime | None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)


def _client() -> Any:
    """A synchronous Prefect client for the configured API; never Prefect's ephemeral server."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise PrefectUnavailable("没有配置 Prefect 服务器（PREFECT_API_URL 未设置），无法生成专报。" + HOW_TO_SERVE)
    return get_client(sync_client=True, httpx_settings={"timeout": PREFECT_TIMEOUT_S})


def _refusal(exc: Exception) -> PrefectUnavailable:
    """What a failed call to the API means to the user."""
    import httpx
    from prefect.exceptions import ObjectNotFound

    if isinstance(exc, ObjectNotFound):
        return PrefectUnavailable(f"Prefect 服务器上没有「{DEPLOYMENT}」部署。" + HOW_TO_SERVE)
    if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code in (401, 403):
        return PrefectUnavailable(
            f"Prefect 服务器拒绝了工作台的请求（{exc.response.status_code}，凭据不对或没有提供）。" + HOW_TO_SERVE
        )
    if isinstance(exc, httpx.HTTPStatusError):
        return PrefectUnavailable(f"Prefect 服务器出错（{exc.response.status_code}），请稍后重试。")
    return PrefectUnavailable("连不上 Prefect 服务器（没有启动或地址不对）。" + HOW_TO_SERVE)


def _calling_api() -> Any:
    """No retries for a page: the client's exponential backoff would keep the browser waiting for a minute."""
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    return temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0})


def start_special_report(event_id: int) -> UUID:
    """A flow run of the served deployment for the event; its id."""
    import httpx
    from prefect.exceptions import ObjectNotFound

    with _calling_api():
        try:
            with _client() as client:
                deployment = client.read_deployment_by_name(DEPLOYMENT)
                run = client.create_flow_run_from_deployment(deployment.id, parameters={"event_id": event_id})
        except (httpx.HTTPError, ObjectNotFound) as exc:
            raise _refusal(exc) from exc
    found: UUID = run.id
    return found


def read_special_run(flow_run_id: UUID) -> SpecialRun | None:
    """The run, if it is one of the special-report deployment's; None for any other id."""
    import httpx
    from prefect.exceptions import ObjectNotFound

    with _calling_api():
        try:
            with _client() as client:
                run = client.read_flow_run(flow_run_id)
                deployment = client.read_deployment_by_name(DEPLOYMENT)
        except ObjectNotFound:
            return None
        except httpx.HTTPError as exc:
            if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 404:
                return None
            raise _refusal(exc) from exc
    if run.deployment_id != deployment.id:
        return None
    event_id = run.parameters.get("event_id")
    state = run.state
    return SpecialRun(
        run.id, event_id if isinstance(event_id, int) else None, state.type.value if state else "SCHEDULED",
        (state.message or "") if state else "", run.start_time,
    )  # fmt: skip


def special_desk(request: Request) -> SignedIn:
    """An account that may start a special report (analysts, the head); 404 for every other."""
    signed = signed_in(request)
    if not may_use(signed.account, "report.special"):
        raise HTTPException(status_code=404)
    return signed


def special_post(request: Request, csrf_token: Annotated[str, Form()] = "") -> SignedIn:
    signed = special_desk(request)
    if not csrf_matches(signed, csrf_token):
        raise HTTPException(status_code=403, detail=CSRF_REFUSED)
    return signed


@router.post("/events/{event_id}/special-report")
def start_from_event(request: Request, event_id: int, signed: Annotated[SignedIn, Depends(special_post)]) -> Response:
    """生成专报: run the deployment for the event, record the run in the audit log, follow it."""
    wb = workbench(request)
    if get_event(wb.db, event_id) is None:
        raise HTTPException(status_code=404)
    try:
        flow_run_id = start_special_report(event_id)
    except PrefectUnavailable as exc:
        return wb.render(request, "special_report.html", status_code=503, run=None, event_id=event_id, problem=str(exc),
                         reports=[], refresh=None)  # fmt: skip
    record_audit(wb.db, account=signed.account, action="report.special", target=f"event:{event_id}",
                 client=client_address(request), details={"flow_run_id": str(flow_run_id), "deployment": DEPLOYMENT})  # fmt: skip
    return RedirectResponse(f"/special-reports/{flow_run_id}", status_code=303)


@router.get("/special-reports/{flow_run_id}")
def special_progress(request: Request, flow_run_id: str, signed: Office) -> Response:
    """The run's state; refreshes itself until final; a completed run links the event's report files."""
    wb = workbench(request)
    try:
        run_id = UUID(flow_run_id)
    except ValueError:
        raise HTTPException(status_code=404) from None
    try:
        run = read_special_run(run_id)
    except PrefectUnavailable as exc:
        return wb.render(request, "special_report.html", status_code=503, run=None, event_id=None, problem=str(exc),
                         reports=[], refresh=None)  # fmt: skip
    if run is None:
        raise HTTPException(status_code=404)
    reports: list[ArchivedReport] = []
    if run.state == "COMPLETED" and run.event_id is not None:
        reports = event_special_reports(wb.settings.effective_reports_dir, run.event_id)
    return wb.render(request, "special_report.html", run=run, event_id=run.event_id, problem=None, reports=reports,
                     refresh=None if run.final else REFRESH_S)  # fmt: skip
