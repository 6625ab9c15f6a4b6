"""Sample documents of every kind for the fictional county 青禾县, for tests and previews.

They are realistic (names from ``demo/county.yaml`` and ``demo/risk.yaml``)
and deliberately hostile where feeds can be: titles with ``<script>``, with
Markdown links to ``javascript:``, with ``**emphasis**``, a ``javascript:``
URL (``ItemRef`` built directly, past the collector's checks), very long
titles, untitled social posts. There is also an empty day and a very busy
one.

Example::

    from yuqing_core.reports.samples import SAMPLES
    Renderer().write(SAMPLES["daily"](), Path("/tmp/preview"), "daily")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from yuqing_core.cases.metrics import CaseLine, CaseSection, UnitMetric
from yuqing_core.office import ContactSpec, DistributionSpec, LeaderSpec, OfficeSpec, office_from_spec
from yuqing_core.reports.model import (
    Count,
    Coverage,
    DailyReport,
    EventSummary,
    FactLine,
    HourCount,
    IncidentLine,
    ItemRef,
    OfficialResponse,
    PeriodicReport,
    PeriodTotals,
    Report,
    ResponseSection,
    RiskNoticeLetter,
    RiskPointChange,
    SourceProblem,
    SpecialReport,
    SupervisionNotice,
    TrendPoint,
    WarningSummary,
)
from yuqing_core.reports.render import suggested_handling
from yuqing_core.timeutil import SHANGHAI

OFFICE = office_from_spec(
    OfficeSpec(
        county="青禾县", name="青禾县网络舆情应急监控中心", short_name="县舆情中心", internal_only=True,
        contact=ContactSpec(person="林晓", phone="0000-6120110"),
        leaders=[LeaderSpec(title="县委书记"), LeaderSpec(title="县长"), LeaderSpec(title="县委宣传部部长")],
        distribution={
            "default": DistributionSpec(send_to=["县委办公室", "县政府办公室"], copy_to=["县委网信办"]),
            "special": DistributionSpec(copy_to=["县委网信办", "risk_point_units"]),
            "supervision": DistributionSpec(report_to=["县委宣传部"], send_to=[], copy_to=["县政府督查室"]),
        },
    )
)  # fmt: skip
DAY = date(2026, 11, 28)

HOSTILE_SCRIPT_TITLE = "<script>alert(1)</script>"
HOSTILE_MARKDOWN_TITLE = "[点我](javascript:alert(1)) **粗体** 看看 <img src=x onerror=alert(2)>"
HOSTILE_URL = "javascript:alert(1)"
LONG_TITLE = (
    "【求扩散】白沙镇东坪村一早全是刺鼻气味，是不是化工园区又泄漏了？家里老人孩子都说头晕嗓子疼，"
    "村里好多人已经去县人民医院看了，到现在也没有人出来说明情况，我们到底还能不能在这里住下去，"
    "请县里的领导看看我们吧，请大家帮忙转发让更多人看到，谢谢大家了！！！"
) * 2

CASES_NOT_AVAILABLE = "督办模块尚未启用：本期无督办数据，督办件仍按原有渠道办理。"


def at(day: date, hhmm: str, days: int = 0) -> datetime:
    """A Shanghai time on ``day`` (plus ``days``)."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day + timedelta(days=days), time(hour, minute), SHANGHAI)


def item(item_id: int, title: str, source: str, hhmm: str, *, excerpt: str = "", url: str | None = "auto",
         risk_points: tuple[str, ...] = (), event_id: int | None = None, day: date = DAY) -> ItemRef:  # fmt: skip
    if url == "auto":
        url = f"https://demo.qinghe.example/{item_id}.html"
    return ItemRef(item_id, title, excerpt or title, source, at(day, hhmm), url, risk_points, event_id)


# --- items -----------------------------------------------------------------------------

LEAK = "化工园区异味泄漏"
WAGES = "拖欠农民工工资"
DEMOLITION = "征收拆迁补偿"


