"""page and JSON-list sources: what to extract from them; the official reply a message board publishes

``sources.extract`` holds a ``page`` source's selectors or a ``json`` source's field mapping.
``items.reply_text``, ``reply_at`` and ``reply_by`` keep the official reply published with a
message (领导留言板, 书记县长信箱, 12345); its time is an official response of the message's event.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("extract", sa.JSON(), nullable=True))
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("reply_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reply_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reply_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("reply_by")
        batch.drop_column("reply_at")
        batch.drop_column("reply_text")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("extract")
