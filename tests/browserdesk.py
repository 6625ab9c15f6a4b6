"""The real workbench in a real browser: a seeded county served over a socket, the system's Chromium driving it.

``seed_county`` builds a realistic office through the core alone: the bundled
sample county's units, sources, risk library and last week of posts, analysed
into events and warnings; a dispatched case for each warning that names a unit,
with its 舆情督报 (a notice the unit acknowledges), plus an overdue one and a
fresh one; and an account for each role. ``serve`` runs ``yuqing web``'s app
with uvicorn in a background thread on 127.0.0.1 and a free port.
``scripts/screenshots.py`` uses both, as the fixtures below do.

Chromium comes from the system's package manager (``apt-get install chromium``),
found as ``YUQING_CHROMIUM`` or ``chromium``/``chromium-browser`` on PATH, never
downloaded by ``playwright install``. Without it the browser tests skip with the
reason, except under ``CI=true``, where that fails the run.

One server for the session, one browser per test module; each test gets a
fresh context (no cookies), a phone-sized page, and a check at its end that the browser logged no errors and
every page carried the Content-Security-Policy header.

To test a new page: give ``seed_county`` the data the page shows (through the
core, as the rest is made), add an account to ``Accounts`` if a new role needs
one, and write the test with the ``visit`` fixture (``visit.sign_in(name)``,
then Playwright's ``visit.page``); for the desktop width, the ``desktop_visit`` fixture.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from yuqing_core.accounts import add_account
from yuqing_core.analysis import analyze
from yuqing_core.analysis.queries import list_warnings
from yuqing_core.cases import CasePolicy, list_cases, open_case, origin_of
from yuqing_core.collect.archive import import_archive
from yuqing_core.collect.sources import import_sources, load_sources_file
from yuqing_core.config import Settings
from yuqing_core.db import Database, upgrade
from yuqing_core.demo import item_time, load_county, sources_yaml
from yuqing_core.notify import import_units
from yuqing_core.notify.units import load_units_file
from yuqing_core.reports.case_notice import write_case_notice
from yuqing_core.risk.library import load_library_file
from yuqing_core.risk.versions import import_library
from yuqing_core.timeutil import SHANGHAI, utcnow
from yuqing_core.web import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Response

CHROMIUM_NAMES = ("chromium", "chromium-browser")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PASSWORD = "青禾县 correct horse 2026"
OFFICE = "县网络舆情应急监控中心"
UNIT_A = "县应急管理局"
UNIT_B = "县人社局"
# Nothing is delivered in the browser tests: the units' channels point at a closed local port.
NO_INBOX = "127.0.0.1:9/inbox"
SERVER_START_TIMEOUT_S = 30
LOAD_FAILED = re.compile(r"Failed to load resource: the server responded with a status of \d+")


def find_chromium() -> str | None:
    """The system's Chromium: ``YUQING_CHROMIUM`` if set, else ``chromium`` or ``chromium-browser`` on PATH."""
    configured = os.environ.get("YUQING_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


# --- the county ----------------------------------------------------------------


@dataclass(frozen=True)
class Accounts:
    """Login names (all with ``PASSWORD``)."""

    analyst: str = "fenxi"
    duty: str = "zhiban"  # the office's duty officer
    head: str = "zhuren"  # the head of the office
    unit_a: str = "yingji"  # a member of UNIT_A
    unit_b: str = "renshe"  # a member of UNIT_B
    leader: str = "lingdao"
    throttled: str = "shizhe"  # a member of UNIT_B whom the rate-limit test locks out


@dataclass(frozen=True)
class County:
    settings: Settings
    db: Database
    accounts: Accounts
    cases: dict[str, list[str]]  # lead unit -> the numbers of its dispatched cases
    walk_case: str  # a fresh case of UNIT_A that only the unit member's walk-through acts on


def seed_county(home: Path, *, now: datetime | None = None) -> County:
    """A migrated SQLite database under ``home`` holding the sample county's week, analysed, with cases and accounts."""
    now = now or utcnow()
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'yuqing.db'}", county_name="青禾县", office_name=OFFICE)
    db = Database(settings.effective_database_url)
    upgrade(db)
    demo = resources.files("yuqing_core.demo")

    units_file = home / "units.yaml"
    units_file.write_text(demo.joinpath("units.yaml").read_text(encoding="utf-8").replace("{inbox}", NO_INBOX), encoding="utf-8")
    import_units(db, load_units_file(units_file), now=now)
    county = load_county()
    sources_file = home / "sources.yaml"
    sources_file.write_text(sources_yaml(county, "http://127.0.0.1:9"), encoding="utf-8")
    import_sources(db, load_sources_file(sources_file), settings, now=now - timedelta(days=8))
    _import_posts(db, settings, home, county.items, now)
    risk_file = home / "risk.yaml"
    risk_file.write_text(demo.joinpath("risk.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    import_library(db, load_library_file(risk_file), author="分析员", note="示例风险库", now=now - timedelta(days=8))
    analyze(db, now=now)

    policy = CasePolicy()
    for warning, _event in reversed(list_warnings(db)):
        origin = origin_of(db, warning_id=warning.id)
        if origin.units:  # each with its 舆情督报 to the units, as `yuqing case open` writes it
            case = open_case(db, policy, actor=OFFICE, origin=origin, dispatch=True, now=now - timedelta(hours=3))
            write_case_notice(db, settings, case, origin)
    open_case(db, policy, actor=OFFICE, title="青柳公路施工扬尘投诉未回复", lead_unit=UNIT_A, dispatch=True,
              requirement="请核实施工扬尘投诉并回复网民，附整改照片。", now=now - timedelta(days=12))  # fmt: skip
    open_case(db, policy, actor=OFFICE, title="瑞岭建设工地农民工讨薪", lead_unit=UNIT_B, co_units=["县住建局"], dispatch=True,
              now=now - timedelta(days=1))  # fmt: skip
    walk = open_case(db, policy, actor=OFFICE, title="白沙镇东坪村夜间异味", lead_unit=UNIT_A, co_units=["白沙镇人民政府"],
                     dispatch=True, now=now - timedelta(hours=1))  # fmt: skip

    accounts = Accounts()
    add_account(db, accounts.analyst, role="analyst", display_name="周分析", password=PASSWORD)
    add_account(db, accounts.duty, role="duty", display_name="吴值班", password=PASSWORD)
    add_account(db, accounts.head, role="head", display_name="郑主任", password=PASSWORD)
    add_account(db, accounts.unit_a, role="unit", unit=UNIT_A, display_name="应急局经办人", password=PASSWORD)
    add_account(db, accounts.unit_b, role="unit", unit=UNIT_B, display_name="人社局经办人", password=PASSWORD)
    add_account(db, accounts.leader, role="leader", display_name="分管副县长", password=PASSWORD)
    add_account(db, accounts.throttled, role="unit", unit=UNIT_B, display_name="人社局试用账号", password=PASSWORD)

    cases: dict[str, list[str]] = {}
    for case in list_cases(db):
        if case.dispatched_at is not None:
            cases.setdefault(case.lead_unit, []).append(case.number)
    return County(settings, db, accounts, cases, walk.number)


def _import_posts(db: Database, settings: Settings, home: Path, items: list[dict[str, Any]], now: datetime) -> None:
    """The sample county's posts of the last week, dated relative to ``now``, one archive per source."""
    today = now.astimezone(SHANGHAI).date()
    by_source: dict[str, list[str]] = {}
    for item in items:
        published = item_time(item, today)
        if published > now:
            continue
        row = {"guid": item["id"], "title": item["title"], "text": item["text"], "published": published.isoformat(),
               "url": item.get("link", f"http://127.0.0.1:9/a/{item['id']}.html"), "author": item.get("author")}  # fmt: skip
        by_source.setdefault(item["source"], []).append(json.dumps(row, ensure_ascii=False))
    for number, (source, lines) in enumerate(by_source.items()):
        path = home / f"posts-{number}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        import_archive(db, settings, path, source, now=now)


# --- the server ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(county: County) -> Iterator[str]:
    """``yuqing web``'s app over the county, on 127.0.0.1 and a free port; yields its base URL."""
    import uvicorn

    port = free_port()
    app = create_app(county.settings, db=county.db)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, proxy_headers=True, forwarded_allow_ips="127.0.0.1",
                            log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="workbench", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"工作台未能在 {SERVER_START_TIMEOUT_S} 秒内启动（127.0.0.1:{port}）")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def launch_chromium(playwright: Playwright, executable: str) -> Browser:
    # LANGUAGE: the native controls (a file input, a date field) in Chinese, where chromium-l10n is installed.
    # Not LANG: a locale the system lacks makes Chromium drop a file whose name is Chinese from an upload.
    return playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox", "--lang=zh-CN"],
                                      env={**os.environ, "LANGUAGE": "zh_CN"})  # fmt: skip


