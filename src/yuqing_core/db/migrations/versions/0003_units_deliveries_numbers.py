"""units, deliveries and document numbers; indexes for reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("envelope", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("key", name=op.f("uq_deliveries_key")),
    )
    op.create_index("ix_deliveries_status_created", "deliveries", ["status", "created_at"])

    op.create_table(
        "document_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_numbers")),
        sa.UniqueConstraint("kind", "year", "number", name=op.f("uq_document_numbers_kind_year_number")),
        sa.UniqueConstraint("kind", "year", "subject", name=op.f("uq_document_numbers_kind_year_subject")),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("leader", sa.String(length=200), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("name", name=op.f("uq_units_name")),
    )

    # Reports: one index serving both equalities of "an item's matches in its latest analysis",
    # and a day's fetch attempts across all sources.
    op.drop_index(op.f("ix_matches_version_id"), table_name="matches")
    op.create_index("ix_matches_item_version", "matches", ["item_id", "version_id"])
    op.create_index("ix_fetch_attempts_started", "fetch_attempts", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_fetch_attempts_started", table_name="fetch_attempts")
    op.drop_index("ix_matches_item_version", table_name="matches")
    op.create_index(op.f("ix_matches_version_id"), "matches", ["version_id"])
    op.drop_table("units")
    op.drop_table("document_numbers")
    op.drop_table("deliveries")
