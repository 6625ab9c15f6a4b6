"""What the four documents say, as plain data: built from the database by ``reports.data``,
rendered by ``reports.render`` into HTML, Markdown, DOCX and a short text.

Everything here is already decided (counts, levels, wording of sections);
templates only lay it out. Every text field that came from a feed (titles,
excerpts, source names, links) is hostile input: templates autoescape it and
``ItemRef.url`` is an http(s) link or None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from yuqing_core.cases.metrics import CaseLine, CaseSection
from yuqing_core.office import Office as Office  # re-exported: the documents name their issuer
from yuqing_core.risk.response import ResponseTiming
from yuqing_core.risk.scoring import ScorePart


@dataclass(frozen=True)
class ItemRef:
    """One item as a document cites it."""

    item_id: int
    title: str  # may be "" (social posts); templates fall back to the excerpt
    excerpt: str
    source: str
    published: datetime  # aware
    url: str | None  # http(s) only, already checked
    risk_points: tuple[str, ...] = ()
    event_id: int | None = None
    deleted_at: datetime | None = None  # when a later fetch found the page gone: 原文已删除 (a snapshot keeps it)

    @property
    def headline(self) -> str:
        return self.title or self.excerpt[:60]


@dataclass(frozen=True)
class Count:
    label: str  # a source, a category, a risk point ...
    count: int
    share: float = 0.0  # of the total, 0..1


@dataclass(frozen=True)
class EventSummary:
    event_id: int
    title: str
    first_seen: datetime
    last_seen: datetime
    items: int
    sources: int
    heat: float
    score: float
    level: int | None  # 4 = IV 一般 ... 1 = I 特别重大
    level_label: str  # "IV级（一般）", or "" when not warned
    level_colour: str  # 蓝色 / 黄色 / 橙色 / 红色, or ""
    risk_points: tuple[str, ...]
    units: tuple[str, ...]
    hot_words: tuple[str, ...]
    parts: tuple[ScorePart, ...] = ()  # the risk score's named parts (risk.scoring)
    response: ResponseTiming | None = None  # 快速回应 timing


@dataclass(frozen=True)
class EventResponse:
    """One event's 快速回应 line in the daily report."""

    event_id: int
    title: str
    level_label: str  # "" when not warned
    status: str  # on_time | late | overdue | pending
    status_label: str  # 按时 / 超时 / 未回应（已超时限） / 待回应
    first_signal: datetime
    first_response: datetime | None
    work_hours: float | None  # signal to response (or to the last refresh while unanswered)
    clock_hours: float | None
    target_hours: float | None


@dataclass(frozen=True)
class ResponseSection:
    """快速回应: the day's events with a response target, answered on time, late, or not (yet)."""

    events: tuple[EventResponse, ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for e in self.events if e.status == status)

    @property
    def sentence(self) -> str:
        if not self.events:
            return "本日无需计算回应时效的事件。"
        return (f"需回应事件 {len(self.events)} 起：按时回应 {self.count('on_time')} 起，超时回应 {self.count('late')} 起，"
                f"超过时限未回应 {self.count('overdue')} 起，待回应 {self.count('pending')} 起。")  # fmt: skip


@dataclass(frozen=True)
class HotListLine:
    """上榜: a county item seen on a hot list (热榜) during the report's day, and how it moved there."""

    list_name: str
    title: str
    item_id: int
    best_rank: int | None
    climb: int  # places risen from its first rank of the day to its best
    last_rank: int | None
    heat_text: str | None  # the highest heat of the day, as the list wrote it
    first_seen: datetime
    last_seen: datetime
    url: str | None = None  # http(s) only
    event_id: int | None = None

    @property
    def ranking(self) -> str:
        """``第3名（上升12位）``, or ``无名次`` for an entry the list shows without a number."""
        if self.best_rank is None:
            return "无名次"
        return f"第{self.best_rank}名" + (f"（上升{self.climb}位）" if self.climb else "")


@dataclass(frozen=True)
class WarningSummary:
    warning_id: int
    event_id: int
    title: str
    level: int
    level_label: str
    level_colour: str
    effective_level: int
    effective_label: str
    status: str  # open | acknowledged | downgraded | dismissed
    status_label: str  # 待处理 / 已确认 / 已降级 / 已排除
    score: float
    raised: datetime
    risk_points: tuple[str, ...]


@dataclass(frozen=True)
class SourceProblem:
    name: str
    detail: str  # the error, the disabled reason, or "最近一次新信息：..."
    since: datetime | None = None


