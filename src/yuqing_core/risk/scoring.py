"""One risk score per event (风险分), made of named parts, and the warning level (预警分级) it gives.

``score_event`` is the only place an event's risk score is computed; the warn stage stores its
parts on the event (``events.score_parts``) and every view — ``yuqing events show``, warnings,
the daily report, the 专报 — shows that number and those parts. (热度, the heat of ``events``,
is a different thing: how much an event is talked about, whatever it says.)

The score counts *problem items*: items that are not positive coverage and not an answer (not an
official response, 辟谣 or resolution from anyone, and nothing but a harm report from an official
source — see ``risk.response.is_problem_item``). Answers are weighed in the stance mix, where
they lower the score; positive coverage does not count at all. An event with no problem item, or
touching no (non-positive) risk point, scores 0 and is never warned.

===========  ==========  ===========================================================  ==========
part         label       rule                                                         points
===========  ==========  ===========================================================  ==========
severity     风险点严重  8 x the highest base severity of the risk points touched       0..37
                         (1 一般 .. 4 特别重大), +5 if the items use words of the
                         library's sensitive lexicon (死亡, 中毒, 维权 ...)
volume       信息量      5 x log2(1 + problem items), capped                            0..20
spread       传播范围    4 x log2(distinct sources of problem items), capped: one       0..10
                         source is no spread
velocity     传播速度    3 x problem items per hour over the last six hours (capped      0..10
                         at 8), +4 if the event or its risk point spikes against its
                         14-day baseline and the event has spread (two sources or more:
                         a lone post does not ride its topic's spike)
authority    来源权威    8 x the highest source weight among the *problem* items,       0..8
                         capped at 1.0 (provincial media carry more than a forum; an
                         official reply does not make the problem more serious)
hot_list     上榜        a problem item on a hot list (热榜) in the 24 hours before     0..8
                         now: 3, +2 if it reached the top 10, +3 if it climbed 5
                         places or more (``risk.hotlist``); only for events with
                         such a sighting: the other events have no such part
stance_mix   立场构成    raises: harm report 5, rumour 4, complaint 2, question 1       -34..15
                         each, capped at 15 (after an official resolution only the
                         items published later raise: the earlier ones are answered);
                         lowers by the strongest official answer: resolution 30,
                         辟谣 15, official response 8; and 1 per answer relayed by
                         media or the public, at most 4
response     回应状态    on time -4; late +4; pending 0; overdue: enough points to      -4..
                         lift the level by one (at least 10), said in the reasons
===========  ==========  ===========================================================  ==========

The total is the sum, between 0 and 100. Levels (each library may set its own
``warning_levels``): IV 一般 (blue) from 40, III 较大 (yellow) from 55, II 重大 (orange) from 70,
I 特别重大 (red) from 85. The response part is worked out last: the level of the other parts
sets the response target (``risk.response``), and an incident with no official response past its
target is raised one level.

Worked examples (``now`` far from the items, so velocity is 0; Monday-Friday calendar):

* One forum post (weight 0.4) complaining about a severity-3 risk point: 24 + volume 5 + spread 0
  + authority 3.2 + stance 2 = 34.2, not warned — one voice is not an incident. The same post
  saying 中毒 about a severity-4 point scores 32 + 5 + 5 + 3.2 + 2 = 47.2: IV.
* An official meeting notice alone ("召开根治欠薪专项行动部署会") has no problem item: 0.
* Nine complaints on four sources, a provincial paper among them, about a severity-3 point,
  answered by the government on time: 24 + 16.61 + 8 + 8 + 15 - 8 - 4 = 59.61: III. Had the
  government then announced the matter resolved (the strongest answer counts: -30 instead of
  -8; the complaints before it are answered and no longer raise), 22.61: not warned.

>>> from datetime import UTC, datetime, timedelta
>>> from yuqing_core.risk.response import WeekdayCalendar
>>> t0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)   # Monday 09:00 Shanghai
>>> post = ScoredItem(t0, "青禾论坛", "public", "complaint", 0.4)
>>> one = score_event(EventFacts(3, "讨薪", (post,)), now=t0 + timedelta(days=3), calendar=WeekdayCalendar())
>>> one.total, one.level
(34.2, None)
>>> [(p.name, p.points) for p in one.parts]  # doctest: +NORMALIZE_WHITESPACE
[('severity', 24.0), ('volume', 5.0), ('spread', 0.0), ('velocity', 0.0), ('authority', 3.2),
 ('stance_mix', 2.0), ('response', 0.0)]
>>> complaints = tuple(ScoredItem(t0 + timedelta(minutes=i), s, r, "complaint", w)
...     for i, (s, r, w) in enumerate([("论坛", "public", 0.4)] * 6 + [("贴吧", "public", 0.3), ("圈", "public", 0.5), ("云江日报", "media", 1.5)]))
>>> answer = ScoredItem(t0 + timedelta(hours=2), "县政府网", "official", "official_response", 1.0)
>>> answered = score_event(EventFacts(3, "讨薪", (*complaints, answer)), now=t0 + timedelta(days=3), calendar=WeekdayCalendar())
>>> answered.total, answered.level, answered.response.status
(59.61, 3, 'on_time')
>>> solved = ScoredItem(t0 + timedelta(hours=3), "县政府网", "official", "resolution", 1.0)
>>> score_event(EventFacts(3, "讨薪", (*complaints, answer, solved)), now=t0 + timedelta(days=3), calendar=WeekdayCalendar()).total
22.61
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from yuqing_core.risk.response import (
    ResponseSpec,
    ResponseTiming,
    WeekdayCalendar,
    WorkdayCalendar,
    is_problem_item,
    response_timing,
)
from yuqing_core.risk.stance import RESPONSE_STANCES

if TYPE_CHECKING:
    from yuqing_core.risk.hotlist import Sighting

# Places a hot-list item must rise to count as climbing (``risk.hotlist.CLIMB_MIN_PLACES``, said in the part's detail).
CLIMB_MIN_PLACES = 5

DEFAULT_THRESHOLDS = {4: 40.0, 3: 55.0, 2: 70.0, 1: 85.0}
VELOCITY_WINDOW = timedelta(hours=6)

SEVERITY_POINTS = 8.0
SENSITIVE_POINTS = 5.0
VOLUME_POINTS, VOLUME_CAP = 5.0, 20.0
SPREAD_POINTS, SPREAD_CAP = 4.0, 10.0
VELOCITY_POINTS, VELOCITY_RATE_CAP, SPIKE_POINTS, VELOCITY_CAP = 3.0, 8.0, 4.0, 10.0
AUTHORITY_POINTS = 8.0
RAISING_STANCES = {"harm_report": 5.0, "rumour": 4.0, "complaint": 2.0, "question": 1.0}
RAISE_CAP = 15.0
OFFICIAL_ANSWER_POINTS = {"resolution": 30.0, "debunk": 15.0, "official_response": 8.0}
RELAYED_ANSWER_POINTS, RELAYED_ANSWER_CAP = 1.0, 4.0
ON_TIME_POINTS, LATE_POINTS, OVERDUE_MIN_POINTS = -4.0, 4.0, 10.0
HOT_LIST_POINTS, HOT_LIST_TOP_POINTS, HOT_LIST_CLIMB_POINTS = 3.0, 2.0, 3.0
HOT_LIST_TOP_RANK = 10

PART_LABELS = {
    "severity": "风险点严重程度",
    "volume": "信息量",
    "spread": "传播范围",
    "velocity": "传播速度",
    "authority": "来源权威",
    "hot_list": "上榜",
    "stance_mix": "立场构成",
    "response": "回应状态",
}
_STANCE_NAMES = {
    "harm_report": "伤亡/危害报告",
    "rumour": "传言",
    "complaint": "投诉诉求",
    "question": "咨询提问",
    "resolution": "问题解决",
    "debunk": "辟谣",
    "official_response": "官方回应",
}
_SEVERITY_NAMES = {1: "一般", 2: "较大", 3: "重大", 4: "特别重大"}
_LEVEL_NUMERALS = {1: "I", 2: "II", 3: "III", 4: "IV"}


@dataclass(frozen=True)
class ScoredItem:
    """One item of an event as scoring sees it: when, from which source (its role and authority weight), saying what."""

    published_at: datetime
    source: str
    role: str | None
    stance: str | None
    weight: float


@dataclass(frozen=True)
class EventFacts:
    """What the score is made from (the warn stage gathers it from the database)."""

    severity: int  # the highest base severity of the non-positive risk points touched; 0 when none
    risk_point: str | None  # the name of that risk point, for the explanation
    items: tuple[ScoredItem, ...]
    spike: bool = False
    sensitive_words: tuple[str, ...] = ()
    # Times of the official replies message boards published with the event's messages (领导留言板,
    # 12345): each is an official response at that time, whatever the board's own role.
    replies: tuple[datetime, ...] = ()
    # The event's problem items seen on hot lists (热榜) in the ``risk.hotlist.HOT_LIST_WINDOW`` before now.
    hot_lists: tuple[Sighting, ...] = ()


@dataclass(frozen=True)
class ScorePart:
    """One named part of the score, with its Chinese label and what made it up."""

    name: str
    label: str
    points: float
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "points": self.points, "detail": self.detail}


@dataclass(frozen=True)
class EventScore:
    """The event's risk score, its level, its parts and its response timing."""

    total: float
    level: int | None
    parts: tuple[ScorePart, ...]
    response: ResponseTiming
    reasons: tuple[str, ...] = field(default=())  # sentences for warnings: why the level is what it is

    def points(self) -> dict[str, float]:
        return {part.name: part.points for part in self.parts}

    def parts_json(self) -> list[dict[str, Any]]:
        return [part.as_json() for part in self.parts]


