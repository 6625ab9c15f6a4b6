"""Reading events, warnings and explanations back, for the CLI, reports and scripts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Select, Text, and_, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from yuqing_core.db.database import Database
from yuqing_core.db.models import EarlyWarning, Event, EventItem, Item, ItemAnalysis, Match, Rule, Source
from yuqing_core.items import published_within

STREAM_BATCH = 1000


def list_events(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    min_items: int = 1,
    with_risk: bool = False,
    limit: int | None = None,
) -> list[Event]:
    """Events last seen since ``since`` (and before ``until``), highest risk score first (the hotter first among equals; not those merged into another)."""
    query = (
        select(Event)
        .where(Event.item_count >= min_items, Event.merged_into_id.is_(None))
        .order_by(Event.score.desc(), Event.heat.desc(), Event.id)
    )
    if since is not None:
        query = query.where(Event.last_seen_at >= since)
    if until is not None:
        query = query.where(Event.last_seen_at < until)
    if limit is not None and not with_risk:
        query = query.limit(limit)
    with db.reader() as session:
        events = list(session.scalars(query))
    if with_risk:
        events = [e for e in events if e.risk_points][:limit]
    return events


@dataclass(frozen=True)
class EventItemRow:
    item_id: int
    guid: str | None
    source: str
    published: datetime
    event_id: int
    joined_by: str
    title: str

    def as_json(self, isoformat: Callable[[datetime], str]) -> dict[str, Any]:
        """The stable shape of ``yuqing events export --format jsonl``."""
        return {
            "item_id": self.item_id,
            "guid": self.guid,
            "source": self.source,
            "published": isoformat(self.published),
            "event_id": self.event_id,
            "joined_by": self.joined_by,
        }


def iter_event_items(db: Database, *, since: datetime | None = None, until: datetime | None = None) -> Iterator[EventItemRow]:
    """Every grouped item with its event, by publication time."""
    query = (
        select(Item.id, Item.guid, Source.name, Item.published_at, EventItem.event_id, EventItem.joined_by, Item.title)
        .join(EventItem, EventItem.item_id == Item.id)
        .join(Source, Source.id == Item.source_id)
        .order_by(Item.published_at, Item.id)
    )
    query = published_within(query, since, until)
    with db.reader() as session:
        for row in session.execute(query.execution_options(yield_per=STREAM_BATCH)):
            yield EventItemRow(*row)


@dataclass(frozen=True)
class ExplainedItem:
    item_id: int
    source: str
    title: str
    text: str
    url: str | None
    published: datetime
    joined_by: str | None
    # (kind, label, hits) for every match of the item's latest analysis
    matches: list[tuple[str, str, list[dict[str, Any]]]]
    # 立场 and why (risk.stance), from the latest analysis; None if analysed before stances existed
    stance: str | None = None
    stance_reason: dict[str, Any] | None = None


def explain_items(db: Database, item_ids: list[int]) -> list[ExplainedItem]:
    """Items with every match of their latest analysis: why each matched, with offsets."""
    with db.reader() as session:
        rows = session.execute(
            select(
                Item.id,
                Source.name,
                Item.title,
                Item.text,
                Item.url,
                Item.published_at,
                EventItem.joined_by,
                ItemAnalysis.stance,
                ItemAnalysis.stance_reason,
            )
            .join(Source, Source.id == Item.source_id)
            .outerjoin(EventItem, EventItem.item_id == Item.id)
            .outerjoin(ItemAnalysis, ItemAnalysis.item_id == Item.id)
            .where(Item.id.in_(item_ids))
            .order_by(Item.published_at, Item.id)
        ).all()
        matches = session.execute(
            select(Match.item_id, Match.kind, Match.risk_point_name, Match.hits, Match.rule_id)
            .join(ItemAnalysis, and_(ItemAnalysis.item_id == Match.item_id, ItemAnalysis.version_id == Match.version_id))
            .where(Match.item_id.in_(item_ids))
            .order_by(Match.item_id, Match.rule_id)
        ).all()
        labels = dict(session.execute(select(Rule.id, Rule.label).where(Rule.id.in_({m.rule_id for m in matches}))).all())
    by_item: dict[int, list[tuple[str, str, list[dict[str, Any]]]]] = {}
    for m in matches:
        by_item.setdefault(m.item_id, []).append((m.kind, m.risk_point_name or labels.get(m.rule_id, ""), m.hits))
    return [
        ExplainedItem(
            r.id, r.name, r.title, r.text, r.url, r.published_at, r.joined_by, by_item.get(r.id, []), r.stance, r.stance_reason
        )
        for r in rows
    ]


def get_event(db: Database, event_id: int) -> Event | None:
    with db.reader() as session:
        return session.get(Event, event_id)


def get_warning(db: Database, warning_id: int) -> EarlyWarning | None:
    with db.reader() as session:
        return session.get(EarlyWarning, warning_id)


def event_item_ids(db: Database, event_id: int, *, offset: int = 0, limit: int | None = None) -> list[int]:
    """The event's items, the first published first; ``offset`` and ``limit`` page through a large event."""
    query = (
        select(EventItem.item_id)
        .where(EventItem.event_id == event_id)
        .order_by(EventItem.published_at, EventItem.item_id)
        .offset(max(0, offset))
        .limit(limit)
    )
    with db.reader() as session:
        return list(session.scalars(query))


