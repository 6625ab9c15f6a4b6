"""Merging events found to be one, splitting an event an analyst finds to be two, and the audit of both.

A merge moves every item of the absorbed event into the survivor, and what
hangs on the absorbed event follows it:

- the warning moves to the survivor; where both events were warned (one
  warning per event, the incident), the survivor's warning carries on at the
  more severe of the two levels (recorded, not announced again: each level was
  announced once already) and the absorbed one is closed with status
  ``merged`` and a pointer to it (``merged_into_id``), keeping its decisions
  and staying on the absorbed event's row; an acknowledgement of the absorbed
  warning carries over to an open survivor warning;
- supervision cases opened on the absorbed event (or on its merged-away
  warning) are relinked to the survivor (or its warning), each with an entry
  in the case's trail; two open cases both stay open;
- the document numbers of reports on the absorbed event (special reports,
  supervision notices) pass to the survivor where it has none of that kind
  and year, so a report on the survivor keeps the number already issued.

Deliveries are keyed by warning, and warnings keep their ids, so the
send-once ledger needs nothing. Risk notices name risk points, not events.
The absorbed event stays as a row with ``merged_into_id`` set, so its id
still resolves (``resolve_event_id``); it is listed nowhere else.

A split moves chosen items into a new event, pins them there (grouping never
moves a pinned item) and records a separation: the two events are never
merged automatically again, whatever later items tie them.

Neither function refreshes the events' figures: the caller does, with
``refresh_events`` (the analyze stage refreshes the events of its batch;
the CLI refreshes the events it changed). Each runs in one transaction, and
every change is written to ``event_merges``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from yuqing_core.db.database import Database
from yuqing_core.db.models import (
    Case,
    CaseEvent,
    DocumentNumber,
    EarlyWarning,
    EarlyWarningAction,
    Event,
    EventItem,
    EventMerge,
    EventSeparation,
    Item,
)
from yuqing_core.errors import InvalidInput, NotFound
from yuqing_core.levels import Level
from yuqing_core.timeutil import SHANGHAI, format_local, utcnow

SYSTEM_ACTOR = "system"
ANALYST_REASON = "analyst"
MAX_CHAIN = 1000  # merged_into_id hops before we call the chain broken


class EventNotFound(NotFound):
    """No event has the id given."""


class MergeRefused(InvalidInput):
    """The merge or split asked for cannot be done (same event, a separation, items not in the event, ...)."""


@dataclass(frozen=True)
class MergeResult:
    """What one ``merge_events`` call did; ``audit_id`` None means nothing was left to do (already merged)."""

    survivor_id: int
    absorbed_id: int
    audit_id: int | None
    items_moved: list[int] = field(default_factory=list)
    warnings_moved: list[int] = field(default_factory=list)
    warnings_merged: dict[int, int] = field(default_factory=dict)  # absorbed warning id -> survivor warning id
    cases_relinked: list[str] = field(default_factory=list)  # case numbers


@dataclass(frozen=True)
class SplitResult:
    event_id: int
    new_event_id: int
    audit_id: int
    items_moved: list[int]


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an event's merge history (``yuqing events show``)."""

    id: int
    kind: str
    from_event_id: int
    into_event_id: int
    item_id: int | None
    item_ids: list[int]
    reason: str
    similarity: float | None
    actor: str
    note: str | None
    details: dict[str, Any]
    created_at: datetime


# --- resolving ids -------------------------------------------------------------------------------------


def _resolve(session: Session, event_id: int) -> int:
    """The event ``event_id`` finally merged into (itself if it was never merged); EventNotFound if missing."""
    current = event_id
    for _hop in range(MAX_CHAIN):
        merged_into = session.execute(select(Event.merged_into_id).where(Event.id == current)).first()
        if merged_into is None:
            raise EventNotFound(f"没有编号为 {event_id} 的事件")
        if merged_into[0] is None:
            return current
        current = merged_into[0]
    raise RuntimeError(f"事件 {event_id} 的并入链超过 {MAX_CHAIN} 步，数据有误")


def resolve_event_id(db: Database, event_id: int) -> int:
    """The live event an id stands for: itself, or the survivor it was (perhaps in several steps) merged into."""
    with db.reader() as session:
        return _resolve(session, event_id)