def _sensitive_items() -> tuple[ItemRef, ...]:
    return (
        item(9001, "白沙镇东坪村一早全是刺鼻气味，是不是化工园区泄漏了", "青禾论坛", "06:42", risk_points=(LEAK,), event_id=12),
        item(
            9002,
            "",
            "青禾生活圈",
            "07:15",
            excerpt="东坪村这边味道太大了，窗户都不敢开，孩子早上咳嗽得厉害，有没有人知道是哪个厂？求扩散",
            url=None,
            risk_points=(LEAK,),
            event_id=12,
        ),
        item(9003, HOSTILE_SCRIPT_TITLE, "青禾吧", "08:03", risk_points=(LEAK,), event_id=12),
        item(9004, HOSTILE_MARKDOWN_TITLE, "青禾吧", "08:20", url=HOSTILE_URL, risk_points=(LEAK,), event_id=12),
        item(9005, LONG_TITLE, "青禾论坛", "09:01", risk_points=(LEAK,), event_id=12),
        item(9006, "安置小区工地拖欠我们工资三个月了", "青禾县网络问政平台", "10:26", risk_points=(WAGES,), event_id=15),
        item(9007, "城东片区拆迁补偿标准太低，买不起同地段的房", "青禾论坛", "13:48", risk_points=(DEMOLITION,), event_id=16),
        item(9008, "县人民医院急诊医生态度冷漠", "青禾县网络问政平台", "21:12", risk_points=("医疗服务投诉",)),
    )


def _positive_items() -> tuple[ItemRef, ...]:
    return (
        item(9101, "青禾县与三家企业集中签约 总投资12.6亿元", "江华日报", "08:30", risk_points=("正面宣传",)),
        item(9102, "第五届梅岭茶文化旅游节开幕 **两万人次**游客涌入梅岭茶园", "云江日报", "10:05", risk_points=("正面宣传",)),
        item(9103, "柳湾镇下湾村稻虾共养迎来丰收", "柳湾镇人民政府", "15:40", risk_points=("正面宣传",)),
    )


# --- events and warnings ---------------------------------------------------------------


def event(event_id: int, title: str, heat: float, items: int, sources: int, level: int | None, *,
          risk_points: tuple[str, ...] = (), units: tuple[str, ...] = (), hot_words: tuple[str, ...] = (),
          start: str = "08:00", end: str = "20:00", score: float | None = None) -> EventSummary:  # fmt: skip
    labels = {
        4: ("IV级（一般）", "蓝色"),
        3: ("III级（较大）", "黄色"),
        2: ("II级（重大）", "橙色"),
        1: ("I级（特别重大）", "红色"),
    }
    label, colour = labels.get(level, ("", "")) if level else ("", "")
    return EventSummary(
        event_id, title, at(DAY, start), at(DAY, end), items, sources, heat,
        score if score is not None else {None: 30.0, 4: 45.0, 3: 62.5, 2: 76.5, 1: 88.0}[level],
        level, label, colour, risk_points, units, hot_words,
    )  # fmt: skip


def _events() -> tuple[EventSummary, ...]:
    return (
        event(
            12,
            "白沙镇东坪村周边异味 网民质疑化工园区泄漏",
            86.4,
            58,
            9,
            2,
            risk_points=(LEAK,),
            units=("县应急管理局", "县生态环境分局", "白沙镇人民政府"),
            hot_words=("异味", "东坪村", "化工园区", "泄漏", "头晕"),
            start="06:42",
            end="23:10",
        ),
        event(
            15,
            "柳湾镇安置小区项目工人反映被拖欠工资",
            41.2,
            11,
            4,
            3,
            risk_points=(WAGES,),
            units=("县人社局", "县住建局"),
            hot_words=("欠薪", "安置小区", "讨薪"),
            start="10:26",
            end="19:30",
        ),
        event(
            16,
            "城东片区征收补偿标准引发讨论",
            27.9,
            7,
            3,
            4,
            risk_points=(DEMOLITION,),
            units=("县住建局", "县自然资源局", "城东片区征收指挥部"),
            hot_words=("补偿", "评估价"),
            start="13:48",
            end="22:05",
        ),
        event(17, HOSTILE_SCRIPT_TITLE, 12.5, 3, 2, None, hot_words=("<b>热词</b>",), start="16:00", end="17:20"),
        event(
            18,
            "第五届梅岭茶文化旅游节开幕",
            35.0,
            14,
            6,
            None,
            risk_points=("正面宣传",),
            units=("县委宣传部",),
            hot_words=("茶文化", "梅岭", "旅游节"),
            score=0.0,  # positive coverage is no risk (risk.scoring)
            start="08:30",
            end="21:00",
        ),
    )


