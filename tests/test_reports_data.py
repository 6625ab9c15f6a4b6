"""What the documents say, built from a fixture database (both dialects)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from helpers import add_sources
from test_analysis import LEAK, library, load, post
from yuqing_core.analysis import analyze
from yuqing_core.collect.sources import set_enabled
from yuqing_core.reports.data import (
    build_daily_report,
    build_risk_notice_letter,
    build_special_report,
    build_supervision_notice,
    day_window,
)
from yuqing_core.reports.render import Renderer
from yuqing_core.risk.notices import write_risk_notices
from yuqing_core.risk.versions import active_library
from yuqing_core.timeutil import SHANGHAI

DAY = date(2026, 11, 27)
NOON = datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI)
NEXT_MORNING = datetime(2026, 11, 28, 8, 0, tzinfo=SHANGHAI)


@pytest.fixture
def county_day(db, settings, tmp_path):
    settings = settings.model_copy(
        update={"county_name": "青禾县", "office_name": "青禾县网络舆情应急监控中心", "office_short_name": "青舆"}
    )
    add_sources(db, settings, NOON - timedelta(days=30), 青禾论坛="http://example.org/bbs.xml", 云江日报="http://example.org/yj.xml",
                停更网="http://example.org/x.xml")  # fmt: skip
    library(db, tmp_path)
    posts = [post(f"leak{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), NOON + timedelta(hours=i)) for i in range(5)]
    posts += [
        post("harvest", "青禾县柑橘丰收", "果农笑开颜，青禾县柑橘丰收。", NOON - timedelta(hours=2)),
        post(
            "wage",
            "柳湾工地欠薪<script>alert(1)</script>",
            "青禾县柳湾镇三十多名工人讨薪",
            NOON - timedelta(hours=1),
            "javascript:alert(1)",
        ),
        post("other", "外县新闻", "与本县无关的信息", NOON),
        post("before", "东坪村化工园区异味", "前一天的信息", NOON - timedelta(days=1)),
    ]
    load(db, settings, tmp_path, "青禾论坛", posts)
    load(
        db, settings, tmp_path, "云江日报", [post("paper", "东坪村化工园区泄漏调查", LEAK, NOON + timedelta(hours=6))], "p.jsonl"
    )
    analyze(db, now=NEXT_MORNING.astimezone(UTC) - timedelta(hours=10))
    set_enabled(db, "停更网", False, reason="HTTP 410：订阅源已被发布方永久删除")
    return db, settings


def test_daily_report_counts_lists_and_coverage(county_day) -> None:
    db, settings = county_day
    report = build_daily_report(db, settings, DAY, now=NEXT_MORNING)
    start, end = day_window(DAY, SHANGHAI)
    assert (report.period_start, report.period_end) == (start, end)
    assert report.number == "青舆日〔2026〕331号"
    assert (report.items, report.relevant, report.sensitive, report.positive) == (9, 9, 7, 1)  # a local source counts as local
    assert {c.label: c.count for c in report.by_source} == {"青禾论坛": 8, "云江日报": 1}
    assert {c.label: c.count for c in report.by_risk_point} == {"化工异味": 6, "讨薪": 1, "丰收": 1}
    assert report.sensitive_items[0].risk_points == ("化工异味",)  # the most severe first
    wage = next(i for i in report.sensitive_items if i.risk_points == ("讨薪",))
    assert wage.url is None and wage.title == "柳湾工地欠薪"  # javascript: link and <script> gone at ingest
    assert [i.title for i in report.positive_items] == ["青禾县柑橘丰收"]
    assert report.events and report.events[0].risk_points == ("化工异味",) and report.events[0].units == ("县应急管理局",)
    assert report.new_warnings and report.new_warnings[0].status_label == "待处理"
    assert report.cases.available and report.cases.opened == () and report.cases.unit_metrics == ()
    assert report.coverage.total == 3 and report.coverage.healthy == 0  # archives are not polls: nobody polled that day
    assert [p.name for p in report.coverage.disabled] == ["停更网"]
    assert len(report.trend) == 14 and report.trend[-1].day == DAY and report.trend[-1].items == 9
    assert report.trend[-2].items == 1
    assert "共采集信息 9 条" in report.summary and "新增预警" in report.summary
    assert report.hot_words


def test_empty_day_says_so(county_day) -> None:
    db, settings = county_day
    report = build_daily_report(db, settings, date(2026, 11, 1), now=NEXT_MORNING)
    assert report.items == 0 and "未采集到任何信息" in report.summary and "没有信息不等于没有风险" in report.summary


def test_special_report_for_an_event_and_for_an_expression(county_day) -> None:
    db, settings = county_day
    daily = build_daily_report(db, settings, DAY, now=NEXT_MORNING)
    event_id = daily.events[0].event_id
    report = build_special_report(db, settings, event_id=event_id, handling=lambda level: f"处置建议-{level}", now=NEXT_MORNING)
    assert report.subject == f"事件 #{event_id}" and report.items == 7 and report.sources == 2  # the day before joined by topic
    assert report.number == "青舆专〔2026〕1号"
    again = build_special_report(db, settings, event_id=event_id, now=NEXT_MORNING)
    assert again.number == report.number  # the same subject keeps its number
    assert report.timeline[0].published <= report.timeline[-1].published
    assert report.key_items[0].source == "云江日报"  # the most authoritative first
    assert sum(h.count for h in report.by_hour) == 7
    assert report.risk_points == ("化工异味",) and report.units == ("县应急管理局",)
    assert report.suggested_handling == f"处置建议-{report.level}" and report.level_label in report.assessment
    # What happened, what the public asks, who it is for.
    assert report.first_report is not None and report.first_report.published == report.timeline[0].published
    assert report.public_asks and "公开监测数据" in report.public_asks[0].text
    # The posts report harm (送医院) rather than complain, yet they ask: the ask is kept, the counts say so.
    assert (report.complaints, report.questions) == (0, 0) and report.official_responses == ()
    assert "群众在反映问题时提出以下诉求" in Renderer().markdown(report)
    assert report.recipients == ("县委书记", "县长", "县委宣传部部长") and report.copy_to == ("县应急管理局",)

    by_rule = build_special_report(
        db, settings, expression="欠薪 | 讨薪", since=datetime(2026, 11, 27, tzinfo=SHANGHAI), until=datetime(2026, 11, 28, tzinfo=SHANGHAI),
        now=NEXT_MORNING,
    )  # fmt: skip
    assert by_rule.items == 1 and by_rule.number == "青舆专〔2026〕2号" and by_rule.risk_points == ("讨薪",)
    with pytest.raises(LookupError, match="没有编号为 999 的事件"):
        build_special_report(db, settings, event_id=999)


def test_supervision_notice_and_risk_notice_letter(county_day) -> None:
    db, settings = county_day
    daily = build_daily_report(db, settings, DAY, now=NEXT_MORNING)
    deadline = NEXT_MORNING + timedelta(days=3)
    notice = build_supervision_notice(
        db, settings, unit="县应急管理局", requirements="请核实异味来源并于期限内书面反馈。", deadline=deadline,
        event_id=daily.events[0].event_id, co_units=["白沙镇人民政府"], now=NEXT_MORNING,
    )  # fmt: skip
    assert notice.number == "青舆督〔2026〕1号" and notice.unit == "县应急管理局" and notice.deadline == deadline
    # The event's posts report harm (送医) or come from a newspaper: none is a public complaint or question.
    assert "7 条" in notice.seen and notice.items == () and "暂未见网民投诉或提问" in notice.seen
    assert notice.title == "关于“东坪村化工园区泄漏调查”有关问题的督办通知" and "回执" in notice.receipt
    with pytest.raises(ValueError, match="三选一"):
        build_supervision_notice(db, settings, unit="x", requirements="y", deadline=deadline)

    burst_end = (NOON + timedelta(hours=7)).astimezone(UTC)
    (record,) = write_risk_notices(db, active_library(db), now=burst_end)
    from sqlalchemy import select

    from yuqing_core.db.models import RiskNotice

    with db.reader() as session:
        notice_id = session.scalars(select(RiskNotice.id)).one()
    letter = build_risk_notice_letter(db, settings, notice_id, now=NEXT_MORNING)
    assert letter.risk_point == "化工异味" and letter.units == ("县应急管理局",) and letter.current == record.current
    assert letter.number == "青舆提〔2026〕1号" and len(letter.baseline) == 14 and letter.examples


def test_handling_text_is_put_right_once_an_official_reply_is_out() -> None:
    from yuqing_core.reports.data import handling_in_light_of
    from yuqing_core.reports.model import ItemRef, OfficialResponse

    text = "建议报告县委、县政府分管领导。\n责任单位须当日核实情况，24小时内通过官方渠道发布情况说明。\n监控中心加密监测。"
    reply = ItemRef(1, "关于异味问题的回应", "", "县政府网", datetime(2026, 12, 1, 5, 10, tzinfo=UTC), None)
    assert handling_in_light_of(text, (), 3, SHANGHAI) == text  # no reply yet: the advice stands
    put_right = handling_in_light_of(text, (OfficialResponse(reply, "首次回应，按时"),), 3, SHANGHAI)
    assert "24小时内" not in put_right and "县政府网已于12月1日13:10发布官方回应（首次回应，按时）" in put_right
    assert put_right.splitlines()[0] == "建议报告县委、县政府分管领导。" and put_right.splitlines()[-1] == "监控中心加密监测。"


def test_weekly_report_reviews_the_week_against_the_one_before(county_day) -> None:
    from yuqing_core.cases.config import CasePolicy
    from yuqing_core.cases.service import act, open_case, origin_of
    from yuqing_core.reports.periodic import build_periodic_report

    db, settings = county_day
    event_id = build_daily_report(db, settings, DAY, now=NEXT_MORNING).events[0].event_id
    policy = CasePolicy()
    case = open_case(db, policy, actor="舆情中心", origin=origin_of(db, event_id=event_id), dispatch=True, now=NEXT_MORNING)
    running = build_periodic_report(db, settings, "quarterly", "2026-Q4", now=NEXT_MORNING + timedelta(hours=1))  # not over yet
    assert [c.number for c in running.cases.opened] == [case.number] and not running.cases.overdue  # not due yet
    for step in ("ack", "start", "return", "close"):
        act(db, policy, case.number, step, actor="县应急管理局", answer="已核实" if step == "return" else None, now=NEXT_MORNING)

    monday = datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI)
    report = build_periodic_report(db, settings, "weekly", now=monday)  # default: the last complete week
    assert report.number == "青舆周〔2026〕48号" and report.period_label == "2026年第48周（11月23日至11月29日）"
    assert (report.period_start, report.period_end) == (
        day_window(date(2026, 11, 23), SHANGHAI)[0],
        day_window(date(2026, 11, 29), SHANGHAI)[1],
    )
    assert len(report.trend) == 7 and report.totals.items == 10 and report.previous.items == 0  # 9 on the 27th, 1 the day before
    (incident,) = report.incidents
    assert incident.event.event_id == event_id and incident.warning_status == "已办结"  # closing the case settled it
    assert [c.number for c in incident.cases] == [case.number] and incident.cases[0].state_label == "办结"
    assert [u.unit for u in report.cases.unit_metrics] == ["县应急管理局"] and report.cases.unit_metrics[0].on_time_rate == 1.0
    assert report.rising and report.rising[0].name == "化工异味" and report.rising[0].previous == 0
    assert "丰收" not in [r.name for r in report.rising]  # positive coverage rising is no risk
    assert "本周（11月23日至11月29日）共采集信息 10 条（上周 0 条）" in report.summary
    assert report.recipients == ("县委书记", "县长", "县委宣传部部长")

    month = build_periodic_report(db, settings, "monthly", "2026-11-05", now=monday)
    assert month.number == "青舆月〔2026〕11号" and month.totals.items == 10 and len(month.trend) == 30
    quiet = build_periodic_report(db, settings, "quarterly", "2026-Q3", now=monday)
    assert quiet.totals.items == 0 and "没有信息不等于没有风险" in quiet.summary and quiet.incidents == ()


def test_periods_are_named_the_way_people_say_them() -> None:
    from yuqing_core.reports.periodic import parse_period

    today = date(2026, 12, 2)
    assert parse_period("weekly", None, today=today).label == "2026年第48周（11月23日至11月29日）"
    assert parse_period("weekly", "2027-W01", today=today).first == date(2027, 1, 4)
    assert parse_period("monthly", None, today=date(2026, 12, 1)).label == "2026年11月"
    assert parse_period("monthly", "2026-02", today=today).last == date(2026, 2, 28)
    assert parse_period("quarterly", None, today=date(2027, 1, 1)).label == "2026年第四季度"
    assert parse_period("quarterly", "2026-08-15", today=today).first == date(2026, 7, 1)
    with pytest.raises(ValueError, match="2026-W48"):
        parse_period("weekly", "48周", today=today)
    with pytest.raises(ValueError, match="未知的报告周期"):
        parse_period("daily", None, today=today)


def test_a_warning_the_office_has_handed_to_a_unit_reads_as_handed_over_not_pending(county_day) -> None:
    from yuqing_core.cases.config import CasePolicy
    from yuqing_core.cases.service import act, open_case, origin_of

    db, settings = county_day
    before = build_daily_report(db, settings, DAY, now=NEXT_MORNING)
    assert before.new_warnings and {w.status_label for w in before.new_warnings} == {"待处理"}
    warned = before.new_warnings[0]
    policy = CasePolicy()
    case = open_case(
        db, policy, actor="舆情中心", origin=origin_of(db, event_id=warned.event_id), dispatch=True, now=NEXT_MORNING
    )
    handed = build_daily_report(db, settings, DAY, now=NEXT_MORNING + timedelta(hours=1))
    by_id = {w.warning_id: w for w in handed.new_warnings}
    assert by_id[warned.warning_id].status_label == f"已交办（{case.number}）"
    assert by_id[warned.warning_id].status == "open"  # the warning itself is unchanged; the report says what was done
    for step in ("ack", "start", "return", "close"):
        act(db, policy, case.number, step, actor="县应急管理局", answer="已核实" if step == "return" else None, now=NEXT_MORNING)
    closed = build_daily_report(db, settings, DAY, now=NEXT_MORNING + timedelta(hours=2))
    assert {w.warning_id: w.status_label for w in closed.new_warnings}[warned.warning_id] == "已办结"
