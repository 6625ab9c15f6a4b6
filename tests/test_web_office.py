"""The office desk: warnings, events, the cases board, item search and source health, for analysts, duty officers
and the head only (404 to units and leaders), over data made by the real analysis; every action through the core,
with the account in the audit log."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select, text

from helpers import add_sources
from test_analysis import LEAK, NOW, library, load, post
from webdesk import Desk, csrf_of, days_ago
from yuqing_core.analysis import analyze
from yuqing_core.analysis.merging import merge_events
from yuqing_core.analysis.queries import event_item_ids, explain_items, item_search_statement, search_items
from yuqing_core.cases import get_case, history
from yuqing_core.cases.assessments import list_assessments
from yuqing_core.collect.health import PollOutcome, apply_outcome
from yuqing_core.collect.sources import set_enabled
from yuqing_core.db.migrate import BIGRAM_INDEXES, TRIGRAM_INDEXES, create_trigram_indexes
from yuqing_core.db.models import Case, EarlyWarning, EarlyWarningAction, Event, Source
from yuqing_core.web import events as web_events

WAGES = "青禾县白沙镇工地拖欠农民工工资，工人集体讨薪，希望有关部门尽快调查处理。"


@dataclass
class County:
    desk: Desk
    now: datetime
    chemical: EarlyWarning  # the larger story: more posts, two sources
    wages: EarlyWarning


def warnings_of(desk: Desk) -> list[EarlyWarning]:
    with desk.db.reader() as session:
        return list(session.scalars(select(EarlyWarning).order_by(EarlyWarning.effective_level, EarlyWarning.id)))


@pytest.fixture
def staff(desk: Desk) -> Desk:
    """An account for each role: the office's three, a member of the 县应急管理局, a leader."""
    desk.account("analyst", role="analyst", display_name="李四")
    desk.account("duty", role="duty", display_name="值班员")
    desk.account("head", role="head", display_name="主任")
    desk.account("zhangsan", unit="县应急管理局", display_name="张三")
    desk.account("leader", role="leader", display_name="县长")
    return desk


@pytest.fixture
def county(staff: Desk, settings, tmp_path) -> County:
    """Two warnings raised by the real analysis of real posts, and an account for each role."""
    desk = staff
    now = NOW  # what the archive import takes for the time of collection (test_analysis.load)
    add_sources(desk.db, settings, now - timedelta(days=3), 青禾论坛="http://example.org/bbs.xml",
                云江日报="http://example.org/yj.xml")  # fmt: skip
    library(desk.db, tmp_path)
    wave = [post(f"c{i}", f"东坪村化工园区泄漏{i}号现场", LEAK + f"（第{i}条）", now - timedelta(hours=6 - i / 2),
                 url=f"https://bbs.example.org/t/{i}") for i in range(10)]  # fmt: skip
    load(desk.db, settings, tmp_path, "青禾论坛", wave, "wave.jsonl")
    load(
        desk.db, settings, tmp_path, "云江日报", [post("p", "东坪村化工园区泄漏现场", LEAK, now - timedelta(hours=1))], "p.jsonl"
    )
    wages = [post(f"w{i}", f"白沙镇工地讨薪{i}", WAGES + f"（{i}）", now - timedelta(hours=2, minutes=10 * i)) for i in range(4)]
    load(desk.db, settings, tmp_path, "青禾论坛", wages, "w.jsonl")
    analyze(desk.db, now=now)
    found = warnings_of(desk)
    assert len(found) == 2 and found[0].effective_level < found[1].effective_level, [(w.level, w.score) for w in found]
    return County(desk, now, found[0], found[1])


def decide_form(browser, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf_of(browser.get("/warnings").text), **fields}


# --- warnings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "duty", "head"])
def test_the_warnings_queue_lists_open_warnings_most_severe_first(county: County, role: str) -> None:
    page = county.desk.login(role).get("/warnings")
    assert page.status_code == 200
    text = page.text
    first, second = county.chemical, county.wages
    assert text.index(f"预警 #{first.id}") < text.index(f"预警 #{second.id}")
    assert "化工异味" in text and "讨薪" in text and f"风险分 {first.score:g}" in text
    assert "快速回应：" in text and "待处理" in text and '<a href="/warnings">预警</a>' in text


