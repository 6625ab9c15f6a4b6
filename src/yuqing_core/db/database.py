"""Engines and sessions for SQLite and PostgreSQL.

SQLite runs in WAL mode. Writing transactions start with ``BEGIN IMMEDIATE``
so that two writers queue on the busy timeout instead of failing at once
when a deferred transaction tries to upgrade its lock; read-only sessions
(``Database.reader()``) use a plain deferred ``BEGIN`` and never block on a
writer.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from sqlalchemy.pool import ConnectionPoolEntry

from yuqing_core.config import normalize_database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Threads that run blocking database work for async callers: SQLite has one writer at a time
# anyway (more threads only spin in its busy handler); PostgreSQL writes rows in parallel.
ASYNC_WORKERS = {"sqlite": 1, "postgresql": 4}
_READONLY = "yuqing_readonly"
P = ParamSpec("P")
T = TypeVar("T")


class Database:
    """One application database: an engine plus writer and reader sessions.

    Example::

        db = Database("sqlite:///var/yuqing.db")
        with db.writer() as session:
            session.add(...)
        with db.reader() as session:
            session.scalars(select(Source)).all()
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_database_url(url)
        self.engine = _create_engine(self.url, echo=echo)
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(self.engine.execution_options(**{_READONLY: True}), expire_on_commit=False)
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def writer(self) -> Iterator[Session]:
        """A session in one writing transaction: committed on success, rolled back on error."""
        with self._writer() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session; nothing it does is committed."""
        # Closing (not rolling back) ends the transaction without expiring loaded objects,
        # so what was read stays readable after the session is gone.
        with self._reader() as session:
            yield session

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking database work from async code on this database's own worker threads."""
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(ASYNC_WORKERS.get(self.dialect, 4), thread_name_prefix="yuqing-db")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))

    def dispose(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"


def _create_engine(url: str, *, echo: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        readonly = connection.get_execution_options().get(_READONLY, False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine
