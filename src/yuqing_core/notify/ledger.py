"""The send-once ledger (table ``deliveries``): one row per message x recipient unit x channel.

A row is written, and committed, *before* its send, keyed by
``"{message key}|{unit}|{target id}"`` with ``INSERT ... ON CONFLICT DO
NOTHING``; whoever inserts it (or moves it from ``failed`` or ``held`` to
``pending`` with a conditional UPDATE) owns the send. Every status change
is such a conditional UPDATE, so two runs racing on one row never both win.

Statuses:

==========  =====================================================================
pending     claimed, the send is under way (or the process died during it)
sent        the channel accepted the message
failed      known not to have gone out (refused, unreachable, secret missing):
            retried by the next ``deliver`` of the message or by ``sweep``,
            up to ``sending.max_attempts`` attempts in all
uncertain   may have gone out: a ``pending`` row older than
            ``sending.in_flight`` (a crash between record and send), or a send
            that timed out. Never resent automatically; reported every time
            it is met until an operator calls ``resolve_uncertain``
held        waits for ``release_at``: the end of quiet hours, or its digest
digested    went out inside a digest row (the envelope's ``via`` names it)
==========  =====================================================================

What a row needs beyond the model's columns (the body, release time, claim
time, digest links) is kept as a JSON *envelope* in ``deliveries.envelope``,
read and written only here; the caller's own reference (a warning id, a
report path) is the envelope's ``reference``. Rows that wait or hang are few
at any moment, so finding them by reading their envelopes stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from yuqing_core.db.database import Database
from yuqing_core.db.models import Delivery
from yuqing_core.db.upsert import insert_ignore
from yuqing_core.errors import InvalidInput, NotFound
from yuqing_core.timeutil import utcnow

PENDING, SENT, FAILED, UNCERTAIN, HELD, DIGESTED = "pending", "sent", "failed", "uncertain", "held", "digested"
STATUSES = (PENDING, SENT, FAILED, UNCERTAIN, HELD, DIGESTED)
KEY_SEPARATOR = "|"
MAX_MESSAGE_KEY_CHARS = 180  # + "|" + unit (200) + "|" + target id (10) fits deliveries.key (400)
INTERRUPTED = "已记录但未确认发出（进程可能在记录与发送之间中断）；可能已送达，不会自动重发"
CONFIRMED_SENT = "人工确认已送达"
CONFIRMED_NOT_SENT = "人工确认未送达，将重新发送"


def ledger_key(message_key: str, unit: str, target: str) -> str:
    """``"{message key}|{unit}|{target id}"``: one delivery of one message to one channel of one unit."""
    return KEY_SEPARATOR.join((message_key, unit, target))


def split_key(key: str) -> tuple[str, str, str]:
    """``(message key, unit, target id)`` of a ledger key."""
    rest, _, target = key.rpartition(KEY_SEPARATOR)
    message_key, _, unit = rest.rpartition(KEY_SEPARATOR)
    return message_key, unit, target


@dataclass
class Envelope:
    """What a ledger row carries besides its columns, so it can be (re)sent from the ledger alone."""

    body: str = ""
    short: str = ""  # what an SMS channel gets instead of the body (Message.short)
    level: int | None = None
    attachments: list[str] = field(default_factory=list)
    reference: str | None = None  # the caller's: a warning id, a report path ...
    release_at: datetime | None = None  # held rows: when they may go
    digest: bool = False  # held rows: go out inside a digest, not alone
    claimed_at: datetime | None = None  # pending rows: when the current attempt began
    members: list[int] = field(default_factory=list)  # digest rows: the rows they carry
    via: str | None = None  # digested rows: the key of their digest row
    unheld: bool = False  # quiet hours never hold this row (someone on duty, an urgent escalation)
    note: str | None = None  # why the row exists, for people: e.g. sent to the fallback unit because ...

    def dumps(self) -> str:
        data = {name: value for name, value in asdict(self).items() if value not in (None, [], False, "")}
        for name in ("release_at", "claimed_at"):
            if name in data:
                data[name] = data[name].astimezone(UTC).isoformat()
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def loads(cls, text: str | None) -> Envelope:
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except ValueError:
            return cls(reference=text)  # a row written by something else: keep its reference as text
        if not isinstance(data, dict):
            return cls(reference=text)
        for name in ("release_at", "claimed_at"):
            if data.get(name):
                data[name] = datetime.fromisoformat(data[name])
        return cls(**{name: value for name, value in data.items() if name in cls.__dataclass_fields__})


def envelope(row: Delivery) -> Envelope:
    return Envelope.loads(row.envelope)


# --- rows (inside the caller's transaction) -----------------------------------------------


def record(session: Session, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert rows that do not exist yet; return the keys that were new (ours to send)."""
    return set(insert_ignore(session, Delivery.__table__, rows, conflict=["key"], returning="key"))


