"""source role and item stance

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing sources count as public (the cautious reading: their complaints stay sensitive) and as
    # inferred, until the sources file is imported again.
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("role", sa.String(length=16), nullable=False, server_default="public"))
        batch.add_column(sa.Column("role_inferred", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("sources") as batch:
        batch.alter_column("role", server_default=None)
        batch.alter_column("role_inferred", server_default=None)
    # Nullable: items analysed before this have no stance until they are analysed again.
    with op.batch_alter_table("item_analysis") as batch:
        batch.add_column(sa.Column("stance", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("stance_reason", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item_analysis") as batch:
        batch.drop_column("stance_reason")
        batch.drop_column("stance")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("role_inferred")
        batch.drop_column("role")