def survivor_map(session: Session) -> dict[int, int]:
    """Every merged event's final survivor (events never merged are not in it)."""
    parent: dict[int, int] = {
        event_id: into
        for event_id, into in session.execute(select(Event.id, Event.merged_into_id).where(Event.merged_into_id.is_not(None)))
        if into is not None
    }
    final: dict[int, int] = {}
    for start in parent:
        current, hops = start, 0
        while current in parent and hops < MAX_CHAIN:
            current, hops = parent[current], hops + 1
        final[start] = current
    return final


def _separations(session: Session) -> list[tuple[int, int, EventSeparation]]:
    """Separations with both ends resolved to live events (ends merged into one are dropped)."""
    final = survivor_map(session)
    pairs = []
    for separation in session.scalars(select(EventSeparation).order_by(EventSeparation.id)):
        a, b = final.get(separation.event_a_id, separation.event_a_id), final.get(separation.event_b_id, separation.event_b_id)
        if a != b:
            pairs.append((min(a, b), max(a, b), separation))
    return pairs


def separated_pairs(session: Session) -> set[tuple[int, int]]:
    """The pairs of live events (lower id first) that analysts have kept apart."""
    return {(a, b) for a, b, _ in _separations(session)}


def pinned_event_ids(session: Session, event_ids: Iterable[int]) -> set[int]:
    """Those of the events holding an item an analyst placed by hand."""
    ids = set(event_ids)
    if not ids:
        return set()
    query = select(EventItem.event_id).where(EventItem.event_id.in_(ids), EventItem.pinned_by.is_not(None)).distinct()
    return set(session.scalars(query))


# --- merge ------------------------------------------------------------------------------------------------


def merge_events(
    db: Database,
    survivor_id: int,
    absorbed_id: int,
    *,
    actor: str,
    reason: str = ANALYST_REASON,
    item_id: int | None = None,
    similarity: float | None = None,
    note: str | None = None,
    override_separation: bool = False,
    now: datetime | None = None,
) -> MergeResult:
    """Merge event ``absorbed_id`` into ``survivor_id``, in one transaction; see the module docstring.

    Either id may be an event merged earlier: both are followed to their
    final survivors. Merging events already merged is a no-op
    (``audit_id`` None). Refused (``MergeRefused``): an event into itself,
    two events an analyst separated (an analyst may lift the separation with
    ``override_separation``), and, for the system, absorbing an event that
    holds items an analyst placed by hand. The caller refreshes the
    survivor's figures (``refresh_events``).
    """
    with db.writer() as session:
        return merge_in_session(
            session, survivor_id, absorbed_id, actor=actor, reason=reason, item_id=item_id, similarity=similarity,
            note=note, override_separation=override_separation, now=now or utcnow(),
        )  # fmt: skip


def merge_in_session(
    session: Session,
    survivor_id: int,
    absorbed_id: int,
    *,
    actor: str,
    reason: str,
    now: datetime,
    item_id: int | None = None,
    similarity: float | None = None,
    note: str | None = None,
    override_separation: bool = False,
) -> MergeResult:
    """``merge_events`` inside the caller's transaction (the grouping stage merges as it stores a batch)."""
    if survivor_id == absorbed_id:
        raise MergeRefused(f"不能把事件 {survivor_id} 并入它自己")
    if not actor or not actor.strip():
        raise MergeRefused("合并事件须写明操作人")
    survivor, absorbed = _resolve(session, survivor_id), _resolve(session, absorbed_id)
    if survivor == absorbed:
        return MergeResult(survivor, absorbed, None)
    # One merge at a time per event (and none while a grouping batch writes to them); then read again.
    session.execute(select(Event.id).where(Event.id.in_([survivor, absorbed])).order_by(Event.id).with_for_update()).all()
    survivor, absorbed = _resolve(session, survivor), _resolve(session, absorbed)
    if survivor == absorbed:
        return MergeResult(survivor, absorbed, None)
    details: dict[str, Any] = {}
    if survivor_id != survivor:
        details["survivor_given"] = survivor_id
    if absorbed_id != absorbed:
        details["absorbed_given"] = absorbed_id
    pair = (min(survivor, absorbed), max(survivor, absorbed))
    blocking = [separation for a, b, separation in _separations(session) if (a, b) == pair]
    if blocking:
        if actor == SYSTEM_ACTOR or not override_separation:
            by = blocking[0]
            raise MergeRefused(
                f"事件 {survivor} 与事件 {absorbed} 已由 {by.actor} 分开（{by.note or '未写理由'}），不能合并；"
                "确需合并请加 --force 解除分开约束"
            )
        session.execute(delete(EventSeparation).where(EventSeparation.id.in_([s.id for s in blocking])))
        details["separations_lifted"] = [{"id": s.id, "actor": s.actor, "note": s.note} for s in blocking]
    if actor == SYSTEM_ACTOR and pinned_event_ids(session, [absorbed]):
        raise MergeRefused(f"事件 {absorbed} 含分析员手工归入的信息，系统不能把它并入事件 {survivor}")

    items = list(session.scalars(select(EventItem.item_id).where(EventItem.event_id == absorbed).order_by(EventItem.item_id)))
    session.execute(update(EventItem).where(EventItem.event_id == absorbed).values(event_id=survivor))
    moved, merged = _merge_warnings(session, survivor, absorbed, actor, now)
    cases = _relink_cases(session, survivor, absorbed, merged, actor, now)
    numbers = _move_document_numbers(session, survivor, absorbed)
    session.execute(update(Event).where(Event.id == absorbed).values(merged_into_id=survivor, updated_at=now))
    details.update(
        warnings_moved=moved, warnings_merged={str(k): v for k, v in merged.items()}, cases_relinked=cases,
        document_numbers=numbers,
    )  # fmt: skip
    audit = EventMerge(
        kind="merge", from_event_id=absorbed, into_event_id=survivor, item_id=item_id, item_ids=items, reason=reason,
        similarity=similarity, actor=actor, note=note, details=details, created_at=now,
    )  # fmt: skip
    session.add(audit)
    session.flush()
    return MergeResult(survivor, absorbed, audit.id, items, moved, merged, cases)


