"""A signed-in browser against the real workbench app: accounts, units, cases, and the forms' hidden tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from yuqing_core.accounts import add_account
from yuqing_core.accounts import service as accounts_service
from yuqing_core.cases import CasePolicy, get_case, open_case
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Account, AuditEntry, Case
from yuqing_core.notify import import_units
from yuqing_core.notify.units import UnitSpec
from yuqing_core.timeutil import utcnow
from yuqing_core.web import create_app

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
UNITS = [UnitSpec(name="县应急管理局"), UnitSpec(name="柳湾镇", kind="township"), UnitSpec(name="白沙镇", kind="township")]


@dataclass
class Desk:
    app: FastAPI
    settings: Settings
    db: Database

    def account(self, name: str, role: str = "unit", unit: str | None = None, display_name: str | None = None) -> Account:
        return add_account(self.db, name, role=role, unit=unit, display_name=display_name, password=PASSWORD)[0]

    def client(self, base_url: str = "http://testserver") -> TestClient:
        return TestClient(self.app, base_url=base_url, follow_redirects=False)

    def login(self, name: str, password: str = PASSWORD, *, client: TestClient | None = None) -> TestClient:
        browser = client or self.client()
        response = login(browser, name, password)
        assert response.status_code == 303, response.text
        return browser

    def case(self, lead_unit: str, *, co_units: tuple[str, ...] = (), dispatch: bool = True, now: datetime | None = None,
             title: str = "东坪村异味") -> Case:  # fmt: skip
        return open_case(self.db, CasePolicy(), actor="舆情中心", title=title, lead_unit=lead_unit, co_units=list(co_units),
                         dispatch=dispatch, now=now or utcnow())  # fmt: skip

    def reload(self, case: Case) -> Case:
        return get_case(self.db, case.number)

    def audit(self) -> list[AuditEntry]:
        with self.db.reader() as session:
            return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def login(browser: TestClient, name: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    page = browser.get("/login")
    return browser.post("/login", data={"name": name, "password": password, "csrf_token": csrf_of(page.text), **extra})


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def days_ago(n: int) -> datetime:
    return utcnow() - timedelta(days=n)


@pytest.fixture
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters: the tests sign in often; the hashing itself is tested in test_web_accounts."""
    monkeypatch.setattr(accounts_service, "password_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def desk(settings: Settings, db: Database, quick_hashes: None) -> Iterator[Desk]:
    import_units(db, UNITS)
    yield Desk(create_app(settings, db=db), settings, db)


def desk_with(desk: Desk, **changes: object) -> Desk:
    """The same database under other settings (a second worker, a smaller upload limit)."""
    settings = desk.settings.model_copy(update=changes)
    return Desk(create_app(settings, db=desk.db), settings, desk.db)
