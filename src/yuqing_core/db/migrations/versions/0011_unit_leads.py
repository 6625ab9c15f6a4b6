"""web workbench: leads units report to the centre (报送), each stored as an item of the source 单位报送

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "unit_leads",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reported_at", TS, nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_unit_leads_item_id_items"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_unit_leads_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_leads")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_unit_leads_stored_name")),
    )
    op.create_index(op.f("ix_unit_leads_item_id"), "unit_leads", ["item_id"])
    op.create_index(op.f("ix_unit_leads_unit"), "unit_leads", ["unit"])
    op.create_index(op.f("ix_unit_leads_account_id"), "unit_leads", ["account_id"])
    op.create_index("ix_unit_leads_reported_at", "unit_leads", ["reported_at"])


def downgrade() -> None:
    op.drop_table("unit_leads")