def _merge_warnings(
    session: Session, survivor: int, absorbed: int, actor: str, now: datetime
) -> tuple[list[int], dict[int, int]]:
    """Bring the absorbed event's warning over: one warning per event, so where both were warned the
    survivor's carries on (at the more severe level of the two) and the absorbed one is closed as 'merged'."""
    kept = session.scalars(select(EarlyWarning).where(EarlyWarning.event_id == survivor)).one_or_none()
    warning = session.scalars(select(EarlyWarning).where(EarlyWarning.event_id == absorbed)).one_or_none()
    if warning is None:
        return [], {}
    if kept is None:
        warning.event_id = survivor
        warning.updated_at = now
        session.flush()
        return [warning.id], {}
    before = warning.status
    session.add(
        EarlyWarningAction(
            warning_id=warning.id, action="merge", actor=actor,
            reason=f"事件 {absorbed} 并入事件 {survivor}，本预警（原状态 {before}）并入预警 {kept.id}",
            from_level=warning.effective_level, to_level=warning.effective_level, created_at=now,
        )
    )  # fmt: skip
    if warning.level < kept.level:
        # The absorbed event had been warned more severely: the incident's one warning now stands at that level.
        # Its recipients were told of that level already, so this is recorded, not announced again.
        session.add(
            EarlyWarningAction(
                warning_id=kept.id, action="raise", actor=actor,
                reason=f"并入预警 {warning.id}（{Level(warning.level).label}），等级随之上调（事件 {absorbed} 并入事件 {survivor}）",
                from_level=kept.effective_level, to_level=warning.level, created_at=now,
            )
        )  # fmt: skip
        kept.level = warning.level
        if kept.status != "downgraded":
            kept.effective_level = warning.level
        kept.updated_at = now
    if before == "acknowledged" and kept.status == "open":
        # Someone is already on it: the warning that carries on should not chase them again.
        kept.status = "acknowledged"
        kept.updated_at = now
        session.add(
            EarlyWarningAction(
                warning_id=kept.id, action="acknowledge", actor=actor,
                reason=f"沿用并入的预警 {warning.id} 的确认（事件 {absorbed} 并入事件 {survivor}）",
                from_level=kept.effective_level, to_level=kept.effective_level, created_at=now,
            )
        )  # fmt: skip
    # The closed warning stays on the absorbed event (one warning per event), pointing at the one that carries on.
    warning.status = "merged"
    warning.merged_into_id = kept.id
    warning.updated_at = now
    session.flush()
    return [], {warning.id: kept.id}