def test_acknowledge_downgrade_and_dismiss_go_through_the_core_and_the_audit(county: County) -> None:
    desk, warning = county.desk, county.chemical
    browser = desk.login("analyst")
    done = browser.post(
        f"/warnings/{warning.id}/decide", data=decide_form(browser, action="acknowledge", reason="已转应急局核实")
    )
    assert done.status_code == 303 and "预警已确认" in browser.get(done.headers["location"]).text
    assert f"预警 #{warning.id}" not in browser.get("/warnings").text  # no longer open
    assert f"预警 #{warning.id}" in browser.get("/warnings?status=acknowledged").text

    lower = warning.effective_level + 1
    refused = browser.post(f"/warnings/{warning.id}/decide", data=decide_form(browser, action="downgrade", reason=" ",
                                                                              to_level=str(lower)))  # fmt: skip
    assert refused.status_code == 400 and "必须写明理由" in refused.text
    downgraded = browser.post(f"/warnings/{warning.id}/decide",
                              data=decide_form(browser, action="downgrade", reason="核实为轻微", to_level=str(lower)))  # fmt: skip
    assert downgraded.status_code == 303
    dismissed = browser.post(f"/warnings/{county.wages.id}/decide",
                             data=decide_form(browser, action="dismiss", reason="经核实已发放"))  # fmt: skip
    assert dismissed.status_code == 303

    with desk.db.reader() as session:
        row = session.get(EarlyWarning, warning.id)
        assert (row.status, row.effective_level) == ("downgraded", lower)
        assert session.get(EarlyWarning, county.wages.id).status == "dismissed"
        actions = session.scalars(select(EarlyWarningAction).where(EarlyWarningAction.actor == "李四（分析员）")).all()
        assert [(a.action, a.reason) for a in actions] == [
            ("acknowledge", "已转应急局核实"), ("downgrade", "核实为轻微"), ("dismiss", "经核实已发放")]  # fmt: skip
    audit = [(e.action, e.account_name, e.target) for e in desk.audit() if e.action.startswith("warning.")]
    assert audit == [("warning.acknowledge", "analyst", f"warning:{warning.id}"),
                     ("warning.downgrade", "analyst", f"warning:{warning.id}"),
                     ("warning.dismiss", "analyst", f"warning:{county.wages.id}")]  # fmt: skip
    everything = browser.get("/warnings?status=all").text
    assert "已降级" in everything and "已排除" in everything and "原为" in everything


def test_a_case_opened_from_a_warning_has_its_units_type_and_origin(county: County) -> None:
    desk, warning = county.desk, county.chemical
    browser = desk.login("duty")
    page = browser.get(f"/warnings/{warning.id}/case")
    assert page.status_code == 200 and 'value="县应急管理局" selected' in page.text  # the risk point's unit
    form = {"csrf_token": csrf_of(page.text), "title": "东坪村化工园区异味", "lead_unit": "县应急管理局",
            "co_units": ["白沙镇", "柳湾镇"], "case_type": "urgent", "requirement": "请立即核查园区排放"}  # fmt: skip
    refused = browser.post(f"/warnings/{warning.id}/case", data={**form, "lead_unit": "县不存在局"})
    assert refused.status_code == 400 and "请从单位列表中选择" in refused.text
    opened = browser.post(f"/warnings/{warning.id}/case", data=form)
    assert opened.status_code == 303
    with desk.db.reader() as session:
        (case,) = session.scalars(select(Case)).all()
    assert (case.origin_kind, case.origin_id, case.lead_unit, case.co_units) == ("warning", warning.id, "县应急管理局",
                                                                                 ["白沙镇", "柳湾镇"])  # fmt: skip
    assert (case.case_type, case.requirement, case.state) == ("urgent", "请立即核查园区排放", "dispatched")
    assert opened.headers["location"] == "/cases/" + quote(case.number, safe="") + "?done=open_notice"
    shown = browser.get(opened.headers["location"]).text
    assert "督办件已立案并派单，舆情督报已写入报告存档" in shown and case.number in shown
    archive = browser.get("/reports").text  # the notice, as `yuqing case open --warning` writes it
    assert "舆情督报 · " in archive and "舆情督报-" + case.number.replace("〔", "-").replace("〕", "-").rstrip("号") in archive
    assert [(e.action, e.actor) for e in history(desk.db, case.number)] == [("open", "值班员（值班员）"),
                                                                             ("dispatch", "值班员（值班员）")]  # fmt: skip
    (entry,) = [e for e in desk.audit() if e.action == "case.open"]
    assert (entry.account_name, entry.target, entry.details["warning"]) == ("duty", case.number, warning.id)
    assert sorted(name.rsplit(".", 1)[1] for name in entry.details["notice"]) == ["docx", "html", "md", "txt"]
    assert get_case(desk.db, case.number).deadline_at is not None


