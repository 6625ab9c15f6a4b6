"""event score parts and response timing; one warning per event

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Events get the named parts of their risk score and their 快速回应 timing. Warnings become one
row per event: where an event had several (one per level it reached), the most severe one is
kept (the earliest among equals), the others' analyst actions move to it, and they are deleted.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


EVENT_COLUMNS = (
    "score_parts", "first_signal_at", "first_response_at", "response_delay_work_h", "response_target_work_h",
    "response_due_at", "response_status",
)  # fmt: skip


def _event_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("score_parts", sa.JSON(), nullable=True),
        sa.Column("first_signal_at", TS, nullable=True),
        sa.Column("first_response_at", TS, nullable=True),
        sa.Column("response_delay_work_h", sa.Float(), nullable=True),
        sa.Column("response_target_work_h", sa.Float(), nullable=True),
        sa.Column("response_due_at", TS, nullable=True),
        sa.Column("response_status", sa.String(length=16), nullable=True),
    ]


ACTION_COLUMNS = "id, warning_id, action, actor, reason, from_level, to_level, created_at"


def _swap_unique(drop: str, create: str, columns: list[str]) -> None:
    """Replace the warnings' unique constraint. SQLite rebuilds the table, and dropping the old one would
    cascade to warning_actions (foreign keys are on): the actions are kept aside and put back."""
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        op.drop_constraint(drop, "warnings", type_="unique")
        op.create_unique_constraint(create, "warnings", columns)
        return
    actions = connection.execute(sa.text(f"SELECT {ACTION_COLUMNS} FROM warning_actions")).mappings().all()
    with op.batch_alter_table("warnings", recreate="always") as batch:
        batch.drop_constraint(drop, type_="unique")
        batch.create_unique_constraint(create, columns)
    connection.execute(sa.text("DELETE FROM warning_actions"))
    if actions:
        names = ACTION_COLUMNS.split(", ")
        connection.execute(
            sa.text(f"INSERT INTO warning_actions ({ACTION_COLUMNS}) VALUES ({', '.join(':' + n for n in names)})"),
            [dict(row) for row in actions],
        )


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild: rebuilding events would cascade to its items and warnings on SQLite).
    for column in _event_columns():
        op.add_column("events", column)

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
    _swap_unique("uq_warnings_event_id_level", "uq_warnings_event_id", ["event_id"])


def downgrade() -> None:
    _swap_unique("uq_warnings_event_id", "uq_warnings_event_id_level", ["event_id", "level"])
    for name in reversed(EVENT_COLUMNS):
        op.drop_column("events", name)  # SQLite 3.35+ drops a column in place