def _relink_cases(session: Session, survivor: int, absorbed: int, merged: dict[int, int], actor: str, now: datetime) -> list[str]:
    """Point cases opened on the absorbed event (or on a warning merged away) at the survivor; note it in each trail."""
    conditions = [(Case.origin_kind == "event") & (Case.origin_id == absorbed)]
    if merged:
        conditions.append((Case.origin_kind == "warning") & Case.origin_id.in_(list(merged)))
    relinked = []
    for case in session.scalars(select(Case).where(or_(*conditions)).order_by(Case.id)):
        before = case.origin_id
        assert before is not None  # the query matched it by origin_id
        after = survivor if case.origin_kind == "event" else merged[before]
        case.origin_id = after
        case.updated_at = now
        what = "事件" if case.origin_kind == "event" else "预警"
        session.add(
            CaseEvent(
                case_id=case.id, at=now, actor=actor, action="relink", from_state=case.state, to_state=case.state,
                note=f"事件 {absorbed} 并入事件 {survivor}，督办件改属{what} {after}（原{what} {before}）",
                details={"origin_kind": case.origin_kind, "from": before, "to": after},
            )
        )  # fmt: skip
        relinked.append(case.number)
    session.flush()
    return relinked


def _move_document_numbers(session: Session, survivor: int, absorbed: int) -> list[dict[str, Any]]:
    """Give the survivor the absorbed event's report numbers of the kinds and years it has none of."""
    have = set(
        session.execute(select(DocumentNumber.kind, DocumentNumber.year).where(DocumentNumber.subject == f"event:{survivor}"))
    )
    moved = []
    for number in session.scalars(select(DocumentNumber).where(DocumentNumber.subject == f"event:{absorbed}")):
        if (number.kind, number.year) in have:
            continue
        number.subject = f"event:{survivor}"
        moved.append({"kind": number.kind, "year": number.year, "number": number.number})
    return moved


# --- split and separate -------------------------------------------------------------------------------------


def split_event(
    db: Database, event_id: int, item_ids: Sequence[int], *, actor: str, note: str, now: datetime | None = None
) -> SplitResult:
    """Move ``item_ids`` out of ``event_id`` into a new event, pinned there and kept apart from it for good.

    The new event is founded by the earliest moved item (one not already
    founding another event). Warnings and cases stay with ``event_id``; the
    caller refreshes both events (``refresh_events``), which may warn the new one.
    """
    now = now or utcnow()
    if not note or not note.strip():
        raise MergeRefused("拆分事件须写明理由（--note）")
    wanted = sorted(set(item_ids))
    if not wanted:
        raise MergeRefused("须指明要拆出的信息编号")
    with db.writer() as session:
        original = _resolve(session, event_id)
        members = dict(
            session.execute(
                select(EventItem.item_id, Item.published_at)
                .join(Item, Item.id == EventItem.item_id)
                .where(EventItem.event_id == original)
            ).all()
        )
        missing = [i for i in wanted if i not in members]
        if missing:
            raise MergeRefused(f"信息 {'、'.join(map(str, missing))} 不在事件 {original} 中")
        if len(wanted) == len(members):
            raise MergeRefused(f"不能拆出事件 {original} 的全部信息（共 {len(members)} 条），至少留下一条")
        founders = set(session.scalars(select(Event.seed_item_id).where(Event.seed_item_id.in_(list(members)))))
        event = session.get(Event, original)
        assert event is not None
        by_time = sorted(members, key=lambda i: (members[i], i))
        if event.seed_item_id in wanted:
            # The original event keeps a founder of its own: its earliest remaining item free to found one.
            reseed = next((i for i in by_time if i not in wanted and i not in founders), None)
            if reseed is not None:
                founders.discard(event.seed_item_id)
                founders.add(reseed)
                event.seed_item_id = reseed
                session.flush()
        seed = next((i for i in by_time if i in wanted and i not in founders), None)
        if seed is None:
            raise MergeRefused(f"拆出的信息 {'、'.join(map(str, wanted))} 都已是其他事件的首条信息，无法另立新事件")
        title = session.scalar(select(Item.title).where(Item.id == seed)) or ""
        new_event = Event(
            seed_item_id=seed, title=title, first_seen_at=members[seed], last_seen_at=max(members[i] for i in wanted),
            item_count=len(wanted), source_count=0, velocity_per_h=0.0, heat=0.0, risk_points=[], hot_words=[],
            sensitive_words=[], score=0.0, updated_at=now,
        )  # fmt: skip
        session.add(new_event)
        session.flush()
        session.execute(update(EventItem).where(EventItem.item_id.in_(wanted)).values(event_id=new_event.id, pinned_by=actor))
        audit = EventMerge(
            kind="split", from_event_id=original, into_event_id=new_event.id, item_id=None, item_ids=wanted,
            reason=ANALYST_REASON, similarity=None, actor=actor, note=note.strip(),
            details={"event_given": event_id} if event_id != original else {}, created_at=now,
        )  # fmt: skip
        session.add(audit)
        session.flush()
        session.add(
            EventSeparation(
                event_a_id=original, event_b_id=new_event.id, merge_id=audit.id, actor=actor, note=note.strip(), created_at=now
            )
        )
        return SplitResult(original, new_event.id, audit.id, wanted)