# --- events ---------------------------------------------------------------------------------------


def test_the_days_events_list_risk_first(county: County) -> None:
    day = county.now.astimezone(county.desk.settings.tz).date().isoformat()
    page = county.desk.login("head").get(f"/events?day={day}")
    assert page.status_code == 200
    chemical, wages = county.chemical.event_id, county.wages.event_id
    assert page.text.index(f'href="/events/{chemical}"') < page.text.index(f'href="/events/{wages}"')
    assert "当天没有事件" in county.desk.login("head").get("/events?day=2001-01-01").text


def test_the_event_page_explains_the_score_the_items_and_their_matches(county: County) -> None:
    desk = county.desk
    page = desk.login("analyst").get(f"/events/{county.chemical.event_id}")
    assert page.status_code == 200
    text = page.text
    assert "风险分构成" in text and "快速回应" in text and "首发时间" in text and "热词" in text
    with desk.db.reader() as session:
        event = session.get(Event, county.chemical.event_id)
    assert all(part["label"] in text for part in event.score_parts)
    assert f"风险分 {event.score}" in text
    assert '<a href="https://bbs.example.org/t/3" rel="noopener noreferrer" target="_blank">' in text
    assert "<mark>化工园区</mark>" in text and "<mark>泄漏</mark>" in text and "命中【化工异味】" in text
    assert "投诉诉求" in text or "伤亡事故" in text  # each item's stance
    assert text.count("<svg") == 2 and "青禾论坛" in text and "云江日报" in text
    assert "<script" not in text


def test_a_large_events_timeline_comes_a_page_at_a_time_while_its_charts_count_every_item(
    county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_events, "TIMELINE_PER_PAGE", 1)
    desk, event_id = county.desk, county.chemical.event_id
    ids = event_item_ids(desk.db, event_id)
    items = {item.item_id: item for item in explain_items(desk.db, ids)}
    assert len(ids) >= 2 and [items[i].published for i in ids] == sorted(items[i].published for i in ids)
    assert event_item_ids(desk.db, event_id, offset=1, limit=1) == ids[1:2]
    browser = desk.login("analyst")
    pages = [browser.get(f"/events/{event_id}" + (f"?page={n}" if n > 1 else "")) for n in range(1, len(ids) + 1)]
    assert all(page.status_code == 200 for page in pages)
    for number, (page, item_id) in enumerate(zip(pages, ids, strict=True), start=1):
        text = page.text
        timeline = text[text.index("信息时间线") :]
        assert f"共 {len(ids)} 条" in text and f"本页第 {number}–{number} 条" in text
        assert timeline.count('<span class="when">') == 1 and items[item_id].source in timeline
        assert text.count("<svg") == 2 and "青禾论坛" in text and "云江日报" in text  # the charts count every item
        assert (f'href="/events/{event_id}?page={number + 1}"' in text) == (number < len(ids))
        assert (f'href="/events/{event_id}?page={number - 1}"' in text) == (number > 1)
    beyond = browser.get(f"/events/{event_id}?page={len(ids) + 1}")
    assert beyond.status_code == 200 and '<span class="when">' not in beyond.text


