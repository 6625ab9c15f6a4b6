"""One ``Database`` per configured URL in a process, its schema checked on first use."""

from __future__ import annotations

import threading

from yuqing_core.config import Settings, get_settings
from yuqing_core.db.database import Database
from yuqing_core.db.migrate import ensure_schema

_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def get_database(settings: Settings | None = None, *, upgrade: bool = True) -> Database:
    """The process-wide ``Database`` for the configured URL, schema checked once.

    A brand-new empty database is initialised at once; one behind the code's
    migrations raises ``SchemaOutdated`` asking for ``yuqing db upgrade``.
    """
    settings = settings or get_settings()
    url = settings.effective_database_url
    with _databases_lock:
        db = _databases.get(url)
        if db is None:
            db = Database(url)
            if upgrade:
                ensure_schema(db)
            _databases[url] = db
    return db


def forget_databases() -> None:
    """Dispose every cached ``Database`` (tests switch URLs between cases)."""
    with _databases_lock:
        for db in _databases.values():
            db.dispose()
        _databases.clear()
