"""Refreshing events' figures, scoring them and raising warnings (预警).

Every figure of an event is recomputed from its items (never accumulated),
so refreshing twice gives the same row. A warning is raised once per
(event, level): an event is alerted again only when its level rises above
the most severe level it has already been warned at; an analyst's
downgrade or dismissal is kept and does not bring the warning back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select

from yuqing_core.analysis.match import hot_word_text
from yuqing_core.db.database import Database
from yuqing_core.db.models import EarlyWarning, Event, EventItem, Item, ItemAnalysis, Match, Source
from yuqing_core.db.upsert import insert_ignore
from yuqing_core.events import count_words, heat_score, hot_words_from_counts, spike_test
from yuqing_core.levels import Level
from yuqing_core.risk.scoring import EventFacts, level_for, score_event
from yuqing_core.risk.signals import BASELINE_DAYS, SPIKE_WINDOW, risk_point_counts, rolling_counts
from yuqing_core.risk.versions import ActiveLibrary
from yuqing_core.rules import normalize_for_matching
from yuqing_core.timeutil import utcnow

VELOCITY_WINDOW = timedelta(hours=6)
HOT_WORDS = 8
HOT_WORD_TEXTS = 200


@dataclass(frozen=True)
class RaisedWarning:
    """A warning created by this refresh: what the task layer announces."""

    id: int
    event_id: int
    level: int
    score: float
    title: str
    risk_points: list[str]

    @property
    def label(self) -> str:
        return Level(self.level).label


@dataclass
class WarnSummary:
    events: int = 0
    warnings: list[RaisedWarning] = field(default_factory=list)


def _event_items(db: Database, event_ids: list[int]) -> dict[int, list[Any]]:
    query = (
        select(
            EventItem.event_id,
            Item.id,
            Item.published_at,
            Item.title,
            Item.text,
            Source.name,
            Source.weight,
            ItemAnalysis.version_id,
            ItemAnalysis.word_counts,
        )
        .join(Item, Item.id == EventItem.item_id)
        .join(Source, Source.id == Item.source_id)
        .outerjoin(ItemAnalysis, ItemAnalysis.item_id == Item.id)
        .where(EventItem.event_id.in_(event_ids))
        .order_by(Item.published_at, Item.id)
    )
    grouped: dict[int, list[Any]] = defaultdict(list)
    with db.reader() as session:
        for row in session.execute(query):
            grouped[row.event_id].append(row)
    return grouped


def _hot_words(rows: list[Any], version_id: int, user_words: list[str]) -> list[tuple[str, float]]:
    """The event's hot words, from the word counts its items' match step stored (segmenting only items without)."""
    stored: list[dict[str, Any] | None] = [row.word_counts if row.version_id == version_id else None for row in rows]
    missing = [hot_word_text(row.title, row.text) for row, counts in zip(rows, stored, strict=True) if counts is None]
    computed = iter(count_words(missing, user_words) if missing else ())
    return hot_words_from_counts([counts if counts is not None else next(computed) for counts in stored], top_k=HOT_WORDS)


def _risk_points_of(db: Database, item_ids: list[int]) -> dict[int, set[str]]:
    """Risk points per item, from each item's latest analysis only."""
    query = (
        select(Match.item_id, Match.risk_point_name)
        .join(ItemAnalysis, and_(ItemAnalysis.item_id == Match.item_id, ItemAnalysis.version_id == Match.version_id))
        .where(Match.item_id.in_(item_ids), Match.kind == "risk")
    )
    found: dict[int, set[str]] = defaultdict(set)
    with db.reader() as session:
        for item_id, name in session.execute(query):
            if name is not None:  # a risk match always names its point (the column is empty for the other kinds)
                found[item_id].add(name)
    return found


def representative_title(rows: list[Any], weights: dict[str, float]) -> str:
    """The headline of the event's most authoritative titled item (the earliest among equals).

    The first post of a happening is often a vague question ("有人闻到吗"); the
    provincial paper's or the government's headline says what happened.
    """
    titled = [row for row in rows if row.title]
    if not titled:
        text: str = rows[0].text
        return text[:60]
    best = max(titled, key=lambda row: (weights.get(row.name, row.weight), -row.published_at.timestamp(), -row.id))
    title: str = best.title
    return title


def _spike(counts: list[int]) -> dict[str, Any]:
    result = spike_test(counts[:-1], counts[-1])
    return {
        "is_spike": result.is_spike,
        "current": result.current,
        "expected": round(result.expected, 3),
        "p_value": result.p_value,
    }