def test_a_merged_event_sends_the_browser_to_its_survivor(county: County) -> None:
    desk = county.desk
    survivor, absorbed = county.chemical.event_id, county.wages.event_id
    merge_events(desk.db, survivor, absorbed, actor="李四（分析员）", note="同一片区")
    browser = desk.login("analyst")
    moved = browser.get(f"/events/{absorbed}")
    assert moved.status_code == 303 and moved.headers["location"] == f"/events/{survivor}?merged_from={absorbed}"
    page = browser.get(moved.headers["location"]).text
    assert f"事件 #{absorbed} 已并入本事件" in page and f"事件 #{absorbed} 并入事件 #{survivor}" in page
    assert "同一片区" in page
    assert browser.get("/events/999999").status_code == 404


# --- the cases board and the office's actions on a case -----------------------------------------------


def case_url(case: Case) -> str:
    return "/cases/" + quote(case.number, safe="")


def post_action(browser, desk: Desk, case: Case, action: str, **fields: str):
    case = desk.reload(case)
    token = csrf_of(browser.get(case_url(case)).text)
    return browser.post(f"{case_url(case)}/office/{action}",
                        data={"csrf_token": token, "expected_version": str(case.version), **fields})  # fmt: skip


def test_the_board_has_every_case_overdue_first(staff: Desk) -> None:
    desk = staff
    later = desk.case("白沙镇", title="白沙镇积水")
    overdue = desk.case("县应急管理局", title="化工园区异味", now=days_ago(30))
    listed = desk.case("柳湾镇", dispatch=False, title="尚未派单的事项")
    page = desk.login("head").get("/office/cases")
    assert page.status_code == 200
    text = page.text
    assert text.index(overdue.title) < text.index(later.title) < text.index(listed.title)
    assert "1 件已超期" in text and "已超期" in text and "未派单" in text
    narrowed = desk.login("head").get("/office/cases?state=listed").text
    assert listed.title in narrowed and later.title not in narrowed


def test_the_office_dispatches_decides_extensions_sends_back_closes_reopens_and_cancels(staff: Desk) -> None:
    desk = staff
    case = desk.case("县应急管理局", dispatch=False)
    office, unit = desk.login("analyst"), desk.login("zhangsan")
    assert "舆情中心操作" in office.get(case_url(case)).text and "舆情中心操作" not in unit.get(case_url(case)).text
    assert post_action(office, desk, case, "dispatch").status_code == 303
    assert desk.reload(case).deadline_at is not None

    def unit_does(action: str, **fields: str) -> None:
        current = desk.reload(case)
        token = csrf_of(unit.get(case_url(current)).text)
        data = {"csrf_token": token, "expected_version": str(current.version), **fields}
        assert unit.post(f"{case_url(current)}/{action}", data=data).status_code == 303

    unit_does("ack")
    unit_does("extend", until="2099-01-05", reason="需现场复核")
    assert post_action(office, desk, case, "grant").status_code == 303
    assert desk.reload(case).deadline_at.year == 2099
    unit_does("extend", until="2099-02-05", reason="再延一月")
    refused = post_action(office, desk, case, "refuse")
    assert refused.status_code == 400 and "须写明理由" in refused.text
    assert post_action(office, desk, case, "refuse", note="理由不足").status_code == 303
    unit_does("start")
    unit_does("return", answer="已整改")
    assert post_action(office, desk, case, "send_back", note="请补充监测数据").status_code == 303
    unit_does("start")
    unit_does("return", answer="已整改并附监测数据")
    done = post_action(office, desk, case, "close")
    assert done.status_code == 303 and "已办结" in office.get(done.headers["location"]).text
    assert post_action(office, desk, case, "reopen", note="群众再次反映").status_code == 303
    assert post_action(office, desk, case, "cancel", note="重复立案").status_code == 303
    final = desk.reload(case)
    assert (final.state, final.cancel_reason) == ("cancelled", "重复立案")

    office_steps = ["dispatch", "grant", "refuse", "send_back", "close", "reopen", "cancel"]
    trail = [(e.action, e.actor) for e in history(desk.db, case.number) if e.action in office_steps]
    assert trail == [(action, "李四（分析员）") for action in office_steps]
    audit = [(e.action, e.account_name, e.target) for e in desk.audit() if e.account_name == "analyst" and e.target]
    assert audit == [(f"case.{action}", "analyst", case.number) for action in office_steps]


