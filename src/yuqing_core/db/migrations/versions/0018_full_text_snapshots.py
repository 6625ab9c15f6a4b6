"""Full text and evidence snapshots of relevant items

``items.full_text`` is the article page's main text the rules read; ``enriched_at`` and
``enriched_from`` say when and from which URL it was fetched, ``checked_at`` when the page was
last fetched again, ``deleted_at`` when a later fetch found it gone (原文已删除).
``page_snapshots`` records each kept copy of a page; the copy itself (gzip HTML and text) is a
file in the snapshot folder named by its SHA-256, never a database value.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("full_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("enriched_at", TS, nullable=True))
        batch.add_column(sa.Column("enriched_from", sa.Text(), nullable=True))
        batch.add_column(sa.Column("checked_at", TS, nullable=True))
        batch.add_column(sa.Column("deleted_at", TS, nullable=True))
    op.create_table(
        "page_snapshots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column(
            "item_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("fetched_at", TS, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=False),
        sa.Column("html_bytes", sa.Integer(), nullable=False),
        sa.Column("text_chars", sa.Integer(), nullable=False),
        sa.UniqueConstraint("item_id", "content_hash"),
    )
    op.create_index("ix_page_snapshots_hash", "page_snapshots", ["content_hash"])


def downgrade() -> None:
    op.drop_index("ix_page_snapshots_hash", table_name="page_snapshots")
    op.drop_table("page_snapshots")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("checked_at")
        batch.drop_column("enriched_from")
        batch.drop_column("enriched_at")
        batch.drop_column("full_text")