def refresh_events(db: Database, library: ActiveLibrary, event_ids: Iterable[int], *, now: datetime | None = None) -> WarnSummary:
    """Recompute figures, score and level of the events; raise warnings where the level rose."""
    now = now or utcnow()
    event_ids = sorted(set(event_ids))
    summary = WarnSummary()
    if not event_ids:
        return summary
    spec = library.spec
    items_by_event = _event_items(db, event_ids)
    all_items = [row.id for rows in items_by_event.values() for row in rows]
    points_by_item = _risk_points_of(db, all_items)
    severity = {p.name: p.severity for p in spec.risk_points if not p.positive}
    point_spikes = {
        name: _spike(counts) for name, counts in risk_point_counts(db, severity, end=now, windows=BASELINE_DAYS + 1).items()
    }
    sensitive = [(word, normalize_for_matching(word)) for word in spec.sensitive_words]
    user_words = list(library.compiled.ruleset.terms)

    with db.writer() as session:
        # An event merged into another has no items left and stays as a pointer to its survivor.
        live = select(Event).where(Event.id.in_(event_ids), Event.merged_into_id.is_(None))
        events = {e.id: e for e in session.scalars(live)}
        warned = dict(
            session.execute(
                select(EarlyWarning.event_id, func.min(EarlyWarning.level))
                .where(EarlyWarning.event_id.in_(event_ids))
                .group_by(EarlyWarning.event_id)
            ).all()
        )
        new_warning_rows = []
        for event_id in event_ids:
            event, rows = events.get(event_id), items_by_event.get(event_id, [])
            if event is None:
                continue
            if not rows:  # founded by a run whose items went to another event: nothing to keep
                session.delete(event)
                continue
            summary.events += 1
            sources = {row.name: row.weight for row in rows}
            authority = max(spec.source_weights.get(name, weight) for name, weight in sources.items())
            points: list[str] = []
            for row in rows:
                for name in sorted(points_by_item.get(row.id, ())):
                    if name not in points:
                        points.append(name)
            recent = sum(1 for row in rows if row.published_at > now - VELOCITY_WINDOW)
            texts = [normalize_for_matching(f"{row.title} {row.text}") for row in rows]
            found_words = [word for word, normal in sensitive if any(normal in text for text in texts)]
            event_counts = rolling_counts([row.published_at for row in rows], end=now, windows=BASELINE_DAYS + 1)
            event_spike = _spike(event_counts)
            # A risk point's spike lifts only the events that take part in it (items in the spike window).
            active_now = any(row.published_at > now - SPIKE_WINDOW for row in rows)
            spiking_points = [name for name in points if active_now and point_spikes.get(name, {}).get("is_spike")]
            facts = EventFacts(
                severity=max((severity[name] for name in points if name in severity), default=0),
                authority=authority,
                item_count=len(rows),
                source_count=len(sources),
                velocity_per_h=recent / (VELOCITY_WINDOW.total_seconds() / 3600),
                spike=event_spike["is_spike"] or bool(spiking_points),
                sensitive=bool(found_words),
            )
            score = score_event(facts)
            level = level_for(score.total, spec.warning_levels.by_level()) if facts.severity else None
            last = max(row.published_at for row in rows)
            event.title = representative_title(rows, spec.source_weights)
            event.first_seen_at = min(row.published_at for row in rows)
            event.last_seen_at = last
            event.item_count = len(rows)
            event.source_count = len(sources)
            event.velocity_per_h = round(facts.velocity_per_h, 3)
            event.heat = round(
                heat_score(
                    len(rows),
                    len(sources),
                    sum(sources.values()),
                    facts.velocity_per_h,
                    max(0.0, (now - last).total_seconds() / 3600),
                ),
                2,
            )
            event.risk_points = points
            event.hot_words = [
                [word, round(weight, 4)] for word, weight in _hot_words(rows[-HOT_WORD_TEXTS:], library.version_id, user_words)
            ]
            event.sensitive_words = found_words
            event.spike = {**event_spike, "risk_points": spiking_points}
            event.score = score.total
            event.level = level
            event.updated_at = now
            already = warned.get(event_id)
            if level is not None and (already is None or level < already):
                reasons = {
                    "components": score.components, "risk_points": points, "sensitive_words": found_words,
                    "spike": event.spike, "items": len(rows), "sources": len(sources),
                }  # fmt: skip
                new_warning_rows.append(
                    {
                        "event_id": event_id,
                        "level": level,
                        "score": score.total,
                        "version_id": library.version_id,
                        "reasons": reasons,
                        "status": "open",
                        "effective_level": level,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        session.flush()
        inserted = insert_ignore(session, EarlyWarning.__table__, new_warning_rows, conflict=("event_id", "level"))
        if inserted:
            for warning in session.scalars(select(EarlyWarning).where(EarlyWarning.id.in_(inserted))):
                event = events[warning.event_id]
                summary.warnings.append(
                    RaisedWarning(
                        warning.id, warning.event_id, warning.level, warning.score, event.title, list(event.risk_points)
                    )
                )
    summary.warnings.sort(key=lambda w: (w.level, -w.score))
    return summary