def test_a_stale_office_page_changes_nothing_and_others_get_404(staff: Desk) -> None:
    desk = staff
    case = desk.case("县应急管理局")
    office = desk.login("duty")
    token = csrf_of(office.get(case_url(case)).text)
    stale = office.post(f"{case_url(case)}/office/cancel", data={"csrf_token": token, "expected_version": str(case.version - 1),
                                                                "note": "x"})  # fmt: skip
    assert stale.status_code == 409 and "已被修改" in stale.text
    assert office.post(f"{case_url(case)}/office/ack", data={"csrf_token": token, "expected_version": str(case.version)}
                       ).status_code == 404  # fmt: skip
    for name in ("zhangsan", "leader"):
        browser = desk.login(name)
        token = csrf_of(browser.get("/cases" if name == "zhangsan" else "/leader").text)
        refused = browser.post(f"{case_url(case)}/office/cancel",
                               data={"csrf_token": token, "expected_version": str(case.version), "note": "x"})  # fmt: skip
        assert refused.status_code == 404
    assert desk.reload(case).state == "dispatched"


# --- item search ------------------------------------------------------------------------------------


def test_search_finds_a_two_character_term_anywhere_with_filters(county: County, settings, tmp_path) -> None:
    desk = county.desk
    load(desk.db, settings, tmp_path, "云江日报", [post("px", "东坪村PX项目说明会", "说明会介绍了Px项目。", NOW)], "px.jsonl")
    browser = desk.login("analyst")
    page = browser.get("/items", params={"q": "讨薪"}).text
    assert page.count('<div class="title">') == 4 and "<mark>讨薪</mark>" in page and "化工园区" not in page
    assert f'href="/events/{county.wages.event_id}"' in page
    assert page.index("白沙镇工地<mark>讨薪</mark>0") < page.index("白沙镇工地<mark>讨薪</mark>3")  # newest first
    latin = browser.get("/items", params={"q": "px"}).text
    assert "东坪村<mark>PX</mark>项目说明会" in latin and "<mark>Px</mark>" in latin  # case-insensitive
    assert "没有找到" in browser.get("/items", params={"q": "_"}).text  # LIKE's wildcards are taken literally
    by_source = browser.get("/items", params={"q": "东坪村", "source": "云江日报"}).text
    assert by_source.count('<div class="title">') == 2
    by_point = browser.get("/items", params={"risk_point": "讨薪"}).text
    assert by_point.count('<div class="title">') == 4
    day = NOW.astimezone(desk.settings.tz).date()
    same_day = {"q": "讨薪", "since": day.isoformat(), "until": day.isoformat()}
    assert browser.get("/items", params=same_day).text.count('<div class="title">') == 4
    later = {"q": "讨薪", "since": (day + timedelta(days=1)).isoformat()}
    assert "没有找到" in browser.get("/items", params=later).text


def test_search_pages_by_fifty(staff: Desk, settings, tmp_path) -> None:
    desk = staff
    add_sources(desk.db, settings, NOW - timedelta(days=3), 青禾论坛="http://example.org/bbs.xml")
    rows = [post(f"n{i}", f"柳湾镇通知{i:02d}", "道路施工通知。", NOW - timedelta(minutes=i)) for i in range(55)]
    load(desk.db, settings, tmp_path, "青禾论坛", rows)
    browser = desk.login("analyst")
    first = browser.get("/items", params={"q": "通知"}).text
    assert first.count('<div class="title">') == 50 and "柳湾镇<mark>通知</mark>00" in first and "下一页" in first
    second = browser.get("/items", params={"q": "通知", "page": 2}).text
    assert second.count('<div class="title">') == 5 and "柳湾镇<mark>通知</mark>54" in second and "上一页" in second
    assert "/items?q=%E9%80%9A%E7%9F%A5&amp;page=3" not in second and "下一页" not in second


