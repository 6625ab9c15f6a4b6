"""Refreshing events' figures, scoring them and raising warnings (预警).

Every figure of an event is recomputed from its items (never accumulated),
so refreshing twice gives the same row. The risk score, its named parts and
the response timing come from one function, ``risk.scoring.score_event``.

One warning per incident (event). It is raised once, when the event first
reaches a level, and updated in place afterwards:

* the level rises above the most severe level it was warned at: the warning
  takes the new level (reopened if an analyst had acknowledged, downgraded or
  dismissed it), a ``raise`` entry goes to its history and one notice goes out
  (ledger key ``warning:<id>:level:<n>``);
* the incident changes materially — a new harm report, the response target
  passed without an official response, an official response arrived (an
  update that lowers urgency) — a ``change`` entry goes to its history and,
  unless an analyst dismissed the warning, one notice goes out (ledger key
  ``warning:<id>:change:<kind>``, with the harm reports' count for ``harm``).

The same facts never produce a second notice: what was last announced is kept
in the warning's ``reasons["watch"]``. An analyst's downgrade or dismissal
stays until the level rises above the level warned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, select, update

from yuqing_core.analysis.match import hot_word_text
from yuqing_core.db.database import Database
from yuqing_core.db.filters import one_of
from yuqing_core.db.models import EarlyWarning, EarlyWarningAction, Event, EventItem, Item, ItemAnalysis, Match, Source
from yuqing_core.db.upsert import insert_ignore
from yuqing_core.events import count_words, heat_score, hot_words_from_counts, spike_test
from yuqing_core.levels import Level
from yuqing_core.risk.hotlist import HOT_LIST_WINDOW, item_sightings
from yuqing_core.risk.response import WorkdayCalendar, is_official_response, is_problem_item
from yuqing_core.risk.scoring import EventFacts, EventScore, ScoredItem, score_event
from yuqing_core.risk.signals import BASELINE_DAYS, SPIKE_WINDOW, risk_point_counts, rolling_counts
from yuqing_core.risk.versions import ActiveLibrary
from yuqing_core.rules import normalize_for_matching
from yuqing_core.timeutil import utcnow

VELOCITY_WINDOW = timedelta(hours=6)
HOT_WORDS = 8
HOT_WORD_TEXTS = 200
SYSTEM_ACTOR = "系统"
# What a change notice says, most urgent first (one notice per refresh names the first and lists the rest).
CHANGE_LABELS = {
    "overdue": "超过回应时限未见官方回应",
    "harm": "出现新的伤亡/危害报告",
    "response": "官方已回应",
}


@dataclass(frozen=True)
class RaisedWarning:
    """A notice this refresh owes: a new warning, a level rise, or a material change. The task layer announces it."""

    id: int
    event_id: int
    level: int
    score: float
    title: str
    risk_points: list[str]
    kind: str = "new"  # new | level | change
    key: str = ""  # the send-once ledger key of this notice
    previous_level: int | None = None  # for a level rise
    changes: list[str] = field(default_factory=list)  # what changed, in words
    reasons: list[str] = field(default_factory=list)  # why the level is what it is

    @property
    def label(self) -> str:
        return Level(self.level).label

    @property
    def subject(self) -> str:
        if self.kind == "level" and self.previous_level is not None:
            return f"【预警升级 {Level(self.previous_level).numeral}→{Level(self.level).numeral}】{self.title}"
        if self.kind == "change":
            return f"【预警更新·{self.label}】{self.title}"
        return f"【{self.label}预警】{self.title}"


@dataclass
class WarnSummary:
    events: int = 0
    warnings: list[RaisedWarning] = field(default_factory=list)


def level_key(warning_id: int, level: int) -> str:
    """Ledger key of the notice for a warning at ``level``: ``warning:17:level:2``."""
    return f"warning:{warning_id}:level:{level}"


def change_key(warning_id: int, kind: str, count: int | None = None) -> str:
    """Ledger key of a change notice: ``warning:17:change:overdue``, ``warning:17:change:harm:3``."""
    return f"warning:{warning_id}:change:{kind}" + (f":{count}" if count is not None else "")


def _event_items(db: Database, event_ids: list[int]) -> dict[int, list[Any]]:
    query = (
        select(
            EventItem.event_id,
            Item.id,
            Item.published_at,
            Item.title,
            Item.text,
            Item.reply_at,
            Source.name,
            Source.weight,
            Source.role,
            ItemAnalysis.version_id,
            ItemAnalysis.word_counts,
            ItemAnalysis.stance,
        )
        .join(Item, Item.id == EventItem.item_id)
        .join(Source, Source.id == Item.source_id)
        .outerjoin(ItemAnalysis, ItemAnalysis.item_id == Item.id)
        .where(one_of(EventItem.event_id, event_ids, db.dialect))
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
        .where(one_of(Match.item_id, item_ids, db.dialect), Match.kind == "risk")
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


def _watch(rows: list[Any], score: EventScore) -> dict[str, Any]:
    """The facts whose change is worth a notice: harm reports, the response status, whether officials answered."""
    return {
        "harm": sum(1 for row in rows if row.stance == "harm_report" and is_problem_item(row.role, row.stance)),
        "response_status": score.response.status,
        "responded": any(is_official_response(row.role, row.stance) or row.reply_at is not None for row in rows),
    }


def material_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[tuple[str, int | None]]:
    """What changed materially between two watches, most urgent first, as (kind, count) pairs.

    >>> material_changes({"harm": 1, "response_status": "pending", "responded": False},
    ...                  {"harm": 3, "response_status": "overdue", "responded": False})
    [('overdue', None), ('harm', 3)]
    >>> material_changes(None, {"harm": 0, "response_status": "on_time", "responded": True})
    [('response', None)]
    """
    before = before or {}
    found: list[tuple[str, int | None]] = []
    if after["response_status"] == "overdue" and before.get("response_status") != "overdue":
        found.append(("overdue", None))
    if after["harm"] > before.get("harm", 0):
        found.append(("harm", after["harm"]))
    if after["responded"] and not before.get("responded", False):
        found.append(("response", None))
    return found


def _change_text(kind: str, count: int | None, before: dict[str, Any] | None) -> str:
    if kind == "harm" and count is not None:
        return f"{CHANGE_LABELS[kind]}（累计 {count} 条，此前 {(before or {}).get('harm', 0)} 条）"
    return CHANGE_LABELS[kind]


def _reasons(score: EventScore, rows: list[Any], points: list[str], found_words: list[str], spike: dict[str, Any],
             watch: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return {
        "components": score.points(), "parts": score.parts_json(), "explanation": list(score.reasons),
        "response": score.response.as_json(), "risk_points": points, "sensitive_words": found_words, "spike": spike,
        "items": len(rows), "sources": len({row.name for row in rows}), "watch": watch,
    }  # fmt: skip


def refresh_events(
    db: Database,
    library: ActiveLibrary,
    event_ids: Iterable[int],
    *,
    now: datetime | None = None,
    calendar: WorkdayCalendar | None = None,
) -> WarnSummary:
    """Recompute figures, score and level of the events; raise or update their warnings.

    ``calendar`` is the office's working-day calendar for response timing (default: Chinese public
    holidays and make-up days without local days, ``cases.calendar.WorkCalendar()``).
    """
    now = now or utcnow()
    if calendar is None:
        from yuqing_core.cases.calendar import WorkCalendar

        calendar = WorkCalendar()
    event_ids = sorted(set(event_ids))
    summary = WarnSummary()
    if not event_ids:
        return summary
    spec = library.spec
    thresholds = spec.warning_levels.by_level()
    items_by_event = _event_items(db, event_ids)
    all_items = [row.id for rows in items_by_event.values() for row in rows]
    points_by_item = _risk_points_of(db, all_items)
    sightings_by_item = item_sightings(db, all_items, since=now - HOT_LIST_WINDOW, until=now)
    severity = {p.name: p.severity for p in spec.risk_points if not p.positive}
    point_spikes = {
        name: _spike(counts) for name, counts in risk_point_counts(db, severity, end=now, windows=BASELINE_DAYS + 1).items()
    }
    sensitive = [(word, normalize_for_matching(word)) for word in spec.sensitive_words]
    user_words = list(library.compiled.ruleset.terms)

    with db.writer() as session:
        # An event merged into another has no items left and stays as a pointer to its survivor.
        live = set(
            session.scalars(select(Event.id).where(one_of(Event.id, event_ids, db.dialect), Event.merged_into_id.is_(None)))
        )
        warnings = {
            w.event_id: w
            for w in session.scalars(
                select(EarlyWarning).where(one_of(EarlyWarning.event_id, event_ids, db.dialect)).with_for_update()
            )
        }
        # Every refreshed event's figures, written in one executemany UPDATE, not one ORM UPDATE per event.
        figures: dict[int, dict[str, Any]] = {}
        empty: list[int] = []
        new_warning_rows = []
        new_reasons: dict[int, list[str]] = {}
        for event_id in event_ids:
            rows = items_by_event.get(event_id, [])
            if event_id not in live:
                continue
            if not rows:  # founded by a run whose items went to another event: nothing to keep
                empty.append(event_id)
                continue
            summary.events += 1
            sources = {row.name: row.weight for row in rows}
            points: list[str] = []
            for row in rows:
                for name in sorted(points_by_item.get(row.id, ())):
                    if name not in points:
                        points.append(name)
            recent = sum(1 for row in rows if row.published_at > now - VELOCITY_WINDOW)
            velocity = recent / (VELOCITY_WINDOW.total_seconds() / 3600)
            texts = [normalize_for_matching(f"{row.title} {row.text}") for row in rows]
            found_words = [word for word, normal in sensitive if any(normal in text for text in texts)]
            event_counts = rolling_counts([row.published_at for row in rows], end=now, windows=BASELINE_DAYS + 1)
            event_spike = _spike(event_counts)
            # A risk point's spike lifts only the events that take part in it (items in the spike window).
            active_now = any(row.published_at > now - SPIKE_WINDOW for row in rows)
            spiking_points = [name for name in points if active_now and point_spikes.get(name, {}).get("is_spike")]
            graded = [name for name in points if name in severity]
            top_point = max(graded, key=lambda name: severity[name], default=None)
            facts = EventFacts(
                severity=severity[top_point] if top_point else 0,
                risk_point=top_point,
                items=tuple(
                    ScoredItem(row.published_at, row.name, row.role, row.stance, spec.source_weights.get(row.name, row.weight))
                    for row in rows
                ),
                spike=event_spike["is_spike"] or bool(spiking_points),
                sensitive_words=tuple(found_words),
                replies=tuple(row.reply_at for row in rows if row.reply_at is not None),
                # On a hot list, what counts is the problem said there (an answer trending is no risk).
                hot_lists=tuple(
                    sighting
                    for row in rows
                    if is_problem_item(row.role, row.stance)
                    for sighting in sightings_by_item.get(row.id, ())
                ),
            )
            score = score_event(facts, now=now, thresholds=thresholds, calendar=calendar, response_spec=spec.response)
            level = score.level
            last = max(row.published_at for row in rows)
            timing = score.response
            event = figures[event_id] = {
                "id": event_id,
                "title": representative_title(rows, spec.source_weights),
                "first_seen_at": min(row.published_at for row in rows),
                "last_seen_at": last,
                "item_count": len(rows),
                "source_count": len(sources),
                "velocity_per_h": round(velocity, 3),
                "heat": round(
                    heat_score(
                        len(rows), len(sources), sum(sources.values()), velocity, max(0.0, (now - last).total_seconds() / 3600)
                    ),
                    2,
                ),
                "risk_points": points,
                "hot_words": [
                    [word, round(weight, 4)]
                    for word, weight in _hot_words(rows[-HOT_WORD_TEXTS:], library.version_id, user_words)
                ],
                "sensitive_words": found_words,
                "spike": {**event_spike, "risk_points": spiking_points},
                "score": score.total,
                "level": level,
                "score_parts": score.parts_json(),
                "first_signal_at": timing.first_signal_at,
                "first_response_at": timing.first_response_at,
                "response_delay_work_h": timing.delay_work_h,
                "response_target_work_h": timing.target_work_h,
                "response_due_at": timing.due_at,
                "response_status": timing.status,
                "updated_at": now,
            }
            watch = _watch(rows, score)
            reasons = _reasons(score, rows, points, found_words, event["spike"], watch)
            warning = warnings.get(event_id)
            if warning is None:
                if level is not None:
                    new_reasons[event_id] = list(score.reasons)
                    new_warning_rows.append(
                        {
                            "event_id": event_id, "level": level, "score": score.total, "version_id": library.version_id,
                            "reasons": reasons, "status": "open", "effective_level": level, "created_at": now,
                            "updated_at": now,
                        }
                    )  # fmt: skip
                continue
            notice = _update_warning(session, warning, event["title"], points, score, reasons, watch, library.version_id, now)
            if notice is not None:
                summary.warnings.append(notice)
        if empty:
            session.execute(delete(Event).where(one_of(Event.id, empty, db.dialect)))
        if figures:
            session.execute(update(Event), list(figures.values()))  # by primary key, one statement for all rows
        session.flush()
        inserted = insert_ignore(session, EarlyWarning.__table__, new_warning_rows, conflict=("event_id",))
        if inserted:
            for row in session.execute(
                select(EarlyWarning.id, EarlyWarning.event_id, EarlyWarning.level, EarlyWarning.score).where(
                    one_of(EarlyWarning.id, inserted, db.dialect)
                )
            ):
                event = figures[row.event_id]
                summary.warnings.append(
                    RaisedWarning(
                        row.id, row.event_id, row.level, row.score, event["title"], list(event["risk_points"]),
                        kind="new", key=level_key(row.id, row.level), reasons=new_reasons.get(row.event_id, []),
                    )
                )  # fmt: skip
    summary.warnings.sort(key=lambda w: (w.level, -w.score, w.id))
    return summary


def _update_warning(
    session: Any,
    warning: EarlyWarning,
    title: str,
    risk_points: list[str],
    score: EventScore,
    reasons: dict[str, Any],
    watch: dict[str, Any],
    version_id: int,
    now: datetime,
) -> RaisedWarning | None:
    """Bring an event's warning up to date; the notice owed for a level rise or a material change, if any."""
    before = (warning.reasons or {}).get("watch")
    changes = material_changes(before, watch)
    change_texts = [_change_text(kind, count, before) for kind, count in changes]
    warning.score = score.total
    warning.version_id = version_id
    warning.reasons = reasons
    level = score.level
    if level is not None and level < warning.level:
        previous = warning.level
        why = "；".join([*score.reasons, *change_texts])
        session.add(
            EarlyWarningAction(
                warning_id=warning.id, action="raise", actor=SYSTEM_ACTOR, reason=f"等级由{Level(previous).label}上调为{Level(level).label}：{why}",
                from_level=warning.effective_level, to_level=level, created_at=now,
            )
        )  # fmt: skip
        warning.level = level
        warning.effective_level = level
        warning.status = "open"  # a rise needs a fresh look, whatever was decided at the lower level
        warning.updated_at = now
        return RaisedWarning(
            warning.id, warning.event_id, level, score.total, title, list(risk_points),
            kind="level", key=level_key(warning.id, level), previous_level=previous, changes=change_texts,
            reasons=list(score.reasons),
        )  # fmt: skip
    if not changes:
        return None
    for text in change_texts:
        session.add(
            EarlyWarningAction(
                warning_id=warning.id, action="change", actor=SYSTEM_ACTOR, reason=text,
                from_level=warning.effective_level, to_level=warning.effective_level, created_at=now,
            )
        )  # fmt: skip
    warning.updated_at = now
    if warning.status == "dismissed":  # recorded, but the analyst's dismissal stands until the level rises
        return None
    kind, count = changes[0]
    return RaisedWarning(
        warning.id, warning.event_id, warning.effective_level, score.total, title, list(risk_points),
        kind="change", key=change_key(warning.id, kind, count), changes=change_texts, reasons=list(score.reasons),
    )  # fmt: skip


def events_due_for_response(db: Database, now: datetime) -> list[int]:
    """Events still waiting for an official response whose target has passed: refreshing them marks them overdue."""
    with db.reader() as session:
        return list(
            session.scalars(
                select(Event.id).where(Event.response_status == "pending", Event.response_due_at <= now).order_by(Event.id)
            )
        )