def level_for(score: float, thresholds: dict[int, float] | None = None) -> int | None:
    """The most severe level whose threshold the score reaches (1 = I ... 4 = IV), or None.

    >>> level_for(42.5), level_for(72), level_for(37.5)
    (4, 2, None)
    """
    thresholds = thresholds or DEFAULT_THRESHOLDS
    for level in (1, 2, 3, 4):
        if score >= thresholds[level]:
            return level
    return None


def _count_text(counts: Counter[str], order: Sequence[str]) -> str:
    return "、".join(f"{_STANCE_NAMES[s]} {counts[s]} 条" for s in order if counts[s])


def _severity(facts: EventFacts) -> ScorePart:
    severity = max(0, min(4, facts.severity))
    points = SEVERITY_POINTS * severity
    if severity:
        detail = f"风险点“{facts.risk_point or '未命名'}”严重程度 {severity}（{_SEVERITY_NAMES[severity]}）×{SEVERITY_POINTS:g}"
    else:
        detail = "未涉及风险点"
    if facts.sensitive_words and severity:
        points += SENSITIVE_POINTS
        detail += f"；出现敏感词 {'、'.join(facts.sensitive_words)} +{SENSITIVE_POINTS:g}"
    return ScorePart("severity", PART_LABELS["severity"], points, detail)