def test_postgresql_finds_a_two_character_term_through_the_bigram_indexes(pg_db, settings, tmp_path) -> None:
    db = pg_db
    add_sources(db, settings, NOW - timedelta(days=3), 青禾论坛="http://example.org/bbs.xml")
    rows = [post("a", "白沙镇工地讨薪", "工人讨薪。", NOW), post("b", "柳湾镇通知", "折扣5%起，PX项目说明会。", NOW),
            post("c", "石桥乡通知", "折扣5折，道路施工。", NOW - timedelta(minutes=1))]  # fmt: skip
    load(db, settings, tmp_path, "青禾论坛", rows)
    with db.engine.connect() as connection:
        names = set(connection.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'items'")).scalars())
        assert set(BIGRAM_INDEXES) <= names
        assert connection.execute(text("SELECT yuqing_bigrams('讨薪AB')")).scalar() == ["讨薪", "薪a", "ab"]
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        compiled = item_search_statement(query="讨薪").compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(connection.execute(text(f"EXPLAIN {compiled}")).scalars())
        assert "ix_items_title_bigrams" in plan and "ix_items_text_bigrams" in plan, plan
        connection.rollback()

    def titles(term: str) -> list[str]:
        return [found.title for found in search_items(db, query=term)]

    assert titles("讨薪") == ["白沙镇工地讨薪"]
    assert titles("pX项") == titles("5%") == ["柳湾镇通知"]  # case-insensitive; % taken literally
    assert titles("折扣") == ["柳湾镇通知", "石桥乡通知"] and titles("折") == titles("折扣")
    assert titles("讨薪5") == [] and titles("5_") == []


def test_postgresql_has_trigram_indexes_and_the_migration_goes_on_without_them(pg_db, caplog) -> None:
    db = pg_db
    with db.engine.connect() as connection:
        names = set(connection.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'items'")).scalars())
    assert set(TRIGRAM_INDEXES) <= names
    with db.engine.connect() as connection:  # the search's own query can use them (without 0013's, rolled back)
        connection.execute(text(f"DROP INDEX {', '.join(BIGRAM_INDEXES)}"))
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        compiled = item_search_statement(query="白沙镇讨薪").compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(connection.execute(text(f"EXPLAIN {compiled}")).scalars())
        assert "ix_items_title_trgm" in plan and "ix_items_text_trgm" in plan, plan
    role = f"yuqing_plain_{uuid.uuid4().hex[:8]}"
    with db.engine.connect() as admin:
        admin.execute(text(f"CREATE ROLE {role} NOSUPERUSER NOLOGIN"))
        admin.commit()
    try:
        with db.engine.connect() as connection:  # all in one transaction, rolled back
            connection.execute(text("DROP EXTENSION pg_trgm CASCADE"))
            connection.execute(text(f"REVOKE CREATE ON DATABASE {connection.engine.url.database} FROM PUBLIC"))
            connection.execute(text(f"SET LOCAL ROLE {role}"))
            with caplog.at_level("WARNING", logger="yuqing_core.db.migrate"):
                assert create_trigram_indexes(connection) is False
            assert "pg_trgm 扩展无法创建" in caplog.text
            assert connection.execute(text("SELECT 1")).scalar() == 1  # the transaction goes on
            connection.rollback()
    finally:
        with db.engine.connect() as admin:
            admin.execute(text(f"DROP ROLE {role}"))
            admin.commit()


# --- source health ----------------------------------------------------------------------------------


def poll(desk: Desk, name: str, outcome: PollOutcome) -> None:
    with desk.db.writer() as session:
        apply_outcome(session.scalar(select(Source).where(Source.name == name)), outcome, desk.settings)


def test_source_health_shows_each_sources_state_troubled_first(staff: Desk, settings) -> None:
    desk = staff
    add_sources(desk.db, settings, NOW - timedelta(days=3), 云江日报="http://example.org/yj.xml",
                青禾论坛="http://example.org/bbs.xml", 江华日报="http://example.org/jh.xml")  # fmt: skip
    poll(desk, "云江日报", PollOutcome("ok", NOW - timedelta(minutes=5), NOW, http_status=200, items_new=3))
    for minutes in (30, 20):
        poll(desk, "青禾论坛", PollOutcome("error", NOW - timedelta(minutes=minutes), NOW - timedelta(minutes=minutes - 1),
                                         http_status=502, error="HTTP 502：服务器错误"))  # fmt: skip
    set_enabled(desk.db, "江华日报", False, reason="网站改版，订阅地址失效")
    page = desk.login("duty").get("/sources")
    assert page.status_code == 200
    text = page.text
    assert text.index("江华日报") < text.index("云江日报") and text.index("青禾论坛") < text.index("云江日报")
    assert "停用原因：网站改版，订阅地址失效" in text and "最近错误：HTTP 502：服务器错误" in text
    assert "连续错误：2" in text and "失败" in text and "正常" in text
    local = NOW.astimezone(desk.settings.tz)
    assert f"上次成功：{local:%Y-%m-%d %H:%M}" in text


# --- the reports archive ----------------------------------------------------------------------------


def write_report(root, relative: str, content: bytes, written: datetime) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (written.timestamp(), written.timestamp()))


def test_the_reports_archive_lists_newest_first_and_serves_only_its_own_files(staff: Desk) -> None:
    desk = staff
    root = desk.settings.effective_reports_dir
    write_report(root, "daily/2026-11-27/舆情日报-2026-11-27.html", "<h1>日报</h1>".encode(), NOW - timedelta(days=1))
    write_report(root, "daily/2026-11-27/舆情日报-2026-11-27.docx", b"PK docx", NOW - timedelta(days=1))
    write_report(root, "daily/2026-11-27/舆情日报-2026-11-27.md", "# 日报".encode(), NOW - timedelta(days=1))
    write_report(root, "special/1/舆情专报-1.html", "<h1>专报</h1>".encode(), NOW)
    secret = desk.settings.home / "secret.html"
    secret.write_text("不该被下载", encoding="utf-8")
    (root / "daily" / "outside.html").symlink_to(secret)
    browser = desk.login("analyst")
    page = browser.get("/reports").text
    assert page.index("舆情专报-1") < page.index("舆情日报-2026-11-27") and "舆情日报 · " in page
    assert "outside" not in page and ".md" not in page

    docx = "daily/2026-11-27/舆情日报-2026-11-27.docx"
    assert f"/reports/download?file={quote(docx)}" in page
    download = browser.get("/reports/download", params={"file": docx})
    assert download.status_code == 200 and download.content == b"PK docx"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    html = browser.get("/reports/download", params={"file": "special/1/舆情专报-1.html"})
    assert html.status_code == 200 and html.headers["content-disposition"].startswith("attachment;")
    for name in ("../secret.html", str(secret), "daily/../../secret.html", "daily/outside.html", "",
                 "daily/2026-11-27/舆情日报-2026-11-27.md", "daily/2026-11-27", "daily/none.html", "special/1/%2e%2e/x.html"):  # fmt: skip
        refused = browser.get("/reports/download", params={"file": name})
        assert refused.status_code == 404, name
        assert "不该被下载" not in refused.text
    assert [(e.action, e.account_name) for e in desk.audit() if e.action == "report.download"] == [
        ("report.download", "analyst")] * 2  # fmt: skip


# --- forms and access -------------------------------------------------------------------------------


def test_a_form_without_the_sessions_token_changes_nothing(county: County) -> None:
    desk, warning = county.desk, county.chemical
    browser = desk.login("analyst")
    for token in ("", "forged"):
        refused = browser.post(f"/warnings/{warning.id}/decide", data={"csrf_token": token, "action": "dismiss", "reason": "x"})
        assert refused.status_code == 403 and "表单已失效" in refused.text
        opened = browser.post(f"/warnings/{warning.id}/case", data={"csrf_token": token, "lead_unit": "县应急管理局",
                                                                   "case_type": "urgent"})  # fmt: skip
        assert opened.status_code == 403
    case = desk.case("县应急管理局")
    for token in ("", "forged"):
        data = {"csrf_token": token, "expected_version": str(case.version), "note": "重复立案"}
        assert browser.post(f"{case_url(case)}/office/cancel", data=data).status_code == 403
    assert warnings_of(desk)[0].status == "open" and desk.reload(case).state == "dispatched"
    with desk.db.reader() as session:
        assert [c.id for c in session.scalars(select(Case))] == [case.id]


@pytest.mark.parametrize("role", ["analyst", "duty", "head"])
def test_every_office_page_renders_for_each_office_role(county: County, role: str) -> None:
    browser = county.desk.login(role)
    for method, path in office_routes(county):
        if method == "GET" and "download" not in path:
            page = browser.get(path)
            assert page.status_code == 200, path
            assert '<a href="/items">信息检索</a>' in page.text and "<script" not in page.text and " style=" not in page.text
            assert "script-src 'self'" in page.headers["content-security-policy"]


def office_routes(county: County) -> list[tuple[str, str]]:
    w = county.chemical
    return [("GET", "/warnings"), ("GET", "/warnings?status=all"), ("POST", f"/warnings/{w.id}/decide"),
            ("GET", f"/warnings/{w.id}/case"), ("POST", f"/warnings/{w.id}/case"), ("GET", "/events"),
            ("GET", f"/events/{w.event_id}"), ("GET", "/office/cases"), ("GET", "/office/cases?state=listed"),
            ("GET", "/items?q=讨薪"), ("GET", "/sources"),
            ("GET", "/reports"), ("GET", "/reports/download?file=daily/x.html")]  # fmt: skip


@pytest.mark.parametrize("name", ["zhangsan", "leader"])
def test_units_and_leaders_get_404_on_every_office_route(county: County, name: str) -> None:
    desk = county.desk
    browser = desk.login(name)
    token = csrf_of(browser.get("/cases" if name == "zhangsan" else "/leader").text)
    for method, path in office_routes(county):
        data = {"csrf_token": token, "action": "dismiss", "reason": "x", "lead_unit": "县应急管理局", "case_type": "urgent"}
        response = browser.get(path) if method == "GET" else browser.post(path, data=data)
        assert response.status_code == 404, (method, path)
        assert '<a href="/warnings">' not in response.text
    assert warnings_of(desk)[0].status == "open"
    with desk.db.reader() as session:
        assert session.scalars(select(Case)).all() == []


def test_an_analyst_drafts_an_assessment_on_the_event_page_and_only_the_head_approves_it(county: County) -> None:
    desk, event_id = county.desk, county.chemical.event_id
    analyst = desk.login("analyst")
    page = analyst.get(f"/events/{event_id}")
    assert "起草研判：已按系统掌握的事实预填" in page.text and "早讲事实" in page.text  # the system's facts filled in
    form = {"csrf_token": csrf_of(page.text), "nature": "企业储罐阀门密封老化导致的泄漏", "trend": "官方回应后趋缓",
            "risks": "周边群众担心水质", "handling": "公开监测数据", "talking_points": "早讲事实：……", "then": "submit"}  # fmt: skip
    done = analyst.post(f"/events/{event_id}/assessments", data=form)
    assert done.status_code == 303 and done.headers["location"] == f"/events/{event_id}?assessment=submitted#assessment"
    submitted = analyst.get(f"/events/{event_id}").text
    assert "待签发" in submitted and "企业储罐阀门密封老化导致的泄漏" in submitted and "/approve" not in submitted
    (row,) = list_assessments(desk.db, event_id)
    token = {"csrf_token": csrf_of(submitted)}
    assert analyst.post(f"/assessments/{row.id}/approve", data=token).status_code == 404  # analysts draft, the head signs
    head = desk.login("head")
    approved = head.post(f"/assessments/{row.id}/approve", data={"csrf_token": csrf_of(head.get(f"/events/{event_id}").text)})
    assert approved.status_code == 303
    (row,) = list_assessments(desk.db, event_id)
    assert row.state == "approved" and row.approved_by == "主任（中心主任）" and row.drafted_by == "李四（分析员）"
    assert [entry.action for entry in desk.audit() if entry.action.startswith("assessment.")] == [
        "assessment.submit", "assessment.approve",
    ]  # fmt: skip
