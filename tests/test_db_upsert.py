"""``insert_ignore`` and ``upsert`` on SQLite and PostgreSQL: what is stored, what is skipped, what is returned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, StatementError

from yuqing_core.db.database import Database
from yuqing_core.db.models import Base, Event, EventItem, Item, Source
from yuqing_core.db.upsert import insert_ignore, upsert

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
AWKWARD = ["引号' \" 和 %s %(x)s 与 \\ 反斜杠", "", "𠀀 扩展B 字符", "{1,2}", "NULL"]


def _sources(session, names: list[str]) -> list[int]:
    return insert_ignore(
        session,
        Source.__table__,
        [{"name": name, "url": f"https://example.org/{n}", "created_at": NOW, "updated_at": NOW} for n, name in enumerate(names)],
        conflict=("name",),
    )


def test_insert_ignore_stores_new_rows_skips_existing_ones_and_returns_the_new(db: Database) -> None:
    with db.writer() as session:
        first = _sources(session, ["甲", "乙"])
    with db.writer() as session:
        # One conflicting name among awkward text: quotes, percent signs, backslashes, non-BMP, braces.
        second = _sources(session, ["乙", *AWKWARD])
    assert len(first) == 2
    assert len(second) == len(AWKWARD)
    assert not set(first) & set(second)
    with db.reader() as session:
        stored = {source.name: source for source in session.scalars(select(Source))}
    assert set(stored) == {"甲", "乙", *AWKWARD}
    assert stored["乙"].url == "https://example.org/1"  # the existing row is left as it was
    for name in AWKWARD:
        # Columns the rows leave out get their defaults, as in a plain INSERT.
        assert (stored[name].kind, stored[name].weight, stored[name].enabled, stored[name].timezone) == (
            "auto",
            1.0,
            True,
            "Asia/Shanghai",
        )


def test_insert_ignore_applies_column_types_to_every_row(db: Database) -> None:
    published = [datetime(2026, 12, 3, 9, 0, tzinfo=BEIJING), datetime(2026, 12, 3, 1, 30, tzinfo=UTC)]
    with db.writer() as session:
        (source_id,) = _sources(session, ["来源"])
        item_ids = insert_ignore(
            session,
            Item.__table__,
            [
                {
                    "source_id": source_id,
                    "entry_key": f"k{n}",
                    "url": None,
                    "title": AWKWARD[n],
                    "published_at": when,
                    "fetched_at": when,
                    "fingerprint": f"f{n}",
                }
                for n, when in enumerate(published)
            ],
            conflict=("source_id", "entry_key"),
        )
        seed = min(item_ids)
        # JSON values that are lists and objects stay values, not array dimensions.
        event_ids = insert_ignore(
            session,
            Event.__table__,
            [
                {
                    "seed_item_id": seed_id,
                    "title": "事件",
                    "first_seen_at": published[0],
                    "last_seen_at": published[1],
                    "updated_at": published[1],
                    "risk_points": points,
                    "hot_words": [["泄漏", 2.5], ["异味", 1]],
                    "spike": spike,
                }
                for seed_id, points, spike in zip(
                    sorted(item_ids), [["化工园区"], []], [{"ratio": 3.5, "at": "x"}, None], strict=True
                )
            ],
            conflict=("seed_item_id",),
        )
        event_id = min(event_ids)
        inserted = insert_ignore(
            session,
            EventItem.__table__,
            [
                {
                    "item_id": item_id,
                    "event_id": event_id,
                    "joined_by": "seed" if item_id == seed else "minhash",
                    "similarity": None if item_id == seed else 0.75,
                    "matched_item_id": None,
                    "published_at": when,
                    "signature": bytes(range(n, n + 40)),
                    "signature_scheme": "test",
                    "joined_at": when,
                }
                for n, (item_id, when) in enumerate(zip(sorted(item_ids), published, strict=True))
            ],
            conflict=("item_id",),
            returning="item_id",
        )
    assert sorted(inserted) == sorted(item_ids)
    with db.reader() as session:
        items = session.scalars(select(Item).order_by(Item.entry_key)).all()
        event = session.get(Event, event_id)
        other = session.scalars(select(Event).where(Event.id != event_id)).one()
        spike_is_null = session.scalar(select(Event.spike.is_(None)).where(Event.id == other.id))
        members = session.scalars(select(EventItem).order_by(EventItem.published_at)).all()
    # Stored as UTC and read back aware (the UTCDateTime decorator ran on each element).
    assert [item.published_at for item in items] == published
    assert all(item.published_at.tzinfo is UTC for item in items)
    assert [item.title for item in items] == AWKWARD[:2]
    assert event is not None
    assert (event.risk_points, event.hot_words, event.spike, event.item_count, event.sensitive_words) == (
        ["化工园区"],
        [["泄漏", 2.5], ["异味", 1]],
        {"ratio": 3.5, "at": "x"},
        0,
        [],
    )
    assert (other.risk_points, other.spike) == ([], None)
    assert not spike_is_null  # JSON null, as an INSERT of VALUES stores None in a JSON column
    assert [member.signature for member in members] == [bytes(range(40)), bytes(range(1, 41))]
    assert [member.similarity for member in members] == [None, 0.75]


def test_a_bad_row_stores_none_of_them(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.writer() as session:
        (source_id,) = _sources(session, ["来源"])
        insert_ignore(
            session,
            Item.__table__,
            [
                {
                    "source_id": source_id,
                    "entry_key": "a",
                    "published_at": datetime(2026, 12, 3, tzinfo=UTC),
                    "fetched_at": datetime(2026, 12, 3, tzinfo=UTC),
                    "fingerprint": "a",
                },
                {
                    "source_id": source_id,
                    "entry_key": "b",
                    "published_at": datetime(2026, 12, 3),  # naive
                    "fetched_at": datetime(2026, 12, 3, tzinfo=UTC),
                    "fingerprint": "b",
                },
            ],
            conflict=("source_id", "entry_key"),
        )
    with db.reader() as session:
        assert session.scalars(select(Source)).all() == []
        assert session.scalars(select(Item)).all() == []


def test_upsert_overwrites_only_the_named_columns(db: Database) -> None:
    with db.writer() as session:
        _sources(session, ["甲"])
    with db.writer() as session:
        upsert(
            session,
            Source.__table__,
            [
                {"name": "甲", "url": "https://new", "weight": 3.0, "created_at": NOW, "updated_at": NOW},
                {"name": "乙", "url": None, "weight": 2.0, "created_at": NOW, "updated_at": NOW},
            ],
            conflict=("name",),
            update=("weight",),
        )
    with db.reader() as session:
        stored = {s.name: (s.url, s.weight) for s in session.scalars(select(Source))}
    assert stored == {"甲": ("https://example.org/0", 3.0), "乙": (None, 2.0)}
    with db.writer() as session:  # one key twice in one call: the later row counts
        upsert(
            session,
            Source.__table__,
            [{"name": "乙", "weight": weight, "created_at": NOW, "updated_at": NOW} for weight in (4.0, 5.0)],
            conflict=("name",),
            update=("weight",),
        )
    with db.reader() as session:
        assert session.scalar(select(Source.weight).where(Source.name == "乙")) == 5.0


def test_callable_column_defaults_are_the_same_for_every_row() -> None:
    # insert_ignore on PostgreSQL computes the defaults of the columns rows leave out once per
    # statement; a default that must differ per row (a UUID, a clock) would need the other path.
    callables = {
        f"{table.name}.{column.name}": getattr(column.default.arg, "__name__", repr(column.default.arg))
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.default is not None and column.default.is_callable
    }
    assert set(callables.values()) <= {"list", "dict"}, callables


def _seeded_event(session) -> tuple[int, list[int]]:
    (source_id,) = _sources(session, ["来源"])
    item_ids = insert_ignore(
        session,
        Item.__table__,
        [
            {"source_id": source_id, "entry_key": f"k{n}", "published_at": NOW, "fetched_at": NOW, "fingerprint": f"f{n}"}
            for n in range(3)
        ],
        conflict=("source_id", "entry_key"),
    )
    (event_id,) = insert_ignore(
        session,
        Event.__table__,
        [{"seed_item_id": min(item_ids), "title": "事件", "first_seen_at": NOW, "last_seen_at": NOW, "updated_at": NOW}],
        conflict=("seed_item_id",),
    )
    return event_id, sorted(item_ids)


def _member(item_id: int, event_id: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "item_id": item_id, "event_id": event_id, "joined_by": "minhash", "similarity": 0.5, "matched_item_id": None,
        "published_at": NOW, "signature": None, "signature_scheme": None, "joined_at": NOW,
    }  # fmt: skip
    row.update(values)
    return row


def test_insert_ignore_keeps_floats_that_are_not_finite(db: Database) -> None:
    with db.writer() as session:
        event_id, item_ids = _seeded_event(session)
        values = [float("inf"), float("-inf"), 1 / 3]
        insert_ignore(
            session,
            EventItem.__table__,
            [_member(item_id, event_id, similarity=value) for item_id, value in zip(item_ids, values, strict=True)],
            conflict=("item_id",),
            returning="item_id",
        )
    with db.reader() as session:
        stored = session.scalars(select(EventItem.similarity).order_by(EventItem.item_id)).all()
    assert stored == values  # a third exactly: the shortest repr round-trips through text


def test_insert_ignore_never_cuts_a_value_too_long_for_its_column(db: Database) -> None:

    def rows(event_id: int, item_ids: list[int]) -> list[dict[str, object]]:
        return [_member(item_ids[0], event_id), _member(item_ids[1], event_id, joined_by="x" * 17)]  # String(16)

    if db.dialect == "postgresql":  # refused, and nothing of the statement stored
        with pytest.raises(DBAPIError, match="too long"), db.writer() as session:
            insert_ignore(session, EventItem.__table__, rows(*_seeded_event(session)), conflict=("item_id",), returning="item_id")
        with db.reader() as session:
            assert session.scalars(select(EventItem)).all() == []
    else:  # SQLite keeps any length: stored whole
        with db.writer() as session:
            insert_ignore(session, EventItem.__table__, rows(*_seeded_event(session)), conflict=("item_id",), returning="item_id")
        with db.reader() as session:
            assert sorted(session.scalars(select(EventItem.joined_by)).all()) == ["minhash", "x" * 17]
