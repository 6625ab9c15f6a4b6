"""What an analysis left in the database, by natural keys, for comparing two runs.

Two databases analysed from the same items (one on the default task runner
and one on Dask, or one whose run failed and was retried and one whose run
never failed) must give equal snapshots. Surrogate ids, timestamps and
anything else that depends on when the run happened are left out; an item
is known by (source name, entry key), a rule by (kind, label, position).

Example::

    assert analysis_snapshot(retried_db) == analysis_snapshot(clean_db)
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from yuqing_core.db.database import Database
from yuqing_core.db.models import (
    EarlyWarning,
    Event,
    EventItem,
    Item,
    ItemAnalysis,
    Match,
    Rule,
    Source,
)


def analysis_snapshot(db: Database) -> dict[str, list[Any]]:
    """Verdicts, matches with their hits, the event partition with each event's figures, memberships, warnings."""
    with db.reader() as session:
        key = {
            i.id: (s, i.entry_key)
            for i, s in session.execute(select(Item, Source.name).join(Source, Source.id == Item.source_id))
        }
        labels = {r.id: (r.kind, r.label, r.position) for r in session.scalars(select(Rule))}
        verdicts = sorted((key[a.item_id], a.relevant, a.excluded) for a in session.scalars(select(ItemAnalysis)))
        matches = sorted(
            (
                key[m.item_id],
                labels[m.rule_id],
                m.kind,
                m.risk_point_name or "",
                json.dumps(m.hits, ensure_ascii=False, sort_keys=True),
            )
            for m in session.scalars(select(Match))
        )
        members: dict[int, list[Any]] = {}
        for member in session.scalars(select(EventItem)):
            matched = key[member.matched_item_id] if member.matched_item_id else None
            members.setdefault(member.event_id, []).append((key[member.item_id], member.joined_by, matched, member.similarity))
        partition = {event_id: tuple(sorted(m[0] for m in found)) for event_id, found in members.items()}
        events = sorted(
            (
                partition.get(e.id, ()),
                key[e.seed_item_id],
                e.title,
                e.item_count,
                e.source_count,
                e.risk_points,
                e.sensitive_words,
                json.dumps(e.hot_words, ensure_ascii=False),
                e.score,
                e.level,
            )
            for e in session.scalars(select(Event))
        )
        memberships = sorted(m for found in members.values() for m in found)
        warnings = sorted(
            (partition.get(w.event_id, ()), w.level, w.score, w.status) for w in session.scalars(select(EarlyWarning))
        )
    return {"verdicts": verdicts, "matches": matches, "events": events, "memberships": memberships, "warnings": warnings}
