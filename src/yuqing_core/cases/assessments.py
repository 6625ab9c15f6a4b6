"""研判 (assessments) and 研判会 / 联席会议 (meetings) on events.

An analyst drafts a 研判 on an event; the draft starts from the system's
facts (the event's figures, the risk score's named parts, the 快速回应
timing from ``risk.response``), which are kept with it. The analyst edits
the five parts -- nature, trend, risks, recommended handling and response
口径 (早讲事实、重讲态度、多讲措施、慎讲原因) -- submits it, and the office
head approves it (签发) or returns it with a reason::

    draft --submit--> submitted --approve--> approved
                      submitted --send_back(reason)--> returned --edit/submit--> ...

The latest approved 研判 of an event is what the 专报 and the 督报 print.

A meeting record says when a 研判会 or 联席会议 on the event was held, which
units or roles attended (never named persons: DESIGN section 5) and what
it decided; a decision may open a case on the event or update one
(``cases.service.record_decision``), and the record keeps which.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select

from yuqing_core.cases.config import CasePolicy
from yuqing_core.cases.service import open_case, origin_of, record_decision
from yuqing_core.db.database import Database
from yuqing_core.db.models import Assessment, Event, Meeting
from yuqing_core.errors import InvalidInput, NotFound
from yuqing_core.levels import Level
from yuqing_core.risk.explain import judgement_of
from yuqing_core.timeutil import SHANGHAI, format_local, utcnow

STATE_LABELS = {"draft": "草稿", "submitted": "待签发", "approved": "已签发", "returned": "已退回"}
PARTS = ("nature", "trend", "risks", "handling", "talking_points")
PART_LABELS = {"nature": "性质", "trend": "走势", "risks": "风险", "handling": "处置建议", "talking_points": "回应口径"}
EDITABLE_STATES = ("draft", "returned")
MEETING_KINDS = {"assessment": "研判会", "joint": "联席会议"}
MAX_PART_CHARS = 4000
MAX_ATTENDEES = 60


class AssessmentRefused(InvalidInput):
    """The step does not fit the 研判's state (or its text is missing); the message says what does."""


def _event(db: Database, event_id: int) -> Event:
    with db.reader() as session:
        event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"没有编号为 {event_id} 的事件")
    return event


def event_facts(event: Event, tz: tzinfo = SHANGHAI) -> dict[str, Any]:
    """The system's facts a 研判 starts from: figures, level, the score's parts, the response timing (JSON-safe)."""
    judgement = judgement_of(event)
    return {
        "event_id": event.id,
        "title": event.title,
        "first_seen": format_local(event.first_seen_at, tz),
        "last_seen": format_local(event.last_seen_at, tz),
        "items": event.item_count,
        "sources": event.source_count,
        "velocity_per_h": round(event.velocity_per_h, 1),
        "risk_points": list(event.risk_points or []),
        "level": event.level,
        "level_label": Level.label_of(event.level, "未达预警"),
        "score": round(event.score, 1),
        "parts": judgement.part_lines(),
        "response": judgement.response_lines(tz),
        "response_status": event.response_status,
    }


def suggested_parts(facts: dict[str, Any]) -> dict[str, str]:
    """A first draft of the five parts from the facts, for the analyst to rewrite."""
    points = "、".join(facts["risk_points"]) or "未命中风险点"
    raising = [line for line in facts["parts"] if " +" in line][:3]
    status = facts["response_status"]
    answered = status in ("on_time", "late")
    return {
        "nature": f"“{facts['title']}”，涉及{points}；系统评定{facts['level_label']}（风险分 {facts['score']:g}）。",
        "trend": (
            f"{facts['first_seen']} 首次出现，至 {facts['last_seen']} 共 {facts['items']} 条信息、"
            f"{facts['sources']} 个来源，当前传播速度约每小时 {facts['velocity_per_h']:g} 条。"
        ),
        "risks": "；".join(raising) + "。" if raising else "暂未发现明显推高风险的因素。",
        "handling": (
            "已有官方回应，建议跟进处置进展、适时发布后续情况。"
            if answered
            else "尚无官方回应，建议责任单位尽快核实情况、发布权威信息。"
        ),
        "talking_points": "\n".join(
            [
                "早讲事实：第一时间发布已核实的基本情况（时间、地点、范围、影响），不等全部查清。",
                "重讲态度：表明高度重视、正在处置，回应群众关切。",
                "多讲措施：说明已采取和将采取的具体措施、进展和时间安排。",
                "慎讲原因：原因未经调查认定前不作推测，以权威结论为准。",
            ]
        ),
    }


