"""Building the four documents from the database (``reports.model``), ready to render.

Every query is bounded by a time window on indexed columns (items by
publication time, fetch attempts by start time, warnings by creation time),
so building yesterday's report costs the same in a database of 100,000
items as in one of 1,000,000.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, select

from yuqing_core.analysis.merging import resolve_event_id
from yuqing_core.cases.assessments import approved_assessment
from yuqing_core.cases.metrics import case_section
from yuqing_core.cases.service import event_of_case
from yuqing_core.cases.states import TERMINAL_STATES
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import (
    Case,
    EarlyWarning,
    Event,
    EventItem,
    FetchAttempt,
    Item,
    ItemAnalysis,
    Match,
    RiskNotice,
    Source,
)
from yuqing_core.errors import InvalidInput, NotFound
from yuqing_core.events import hot_words
from yuqing_core.levels import Level
from yuqing_core.numbers import allocate_number, format_number
from yuqing_core.office import load_office
from yuqing_core.reports.model import (
    ApprovedAssessment,
    Count,
    Coverage,
    DailyReport,
    EventResponse,
    EventSummary,
    FactLine,
    HotListLine,
    HourCount,
    ItemRef,
    Office,
    OfficialResponse,
    ResponseSection,
    RiskNoticeLetter,
    SourceProblem,
    SpecialReport,
    SupervisionNotice,
    TrendPoint,
    WarningSummary,
)
from yuqing_core.reports.summary import Passage, SummarySentence, repeats, score_sentences, split_sentences, summarize
from yuqing_core.risk.explain import Judgement, judgement_of
from yuqing_core.risk.hotlist import sightings_between
from yuqing_core.risk.library import LibrarySpec
from yuqing_core.risk.response import is_official_response
from yuqing_core.risk.stance import RESPONSE_STANCES
from yuqing_core.risk.versions import NoActiveLibrary, active_library
from yuqing_core.text import excerpt
from yuqing_core.timeutil import utcnow

# What every item listed in a report is read with (an ``ItemRef`` and its excerpt's source).
ITEM_COLUMNS = (Item.id, Item.title, Item.excerpt, Item.url, Item.published_at, Item.text, Source.name, Item.deleted_at)
# The official reply a message board published with an item (``Item.reply_*``): an official response too.
REPLY_COLUMNS = (Item.reply_at, Item.reply_text, Item.reply_by)
TREND_DAYS = 14
SILENT_AFTER = timedelta(days=3)
MAX_LISTED_ITEMS = 40
MAX_EVENTS = 15
MAX_HOT_LIST_LINES = 10
HOT_WORDS = 12
HOT_WORD_TEXTS = 500
STATUS_LABELS = {"open": "待处理", "acknowledged": "已确认", "downgraded": "已降级", "dismissed": "已排除", "merged": "已并入",
                 "resolved": "已办结"}  # fmt: skip


def office(settings: Settings) -> Office:
    """The issuing office: ``yuqing_core.office.load_office`` (the units file's ``office:``, environment overrides)."""
    return load_office(settings)


def office_contact(settings: Settings) -> str:
    """Whom a unit contacts about a notice: the contact the office's identity names, else its duty room."""
    identity = office(settings)
    return identity.contact or f"{identity.name}值班室（舆情工作台「通知」页可直接回执）"


RECEIPT_TEXT = "请于收到本通知当日在舆情工作台「通知」页签收（回执），或填写下方回执联反馈；办结后书面报送核查处置结果。"
# Stances of what the public complains of or asks; with a public source, what a 督报 asks a unit to resolve.
COMPLAINT_STANCES = ("complaint", "question")
MAX_COMPLAINTS = 8


def day_window(day: date, tz: Any) -> tuple[datetime, datetime]:
    """00:00 to 24:00 of ``day`` in ``tz``, as aware datetimes."""
    start = datetime.combine(day, time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


def yesterday(settings: Settings, now: datetime | None = None) -> date:
    return ((now or utcnow()).astimezone(settings.tz) - timedelta(days=1)).date()


@dataclass
class _Library:
    spec: LibrarySpec | None
    version: int | None

    def severity(self, name: str) -> int:
        point = self.spec.risk_point(name) if self.spec else None
        return point.severity if point else 0

    def positive(self, name: str) -> bool:
        point = self.spec.risk_point(name) if self.spec else None
        return bool(point and point.positive)

    def units(self, names: Iterable[str]) -> tuple[str, ...]:
        found: list[str] = []
        for name in names:
            point = self.spec.risk_point(name) if self.spec else None
            for unit in point.units if point else ():
                if unit not in found:
                    found.append(unit)
        return tuple(found)

    def weight(self, source: str, default: float) -> float:
        return self.spec.source_weights.get(source, default) if self.spec else default


def _library(db: Database) -> _Library:
    try:
        active = active_library(db)
    except NoActiveLibrary:
        return _Library(None, None)
    return _Library(active.spec, active.version.version)


def _risk_points_in(db: Database, start: datetime, end: datetime) -> dict[int, set[str]]:
    """Risk points per item published in [start, end), from each item's latest analysis."""
    query = (
        select(Match.item_id, Match.risk_point_name)
        .join(Item, Item.id == Match.item_id)
        .join(ItemAnalysis, and_(ItemAnalysis.item_id == Match.item_id, ItemAnalysis.version_id == Match.version_id))
        .where(Match.kind == "risk", Item.published_at >= start, Item.published_at < end)
    )
    found: dict[int, set[str]] = defaultdict(set)
    with db.reader() as session:
        for item_id, name in session.execute(query):
            if name is not None:  # a risk match always names its point (the column is empty for the other kinds)
                found[item_id].add(name)
    return found


def _item_ref(row: Any, points: Iterable[str] = (), event_id: int | None = None) -> ItemRef:
    return ItemRef(
        item_id=row.id, title=row.title, excerpt=row.excerpt, source=row.name, published=row.published_at,
        url=row.url, risk_points=tuple(sorted(points)), event_id=event_id, deleted_at=getattr(row, "deleted_at", None),
    )  # fmt: skip


def counts_of(counter: Counter[str], total: int) -> tuple[Count, ...]:
    """Each label's count and share of ``total``, the largest first (sources, risk points ...)."""
    return tuple(Count(label, count, count / total if total else 0.0) for label, count in counter.most_common())


def event_summary(event: Event, library: _Library) -> EventSummary:
    judgement = judgement_of(event)
    return EventSummary(
        event_id=event.id, title=event.title, first_seen=event.first_seen_at, last_seen=event.last_seen_at,
        items=event.item_count, sources=event.source_count, heat=event.heat, score=event.score, level=event.level,
        level_label=Level.label_of(event.level),
        level_colour=Level(event.level).colour if event.level else "",
        risk_points=tuple(event.risk_points), units=library.units(event.risk_points),
        hot_words=tuple(word for word, _ in event.hot_words),
        parts=judgement.parts, response=judgement.response,
    )  # fmt: skip


def response_section(events: Iterable[Event]) -> ResponseSection:
    """The events whose response is timed (a target applies), unanswered past the target first."""
    order = {"overdue": 0, "late": 1, "pending": 2, "on_time": 3}
    lines = []
    for event in events:
        timing = judgement_of(event).response
        if timing.status is None or timing.first_signal_at is None:
            continue
        lines.append(
            EventResponse(
                event_id=event.id, title=event.title, level_label=Level.label_of(event.level), status=timing.status,
                status_label=timing.status_label, first_signal=timing.first_signal_at, first_response=timing.first_response_at,
                work_hours=timing.delay_work_h, clock_hours=timing.delay_clock_h, target_hours=timing.target_work_h,
            )
        )  # fmt: skip
    lines.sort(key=lambda e: (order.get(e.status, 9), e.first_signal))
    return ResponseSection(tuple(lines))


def warning_summary(warning: EarlyWarning, event: Event, case_number: str | None = None) -> WarningSummary:
    """A warning as reports list it; ``case_number`` names the 督办 case open on it or its event, which
    an open warning's status then says (已交办 rather than 待处理: the office has acted on it)."""
    status_label = STATUS_LABELS.get(warning.status, warning.status)
    if case_number and warning.status in ("open", "acknowledged"):
        status_label = f"已交办（{case_number}）"
    return WarningSummary(
        warning_id=warning.id, event_id=event.id, title=event.title, level=warning.level,
        level_label=Level(warning.level).label, level_colour=Level(warning.level).colour,
        effective_level=warning.effective_level, effective_label=Level(warning.effective_level).label,
        status=warning.status, status_label=status_label, score=warning.score,
        raised=warning.created_at, risk_points=tuple(warning.reasons.get("risk_points", [])),
    )  # fmt: skip


def open_case_numbers(db: Database, warnings: Iterable[tuple[EarlyWarning, Event]]) -> dict[int, str]:
    """Warning id -> the number of the earliest 督办 case still running on the warning's event (opened
    on the warning, the event or one of its items, merges followed: ``cases.service.event_of_case``)."""
    pairs = list(warnings)
    if not pairs:
        return {}
    with db.reader() as session:
        running = session.scalars(select(Case).where(Case.state.not_in(TERMINAL_STATES)).order_by(Case.created_at, Case.id))
        case_of_event: dict[int, str] = {}
        for case in running:
            event_id = event_of_case(session, case)
            if event_id is not None:
                case_of_event.setdefault(event_id, case.number)
    return {warning.id: case_of_event[event.id] for warning, event in pairs if event.id in case_of_event}


def coverage(db: Database, start: datetime, end: datetime, *, observed_until: datetime | None = None) -> Coverage:
    """How the feed sources did from ``start`` until ``observed_until`` (default ``end``): healthy, silent,
    failing, disabled. Sources added after ``observed_until`` are not judged."""
    observed_until = observed_until or end
    with db.reader() as session:
        # A source added after the observation cannot be judged for it.
        sources = session.scalars(
            select(Source).where(Source.kind != "archive", Source.created_at < observed_until).order_by(Source.name)
        ).all()
        attempts = session.execute(
            select(
                FetchAttempt.source_id, FetchAttempt.status, FetchAttempt.error, FetchAttempt.items_new, FetchAttempt.started_at
            )
            .where(FetchAttempt.started_at >= start, FetchAttempt.started_at < observed_until)
            .order_by(FetchAttempt.started_at)
        ).all()
    by_source: dict[int, list[Any]] = defaultdict(list)
    for row in attempts:
        by_source[row.source_id].append(row)
    healthy, silent, failing, disabled = 0, [], [], []
    for source in sources:
        if not source.enabled:
            disabled.append(SourceProblem(source.name, source.disabled_reason or "已停用", source.disabled_at))
            continue
        polls = by_source.get(source.id, [])
        if not polls:
            failing.append(SourceProblem(source.name, "当日没有采集记录"))
            continue
        last = polls[-1]
        if last.status not in ("ok", "not_modified"):
            failing.append(SourceProblem(source.name, last.error or last.status, last.started_at))
            continue
        healthy += 1
        new_in_window = sum(p.items_new for p in polls)
        if not new_in_window and (source.last_new_item_at is None or source.last_new_item_at < observed_until - SILENT_AFTER):
            when = source.last_new_item_at
            detail = f"最近一次新信息：{when.astimezone(start.tzinfo):%Y-%m-%d %H:%M}" if when else "从未采到新信息"
            silent.append(SourceProblem(source.name, detail, when))
    return Coverage(healthy, len(sources), tuple(silent), tuple(failing), tuple(disabled))


def is_sensitive(risk_points: Iterable[str], stance: str | None, library: _Library) -> bool:
    """Sensitive: matches a risk point that is not positive coverage, and is not itself an answer to the public
    (an official response, a 辟谣, a resolution: ``risk.stance.RESPONSE_STANCES``)."""
    return stance not in RESPONSE_STANCES and any(not library.positive(name) for name in risk_points)


def trend(db: Database, day: date, tz: Any, days: int = TREND_DAYS) -> tuple[TrendPoint, ...]:
    """Items, relevant items and sensitive items per local day, for ``days`` days ending with ``day``."""
    start, _ = day_window(day - timedelta(days=days - 1), tz)
    _, end = day_window(day, tz)
    with db.reader() as session:
        rows = session.execute(
            select(Item.id, Item.published_at, ItemAnalysis.relevant, ItemAnalysis.excluded, ItemAnalysis.stance)
            .outerjoin(ItemAnalysis, ItemAnalysis.item_id == Item.id)
            .where(Item.published_at >= start, Item.published_at < end)
        ).all()
    points = _risk_points_in(db, start, end)
    library = _library(db)
    series: dict[date, list[int]] = {day - timedelta(days=offset): [0, 0, 0] for offset in range(days)}
    for row in rows:
        bucket = series[row.published_at.astimezone(tz).date()]
        bucket[0] += 1
        if row.relevant and not row.excluded:
            bucket[1] += 1
            if is_sensitive(points.get(row.id, ()), row.stance, library):
                bucket[2] += 1
    return tuple(TrendPoint(d, *series[d]) for d in sorted(series))


def hot_list_lines(db: Database, start: datetime, end: datetime, limit: int = MAX_HOT_LIST_LINES) -> tuple[HotListLine, ...]:
    """上榜: the county's items (relevant, not excluded) seen on a hot list in [start, end), the best-ranked first."""
    sightings = sightings_between(db, start, end)
    if not sightings:
        return ()
    item_ids = sorted({s.item_id for s in sightings})
    with db.reader() as session:
        rows = {
            row.id: row
            for row in session.execute(
                select(Item.id, Item.title, Item.excerpt, Item.url, EventItem.event_id)
                .join(ItemAnalysis, ItemAnalysis.item_id == Item.id)
                .outerjoin(EventItem, EventItem.item_id == Item.id)
                .where(Item.id.in_(item_ids), ItemAnalysis.relevant.is_(True), ItemAnalysis.excluded.is_(False))
            )
        }
    lines = [
        HotListLine(
            list_name=s.list_name, title=rows[s.item_id].title or rows[s.item_id].excerpt[:60], item_id=s.item_id,
            best_rank=s.best_rank, climb=s.climb, last_rank=s.last_rank, heat_text=s.heat_text, first_seen=s.first_seen,
            last_seen=s.last_seen, url=rows[s.item_id].url, event_id=rows[s.item_id].event_id,
        )
        for s in sightings
        if s.item_id in rows
    ]  # fmt: skip
    return tuple(lines[:limit])


def events_with_items_in(start: datetime, end: datetime) -> Select[int]:
    """The ids of the events with an item published in [start, end): the events of a report's period."""
    return select(EventItem.event_id).where(EventItem.published_at >= start, EventItem.published_at < end).distinct()


def build_daily_report(db: Database, settings: Settings, day: date, *, now: datetime | None = None) -> DailyReport:
    """舆情日报 for the local ``day`` (00:00–24:00)."""
    now = now or utcnow()
    tz = settings.tz
    start, end = day_window(day, tz)
    library = _library(db)
    with db.reader() as session:
        rows = session.execute(
            select(
                *ITEM_COLUMNS,
                Source.category,
                Source.weight,
                ItemAnalysis.relevant,
                ItemAnalysis.excluded,
                ItemAnalysis.stance,
                EventItem.event_id,
            )
            .join(Source, Source.id == Item.source_id)
            .outerjoin(ItemAnalysis, ItemAnalysis.item_id == Item.id)
            .outerjoin(EventItem, EventItem.item_id == Item.id)
            .where(Item.published_at >= start, Item.published_at < end)
            .order_by(Item.published_at, Item.id)
        ).all()
        day_events = session.scalars(
            select(Event)
            .where(Event.id.in_(events_with_items_in(start, end)))
            .order_by(Event.score.desc(), Event.heat.desc(), Event.id)
            .limit(MAX_EVENTS)
        ).all()
        warnings = session.execute(
            select(EarlyWarning, Event)
            .join(Event, Event.id == EarlyWarning.event_id)
            .where(EarlyWarning.created_at >= start, EarlyWarning.created_at < end)
            .order_by(EarlyWarning.level, EarlyWarning.score.desc())
        ).all()
    points = _risk_points_in(db, start, end)

    by_source: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    by_point: Counter[str] = Counter()
    relevant_rows, positive_items, sensitive_items, responses = [], [], [], 0
    for row in rows:
        by_source[row.name] += 1
        by_category[row.category or "未分类"] += 1
        if not (row.relevant and not row.excluded):
            continue
        relevant_rows.append(row)
        names = points.get(row.id, set())
        by_point.update(names)
        responses += row.stance in RESPONSE_STANCES
        if is_sensitive(names, row.stance, library):
            sensitive_items.append((row, names))
        elif names and not any(not library.positive(name) for name in names):
            positive_items.append((row, names))

    def rank(pair: tuple[Any, set[str]]) -> tuple[int, float, datetime]:
        row, names = pair
        return (-max((library.severity(n) for n in names), default=0), -library.weight(row.name, row.weight), row.published_at)

    sensitive_items.sort(key=rank)
    positive_items.sort(key=lambda pair: (-library.weight(pair[0].name, pair[0].weight), pair[0].published_at))
    words = hot_words(
        [f"{row.title} {row.text}" for row in relevant_rows[:HOT_WORD_TEXTS]],
        top_k=HOT_WORDS,
        user_words=list(library.spec.region.terms) if library.spec else (),
    )
    events = tuple(event_summary(event, library) for event in day_events)
    open_cases = open_case_numbers(db, warnings)
    new_warnings = tuple(warning_summary(warning, event, open_cases.get(warning.id)) for warning, event in warnings)
    cases = case_section(db, start, end)
    report = DailyReport(
        office=office(settings),
        number=format_number(office(settings).number_prefix("daily"), day.year, day.timetuple().tm_yday),
        day=day, period_start=start, period_end=end, generated_at=now, library_version=library.version,
        items=len(rows), relevant=len(relevant_rows), sensitive=len(sensitive_items), positive=len(positive_items),
        responses=responses, response_section=response_section(day_events),
        by_source=counts_of(by_source, len(rows)), by_category=counts_of(by_category, len(rows)),
        by_risk_point=counts_of(by_point, len(relevant_rows)),
        positive_items=tuple(_item_ref(r, n, r.event_id) for r, n in positive_items[:MAX_LISTED_ITEMS]),
        sensitive_items=tuple(_item_ref(r, n, r.event_id) for r, n in sensitive_items[:MAX_LISTED_ITEMS]),
        events=events, new_warnings=new_warnings, cases=cases,
        # The morning report also knows how the sources did overnight: polls until it is written count (a day at most).
        coverage=coverage(db, start, end, observed_until=max(end, min(now, end + timedelta(days=1)))),
        hot_words=tuple(words), trend=trend(db, day, tz), summary="", hot_lists=hot_list_lines(db, start, end),
        deleted=tuple(_item_ref(r, points.get(r.id, ()), r.event_id) for r in relevant_rows if r.deleted_at is not None),
    )  # fmt: skip
    return _with_summary(report)


def _with_summary(report: DailyReport) -> DailyReport:
    day = f"{report.day.year}年{report.day.month}月{report.day.day}日"
    if not report.items:
        text = f"{day}未采集到任何信息。请先核对信息源状态：{report.coverage.sentence}。没有信息不等于没有风险。"
        return replace(report, summary=text)
    parts = [f"{day}共采集信息 {report.items} 条，其中涉及{report.office.county} {report.relevant} 条，"
             f"敏感信息 {report.sensitive} 条，正面报道 {report.positive} 条"
             + (f"，官方回应、辟谣和问题解决 {report.responses} 条。" if report.responses else "。")]  # fmt: skip
    if report.new_warnings:
        levels = Counter(w.level for w in report.new_warnings)
        parts.append("新增预警 " + "、".join(f"{Level(level).label} {levels[level]} 条" for level in sorted(levels)) + "。")
    else:
        parts.append("当日无新增预警。")
    warned = [e for e in report.events if e.level]
    if warned:
        parts.append("重点关注：" + "；".join(f"{e.title}（{e.level_label}）" for e in warned[:3]) + "。")
    if report.deleted:
        parts.append(f"其中 {len(report.deleted)} 条原文已删除，已留存快照。")
    if report.hot_lists:
        shown = "；".join(f"“{h.title}”{h.list_name}{h.ranking}" for h in report.hot_lists[:2])
        more = f"等 {len(report.hot_lists)} 条" if len(report.hot_lists) > 2 else ""
        parts.append(f"上榜：{shown}{more}。")
    parts.append(f"信息源：{report.coverage.sentence}。")
    return replace(report, summary="".join(parts))


# --- special report -------------------------------------------------------------------------


def _event_and_items(session: Any, event_id: int) -> tuple[Event, list[int]]:
    """An event and its items' ids; LookupError naming the id when there is no such event."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"没有编号为 {event_id} 的事件")
    return event, list(session.scalars(select(EventItem.item_id).where(EventItem.event_id == event_id)))


def _rows_for_items(db: Database, item_ids: list[int]) -> list[Any]:
    with db.reader() as session:
        return list(
            session.execute(
                select(
                    *ITEM_COLUMNS,
                    Source.weight,
                    Source.role,
                    ItemAnalysis.stance,
                    EventItem.event_id,
                    *REPLY_COLUMNS,
                )
                .join(Source, Source.id == Item.source_id)
                .outerjoin(ItemAnalysis, ItemAnalysis.item_id == Item.id)
                .outerjoin(EventItem, EventItem.item_id == Item.id)
                .where(Item.id.in_(item_ids))
                .order_by(Item.published_at, Item.id)
            ).all()
        )


def _timeline(rows: list[Any], points: dict[int, set[str]], limit: int = 20) -> tuple[ItemRef, ...]:
    """The first item, the first of each source, then the rest in time order, up to ``limit``."""
    chosen, seen_sources = [], set()
    for index, row in enumerate(rows):
        if index == 0 or row.name not in seen_sources:
            chosen.append(row)
            seen_sources.add(row.name)
    for row in rows:
        if len(chosen) >= limit:
            break
        if row not in chosen:
            chosen.append(row)
    chosen.sort(key=lambda r: (r.published_at, r.id))
    return tuple(_item_ref(r, points.get(r.id, ())) for r in chosen[:limit])


def hour_counts(times: Iterable[datetime], tz: Any, max_hours: int = 72) -> tuple[HourCount, ...]:
    """How many of ``times`` fell in each local hour, from the first to the last (at most ``max_hours``), empty hours too."""
    counts: Counter[datetime] = Counter(t.astimezone(tz).replace(minute=0, second=0, microsecond=0) for t in times)
    if not counts:
        return ()
    first, last = min(counts), max(counts)
    hours: list[HourCount] = []
    cursor = first
    while cursor <= last and len(hours) < max_hours:
        hours.append(HourCount(cursor, counts.get(cursor, 0)))
        cursor += timedelta(hours=1)
    return tuple(hours)


def _assessment(
    level: int | None, score: float, judgement: Judgement | None, items: int, sources: int, points: Iterable[str]
) -> str:
    """Why this level, in sentences: the risk score and its largest parts, and the response timing."""
    names = "、".join(points) or "无"
    if level is None:
        return f"共 {items} 条信息、{sources} 个来源，涉及风险点：{names}；风险分 {score:.1f}，未达到预警标准，建议持续关注。"
    parts = [f"共 {items} 条信息、{sources} 个来源，涉及风险点：{names}。风险分 {score:.1f}，研判为{Level(level).label}。"]
    if judgement is not None and judgement.parts:
        raising = sorted((p for p in judgement.parts if p.points > 0), key=lambda p: -p.points)[:3]
        lowering = [p for p in judgement.parts if p.points < 0]
        if raising:
            parts.append("主要因素：" + "；".join(f"{p.label}（{p.detail}）" for p in raising) + "。")
        if lowering:
            parts.append("降低风险的因素：" + "；".join(f"{p.label}（{p.detail}）" for p in lowering) + "。")
        if judgement.response.status == "overdue":
            parts.append("超过回应时限未见官方回应，等级已上调，请督促责任单位尽快发布权威信息。")
    return "".join(parts)


def build_special_report(
    db: Database,
    settings: Settings,
    *,
    event_id: int | None = None,
    expression: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    recipients: Iterable[str] = (),
    handling: Callable[[int | None], str] | None = None,
    now: datetime | None = None,
) -> SpecialReport:
    """舆情专报 for one event, or for the items a rule expression matches in [since, until)."""
    now = now or utcnow()
    tz = settings.tz
    library = _library(db)
    judgement: Judgement | None = None
    if event_id is not None:
        event_id = resolve_event_id(db, event_id)  # a report on an event merged away is one on its survivor
        with db.reader() as session:
            event, item_ids = _event_and_items(session, event_id)
        judgement = judgement_of(event)
        title, subject = event.title, f"事件 #{event_id}"
        level, score, point_names = event.level, event.score, list(event.risk_points)
        rows = _rows_for_items(db, item_ids)
        number_subject = f"event:{event_id}"
    else:
        if not expression or since is None or until is None:
            raise InvalidInput("专报需要事件编号，或规则表达式加时间范围（--since、--until）")
        rows = _rows_matching(db, expression, since, until)
        title, subject = f"关于“{expression}”的舆情专报", expression
        events = _events_of([r.event_id for r in rows if r.event_id], db)
        leveled = [e for e in events if e.level]
        top = min(leveled, key=lambda e: (e.level, -e.score)) if leveled else None
        top = top or max(events, key=lambda e: e.score, default=None)
        level, score = (top.level, top.score) if top else (None, 0.0)
        judgement = judgement_of(top) if top is not None else None
        point_names = sorted({p for e in events for p in e.risk_points})
        number_subject = f"expr:{expression}|{since.isoformat()}|{until.isoformat()}"
    points = _risk_points_in(db, rows[0].published_at, rows[-1].published_at + timedelta(seconds=1)) if rows else {}
    sources = Counter(r.name for r in rows)
    key = sorted(rows, key=lambda r: (-library.weight(r.name, r.weight), r.published_at))[:10]
    start = rows[0].published_at if rows else (since or now)
    end = rows[-1].published_at if rows else (until or now)
    year = now.astimezone(tz).year
    number = format_number(
        office(settings).number_prefix("special"), year, allocate_number(db, "special", year, number_subject, now=now)
    )
    first_report, key_facts, latest_status = what_happened(rows)
    asks = public_asks(rows)
    responses = official_responses(rows, judgement, points)
    stances = Counter(r.stance for r in rows if r.role != "official")
    handling_text = handling(level) if handling else ""
    return SpecialReport(
        office=office(settings), number=number, title=title, subject=subject, period_start=start, period_end=end,
        generated_at=now, items=len(rows), sources=len(sources), timeline=_timeline(rows, points),
        by_source=counts_of(sources, len(rows)), by_hour=hour_counts((r.published_at for r in rows), tz),
        key_items=tuple(_item_ref(r, points.get(r.id, ()), r.event_id) for r in key),
        hot_words=tuple(hot_words([f"{r.title} {r.text}" for r in rows[:HOT_WORD_TEXTS]], top_k=HOT_WORDS)),
        risk_points=tuple(point_names), units=library.units(point_names), level=level,
        level_label=Level.label_of(level), level_colour=Level(level).colour if level else "",
        score=score, assessment=_assessment(level, score, judgement, len(rows), len(sources), point_names),
        suggested_handling=handling_in_light_of(handling_text, responses, stances["complaint"] + stances["question"], tz),
        recipients=tuple(recipients) or special_report_addressees(settings), copy_to=library.units(point_names),
        parts=judgement.parts if judgement else (), response_lines=tuple(judgement.response_lines(tz)) if judgement else (),
        first_report=first_report, key_facts=key_facts, latest_status=latest_status, public_asks=asks,
        complaints=stances["complaint"], questions=stances["question"], official_responses=responses,
        approved_assessment=approved_assessment_of(db, event_id) if event_id is not None else None,
    )  # fmt: skip


# The leaders a 舆情专报 is addressed to (报送), as the county's emergency plan names them.
SPECIAL_REPORT_LEADERS = ("县委书记", "县长", "县委宣传部部长")
MAX_KEY_FACTS = 4
LATEST_SENTENCES = 2
MAX_PUBLIC_ASKS = 6
ASK_STRENGTH, DEMAND_STRENGTH = 0.5, 2.0  # the least ``asking_strength`` counted: any ask; an outright demand
ASKING_STANCES = frozenset({"complaint", "question"})
# A public rumour or harm report may ask too ("会不会影响井水？请有关部门检测"): counted when it demands something.
DEMANDING_STANCES = frozenset({"rumour", "harm_report"})
# What makes a sentence a demand on the authorities rather than chatter: asking verbs (strong), who is
# asked, what is asked for (checks, disclosure, a deadline), and a bare question (weak).
_DEMAND = re.compile(
    r"希望|要求|请求|恳请|呼吁|建议|盼|请(?=[^，。；]{0,8}?(?:有关|相关|政府|县|镇|局|部门|领导|管委会|企业|厂))"
)
_ADDRESSED = re.compile(r"有关部门|相关部门|政府|县里|领导|管委会|[局委办]")
_ASKED_FOR = re.compile(r"检测|监测|公开|公布|调查|查清|核查|整改|处理|解决|赔偿|答复|说法|告诉|尽快|多久|什么时候|何时")
_QUESTION = re.compile(r"[？?]|能不能|能否|是否|会不会|有没有|为什么|怎么")
_FIRST_STATEMENT = re.compile(
    r"首次回应|(?:[\d一二两三四五六七八九十]+\s*(?:个)?(?:小时|工作日|日|天)内|当日|第一时间|尽快|及时)[^。；\n]*?(?:发布|回应|通报|说明)"
)


def special_report_addressees(settings: Settings) -> tuple[str, ...]:
    """Who a 舆情专报 (and a 周报、月报、季报) is addressed to (报送): the leaders the office's identity names.

    An identity that names no leaders (no units file, or none listed) gets the plan's three.
    """
    return office(settings).leader_labels or SPECIAL_REPORT_LEADERS


def _fact(row: Any, text: str) -> FactLine:
    return FactLine(text=text, source=row.name, published=row.published_at, item_id=row.id, url=row.url)


MIN_BODY_CHARS = 30  # a body shorter than this says less than its title


def _passage(row: Any) -> Passage:
    """An item as the summary reads it: its body; its title only when the body says little.

    Titles repeat their body's lead in other words, and reposts and headlines carry the marks of
    their channel (转：, 【关注】, - 青禾论坛), so bodies are where the facts are stated once.
    """
    title = (row.title or "").strip()
    body = (row.text or row.excerpt or "").strip()
    if len(body) >= MIN_BODY_CHARS or not title:
        return Passage(body, row.published_at, row.id)
    return Passage(body if body.startswith(title) else f"{title.rstrip('。')}。{body}", row.published_at, row.id)


def _lead(row: Any, sentences: int = 2) -> str:
    return "".join(split_sentences(_passage(row).text)[:sentences])


def what_happened(rows: list[Any]) -> tuple[FactLine | None, tuple[FactLine, ...], FactLine | None]:
    """The first report, the key facts and the latest status of an event's items (oldest first).

    The first report is the earliest item's opening. The latest status is the latest word of an
    official source (or, without one, the latest official response, 辟谣 or resolution, or the
    latest item): its sentences most central to the whole event. The key facts are an extractive
    summary (``reports.summary``) of the items that state rather than ask (complaints and questions
    are the public's asks), saying nothing the other two say.
    """
    if not rows:
        return None, (), None
    first = rows[0]
    # Complaints and questions are what the public asks (``public_asks``), not statements of fact.
    stating = [r for r in rows if r.stance not in ASKING_STANCES] or rows
    official = [r for r in stating if r.role == "official"]
    answers = [r for r in stating if r.stance in RESPONSE_STANCES]
    last = (official or answers or stating)[-1]
    first_line = _fact(first, _lead(first))
    passages = [_passage(r) for r in stating]
    latest = None
    if last is not first:
        # The latest item's sentences that say most about the whole event, in their order.
        own = sorted((s for s in score_sentences(passages) if s.key == last.id), key=lambda s: -s.score)[:LATEST_SENTENCES]
        latest = _fact(last, "".join(s.text for s in sorted(own, key=lambda s: s.index))) if own else None
    by_id = {r.id: r for r in rows}
    chosen: list[SummarySentence] = summarize(
        passages, max_sentences=MAX_KEY_FACTS, exclude=[first_line.text] + ([latest.text] if latest else []),
    )  # fmt: skip
    return first_line, tuple(_fact(by_id[s.key], s.text) for s in chosen), latest


def asking_strength(sentence: str) -> float:
    """How clearly a sentence asks the authorities for something (0: it does not ask).

    >>> asking_strength("请有关部门对村里的井水取样检测一下。") > asking_strength("住附近的朋友有闻到吗？") > 0
    True
    """
    demand, question = bool(_DEMAND.search(sentence)), bool(_QUESTION.search(sentence))
    if not (demand or question):
        return 0.0
    return 2.0 * demand + 0.5 * question + bool(_ADDRESSED.search(sentence)) + bool(_ASKED_FOR.search(sentence))


def public_asks(rows: list[Any], limit: int = MAX_PUBLIC_ASKS) -> tuple[FactLine, ...]:
    """What the public asks: the clearest asks of the complaints and questions (not from official sources).

    From each such item its sentence that asks most clearly (``asking_strength``); a public rumour or
    harm report counts when it demands something outright. Then the clearest ``limit`` of those,
    none repeating another, oldest first.
    """
    candidates: list[tuple[float, int, FactLine]] = []
    for order, row in enumerate(rows):
        if row.role == "official" or row.stance not in ASKING_STANCES | DEMANDING_STANCES:
            continue
        scored = [(asking_strength(s), s) for s in split_sentences(_passage(row).text)]
        strength, best = max(scored, default=(0.0, ""), key=lambda pair: pair[0])
        if strength >= (DEMAND_STRENGTH if row.stance in DEMANDING_STANCES else ASK_STRENGTH):
            candidates.append((strength, order, _fact(row, best)))
    chosen: list[tuple[int, FactLine]] = []
    for _, order, fact in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if len(chosen) >= limit:
            break
        if not repeats(fact.text, (f.text for _, f in chosen)):
            chosen.append((order, fact))
    return tuple(fact for _, fact in sorted(chosen, key=lambda pair: pair[0]))


def official_responses(rows: list[Any], judgement: Judgement | None, points: dict[int, set[str]]) -> tuple[OfficialResponse, ...]:
    """The official responses, 辟谣 and resolutions of the event (official sources), oldest first, the first one timed."""
    timing = judgement.response if judgement else None
    said = [
        (row.published_at, _item_ref(row, points.get(row.id, ()))) for row in rows if is_official_response(row.role, row.stance)
    ]
    said += [(row.reply_at, _reply_ref(row)) for row in rows if getattr(row, "reply_at", None) is not None]
    found: list[OfficialResponse] = []
    for _at, ref in sorted(said, key=lambda pair: pair[0]):
        if found:
            label, late = "后续发布", False
        elif timing is not None and timing.proactive:
            label, late = "主动发布（早于群众反映）", False
        elif timing is not None and timing.status in ("on_time", "late"):
            late = timing.status == "late"
            hours = f"，用时 {timing.delay_work_h:g} 个工作小时" if timing.delay_work_h is not None else ""
            limit = f"，时限 {timing.target_work_h:g} 个工作小时" if timing.target_work_h is not None else ""
            label = f"首次回应，{timing.status_label}{hours}{limit}"
        else:
            label, late = "首次回应", False
        found.append(OfficialResponse(ref, label, late))
    return tuple(found)


def _reply_ref(row: Any) -> ItemRef:
    """A message board's official reply, cited as the reply to its message (at the reply's time, by who replied)."""
    return ItemRef(
        item_id=row.id, title=f"答复：{row.title}" if row.title else "答复", excerpt=excerpt(row.reply_text or "", 200),
        source=f"{row.reply_by}（{row.name}）" if row.reply_by else row.name, published=row.reply_at, url=row.url,
    )  # fmt: skip


def handling_in_light_of(text: str, responses: tuple[OfficialResponse, ...], asks: int, tz: Any) -> str:
    """The level's handling text, with what the facts have overtaken put right.

    Once an official response is out, a sentence asking for a first statement within some hours
    is no longer advice: it is replaced by one saying when and where the response came, and what
    is left to do (answer what the public still asks, publish progress).
    """
    if not responses or not text:
        return text
    first = responses[0].item
    when = first.published.astimezone(tz)
    said = (f"{first.source}已于{when.month}月{when.day}日{when:%H:%M}发布官方回应（{responses[0].label}）。"
            f"请责任单位针对群众仍在反映的问题" + (f"（诉求 {asks} 条）" if asks else "")
            + "核实整改，并持续发布调查处置进展，做好解释和化解工作。")  # fmt: skip
    lines, replaced = [], False
    for line in text.splitlines():
        if _FIRST_STATEMENT.search(line):
            if not replaced:
                lines.append(said)
                replaced = True
            continue
        lines.append(line)
    return "\n".join(lines if replaced else [*lines, said])


def _rows_matching(db: Database, expression: str, since: datetime, until: datetime) -> list[Any]:
    from yuqing_core.rules import MatchText, RuleSet

    ruleset = RuleSet([(0, expression)])
    with db.reader() as session:
        candidates = session.execute(
            select(Item.id, Item.title, Item.text, Source.name)
            .join(Source, Source.id == Item.source_id)
            .where(Item.published_at >= since, Item.published_at < until)
            .order_by(Item.published_at, Item.id)
        ).all()
    documents = [MatchText(title=r.title, text=r.text, source=r.name) for r in candidates]
    matched = [candidates[index].id for index, _ in ruleset.match_many(documents)]
    return _rows_for_items(db, matched) if matched else []


def _events_of(event_ids: list[int], db: Database) -> list[Event]:
    if not event_ids:
        return []
    with db.reader() as session:
        return list(session.scalars(select(Event).where(Event.id.in_(set(event_ids)))))


# --- supervision notice and risk notice letter ------------------------------------------------------


def _public_complaints(db: Database, item_ids: list[int]) -> list[Any]:
    """The items among ``item_ids`` in which the public complains or asks (public sources only), oldest first."""
    if not item_ids:
        return []
    with db.reader() as session:
        return list(
            session.execute(
                select(*ITEM_COLUMNS, Source.weight, EventItem.event_id)
                .join(Source, Source.id == Item.source_id)
                .join(ItemAnalysis, ItemAnalysis.item_id == Item.id)
                .outerjoin(EventItem, EventItem.item_id == Item.id)
                .where(Item.id.in_(item_ids), Source.role == "public", ItemAnalysis.stance.in_(COMPLAINT_STANCES))
                .order_by(Item.published_at, Item.id)
                .limit(MAX_COMPLAINTS)
            ).all()
        )


def approved_assessment_of(db: Database, event_id: int) -> ApprovedAssessment | None:
    """The event's approved 研判 as documents print it, or None."""
    row = approved_assessment(db, event_id)
    if row is None or row.approved_by is None or row.approved_at is None:
        return None
    return ApprovedAssessment(
        row.nature, row.trend, row.risks, row.handling, row.talking_points, row.approved_by, row.approved_at
    )


def supervision_title(matter: str) -> str:
    """关于……的督办通知, the matter quoted.

    >>> supervision_title("白沙镇东坪村异味")
    '关于“白沙镇东坪村异味”有关问题的督办通知'
    """
    return f"关于“{matter.strip().strip('“”')}”有关问题的督办通知"


def build_supervision_notice(
    db: Database,
    settings: Settings,
    *,
    unit: str,
    requirements: str,
    deadline: datetime,
    event_id: int | None = None,
    item_id: int | None = None,
    risk_notice_id: int | None = None,
    co_units: Iterable[str] = (),
    case_number: str | None = None,
    matter: str | None = None,
    work_days: int | None = None,
    now: datetime | None = None,
) -> SupervisionNotice:
    """舆情督报 to ``unit`` about an event, an item or a 提示函: titled 关于……的督办通知 after ``matter``
    (default: the event's or item's title), listing what the public complains of or asks."""
    now = now or utcnow()
    assessment = None
    if [event_id, item_id, risk_notice_id].count(None) != 2:
        raise InvalidInput("督报须针对一个事件、一条信息或一份提示函（三选一）")
    if event_id is not None:
        event_id = resolve_event_id(db, event_id)
        with db.reader() as session:
            event, ids = _event_and_items(session, event_id)
        complaints = _public_complaints(db, ids)
        title = event.title
        seen = (f"自 {event.first_seen_at.astimezone(settings.tz):%m月%d日%H:%M} 起，网上出现关于“{event.title}”的信息 "
                f"{event.item_count} 条，涉及 {event.source_count} 个来源")  # fmt: skip
        seen += f"，其中网民投诉、提问 {len(complaints)} 条（列于下方）。" if complaints else "，暂未见网民投诉或提问。"
        subject = f"event:{event_id}"
        assessment = approved_assessment_of(db, event_id)
    elif item_id is not None:
        complaints = _rows_for_items(db, [item_id])
        if not complaints:
            raise NotFound(f"没有编号为 {item_id} 的信息")
        title = complaints[0].title or complaints[0].excerpt[:40]
        seen = f"{complaints[0].published_at.astimezone(settings.tz):%m月%d日%H:%M}，{complaints[0].name}发布信息“{title}”。"
        subject = f"item:{item_id}"
    else:
        with db.reader() as session:
            notice = session.get(RiskNotice, risk_notice_id)
        if notice is None:
            raise NotFound(f"没有编号为 {risk_notice_id} 的风险提示函")
        complaints = _rows_for_items(db, list(notice.example_item_ids))
        title = notice.title or notice.risk_point_name
        sent_to = "、".join(notice.units)
        seen = f"{notice.day[5:7]}月{notice.day[8:10]}日，已就“{notice.risk_point_name}”向{sent_to}发出网络风险提示函。"
        seen += "\n" + (notice.body or f"“{notice.risk_point_name}”相关网络信息近期明显增多。")
        subject = f"risk_notice:{risk_notice_id}"
    year = now.astimezone(settings.tz).year
    number = format_number(
        office(settings).number_prefix("supervision"),
        year,
        allocate_number(db, "supervision", year, f"{subject}|{unit}", now=now),
    )
    return SupervisionNotice(
        office=office(settings), number=number, unit=unit, co_units=tuple(co_units), title=supervision_title(matter or title),
        seen=seen, items=tuple(_item_ref(r) for r in complaints), requirements=requirements, deadline=deadline, issued_at=now,
        case_number=case_number, contact=office_contact(settings), work_days=work_days, receipt=RECEIPT_TEXT,
        approved_assessment=assessment,
    )  # fmt: skip


DEFAULT_WATCH = "请密切关注相关网络信息动态，及时核实情况、回应群众关切，防止问题扩大；如有新情况请及时反馈。"


def build_risk_notice_letter(
    db: Database, settings: Settings, notice_id: int, *, now: datetime | None = None
) -> RiskNoticeLetter:
    """网络风险提示函 from a risk notice record written by the risk-library flow."""
    now = now or utcnow()
    with db.reader() as session:
        notice = session.get(RiskNotice, notice_id)
        if notice is None:
            raise NotFound(f"没有编号为 {notice_id} 的风险提示记录")
    library = _library(db)
    point = library.spec.risk_point(notice.risk_point_name) if library.spec else None
    rows = _rows_for_items(db, list(notice.example_item_ids))
    watch = (point.notes + " " if point and point.notes else "") + DEFAULT_WATCH
    if notice.origin == "manual":
        watch = notice.requirements or DEFAULT_WATCH
    day = date.fromisoformat(notice.day)
    number = format_number(
        office(settings).number_prefix("risk_notice"),
        day.year,
        allocate_number(db, "risk_notice", day.year, f"notice:{notice_id}", now=now),
    )
    return RiskNoticeLetter(
        office=office(settings), number=number, units=tuple(notice.units), risk_point=notice.risk_point_name,
        category=point.category if point else None, day=day, current=notice.current_count, expected=notice.expected,
        baseline=tuple(notice.baseline), examples=tuple(_item_ref(r) for r in rows), watch=watch, issued_at=now,
        foreseen=(notice.body or "") if notice.origin == "manual" else "", requirements=notice.requirements or "",
        subject_title=notice.title or "",
    )  # fmt: skip


def latest_events(db: Database, *, limit: int = 5) -> list[int]:
    """Ids of the hottest warned events (for demos and defaults)."""
    with db.reader() as session:
        return list(
            session.scalars(
                select(Event.id)
                .where(Event.level.is_not(None), Event.merged_into_id.is_(None))
                .order_by(Event.level, Event.heat.desc())
                .limit(limit)
            )
        )
