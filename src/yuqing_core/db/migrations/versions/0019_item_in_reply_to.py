"""the post an item answers or forwards

``items.in_reply_to`` is the URL of the post a comment, reply or repost is about, where its source
says so (Atom ``thr:in-reply-to``, a JSON list's ``parent`` field, a page's ``parent`` selector);
grouping puts the item in that post's event (the ``thread`` rule). ``ix_items_url`` finds the post.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("in_reply_to", sa.Text(), nullable=True))
    # Posts are looked up by URL; hash, not btree, on PostgreSQL: a URL may exceed a btree entry's limit.
    op.create_index("ix_items_url", "items", ["url"], postgresql_using="hash")


def downgrade() -> None:
    op.drop_index("ix_items_url", table_name="items")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("in_reply_to")
