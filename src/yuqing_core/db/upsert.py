"""``INSERT ... ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, conflict: Sequence[str], returning: str = "id"
) -> list[Any]:
    """Insert ``rows``, silently skipping those whose ``conflict`` key exists; return the new rows' ``returning`` values.

    One statement executed over all rows: SQLAlchemy batches it into
    multi-row ``INSERT ... RETURNING`` ("insertmanyvalues") and caches its
    compiled form, instead of compiling a new multi-VALUES statement per call.
    Both dialects resolve concurrent inserts of one key inside the
    database, so two writers racing on the same rows store each row once.
    """
    if not rows:
        return []
    statement = _insert(session, table).on_conflict_do_nothing(index_elements=list(conflict)).returning(table.c[returning])
    return list(session.execute(statement, list(rows)).scalars())


def _insert(session: Session, table: Table) -> sqlite.Insert | postgresql.Insert:
    """The ``INSERT`` of the session's dialect, the one with ``ON CONFLICT`` clauses."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"INSERT ... ON CONFLICT is not supported on {dialect}")


def upsert(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, conflict: Sequence[str], update: Sequence[str]
) -> None:
    """Insert ``rows``, or overwrite the ``update`` columns of the rows whose ``conflict`` key exists."""
    if not rows:
        return
    statement = _insert(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict), set_={name: statement.excluded[name] for name in update}
    )
    session.execute(statement, list(rows))
