"""The leaders' page: the day's and the week's figures as the daily report counts them, open warnings, incidents,
cases by unit and the trend chart; read-only; leaders and the office see it, units get 404."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest

from test_reports_data import DAY, NEXT_MORNING, county_day  # noqa: F401 - the fixture: a county's analysed day
from webdesk import Desk
from yuqing_core.cases import CasePolicy, open_case
from yuqing_core.levels import Level
from yuqing_core.reports.dashboard import leader_dashboard
from yuqing_core.reports.data import build_daily_report

STAT = re.compile(r"<dt>([^<]+)</dt><dd>(\d+)</dd>")


@pytest.fixture
def board_desk(county_day, desk: Desk) -> Desk:  # noqa: F811 - the imported fixture
    desk.account("leader", role="leader", display_name="县长")
    desk.account("duty", role="duty", display_name="值班员")
    desk.account("zhangsan", unit="县应急管理局", display_name="张三")
    open_case(desk.db, CasePolicy(), actor="舆情中心", title="化工园区异味", lead_unit="县应急管理局", dispatch=True,
              now=NEXT_MORNING - timedelta(days=40))  # fmt: skip
    open_case(desk.db, CasePolicy(), actor="舆情中心", title="白沙镇积水", lead_unit="白沙镇", dispatch=True)
    return desk


def stats(html: str) -> list[tuple[str, int]]:
    return [(label, int(value)) for label, value in STAT.findall(html)]


def test_the_days_figures_are_the_daily_reports(board_desk: Desk) -> None:
    desk = board_desk
    report = build_daily_report(desk.db, desk.settings, DAY, now=NEXT_MORNING)
    week = [build_daily_report(desk.db, desk.settings, DAY - timedelta(days=n), now=NEXT_MORNING) for n in range(7)]
    board = leader_dashboard(desk.db, desk.settings, DAY, now=NEXT_MORNING)

    assert (board.today.items, board.today.sensitive) == (report.items, report.sensitive)
    assert board.today.events == len(report.events)  # fewer than the report's cap of listed events
    raised = Counter(w.level for w in report.new_warnings)
    assert {w.level: w.count for w in board.today.warnings} == {level.value: raised.get(level.value, 0) for level in Level}
    assert board.week.items == sum(r.items for r in week) and board.week.sensitive == sum(r.sensitive for r in week)
    assert board.week.warnings_total == sum(len(r.new_warnings) for r in week)
    assert board.week.events == len({e.event_id for r in week for e in r.events})
    assert board.trend == report.trend
    assert board.today.items > 0 and board.today.sensitive > 0 and board.today.warnings_total > 0  # a real day, not zeros

    leader = desk.login("leader")
    page = leader.get("/leader", params={"day": DAY.isoformat()})
    assert page.status_code == 200
    figures = stats(page.text)
    today = [("采集信息", report.items), ("敏感信息", report.sensitive), ("事件", len(report.events)),
             ("新增预警", len(report.new_warnings))]  # fmt: skip
    week_figures = [("采集信息", board.week.items), ("敏感信息", board.week.sensitive), ("事件", board.week.events),
                    ("新增预警", board.week.warnings_total)]  # fmt: skip
    assert figures == today + week_figures
    assert "<svg" in page.text and "近14日信息量趋势" in page.text and "<script" not in page.text
    assert '<form method="post"' not in page.text.split("</header>")[1]  # read-only: no form posts anything


def test_open_warnings_incidents_and_cases_by_unit(board_desk: Desk) -> None:
    desk = board_desk
    board = leader_dashboard(desk.db, desk.settings, DAY, now=NEXT_MORNING)
    report = build_daily_report(desk.db, desk.settings, DAY, now=NEXT_MORNING)
    assert sum(w.count for w in board.open_warnings) == sum(1 for w in report.new_warnings if w.status == "open")
    assert {e.event_id for e in board.incidents.events} <= {w.event_id for w in report.new_warnings}
    by_unit = {u.unit: (u.open, u.on_time, u.overdue) for u in board.cases}
    assert by_unit == {"县应急管理局": (1, 0, 1), "白沙镇": (1, 1, 0)}
    assert board.cases[0].unit == "县应急管理局"  # the overdue first

    page = desk.login("leader").get("/leader", params={"day": DAY.isoformat()}).text
    assert "待处理预警" in page and board.incidents.sentence in page
    assert "化工园区异味" in page and "白沙镇积水" in page  # the open cases, listed
    assert 'href="/cases/' not in page  # leaders read; the case pages are not theirs


def test_who_sees_the_page(board_desk: Desk) -> None:
    desk = board_desk
    assert desk.login("duty").get("/leader").status_code == 200
    leader = desk.login("leader")
    assert leader.get("/").headers["location"] == "/leader"
    today = leader.get("/leader")
    assert today.status_code == 200 and "（今日）" in today.text and "后一天" not in today.text
    assert "（今日）" in leader.get("/leader", params={"day": "2999-01-01"}).text  # a future day is today
    assert leader.get("/leader", params={"day": "not a day"}).status_code == 200
    assert 'href="/risk"' not in today.text  # leaders have no risk library
    unit = desk.login("zhangsan")
    assert unit.get("/leader").status_code == 404
    assert unit.get("/leader", params={"day": DAY.isoformat()}).status_code == 404
    assert 'href="/leader"' not in unit.get("/cases").text
    assert desk.client().get("/leader").status_code == 303  # not signed in: to the login page