def event_spread(db: Database, event_id: int) -> list[tuple[str, datetime]]:
    """Each of the event's items as (source name, published time): what its spread charts count, without the texts
    and matches ``explain_items`` reads (an event may hold thousands of items)."""
    query = (
        select(Source.name, Item.published_at)
        .join(Item, Item.source_id == Source.id)
        .join(EventItem, EventItem.item_id == Item.id)
        .where(EventItem.event_id == event_id)
    )
    with db.reader() as session:
        return [(name, published) for name, published in session.execute(query)]


def list_warnings(db: Database, *, since: datetime | None = None, status: str | None = None) -> list[tuple[EarlyWarning, Event]]:
    """Warnings, newest first, with their events."""
    query = (
        select(EarlyWarning, Event)
        .join(Event, Event.id == EarlyWarning.event_id)
        .order_by(EarlyWarning.created_at.desc(), EarlyWarning.id.desc())
    )
    if since is not None:
        query = query.where(EarlyWarning.created_at >= since)
    if status is not None:
        query = query.where(EarlyWarning.status == status)
    with db.reader() as session:
        return [(warning, event) for warning, event in session.execute(query)]


def warning_queue(db: Database, *, statuses: list[str] | None = None) -> list[tuple[EarlyWarning, Event]]:
    """The office's queue: warnings (in ``statuses``, or all but those merged into another) by effective level,
    the most severe first, and the oldest first within a level."""
    query = (
        select(EarlyWarning, Event)
        .join(Event, Event.id == EarlyWarning.event_id)
        .order_by(EarlyWarning.effective_level, EarlyWarning.created_at, EarlyWarning.id)
    )
    if statuses:
        query = query.where(EarlyWarning.status.in_(statuses))
    else:
        query = query.where(EarlyWarning.status != "merged")
    with db.reader() as session:
        return [(warning, event) for warning, event in session.execute(query)]


@dataclass(frozen=True)
class FoundItem:
    item_id: int
    source: str
    title: str
    text: str
    url: str | None
    published: datetime
    event_id: int | None


class HasBigrams(FunctionElement[bool]):
    """``column`` holds every two-character run of ``term`` (lower-cased), as PostgreSQL's ``yuqing_bigrams``
    gives them (migration 0013): true of every row whose ``column`` contains ``term`` ignoring case, and answered
    from the bigram index. Other databases have no such index: there it is simply true.

    Only for terms of two characters or more: a shorter one has no run, and "holds nothing" would read the
    whole index.
    """

    type = Boolean()
    inherit_cache = True
    name = "has_bigrams"


@compiles(HasBigrams)
def _has_bigrams_anywhere(element: HasBigrams, compiler: SQLCompiler, **kw: Any) -> str:
    return "1"  # true: SQLite compares a boolean in a WHERE with 1


@compiles(HasBigrams, "postgresql")
def _has_bigrams_postgresql(element: HasBigrams, compiler: SQLCompiler, **kw: Any) -> str:
    column, term = element.clauses
    return f"yuqing_bigrams({compiler.process(column, **kw)}) @> yuqing_bigrams({compiler.process(term, **kw)})"


def _contains(column: Any, term: str) -> ColumnElement[bool]:
    """``column`` contains ``term`` anywhere, ignoring case (its ``%``, ``_`` and ``\\`` taken literally)."""
    found = column.ilike(_like_pattern(term), escape="\\")
    # The ILIKE first: where the planner scans in date order (a common term, a LIMIT) it filters row by row,
    # and the ILIKE rejects a row far cheaper than computing its bigrams.
    return and_(found, HasBigrams(column, literal(term, Text()))) if len(term) >= 2 else found


def _like_pattern(term: str) -> str:
    """``term`` as a LIKE pattern matching it anywhere, its own ``%``, ``_`` and ``\\`` taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_items(
    db: Database,
    *,
    query: str = "",
    source: str | None = None,
    risk_point: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[FoundItem]:
    """Items whose title or text contains ``query`` (any length, case-insensitive), newest first, with their event.

    ``risk_point``: only items whose latest analysis matched it. On PostgreSQL the ILIKE can use the trigram
    indexes of migration 0012; SQLite compares ``lower()`` with LIKE.
    """
    statement = item_search_statement(query=query, source=source, risk_point=risk_point, since=since, until=until)
    with db.reader() as session:
        return [FoundItem(*row) for row in session.execute(statement.offset(max(0, offset)).limit(limit))]


def item_search_statement(
    *,
    query: str = "",
    source: str | None = None,
    risk_point: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[int, str, str, str, str | None, datetime, int]:
    """The SELECT behind ``search_items``, unpaged (its event id is None for an item in no event)."""
    columns = (Item.id, Source.name, Item.title, Item.text, Item.url, Item.published_at, EventItem.event_id)
    statement = (
        select(*columns)
        .join(Source, Source.id == Item.source_id)
        .outerjoin(EventItem, EventItem.item_id == Item.id)
        .order_by(Item.published_at.desc(), Item.id.desc())
    )
    term = query.strip()
    if term:
        statement = statement.where(or_(_contains(Item.title, term), _contains(Item.text, term)))
    if source:
        statement = statement.where(Source.name == source)
    if risk_point:
        matched = (
            select(Match.item_id)
            .join(ItemAnalysis, and_(ItemAnalysis.item_id == Match.item_id, ItemAnalysis.version_id == Match.version_id))
            .where(Match.item_id == Item.id, Match.risk_point_name == risk_point)
        )
        statement = statement.where(matched.exists())
    return published_within(statement, since, until)
