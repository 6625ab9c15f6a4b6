"""SQLAlchemy 2 models of the application database.

Times are stored in UTC (``UTCDateTime``) and come back timezone-aware on
SQLite and PostgreSQL alike. Natural keys carry unique constraints so that
every stage can write with ``INSERT ... ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations can refer to them on both dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given for a UTC column")
        value = value.astimezone(UTC)
        # SQLite has no zone type; keep the stored text uniform and sortable.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}
    # Every model is mapped to a Table (none to a select or a join), which the upserts rely on.
    __table__: ClassVar[Table]


class Source(Base):
    """信息源: one public feed (or an archive) with its health."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="auto")
    owner_unit: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    poll_interval_s: Mapped[int] = mapped_column(Integer, default=1800)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # 信息源角色: official | media | public; inferred from category and name when the file gave none.
    role: Mapped[str] = mapped_column(String(16), default="public")
    role_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None]

    # Conditional GET state, written in the same transaction as the items it describes.
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    content_sha1: Mapped[str | None] = mapped_column(String(40))

    # Health.
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_new_item_at: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None] = mapped_column(index=True)
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_http_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_note: Mapped[str | None] = mapped_column(Text)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)

    # Permanent redirects seen in a row to the same target; the URL moves at a threshold.
    redirect_url: Mapped[str | None] = mapped_column(Text)
    redirect_count: Mapped[int] = mapped_column(Integer, default=0)

    # What to read from a source that is not a feed: ``{"page": {...selectors}}`` or ``{"json": {...mapping}}``.
    extract: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Item(Base):
    """信息/帖文: one entry of one source, stored once."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("source_id", "entry_key"),
        Index("ix_items_published_at", "published_at"),
        Index("ix_items_fetched_at", "fetched_at"),
        Index("ix_items_source_published", "source_id", "published_at"),
        # The posts comments answer are looked up by URL (``in_reply_to``). A hash index on PostgreSQL:
        # a btree refuses entries over ~2.7 kB, and a URL may be 2,000 characters of any script.
        Index("ix_items_url", "url", postgresql_using="hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    # guid (made unique with the link if the feed repeats it), else link, else a content hash.
    entry_key: Mapped[str] = mapped_column(String(600))
    guid: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(300))
    published_at: Mapped[datetime]
    published_raw: Mapped[str | None] = mapped_column(String(200))
    # Why published_at is the fetch time: 'missing', 'unparseable' or 'future'; None if the feed's date was used.
    published_fallback: Mapped[str | None] = mapped_column(String(16))
    fetched_at: Mapped[datetime]
    fingerprint: Mapped[str] = mapped_column(String(40), index=True)
    # The official reply a message board publishes with the message (领导留言板, 12345): its text, its
    # time (an official response of the message's event at that time) and who replied.
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_at: Mapped[datetime | None]
    reply_by: Mapped[str | None] = mapped_column(String(200))
    # The post this item comments on, replies to or forwards, where the source says so (a URL):
    # grouping puts the item in that post's event (``events`` ``thread`` rule).
    in_reply_to: Mapped[str | None] = mapped_column(Text)
    # Full text (collect.fulltext): the article page's main text, which the rules read instead of the
    # feed's summary; when and from which URL it was fetched; when the page was last fetched again;
    # when a later fetch found it gone (404/410, or its text disappeared): 原文已删除.
    full_text: Mapped[str | None] = mapped_column(Text)
    enriched_at: Mapped[datetime | None]
    enriched_from: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class PageSnapshot(Base):
    """快照: a kept copy of a relevant item's page, as fetched once. The gzip-compressed HTML and the
    extracted text are files in the snapshot folder (``Settings.effective_snapshots_dir``) named by
    the HTML's SHA-256, so identical pages are kept once; this row says when, from where and with
    which answer the copy was fetched."""

    __tablename__ = "page_snapshots"
    __table_args__ = (UniqueConstraint("item_id", "content_hash"), Index("ix_page_snapshots_hash", "content_hash"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the HTML as received (decoded transfer)
    path: Mapped[str] = mapped_column(String(200))  # of the .html.gz, relative to the snapshot folder
    fetched_at: Mapped[datetime]
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    http_status: Mapped[int] = mapped_column(Integer)
    html_bytes: Mapped[int] = mapped_column(Integer)
    text_chars: Mapped[int] = mapped_column(Integer)


class FetchAttempt(Base):
    """One poll of one source: what happened, for health views and reports."""

    __tablename__ = "fetch_attempts"
    __table_args__ = (
        Index("ix_fetch_attempts_source_started", "source_id", "started_at"),
        Index("ix_fetch_attempts_started", "started_at"),  # a day's polls of every source, for source coverage
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int | None] = mapped_column(Integer)
    final_url: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    entries_seen: Mapped[int] = mapped_column(Integer, default=0)
    items_new: Mapped[int] = mapped_column(Integer, default=0)
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)


class HotListObservation(Base):
    """Where an item of a hot list (热榜) stood at one poll of that list: its rank and heat then."""

    __tablename__ = "hot_list_observations"
    __table_args__ = (
        # The natural key; its prefix serves a source's retention (older than the window, dropped at each poll).
        UniqueConstraint("source_id", "polled_at", "item_id"),
        Index("ix_hot_list_observations_item_polled", "item_id", "polled_at"),  # an event's items on lists
        Index("ix_hot_list_observations_polled", "polled_at"),  # a day's sightings, for the daily report
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    polled_at: Mapped[datetime]
    rank: Mapped[int | None] = mapped_column(Integer)  # 1 = top; None for an entry the list shows without a number
    heat: Mapped[int | None] = mapped_column(BigInteger)  # the heat read as a number (123.4万 -> 1234000)
    heat_text: Mapped[str | None] = mapped_column(String(50))  # the heat as the list wrote it


# --- risk library (风险库), versioned as a whole -------------------------------------


class RiskLibraryVersion(Base):
    """One imported version of the risk library: the YAML as written, who, when, what changed."""

    __tablename__ = "risk_library_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    source_file: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    content_sha1: Mapped[str] = mapped_column(String(40))
    # What changed against the previous version, as produced by ``risk.library.diff_libraries``.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RiskPoint(Base):
    """风险点: a known local sensitive issue, as it stood in one library version."""

    __tablename__ = "risk_points"
    __table_args__ = (UniqueConstraint("version_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("risk_library_versions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    units: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[int] = mapped_column(Integer)
    positive: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)


class Rule(Base):
    """关键词规则: one expression of a risk point, of the region scope or of the exclusions."""

    __tablename__ = "rules"
    __table_args__ = (Index("ix_rules_version", "version_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("risk_library_versions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # 'region' | 'exclusion' | 'risk'
    risk_point_id: Mapped[int | None] = mapped_column(ForeignKey("risk_points.id", ondelete="CASCADE"))
    # The exclusion's name, or the risk point's name, for explanations without joins.
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    expression: Mapped[str] = mapped_column(Text)


class ItemAnalysis(Base):
    """Which library version last analysed an item, and whether the item is in scope at all."""

    __tablename__ = "item_analysis"

    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("risk_library_versions.id"))
    relevant: Mapped[bool] = mapped_column(Boolean)  # about this county: region scope or a local source
    excluded: Mapped[bool] = mapped_column(Boolean)  # an exclusion rule matched (ads and the like)
    analyzed_at: Mapped[datetime]
    # count_words of title and text with this version's terms, for event hot words (relevant items only):
    # segmenting in the parallel match step keeps it out of the serial warn step.
    word_counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # 立场 (risk.stance): complaint, question, rumour, harm_report, official_response, debunk, resolution,
    # positive or other; and why: {"role": ..., "cues": [...], "rule": ...}. None for items analysed before 0006.
    stance: Mapped[str | None] = mapped_column(String(20))
    stance_reason: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Match(Base):
    """命中: item x rule, with the matched terms and their character offsets."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("item_id", "rule_id"),
        Index("ix_matches_risk_point_name", "risk_point_name", "item_id"),
        # Reports join an item's matches to its latest analysis on both columns: one index serving
        # both equalities keeps planners (SQLite's has no statistics) from walking a version's matches.
        Index("ix_matches_item_version", "item_id", "version_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id", ondelete="CASCADE"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("risk_library_versions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    risk_point_name: Mapped[str | None] = mapped_column(String(200))
    # [{"term": ..., "field": "title"|"text"|"source", "start": int, "end": int}, ...]
    hits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]


# --- events (舆情事件) and warnings (预警) -------------------------------------------------


class Event(Base):
    """舆情事件: items about one happening. Figures are recomputed from its items, never accumulated."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_last_seen", "last_seen_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seed_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id"), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    source_count: Mapped[int] = mapped_column(Integer, default=0)
    velocity_per_h: Mapped[float] = mapped_column(Float, default=0.0)
    heat: Mapped[float] = mapped_column(Float, default=0.0)
    risk_points: Mapped[list[str]] = mapped_column(JSON, default=list)
    hot_words: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)  # [word, weight] pairs, as JSON arrays
    sensitive_words: Mapped[list[str]] = mapped_column(JSON, default=list)
    spike: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float, default=0.0)  # the risk score (risk.scoring.score_event)
    level: Mapped[int | None] = mapped_column(Integer)  # 4 = IV 一般 ... 1 = I 特别重大
    # The score's named parts: [{"name", "label", "points", "detail"}, ...]; None before 0008.
    score_parts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # 快速回应 (risk.response): first public signal, first official response, working hours between
    # (or to the refresh while unanswered), the target and when it falls due, and the status.
    first_signal_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    response_delay_work_h: Mapped[float | None] = mapped_column(Float)
    response_target_work_h: Mapped[float | None] = mapped_column(Float)
    response_due_at: Mapped[datetime | None]
    response_status: Mapped[str | None] = mapped_column(String(16))  # on_time | late | overdue | pending
    updated_at: Mapped[datetime]
    # Set when this event was found to be part of another: its items, warnings and cases went there.
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("events.id"))


class EventItem(Base):
    """Which event an item belongs to, and which rule of the chain joined it."""

    __tablename__ = "event_items"
    __table_args__ = (
        Index("ix_event_items_event", "event_id"),
        # The event page's timeline, a page at a time in publication order (an event may hold thousands).
        Index("ix_event_items_event_published", "event_id", "published_at", "item_id"),
    )

    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    joined_by: Mapped[str] = mapped_column(
        String(16)
    )  # 'seed' | 'url' | 'thread' | 'title' | 'minhash' | 'profile' | 'topic' | 'point' | 'anchor'
    similarity: Mapped[float | None] = mapped_column(Float)
    matched_item_id: Mapped[int | None] = mapped_column(BigId)
    published_at: Mapped[datetime] = mapped_column(index=True)
    signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    # How the signature was computed (EventGrouper.signature_scheme); another scheme's bytes are recomputed.
    signature_scheme: Mapped[str | None] = mapped_column(String(80))
    joined_at: Mapped[datetime]
    # The analyst who put the item in this event by hand (a split): grouping never moves it out again.
    pinned_by: Mapped[str | None] = mapped_column(String(200))


class EarlyWarning(Base):
    """预警: an event crossing a level. One row per event (the incident), updated in place when its level rises.

    ``level`` is the most severe level the event has been warned at; ``effective_level`` that level
    after an analyst's downgrade; ``score`` and ``reasons`` follow the event's latest refresh. Level
    rises and material changes are appended to ``warning_actions`` (actor 系统).
    """

    __tablename__ = "warnings"
    __table_args__ = (UniqueConstraint("event_id"), Index("ix_warnings_created", "created_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    version_id: Mapped[int] = mapped_column(ForeignKey("risk_library_versions.id"))
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # open | acknowledged | downgraded | dismissed | merged (its event merged into another warned one)
    status: Mapped[str] = mapped_column(String(16), default="open")
    effective_level: Mapped[int] = mapped_column(Integer)  # level after an analyst's downgrade
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # For status 'merged': the surviving event's warning, which carries on for both (this row stays on its own event).
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warnings.id"))


class EarlyWarningAction(Base):
    """An analyst's decision on a warning, or the system's record of a level rise or material change: never edited."""

    __tablename__ = "warning_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    warning_id: Mapped[int] = mapped_column(BigId, ForeignKey("warnings.id", ondelete="CASCADE"), index=True)
    # An analyst's acknowledge | downgrade | dismiss; the system's raise (level rose) | change (material change) | merge
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    from_level: Mapped[int] = mapped_column(Integer)
    to_level: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class EventMerge(Base):
    """The audit of events merged and split: which items moved from which event into which, why, by whom.

    ``kind`` 'merge': event ``from_event_id`` was found to be part of
    ``into_event_id`` (the survivor) and all its items moved there. ``kind``
    'split': an analyst moved ``item_ids`` out of ``from_event_id`` into the
    new event ``into_event_id``. ``actor`` is 'system' for merges found by
    grouping, else the analyst. ``details`` lists what followed the event
    (warnings moved or merged, cases relinked, document numbers). Append-only.
    """

    __tablename__ = "event_merges"
    __table_args__ = (Index("ix_event_merges_from", "from_event_id"), Index("ix_event_merges_into", "into_event_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # merge | split
    from_event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id"))
    into_event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id"))
    item_id: Mapped[int | None] = mapped_column(BigId)  # the item whose evidence tied the two (system merges)
    item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the items that moved
    reason: Mapped[str] = mapped_column(String(16))  # minhash | title | topic | ... | analyst
    similarity: Mapped[float | None] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


class EventSeparation(Base):
    """An analyst's "these two are different happenings": grouping never merges them (``event_a_id < event_b_id``).

    Either end may later be merged into another event; the separation then
    holds for the survivor (ends are resolved through ``Event.merged_into_id``).
    """

    __tablename__ = "event_separations"
    __table_args__ = (UniqueConstraint("event_a_id", "event_b_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_a_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id"))
    event_b_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id"), index=True)
    merge_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("event_merges.id"))  # the split that made it
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class RiskNotice(Base):
    """网络风险提示函 data: a risk point whose signals are rising (``origin`` signal, written by the
    risk-library flow), or a risk the office sees coming and writes by hand (``origin`` manual, 关口前移).

    A hand-written letter names its matter in ``risk_point_name`` (a risk point's name or a free
    subject), says what is foreseen in ``body`` and what the units must do in ``requirements``;
    its statistical columns are zero.
    """

    __tablename__ = "risk_notices"
    __table_args__ = (UniqueConstraint("risk_point_name", "day", "origin"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    risk_point_name: Mapped[str] = mapped_column(String(200))
    day: Mapped[str] = mapped_column(String(10))  # the local day (YYYY-MM-DD) whose count rose, or it was written
    origin: Mapped[str] = mapped_column(String(16), default="signal")  # signal | manual
    version_id: Mapped[int | None] = mapped_column(ForeignKey("risk_library_versions.id"))
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    requirements: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(200))
    units: Mapped[list[str]] = mapped_column(JSON, default=list)
    current_count: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    baseline: Mapped[list[int]] = mapped_column(JSON, default=list)
    example_item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]


# --- units (单位) and deliveries --------------------------------------------------------------


class Unit(Base):
    """单位: a township, a county department, a leadership role or the office itself, with where to reach it.

    ``targets`` are Apprise URLs that may name secrets as ``${NAME}`` (resolved at send
    time from the environment or Prefect Secret blocks, never stored resolved).
    """

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="department")  # township | department | leadership | office
    # The unit's leadership (another unit's name): where overdue notices escalate.
    leader: Mapped[str | None] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. ["county_leadership", "core_department"]
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Delivery(Base):
    """One message to one recipient on one channel, recorded before it is sent (send-once ledger).

    ``key`` is the idempotency key: a retried flow finds the row and does not send
    again; a row left 'pending' by a crash between recording and sending is
    reported as 'uncertain', never silently resent.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(Text)  # the target with secrets redacted
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed | uncertain | held | digested
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # The message body and the row's state for (re)sending -- release time, claim time, digest
    # links, the caller's reference -- as JSON, read and written only by ``notify.ledger``.
    envelope: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class DocumentNumber(Base):
    """文号: sequential numbers per kind and year (青舆专〔2026〕7号, 督〔2026〕17号).

    A subject (an event, a case, a notice) keeps the number it was given, so
    rendering a document again, or retrying the flow that issued it, never
    consumes a new number.
    """

    __tablename__ = "document_numbers"
    __table_args__ = (UniqueConstraint("kind", "year", "subject"), UniqueConstraint("kind", "year", "number"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200))
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


# --- supervision cases (督办件) ------------------------------------------------------------------


class Case(Base):
    """督办件: a matter a unit must verify and resolve by a working-day deadline.

    ``version`` makes concurrent updates safe: an update of a row that
    changed since it was read fails instead of overwriting (optimistic lock).
    """

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_state_deadline", "state", "deadline_at"), Index("ix_cases_created", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)  # 督〔2026〕17号
    title: Mapped[str] = mapped_column(Text)
    origin_kind: Mapped[str] = mapped_column(String(16))  # warning | event | item | manual
    origin_id: Mapped[int | None] = mapped_column(BigId)
    lead_unit: Mapped[str] = mapped_column(String(200), index=True)
    co_units: Mapped[list[str]] = mapped_column(JSON, default=list)
    requirement: Mapped[str] = mapped_column(Text)
    case_type: Mapped[str] = mapped_column(String(40))
    time_limit: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20))
    deadline_at: Mapped[datetime | None]
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # An extension asked for and not yet decided: {"until": iso datetime, "reason": ..., "by": ..., "at": ...}
    extension_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    answer: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    reprimand_listed_at: Mapped[datetime | None]  # listed for public reprimand (通报) in the daily report
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    dispatched_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy types it as a plain attribute, not a ClassVar


