"""Reading stored items back: listings for people and JSON Lines for scripts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, TypeVarTuple

from sqlalchemy import Select, select

from yuqing_core.db.database import Database
from yuqing_core.db.models import Item, Source
from yuqing_core.timeutil import SHANGHAI, isoformat_local

STREAM_BATCH = 1000

_Columns = TypeVarTuple("_Columns")


@dataclass(frozen=True)
class ItemRow:
    id: int
    source: str
    title: str
    url: str | None
    published: datetime
    fetched: datetime
    guid: str | None
    excerpt: str
    published_fallback: str | None

    def as_json(self, tz: tzinfo = SHANGHAI) -> dict[str, Any]:
        """The stable JSON Lines shape of ``yuqing items list --format jsonl``."""
        return {
            "id": self.id,
            "source": self.source,
            "title": self.title,
            "url": self.url,
            "published": isoformat_local(self.published, tz),
            "fetched": isoformat_local(self.fetched, tz),
            "guid": self.guid,
        }


def published_within(query: Select[*_Columns], since: datetime | None, until: datetime | None) -> Select[*_Columns]:
    """``query`` restricted to items published in ``[since, until)``; either end may be open (None)."""
    if since is not None:
        query = query.where(Item.published_at >= since)
    if until is not None:
        query = query.where(Item.published_at < until)
    return query


def iter_items(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    limit: int | None = None,
) -> Iterator[ItemRow]:
    """Items published in ``[since, until)``, oldest first, streamed in batches."""
    query = (
        select(
            Item.id,
            Source.name,
            Item.title,
            Item.url,
            Item.published_at,
            Item.fetched_at,
            Item.guid,
            Item.excerpt,
            Item.published_fallback,
        )
        .join(Source, Source.id == Item.source_id)
        .order_by(Item.published_at, Item.id)
    )
    query = published_within(query, since, until)
    if source is not None:
        query = query.where(Source.name == source)
    if limit is not None:
        query = query.limit(limit)
    with db.reader() as session:
        for row in session.execute(query.execution_options(yield_per=STREAM_BATCH)):
            yield ItemRow(*row)
