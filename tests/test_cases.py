"""Supervision cases: every transition, the audit trail, optimistic locking, deadlines, extensions, metrics."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from yuqing_core.cases import (
    ACTIONS,
    STATE_LABELS,
    ActionNotPermitted,
    CaseConflict,
    CasePolicy,
    TransitionRefused,
    act,
    get_case,
    history,
    open_case,
)
from yuqing_core.cases.metrics import case_section, unit_metrics
from yuqing_core.cases.states import allowed_actions
from yuqing_core.db.models import Case
from yuqing_core.timeutil import SHANGHAI

POLICY = CasePolicy()
# A Monday morning with no holiday near: 2026-11-16 10:00 Shanghai.
MONDAY = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI)


def new_case(db, *, dispatch: bool = True, now: datetime = MONDAY, **kwargs):
    values = {
        "actor": "舆情中心",
        "title": "东坪村异味",
        "lead_unit": "县应急管理局",
        "co_units": ["白沙镇人民政府"],
        "dispatch": dispatch,
        "now": now,
    }
    values.update(kwargs)
    return open_case(db, POLICY, **values)


def move(db, case, *steps, now: datetime = MONDAY):
    for step in steps:
        extra = {"note": "理由"} if ACTIONS[step].needs_note else {}
        case = act(db, POLICY, case.number, step, actor="县应急管理局", now=now, **extra)
    return case


# Reaching every state from a fresh listed case.
PATHS = {
    "listed": (),
    "dispatched": ("dispatch",),
    "acknowledged": ("dispatch", "ack"),
    "handling": ("dispatch", "ack", "start"),
    "returned": ("dispatch", "ack", "start", "return"),
    "closed": ("dispatch", "ack", "start", "return", "close"),
    "sent_back": ("dispatch", "ack", "start", "return", "send_back"),
    "reopened": ("dispatch", "ack", "start", "return", "close", "reopen"),
    "cancelled": ("cancel",),
}


def test_numbers_and_a_full_lifecycle_with_its_audit_trail(db) -> None:
    first = new_case(db, dispatch=False)
    second = new_case(db, dispatch=False)
    assert (first.number, second.number) == ("督〔2026〕1号", "督〔2026〕2号")
    case = move(db, first, "dispatch", "ack", "start")
    case = act(
        db, POLICY, case.number, "return", actor="县应急管理局", answer="经核查已整改", attachments=["http://x/1.pdf"], now=MONDAY
    )
    case = act(db, POLICY, case.number, "send_back", actor="舆情中心", note="请补充监测数据", now=MONDAY)
    case = move(db, case, "start")
    case = act(db, POLICY, case.number, "return", actor="县应急管理局", answer="补充了监测数据", now=MONDAY)
    case = act(db, POLICY, case.number, "close", actor="舆情中心", now=MONDAY)
    assert case.state == "closed" and case.answer == "补充了监测数据" and case.closed_at == MONDAY
    trail = [(e.action, e.from_state, e.to_state, e.actor) for e in history(db, case.number)]
    assert trail == [
        ("open", None, "listed", "舆情中心"),
        ("dispatch", "listed", "dispatched", "县应急管理局"),
        ("ack", "dispatched", "acknowledged", "县应急管理局"),
        ("start", "acknowledged", "handling", "县应急管理局"),
        ("return", "handling", "returned", "县应急管理局"),
        ("send_back", "returned", "sent_back", "舆情中心"),
        ("start", "sent_back", "handling", "县应急管理局"),
        ("return", "handling", "returned", "县应急管理局"),
        ("close", "returned", "closed", "舆情中心"),
    ]
    assert history(db, case.number)[5].note == "请补充监测数据"


@pytest.mark.parametrize("state", list(PATHS))
def test_every_refused_transition_names_the_state_and_the_allowed_actions(db, state) -> None:
    case = move(db, new_case(db, dispatch=False), *PATHS[state])
    assert case.state == state
    allowed = {a.name for a in allowed_actions(state)}
    for name in ACTIONS:
        if name in allowed:
            continue
        with pytest.raises(TransitionRefused) as caught:
            act(db, POLICY, case.number, name, actor="x", note="n", now=MONDAY)
        message = str(caught.value)
        assert f"当前状态为「{STATE_LABELS[state]}」" in message and f"不能「{ACTIONS[name].label}」" in message
        for other in allowed:
            assert ACTIONS[other].label in message
    assert get_case(db, case.number).version == len(PATHS[state]) + 1  # refusals changed nothing


def test_notes_are_required_where_a_reason_matters(db) -> None:
    case = move(db, new_case(db), "ack", "start")
    with pytest.raises(TransitionRefused, match="须写明办理结果"):
        act(db, POLICY, case.number, "return", actor="x", now=MONDAY)
    with pytest.raises(TransitionRefused, match="须写明理由"):
        act(db, POLICY, case.number, "cancel", actor="x", now=MONDAY)


def test_a_unit_acts_only_on_its_own_cases_and_only_as_a_unit(db) -> None:
    case = new_case(db)  # led by 县应急管理局, with 白沙镇人民政府
    with pytest.raises(ActionNotPermitted, match=r"县水利局 不是督办件 .* 的牵头或配合单位，不能代其「签收」"):
        act(db, POLICY, case.number, "ack", actor="A", on_behalf_of="县水利局", now=MONDAY)
    case = act(db, POLICY, case.number, "ack", actor="A", on_behalf_of="白沙镇人民政府", audit_details={"run": "r1"}, now=MONDAY)
    assert history(db, case.number)[-1].details == {"run": "r1", "on_behalf_of": "白沙镇人民政府"}
    case = act(db, POLICY, case.number, "start", actor="A", on_behalf_of="县应急管理局", now=MONDAY)
    with pytest.raises(ActionNotPermitted, match="「撤销」由监控中心办理，县应急管理局 不能代为操作"):
        act(db, POLICY, case.number, "cancel", actor="A", note="不想办", on_behalf_of="县应急管理局", now=MONDAY)
    assert get_case(db, case.number).version == case.version  # refusals changed nothing
    assert act(db, POLICY, case.number, "cancel", actor="中心", note="重复立案", now=MONDAY).state == "cancelled"


def test_stale_version_is_refused(db) -> None:
    case = new_case(db)
    seen = case.version
    act(db, POLICY, case.number, "ack", actor="A", expected_version=seen, now=MONDAY)
    with pytest.raises(CaseConflict, match="已被修改"):
        act(db, POLICY, case.number, "cancel", actor="B", note="重复", expected_version=seen, now=MONDAY)
    assert get_case(db, case.number).state == "acknowledged"


def test_two_connections_cannot_both_win(pg_db) -> None:
    """Optimistic locking itself, on PostgreSQL: two sessions read version N, both write; the second fails.

    (SQLite never gets here: its writing transactions start with BEGIN IMMEDIATE, so a second
    writer waits and then reads the fresh row.)
    """
    db = pg_db
    case = new_case(db)
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    with Session(db.engine) as one, Session(db.engine) as two:
        mine = one.scalar(select(Case).where(Case.number == case.number))
        theirs = two.scalar(select(Case).where(Case.number == case.number))
        mine.state, theirs.state = "acknowledged", "cancelled"
        one.commit()
        with pytest.raises(StaleDataError):
            two.commit()
    assert get_case(db, case.number).state == "acknowledged"


def test_deadline_in_working_days_and_extensions(db) -> None:
    case = new_case(db)  # enquiry: 3 working days, counted from the next day, due at 18:00
    assert case.deadline_at == datetime(2026, 11, 19, 18, 0, tzinfo=SHANGHAI) and not case.deadline_provisional
    with pytest.raises(TransitionRefused, match="晚于当前期限"):
        act(db, POLICY, case.number, "extend", actor="县应急管理局", note="需要检测", until=case.deadline_at, now=MONDAY)
    later = datetime(2026, 11, 24, 18, 0, tzinfo=SHANGHAI)
    act(db, POLICY, case.number, "extend", actor="县应急管理局", note="需要第三方检测", until=later, now=MONDAY)
    with pytest.raises(TransitionRefused, match="已有待批准的延期申请"):
        act(db, POLICY, case.number, "extend", actor="县应急管理局", note="再延", until=later + timedelta(days=1), now=MONDAY)
    granted = act(db, POLICY, case.number, "grant", actor="舆情中心", now=MONDAY)
    assert granted.deadline_at == later and granted.extension_request is None
    with pytest.raises(TransitionRefused, match="没有待批准的延期申请"):
        act(db, POLICY, case.number, "refuse", actor="舆情中心", note="x", now=MONDAY)
    too_late = later + timedelta(hours=1)
    with pytest.raises(TransitionRefused, match="已过办理期限"):
        act(db, POLICY, case.number, "extend", actor="县应急管理局", note="x", until=too_late + timedelta(days=3), now=too_late)
    assert [e.action for e in history(db, case.number)][-2:] == ["extend", "grant"]


def test_same_day_cases_and_late_arrivals(db) -> None:
    urgent = new_case(db, case_type="urgent")
    assert urgent.deadline_at == datetime(2026, 11, 16, 18, 0, tzinfo=SHANGHAI)
    evening = new_case(db, case_type="urgent", now=datetime(2026, 11, 20, 19, 0, tzinfo=SHANGHAI))  # Friday after 18:00
    assert evening.deadline_at == datetime(2026, 11, 23, 18, 0, tzinfo=SHANGHAI)  # next working day: Monday


def test_unit_metrics_and_the_daily_report_section(db) -> None:
    on_time = move(db, new_case(db, lead_unit="甲局"), "ack", "start")
    act(db, POLICY, on_time.number, "return", actor="甲局", answer="已办", now=MONDAY + timedelta(days=1))
    act(db, POLICY, on_time.number, "close", actor="中心", now=MONDAY + timedelta(days=1))
    late = move(db, new_case(db, lead_unit="甲局"), "ack", "start")
    act(db, POLICY, late.number, "return", actor="甲局", answer="迟办", now=MONDAY + timedelta(days=6))
    act(db, POLICY, late.number, "close", actor="中心", now=MONDAY + timedelta(days=6))
    new_case(db, lead_unit="乙镇")  # still open, overdue by the end of the month
    with db.reader() as session:
        cases = list(session.scalars(select(Case)))
    metrics = {m.unit: m for m in unit_metrics(cases, datetime(2026, 11, 30, tzinfo=SHANGHAI))}
    a, b = metrics["甲局"], metrics["乙镇"]
    assert (a.unit, a.on_time_rate, a.overdue) == ("甲局", 0.5, 0)
    assert a.average_handling_days == pytest.approx(3.5)
    assert (b.unit, b.on_time_rate, b.overdue) == ("乙镇", None, 1)
    section = case_section(db, datetime(2026, 11, 16, tzinfo=SHANGHAI), datetime(2026, 11, 17, tzinfo=SHANGHAI))
    assert section.available and len(section.opened) == 3 and not section.closed
    later = case_section(db, datetime(2026, 11, 22, tzinfo=SHANGHAI), datetime(2026, 11, 23, tzinfo=SHANGHAI))
    assert [c.number for c in later.closed] == [late.number] and len(later.overdue) == 1