def _warnings() -> tuple[WarningSummary, ...]:
    return (
        WarningSummary(
            31,
            12,
            "白沙镇东坪村周边异味 网民质疑化工园区泄漏",
            2,
            "II级（重大）",
            "橙色",
            2,
            "II级（重大）",
            "acknowledged",
            "已确认",
            76.5,
            at(DAY, "09:20"),
            (LEAK,),
        ),
        WarningSummary(
            32,
            15,
            "柳湾镇安置小区项目工人反映被拖欠工资",
            3,
            "III级（较大）",
            "黄色",
            4,
            "IV级（一般）",
            "downgraded",
            "已降级",
            57.0,
            at(DAY, "12:05"),
            (WAGES,),
        ),
    )


# --- coverage, trend, cases --------------------------------------------------------------


def _coverage() -> Coverage:
    return Coverage(
        healthy=9,
        total=12,
        silent=(SourceProblem("江华电视台", "最近一次新信息：2026-11-25 18:40", at(DAY, "18:40", days=-3)),),
        failing=(SourceProblem("青禾吧", "HTTP 503：服务暂不可用（已连续失败 4 次）", at(DAY, "14:10")),),
        disabled=(SourceProblem("云江新闻网", "连续 10 次采集失败，已自动停用", at(DAY, "03:00", days=-2)),),
    )


def _trend(last: tuple[int, int, int] = (1286, 214, 37)) -> tuple[TrendPoint, ...]:
    items = [903, 951, 1012, 877, 860, 1105, 998, 1043, 1120, 967, 1010, 1088, 1150]
    relevant = [131, 140, 152, 118, 121, 166, 149, 150, 171, 139, 144, 160, 175]
    sensitive = [6, 8, 5, 4, 7, 11, 6, 9, 8, 5, 7, 10, 14]
    points = [TrendPoint(DAY - timedelta(days=13 - i), items[i], relevant[i], sensitive[i]) for i in range(13)]
    return (*points, TrendPoint(DAY, *last))


def _case(number: int, title: str, unit: str, state: str, deadline_days: int, overdue: int = 0) -> CaseLine:
    return CaseLine(f"督〔2026〕{number}号", title, unit, state, at(DAY, "17:30", days=deadline_days), overdue)


def _cases() -> CaseSection:
    return CaseSection(
        available=True,
        opened=(
            _case(41, "核查白沙镇东坪村周边异味来源", "县生态环境分局", "已派单", 2),
            _case(42, "核查柳湾镇安置小区项目欠薪问题", "县人社局", "已签收", 3),
        ),
        answered=(_case(38, "城东片区临街商铺补偿问题答复", "城东片区征收指挥部", "已交单", 0),),
        overdue=(_case(33, "石桥村至凤鸣水库道路破损", "县交通运输局", "办理中", -4, overdue=4),),
        closed=(
            _case(35, "县二中食堂饭菜异物问题", "县教育局", "已办结", -1),
            _case(36, "青溪河石桥段死鱼原因调查", "县生态环境分局", "已办结", -2),
        ),
        reprimands=(_case(33, "石桥村至凤鸣水库道路破损", "县交通运输局", "办理中", -4, overdue=4),),
        unit_metrics=(
            UnitMetric("县生态环境分局", 1.0, 2.5, 0),
            UnitMetric("县教育局", 1.0, 1.0, 0),
            UnitMetric("县交通运输局", 0.5, 6.2, 1),
            UnitMetric("城东片区征收指挥部", None, None, 0),
        ),
    )


SOURCES = (
    ("青禾论坛", "论坛", 312), ("青禾吧", "论坛", 221), ("青禾生活圈", "自媒体", 187), ("青禾县网络问政平台", "留言板", 143),
    ("江华日报", "媒体", 96), ("云江日报", "媒体", 71), ("江华电视台", "媒体", 0), ("青禾县人民政府网", "政务", 88),
    ("柳湾镇人民政府", "乡镇", 52), ("石桥乡人民政府", "乡镇", 47), ("青禾镇人民政府", "乡镇", 69), ("云江新闻网", "媒体", 0),
)  # fmt: skip


def _counts(pairs: list[tuple[str, int]]) -> tuple[Count, ...]:
    total = sum(count for _, count in pairs) or 1
    return tuple(Count(label, count, count / total) for label, count in sorted(pairs, key=lambda p: -p[1]))


