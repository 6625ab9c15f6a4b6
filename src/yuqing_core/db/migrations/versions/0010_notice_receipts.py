"""web workbench: units' acknowledgements (回执) of the notices addressed to them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notice_receipts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("notice_kind", sa.String(length=20), nullable=False),
        sa.Column("notice_id", BIG_ID, nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_notice_receipts_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_receipts")),
        sa.UniqueConstraint("notice_kind", "notice_id", "unit", name=op.f("uq_notice_receipts_notice_kind_notice_id_unit")),
    )
    op.create_index(op.f("ix_notice_receipts_unit"), "notice_receipts", ["unit"])
    op.create_index(op.f("ix_notice_receipts_account_id"), "notice_receipts", ["account_id"])


def downgrade() -> None:
    op.drop_table("notice_receipts")
