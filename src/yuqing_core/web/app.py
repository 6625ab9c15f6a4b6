"""The application factory: the workbench's state, security headers, a body-size cap, error pages.

Example::

    app = create_app(get_settings())
    uvicorn.run(app, host="127.0.0.1", port=8800)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yuqing_core.accounts import ROLE_LABELS, SignedIn, actor_label
from yuqing_core.accounts.access import may_use
from yuqing_core.cases import CasePolicy, load_policy
from yuqing_core.config import MIB, Settings
from yuqing_core.db.database import Database
from yuqing_core.office import load_office
from yuqing_core.timeutil import format_local

STATIC_DIR = Path(__file__).parent / "static"
# One answer may carry this many files; the request body cap follows from it.
MAX_FILES_PER_ANSWER = 10
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
STATUS_MESSAGES = {
    400: "请求有误。",
    403: "您没有权限执行此操作。",
    404: "没有找到您要的页面或督办件。",
    405: "不支持这种请求方式。",
    413: "上传的内容过大。",
    422: "表单内容不完整或格式不对，请返回后检查再提交。",
}


class NotSignedIn(Exception):
    """The request needs a signed-in account and has none (or its session ended)."""


class Workbench:
    """What every request handler shares: settings, the database, the case policy, the templates."""

    def __init__(self, settings: Settings, db: Database, policy: CasePolicy) -> None:
        self.settings = settings
        self.db = db
        self.policy = policy
        self.templates = Environment(
            loader=PackageLoader("yuqing_core.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
        )
        self.templates.globals.update(role_labels=ROLE_LABELS, actor_label=actor_label, office_name=load_office(settings).name)
        self.templates.globals["may_use"] = may_use  # the nav shows each account the pages it may open
        self.templates.filters["local"] = self.local
        self.templates.filters["case_url"] = case_url

    def local(self, value: datetime | str | None) -> str:
        """A stored time (or an ISO text of one, as in an extension request) in the configured zone."""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return format_local(value, self.settings.tz)

    def render(self, request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        signed: SignedIn | None = getattr(request.state, "signed", None)
        html = self.templates.get_template(template).render(request=request, signed=signed, **context)
        return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})


def case_url(number: str) -> str:
    """The case page's path; the number (督〔2026〕17号) percent-encoded.

    >>> case_url("督〔2026〕17号")
    '/cases/%E7%9D%A3%E3%80%942026%E3%80%9517%E5%8F%B7'
    """
    return "/cases/" + _quote(number)


def workbench(request: Request) -> Workbench:
    found: Workbench = request.app.state.workbench
    return found


class SecurityHeaders:
    """Adds the security headers to every response, pages, files and errors alike."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in SECURITY_HEADERS if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses a request whose declared body exceeds ``max_bytes`` before anything reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope.get("headers", [])).get(b"content-length", b"0")
            if not length.isdigit() or int(length) > self.max_bytes:
                body = "<!doctype html><meta charset=utf-8><title>上传内容过大</title><p>上传的内容过大，请减少或压缩附件后重试。</p>"
                response = HTMLResponse(body, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: Settings, *, db: Database | None = None) -> FastAPI:
    """The workbench over the configured database (schema checked) and cases policy."""
    from yuqing_core.db import get_database
    from yuqing_core.web import assessments, auth, cases, events, intake, items, leader, notices, office, risk, special

    app = FastAPI(title="yuqing", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.workbench = Workbench(settings, db or get_database(settings), load_policy(settings.cases_file))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(auth.router)
    app.include_router(cases.router)
    app.include_router(leader.router)
    app.include_router(risk.router)
    app.include_router(notices.router)
    app.include_router(intake.router)
    app.include_router(office.router)
    app.include_router(events.router)
    app.include_router(items.router)
    app.include_router(special.router)
    app.include_router(assessments.router)

    @app.exception_handler(NotSignedIn)
    async def _sign_in_first(request: Request, _exc: NotSignedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        next_part = f"?next={_quote(target)}" if request.method == "GET" and target != "/" else ""
        return RedirectResponse(f"/login{next_part}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _error_page(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) and exc.detail and not exc.detail.isascii() else None
        return workbench(request).render(
            request, "message.html", status_code=exc.status_code,
            message=message or STATUS_MESSAGES.get(exc.status_code, "出错了。"),
        )  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def _incomplete_form(request: Request, _exc: RequestValidationError) -> Response:
        return workbench(request).render(request, "message.html", status_code=422, message=STATUS_MESSAGES[422])

    # The last added runs first: headers go on every response, including the body cap's refusal.
    app.add_middleware(BodyLimit, max_bytes=settings.web_max_upload_bytes * MAX_FILES_PER_ANSWER + MIB)
    app.add_middleware(SecurityHeaders)
    return app


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