def _by_category() -> tuple[Count, ...]:
    totals: dict[str, int] = {}
    for _, category, count in SOURCES:
        totals[category] = totals.get(category, 0) + count
    return _counts(list(totals.items()))


# --- the documents ------------------------------------------------------------------------


def daily_report() -> DailyReport:
    """A day with a level-II event, hostile feed titles, failing sources and no cases stage yet."""
    return DailyReport(
        office=OFFICE,
        number="青舆日〔2026〕332号",
        day=DAY,
        period_start=at(DAY, "00:00"),
        period_end=at(DAY, "00:00", days=1),
        generated_at=at(DAY, "07:00", days=1),
        library_version=3,
        items=1286,
        relevant=214,
        sensitive=37,
        positive=12,
        by_source=_counts([(name, count) for name, _, count in SOURCES if count]),
        by_category=_by_category(),
        by_risk_point=_counts([(LEAK, 23), (DEMOLITION, 6), (WAGES, 4), ("医疗服务投诉", 2), ("校园食品安全", 2)]),
        positive_items=_positive_items(),
        sensitive_items=_sensitive_items(),
        events=_events(),
        new_warnings=_warnings(),
        cases=CaseSection(available=False, note=CASES_NOT_AVAILABLE),
        coverage=_coverage(),
        hot_words=(
            ("异味", 0.41),
            ("东坪村", 0.33),
            ("化工园区", 0.29),
            ("泄漏", 0.22),
            ("欠薪", 0.15),
            ("补偿", 0.12),
            ("茶文化", 0.1),
            ("<script>", 0.05),
        ),
        trend=_trend(),
        summary=(
            "11月28日共采集信息1286条，其中涉本县214条、敏感信息37条，较前7日均值明显上升。\n"
            "白沙镇东坪村周边异味事件热度最高，已达II级（重大）预警；柳湾镇安置小区欠薪问题引发关注。\n"
            "另有3个信息源未正常运行（青禾吧、江华电视台、云江新闻网），相关平台信息可能有遗漏。"
        ),
    )


def empty_daily_report() -> DailyReport:
    """Nothing collected at all: the report must say so and point at source coverage."""
    return DailyReport(
        office=OFFICE,
        number="青舆日〔2026〕333号",
        day=DAY + timedelta(days=1),
        period_start=at(DAY, "00:00", days=1),
        period_end=at(DAY, "00:00", days=2),
        generated_at=at(DAY, "07:00", days=2),
        library_version=3,
        items=0,
        relevant=0,
        sensitive=0,
        positive=0,
        by_source=(),
        by_category=(),
        by_risk_point=(),
        positive_items=(),
        sensitive_items=(),
        events=(),
        new_warnings=(),
        cases=CaseSection(available=False, note=CASES_NOT_AVAILABLE),
        coverage=Coverage(
            healthy=2,
            total=12,
            silent=(SourceProblem("江华电视台", "最近一次新信息：2026-11-25 18:40"),),
            failing=tuple(
                SourceProblem(name, "连接超时（30 秒）", at(DAY, "23:40")) for name, _, _ in SOURCES[:8] if name != "江华电视台"
            ),
            disabled=(SourceProblem("云江新闻网", "连续 10 次采集失败，已自动停用"),),
        ),
        hot_words=(),
        trend=(*_trend()[1:], TrendPoint(DAY + timedelta(days=1), 0, 0, 0)),
        summary="",
    )