def _volume(problems: list[ScoredItem], total: int) -> ScorePart:
    points = min(VOLUME_CAP, VOLUME_POINTS * math.log2(1 + len(problems)))
    others = total - len(problems)
    detail = f"风险信号 {len(problems)} 条" + (f"（另有官方发布、回应转述或正面报道 {others} 条，不计）" if others else "")
    return ScorePart("volume", PART_LABELS["volume"], points, detail)


def _spread(problems: list[ScoredItem]) -> ScorePart:
    sources = {item.source for item in problems}
    points = min(SPREAD_CAP, SPREAD_POINTS * math.log2(len(sources))) if sources else 0.0
    detail = f"{len(sources)} 个来源发布风险信号" + ("（单一来源，未扩散）" if len(sources) == 1 else "")
    return ScorePart("spread", PART_LABELS["spread"], points, detail)


def _velocity(problems: list[ScoredItem], spike: bool, now: datetime) -> ScorePart:
    recent = sum(1 for item in problems if now - VELOCITY_WINDOW < item.published_at <= now)
    per_hour = recent / (VELOCITY_WINDOW.total_seconds() / 3600)
    points = min(VELOCITY_RATE_CAP, VELOCITY_POINTS * per_hour)
    detail = f"近 6 小时风险信号 {recent} 条（{per_hour:.2f} 条/小时）"
    spread = len({item.source for item in problems}) >= 2
    if spike and spread:
        points += SPIKE_POINTS
        detail += f"；较 14 天基线异常增长 +{SPIKE_POINTS:g}"
    elif spike:
        detail += "；所属话题异常增长，但单一来源的帖文不随话题加分"
    return ScorePart("velocity", PART_LABELS["velocity"], min(VELOCITY_CAP, points), detail)