@dataclass(frozen=True)
class Coverage:
    """Source coverage, so that "no items" is never mistaken for "no risk"."""

    healthy: int
    total: int
    silent: tuple[SourceProblem, ...]  # polled fine but nothing new for a long time
    failing: tuple[SourceProblem, ...]  # last poll failed
    disabled: tuple[SourceProblem, ...]

    @property
    def sentence(self) -> str:
        return f"{self.total} 个信息源中 {self.healthy} 个正常"


@dataclass(frozen=True)
class TrendPoint:
    day: date
    items: int  # collected
    relevant: int  # about the county
    sensitive: int  # matching a (non-positive) risk point, and not an official response, 辟谣 or resolution


@dataclass(frozen=True)
class DailyReport:
    """舆情日报: one local day (00:00–24:00), read by leaders the next morning."""

    office: Office
    number: str  # 青舆日〔2026〕332号 (day of the year)
    day: date
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    library_version: int | None
    items: int
    relevant: int
    sensitive: int  # matching a (non-positive) risk point, and not an official response, 辟谣 or resolution
    positive: int
    by_source: tuple[Count, ...]
    by_category: tuple[Count, ...]
    by_risk_point: tuple[Count, ...]
    positive_items: tuple[ItemRef, ...]
    sensitive_items: tuple[ItemRef, ...]
    events: tuple[EventSummary, ...]
    new_warnings: tuple[WarningSummary, ...]
    cases: CaseSection
    coverage: Coverage
    hot_words: tuple[tuple[str, float], ...]
    trend: tuple[TrendPoint, ...]  # the 14 days ending with ``day``, oldest first
    summary: str  # two or three sentences leading the report
    responses: int = 0  # relevant items whose stance answers the public: official response, 辟谣, resolution
    response_section: ResponseSection = field(default_factory=ResponseSection)
    deleted: tuple[ItemRef, ...] = ()  # relevant items of the day whose page was found deleted (原文已删除)
    hot_lists: tuple[HotListLine, ...] = ()  # 上榜: the county's items seen on hot lists, the best-ranked first


@dataclass(frozen=True)
class HourCount:
    hour: datetime  # start of the local hour
    count: int


@dataclass(frozen=True)
class FactLine:
    """One sentence of an item, as a document quotes it: what was said, where and when."""

    text: str
    source: str
    published: datetime  # aware
    item_id: int
    url: str | None = None  # http(s) only


@dataclass(frozen=True)
class OfficialResponse:
    """An official response, 辟谣 or resolution on the event, and whether it came in time."""

    item: ItemRef
    label: str  # 首次回应（按时）/ 首次回应（超时）/ 主动发布 / 后续发布
    late: bool = False


@dataclass(frozen=True)
class ApprovedAssessment:
    """An event's 研判 as approved (签发) by the office head (``cases.assessments``), as documents print it."""

    nature: str
    trend: str
    risks: str
    handling: str
    talking_points: str  # 回应口径: 早讲事实、重讲态度、多讲措施、慎讲原因
    approved_by: str
    approved_at: datetime

    def sections(self) -> tuple[tuple[str, str], ...]:
        """(label, text) in reading order."""
        return (
            ("性质", self.nature),
            ("走势", self.trend),
            ("风险", self.risks),
            ("处置建议", self.handling),
            ("回应口径", self.talking_points),
        )


@dataclass(frozen=True)
class SpecialReport:
    """舆情专报: one event, or one rule expression over a window, in depth."""

    office: Office
    number: str
    title: str
    subject: str  # "事件 #12" or the expression
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    items: int
    sources: int
    timeline: tuple[ItemRef, ...]  # oldest first, the turning points and the first of each source
    by_source: tuple[Count, ...]
    by_hour: tuple[HourCount, ...]
    key_items: tuple[ItemRef, ...]
    hot_words: tuple[tuple[str, float], ...]
    risk_points: tuple[str, ...]
    units: tuple[str, ...]
    level: int | None
    level_label: str
    level_colour: str
    score: float
    assessment: str  # why this level, in sentences
    suggested_handling: str  # the configurable handling text for this level
    recipients: tuple[str, ...]
    parts: tuple[ScorePart, ...] = ()  # the risk score's named parts (for one event)
    response_lines: tuple[str, ...] = ()  # 快速回应: 首发时间, 首次官方回应, 回应用时, 状态
    # What happened, extracted from the items (reports.summary): the first report, the key facts, the latest status.
    first_report: FactLine | None = None
    key_facts: tuple[FactLine, ...] = ()
    latest_status: FactLine | None = None
    # What the public asks: complaints and questions (risk.stance), one asking sentence each.
    public_asks: tuple[FactLine, ...] = ()
    complaints: int = 0  # items whose stance is a complaint
    questions: int = 0  # items whose stance is a question
    official_responses: tuple[OfficialResponse, ...] = ()
    copy_to: tuple[str, ...] = ()  # 抄送: the units concerned
    approved_assessment: ApprovedAssessment | None = None  # the office head's approved 研判 of the event


