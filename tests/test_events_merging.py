"""Incident-level grouping: paraphrases join by the event's term profile, and events found to be one merge."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from yuqing_core.events import EventGrouper, GroupItem, Merge, NewEvent, signatures
from yuqing_core.events._minhash import jaccard_estimates

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# One happening told four ways: no two share enough characters for the MinHash rule.
SMELL = "白沙镇东坪村这两天一直有股刺鼻的怪味，像油漆又像稀释剂，晚上关着窗都能闻到，老人说喉咙发干头晕，是不是化工园区哪家厂在偷偷排放？"
LEAK = "化工园区边上的东坪村今天早上气味特别冲，好几个村民头晕想吐，有人说园区储罐漏了，白沙镇生态环境所的人已经过来取样了。"
ASK = "东坪村的刺鼻气味到底是哪来的？化工园区附近的白沙镇村民都在问，头晕恶心的老人不少，请生态环境局公开监测数据。"
REPORT = (
    "白沙镇东坪村村民反映化工园区异味，县生态环境局已在村口设监测点，初步判断为园区内一家企业储罐物料泄漏，老人头晕已送卫生院。"
)
FOLLOW_UP = "东坪村刺鼻异味续：化工园区一家企业储罐泄漏，白沙镇村民头晕，生态环境局在东坪村取样监测，气味像油漆稀释剂。"
TEA = "第五届梅岭茶文化旅游节将于本周末在梅岭茶园开幕，设置采茶体验、非遗制茶技艺展示和农特产品展销，预计吸引游客两万人次。"


def item(item_id: int, hours: float, text: str) -> GroupItem:
    return GroupItem(item_id, T0 + timedelta(hours=hours), None, "", text, "青禾论坛")


def test_the_paraphrases_are_not_near_duplicates() -> None:
    rows = signatures([SMELL, LEAK, ASK, REPORT, FOLLOW_UP])
    for index in range(len(rows)):
        assert (jaccard_estimates(rows[index], rows) < 0.2).sum() == len(rows) - 1


def test_a_paraphrase_joins_by_the_event_profile() -> None:
    grouper = EventGrouper()
    first, paraphrase, other = grouper.assign([item(1, 0, SMELL), item(2, 1, LEAK), item(3, 1, TEA)])
    assert (paraphrase.event, paraphrase.joined_by, paraphrase.matched_item_id) == (NewEvent(1), "profile", 1)
    assert paraphrase.similarity is not None and paraphrase.similarity >= grouper.profile_threshold  # type: ignore[operator]
    assert other.joined_by == "seed"
    assert first.joined_by == "seed"


def test_the_profile_rule_looks_only_within_the_profile_window() -> None:
    grouper = EventGrouper(profile_window=timedelta(hours=24))
    grouper.assign([item(1, 0, SMELL)])
    [late] = grouper.assign([item(2, 30, LEAK)])
    assert late.joined_by == "seed"


def test_a_bridging_item_merges_two_stored_events_and_the_lower_id_survives() -> None:
    grouper = EventGrouper()
    grouper.add(item(1, 0, SMELL), event_id=20)
    grouper.add(item(2, 1, LEAK), event_id=10)
    [bridge] = grouper.assign([item(3, 2, ASK)])
    assert bridge.joined_by == "profile" and bridge.event == 10
    assert [grouper.event_of(i) for i in (1, 2, 3)] == [10, 10, 10]
    [merge] = grouper.take_merges()
    assert merge == Merge(survivor=10, absorbed=20, item_id=3, reason="profile", similarity=merge.similarity)
    assert merge.similarity is not None and merge.similarity >= grouper.profile_merge_threshold
    assert grouper.take_merges() == []


def test_a_stored_event_survives_a_new_one() -> None:
    grouper = EventGrouper(profile_threshold=0.35)  # LEAK alone does not reach SMELL's event at 0.35
    grouper.add(item(1, 0, SMELL), event_id=20)
    [founder] = grouper.assign([item(2, 1, LEAK)])
    assert founder.event == NewEvent(2)
    [bridge] = grouper.assign([item(3, 2, ASK)])
    assert bridge.event == 20  # the label after the merge the item caused
    merges = grouper.take_merges()
    assert [(m.survivor, m.absorbed, m.item_id, m.reason) for m in merges] == [(20, NewEvent(2), 3, "profile")]
    assert grouper.event_of(2) == 20


def test_between_new_events_the_earlier_seed_survives_and_resolve_follows() -> None:
    grouper = EventGrouper(profile_threshold=0.35)
    first, second = grouper.assign([item(2, 1, LEAK), item(1, 0, SMELL)])
    assert (first.event, second.event) == (NewEvent(2), NewEvent(1))
    [bridge] = grouper.assign([item(3, 2, ASK)])
    [merge] = grouper.take_merges()
    assert (merge.survivor, merge.absorbed, merge.item_id) == (NewEvent(1), NewEvent(2), 3)
    assert bridge.event == NewEvent(1)
    assert {grouper.event_of(i) for i in (1, 2, 3)} == {NewEvent(1)}
    grouper.resolve({NewEvent(1): 7, NewEvent(2): 8})  # the absorbed event is ignored
    assert [grouper.event_of(i) for i in (1, 2, 3)] == [7, 7, 7]
    [later] = grouper.assign([item(4, 3, REPORT)])
    assert later.event == 7


def three_events(**options: object) -> EventGrouper:
    grouper = EventGrouper(**options)  # type: ignore[arg-type]
    grouper.add(item(1, 0, SMELL), event_id=10)
    grouper.add(item(2, 1, LEAK), event_id=20)
    grouper.add(item(4, 1.5, REPORT), event_id=30)
    return grouper


def test_an_item_tying_three_events_merges_them_all() -> None:
    grouper = three_events()
    [bridge] = grouper.assign([item(5, 2, FOLLOW_UP)])
    assert {grouper.event_of(i) for i in (1, 2, 4, 5)} == {10} == {bridge.event}
    # It joins 20 (the most similar), then folds in 30 and 10 in the order of their similarity.
    merges = grouper.take_merges()
    assert [(m.survivor, m.absorbed, m.item_id) for m in merges] == [(20, 30, 5), (10, 20, 5)]


def test_never_merge_keeps_a_split_apart_and_the_item_joins_the_better_match() -> None:
    grouper = three_events(never_merge=[(20, 30)])
    [bridge] = grouper.assign([item(5, 2, FOLLOW_UP)])
    assert [grouper.event_of(i) for i in (1, 2, 4, 5)] == [10, 10, 30, 10]  # joined 20, which merged with 10 only
    assert [(m.survivor, m.absorbed) for m in grouper.take_merges()] == [(10, 20)]
    assert bridge.event == 10


def test_never_merge_holds_through_a_third_event() -> None:
    # 10 and 30 must stay apart; the item ties all three, so once 20 and 30
    # are one event, 10 may not join it (nor the other way round).
    for options in ({"never_merge": [(10, 30)]}, {}):
        grouper = three_events(**options)
        if not options:
            grouper.forbid_merge(30, 10)
        grouper.assign([item(5, 2, FOLLOW_UP)])
        assert [grouper.event_of(i) for i in (1, 2, 4, 5)] == [10, 20, 20, 20]
        assert [(m.survivor, m.absorbed) for m in grouper.take_merges()] == [(20, 30)]
    with pytest.raises(ValueError):
        EventGrouper().forbid_merge(3, 3)


def test_merges_come_out_the_same_in_batches_as_all_at_once() -> None:
    stream = [
        item(1, 0, SMELL),
        item(9, 0.5, TEA),
        item(2, 1, LEAK),
        item(4, 1.5, REPORT),
        item(3, 2, ASK),
        item(5, 3, FOLLOW_UP),
    ]
    whole = EventGrouper(profile_threshold=0.35)
    whole.assign(stream)
    assert whole.take_merges()  # events founded apart were merged later
    expected = partition({i.item_id: whole.event_of(i.item_id) for i in stream})

    # Batch by batch, each time a fresh grouper rebuilt from "the database", which applies the merges.
    stored: dict[int, int] = {}
    for cut in ((0, 2), (2, 4), (4, 6)):
        grouper = EventGrouper(profile_threshold=0.35)
        grouper.add_many((i, stored[i.item_id]) for i in stream if i.item_id in stored)
        for assignment in grouper.assign(stream[cut[0] : cut[1]]):
            event = assignment.event
            stored[assignment.item_id] = 1000 + event.seed_item_id if isinstance(event, NewEvent) else event
        for merge in grouper.take_merges():
            survivor, absorbed = (
                1000 + m.seed_item_id if isinstance(m, NewEvent) else m for m in (merge.survivor, merge.absorbed)
            )
            stored = {item_id: survivor if event == absorbed else event for item_id, event in stored.items()}
    assert partition(stored) == expected
    assert len(expected) == 2  # the happening and the tea festival


def partition(event_of: dict[int, object]) -> set[frozenset[int]]:
    groups: dict[object, set[int]] = {}
    for item_id, event in event_of.items():
        groups.setdefault(event, set()).add(item_id)
    return {frozenset(group) for group in groups.values()}


def test_eviction_after_merges_forgets_the_old_members() -> None:
    grouper = EventGrouper()
    grouper.add(item(1, 0, SMELL), event_id=20)
    grouper.add(item(2, 1, LEAK), event_id=10)
    grouper.assign([item(3, 2, ASK)])
    assert grouper.take_merges()
    assert grouper.evict_before(T0 + timedelta(hours=1.5)) == 2
    assert grouper.event_of(1) is None and grouper.event_of(2) is None and grouper.event_of(3) == 10
    [later] = grouper.assign([item(4, 3, REPORT)])
    assert later.event == 10
    assert grouper.evict_before(T0 + timedelta(days=1)) == 2
    assert len(grouper) == 0 and not grouper._events and not grouper._founded and not grouper._by_word


def test_a_digest_of_two_stories_does_not_merge_them() -> None:
    """An item quoting two unrelated stories resembles both; the events themselves must be alike to merge."""
    grouper = EventGrouper()
    grouper.add(item(1, 0, SMELL + LEAK), event_id=10)
    grouper.add(item(2, 0, TEA + TEA.replace("第五届", "本届")), event_id=20)
    [digest] = grouper.assign([item(3, 1, "今日要闻：" + SMELL + LEAK + TEA + TEA.replace("第五届", "本届"))])
    assert digest.joined_by in ("minhash", "profile")
    assert grouper.event_of(1) != grouper.event_of(2)
    assert grouper.take_merges() == []


# --- the demo county --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_events() -> tuple[list, EventGrouper]:
    from yuqing_core.analysis.grouping import new_grouper
    from yuqing_core.demo import load_county
    from yuqing_core.demo.backlog import RISK_FILE
    from yuqing_core.demo.events import county_group_items
    from yuqing_core.risk.library import CompiledLibrary, load_library_file

    story_items = county_group_items(load_county(), CompiledLibrary(load_library_file(RISK_FILE).spec))
    grouper = new_grouper()
    for first in range(0, len(story_items), 50):
        grouper.assign([s.item for s in story_items[first : first + 50]])
    return story_items, grouper


def test_demo_county_no_event_tells_two_stories(demo_events: tuple[list, EventGrouper]) -> None:
    story_items, grouper = demo_events
    stories: dict[object, set[str]] = {}
    for s in story_items:
        if s.story:
            stories.setdefault(grouper.event_of(s.item.item_id), set()).add(s.story)
    assert stories and all(len(found) == 1 for found in stories.values())


def test_demo_county_incidents_hold_together(demo_events: tuple[list, EventGrouper]) -> None:
    story_items, grouper = demo_events
    sizes: dict[str, Counter[object]] = {}
    for s in story_items:
        if s.story:
            sizes.setdefault(s.story, Counter())[grouper.event_of(s.item.item_id)] += 1
    for story, events in sizes.items():
        largest = events.most_common(1)[0][1]
        # Most of every story is in one event (see bench/quality.py's events_per_story).
        assert largest / sum(events.values()) >= 0.7, (story, sorted(events.values(), reverse=True))
    # The odour incident whole: its rumours (工人中毒, 园区爆炸, 有毒气) and "园区围墙外…那股味道" too.
    assert len(sizes["chem-leak"]) == 1 and sum(sizes["chem-leak"].values()) == 50


def test_demo_county_every_risk_bearing_item_of_an_incident_is_in_one_event(demo_events: tuple[list, EventGrouper]) -> None:
    # What the office is warned of: the items that match a risk point. Per story they are one event.
    story_items, grouper = demo_events
    events: dict[str, set[object]] = {}
    for s in story_items:
        if s.story and any(key.startswith("@") for key in s.item.topic_keys):  # "@<risk point>": it matched one
            events.setdefault(s.story, set()).add(grouper.event_of(s.item.item_id))
    # One event per incident; wages is two: the 12345 hotline's general reply on wage claims, days before the
    # 柳湾镇 protest began, names no place and no running wage incident to belong to.
    assert {story: len(found) for story, found in events.items()} == {
        "demolition": 1, "wages": 2, "fish-kill": 1, "canteen": 1, "chem-leak": 1, "dam-rumor": 1, "accident": 1,
    }  # fmt: skip


def test_demo_county_word_counts_spare_the_grouper_a_second_segmentation(demo_events: tuple[list, EventGrouper]) -> None:
    story_items, _ = demo_events
    assert all(s.item.word_counts is not None for s in story_items)
    again = EventGrouper()
    again.assign([replace(s.item, word_counts=None) for s in story_items])  # counted by the grouper itself
    assert len(again) == len(story_items)


# --- the point rule: a placeless post of a running incident's kind ----------------------------------------


def keyed(item_id: int, hours: float, text: str, *keys: str) -> GroupItem:
    return replace(item(item_id, hours, text), topic_keys=frozenset(keys))


RUNNING = [
    keyed(1, 0, SMELL, "化工园区异味泄漏@东坪村", "@化工园区异味泄漏"),
    keyed(2, 1, LEAK, "化工园区异味泄漏@东坪村", "@化工园区异味泄漏"),
    keyed(3, 2, REPORT, "化工园区异味泄漏@东坪村", "@化工园区异味泄漏"),
]
PLACELESS = "化工园区的事有没有官方消息啊，等了一上午了"


def test_a_placeless_post_joins_the_running_incident_of_its_kind() -> None:
    grouper = EventGrouper()
    grouper.assign(RUNNING)
    [placeless] = grouper.assign([keyed(4, 5, PLACELESS, "@化工园区异味泄漏")])
    assert (placeless.event, placeless.joined_by) == (NewEvent(1), "point")
    assert grouper.take_merges() == []


def test_a_placeless_post_is_ambiguous_between_two_running_incidents() -> None:
    other = [
        keyed(10 + i, 1 + i, f"柳湾镇化工厂附近有刺鼻异味第{i}天", "化工园区异味泄漏@柳湾镇", "@化工园区异味泄漏")
        for i in range(3)
    ]
    grouper = EventGrouper()
    grouper.assign(RUNNING + other)
    [placeless] = grouper.assign([keyed(4, 5, PLACELESS, "@化工园区异味泄漏")])
    assert placeless.joined_by == "seed"


def test_the_point_rule_needs_a_running_incident_and_its_window() -> None:
    young = EventGrouper()
    young.assign(RUNNING[:2])  # two posts are not yet an incident to attach hearsay to
    assert young.assign([keyed(4, 5, PLACELESS, "@化工园区异味泄漏")])[0].joined_by == "seed"
    late = EventGrouper()
    late.assign(RUNNING)
    assert late.assign([keyed(4, 60, PLACELESS, "@化工园区异味泄漏")])[0].joined_by == "seed"  # past the 48-hour window


# --- the anchor rule: a post naming no risk point, in the words of a running incident ------------------

ODOUR = ("化工园区异味泄漏@东坪村", "@化工园区异味泄漏")
# The incident's risk-bearing posts (SMELL, LEAK, REPORT) all name 东坪村; the follow-ups below name no risk point.
FADING = "东坪村的味道下午淡了一些，但还是能闻到，希望尽快公布原因。"  # profile score 0.26: under 0.3
ORCHARD = "东坪村今年的柑橘大丰收，果园里挂满了果子，欢迎市民周末来采摘，价格实惠。"


def test_a_post_naming_the_incidents_place_with_its_words_joins_the_running_incident() -> None:
    grouper = EventGrouper()
    grouper.assign(RUNNING)
    [fading] = grouper.assign([item(4, 5, FADING)])
    assert (fading.event, fading.joined_by) == (NewEvent(1), "anchor")
    assert grouper.take_merges() == []


def test_the_incidents_place_alone_is_not_enough() -> None:
    # Same village, same day, another happening: 东坪村 is the only word it shares with the incident.
    grouper = EventGrouper()
    grouper.assign(RUNNING)
    [orchard] = grouper.assign([item(4, 5, ORCHARD)])
    assert orchard.joined_by == "seed"


def test_the_anchor_rule_needs_a_running_incident_specific_words_and_its_window() -> None:
    young = EventGrouper()
    young.assign(RUNNING[:2])  # two posts do not yet make 东坪村 the incident's word
    assert young.assign([item(4, 5, FADING)])[0].joined_by == "seed"
    late = EventGrouper()
    late.assign(RUNNING)
    assert late.assign([item(4, 30, FADING)])[0].joined_by == "seed"  # past the 24-hour profile window
    shared = EventGrouper()
    # Another event uses 东坪村 as often: the word belongs to neither, and the post is ambiguous.
    shared.assign(RUNNING + [keyed(10 + i, 1 + i, f"东坪村第{i}届村民运动会开幕，拔河跳绳比赛热闹非凡") for i in range(3)])
    assert shared.assign([item(4, 5, FADING)])[0].joined_by == "seed"
    off = EventGrouper(anchor_min_items=None)
    off.assign(RUNNING)
    assert off.assign([item(4, 5, FADING)])[0].joined_by == "seed"


# A reply names one thing of the happening: 储罐 (rare in general text), which LEAK and REPORT use.
TANK_REPLY = "听说是储罐漏了，真的假的？有没有人知道到底怎么回事啊"
TANK_ESSAY = (
    "储罐这个东西我们厂里也有，平时检修都很严格，每个月都要请第三方来检测一次，阀门和密封件也都是定期更换的，"
    "出事的概率其实很低，大家不用太紧张，等官方通报就好。"
)


def test_a_short_reply_joins_on_one_rare_word_of_the_running_incident() -> None:
    grouper = EventGrouper()
    grouper.assign(RUNNING)
    [reply] = grouper.assign([item(4, 5, TANK_REPLY)])
    assert (reply.event, reply.joined_by) == (NewEvent(1), "anchor")
    # A longer post must say two things of the happening; one member does not make a word the incident's;
    # and the short form can be turned off.
    for grouper, post in (
        (EventGrouper(), item(4, 5, TANK_ESSAY)),
        (EventGrouper(anchor_short_chars=0), item(4, 5, TANK_REPLY)),
    ):
        grouper.assign(RUNNING)
        assert grouper.assign([post])[0].joined_by == "seed"
    lone = EventGrouper()
    lone.assign(RUNNING[1:2])
    assert lone.assign([item(4, 5, TANK_REPLY)])[0].joined_by == "seed"


def test_a_post_naming_a_risk_point_is_left_to_the_rules_of_its_risk_point() -> None:
    grouper = EventGrouper()
    grouper.assign(RUNNING)
    crash = keyed(4, 5, FADING, "道路交通事故@东坪村", "@道路交通事故")  # whatever its words, another kind of happening
    assert grouper.assign([crash])[0].joined_by == "seed"


def test_an_anchor_join_keeps_an_analysts_split_apart() -> None:
    # An analyst split the incident: 10 keeps the odour reports, 20 the well-water question. The follow-up
    # joins the event whose words it uses and merges nothing, whatever else it resembles.
    grouper = EventGrouper(never_merge=[(10, 20)])
    for post in RUNNING:
        grouper.add(post, event_id=10)
    grouper.add(keyed(5, 3, "东坪村的井水还能不能喝？化工园区泄漏会不会渗到地下水，请取样检测", *ODOUR), event_id=20)
    [fading] = grouper.assign([item(4, 5, FADING)])
    assert (fading.event, fading.joined_by) == (10, "anchor")
    assert grouper.take_merges() == []
    assert [grouper.event_of(i) for i in (1, 2, 3, 5)] == [10, 10, 10, 20]


def test_anchor_joins_are_the_same_in_batches_rebuilt_or_all_at_once() -> None:
    stream = [*RUNNING, item(4, 5, FADING), item(5, 6, ORCHARD), keyed(6, 7, ASK, *ODOUR), item(7, 8, FADING + "傍晚基本散了")]
    one = EventGrouper()
    one.assign(list(reversed(stream)))
    whole = partition({post.item_id: one.event_of(post.item_id) for post in stream})
    assert {1, 2, 3, 4, 6, 7} in whole and {5} in whole
    single = EventGrouper()
    for post in stream:
        single.assign([post])
    assert partition({post.item_id: single.event_of(post.item_id) for post in stream}) == whole
    # Rebuilt per batch from what is stored (items with their topic keys and events), as the events flow does.
    stored: dict[int, int] = {}
    for batch in (stream[:4], stream[4:6], stream[6:]):
        fresh = EventGrouper()
        fresh.add_many((post, stored[post.item_id]) for post in stream if post.item_id in stored)
        for assignment in fresh.assign(batch):
            event = assignment.event
            stored[assignment.item_id] = 100 + event.seed_item_id if isinstance(event, NewEvent) else event
    assert partition(dict(stored)) == whole