def busy_daily_report() -> DailyReport:
    """A very busy day: 40 events, many warnings, every case list filled, long lists everywhere."""
    base = daily_report()
    levels = [1, 2, 2, 3, 3, 3, 4, 4, 4, 4] + [None] * 30
    events = tuple(
        event(
            100 + i,
            f"第{i + 1}起事件：{'青溪河石桥段发现死鱼' if i % 3 == 0 else '青柳公路下湾村急弯发生交通事故'}（持续发酵）",
            round(95.0 - i * 2.1, 1),
            40 - i,
            1 + (40 - i) // 4,
            level,
            risk_points=("河道污染死鱼",) if i % 3 == 0 else ("道路交通事故",),
            units=("县生态环境分局", "县水利局", "石桥乡人民政府") if i % 3 == 0 else ("县交警大队", "县交通运输局"),
            hot_words=("死鱼", "青溪河") if i % 3 == 0 else ("车祸", "急弯"),
        )
        for i, level in enumerate(levels)
    )
    warnings = tuple(
        WarningSummary(
            200 + i,
            e.event_id,
            e.title,
            e.level,
            e.level_label,
            e.level_colour,
            e.level,
            e.level_label,
            "open",
            "待处理",
            e.score,
            at(DAY, f"{8 + i}:15"),
            e.risk_points,
        )
        for i, e in enumerate(events[:10])
        if e.level is not None  # the ten warned events lead the list
    )
    many_items = tuple(
        item(
            9500 + i,
            f"网民反映：青溪河石桥段第{i + 1}处排污口有异味",
            "青禾论坛",
            f"{i % 24:02d}:{i % 60:02d}",
            risk_points=("河道污染死鱼",),
        )
        for i in range(60)
    )
    coverage = Coverage(
        healthy=3,
        total=12,
        silent=(),
        failing=tuple(SourceProblem(name, "HTTP 502：上游网关错误") for name, _, _ in SOURCES[:9]),
        disabled=(),
    )
    return replace(
        base,
        number="青舆日〔2026〕334号",
        items=25873,
        relevant=4310,
        sensitive=977,
        events=events,
        new_warnings=warnings,
        sensitive_items=many_items + base.sensitive_items,
        cases=_cases(),
        coverage=coverage,
        summary="全县舆情高度活跃，多起事件叠加发酵，请各单位高度重视、迅速处置。" * 12,
    )


def special_report(level: int | None = 2) -> SpecialReport:
    """The 东坪村 odour event in depth (level II); ``level=None`` gives an unrated one."""
    labels = {
        4: ("IV级（一般）", "蓝色"),
        3: ("III级（较大）", "黄色"),
        2: ("II级（重大）", "橙色"),
        1: ("I级（特别重大）", "红色"),
    }
    label, colour = labels.get(level, ("", "")) if level else ("", "")
    counts = [1, 0, 0, 0, 0, 0, 4, 9, 12, 7, 5, 3, 2, 1, 2, 1, 3, 2, 1, 1, 0, 1, 1, 0]
    timeline = (
        item(9001, "白沙镇东坪村一早全是刺鼻气味，是不是化工园区泄漏了", "青禾论坛", "06:42", risk_points=(LEAK,)),
        item(9002, "", "青禾生活圈", "07:15", excerpt="东坪村这边味道太大了，窗户都不敢开，求扩散", url=None),
        item(9004, HOSTILE_MARKDOWN_TITLE, "青禾吧", "08:20", url=HOSTILE_URL),
        item(9010, "县生态环境局关于白沙镇周边异味问题的回应", "青禾县人民政府网", "11:30"),
        item(9011, "关于青禾县化工园区异味问题的情况通报", "江华日报", "16:05"),
    )
    return SpecialReport(
        office=OFFICE,
        number="青舆专〔2026〕27号",
        title="关于白沙镇东坪村周边异味事件的舆情专报",
        subject="事件 #12",
        period_start=at(DAY, "00:00"),
        period_end=at(DAY, "00:00", days=1),
        generated_at=at(DAY, "23:30"),
        items=58,
        sources=9,
        timeline=timeline,
        by_source=_counts(
            [
                ("青禾论坛", 19),
                ("青禾吧", 12),
                ("青禾生活圈", 9),
                ("青禾县网络问政平台", 7),
                ("江华日报", 4),
                ("云江日报", 2),
                ("青禾县人民政府网", 2),
                ("白沙镇人民政府", 2),
                (HOSTILE_SCRIPT_TITLE, 1),
            ]
        ),
        by_hour=tuple(HourCount(at(DAY, f"{hour:02d}:00"), count) for hour, count in enumerate(counts)),
        key_items=(
            item(9005, LONG_TITLE, "青禾论坛", "09:01"),
            item(9003, HOSTILE_SCRIPT_TITLE, "青禾吧", "08:03"),
            item(9011, "关于青禾县化工园区异味问题的情况通报", "江华日报", "16:05"),
            item(9012, "强烈要求公开化工园区监测数据", "青禾县网络问政平台", "12:40"),
        ),
        hot_words=(("异味", 0.44), ("东坪村", 0.36), ("化工园区", 0.31), ("泄漏", 0.25), ("头晕", 0.18), ("监测数据", 0.12)),
        risk_points=(LEAK,) if level else (),
        units=("县应急管理局", "县生态环境分局", "白沙镇人民政府") if level else (),
        level=level,
        level_label=label,
        level_colour=colour,
        score={None: 32.0, 4: 45.0, 3: 62.5, 2: 76.5, 1: 88.0}[level],
        assessment=(
            "事件涉及化工园区安全和群众健康，网民情绪较为激烈，出现“求扩散”等动员性表述。\n"
            "9个信息源参与传播，省级媒体云江日报已跟进报道，传播范围超出本县；早7时至10时集中爆发，"
            "官方回应后热度有所回落但仍在高位。风险分76.5，研判为II级（重大）。"
        ),
        suggested_handling=suggested_handling(level),
        recipients=("县委书记", "县长", "县委宣传部部长"),
        copy_to=("县应急管理局", "县生态环境分局", "白沙镇人民政府") if level else (),
        first_report=fact(9001, "白沙镇东坪村一早全是刺鼻气味，窗户都不敢开，是不是化工园区泄漏了？", "青禾论坛", "06:42"),
        key_facts=(
            fact(
                9010,
                "县生态环境局会同应急管理、化工园区管委会赶赴现场，布设4个大气监测点位，初步锁定异味来源于园区内一家企业。",
                "青禾县人民政府网",
                "11:30",
            ),
            fact(9004, HOSTILE_MARKDOWN_TITLE, "青禾吧", "08:20", url=HOSTILE_URL),
        ),
        latest_status=fact(
            9011, "经调查，异味系园区内一企业储罐阀门密封件老化，导致少量物料泄漏挥发所致；企业已停产整改。", "江华日报", "16:05"
        ),
        public_asks=(
            fact(9012, "请县生态环境局公开园区周边的空气监测数据，告诉老百姓到底是什么气体。", "青禾县网络问政平台", "12:40"),
            fact(9013, "请有关部门也对村里的井水取样检测一下，把结果告诉村民。", "青禾论坛", "14:10", url=None),
        ),
        complaints=21,
        questions=6,
        official_responses=(
            OfficialResponse(
                item(9010, "县生态环境局关于白沙镇周边异味问题的回应", "青禾县人民政府网", "11:30"),
                "首次回应，超时，用时 4.8 个工作小时，时限 4 个工作小时",
                late=True,
            ),
            OfficialResponse(item(9011, "关于青禾县化工园区异味问题的情况通报", "江华日报", "16:05"), "后续发布"),
        ),
    )


