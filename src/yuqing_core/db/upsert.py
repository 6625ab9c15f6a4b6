"""``INSERT ... ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, conflict: Sequence[str], returning: str = "id"
) -> list[Any]:
    """Insert ``rows``, silently skipping those whose ``conflict`` key exists; return the new rows' ``returning`` values.

    One statement executed over all rows: on PostgreSQL an ``INSERT ...
    SELECT`` from one array per column (see ``_insert_ignore_arrays``), on
    SQLite (and for rows that do not all name the same columns) SQLAlchemy's
    multi-row ``INSERT ... RETURNING`` ("insertmanyvalues"), compiled once.
    Both dialects resolve concurrent inserts of one key inside the
    database, so two writers racing on the same rows store each row once.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql" and len(rows) > 1:
        names = list(rows[0])
        if all(len(row) == len(names) and all(name in row for name in names) for row in rows):
            return _insert_ignore_arrays(session, table, rows, names, conflict=conflict, returning=returning)
    statement = _insert(session, table).on_conflict_do_nothing(index_elements=list(conflict)).returning(table.c[returning])
    return list(session.execute(statement, list(rows)).scalars())


def _insert_ignore_arrays(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], names: list[str], *, conflict: Sequence[str], returning: str
) -> list[Any]:
    """``insert_ignore`` on PostgreSQL as one ``INSERT ... SELECT FROM unnest(<one array per column>)``.

    A multi-row ``VALUES`` of a thousand rows is a statement of ten thousand
    placeholders, which psycopg parses in Python on every execution (too long
    for its statement cache): that parsing was a sixth of the serial grouping
    step. Here the statement has one parameter per column, whatever the
    number of rows, so it is parsed once and cached. Each array is bound with
    the column's own type, so type decorators apply to every element; the
    defaults of columns the rows leave out are computed once for the
    statement (the models' callable defaults are ``list`` and ``dict``, as
    tests/test_db_upsert.py checks).
    """
    arrays = [
        bindparam(f"unnest_{index}", [row[name] for row in rows], type_=postgresql.ARRAY(table.c[name].type, dimensions=1))
        for index, name in enumerate(names)
    ]
    source = func.unnest(*arrays).table_valued(*names).render_derived()
    statement = (
        postgresql.insert(table)
        .from_select(names, select(*source.c))
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c[returning])
    )
    return list(session.execute(statement).scalars())


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