def new_page(browser: Browser, viewport: dict[str, int] = PHONE) -> Page:
    """A page in a fresh context (no cookies) set up as the office's people use it: Chinese, Shanghai time."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")  # type: ignore[arg-type]
    return context.new_page()


def sign_in(page: Page, base_url: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("账号").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


# --- pytest fixtures -------------------------------------------------------------


@dataclass
class Visit:
    """One test's page, and what the browser saw on it: console errors, the documents it loaded."""

    page: Page
    base_url: str
    county: County
    errors: list[str] = field(default_factory=list)
    documents: list[Response] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def sign_in(self, name: str, password: str = PASSWORD) -> None:
        sign_in(self.page, self.base_url, name, password)

    def fits_the_screen(self) -> bool:
        """The page does not scroll sideways (nothing wider than the viewport)."""
        return bool(self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))

    def watch(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"页面脚本错误：{error}"))
        self.page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # A page the server answers with 404 or 429 on purpose is logged as a failed load: that is the test's
        # subject, checked there. Any other failed load (a stylesheet, an image) is an error.
        where = message.location.get("url", "")
        if LOAD_FAILED.match(message.text) and any(document.url == where for document in self.documents):
            return
        self.errors.append(f"{message.text} @ {where}")

    def _response(self, response: Response) -> None:
        if response.request.resource_type == "document":
            self.documents.append(response)
        elif response.status >= 400:
            self.errors.append(f"{response.status} {response.url}")

    def check(self) -> None:
        assert not self.errors, f"浏览器报错：{self.errors}"
        missing = [d.url for d in self.documents if "default-src 'self'" not in (d.headers.get("content-security-policy") or "")]
        assert not missing, f"这些页面没有 Content-Security-Policy：{missing}"


