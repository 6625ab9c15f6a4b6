"""The analyze stage on SQLite and PostgreSQL: matches with offsets, events, warnings once per level,
analysts' decisions, risk notices, idempotency."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import add_sources, jieba_tfidf_of_joined_texts
from yuqing_core.analysis import analyze
from yuqing_core.collect.archive import import_archive
from yuqing_core.db import Database
from yuqing_core.db.models import EarlyWarning, EarlyWarningAction, Event, EventItem, ItemAnalysis, Match, RiskNotice
from yuqing_core.levels import Level
from yuqing_core.risk.decisions import DecisionRefused, decide, history
from yuqing_core.risk.library import load_library_file
from yuqing_core.risk.notices import write_risk_notices
from yuqing_core.risk.versions import active_library, import_library
from yuqing_core.rules import normalize_for_matching

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

LIBRARY = """name: 测试库
region:
  terms: [青禾县, 白沙镇, 东坪村]
  local_sources: [青禾论坛]
exclusions:
  - name: 广告
    rule: 广告 | 促销
risk_points:
  - name: 化工异味
    units: [县应急管理局]
    severity: 3
    rules: ['(化工园区 | 化工厂) & (异味 | 泄漏 | 刺鼻)']
  - name: 讨薪
    severity: 2
    rules: [欠薪 | 讨薪]
  - name: 丰收
    severity: 1
    positive: true
    rules: [丰收]
