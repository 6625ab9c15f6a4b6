"""Chasing cases with a frozen clock: reminders, overdue notices to the unit and its leadership,
reprimand listing, provisional deadlines recomputed; running again never repeats a notice."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from receivers import WebhookReceiver
from yuqing_core.cases import CasePolicy, act, get_case, history, open_case
from yuqing_core.cases import calendar as calendar_module
from yuqing_core.cases import config as config_module
from yuqing_core.cases.metrics import case_section
from yuqing_core.cases.tracking import track_cases
from yuqing_core.db.models import Case
from yuqing_core.notify import import_units, load_units_file
from yuqing_core.timeutil import SHANGHAI

POLICY = CasePolicy()
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)  # enquiry cases dispatched now are due Thu 11-19 18:00


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def wired(db, tmp_path: Path):
    with WebhookReceiver() as hook:
        path = tmp_path / "units.yaml"
        path.write_text(
            f"""units:
  - {{name: 舆情中心, kind: office, targets: ["{hook.url("/office")}"]}}
  - {{name: 分管副县长, kind: leadership, targets: ["{hook.url("/deputy")}"]}}
  - {{name: 县应急管理局, kind: department, leader: 分管副县长, targets: ["{hook.url("/emergency")}"]}}
  - {{name: 白沙镇人民政府, kind: township, leader: 分管副县长, targets: ["{hook.url("/baisha")}"]}}
routing:
  IV: [舆情中心]
  III: [舆情中心]
  II: [舆情中心]
  I: [舆情中心]
""",
            encoding="utf-8",
        )
        spec = load_units_file(path)
        import_units(db, spec)
        yield db, spec, hook


def paths(hook: WebhookReceiver) -> list[str]:
    return sorted(p.path for p in hook.posts)


def test_reminders_overdue_and_reprimand_each_once(wired) -> None:
    db, config, hook = wired
    case = open_case(db, POLICY, actor="舆情中心", title="东坪村异味", lead_unit="县应急管理局", co_units=["白沙镇人民政府"],
                     dispatch=True, now=MONDAY)  # fmt: skip
    assert case.deadline_at == at(19, 18)

    assert track_cases(db, POLICY, config, now=at(18, 17)).reminders == []  # 25 hours before: not yet
    first = track_cases(db, POLICY, config, now=at(18, 19))  # 23 hours before: the one-day reminder
    assert first.reminders == [case.number]
    hook.wait_for(2)
    assert paths(hook) == ["/baisha", "/emergency"] and "将于 2026-11-19 18:00 到期" in str(hook.posts[0].json)
    track_cases(db, POLICY, config, now=at(18, 20))  # again within the hour: nothing new
    assert len(hook.posts) == 2

    track_cases(db, POLICY, config, now=at(19, 16, 30))  # 90 minutes before: the two-hour reminder
    hook.wait_for(4)
    assert len(hook.posts) == 4

    late_same_day = track_cases(db, POLICY, config, now=at(19, 20))
    assert late_same_day.overdue == [] and len(hook.posts) == 4  # overdue notices go out on the next working day

    overdue = track_cases(db, POLICY, config, now=at(20, 9))
    assert overdue.overdue == [case.number] and overdue.overdue_notified == [case.number]
    hook.wait_for(7)
    assert sorted(p.path for p in hook.posts[4:]) == ["/baisha", "/deputy", "/emergency"]  # the leader once, not twice
    assert track_cases(db, POLICY, config, now=at(20, 10)).overdue_notified == []
    assert len(hook.posts) == 7

    # 11-20 (Fri), 11-23, 11-24, 11-25: three working days after the deadline day are past on the 24th.
    assert track_cases(db, POLICY, config, now=at(23, 9)).reprimanded == []
    listed = track_cases(db, POLICY, config, now=at(24, 9))
    assert listed.reprimanded == [case.number]
    hook.wait_for(10)
    assert get_case(db, case.number).reprimand_listed_at == at(24, 9)
    section = case_section(db, at(24, 0), at(25, 0))
    assert [c.number for c in section.reprimands] == [case.number] and section.overdue[0].overdue_days == 5
    assert track_cases(db, POLICY, config, now=at(24, 10)).reprimanded == []
    assert len(hook.posts) == 10
    assert [e.action for e in history(db, case.number)][-1] == "reprimand"


def test_an_extension_re_arms_reminders(wired) -> None:
    db, config, hook = wired
    case = open_case(db, POLICY, actor="中心", title="道路破损", lead_unit="县应急管理局", co_units=[], dispatch=True, now=MONDAY)
    track_cases(db, POLICY, config, now=at(19, 17))
    hook.wait_for(1)
    act(db, POLICY, case.number, "extend", actor="县应急管理局", note="待检测", until=at(24, 18), now=at(19, 17, 5))
    act(db, POLICY, case.number, "grant", actor="中心", now=at(19, 17, 10))
    assert track_cases(db, POLICY, config, now=at(20, 9)).overdue == []  # no longer overdue
    track_cases(db, POLICY, config, now=at(24, 17))
    hook.wait_for(2)
    assert len(hook.posts) == 2


def test_nothing_configured_is_said_not_hidden(db) -> None:
    open_case(db, POLICY, actor="中心", title="事项", lead_unit="某局", dispatch=True, now=MONDAY)
    summary = track_cases(db, POLICY, None, now=at(19, 17))
    assert summary.reminders and any("未配置单位与通知渠道" in line for line in summary.delivery)


def test_provisional_deadline_is_recomputed_when_the_year_becomes_known(db, monkeypatch) -> None:
    dispatched = datetime(2026, 12, 28, 10, 0, tzinfo=SHANGHAI)
    case = open_case(
        db, POLICY, actor="中心", title="跨年投诉", lead_unit="某局", case_type="complaint", dispatch=True, now=dispatched
    )
    assert case.deadline_provisional  # 13 working days run into 2027, which the package does not know yet
    assert case.deadline_at == datetime(2027, 1, 14, 18, 0, tzinfo=SHANGHAI)  # Monday-Friday meanwhile (Jan 1 a Friday)

    # The State Council publishes 2027: New Year's Day off on Friday Jan 1, and (say) Monday Jan 4 too.
    real = calendar_module._package_workday.__wrapped__

    def with_2027(day: date) -> bool | None:
        if day.year == 2027:
            return day.weekday() < 5 and day not in (date(2027, 1, 1), date(2027, 1, 4))
        return real(day)

    monkeypatch.setattr(calendar_module, "_package_workday", with_2027)
    config_module._calendar.cache_clear()
    summary = track_cases(db, POLICY, None, now=datetime(2027, 1, 2, 9, 0, tzinfo=SHANGHAI))
    assert summary.recomputed == [case.number]
    fresh = get_case(db, case.number)
    assert not fresh.deadline_provisional and fresh.deadline_at == datetime(2027, 1, 18, 18, 0, tzinfo=SHANGHAI)  # two days later
    assert history(db, case.number)[-1].action == "recompute"
    with db.reader() as session:
        assert session.scalar(select(Case.deadline_provisional).where(Case.id == case.id)) is False
