"""Conditions that read the same on SQLite and PostgreSQL but are sent the way each database reads fastest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute


def one_of(column: ColumnElement[Any] | QueryableAttribute[Any], values: Iterable[Any], dialect: str) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:values)``, the values as one array parameter.

    An ``IN`` list of a batch's 2,000 ids is a statement of 2,000
    placeholders, each compiled by SQLAlchemy and the whole statement then
    parsed by psycopg in Python on every execution (too long for its
    statement cache); one array parameter is a statement of constant text,
    its list adapted in one go. SQLite has no arrays, and there the ``IN``
    list is cheap. The array has the column's type, so every value must fit
    it (as the ids of that column do). ``dialect`` is ``Database.dialect``
    (or a session's ``get_bind().dialect.name``).
    """
    values = list(values)
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)