class CaseEvent(Base):
    """The case's audit trail: who did what, when, from which state to which. Append-only."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Account(Base):
    """An account of the web workbench: a role, for unit members their one unit, an argon2 password hash.

    Accounts are disabled, never deleted, so the audit trail always names one.
    """

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # the login name
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # analyst | duty | head | unit | leader
    unit: Mapped[str | None] = mapped_column(String(200), index=True)  # a units.name, for role unit only
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]


class WebSession(Base):
    """A signed-in browser: only the SHA-256 of its cookie token is stored, so a leaked table opens no session."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    client: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(Base):
    """One failed sign-in, counted per login name and per client address to slow password guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_name_at", "name", "at"), Index("ix_login_failures_client_at", "client", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(100))
    client: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """Who changed what through an interface: the account's id and name as stored, never a typed name. Append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    account_id: Mapped[int | None] = mapped_column(Integer, index=True)  # None: the command line (name: the login user)
    account_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))  # login, logout, case.ack, account.add, ...
    target: Mapped[str | None] = mapped_column(String(200))  # a case number, an account name
    client: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseAttachment(Base):
    """A file a unit handed in with a case, stored under the yuqing home (never a web root) by its ``stored_name``."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)


class NoticeReceipt(Base):
    """回执: a unit's acknowledgement of a notice addressed to it, by the account that signed for it. One per notice and unit.

    ``notice_kind`` ``supervision`` (a 舆情督报: ``notice_id`` is its ``document_numbers`` row) or
    ``risk_notice`` (a 网络风险提示函: ``notice_id`` is its ``risk_notices`` row).
    """

    __tablename__ = "notice_receipts"
    __table_args__ = (UniqueConstraint("notice_kind", "notice_id", "unit"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notice_kind: Mapped[str] = mapped_column(String(20))
    notice_id: Mapped[int] = mapped_column(BigId)
    unit: Mapped[str] = mapped_column(String(200), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime]


class UnitLead(Base):
    """报送: a lead a unit reported through the workbench. Its content is an item of the source 单位报送.

    The unit and the reporting account are kept here, not on the item; an
    optional file lies under ``<attachments_dir>/leads`` by its ``stored_name``.
    A second report of the same link points at the item the first one made.
    """

    __tablename__ = "unit_leads"
    __table_args__ = (Index("ix_unit_leads_reported_at", "reported_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id", ondelete="CASCADE"), index=True)
    unit: Mapped[str] = mapped_column(String(200), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime]
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))


# --- 研判 and meetings on events -----------------------------------------------------------------


class Assessment(Base):
    """研判: the office's judgement on an event, drafted by an analyst and approved (签发) by the office head.

    ``state`` draft -> submitted -> approved, or submitted -> returned (with a reason) -> draft again.
    ``facts`` are the system's facts the draft started from (event figures, score parts, response
    timing), kept as they were so the approved text can be read against them.
    """

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_event_state", "event_id", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))  # draft | submitted | approved | returned
    nature: Mapped[str] = mapped_column(Text)  # 性质
    trend: Mapped[str] = mapped_column(Text)  # 走势
    risks: Mapped[str] = mapped_column(Text)  # 风险
    handling: Mapped[str] = mapped_column(Text)  # 处置建议
    talking_points: Mapped[str] = mapped_column(Text)  # 回应口径
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    drafted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    returned_reason: Mapped[str | None] = mapped_column(Text)


class Meeting(Base):
    """研判会 or 联席会议 on an event: when, which units or roles attended (never persons), what was decided.

    ``decisions``: ``[{"text": ..., "case": "督〔2026〕3号" | None, "effect": "opened" | "updated" | None}]``.
    """

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # assessment (研判会) | joint (联席会议)
    held_at: Mapped[datetime]
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
