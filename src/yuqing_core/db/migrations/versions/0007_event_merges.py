"""event merges and splits: audit, separations, pins

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("merged_into_id", BIG_ID, nullable=True))
        batch.create_foreign_key(op.f("fk_events_merged_into_id_events"), "events", ["merged_into_id"], ["id"])
    with op.batch_alter_table("event_items") as batch:
        batch.add_column(sa.Column("pinned_by", sa.String(length=200), nullable=True))
    with op.batch_alter_table("warnings") as batch:
        batch.add_column(sa.Column("merged_into_id", BIG_ID, nullable=True))
        batch.create_foreign_key(op.f("fk_warnings_merged_into_id_warnings"), "warnings", ["merged_into_id"], ["id"])
    op.create_table(
        "event_merges",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("from_event_id", BIG_ID, nullable=False),
        sa.Column("into_event_id", BIG_ID, nullable=False),
        sa.Column("item_id", BIG_ID, nullable=True),
        sa.Column("item_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["from_event_id"], ["events.id"], name=op.f("fk_event_merges_from_event_id_events")),
        sa.ForeignKeyConstraint(["into_event_id"], ["events.id"], name=op.f("fk_event_merges_into_event_id_events")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_merges")),
    )
    op.create_index("ix_event_merges_from", "event_merges", ["from_event_id"])
    op.create_index("ix_event_merges_into", "event_merges", ["into_event_id"])
    op.create_table(
        "event_separations",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_a_id", BIG_ID, nullable=False),
        sa.Column("event_b_id", BIG_ID, nullable=False),
        sa.Column("merge_id", BIG_ID, nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_a_id"], ["events.id"], name=op.f("fk_event_separations_event_a_id_events")),
        sa.ForeignKeyConstraint(["event_b_id"], ["events.id"], name=op.f("fk_event_separations_event_b_id_events")),
        sa.ForeignKeyConstraint(["merge_id"], ["event_merges.id"], name=op.f("fk_event_separations_merge_id_event_merges")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_separations")),
        sa.UniqueConstraint("event_a_id", "event_b_id", name=op.f("uq_event_separations_event_a_id_event_b_id")),
    )
    op.create_index(op.f("ix_event_separations_event_b_id"), "event_separations", ["event_b_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_event_separations_event_b_id"), table_name="event_separations")
    op.drop_table("event_separations")
    op.drop_index("ix_event_merges_into", table_name="event_merges")
    op.drop_index("ix_event_merges_from", table_name="event_merges")
    op.drop_table("event_merges")
    with op.batch_alter_table("warnings") as batch:
        batch.drop_constraint(op.f("fk_warnings_merged_into_id_warnings"), type_="foreignkey")
        batch.drop_column("merged_into_id")
    with op.batch_alter_table("event_items") as batch:
        batch.drop_column("pinned_by")
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint(op.f("fk_events_merged_into_id_events"), type_="foreignkey")
        batch.drop_column("merged_into_id")
