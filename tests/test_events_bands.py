"""The band index of the grouper (``_bands.BandIndex``) against a plain dict of slot lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from yuqing_core.events import EventGrouper, GroupItem
from yuqing_core.events._bands import BandIndex
from yuqing_core.events._minhash import band_keys

WIDTH = 4  # keys per item (bands)
# Few distinct keys, so that keys are shared by several slots and a slot's pairs sit in several runs.
KEYS = st.integers(min_value=0, max_value=40).map(lambda key: key * 0x9E3779B97F4A7C15 % 2**64)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.lists(KEYS, min_size=WIDTH, max_size=WIDTH)),
        st.tuples(st.just("insert_many"), st.lists(st.lists(KEYS, min_size=WIDTH, max_size=WIDTH), max_size=6)),
        st.tuples(st.just("remove"), st.integers(min_value=0, max_value=10**6)),
        st.tuples(st.just("seal"), st.none()),
    ),
    max_size=60,
)


class Reference:
    """What the grouper's dict of lists held: key -> slots, with slots reused LIFO as ``_SignatureStore`` does."""

    def __init__(self) -> None:
        self.keys_of: dict[int, list[int]] = {}
        self.free: list[int] = []
        self.next = 0

    def take_slot(self, keys: list[int]) -> int:
        if self.free:
            slot = self.free.pop()
        else:
            slot, self.next = self.next, self.next + 1
        self.keys_of[slot] = keys
        return slot

    def release(self, slot: int) -> list[int]:
        self.free.append(slot)
        return self.keys_of.pop(slot)

    def lookup(self, keys: list[int]) -> set[int]:
        wanted = set(keys)
        return {slot for slot, held in self.keys_of.items() if wanted & set(held)}

    def pairs(self) -> int:
        return sum(len(keys) for keys in self.keys_of.values())


def found(index: BandIndex, keys: list[int]) -> set[int]:
    sealed = index.lookup_sealed(np.array([keys], dtype=np.uint64))[0]
    return set(sealed) | index.lookup(keys)


@given(OPERATIONS, st.lists(st.lists(KEYS, min_size=WIDTH, max_size=WIDTH), min_size=1, max_size=5))
def test_the_runs_find_exactly_what_a_dict_of_lists_finds(operations, queries) -> None:
    index, reference = BandIndex(), Reference()
    for operation, argument in operations:
        if operation == "insert":
            index.insert(argument, reference.take_slot(argument))
        elif operation == "insert_many" and argument:
            slots = [reference.take_slot(keys) for keys in argument]
            index.insert_many(np.array(argument, dtype=np.uint64), np.array(slots, dtype=np.int32))
        elif operation == "remove" and reference.keys_of:
            # The grouper removes an item with the keys of its signature row, before its slot is reused.
            slot = sorted(reference.keys_of)[argument % len(reference.keys_of)]
            keys = reference.release(slot)
            index.remove(np.array([keys], dtype=np.uint64), np.array([slot], dtype=np.int32))
        elif operation == "seal":
            index.seal()
        assert len(index) == reference.pairs()
        for keys in [*queries, *reference.keys_of.values()]:
            assert found(index, keys) == reference.lookup(keys)


def test_runs_stay_few_and_removed_pairs_are_dropped() -> None:
    index = BandIndex()
    rng = np.random.default_rng(7)
    batches = [rng.integers(0, 2**63, size=(50, WIDTH), dtype=np.uint64) for _ in range(64)]
    for number, keys in enumerate(batches):
        for row, slot in zip(keys.tolist(), range(number * 50, number * 50 + 50), strict=True):
            index.insert(row, slot)
        index.seal()
    assert len(index) == 64 * 50 * WIDTH
    # Runs merge while the older is at most twice the newer: about log2(64) of them, not 64.
    assert len(index._runs) <= 7
    assert [set(slots) for slots in index.lookup_sealed(batches[3][:2])] == [{150}, {151}]
    everything = np.concatenate(batches)
    index.remove(everything[:2500], np.arange(2500, dtype=np.int32))
    assert len(index) == (64 * 50 - 2500) * WIDTH
    # A run more than half dead is compacted: the arrays hold hardly more than the live pairs.
    held = sum(len(run) for run in index._runs)
    assert held < 2 * len(index)
    assert [set(slots) for slots in index.lookup_sealed(everything[2499:2501])] == [set(), {2500}]


T0 = datetime(2026, 11, 27, 8, tzinfo=UTC)
STORY = "青溪河石桥村段河面漂着一大片死鱼，岸边一股腥臭味，是不是上游哪里偷排污水了，环保部门快来看看"
OTHER = "梅岭乡第五届茶文化旅游节今天开幕，游客在茶园体验采茶制茶，还有山歌对唱和农产品展销"


def test_an_evicted_items_band_keys_do_not_follow_its_slot_to_the_next_item() -> None:
    grouper = EventGrouper()
    grouper.assign([GroupItem(1, T0, None, "", STORY, "青禾论坛")])
    row = grouper.signature_of(1)
    assert row is not None
    story_keys = band_keys(row[None, :], grouper.bands, grouper.rows_per_band)
    slot = grouper._entries[1].slot
    # The sealed runs hold item 1's keys under its slot, one pair a band.
    assert grouper._bands.lookup_sealed(story_keys) == [[slot] * grouper.bands]
    assert grouper.evict_before(T0 + timedelta(hours=1)) == 1
    # The next item takes the freed slot; the story's keys must not lead to it.
    grouper.assign([GroupItem(2, T0 + timedelta(hours=2), None, "", OTHER, "江华日报")])
    assert grouper._entries[2].slot == slot
    assert grouper._bands.lookup_sealed(story_keys) == [[]]
    repost = GroupItem(3, T0 + timedelta(hours=3), None, "", "转发：" + STORY, "青禾吧")
    assert grouper.assign([repost])[0].joined_by == "seed"
