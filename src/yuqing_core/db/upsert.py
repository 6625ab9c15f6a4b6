"""``INSERT ... ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# Rows per statement: well below SQLite's 32,766 bound parameters for our widest table.
CHUNK_ROWS = 500


def _chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, conflict: Sequence[str], returning: str = "id"
) -> list[Any]:
    """Insert ``rows``, silently skipping those whose ``conflict`` key exists; return the new rows' ``returning`` values.

    Both dialects resolve concurrent inserts of one key inside the database,
    so two writers racing on the same rows store each row once.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"INSERT ... ON CONFLICT is not supported on {dialect}")
    new: list[Any] = []
    for chunk in _chunks(rows, CHUNK_ROWS):
        statement = (
            insert(table).values(list(chunk)).on_conflict_do_nothing(index_elements=list(conflict)).returning(table.c[returning])
        )
        new.extend(session.execute(statement).scalars())
    return new
