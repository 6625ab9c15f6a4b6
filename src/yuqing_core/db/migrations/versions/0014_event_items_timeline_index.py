"""event page: an index of each event's items in publication order, for its timeline a page at a time

An event may hold thousands of items; the event page shows 100 a page, the
first published first (``analysis.queries.event_item_ids`` with offset and
limit). Without this index every page sorted all of the event's items.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_event_items_event_published", "event_items", ["event_id", "published_at", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_event_items_event_published", table_name="event_items")
