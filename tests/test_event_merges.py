"""Events found to be one are merged in the database, with an audit; analysts merge and split, and it sticks."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from helpers import add_sources
from test_analysis import LEAK, LIBRARY, NOW, library, load, post
from yuqing_core.analysis import analyze, refresh_events
from yuqing_core.analysis.merging import (
    EventNotFound,
    MergeRefused,
    merge_events,
    merge_history,
    resolve_event_id,
    separate_events,
    separations_of,
    split_event,
)
from yuqing_core.db.models import (
    Case,
    CaseEvent,
    DocumentNumber,
    EarlyWarning,
    EarlyWarningAction,
    Event,
    EventItem,
    EventMerge,
)
from yuqing_core.risk.decisions import decide
from yuqing_core.risk.versions import active_library
from yuqing_core.timeutil import utcnow

STORY = "青溪河石桥村段河面漂着一大片死鱼，岸边一股腥臭味，是不是上游哪里偷排污水了"
OTHER = "城东片区拆迁补偿标准太低，买不起同地段的房子，大家说说怎么办才好呢这个事情"
TITLE = "石桥村河段发现大量死鱼情况通报"


@pytest.fixture
def county(db, settings, tmp_path):
    add_sources(db, settings, 青禾论坛="http://example.org/bbs.xml", 江华日报="http://example.org/jh.xml",
                云江日报="http://example.org/yj.xml")  # fmt: skip
    library(db, tmp_path)
    return db


# --- merge_events --------------------------------------------------------------------------------------------


def two_leak_events(db, settings, tmp_path) -> tuple[int, int]:
    """Two events about the leak, three days apart (no rule joins them), each warned (the level as scored)."""
    load(db, settings, tmp_path, "青禾论坛", [post("1", "东坪村化工园区有异味", LEAK, NOW - timedelta(days=3))])
    analyze(db, now=NOW - timedelta(days=3) + timedelta(hours=1))
    again = "东坪村化工厂储罐又冒出刺鼻气味，好几个孩子咳嗽头晕被送医院，请环保部门马上来查，到底泄漏了什么。"
    load(db, settings, tmp_path, "青禾论坛", [post("2", "东坪村化工厂又有刺鼻味", again, NOW - timedelta(hours=1))], "b.jsonl")
    analyze(db, now=NOW)
    with db.reader() as session:
        first, second = sorted(session.scalars(select(Event.id)))
        warned = session.scalars(select(EarlyWarning.event_id)).all()
    assert sorted(warned) == [first, second]
    return first, second


def add_case(db, number: str, origin_kind: str, origin_id: int) -> None:
    with db.writer() as session:
        session.add(
            Case(
                number=number, title="核查", origin_kind=origin_kind, origin_id=origin_id, lead_unit="县应急管理局",
                co_units=[], requirement="核实", case_type="verify", time_limit={}, state="dispatched",
                created_at=NOW, created_by="王", updated_at=NOW,
            )
        )  # fmt: skip


def test_merge_moves_items_warnings_cases_and_numbers_and_writes_the_audit(county, settings, tmp_path) -> None:
    db = county
    survivor, absorbed = two_leak_events(db, settings, tmp_path)
    with db.writer() as session:  # the absorbed event was warned more severely than the survivor
        session.execute(update(EarlyWarning).where(EarlyWarning.event_id == survivor).values(level=4, effective_level=4))
        session.execute(update(EarlyWarning).where(EarlyWarning.event_id == absorbed).values(level=3, effective_level=3))
        session.add(DocumentNumber(kind="special", year=2026, subject=f"event:{absorbed}", number=7, created_at=NOW))
    add_case(db, "督〔2026〕1号", "event", absorbed)
    add_case(db, "督〔2026〕2号", "event", survivor)
    result = merge_events(db, survivor, absorbed, actor="王", note="同一次泄漏", now=NOW)

    with db.reader() as session:
        assert set(session.scalars(select(EventItem.event_id))) == {survivor}
        warnings = {(w.level, w.event_id, w.status, w.merged_into_id) for w in session.scalars(select(EarlyWarning))}
        kept = session.scalar(select(EarlyWarning.id).where(EarlyWarning.event_id == survivor))
        # One warning per incident: the survivor's carries on at the more severe level; the other points at it.
        assert warnings == {(3, survivor, "open", None), (3, absorbed, "merged", kept)}
        raised = session.scalars(select(EarlyWarningAction).where(EarlyWarningAction.warning_id == kept)).one()
        assert (raised.action, raised.from_level, raised.to_level) == ("raise", 4, 3)
        assert {c.number: c.origin_id for c in session.scalars(select(Case))} == {
            "督〔2026〕1号": survivor,
            "督〔2026〕2号": survivor,
        }
        assert [e.action for e in session.scalars(select(CaseEvent))] == ["relink"]
        assert session.scalar(select(DocumentNumber.subject)) == f"event:{survivor}"
        assert session.get(Event, absorbed).merged_into_id == survivor
        (audit,) = session.scalars(select(EventMerge))
    assert (audit.kind, audit.from_event_id, audit.into_event_id, audit.actor, audit.note) == (
        "merge",
        absorbed,
        survivor,
        "王",
        "同一次泄漏",
    )
    assert audit.item_ids == result.items_moved and len(result.items_moved) == 1
    assert result.cases_relinked == ["督〔2026〕1号"]

    # Idempotent: merging again, either way round, does nothing.
    assert merge_events(db, survivor, absorbed, actor="王", now=NOW).audit_id is None
    assert merge_events(db, absorbed, survivor, actor="王", now=NOW).audit_id is None
    # Refreshing the survivor keeps the absorbed event as a pointer, and lists only the survivor.
    refresh_events(db, active_library(db), [survivor, absorbed], now=NOW)
    with db.reader() as session:
        assert session.get(Event, absorbed) is not None and session.get(Event, survivor).item_count == 2
    assert resolve_event_id(db, absorbed) == survivor
    assert [h.kind for h in merge_history(db, absorbed)] == ["merge"]


def test_an_acknowledgement_carries_over_and_decisions_are_kept(county, settings, tmp_path) -> None:
    db = county
    survivor, absorbed = two_leak_events(db, settings, tmp_path)
    with db.reader() as session:
        ids = dict(session.execute(select(EarlyWarning.event_id, EarlyWarning.id)).all())
    decide(db, ids[absorbed], "acknowledge", actor="李", reason="已转应急局", now=NOW)
    merge_events(db, survivor, absorbed, actor="王", note="同一事件", now=NOW)
    with db.reader() as session:
        kept = session.get(EarlyWarning, ids[survivor])
        gone = session.get(EarlyWarning, ids[absorbed])
        actions = [(a.warning_id, a.action) for a in session.scalars(select(EarlyWarningAction).order_by(EarlyWarningAction.id))]
    assert (kept.status, gone.status, gone.merged_into_id) == ("acknowledged", "merged", kept.id)
    assert actions == [(gone.id, "acknowledge"), (gone.id, "merge"), (kept.id, "acknowledge")]


def test_a_chain_of_merges_resolves_to_the_final_survivor(county, settings, tmp_path) -> None:
    db = county
    first, second = two_leak_events(db, settings, tmp_path)
    load(
        db,
        settings,
        tmp_path,
        "云江日报",
        [post("3", "梅岭茶文化旅游节开幕", "青禾县第五届梅岭茶文化旅游节开幕", NOW)],
        "c.jsonl",
    )
    analyze(db, now=NOW + timedelta(hours=1))
    third = max(resolve_event_id(db, e) for e in (first, second)) + 1
    merge_events(db, second, third, actor="王", note="x", now=NOW)
    result = merge_events(db, first, third, actor="王", note="y", now=NOW)  # third is already in second: second goes
    assert (result.survivor_id, result.absorbed_id) == (first, second)
    assert resolve_event_id(db, third) == first
    with pytest.raises(MergeRefused, match=f"不能把事件 {first} 并入它自己"):
        merge_events(db, first, first, actor="王")
    with pytest.raises(EventNotFound, match="没有编号为 999 的事件"):
        merge_events(db, first, 999, actor="王")
    assert [(h.from_event_id, h.into_event_id) for h in merge_history(db, first)] == [(third, second), (second, first)]


# --- split, separations and re-analysis -----------------------------------------------------------------------


def one_event_of_three(db, settings, tmp_path) -> tuple[int, list[int]]:
    rows = [
        post(f"r{i}", "白沙镇东坪村刺鼻气味，疑似化工园区泄漏", LEAK + f"（{i}）", NOW - timedelta(hours=5 - i)) for i in range(3)
    ]
    load(db, settings, tmp_path, "青禾论坛", rows)
    analyze(db, now=NOW)
    with db.reader() as session:
        members = session.execute(select(EventItem.event_id, EventItem.item_id).order_by(EventItem.published_at)).all()
    assert len({m.event_id for m in members}) == 1
    return members[0].event_id, [m.item_id for m in members]


def test_split_moves_items_pins_them_and_keeps_the_events_apart(county, settings, tmp_path) -> None:
    db = county
    event, items = one_event_of_three(db, settings, tmp_path)
    with pytest.raises(MergeRefused, match=r"不能拆出事件 \d+ 的全部信息"):
        split_event(db, event, items, actor="王", note="x")
    with pytest.raises(MergeRefused, match="信息 999 不在事件"):
        split_event(db, event, [items[0], 999], actor="王", note="x")
    result = split_event(db, event, items[:2], actor="王", note="头两条是另一回事", now=NOW)
    refresh_events(db, active_library(db), [event, result.new_event_id], now=NOW)
    with db.reader() as session:
        membership = dict(session.execute(select(EventItem.item_id, EventItem.event_id)).all())
        pinned = dict(session.execute(select(EventItem.item_id, EventItem.pinned_by)).all())
        seeds = dict(session.execute(select(Event.id, Event.seed_item_id)).all())
    assert membership == {items[0]: result.new_event_id, items[1]: result.new_event_id, items[2]: event}
    assert pinned == {items[0]: "王", items[1]: "王", items[2]: None}
    assert seeds == {event: items[2], result.new_event_id: items[0]}  # the original re-founded by what it kept
    assert separations_of(db, event) == [(result.new_event_id, "王", "头两条是另一回事")]
    with pytest.raises(MergeRefused, match="已由 王 分开"):
        merge_events(db, event, result.new_event_id, actor="李", note="合回去")
    assert merge_events(db, event, result.new_event_id, actor="李", note="合回去", override_separation=True).audit_id
    assert separations_of(db, event) == []


def two_stored_events_and_a_bridge(db, settings, tmp_path) -> tuple[int, int, dict]:
    """Two stored events about one leak, as a grouper before merging left them, and a post tying them.

    SMELL and LEAK (tests/test_events_merging.py) join one event by their words today; the second is
    moved into an event of its own, the way the URL/title/MinHash chain alone stored them.
    """
    from test_events_merging import ASK, SMELL
    from test_events_merging import LEAK as LEAK_TOLD_AGAIN

    load(db, settings, tmp_path, "青禾论坛", [post("a", "", SMELL, NOW - timedelta(hours=6))])
    load(db, settings, tmp_path, "江华日报", [post("b", "", LEAK_TOLD_AGAIN, NOW - timedelta(hours=5))], "b.jsonl")
    analyze(db, now=NOW - timedelta(hours=4))
    with db.writer() as session:
        (first,) = session.scalars(select(Event.id))
        _, later = sorted(session.scalars(select(EventItem.item_id)))
        stamp = session.scalar(select(EventItem.published_at).where(EventItem.item_id == later))
        second = Event(seed_item_id=later, title="", first_seen_at=stamp, last_seen_at=stamp, updated_at=NOW)
        session.add(second)
        session.flush()
        session.execute(update(EventItem).where(EventItem.item_id == later).values(event_id=second.id, joined_by="seed"))
        second_id = second.id
    refresh_events(db, active_library(db), [first, second_id], now=NOW - timedelta(hours=4))
    return first, second_id, post("c", "", ASK, NOW - timedelta(hours=3))


def test_a_separation_blocks_the_automatic_merge_a_new_item_would_make(county, settings, tmp_path) -> None:
    db = county
    first, second, tie = two_stored_events_and_a_bridge(db, settings, tmp_path)
    assert separate_events(db, first, second, actor="王", note="两回事", now=NOW)
    assert not separate_events(db, second, first, actor="王", note="两回事", now=NOW)
    load(db, settings, tmp_path, "云江日报", [tie], "c.jsonl")
    summary = analyze(db, now=NOW)
    assert summary.grouped.merged == 0
    with db.reader() as session:
        assert session.scalars(select(EventMerge)).all() == []
        assert {e.id for e in session.scalars(select(Event).where(Event.merged_into_id.is_(None)))} == {first, second}


def test_grouping_merges_the_stored_events_a_new_item_ties(county, settings, tmp_path) -> None:
    db = county
    first, second, tie = two_stored_events_and_a_bridge(db, settings, tmp_path)
    load(db, settings, tmp_path, "云江日报", [tie], "c.jsonl")
    summary = analyze(db, now=NOW)
    assert summary.grouped.merged == 1
    with db.reader() as session:
        (audit,) = session.scalars(select(EventMerge))
        assert set(session.scalars(select(EventItem.event_id))) == {first}
    assert (audit.into_event_id, audit.from_event_id, audit.actor, audit.reason) == (first, second, "system", "profile")


def test_analysts_merge_and_split_survive_a_re_analysis_with_a_new_library(county, settings, tmp_path) -> None:
    db = county
    event, items = one_event_of_three(db, settings, tmp_path)
    split = split_event(db, event, items[:1], actor="王", note="第一条是旧闻", now=NOW)
    first, second = event, split.new_event_id
    load(
        db,
        settings,
        tmp_path,
        "江华日报",
        [post("x", "青禾县柳湾工地欠薪", "三十多名工人讨薪", NOW - timedelta(hours=1))],
        "x.jsonl",
    )
    analyze(db, now=NOW)
    wages = resolve_event_id(db, max(first, second) + 1)
    merge_events(db, first, wages, actor="李", note="欠薪与泄漏同一村，并案", now=NOW)

    def state() -> tuple:
        with db.reader() as session:
            return (
                sorted(tuple(r) for r in session.execute(select(EventItem.item_id, EventItem.event_id, EventItem.pinned_by))),
                sorted(tuple(r) for r in session.execute(select(Event.id, Event.merged_into_id))),
            )

    before = state()
    library(db, tmp_path, LIBRARY.replace("rules: [欠薪 | 讨薪]", "rules: [欠薪 | 讨薪 | 工人]"), "v2.yaml")
    summary = analyze(db, since=NOW - timedelta(days=1), until=NOW + timedelta(hours=1), now=NOW + timedelta(hours=1))
    assert summary.version == 2 and summary.grouped.merged == 0
    assert state() == before


# --- the command line ----------------------------------------------------------------------------------------------


def test_cli_merge_split_show_and_list(env_settings, county, tmp_path) -> None:
    from click.testing import CliRunner

    from yuqing_core.cli import main

    db = county
    runner = CliRunner()
    now = utcnow()
    rows = [
        post(f"r{i}", "白沙镇东坪村刺鼻气味，疑似化工园区泄漏", LEAK + f"（{i}）", now - timedelta(hours=5 - i)) for i in range(3)
    ]
    rows.append(
        post(
            "t", "青禾县梅岭茶文化旅游节开幕", "青禾县第五届梅岭茶文化旅游节在梅岭乡开幕，游客体验采茶", now - timedelta(hours=1)
        )
    )
    load(db, env_settings, tmp_path, "青禾论坛", rows)
    analyze(db, now=now)
    with db.reader() as session:
        members = session.execute(select(EventItem.event_id, EventItem.item_id).order_by(EventItem.published_at)).all()
    leak, tea = members[0].event_id, members[-1].event_id
    leak_items = [m.item_id for m in members if m.event_id == leak]

    merged = runner.invoke(main, ["events", "merge", str(leak), str(tea), "--note", "演示合并", "--by", "王"])
    assert merged.exit_code == 0, merged.output
    assert f"事件 #{tea} 已并入事件 #{leak}：1 条信息" in merged.output
    again = runner.invoke(main, ["events", "merge", str(leak), str(tea), "--note", "再来", "--format", "jsonl"])
    assert json.loads(again.output)["merge_id"] is None
    itself = runner.invoke(main, ["events", "merge", str(leak), str(leak), "--note", "x"])
    assert itself.exit_code == 1 and f"不能把事件 {leak} 并入它自己" in itself.output

    shown = runner.invoke(main, ["events", "show", str(tea)])
    assert shown.exit_code == 0, shown.output
    assert f"事件 #{tea} 已并入事件 {leak}" in shown.output and f"事件 #{leak}：" in shown.output
    assert f"王：事件 #{tea} 并入事件 #{leak}（分析员合并；1 条信息） 说明：演示合并" in shown.output
    listed = runner.invoke(main, ["events", "list", "--format", "jsonl"])
    assert [json.loads(line)["event_id"] for line in listed.output.splitlines()] == [leak]

    split = runner.invoke(
        main, ["events", "split", str(leak), "--items", f"{leak_items[0]},{leak_items[1]}", "--note", "另一回事", "--by", "李"]
    )
    assert split.exit_code == 0, split.output
    new = resolve_event_id(db, max(leak, tea) + 1)
    assert f"已从事件 #{leak} 拆出信息 #{leak_items[0]}、#{leak_items[1]}，另立事件 #{new}" in split.output
    shown = runner.invoke(main, ["events", "show", str(leak)]).output
    assert f"李：从事件 #{leak} 拆出信息" in shown and f"不与事件 #{new} 合并（李：另一回事）" in shown
    refused = runner.invoke(main, ["events", "merge", str(leak), str(new), "--note", "合回"])
    assert refused.exit_code == 1 and "已由 李 分开" in refused.output and "Traceback" not in refused.output
    bad = runner.invoke(main, ["events", "split", str(leak), "--items", "a,b", "--note", "x"])
    assert bad.exit_code == 1 and "--items 应为逗号分隔的信息编号" in bad.output


def test_an_event_holding_hand_placed_items_is_never_absorbed_by_the_system(county, settings, tmp_path) -> None:
    db = county
    first, second, tie = two_stored_events_and_a_bridge(db, settings, tmp_path)
    with db.writer() as session:
        session.execute(update(EventItem).where(EventItem.event_id == second).values(pinned_by="王"))
    with pytest.raises(MergeRefused, match=f"事件 {second} 含分析员手工归入的信息"):
        merge_events(db, first, second, actor="system", reason="minhash")
    load(db, settings, tmp_path, "云江日报", [tie], "c.jsonl")
    assert analyze(db, now=NOW).grouped.merged == 0
    assert merge_events(db, first, second, actor="王", note="确是一件事", now=NOW).audit_id is not None


def test_a_report_on_a_merged_event_is_on_its_survivor(county, settings, tmp_path) -> None:
    from yuqing_core.reports.data import build_special_report

    db = county
    survivor, absorbed = two_leak_events(db, settings, tmp_path)
    before = build_special_report(db, settings, event_id=absorbed, now=NOW)
    merge_events(db, survivor, absorbed, actor="王", note="同一事件", now=NOW)
    refresh_events(db, active_library(db), [survivor], now=NOW)
    after = build_special_report(db, settings, event_id=absorbed, now=NOW)
    assert after.subject == f"事件 #{survivor}" and after.items == 2
    assert after.number == before.number  # the number issued for the absorbed event passed to the survivor


def test_items_never_go_to_an_event_merged_while_their_batch_was_grouped(county, settings, tmp_path, monkeypatch) -> None:
    import yuqing_core.analysis.grouping as grouping

    db = county
    survivor, absorbed = two_leak_events(db, settings, tmp_path)
    real = grouping._never_merge

    def analyst_merges_meanwhile(db_, event_ids):  # after the batch read its index, before it writes
        merge_events(db, survivor, absorbed, actor="王", note="同一事件", now=NOW)
        return real(db_, event_ids)

    monkeypatch.setattr(grouping, "_never_merge", analyst_merges_meanwhile)
    repost = post("3", "东坪村化工厂又有刺鼻味", "今天又闻到了", NOW - timedelta(minutes=30))  # same title as the absorbed one's
    load(db, settings, tmp_path, "江华日报", [repost], "c.jsonl")
    analyze(db, now=NOW)
    with db.reader() as session:
        assert set(session.scalars(select(EventItem.event_id))) == {survivor}
