"""event score parts and response timing; one warning per event

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02

Events get the named parts of their risk score and their 快速回应 timing. Warnings become one
row per event: where an event had several (one per level it reached), the most severe one is
kept (the earliest among equals), the others' analyst actions move to it, and they are deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("score_parts", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("first_signal_at", TS, nullable=True))
        batch.add_column(sa.Column("first_response_at", TS, nullable=True))
        batch.add_column(sa.Column("response_delay_work_h", sa.Float(), nullable=True))
        batch.add_column(sa.Column("response_target_work_h", sa.Float(), nullable=True))
        batch.add_column(sa.Column("response_due_at", TS, nullable=True))
        batch.add_column(sa.Column("response_status", sa.String(length=16), nullable=True))

    # One warning per event: keep the most severe (earliest among equals), move the others' actions to it.
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, event_id, level FROM warnings ORDER BY event_id, level, id")).all()
    keep: dict[int, int] = {}
    for warning_id, event_id, _level in rows:
        kept = keep.setdefault(event_id, warning_id)
        if kept != warning_id:
            connection.execute(
                sa.text("UPDATE warning_actions SET warning_id = :kept WHERE warning_id = :old"),
                {"kept": kept, "old": warning_id},
            )
            connection.execute(sa.text("DELETE FROM warnings WHERE id = :old"), {"old": warning_id})
    with op.batch_alter_table("warnings") as batch:
        batch.drop_constraint("uq_warnings_event_id_level", type_="unique")
        batch.create_unique_constraint("uq_warnings_event_id", ["event_id"])


def downgrade() -> None:
    with op.batch_alter_table("warnings") as batch:
        batch.drop_constraint("uq_warnings_event_id", type_="unique")
        batch.create_unique_constraint("uq_warnings_event_id_level", ["event_id", "level"])
    with op.batch_alter_table("events") as batch:
        batch.drop_column("response_status")
        batch.drop_column("response_due_at")
        batch.drop_column("response_target_work_h")
        batch.drop_column("response_delay_work_h")
        batch.drop_column("first_response_at")
        batch.drop_column("first_signal_at")
        batch.drop_column("score_parts")
