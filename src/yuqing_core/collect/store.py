"""Storing items exactly once, together with what the poll did to the source.

Items, the source's new state (conditional-GET validators included) and the
fetch attempt are written in one transaction: a run killed at any point
leaves either all of them or none, so the next run neither loses items
behind a saved ETag nor stores anything twice.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from yuqing_core.collect.health import PollOutcome, apply_outcome
from yuqing_core.collect.normalize import ItemRecord
from yuqing_core.config import Settings
from yuqing_core.db.models import FetchAttempt, Item, Source
from yuqing_core.db.upsert import insert_ignore


def insert_items(session: Session, source_id: int, records: Sequence[ItemRecord], fetched_at: datetime) -> list[int]:
    """Insert the records not yet stored for this source; return the new items' ids."""
    # vars(), not dataclasses.asdict(): a shallow copy is all a row needs, and asdict deep-copies every field.
    rows = [{**vars(record), "source_id": source_id, "fetched_at": fetched_at} for record in records]
    return insert_ignore(session, Item.__table__, rows, conflict=("source_id", "entry_key"))


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
    new_ids = insert_items(session, source.id, records, outcome.finished_at) if records else []
    outcome = replace(outcome, items_new=len(new_ids))
    apply_outcome(source, outcome, settings, rng)
    session.add(
        FetchAttempt(
            source_id=source.id,
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            status=outcome.status,
            http_status=outcome.http_status,
            final_url=outcome.final_url,
            error=outcome.error,
            entries_seen=outcome.entries_seen,
            items_new=outcome.items_new,
            bytes_read=outcome.bytes_read,
        )
    )
    return outcome, new_ids