@dataclass(frozen=True)
class SupervisionNotice:
    """舆情督报: tells a unit to verify and resolve a matter by a deadline (opens a case)."""

    office: Office
    number: str
    unit: str
    co_units: tuple[str, ...]
    title: str  # 关于……的督办通知
    seen: str  # what was seen, in sentences
    items: tuple[ItemRef, ...]  # what the public complains of or asks (not media or government posts)
    requirements: str  # what the unit must verify and report back
    deadline: datetime
    issued_at: datetime
    case_number: str | None = None
    contact: str = ""
    work_days: int | None = None  # the deadline as a number of working days (None: same day, or not a case's)
    receipt: str = ""  # how to acknowledge (回执)
    approved_assessment: ApprovedAssessment | None = None


@dataclass(frozen=True)
class RiskNoticeLetter:
    """网络风险提示函: a risk point shows rising signals; act early."""

    office: Office
    number: str
    units: tuple[str, ...]
    risk_point: str
    category: str | None
    day: date
    current: int
    expected: float
    baseline: tuple[int, ...]
    examples: tuple[ItemRef, ...]
    watch: str  # what to watch, in sentences
    issued_at: datetime
    extra: dict[str, str] = field(default_factory=dict)
    # A letter the office wrote by hand for a foreseen risk (关口前移): no signal figures, its own text.
    foreseen: str = ""  # what the office sees coming, in sentences
    requirements: str = ""  # what the units must do
    subject_title: str = ""  # the letter's own title, if it gave one


@dataclass(frozen=True)
class PeriodTotals:
    """What a period held: items collected, about the county, sensitive; events and warnings."""

    items: int = 0
    relevant: int = 0
    sensitive: int = 0
    events: int = 0  # events with an item published in the period
    warned: int = 0  # of which at a warning level
    new_warnings: int = 0  # warnings raised in the period


@dataclass(frozen=True)
class RiskPointChange:
    """A risk point's relevant items this period against the period before."""

    name: str
    current: int
    previous: int
    units: tuple[str, ...] = ()

    @property
    def change(self) -> int:
        return self.current - self.previous


@dataclass(frozen=True)
class IncidentLine:
    """One incident of the period and how it was handled."""

    event: EventSummary
    warning_status: str  # 待处理 / 已确认 / ... or "" when no warning was raised
    response: str  # 按时（2026-12-01 13:10）/ 超时（...）/ 未回应（已超时限） / 待回应 / 不计回应时效
    cases: tuple[CaseLine, ...] = ()
    response_status: str = ""  # 按时 / 超时 / 未回应（已超时限） / 待回应 / 不计时效


@dataclass(frozen=True)
class PeriodicReport:
    """舆情周报 / 月报 / 季报: a week, month or quarter in review, against the period before."""

    office: Office
    number: str  # 青舆周〔2026〕48号
    kind: str  # weekly | monthly | quarterly
    name: str  # 舆情周报 / 舆情月报 / 舆情季报
    period_label: str  # 2026年第48周（11月23日至11月29日）
    period_start: datetime
    period_end: datetime  # exclusive
    generated_at: datetime
    totals: PeriodTotals
    previous: PeriodTotals  # the period of the same length just before
    trend: tuple[TrendPoint, ...]  # per local day of the period
    incidents: tuple[IncidentLine, ...]
    response_section: ResponseSection
    cases: CaseSection  # cases opened, answered, closed in the period; on-time by unit over the period's cases
    rising: tuple[RiskPointChange, ...]  # risk points with more items than the period before, most risen first
    by_risk_point: tuple[RiskPointChange, ...]  # every risk point seen in either period
    summary: str  # the period in a few sentences
    recipients: tuple[str, ...] = ()  # 报送: the county leaders


Report = DailyReport | SpecialReport | SupervisionNotice | RiskNoticeLetter | PeriodicReport
