"""Official replies that arrive after their message (留言板: a message first, the unit's answer days later).

A new message is stored with its reply, if it has one already, by the exactly-once insert.
A message stored unanswered gets its reply here when a later poll shows one: only a message
without a reply is updated, so the first reply seen is kept and a rerun changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, bindparam, update
from sqlalchemy.orm import Session

from yuqing_core.collect.normalize import ItemRecord
from yuqing_core.db.models import Item


def record_replies(session: Session, source_id: int, records: Sequence[ItemRecord]) -> int:
    """Give stored, unanswered messages of this source the replies ``records`` carry; return how many were answered."""
    answered = [
        {"b_key": r.entry_key, "b_text": r.reply_text, "b_at": r.reply_at, "b_by": r.reply_by}
        for r in records
        if r.reply_at is not None
    ]
    if not answered:
        return 0
    statement = (
        update(Item)
        .where(and_(Item.source_id == source_id, Item.entry_key == bindparam("b_key"), Item.reply_at.is_(None)))
        .values(reply_text=bindparam("b_text"), reply_at=bindparam("b_at"), reply_by=bindparam("b_by"))
    )
    result = session.connection().execute(statement, answered)
    return int(result.rowcount or 0)
