"""Signing in and out, the session cookie, and the CSRF check every form post passes.

The session cookie holds a random token (HttpOnly, SameSite=Lax, Secure over
https or when ``web_cookie_secure`` says so); the database holds its hash.
Every form carries the session's CSRF token in a hidden field; the login
form, before any session exists, carries a token that must equal a cookie
set with the form (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from yuqing_core.accounts import (
    LoginRefused,
    LoginThrottled,
    SignedIn,
    authenticate,
    csrf_matches,
    end_session,
    record_audit,
    resolve_session,
    start_session,
)
from yuqing_core.web.app import NotSignedIn, Workbench, workbench

SESSION_COOKIE = "yuqing_session"
LOGIN_CSRF_COOKIE = "yuqing_login_csrf"
CSRF_REFUSED = "表单已失效（可能停留过久或已在别处退出），请刷新页面后重新提交。"

router = APIRouter()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _secure(request: Request, wb: Workbench) -> bool:
    return wb.settings.web_cookie_secure or request.url.scheme == "https"


def signed_in(request: Request) -> SignedIn:
    """The request's account (its session refreshed), or ``NotSignedIn``, which sends the browser to the login page."""
    wb = workbench(request)
    found = resolve_session(wb.db, wb.settings, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise NotSignedIn()
    request.state.signed = found
    return found


def checked_post(request: Request, csrf_token: Annotated[str, Form()] = "") -> SignedIn:
    """The account of a form post whose CSRF token is its session's; 403 otherwise (nothing is changed)."""
    signed = signed_in(request)
    if not csrf_matches(signed, csrf_token):
        raise HTTPException(status_code=403, detail=CSRF_REFUSED)
    return signed


def _safe_next(target: str | None) -> str:
    """Only a path of this site: ``/cases``, never ``//evil.example`` or ``https://...``."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _login_page(request: Request, *, error: str | None = None, status_code: int = 200, name: str = "") -> Response:
    wb = workbench(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = wb.render(request, "login.html", status_code=status_code, error=error, name=name, login_csrf=token,
                         next_path=_safe_next(request.query_params.get("next")))  # fmt: skip
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request, wb), path="/login")
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    wb = workbench(request)
    if resolve_session(wb.db, wb.settings, request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    wb = workbench(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_page(request, error="登录表单已失效，请重新输入后登录。", status_code=403, name=name)
    if not name.strip() or not password:
        return _login_page(request, error="请输入账号和密码。", status_code=400, name=name)
    client = client_address(request)
    try:
        account = authenticate(wb.db, wb.settings, name, password, client=client)
    except LoginRefused as exc:
        return _login_page(request, error=str(exc), status_code=429 if isinstance(exc, LoginThrottled) else 401, name=name)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # a new sign-in replaces whatever session this browser had
        end_session(wb.db, previous)
    token, _session = start_session(wb.db, account, client=client)
    record_audit(wb.db, account=account, action="login", client=client)
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=wb.settings.web_session_max_s, httponly=True, samesite="lax",
                        secure=_secure(request, wb), path="/")  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, signed: Annotated[SignedIn, Depends(checked_post)]) -> Response:
    wb = workbench(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(wb.db, token)
    record_audit(wb.db, account=signed.account, action="logout", client=client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(signed: Annotated[SignedIn, Depends(signed_in)]) -> Response:
    """Each role's first page: the unit's cases, every case for the office, the overview for leaders."""
    if signed.account.role == "leader":
        return RedirectResponse("/leader", status_code=303)
    return RedirectResponse("/cases", status_code=303)