def _authority(problems: list[ScoredItem]) -> ScorePart:
    if not problems:
        return ScorePart("authority", PART_LABELS["authority"], 0.0, "无风险信号")
    top = max(problems, key=lambda item: (item.weight, -item.published_at.timestamp()))
    points = AUTHORITY_POINTS * min(1.0, max(0.0, top.weight))
    detail = f"风险信号中最权威的来源：{top.source}（权重 {top.weight:g}）；官方回应不计入"
    return ScorePart("authority", PART_LABELS["authority"], points, detail)


def _hot_list(sightings: Sequence[Sighting]) -> ScorePart:
    """上榜: on a hot list, in its top ranks, climbing it. The best-ranked sighting names the list."""
    best = min(sightings, key=lambda s: (s.best_rank is None, s.best_rank or 0, -s.climb))
    climber = max(sightings, key=lambda s: s.climb)
    points = HOT_LIST_POINTS
    pieces = [f"上榜 +{HOT_LIST_POINTS:g}"]
    if any(s.best_rank is not None and s.best_rank <= HOT_LIST_TOP_RANK for s in sightings):
        points += HOT_LIST_TOP_POINTS
        pieces.append(f"进入前 {HOT_LIST_TOP_RANK} 名 +{HOT_LIST_TOP_POINTS:g}")
    if climber.climbing:
        points += HOT_LIST_CLIMB_POINTS
        pieces.append(f"上升 {CLIMB_MIN_PLACES} 位以上 +{HOT_LIST_CLIMB_POINTS:g}")
    where = [best.describe()] + ([climber.describe()] if climber.climbing and climber is not best else [])
    others = len(sightings) - len(where)
    detail = "上榜：" + "；".join(where) + (f"等 {len(sightings)} 处" if others > 0 else "") + "（" + "，".join(pieces) + "）"
    return ScorePart("hot_list", PART_LABELS["hot_list"], points, detail)


def _stance_mix(items: Sequence[ScoredItem], problems: list[ScoredItem]) -> ScorePart:
    official = [item for item in items if item.role == "official" and item.stance in RESPONSE_STANCES]
    resolved_at = min((item.published_at for item in official if item.stance == "resolution"), default=None)
    # After an official resolution only what is said later raises: the earlier complaints have been answered.
    live = [item for item in problems if resolved_at is None or item.published_at > resolved_at]
    raising: Counter[str] = Counter(item.stance for item in live if item.stance is not None and item.stance in RAISING_STANCES)
    raised = min(RAISE_CAP, sum(RAISING_STANCES[s] * n for s, n in raising.items()))
    answers: Counter[str] = Counter(item.stance for item in official if item.stance is not None)
    relayed = sum(1 for item in items if item.role != "official" and item.stance in RESPONSE_STANCES)
    strongest = max(answers, key=lambda s: OFFICIAL_ANSWER_POINTS[s], default=None)
    relayed_points = min(RELAYED_ANSWER_CAP, RELAYED_ANSWER_POINTS * relayed)
    lowered = (OFFICIAL_ANSWER_POINTS[strongest] if strongest else 0.0) + relayed_points
    pieces = []
    if raising:
        after = "问题解决后：" if resolved_at is not None else ""
        pieces.append(f"{after}{_count_text(raising, list(RAISING_STANCES))} +{raised:g}")
    elif resolved_at is not None and problems:
        pieces.append(f"问题解决前的风险信号 {len(problems)} 条已获回应，不再加分")
    if strongest:
        pieces.append(
            f"官方来源：{_count_text(answers, list(OFFICIAL_ANSWER_POINTS))}，按{_STANCE_NAMES[strongest]}计 "
            f"−{OFFICIAL_ANSWER_POINTS[strongest]:g}"
        )
    if relayed:
        pieces.append(f"媒体、群众转述回应 {relayed} 条 −{relayed_points:g}")
    detail = "；".join(pieces) or "无明确立场"
    return ScorePart("stance_mix", PART_LABELS["stance_mix"], raised - lowered, detail)


