"""``one_of``: the same rows as ``IN`` on SQLite and PostgreSQL, sent on PostgreSQL as one array parameter."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from yuqing_core.db.database import Database
from yuqing_core.db.filters import one_of
from yuqing_core.db.models import Source
from yuqing_core.db.upsert import insert_ignore

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
NAMES = ["甲", "乙", "引号' \" 和 %s", "{1,2}", "NULL", "丙"]


def test_one_of_selects_the_rows_in_the_list_on_either_database(db: Database) -> None:
    with db.writer() as session:
        ids = insert_ignore(
            session,
            Source.__table__,
            [
                {"name": name, "url": f"https://example.org/{n}", "created_at": NOW, "updated_at": NOW}
                for n, name in enumerate(NAMES)
            ],
            conflict=("name",),
        )
    by_name = dict(zip(NAMES, ids, strict=True))
    with db.reader() as session:

        def names_where(condition: object) -> set[str]:
            return set(session.scalars(select(Source.name).where(condition)))  # type: ignore[arg-type]

        wanted = [by_name["乙"], by_name["{1,2}"], by_name["NULL"], max(ids) + 1000]  # an id no row has
        assert names_where(one_of(Source.id, wanted, db.dialect)) == {"乙", "{1,2}", "NULL"}
        # Text that looks like array syntax or SQL travels as it is.
        assert names_where(one_of(Source.name, ["引号' \" 和 %s", "{1,2}", "NULL"], db.dialect)) == {
            "引号' \" 和 %s",
            "{1,2}",
            "NULL",
        }
        assert names_where(one_of(Source.id, [], db.dialect)) == set()
        assert names_where(one_of(Source.id, iter(ids), db.dialect)) == set(NAMES)


def test_one_of_on_postgresql_is_one_parameter_whatever_the_number_of_values() -> None:
    statement = select(Source.id).where(one_of(Source.id, range(2000), "postgresql"))
    compiled = statement.compile(dialect=postgresql.psycopg.dialect())
    assert "= ANY (" in str(compiled)
    assert len(compiled.params) == 1