source_weights: {云江日报: 1.5}
sensitive_words: [中毒, 送医院]
"""

HARM = "白沙镇东坪村化工园区泄漏，又有两名老人头晕呕吐被送医院。"  # a harm report (risk.stance)
LEAK = "白沙镇东坪村今天一早弥漫刺鼻气味，村民怀疑化工园区泄漏，有老人头晕，已有人送医院检查，希望有关部门尽快调查公开监测数据。"


def post(guid: str, title: str, text: str, when: datetime, url: str | None = None) -> dict:
    return {"guid": guid, "title": title, "text": text, "published": when.isoformat(), "url": url}


def load(
    db: Database, settings, tmp_path: Path, source: str, rows: list[dict], name: str = "a.jsonl", now: datetime = NOW
) -> None:
    """Import ``rows`` as an archive, fetched at ``now``: posts dated after it (beyond the future
    tolerance) are dated ``now`` instead, so rows dated by the wall clock need ``now=utcnow()``."""
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    import_archive(db, settings, path, source, now=now)


def library(db: Database, tmp_path: Path, text: str = LIBRARY, name: str = "risk.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return import_library(db, load_library_file(path), author="测试", now=NOW)


def table_rows(db: Database, model, *columns) -> list[tuple]:
    with db.reader() as session:
        return [tuple(r) for r in session.execute(select(*columns).order_by(*columns))]


@pytest.fixture
def county(db, settings, tmp_path):
    add_sources(
        db,
        settings,
        青禾论坛="http://example.org/bbs.xml",
        江华日报="http://example.org/jh.xml",
        云江日报="http://example.org/yj.xml",
    )
    library(db, tmp_path)
    return db


def test_matches_store_version_and_offsets_into_the_original_text(county, settings, tmp_path) -> None:
    db = county
    title = "白沙镇　化工园区ＸＸ有刺鼻味"  # full-width space and letters: offsets must still point at the original
    load(db, settings, tmp_path, "江华日报", [post("1", title, LEAK, NOW - timedelta(hours=1))])
    summary = analyze(db, now=NOW)
    assert (summary.matched.items, summary.matched.relevant, summary.matched.risk_points["化工异味"]) == (1, 1, 1)
    with db.reader() as session:
        match = session.scalars(select(Match).where(Match.kind == "risk")).one()
        assert match.version_id == active_library(db).version_id and match.risk_point_name == "化工异味"
        for hit in match.hits:
            source_text = title if hit["field"] == "title" else LEAK
            assert normalize_for_matching(source_text[hit["start"] : hit["end"]]) == normalize_for_matching(hit["term"])


def test_relevance_and_exclusion(county, settings, tmp_path) -> None:
    db = county
    load(db, settings, tmp_path, "江华日报", [
        post("in", "东坪村化工园区异味", "居民反映", NOW - timedelta(hours=3)),
        post("out", "外县化工园区泄漏", "与本县无关", NOW - timedelta(hours=3)),
        post("ad", "青禾县化工园区异味处理设备促销", "广告", NOW - timedelta(hours=3)),
    ])  # fmt: skip
    load(
        db,
        settings,
        tmp_path,
        "青禾论坛",
        [post("local", "化工厂又有异味了", "没写地名，但这是本县论坛", NOW - timedelta(hours=2))],
        "b.jsonl",
    )
    analyze(db, now=NOW)
    with db.reader() as session:
        verdicts = {a.item_id: (a.relevant, a.excluded) for a in session.scalars(select(ItemAnalysis))}
        risky = set(session.scalars(select(Match.item_id).where(Match.kind == "risk")))
    assert sorted(verdicts.values()) == [(False, False), (True, False), (True, False), (True, True)]
    assert len(risky) == 2  # the relevant, not excluded ones


def test_reposts_become_one_event_and_the_run_is_idempotent(county, settings, tmp_path) -> None:
    db = county
    load(db, settings, tmp_path, "青禾论坛", [
        post("a", "白沙镇东坪村刺鼻气味，疑似化工园区泄漏", LEAK, NOW - timedelta(hours=5), "http://bbs.example/t/1?utm_source=x"),
        post("b", "转发微博//@东坪守望:白沙镇东坪村刺鼻气味，疑似化工园区泄漏", "转发微博//@东坪守望:" + LEAK, NOW - timedelta(hours=4)),
        post("c", "【关注】白沙镇东坪村刺鼻气味，疑似化工园区泄漏 - 青禾论坛", LEAK[:50] + "……", NOW - timedelta(hours=3)),
        post("d", "青禾县今年柑橘丰收", "果农笑开颜，青禾县柑橘丰收，收购价稳定。", NOW - timedelta(hours=2)),
    ])  # fmt: skip
    load(
        db,
        settings,
        tmp_path,
        "云江日报",
        [post("e", "东坪村刺鼻气味调查", LEAK, NOW - timedelta(hours=1), "http://bbs.example/t/1")],
        "b.jsonl",
    )
    first = analyze(db, now=NOW)
    with db.reader() as session:
        events = session.scalars(select(Event).order_by(Event.item_count.desc())).all()
        joined = dict(session.execute(select(EventItem.item_id, EventItem.joined_by)).all())
    leak = events[0]
    assert leak.item_count == 4 and leak.source_count == 2
    assert leak.risk_points == ["化工异味"] and "中毒" not in leak.sensitive_words and "送医院" in leak.sensitive_words
    assert sorted(joined.values()).count("seed") == 2  # the leak and the harvest
    assert {"url", "title", "minhash"} & set(joined.values())
    assert first.grouped.grouped == 5 and first.grouped.new_events == 2

    snapshot = [
        table_rows(db, Match, Match.item_id, Match.rule_id, Match.version_id),
        table_rows(db, EventItem, EventItem.item_id, EventItem.event_id, EventItem.joined_by),
        table_rows(db, Event, Event.id, Event.item_count, Event.score, Event.level),
        table_rows(db, EarlyWarning, EarlyWarning.event_id, EarlyWarning.level, EarlyWarning.score),
    ]
    again = analyze(db, now=NOW)
    assert again.matched.items == 0 and again.warnings == []
    rerun_window = analyze(db, since=NOW - timedelta(days=1), until=NOW, now=NOW)
    assert rerun_window.matched.items == 5 and rerun_window.matched.matches_new == 0 and rerun_window.warnings == []
    assert snapshot == [
        table_rows(db, Match, Match.item_id, Match.rule_id, Match.version_id),
        table_rows(db, EventItem, EventItem.item_id, EventItem.event_id, EventItem.joined_by),
        table_rows(db, Event, Event.id, Event.item_count, Event.score, Event.level),
        table_rows(db, EarlyWarning, EarlyWarning.event_id, EarlyWarning.level, EarlyWarning.score),
    ]


def test_event_hot_words_come_from_word_counts_stored_by_the_match_step(county, settings, tmp_path) -> None:
    """Relevant items keep their word counts; an event's hot words are the same whether its items have
    counts (segmented in the parallel match step) or not (analysed before counts were stored)."""
    from sqlalchemy import update

    from yuqing_core.analysis.warn import HOT_WORDS, refresh_events

    db = county
    load(db, settings, tmp_path, "青禾论坛", [
        post("a", "白沙镇东坪村刺鼻气味，疑似化工园区泄漏", LEAK, NOW - timedelta(hours=5)),
        post("b", "转：白沙镇东坪村刺鼻气味，疑似化工园区泄漏", "转发微博//@东坪守望:" + LEAK, NOW - timedelta(hours=4)),
    ])  # fmt: skip
    load(db, settings, tmp_path, "江华日报", [post("c", "外县新闻", "邻县召开会议", NOW - timedelta(hours=3))], "b.jsonl")
    analyze(db, now=NOW)
    with db.reader() as session:
        counts = {a.relevant: a.word_counts for a in session.scalars(select(ItemAnalysis))}
        event = session.scalars(select(Event)).one()
        stored_hot_words = event.hot_words
    assert counts[False] is None and counts[True]["total"] > 0 and "东坪村" in counts[True]["words"]
    terms = active_library(db).compiled.ruleset.terms
    texts = [
        f"白沙镇东坪村刺鼻气味，疑似化工园区泄漏 {LEAK}",
        f"转：白沙镇东坪村刺鼻气味，疑似化工园区泄漏 转发微博//@东坪守望:{LEAK}",
    ]
    expected = jieba_tfidf_of_joined_texts(texts, sorted(terms))[:HOT_WORDS]  # jieba's own TF-IDF, not ours
    assert len(expected) == HOT_WORDS and "东坪村" in [w for w, _ in expected]
    assert stored_hot_words == [[w, round(x, 4)] for w, x in expected]

    with db.writer() as session:
        session.execute(update(ItemAnalysis).values(word_counts=None))
        session.execute(update(Event).values(hot_words=[]))
    refresh_events(db, active_library(db), [event.id], now=NOW)
    with db.reader() as session:
        assert session.get(Event, event.id).hot_words == stored_hot_words


def test_refreshing_writes_each_event_its_figures_deletes_those_left_without_items_and_skips_merged_ones(
    county, settings, tmp_path
) -> None:
    """The figures of all the events refreshed go out in one statement, each event its own; an event founded
    by a run whose items all went elsewhere is deleted; a merged-away one stays a pointer, unrefreshed."""
    from sqlalchemy import update

    from yuqing_core.analysis.warn import refresh_events

    db = county
    load(db, settings, tmp_path, "青禾论坛", [
        post("a", "白沙镇东坪村刺鼻气味，疑似化工园区泄漏", LEAK, NOW - timedelta(hours=5)),
        post("b", "转：白沙镇东坪村刺鼻气味，疑似化工园区泄漏", "转发微博//@东坪守望:" + LEAK, NOW - timedelta(hours=4)),
        post("c", "青禾县今年柑橘丰收", "果农笑开颜，青禾县柑橘丰收，收购价稳定。", NOW - timedelta(hours=3)),
        post("d", "白沙镇讨薪", "白沙镇工地农民工讨薪，欠薪半年未发。", NOW - timedelta(hours=2)),
        post("e", "青禾县图书馆新馆开放", "青禾县图书馆新馆今日开放，藏书二十万册。", NOW - timedelta(hours=1)),
    ])  # fmt: skip
    analyze(db, now=NOW)
    with db.reader() as session:
        seeds = dict(session.execute(select(Event.id, Event.seed_item_id)).all())
        titles = dict(session.execute(select(Event.id, Event.title)).all())
    leak, harvest, wages, library_opening = sorted(seeds, key=lambda event_id: seeds[event_id])
    with db.writer() as session:
        # The harvest's item moved to the wage event by hand, its event left empty; the library event
        # merged into the leak (its item with it), a pointer left behind; every figure wiped.
        session.execute(update(EventItem).where(EventItem.event_id == harvest).values(event_id=wages))
        session.execute(update(EventItem).where(EventItem.event_id == library_opening).values(event_id=leak))
        session.execute(update(Event).where(Event.id == library_opening).values(merged_into_id=leak))
        session.execute(update(Event).values(item_count=0, score=0.0, risk_points=[], hot_words=[], title=""))
    unknown = max(seeds) + 100
    summary = refresh_events(db, active_library(db), [library_opening, leak, unknown, harvest, wages], now=NOW)

    assert summary.events == 2
    with db.reader() as session:
        stored = {e.id: e for e in session.scalars(select(Event))}
    assert set(stored) == {leak, wages, library_opening}  # the empty harvest event is gone
    assert (stored[leak].title, stored[leak].item_count, stored[leak].risk_points) == (titles[leak], 3, ["化工异味"])
    assert (stored[wages].title, stored[wages].item_count, stored[wages].risk_points) == (
        "青禾县今年柑橘丰收",
        2,
        ["丰收", "讨薪"],
    )
    assert stored[leak].hot_words and stored[wages].hot_words and stored[leak].hot_words != stored[wages].hot_words
    assert stored[leak].updated_at == stored[wages].updated_at == NOW
    pointer = stored[library_opening]
    assert (pointer.merged_into_id, pointer.item_count, pointer.title) == (leak, 0, "")


def warning_rows(db: Database) -> list[tuple]:
    with db.reader() as session:
        rows = session.execute(
            select(EarlyWarning.event_id, EarlyWarning.level, EarlyWarning.effective_level, EarlyWarning.status).order_by(
                EarlyWarning.id
            )
        ).all()
    return [tuple(row) for row in rows]


def test_one_warning_per_event_raised_again_in_place_only_when_the_level_rises(county, settings, tmp_path) -> None:
    db = county
    start = NOW - timedelta(days=2)
    load(db, settings, tmp_path, "青禾论坛", [post("1", "东坪村化工园区有异味", LEAK, start)])
    first = analyze(db, now=start + timedelta(hours=1))
    # One forum post (weight 1) complaining (希望有关部门…) about a severity-3 point and saying 送医院 (risk/scoring.py):
    # 24 + sensitive 5 + volume 5 + spread 0 + velocity 3 x 1/6 = 0.5 + authority 8 + complaint 2 = 44.5: IV 一般.
    (raised,) = first.warnings
    assert (raised.kind, raised.level, raised.score, raised.key) == ("new", 4, 44.5, f"warning:{raised.id}:level:4")

    # The story spreads: more posts, more sources, a provincial paper, a spike.
    wave = [
        post(f"w{i}", f"东坪村化工园区泄漏{i}号现场", LEAK + f"（第{i}条）", NOW - timedelta(hours=12 - i)) for i in range(12)
    ]
    load(db, settings, tmp_path, "青禾论坛", wave, "wave.jsonl")
    load(db, settings, tmp_path, "云江日报", [post("p", "东坪村化工园区泄漏现场", LEAK, NOW - timedelta(hours=1))], "p.jsonl")
    second = analyze(db, now=NOW)
    # The same warning, raised in place: one notice with its own ledger key; the old level is history.
    (rise,) = second.warnings
    assert (rise.id, rise.event_id, rise.kind, rise.previous_level) == (raised.id, raised.event_id, "level", 4)
    assert rise.level <= 2 and rise.key == f"warning:{raised.id}:level:{rise.level}"
    assert rise.subject.startswith(f"【预警升级 IV→{Level(rise.level).numeral}】")
    assert analyze(db, since=NOW - timedelta(days=3), until=NOW, now=NOW).warnings == []  # same facts: no notice
    assert warning_rows(db) == [(raised.event_id, rise.level, rise.level, "open")]
    (action,) = history(db, raised.id)
    assert (action.action, action.actor, action.from_level, action.to_level) == ("raise", "系统", 4, rise.level)
    assert action.reason.startswith(f"等级由IV级（一般）上调为{Level(rise.level).label}")
    with db.reader() as session:
        event = session.get(Event, raised.event_id)
        assert event.score == rise.score and [p["name"] for p in event.score_parts] == [
            "severity", "volume", "spread", "velocity", "authority", "stance_mix", "response",
        ]  # fmt: skip


def test_analysts_decisions_are_kept(county, settings, tmp_path) -> None:
    db = county
    load(db, settings, tmp_path, "青禾论坛", [post("1", "东坪村化工园区有异味", LEAK, NOW - timedelta(hours=1))])
    (warning,) = analyze(db, now=NOW).warnings
    with pytest.raises(DecisionRefused, match="必须写明理由"):
        decide(db, warning.id, "dismiss", actor="王", reason=" ")
    with pytest.raises(DecisionRefused, match="降级后的级别应低于"):
        decide(db, warning.id, "downgrade", actor="王", reason="核实为轻微", to_level=warning.level)
    decide(db, warning.id, "acknowledge", actor="王", reason="已转应急局核实")
    decide(db, warning.id, "dismiss", actor="李", reason="经核实为正常检修气味", now=NOW + timedelta(minutes=5))
    actions = history(db, warning.id)
    assert [(a.action, a.actor, a.reason) for a in actions] == [
        ("acknowledge", "王", "已转应急局核实"),
        ("dismiss", "李", "经核实为正常检修气味"),
    ]
    with db.reader() as session:
        row = session.get(EarlyWarning, warning.id)
        assert row.status == "dismissed" and session.scalar(select(func.count()).select_from(EarlyWarningAction)) == 2
    # Re-analysing the same window does not bring the dismissed warning back.
    assert analyze(db, since=NOW - timedelta(days=1), until=NOW, now=NOW).warnings == []
    with pytest.raises(DecisionRefused, match="没有编号为 999 的预警"):
        decide(db, 999, "acknowledge", actor="王", reason="x")


def test_a_dismissal_stands_through_changes_until_the_level_rises(county, settings, tmp_path) -> None:
    db = county
    load(db, settings, tmp_path, "青禾论坛", [post("1", "东坪村化工园区有异味", LEAK, NOW - timedelta(hours=30))])
    (warning,) = analyze(db, now=NOW - timedelta(hours=29)).warnings
    decide(db, warning.id, "dismiss", actor="李", reason="经核实为正常检修气味", now=NOW - timedelta(hours=28))
    # A harm report on the forum: a material change, recorded, but no notice to a dismissed warning.
    load(
        db, settings, tmp_path, "青禾论坛", [post("2", "东坪村化工园区又有人送医院", HARM, NOW - timedelta(hours=27))], "2.jsonl"
    )
    assert analyze(db, now=NOW - timedelta(hours=27)).warnings == []
    assert warning_rows(db) == [(warning.event_id, 4, 4, "dismissed")]
    assert [(a.action, a.reason) for a in history(db, warning.id)][-1] == (
        "change",
        "出现新的伤亡/危害报告（累计 1 条，此前 0 条）",
    )
    # The incident grows to a higher level: the warning is raised and reopened, with one notice.
    wave = [post(f"w{i}", f"东坪村化工园区泄漏{i}号", LEAK + f"（第{i}条）", NOW - timedelta(hours=6 - i / 2)) for i in range(10)]
    load(db, settings, tmp_path, "青禾论坛", wave, "wave.jsonl")
    load(db, settings, tmp_path, "云江日报", [post("p", "东坪村化工园区泄漏现场", LEAK, NOW - timedelta(hours=1))], "p.jsonl")
    (rise,) = analyze(db, now=NOW).warnings
    assert rise.kind == "level" and rise.id == warning.id and rise.level < 4
    assert warning_rows(db) == [(warning.event_id, rise.level, rise.level, "open")]


def test_material_changes_give_one_notice_each(county, settings, tmp_path) -> None:
    db = county
    add_sources(db, settings, 青禾县人民政府网="http://example.org/gov.xml")
    load(db, settings, tmp_path, "青禾论坛", [post("1", "东坪村化工园区有异味", LEAK, NOW - timedelta(hours=3))])
    (warning,) = analyze(db, now=NOW - timedelta(hours=2)).warnings
    assert warning.kind == "new"
    # The government answers: an update that lowers urgency, not a new alarm.
    answer = post(
        "g1",
        "关于东坪村化工园区异味的情况通报",
        "经核查，白沙镇东坪村化工园区异味系检修排气所致，已责令整改，群众反映的问题已妥善处理。",
        NOW - timedelta(hours=1),
    )
    load(db, settings, tmp_path, "青禾县人民政府网", [answer], "gov.jsonl")
    (update,) = analyze(db, now=NOW - timedelta(hours=1)).warnings
    assert (update.id, update.kind, update.key) == (warning.id, "change", f"warning:{warning.id}:change:response")
    assert update.changes == ["官方已回应"] and update.subject.startswith("【预警更新")
    with db.reader() as session:
        event = session.get(Event, warning.event_id)
        assert event.first_response_at == NOW - timedelta(hours=1) and event.response_status == "on_time"
    # A further harm report: one more notice, keyed by the harm reports' count.
    load(db, settings, tmp_path, "青禾论坛", [post("2", "东坪村化工园区又有人送医院", HARM, NOW)], "2.jsonl")
    (harm,) = analyze(db, now=NOW).warnings
    assert harm.key == f"warning:{warning.id}:change:harm:1" and harm.kind == "change"
    assert analyze(db, since=NOW - timedelta(days=1), until=NOW + timedelta(seconds=1), now=NOW).warnings == []


def test_an_unanswered_incident_past_its_target_is_raised_a_level(county, settings, tmp_path) -> None:
    db = county
    friday_5pm = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
    load(db, settings, tmp_path, "青禾论坛", [post("1", "东坪村化工园区有异味", LEAK, friday_5pm)])
    (warning,) = analyze(db, now=friday_5pm + timedelta(minutes=10)).warnings
    assert warning.level == 4
    with db.reader() as session:
        event = session.get(Event, warning.event_id)
        # IV: 24 working hours, counted in office hours on working days: Friday 17:00-17:30 is half an hour,
        # the weekend none, Monday to Wednesday 6.5 each (20 in all), Thursday 08:30-12:00 and 14:30-15:00:
        # due on Thursday 2026-12-03 at 15:00 Shanghai.
        assert (event.response_status, event.response_target_work_h) == ("pending", 24)
        assert event.response_due_at == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    # Nothing new is published; the stage's check of due responses finds it overdue and raises the level.
    later = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # Thursday 17:00 Shanghai, two working hours past the target
    (rise,) = analyze(db, now=later).warnings
    assert (rise.id, rise.kind, rise.previous_level, rise.level) == (warning.id, "level", 4, 3)
    assert "超过回应时限 2 个工作小时未见官方回应，等级上调" in rise.reasons
    with db.reader() as session:
        event = session.get(Event, warning.event_id)
        assert event.response_status == "overdue" and event.level == 3
        (response,) = [p for p in event.score_parts if p["name"] == "response"]
        assert response["label"] == "回应状态" and response["points"] >= 10 and "等级上调" in response["detail"]
    assert analyze(db, now=later).warnings == []  # told once


def test_risk_notice_for_a_rising_risk_point_once_a_day(county, settings, tmp_path) -> None:
    db = county
    quiet = [post(f"q{d}", "东坪村化工园区异味", f"第{d}天", NOW - timedelta(days=d, hours=3)) for d in (3, 9)]
    burst = [post(f"b{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), NOW - timedelta(hours=i + 1)) for i in range(8)]
    load(db, settings, tmp_path, "青禾论坛", quiet + burst)
    analyze(db, now=NOW)
    notices = write_risk_notices(db, active_library(db), now=NOW)
    assert [(n.risk_point, n.current, n.created) for n in notices] == [("化工异味", 8, True)]
    assert notices[0].units == ["县应急管理局"] and notices[0].p_value < 0.01
    again = write_risk_notices(db, active_library(db), now=NOW + timedelta(hours=1))
    assert [n.created for n in again] == [False]
    with db.reader() as session:
        (record,) = session.scalars(select(RiskNotice)).all()
        assert record.day == "2026-11-28" and len(record.example_item_ids) == 5 and sum(record.baseline) == 2


def test_a_new_version_re_analyses_a_window(county, settings, tmp_path) -> None:
    db = county
    load(db, settings, tmp_path, "青禾论坛", [post("1", "柳湾工地欠薪", "三十多名工人讨薪", NOW - timedelta(hours=2))])
    analyze(db, now=NOW)
    library(db, tmp_path, LIBRARY.replace("rules: [欠薪 | 讨薪]", "rules: [欠薪 | 讨薪 | 工资]"), "v2.yaml")
    summary = analyze(db, since=NOW - timedelta(days=1), until=NOW, now=NOW)
    assert summary.version == 2 and summary.matched.matches_new >= 1
    with db.reader() as session:
        versions = set(session.scalars(select(Match.version_id)))
        analysed = set(session.scalars(select(ItemAnalysis.version_id)))
    assert len(versions) == 2 and len(analysed) == 1  # old matches kept as history; the item now stands at v2


def test_migration_0008_keeps_one_warning_per_event_with_every_action(county, settings, tmp_path) -> None:
    from alembic import command
    from sqlalchemy import text

    from yuqing_core.db import upgrade
    from yuqing_core.db.migrate import alembic_config

    db = county
    load(db, settings, tmp_path, "青禾论坛", [post("1", "东坪村化工园区有异味", LEAK, NOW - timedelta(hours=1))])
    (warning,) = analyze(db, now=NOW).warnings
    decide(db, warning.id, "acknowledge", actor="王", reason="已转应急局核实")
    config = alembic_config()
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        connection.commit()
    # Before 0008 an event could hold one warning per level: a later, more severe one with its own decision.
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO warnings (event_id, level, score, version_id, reasons, status, effective_level, created_at, updated_at)"
                " SELECT event_id, 2, 75, version_id, reasons, 'open', 2, created_at, updated_at FROM warnings"
            )
        )
        severe = connection.execute(text("SELECT id FROM warnings WHERE level = 2")).scalar_one()
        connection.execute(
            text(
                "INSERT INTO warning_actions (warning_id, action, actor, reason, from_level, to_level, created_at)"
                " SELECT :id, 'dismiss', '李', '已处置', 2, 2, created_at FROM warning_actions"
            ),
            {"id": severe},
        )
    upgrade(db)
    assert warning_rows(db) == [(warning.event_id, 2, 2, "open")]  # the most severe kept
    assert [(a.action, a.actor) for a in history(db, severe)] == [("acknowledge", "王"), ("dismiss", "李")]


def test_downgrading_and_upgrading_keeps_every_row_that_hangs_on_events(county, settings, tmp_path) -> None:
    # Migrations 0007 and 0008 alter events and warnings; on SQLite that rebuilds the tables, and a rebuild
    # with foreign keys on would delete every membership, warning and decision hanging on them.
    from alembic import command
    from sqlalchemy import inspect, text

    from yuqing_core.db import upgrade
    from yuqing_core.db.migrate import alembic_config

    db = county
    load(db, settings, tmp_path, "青禾论坛", [post("1", "东坪村化工园区有异味", LEAK, NOW - timedelta(hours=1))])
    (warning,) = analyze(db, now=NOW).warnings
    decide(db, warning.id, "acknowledge", actor="王", reason="已转应急局核实")

    def counts() -> dict[str, int]:
        with db.engine.connect() as connection:
            names = [n for n in inspect(connection).get_table_names() if n != "alembic_version"]
            return {n: connection.execute(text(f"SELECT count(*) FROM {n}")).scalar_one() for n in names}

    before = counts()
    assert before["event_items"] and before["warnings"] and before["warning_actions"]
    config = alembic_config()
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        connection.commit()
    upgrade(db)
    assert counts() == before
    if db.engine.dialect.name == "sqlite":  # and the keys are back on for every later connection
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
