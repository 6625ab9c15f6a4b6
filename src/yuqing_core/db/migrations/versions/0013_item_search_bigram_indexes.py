"""item search: GIN indexes of the two-character runs of items.title and items.text (PostgreSQL)

A two-character Chinese term (讨薪) is the commonest search and holds no
trigram, so the indexes of 0012 cannot answer it: a rare term read every
item (seconds at a million items). ``yuqing_bigrams(text)`` gives the
lower-cased text's two-character runs; an item containing the term contains
all of the term's runs, so ``yuqing_bigrams(title) @> yuqing_bigrams(term)``
narrows the search through these indexes before the ILIKE decides
(``analysis.queries.item_search_statement``). Plain SQL, no extension:
every PostgreSQL has it. SQLite has no such index and searches with LIKE.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

"""

from collections.abc import Sequence

from alembic import op

from yuqing_core.db.migrate import BIGRAM_FUNCTION, BIGRAM_INDEXES

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(BIGRAM_FUNCTION)
    for name, column in BIGRAM_INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON items USING gin (yuqing_bigrams({column}))")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in BIGRAM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS yuqing_bigrams(text)")