def rows_by_key(session: Session, keys: Iterable[str]) -> dict[str, Delivery]:
    keys = list(dict.fromkeys(keys))
    found: dict[str, Delivery] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update((row.key, row) for row in session.scalars(select(Delivery).where(Delivery.key.in_(chunk))))
    return found


def transition(session: Session, row: Delivery, expected: str | Sequence[str], **values: Any) -> bool:
    """Change a row only if its status is still ``expected``; True if this call changed it."""
    statuses = [expected] if isinstance(expected, str) else list(expected)
    if isinstance(values.get("envelope"), Envelope):
        values["envelope"] = values["envelope"].dumps()
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == row.id, Delivery.status.in_(statuses))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult; Session.execute is typed as Result
        return False
    fresh = session.get(Delivery, row.id, populate_existing=True)
    if fresh is not None and fresh is not row:  # ``row`` came from an earlier session: show it the new state
        for column in Delivery.__table__.columns:
            set_committed_value(row, column.key, getattr(fresh, column.key))
    return True


def claim(session: Session, row: Delivery, expected: str, now: datetime) -> bool:
    """Take a ``failed`` or ``held`` row for a new attempt (status ``pending``); False if someone else did."""
    claimed = replace(envelope(row), claimed_at=now)
    return transition(session, row, expected, status=PENDING, attempts=Delivery.attempts + 1, error=None, envelope=claimed)


def held_rows(session: Session, now: datetime, *, digest: bool) -> list[Delivery]:
    """Held rows whose release time has come: digest members, or rows held for quiet hours."""
    due = []
    for row in session.scalars(select(Delivery).where(Delivery.status == HELD).order_by(Delivery.id)):
        held = envelope(row)
        if held.digest == digest and held.release_at is not None and held.release_at <= now:
            due.append(row)
    return due


def interrupted_rows(session: Session, now: datetime, in_flight_s: int) -> list[Delivery]:
    """Pending rows claimed more than ``in_flight_s`` ago: their sender is gone."""
    stale = []
    for row in session.scalars(select(Delivery).where(Delivery.status == PENDING).order_by(Delivery.id)):
        claimed_at = envelope(row).claimed_at or row.created_at
        if (now - claimed_at).total_seconds() >= in_flight_s:
            stale.append(row)
    return stale


def failed_rows(session: Session, max_attempts: int) -> list[Delivery]:
    return list(
        session.scalars(select(Delivery).where(Delivery.status == FAILED, Delivery.attempts < max_attempts).order_by(Delivery.id))
    )


# --- for operators ---------------------------------------------------------------------------


def list_deliveries(
    db: Database,
    *,
    status: str | None = None,
    message_key: str | None = None,
    recipient: str | None = None,
    limit: int = 500,
) -> list[Delivery]:
    """Ledger rows, newest first: all, or of one status, one message, one unit."""
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Delivery.status == status)
    if message_key is not None:
        query = query.where(Delivery.key.startswith(message_key + KEY_SEPARATOR, autoescape=True))
    if recipient is not None:
        query = query.where(Delivery.recipient == recipient)
    with db.reader() as session:
        return list(session.scalars(query))


def resolve_uncertain(db: Database, key: str, *, delivered: bool, now: datetime | None = None) -> Delivery:
    """An operator's answer for an ``uncertain`` row: it arrived (``sent``) or it did not (``failed``: resent)."""
    now = now or utcnow()
    with db.writer() as session:
        row = session.scalar(select(Delivery).where(Delivery.key == key))
        if row is None:
            raise NotFound(f"没有发送记录 {key!r}")
        if row.status != UNCERTAIN:
            raise InvalidInput(f"发送记录 {key!r} 的状态是 {row.status}，不是 uncertain")
        if delivered:
            transition(session, row, UNCERTAIN, status=SENT, sent_at=now, error=CONFIRMED_SENT)
        else:
            transition(session, row, UNCERTAIN, status=FAILED, error=CONFIRMED_NOT_SENT)
        return row
