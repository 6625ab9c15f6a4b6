"""the loop: hand-written risk notice letters (关口前移), 研判 records and 研判会/联席会议 on events

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

A 网络风险提示函 is either found by the risk-library flow (``origin`` signal,
one per risk point and day) or written by the office for a risk it sees
coming (``origin`` manual, with its own title, text and requirements); the
natural key gains ``origin`` so a hand-written letter never collides with a
signal on the same risk point and day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("risk_notices") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=16), nullable=False, server_default="signal"))
        batch.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("requirements", sa.Text(), nullable=True))
        batch.add_column(sa.Column("created_by", sa.String(length=200), nullable=True))
        batch.alter_column("version_id", existing_type=sa.Integer(), nullable=True)
        batch.drop_constraint("uq_risk_notices_risk_point_name_day", type_="unique")
        batch.create_unique_constraint(op.f("uq_risk_notices_risk_point_name_day_origin"), ["risk_point_name", "day", "origin"])
    with op.batch_alter_table("risk_notices") as batch:
        batch.alter_column("origin", server_default=None)
    op.create_table(
        "assessments",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("nature", sa.Text(), nullable=False),
        sa.Column("trend", sa.Text(), nullable=False),
        sa.Column("risks", sa.Text(), nullable=False),
        sa.Column("handling", sa.Text(), nullable=False),
        sa.Column("talking_points", sa.Text(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("drafted_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", TS, nullable=True),
        sa.Column("returned_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_assessments_event_id_events"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    op.create_index("ix_assessments_event_state", "assessments", ["event_id", "state"])
    op.create_table(
        "meetings",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("held_at", TS, nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_meetings_event_id_events"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_index(op.f("ix_meetings_event_id"), "meetings", ["event_id"])


def downgrade() -> None:
    op.drop_table("meetings")
    op.drop_table("assessments")
    op.execute("DELETE FROM risk_notices WHERE origin <> 'signal'")
    with op.batch_alter_table("risk_notices") as batch:
        batch.drop_constraint("uq_risk_notices_risk_point_name_day_origin", type_="unique")
        batch.create_unique_constraint("uq_risk_notices_risk_point_name_day", ["risk_point_name", "day"])
        batch.alter_column("version_id", existing_type=sa.Integer(), nullable=False)
        for column in ("created_by", "requirements", "body", "title", "origin"):
            batch.drop_column(column)