def fact(item_id: int, text: str, source: str, hhmm: str, *, url: str | None = "auto") -> FactLine:
    """A sentence of an item as the special report quotes it."""
    link = f"https://bbs.qinghe.example/t/{item_id}" if url == "auto" else url
    return FactLine(text=text, source=source, published=at(DAY, hhmm), item_id=item_id, url=link)


def supervision_notice(case_number: str | None = "督〔2026〕41号") -> SupervisionNotice:
    return SupervisionNotice(
        office=OFFICE,
        number="青舆督〔2026〕41号",
        unit="县生态环境分局",
        co_units=("县应急管理局", "白沙镇人民政府"),
        title="关于核查白沙镇东坪村周边异味问题的督办通知",
        seen=(
            "11月28日6时42分起，青禾论坛、青禾吧、青禾生活圈等平台陆续出现网民反映白沙镇东坪村一带有刺鼻气味、"
            "疑似化工园区泄漏的帖文，截至当日23时共58条，部分帖文称有老人、儿童出现头晕、咳嗽症状。\n"
            "其中个别帖文标题含可疑代码，已按普通文字显示。"
        ),
        items=(
            item(9001, "白沙镇东坪村一早全是刺鼻气味，是不是化工园区泄漏了", "青禾论坛", "06:42"),
            item(9003, HOSTILE_SCRIPT_TITLE, "青禾吧", "08:03"),
            item(9004, HOSTILE_MARKDOWN_TITLE, "青禾吧", "08:20", url=HOSTILE_URL),
        ),
        requirements=(
            "（一）立即组织对化工园区及周边开展异味溯源排查和环境应急监测，核实是否存在泄漏及其原因、范围和影响。\n"
            "（二）会同白沙镇人民政府做好东坪村群众的走访解释和健康排查工作。\n"
            "（三）将核查结论、处置措施和对外回应口径书面反馈监控中心；涉及人员身体不适的，一并报告救治情况。"
        ),
        deadline=at(DAY, "17:00", days=3),
        issued_at=at(DAY, "10:15"),
        case_number=case_number,
        contact="监控中心值班室 0000-1234567（虚构）",
    )