def _next_level_gap(base: float, base_level: int | None, thresholds: dict[int, float]) -> float:
    """Points that lift ``base`` one level (from below IV: to IV), at least ``OVERDUE_MIN_POINTS``."""
    target = (base_level - 1) if base_level else 4
    gap = thresholds[target] - base if target >= 1 else 0.0
    return max(OVERDUE_MIN_POINTS, math.ceil(gap * 100) / 100)


def _response(timing: ResponseTiming, base: float, base_level: int | None, thresholds: dict[int, float]) -> ScorePart:
    label = PART_LABELS["response"]
    if timing.status == "on_time":
        return ScorePart("response", label, ON_TIME_POINTS, timing.describe())
    if timing.status == "late":
        return ScorePart("response", label, LATE_POINTS, timing.describe())
    if timing.status == "overdue":
        points = _next_level_gap(base, base_level, thresholds)
        detail = f"超过回应时限 {timing.overdue_by_work_h:g} 个工作小时未见官方回应，等级上调（{timing.describe()}）"
        return ScorePart("response", label, points, detail)
    return ScorePart("response", label, 0.0, timing.describe())


def score_event(
    facts: EventFacts,
    *,
    now: datetime,
    thresholds: dict[int, float] | None = None,
    calendar: WorkdayCalendar | None = None,
    response_spec: ResponseSpec | None = None,
) -> EventScore:
    """The event's risk score, level, parts and response timing: the one place they are computed."""
    thresholds = thresholds or DEFAULT_THRESHOLDS
    calendar = calendar or WeekdayCalendar()
    response_spec = response_spec or ResponseSpec()
    items = sorted(facts.items, key=lambda item: item.published_at)
    problems = [item for item in items if is_problem_item(item.role, item.stance)]
    parts = [
        _severity(facts),
        _volume(problems, len(items)),
        _spread(problems),
        _velocity(problems, facts.spike, now),
        _authority(problems),
        *([_hot_list(facts.hot_lists)] if facts.hot_lists else []),
        _stance_mix(items, problems),
    ]
    parts = [ScorePart(p.name, p.label, round(p.points, 2), p.detail) for p in parts]
    scored = facts.severity > 0 and bool(problems)
    base = max(0.0, sum(p.points for p in parts)) if scored else 0.0
    base_level = level_for(base, thresholds) if scored else None
    timing = response_timing(
        [(item.published_at, item.role, item.stance) for item in items]
        + [(replied_at, "official", "official_response") for replied_at in facts.replies],
        level=base_level,
        now=now,
        calendar=calendar,
        spec=response_spec,
    )
    response = _response(timing, base, base_level, thresholds)
    parts.append(ScorePart(response.name, response.label, round(response.points, 2), response.detail))
    total = round(min(100.0, max(0.0, sum(p.points for p in parts))), 2) if scored else 0.0
    level = level_for(total, thresholds) if scored else None
    reasons: list[str] = []
    if not scored:
        reasons.append("未涉及风险点或无风险信号，不计风险分" if facts.severity <= 0 or not problems else "")
    elif level is not None:
        reasons.append(f"风险分 {total:g}，达到{_LEVEL_NUMERALS[level]}级阈值 {thresholds[level]:g}")
    if timing.status == "overdue" and scored:
        reasons.append(f"超过回应时限 {timing.overdue_by_work_h:g} 个工作小时未见官方回应，等级上调")
    return EventScore(total, level, tuple(parts), timing, tuple(r for r in reasons if r))


__all__ = [
    "DEFAULT_THRESHOLDS",
    "PART_LABELS",
    "EventFacts",
    "EventScore",
    "ScorePart",
    "ScoredItem",
    "level_for",
    "score_event",
]
