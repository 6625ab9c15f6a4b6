"""``INSERT ... ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Integer, Select, Table, Text, bindparam, cast, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session
from sqlalchemy.sql import sqltypes
from sqlalchemy.types import TypeDecorator, TypeEngine


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, conflict: Sequence[str], returning: str = "id"
) -> list[Any]:
    """Insert ``rows``, silently skipping those whose ``conflict`` key exists; return the new rows' ``returning`` values.

    One statement executed over all rows: on PostgreSQL an ``INSERT ...
    SELECT`` from the rows sent as one JSON document (see ``_json_rows``), on
    SQLite (and for rows that do not all name the same columns) SQLAlchemy's
    multi-row ``INSERT ... RETURNING`` ("insertmanyvalues"), compiled once.
    Both dialects resolve concurrent inserts of one key inside the
    database, so two writers racing on the same rows store each row once.
    """
    if not rows:
        return []
    names = _uniform_names(session, rows)
    if names is not None:
        return _insert_ignore_json(session, table, rows, names, conflict=conflict, returning=returning)
    statement = _insert(session, table).on_conflict_do_nothing(index_elements=list(conflict)).returning(table.c[returning])
    return list(session.execute(statement, list(rows)).scalars())


def _insert_ignore_json(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], names: list[str], *, conflict: Sequence[str], returning: str
) -> list[Any]:
    """``insert_ignore`` on PostgreSQL as one ``INSERT ... SELECT`` from the rows sent as one JSON document."""
    statement = (
        postgresql.insert(table)
        .from_select(names, _json_rows(session, table, rows, names))
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c[returning])
    )
    return list(session.execute(statement).scalars())


def _json_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], names: list[str]) -> Select[Any]:
    """A ``SELECT`` of ``rows`` (each naming ``names``) from one JSON parameter, each value cast to its column's type.

    A multi-row ``VALUES`` of a thousand rows is a statement of ten thousand
    placeholders, which psycopg parses in Python on every execution (too long
    for its statement cache); one array parameter per column (the way before
    this) is escaped element by element in Python, which for the JSON of the
    matches' hits cost as much as the insert itself. Here the rows are one
    JSON array of arrays, encoded by the ``json`` module in C and taken apart
    by ``jsonb_array_elements`` in the database (``jsonb``: each row is
    parsed once, not once per column); the statement has one parameter
    whatever the number of rows. Against the arrays, on the 20,727-item
    backlog (interleaved in the same transactions, rolled back): the
    matches' inserts took half the time, the event memberships' (with
    512-byte signatures) three quarters.
    Values go through the columns' bind processing first (type decorators
    such as ``UTCDateTime``, JSON serialization as SQLAlchemy does it), then
    travel as text and are cast back: datetimes in ISO form, bytes in
    PostgreSQL's hex form, non-finite floats by name.
    """
    dialect = session.get_bind().dialect
    converters = [_json_converter(table.c[name].type, dialect) for name in names]
    try:
        records = [[convert(row[name]) for name, convert in zip(names, converters, strict=True)] for row in rows]
    except (TypeError, ValueError) as exc:  # as SQLAlchemy reports a failed bind processor
        raise StatementError(f"({type(exc).__name__}) {exc}", f"INSERT INTO {table.name}", None, exc) from exc
    payload = bindparam("json_rows", json.dumps(records, ensure_ascii=False, allow_nan=False), type_=Text)
    element = func.jsonb_array_elements(cast(payload, postgresql.JSONB)).table_valued("value").render_derived()
    columns = [
        cast(element.c.value.op("->>")(literal(index, Integer)), _cast_type(table.c[name].type)).label(name)
        for index, name in enumerate(names)
    ]
    return select(*columns).select_from(element)


def _json_converter(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """How a column's Python value travels in ``_json_rows``: a JSON scalar its cast reads back as the value."""
    bind: Callable[[Any], Any] | None = None
    if isinstance(column_type, TypeDecorator):
        decorator = column_type

        def bind(value: Any) -> Any:
            return decorator.process_bind_param(value, dialect)

        column_type = column_type.impl_instance
    if isinstance(column_type, sqltypes.JSON):
        serialize = dialect._json_serializer or json.dumps  # as JSON.bind_processor does
        if column_type.none_as_null:
            return _chain(bind, lambda value: None if value is None else serialize(value))
        return _chain(bind, serialize)  # None is stored as JSON null, as SQLAlchemy does
    if isinstance(column_type, sqltypes.LargeBinary):
        return _chain(bind, lambda value: None if value is None else "\\x" + bytes(value).hex())
    if isinstance(column_type, sqltypes.Float):
        return _chain(bind, _float_text)
    if isinstance(column_type, sqltypes.DateTime | sqltypes.Date | sqltypes.Time):
        return _chain(bind, lambda value: None if value is None else value.isoformat())
    return bind or _same


def _cast_type(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type a value is cast to: the column's, but text for strings, whose length the INSERT then checks
    (an explicit cast to ``VARCHAR(n)`` would cut a longer value short instead of refusing it)."""
    impl = column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type
    if isinstance(impl, sqltypes.String) and not isinstance(impl, sqltypes.Enum):
        return Text()
    return column_type


def _chain(first: Callable[[Any], Any] | None, then: Callable[[Any], Any]) -> Callable[[Any], Any]:
    if first is None:
        return then
    return lambda value: then(first(value))


def _same(value: Any) -> Any:
    return value


def _float_text(value: Any) -> Any:
    """A float for JSON: finite ones as they are, the others by the names PostgreSQL reads."""
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


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
    """Insert ``rows``, or overwrite the ``update`` columns of the rows whose ``conflict`` key exists.

    Rows are written in order: of two rows with one key, the later one's values are kept.
    """
    if not rows:
        return
    names = _uniform_names(session, rows)
    statement = _insert(session, table)
    if names is not None:  # one statement, its rows in one JSON parameter (see _json_rows)
        # One statement may not update a row twice: of rows with the same key the last one
        # counts, as when each row is its own statement.
        last = {tuple(row[name] for name in conflict): row for row in rows}
        statement = statement.from_select(names, _json_rows(session, table, list(last.values()), names))
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict), set_={name: statement.excluded[name] for name in update}
    )
    if names is not None:
        session.execute(statement)
    else:
        session.execute(statement, list(rows))


def _uniform_names(session: Session, rows: Sequence[dict[str, Any]]) -> list[str] | None:
    """The columns every row names, when the rows go to PostgreSQL as one JSON document; else None.

    More than one row, all naming the same columns (the JSON path computes
    the defaults of the columns left out once per statement).
    """
    if session.get_bind().dialect.name != "postgresql" or len(rows) < 2:
        return None
    names = list(rows[0])
    if all(len(row) == len(names) and all(name in row for name in names) for row in rows):
        return names
    return None
