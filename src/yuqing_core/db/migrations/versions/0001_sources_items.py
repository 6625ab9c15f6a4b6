"""sources, items and fetch attempts

Revision ID: 0001
Revises:
Create Date: 2026-11-28

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("owner_unit", sa.String(200), nullable=True),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("poll_interval_s", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("disabled_at", TS, nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("content_sha1", sa.String(40), nullable=True),
        sa.Column("last_polled_at", TS, nullable=True),
        sa.Column("last_success_at", TS, nullable=True),
        sa.Column("last_new_item_at", TS, nullable=True),
        sa.Column("next_poll_at", TS, nullable=True),
        sa.Column("last_status", sa.String(20), nullable=True),
        sa.Column("last_http_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_note", sa.Text(), nullable=True),
        sa.Column("consecutive_errors", sa.Integer(), nullable=False),
        sa.Column("redirect_url", sa.Text(), nullable=True),
        sa.Column("redirect_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_index(op.f("ix_sources_next_poll_at"), "sources", ["next_poll_at"])

    op.create_table(
        "items",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("entry_key", sa.String(600), nullable=False),
        sa.Column("guid", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("author", sa.String(300), nullable=True),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("published_raw", sa.String(200), nullable=True),
        sa.Column("published_fallback", sa.String(16), nullable=True),
        sa.Column("fetched_at", TS, nullable=False),
        sa.Column("fingerprint", sa.String(40), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_items_source_id_sources"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint("source_id", "entry_key", name=op.f("uq_items_source_id_entry_key")),
    )
    op.create_index("ix_items_published_at", "items", ["published_at"])
    op.create_index("ix_items_fetched_at", "items", ["fetched_at"])
    op.create_index("ix_items_source_published", "items", ["source_id", "published_at"])
    op.create_index(op.f("ix_items_fingerprint"), "items", ["fingerprint"])

    op.create_table(
        "fetch_attempts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("entries_seen", sa.Integer(), nullable=False),
        sa.Column("items_new", sa.Integer(), nullable=False),
        sa.Column("bytes_read", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_fetch_attempts_source_id_sources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetch_attempts")),
    )
    op.create_index("ix_fetch_attempts_source_started", "fetch_attempts", ["source_id", "started_at"])


def downgrade() -> None:
    op.drop_table("fetch_attempts")
    op.drop_table("items")
    op.drop_table("sources")
