"""Shared fixtures: databases on SQLite and PostgreSQL, a real feed server, one Prefect harness.

Database-facing tests take the ``db`` fixture and run twice, once per
dialect. PostgreSQL is found at ``YUQING_TEST_POSTGRESQL_URL`` (default: the
machine's server on 127.0.0.1:5432, database ``test``); each test session
works in a database of its own, created and dropped here. Without a server
the PostgreSQL cases skip with the reason, except under ``CI=true``, where
a missing PostgreSQL fails the run -- as does any other skip there
(``ci_skips.py``).

No test asserts how fast something ran (``make bench`` measures speed):
Hypothesis's per-example deadline and too-slow health check are off for
the whole suite, being wall-clock limits that fail on a busy machine.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from yuqing_core.config import Settings, get_settings
from yuqing_core.db import Database, forget_databases, upgrade
from yuqing_core.db.models import Base
from yuqing_core.demo.server import FeedServer

pytest_plugins = ["pytester", "ci_skips", "webdesk", "browserdesk"]

# Hypothesis's default deadline (200 ms per example) and its too-slow health check are wall-clock
# assertions that fail on a busy machine; the tests assert behaviour.
hypothesis.settings.register_profile("yuqing", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow])
hypothesis.settings.load_profile("yuqing")

POSTGRESQL_URL = os.environ.get("YUQING_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _shared_folder() -> Path:
    """The workplace's shared folder (test corpora): beside the checkout, as DEVELOPERS.md puts it."""
    candidates = [os.environ.get("YUQING_SHARED_DIR"), Path(__file__).resolve().parents[2] / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and Path(candidate, "corpora").is_dir():
            return Path(candidate)
    return Path(__file__).resolve().parents[2] / "shared"


SHARED = _shared_folder()


# --- databases ---------------------------------------------------------------


def _postgresql_problem() -> str | None:
    try:
        engine = create_engine(POSTGRESQL_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL 不可用（{POSTGRESQL_URL}）：{type(exc).__name__}: {exc}".splitlines()[0]
    return None


@contextmanager
def migrated_postgresql_database(server_url: str, name: str) -> Iterator[str]:
    """A new database ``name`` on the server of ``server_url``, migrated; dropped afterwards. Yields its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        database = Database(url)
        upgrade(database)
        database.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """URL of a fresh, migrated PostgreSQL database for this test session."""
    problem = _postgresql_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true 时必须有 PostgreSQL：{problem}")
        pytest.skip(problem)
    with migrated_postgresql_database(POSTGRESQL_URL, f"yuqing_test_{uuid.uuid4().hex[:10]}") as url:
        yield url


@pytest.fixture(scope="session")
def postgresql_second_url(postgresql_url: str) -> Iterator[str]:
    """A second migrated PostgreSQL database on the same server (a reference run beside the one under test)."""
    with migrated_postgresql_database(postgresql_url, f"{make_url(postgresql_url).database}_second") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating per test is slower)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    return path


def _truncate_all(database: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated application database, once per dialect."""
    if request.param == "sqlite":
        path = tmp_path / "yuqing.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgresql_url")
    database = Database(url)
    _truncate_all(database)
    database.dispose()
    yield url


@pytest.fixture
def second_db_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of another empty, migrated application database of the same dialect as ``db_url``."""
    if db_url.startswith("sqlite"):
        path = tmp_path / "second.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgresql_second_url")
    database = Database(url)
    _truncate_all(database)
    database.dispose()
    return url


@pytest.fixture
def pg_db(postgresql_url: str) -> Iterator[Database]:
    """An empty PostgreSQL database, for behaviour only PostgreSQL has (concurrent writers, row locks)."""
    database = Database(postgresql_url)
    _truncate_all(database)
    yield database
    database.dispose()


# The local servers the tests start listen on 127.0.0.1 with a port of the system's choosing: allow
# that address on every port (tests about the allow-list itself build settings of their own).
LOCAL_SERVERS = "127.0.0.1"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        home=tmp_path,
        database_url=db_url,
        fetch_allowed_networks=[LOCAL_SERVERS],
        fetch_total_timeout_s=10,
        fetch_connect_timeout_s=5,
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.effective_database_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    """Settings on SQLite only, for tests about parsing rather than databases."""
    path = tmp_path / "yuqing.db"
    shutil.copyfile(sqlite_template, path)
    return Settings(home=tmp_path, database_url=f"sqlite:///{path}", fetch_allowed_networks=[LOCAL_SERVERS])


@pytest.fixture
def sqlite_db(sqlite_settings: Settings) -> Iterator[Database]:
    database = Database(sqlite_settings.effective_database_url)
    yield database
    database.dispose()


@pytest.fixture
def env_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Make ``settings`` what ``get_settings()`` returns (for the CLI and Prefect tasks)."""
    monkeypatch.setenv("YUQING_HOME", str(settings.home))
    monkeypatch.setenv("YUQING_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("YUQING_FETCH_ALLOWED_NETWORKS", LOCAL_SERVERS)
    monkeypatch.setenv("YUQING_FETCH_TOTAL_TIMEOUT_S", str(settings.fetch_total_timeout_s))
    # Full text off unless a test asks for it: the sample items link to pages no test server has.
    monkeypatch.setenv("YUQING_FULLTEXT_MAX_PER_RUN", "0")
    monkeypatch.setenv("YUQING_FULLTEXT_RECHECK_PER_RUN", "0")
    get_settings.cache_clear()
    forget_databases()
    yield get_settings()
    get_settings.cache_clear()
    forget_databases()


# --- feeds -------------------------------------------------------------------


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    path = SHARED / "corpora" / "feedparser-6.0.14" / "tests"
    if not path.is_dir():
        pytest.fail(f"feedparser corpus missing at {path} (set YUQING_SHARED_DIR to the shared folder)")
    return path


# --- Prefect -----------------------------------------------------------------


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One Prefect test harness for the session (starting one costs ~20 s)."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_LOGGING_LEVEL,
        PREFECT_RESULTS_LOCAL_STORAGE_PATH,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    results = tmp_path_factory.mktemp("prefect-results")
    with (
        temporary_settings(
            {
                PREFECT_RESULTS_LOCAL_STORAGE_PATH: str(results),
                PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
                PREFECT_LOGGING_LEVEL: "WARNING",
            }
        ),
        prefect_test_harness(server_startup_timeout=120),
    ):
        yield


@dataclass(frozen=True)
class SecuredServer:
    """A real ``prefect server start`` as ``yuqing serve`` starts it: API authentication, CORS for its UI only."""

    api: str  # http://127.0.0.1:PORT/api, as PREFECT_API_URL is set
    authed_api: str  # the same with the credential in the URL: httpx sends it as Basic auth
    auth_string: str
    home: Path


@pytest.fixture(scope="session")
def secured_prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredServer]:
    """One real Prefect server for the session (a start costs 20-60 s on a busy machine)."""
    from flows.deployments import server_credential, start_local_server, stop

    home = tmp_path_factory.mktemp("secured") / "prefect-server"
    credential = server_credential(home)
    server, api = start_local_server(home, auth_string=credential.auth_string)
    try:
        user, _, password = credential.auth_string.partition(":")
        authed = api.replace("http://", f"http://{user}:{password}@", 1)  # token_urlsafe: nothing to escape
        yield SecuredServer(api, authed, credential.auth_string, home)
    finally:
        stop(server)