def risk_notice_letter() -> RiskNoticeLetter:
    return RiskNoticeLetter(
        office=OFFICE,
        number="青舆提〔2026〕9号",
        units=("县人社局", "县住建局"),
        risk_point=WAGES,
        category="劳动保障",
        day=DAY,
        current=9,
        expected=1.3,
        baseline=(1, 0, 2, 1, 1, 0, 3, 1, 2, 1, 1, 2, 1, 2),
        examples=(
            item(9006, "安置小区工地拖欠我们工资三个月了", "青禾县网络问政平台", "10:26"),
            item(
                9013,
                "",
                "青禾生活圈",
                "14:02",
                excerpt="年底了工钱还没结，老板电话打不通，我们十几个人明天去工地讨个说法",
                url=None,
            ),
            item(9004, HOSTILE_MARKDOWN_TITLE, "青禾吧", "15:20", url=HOSTILE_URL),
        ),
        watch=(
            "临近年底，农民工工资支付进入集中期，请重点关注在建工程（特别是柳湾镇安置小区项目）工资支付情况。\n"
            "如发现网民相约“讨说法”、聚集等线索，及时会同属地乡镇做好化解稳控，并将情况报监控中心。"
        ),
        issued_at=at(DAY, "18:00"),
        extra={"风险库版本": "第3版", "显著性": "p < 0.001（负二项检验）"},
    )


def weekly_report() -> PeriodicReport:
    """The week of the 东坪村 odour event (Monday 23 to Sunday 29 November), against the week before."""
    events = _events()
    first_day = DAY - timedelta(days=5)
    week = _trend()[-7:]
    leak = events[0]
    items, relevant, sensitive = (sum(getattr(p, name) for p in week) for name in ("items", "relevant", "sensitive"))
    return PeriodicReport(
        office=OFFICE,
        number="青舆周〔2026〕48号",
        kind="weekly",
        name="舆情周报",
        period_label="2026年第48周（11月23日至11月29日）",
        period_start=at(first_day, "00:00"),
        period_end=at(first_day, "00:00", days=7),
        generated_at=at(first_day, "08:00", days=7),
        totals=PeriodTotals(items=items, relevant=relevant, sensitive=sensitive, events=31, warned=3, new_warnings=4),
        previous=PeriodTotals(items=6702, relevant=951, sensitive=41, events=24, warned=1, new_warnings=1),
        trend=week,
        incidents=(
            IncidentLine(
                leak,
                "已确认",
                "超时（2026-11-28 11:30）",
                (_case(41, "核查白沙镇东坪村周边异味来源", "县生态环境分局", "已派单", 2),),
                "超时",
            ),
            IncidentLine(events[1], "待处理", "按时（2026-11-27 16:40）", (), "按时"),
            IncidentLine(events[2], "", "不计回应时效", (), "不计时效"),
        ),
        response_section=ResponseSection(),
        cases=_cases(),
        rising=(
            RiskPointChange(LEAK, 58, 0, ("县应急管理局", "县生态环境分局")),
            RiskPointChange(HOSTILE_SCRIPT_TITLE, 9, 2),
        ),
        by_risk_point=(
            RiskPointChange(LEAK, 58, 0, ("县应急管理局", "县生态环境分局")),
            RiskPointChange(WAGES, 12, 15, ("县人社局",)),
            RiskPointChange(HOSTILE_SCRIPT_TITLE, 9, 2),
        ),
        summary=(
            f"本周（11月23日至11月29日）共采集信息 {items} 条（上周 6702 条），涉本县 {relevant} 条，敏感信息 {sensitive} 条"
            "（上周 41 条）。舆情事件 31 起，其中达到预警级别 3 起。督办件新开 2 件、办结 2 件，期末超期未办结 1 件。"
        ),
        recipients=("县委书记", "县长", "县委宣传部部长"),
    )


SAMPLES: dict[str, Callable[[], Report]] = {
    "daily": daily_report,
    "daily-empty": empty_daily_report,
    "daily-busy": busy_daily_report,
    "special": special_report,
    "special-unrated": lambda: special_report(level=None),
    "supervision": supervision_notice,
    "supervision-no-case": lambda: supervision_notice(case_number=None),
    "risk-notice": risk_notice_letter,
    "weekly": weekly_report,
}