def separate_events(db: Database, first_id: int, second_id: int, *, actor: str, note: str, now: datetime | None = None) -> bool:
    """Record that two events are different happenings, never to be merged automatically; False if already recorded."""
    now = now or utcnow()
    if not note or not note.strip():
        raise MergeRefused("须写明理由（--note）")
    with db.writer() as session:
        a, b = _resolve(session, first_id), _resolve(session, second_id)
        if a == b:
            raise MergeRefused(f"事件 {first_id} 与事件 {second_id} 已是同一事件（{a}），请先拆分")
        if (min(a, b), max(a, b)) in separated_pairs(session):
            return False
        session.add(EventSeparation(event_a_id=min(a, b), event_b_id=max(a, b), actor=actor, note=note.strip(), created_at=now))
        return True


# --- reading back ---------------------------------------------------------------------------------------------


def merge_history(db: Database, event_id: int) -> list[HistoryEntry]:
    """Every merge and split touching the event or the events merged into it, oldest first."""
    with db.reader() as session:
        live = _resolve(session, event_id)
        final = survivor_map(session)
        family = {live} | {merged for merged, survivor in final.items() if survivor == live}
        rows = session.scalars(
            select(EventMerge)
            .where(or_(EventMerge.from_event_id.in_(family), EventMerge.into_event_id.in_(family)))
            .order_by(EventMerge.created_at, EventMerge.id)
        )
        return [_history_entry(r) for r in rows]


def _history_entry(r: EventMerge) -> HistoryEntry:
    return HistoryEntry(
        r.id, r.kind, r.from_event_id, r.into_event_id, r.item_id, list(r.item_ids), r.reason, r.similarity,
        r.actor, r.note, dict(r.details), r.created_at,
    )  # fmt: skip


def separations_of(db: Database, event_id: int) -> list[tuple[int, str, str | None]]:
    """The live events kept apart from this one: (other event id, by whom, why)."""
    with db.reader() as session:
        live = _resolve(session, event_id)
        return [(b if a == live else a, s.actor, s.note) for a, b, s in _separations(session) if live in (a, b)]


MERGE_REASONS = {
    "minhash": "正文相似",
    "title": "标题相同",
    "topic": "同一风险点同一地点",
    "url": "链接相同",
    "thread": "同一帖文的评论或转发",
    "profile": "用词相近",
    "analyst": "分析员合并",
}


def describe_history(entry: HistoryEntry, tz: tzinfo = SHANGHAI) -> str:
    """One merge or split in words (``yuqing events show``, the event page)."""
    when, who = format_local(entry.created_at, tz), "系统" if entry.actor == SYSTEM_ACTOR else entry.actor
    if entry.kind == "merge":
        why = MERGE_REASONS.get(entry.reason, entry.reason)
        if entry.item_id is not None:
            why += f"，由信息 #{entry.item_id} 关联"
        if entry.similarity is not None:
            why += f"，相似度 {entry.similarity:.2f}"
        line = f"{when} {who}：事件 #{entry.from_event_id} 并入事件 #{entry.into_event_id}（{why}；{len(entry.item_ids)} 条信息）"
    else:
        moved = "、".join(f"#{i}" for i in entry.item_ids)
        line = f"{when} {who}：从事件 #{entry.from_event_id} 拆出信息 {moved}，另立事件 #{entry.into_event_id}"
    return line + (f" 说明：{entry.note}" if entry.note else "")


def describe_separation(other: int, actor: str, note: str | None) -> str:
    return f"不与事件 #{other} 合并（{actor}：{note or '未写理由'}）"
