"""Storing items exactly once, together with what the poll did to the source.

Items, the source's new state (conditional-GET validators included) and the
fetch attempt are written in one transaction: a run killed at any point
leaves either all of them or none, so the next run neither loses items
behind a saved ETag nor stores anything twice.

An item the database refuses (a value it cannot encode, say) is skipped
and counted in the poll's note; the others are stored all the same. If
every item is refused, the poll is a failure in the source's health.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from yuqing_core.collect.health import PollOutcome, apply_outcome
from yuqing_core.collect.normalize import NOT_ITEM_COLUMNS, ItemRecord
from yuqing_core.config import Settings
from yuqing_core.db.models import FetchAttempt, Item, Source
from yuqing_core.db.upsert import insert_ignore
from yuqing_core.text import storable

logger = logging.getLogger(__name__)


def insert_items(session: Session, source_id: int, records: Sequence[ItemRecord], fetched_at: datetime) -> list[int]:
    """Insert the records not yet stored for this source; return the new items' ids."""
    # vars(), not dataclasses.asdict(): a shallow copy is all a row needs, and asdict deep-copies every field.
    rows = [{**vars(record), "source_id": source_id, "fetched_at": fetched_at} for record in records]
    for row in rows:  # what a record carries besides the item's columns (a hot list's position) is not stored here
        for name in NOT_ITEM_COLUMNS:
            del row[name]
    return insert_ignore(session, Item.__table__, rows, conflict=("source_id", "entry_key"))


def is_transient_database_error(exc: BaseException) -> bool:
    """A failure a retry can fix: the database busy or the connection dropped (not anything about the data)."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def insert_items_one_by_one(
    session: Session, source_id: int, records: Sequence[ItemRecord], fetched_at: datetime
) -> tuple[list[int], list[str]]:
    """Insert the records, skipping any the database refuses; return the new ids and why each skipped one failed.

    All of them go in one statement inside a savepoint; only if that fails
    is each record tried in a savepoint of its own, so one bad record costs
    only itself. A database that cannot be reached still raises.
    """
    try:
        with session.begin_nested():
            return insert_items(session, source_id, records, fetched_at), []
    except Exception as exc:
        if is_transient_database_error(exc):
            raise
    new_ids: list[int] = []
    failures: list[str] = []
    for record in records:
        try:
            with session.begin_nested():
                new_ids.extend(insert_items(session, source_id, [record], fetched_at))
        except Exception as exc:
            if is_transient_database_error(exc):
                raise
            logger.warning("条目 %s 无法保存，已跳过：%r", record.entry_key, exc)
            failures.append(f"{type(exc).__name__}: {exc}".splitlines()[0][:200])
    return new_ids, failures


def record_poll(
    session: Session,
    source: Source,
    outcome: PollOutcome,
    records: Sequence[ItemRecord],
    settings: Settings,
    rng: random.Random | None = None,
) -> tuple[PollOutcome, list[int]]:
    """Store new items, update the source's health and log the attempt, in the caller's transaction.

    Returns the outcome with ``items_new`` filled in, and the new item ids.
    """
    new_ids, failures = insert_items_one_by_one(session, source.id, records, outcome.finished_at) if records else ([], [])
    outcome = replace(outcome, items_new=len(new_ids))
    if failures and len(failures) == len(records):  # nothing could be kept: the poll failed, and the next one reads afresh
        outcome = replace(outcome, status="error", error=f"全部 {len(failures)} 个条目无法保存（{storable(failures[0])}）")
    elif failures:
        skipped = f"{len(failures)} 个条目无法保存，已跳过（{storable(failures[0])}）"
        outcome = replace(outcome, note="；".join(filter(None, (outcome.note, skipped))))
    apply_outcome(source, outcome, settings, rng)
    session.add(FetchAttempt(**poll_log_row(source.id, outcome)))
    return outcome, new_ids


def record_polls_without_items(
    session: Session, polls: Sequence[tuple[Source, PollOutcome]], settings: Settings, rng: random.Random | None = None
) -> None:
    """``record_poll`` for many polls that brought no items, in the caller's transaction.

    Each source's health changes exactly as ``record_poll`` would change it;
    the poll log rows go in as one multi-row ``INSERT`` instead of one ORM
    object each, which is most of what a batch of unchanged sources costs.
    """
    for source, outcome in polls:
        apply_outcome(source, outcome, settings, rng)
    if polls:
        session.execute(insert(FetchAttempt.__table__), [poll_log_row(source.id, outcome) for source, outcome in polls])


def poll_log_row(source_id: int, outcome: PollOutcome) -> dict[str, Any]:
    """The fetch attempt a poll leaves in the poll log."""
    return {
        "source_id": source_id,
        "started_at": outcome.started_at,
        "finished_at": outcome.finished_at,
        "status": outcome.status,
        "http_status": outcome.http_status,
        "final_url": outcome.final_url,
        "error": outcome.error,
        "entries_seen": outcome.entries_seen,
        "items_new": outcome.items_new,
        "bytes_read": outcome.bytes_read,
    }