def _checked_parts(parts: Mapping[str, str | None]) -> dict[str, str]:
    cleaned = {}
    for name, value in parts.items():
        if name not in PARTS:
            raise AssessmentRefused(f"未知的研判栏目 {name!r}（可用：{'、'.join(PARTS)}）")
        if value is None:
            continue
        text = value.strip()
        if len(text) > MAX_PART_CHARS:
            raise AssessmentRefused(f"「{PART_LABELS[name]}」不能超过 {MAX_PART_CHARS} 字")
        cleaned[name] = text
    return cleaned


def draft_assessment(
    db: Database,
    event_id: int,
    *,
    actor: str,
    parts: Mapping[str, str | None] | None = None,
    tz: tzinfo = SHANGHAI,
    now: datetime | None = None,
) -> Assessment:
    """A new draft 研判 on an event: the system's facts filled in; ``parts`` given replace the suggested text."""
    now = now or utcnow()
    event = _event(db, event_id)
    if event.merged_into_id is not None:
        raise AssessmentRefused(f"事件 {event_id} 已并入事件 {event.merged_into_id}，请对后者研判")
    facts = event_facts(event, tz)
    text = {**suggested_parts(facts), **_checked_parts(parts or {})}
    with db.writer() as session:
        row = Assessment(event_id=event_id, state="draft", facts=facts, drafted_by=actor, created_at=now, updated_at=now, **text)
        session.add(row)
        session.flush()
        return row


def get_assessment(db: Database, assessment_id: int) -> Assessment:
    with db.reader() as session:
        row = session.get(Assessment, assessment_id)
    if row is None:
        raise NotFound(f"没有编号为 {assessment_id} 的研判")
    return row


@contextmanager
def _step(db: Database, assessment_id: int, allowed: Sequence[str], label: str) -> Iterator[Assessment]:
    """The row, locked in a writer transaction, refused unless its state is one of ``allowed``."""
    with db.writer() as session:
        row = session.scalar(select(Assessment).where(Assessment.id == assessment_id).with_for_update())
        if row is None:
            raise NotFound(f"没有编号为 {assessment_id} 的研判")
        if row.state not in allowed:
            wanted = "或".join(f"「{STATE_LABELS[state]}」" for state in allowed)
            raise AssessmentRefused(f"研判 {assessment_id} 当前为「{STATE_LABELS[row.state]}」，不能{label}（须为{wanted}）")
        yield row


def edit_assessment(
    db: Database, assessment_id: int, parts: Mapping[str, str | None], *, now: datetime | None = None
) -> Assessment:
    """Change the text of a draft or returned 研判."""
    text = _checked_parts(parts)
    with _step(db, assessment_id, EDITABLE_STATES, "修改") as row:
        for name, value in text.items():
            setattr(row, name, value)
        row.updated_at = now or utcnow()
    return row


def submit_assessment(db: Database, assessment_id: int, *, now: datetime | None = None) -> Assessment:
    """The analyst submits the 研判 to the office head; every part must say something."""
    now = now or utcnow()
    with _step(db, assessment_id, EDITABLE_STATES, "提交") as row:
        empty = [PART_LABELS[name] for name in PARTS if not getattr(row, name).strip()]
        if empty:
            raise AssessmentRefused(f"以下栏目为空，不能提交：{'、'.join(empty)}")
        row.state, row.submitted_at, row.updated_at, row.returned_reason = "submitted", now, now, None
    return row


