"""item search: pg_trgm GIN indexes on items.title and items.text (PostgreSQL, when the extension may be created)

The office desk's item search matches a substring (a two-character Chinese
term included) with ILIKE; a trigram index lets PostgreSQL answer it without
reading every item. Where ``CREATE EXTENSION pg_trgm`` is not permitted, the
migration logs why and goes on without the indexes: the search stays
correct, only slower. SQLite has no such index and searches with LIKE.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

"""

from collections.abc import Sequence

from alembic import op

from yuqing_core.db.migrate import TRIGRAM_INDEXES, create_trigram_indexes

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_trigram_indexes(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")  # the extension stays: other objects may use it
