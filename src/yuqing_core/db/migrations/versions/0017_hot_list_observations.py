"""hot lists (热榜): where each entry of a ranked list stood at each poll (rank, heat)

A hot list's entries are items of its source, stored once; ``hot_list_observations`` keeps one
row per entry and poll (source, item, polled_at, rank, heat), so a climb can be seen. Each poll
drops its source's observations older than the retention setting. Whether a source is a hot list
is part of its ``sources.extract`` (``hot_list: true``): no column changes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hot_list_observations",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("polled_at", TS, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("heat", sa.BigInteger(), nullable=True),
        sa.Column("heat_text", sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_hot_list_observations_source_id_sources"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_hot_list_observations_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hot_list_observations")),
        sa.UniqueConstraint(
            "source_id", "polled_at", "item_id", name=op.f("uq_hot_list_observations_source_id_polled_at_item_id")
        ),
    )
    op.create_index("ix_hot_list_observations_item_polled", "hot_list_observations", ["item_id", "polled_at"])
    op.create_index("ix_hot_list_observations_polled", "hot_list_observations", ["polled_at"])


def downgrade() -> None:
    op.drop_table("hot_list_observations")
