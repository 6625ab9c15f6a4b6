"""supervision cases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("origin_kind", sa.String(length=16), nullable=False),
        sa.Column("origin_id", BIG_ID, nullable=True),
        sa.Column("lead_unit", sa.String(length=200), nullable=False),
        sa.Column("co_units", sa.JSON(), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("case_type", sa.String(length=40), nullable=False),
        sa.Column("time_limit", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("deadline_at", TS, nullable=True),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False),
        sa.Column("extension_request", sa.JSON(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("reprimand_listed_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("dispatched_at", TS, nullable=True),
        sa.Column("acknowledged_at", TS, nullable=True),
        sa.Column("returned_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("number", name=op.f("uq_cases_number")),
    )
    op.create_index("ix_cases_created", "cases", ["created_at"])
    op.create_index(op.f("ix_cases_lead_unit"), "cases", ["lead_unit"])
    op.create_index("ix_cases_state_deadline", "cases", ["state", "deadline_at"])

    op.create_table(
        "case_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index(op.f("ix_case_events_case_id"), "case_events", ["case_id"])


def downgrade() -> None:
    op.drop_table("case_events")
    op.drop_table("cases")