@dataclass(frozen=True)
class LiveWorkbench:
    base_url: str
    county: County


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    found = find_chromium()
    if found is None:
        wanted = os.environ.get("YUQING_CHROMIUM") or " 或 ".join(CHROMIUM_NAMES)
        reason = f"没有找到 Chromium（{wanted}）：apt-get install chromium，或设置 YUQING_CHROMIUM"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true 时必须有 Chromium：{reason}")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def chromium(chromium_executable: str) -> Iterator[Browser]:
    """One headless Chromium per test module (each test opens its own context).

    Not one per session: while Playwright's sync API is started, its event loop counts as running in
    the main thread, so any later test that calls ``asyncio.run`` would fail. Closed after the module,
    the rest of the suite runs as without it.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, chromium_executable)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_workbench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWorkbench]:
    """The seeded county behind the real workbench, for the whole session."""
    county = seed_county(tmp_path_factory.mktemp("browser-county"))
    with serve(county) as base_url:
        yield LiveWorkbench(base_url, county)
    county.db.dispose()


@contextmanager
def watched_visit(live_workbench: LiveWorkbench, chromium: Browser, viewport: dict[str, int]) -> Iterator[Visit]:
    page = new_page(chromium, viewport)
    seen = Visit(page, live_workbench.base_url, live_workbench.county)
    seen.watch()
    try:
        yield seen
        seen.check()
    finally:
        page.context.close()


@pytest.fixture
def visit(live_workbench: LiveWorkbench, chromium: Browser) -> Iterator[Visit]:
    """A phone-sized page in a fresh context; at the end, no browser errors and a CSP on every page."""
    with watched_visit(live_workbench, chromium, PHONE) as seen:
        yield seen


@pytest.fixture
def desktop_visit(live_workbench: LiveWorkbench, chromium: Browser) -> Iterator[Visit]:
    """The same at desktop width (1280x800)."""
    with watched_visit(live_workbench, chromium, DESKTOP) as seen:
        yield seen