def approve_assessment(db: Database, assessment_id: int, *, actor: str, now: datetime | None = None) -> Assessment:
    """签发: the office head approves a submitted 研判; it becomes the event's approved one."""
    now = now or utcnow()
    with _step(db, assessment_id, ("submitted",), "签发") as row:
        row.state, row.approved_by, row.approved_at, row.updated_at = "approved", actor, now, now
    return row


def return_assessment(db: Database, assessment_id: int, *, reason: str, now: datetime | None = None) -> Assessment:
    """The office head sends a submitted 研判 back to the analyst, saying why."""
    if not reason.strip():
        raise AssessmentRefused("退回须写明理由")
    now = now or utcnow()
    with _step(db, assessment_id, ("submitted",), "退回") as row:
        row.state, row.returned_reason, row.updated_at = "returned", reason.strip(), now
    return row


def list_assessments(db: Database, event_id: int) -> list[Assessment]:
    """An event's 研判, newest first."""
    with db.reader() as session:
        return list(session.scalars(select(Assessment).where(Assessment.event_id == event_id).order_by(Assessment.id.desc())))


def approved_assessment(db: Database, event_id: int) -> Assessment | None:
    """The event's latest approved 研判 (what documents print), or None."""
    with db.reader() as session:
        return session.scalar(
            select(Assessment)
            .where(Assessment.event_id == event_id, Assessment.state == "approved")
            .order_by(Assessment.approved_at.desc(), Assessment.id.desc())
            .limit(1)
        )


# --- meetings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """One decision of a meeting: its text, and whether it opens a case on the event or updates ``case``."""

    text: str
    open_case: bool = False
    case: str | None = None  # the number of a case it updates


def record_meeting(
    db: Database,
    policy: CasePolicy,
    event_id: int,
    *,
    kind: str,
    held_at: datetime,
    attendees: Sequence[str],
    decisions: Sequence[Decision],
    actor: str,
    now: datetime | None = None,
) -> Meeting:
    """Record a 研判会 or 联席会议 on an event; its decisions open or update cases as they say.

    ``attendees`` are units or roles (县委宣传部, 县应急管理局, 分管副县长), never named persons.
    Cases are opened or updated first, then the record is written with the numbers they got.
    """
    now = now or utcnow()
    if kind not in MEETING_KINDS:
        raise InvalidInput(f"会议类型应为 {'、'.join(f'{k}（{v}）' for k, v in MEETING_KINDS.items())}")
    if held_at.tzinfo is None:
        raise InvalidInput("会议时间须带时区")
    names = list(dict.fromkeys(name.strip() for name in attendees if name.strip()))
    if not names:
        raise InvalidInput("请写明参会单位（--unit，可重复）")
    if len(names) > MAX_ATTENDEES:
        raise InvalidInput(f"参会单位不能超过 {MAX_ATTENDEES} 个")
    if not decisions or any(not d.text.strip() for d in decisions):
        raise InvalidInput("请写明会议决定（--decision，可重复），决定不能为空")
    _event(db, event_id)
    label = MEETING_KINDS[kind]
    recorded: list[dict[str, Any]] = []
    for decision in decisions:
        text = decision.text.strip()
        if decision.open_case:
            origin = origin_of(db, event_id=event_id)
            opened = open_case(db, policy, actor=actor, origin=origin, requirement=f"{label}决定：{text}", dispatch=True, now=now)
            recorded.append({"text": text, "case": opened.number, "effect": "opened"})
        elif decision.case:
            updated = record_decision(db, decision.case, text, actor=actor, source=label, now=now)
            recorded.append({"text": text, "case": updated.number, "effect": "updated"})
        else:
            recorded.append({"text": text, "case": None, "effect": None})
    with db.writer() as session:
        meeting = Meeting(event_id=event_id, kind=kind, held_at=held_at, attendees=names, decisions=recorded,
                          recorded_by=actor, created_at=now)  # fmt: skip
        session.add(meeting)
        session.flush()
        return meeting


def list_meetings(db: Database, event_id: int) -> list[Meeting]:
    """An event's meetings, latest first."""
    with db.reader() as session:
        return list(session.scalars(select(Meeting).where(Meeting.event_id == event_id).order_by(Meeting.held_at.desc())))
