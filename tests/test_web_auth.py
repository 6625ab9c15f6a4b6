"""Signing in and out of the workbench: sessions in the database, CSRF on every post, login limits, security headers."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, text, update

from webdesk import PASSWORD, csrf_of, desk_with, login
from yuqing_core.accounts import disable_account
from yuqing_core.db.models import Base, LoginFailure, WebSession
from yuqing_core.timeutil import utcnow


def _sessions(desk) -> list[WebSession]:
    with desk.db.reader() as session:
        return list(session.scalars(select(WebSession)))


def test_sign_in_and_out(desk) -> None:
    account = desk.account("zhangsan", unit="县应急管理局", display_name="张三")
    browser = desk.client()
    assert browser.get("/cases").headers["location"] == "/login?next=%2Fcases"
    response = login(browser, "zhangsan", PASSWORD, next="/cases")
    assert response.status_code == 303 and response.headers["location"] == "/cases"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("yuqing_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    page = browser.get("/cases")
    assert page.status_code == 200 and "张三（县应急管理局）" in page.text and "本单位督办件" in page.text

    token = browser.cookies["yuqing_session"]
    stored = _sessions(desk)
    assert [s.token_hash for s in stored] == [hashlib.sha256(token.encode()).hexdigest()]
    with desk.db.engine.connect() as connection:
        assert token not in str(connection.execute(text("SELECT * FROM web_sessions")).all())

    out = browser.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert _sessions(desk) == []
    browser.cookies.set("yuqing_session", token)  # a copied cookie is worth nothing after logout
    assert browser.get("/cases").status_code == 303
    assert [(e.action, e.account_id, e.account_name) for e in desk.audit()] == [
        ("login", account.id, "zhangsan"),
        ("logout", account.id, "zhangsan"),
    ]


def test_wrong_password_unknown_name_and_disabled_account(desk) -> None:
    desk.account("zhangsan", unit="柳湾镇")
    for name, password in (("zhangsan", "wrong password!"), ("nobody", PASSWORD)):
        browser = desk.client()
        refused = login(browser, name, password)
        assert refused.status_code == 401 and "账号或密码不正确" in refused.text
        assert "yuqing_session" not in browser.cookies
    disable_account(desk.db, "zhangsan")
    refused = login(desk.client(), "zhangsan", PASSWORD)
    assert refused.status_code == 401 and "该账号已停用" in refused.text


def test_disabling_ends_a_signed_in_session(desk) -> None:
    desk.account("zhangsan", unit="柳湾镇")
    browser = desk.login("zhangsan")
    assert browser.get("/cases").status_code == 200
    disable_account(desk.db, "zhangsan")
    assert browser.get("/cases").status_code == 303


def test_passwords_are_stored_nowhere_in_clear(desk) -> None:
    desk.account("zhangsan", unit="柳湾镇")
    login(desk.client(), "zhangsan", "a wrong guess 123")
    desk.login("zhangsan")
    with desk.db.engine.connect() as connection:
        dumped = " ".join(str(connection.execute(text(f"SELECT * FROM {t.name}")).all()) for t in Base.metadata.sorted_tables)
    assert PASSWORD not in dumped and "a wrong guess 123" not in dumped


def test_five_failures_make_a_name_wait_even_with_the_right_password_across_workers(desk) -> None:
    desk.account("zhangsan", unit="柳湾镇")
    for _ in range(5):
        assert login(desk.client(), "zhangsan", "wrong password!").status_code == 401
    other_worker = desk_with(desk)  # another process with the same database
    throttled = login(other_worker.client(), "zhangsan", PASSWORD)
    assert throttled.status_code == 429 and "登录失败次数过多，请 15 分钟后再试" in throttled.text
    with desk.db.writer() as session:  # the failures leave the 15-minute window
        session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    assert login(desk.client(), "zhangsan", PASSWORD).status_code == 303
    with desk.db.reader() as session:
        assert session.scalars(select(LoginFailure).where(LoginFailure.name == "zhangsan")).all() == []


def test_one_client_address_trying_many_names_must_wait(desk) -> None:
    limited = desk_with(desk, web_login_max_failures_per_client=3)
    limited.account("zhangsan", unit="柳湾镇")
    for name in ("a1", "a2", "a3"):
        assert login(limited.client(), name, "wrong password!").status_code == 401
    throttled = login(limited.client(), "zhangsan", PASSWORD)
    assert throttled.status_code == 429 and "登录失败次数过多" in throttled.text


def test_posts_without_the_session_csrf_token_are_refused_and_change_nothing(desk) -> None:
    desk.account("zhangsan", unit="县应急管理局")
    case = desk.case("县应急管理局")
    browser = desk.login("zhangsan")
    number_url = browser.get("/cases").text.split('href="/cases/')[1].split('"')[0]
    for data in ({"expected_version": str(case.version)}, {"expected_version": str(case.version), "csrf_token": "forged"}):
        refused = browser.post(f"/cases/{number_url}/ack", data=data)
        assert refused.status_code == 403 and "表单已失效" in refused.text
    assert desk.reload(case).state == "dispatched" and desk.reload(case).version == case.version
    assert browser.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert len(_sessions(desk)) == 1 and browser.get("/cases").status_code == 200
    assert [e.action for e in desk.audit()] == ["login"]


def test_signing_in_again_replaces_the_browsers_session_and_huge_passwords_are_not_hashed(desk) -> None:
    desk.account("zhangsan", unit="柳湾镇")
    browser = desk.client()
    form_token = csrf_of(browser.get("/login").text)  # two tabs on the login page share this token
    login_cookie = browser.cookies["yuqing_login_csrf"]
    data = {"name": "zhangsan", "password": PASSWORD, "csrf_token": form_token}
    assert browser.post("/login", data=data).status_code == 303
    first = browser.cookies["yuqing_session"]
    browser.cookies.set("yuqing_login_csrf", login_cookie, path="/login")
    assert browser.post("/login", data=data).status_code == 303  # the second tab
    assert browser.cookies["yuqing_session"] != first and len(_sessions(desk)) == 1
    huge = login(desk.client(), "zhangsan", "x" * 5000)
    assert huge.status_code == 401 and "账号或密码不正确" in huge.text


def test_the_login_form_needs_its_own_token(desk) -> None:
    desk.account("zhangsan", unit="柳湾镇")
    browser = desk.client()
    refused = browser.post("/login", data={"name": "zhangsan", "password": PASSWORD, "csrf_token": "x"})
    assert refused.status_code == 403 and "登录表单已失效" in refused.text and "yuqing_session" not in browser.cookies


def test_redirect_after_login_stays_on_this_site(desk) -> None:
    desk.account("zhangsan", unit="柳湾镇")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert login(desk.client(), "zhangsan", PASSWORD, next=target).headers["location"] == "/"


def test_sessions_end_when_idle_or_too_old(desk) -> None:
    desk.account("zhangsan", unit="柳湾镇")
    browser = desk.login("zhangsan")
    with desk.db.writer() as session:  # unused for longer than the idle limit (2 h)
        session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(hours=2, minutes=1)))
    assert browser.get("/cases").status_code == 303 and _sessions(desk) == []

    browser = desk.login("zhangsan")
    with desk.db.writer() as session:  # busy all along, but signed in longer than the absolute limit (12 h)
        session.execute(update(WebSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1), last_seen_at=utcnow()))
    assert browser.get("/cases").status_code == 303 and _sessions(desk) == []

    browser = desk.login("zhangsan")
    with desk.db.writer() as session:  # used within the idle limit: the session lives on and is refreshed
        session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    assert browser.get("/cases").status_code == 200
    assert utcnow() - _sessions(desk)[0].last_seen_at < timedelta(minutes=1)


def test_cookie_is_secure_over_https_or_when_configured(desk) -> None:
    desk.account("zhangsan", unit="柳湾镇")
    over_https = login(desk.client("https://testserver"), "zhangsan", PASSWORD)
    assert "Secure" in next(h for h in over_https.headers.get_list("set-cookie") if h.startswith("yuqing_session="))
    # Configured (TLS ends at a proxy): even the login form's cookie is Secure, so a plain-http browser cannot sign in.
    configured = desk_with(desk, web_cookie_secure=True).client()
    assert "Secure" in configured.get("/login").headers["set-cookie"]
    assert login(configured, "zhangsan", PASSWORD).status_code == 403


def test_security_headers_on_every_response_and_no_script(desk) -> None:
    desk.account("zhangsan", unit="柳湾镇")
    anonymous = desk.client()
    browser = desk.login("zhangsan")
    responses = [
        anonymous.get("/login"),
        anonymous.get("/cases"),
        anonymous.get("/static/style.css"),
        browser.get("/cases"),
        browser.get("/cases/nothing-here"),
        browser.post("/logout", data={}),
    ]
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "<script" not in response.text
    assert responses[4].status_code == 404 and "没有找到" in responses[4].text
