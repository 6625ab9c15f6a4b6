"""item word counts for event hot words

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: items analysed before this have none, and their hot words are segmented from the text as before.
    with op.batch_alter_table("item_analysis") as batch:
        batch.add_column(sa.Column("word_counts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_analysis") as batch:
        batch.drop_column("word_counts")
