"""How the grouper stores its items compactly: signature rows in blocks, term vectors packed as numbers."""

from __future__ import annotations

from array import array

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from yuqing_core.events._grouping import _packed_norm2, _packed_weight, _SignatureStore, _Terms, _Vocabulary


@given(st.lists(st.one_of(st.just(None), st.integers(min_value=0, max_value=5000)), max_size=80), st.data())
def test_the_signature_store_gives_back_each_slots_row_across_blocks(operations, data) -> None:
    """Rows put into the grouper's signature store come back by slot (one or many, from any blocks), also
    after their slots were released and given to other rows."""
    store = _SignatureStore(num_perm=4)
    held: dict[int, np.ndarray] = {}
    next_value = 0
    for operation in operations:
        if operation is not None and held:
            released = sorted(held)[operation % len(held)]
            store.release(released)
            del held[released]
            continue
        # Enough new rows to spill into the next block now and then.
        for _ in range(data.draw(st.integers(min_value=1, max_value=700))):
            row = np.arange(next_value, next_value + 4, dtype=np.uint32)
            next_value += 4
            held[store.put(row)] = row
    slots = data.draw(st.lists(st.sampled_from(sorted(held)), max_size=30)) if held else []
    gathered = store.gather(slots)
    assert gathered.shape == (len(slots), 4)
    for slot, row in zip(slots, gathered, strict=True):
        assert (row == held[slot]).all() and (store.row(slot) == held[slot]).all()
    assert len(store.blocks) <= len(store.owners) // 1024 + 1


WORDS = st.text(alphabet="青溪河石桥村死鱼化工园区泄漏", min_size=1, max_size=4)


@given(st.lists(st.lists(st.tuples(WORDS, st.integers(min_value=1, max_value=1000)), max_size=24), max_size=8))
def test_a_packed_term_vector_gives_back_its_words_weights_evidence_and_length(vectors) -> None:
    """Packing through one vocabulary keeps each vector's words (in order), weights, evidence count and
    squared length, and finds a word's weight by its id; words shared by vectors get one id."""
    vocabulary = _Vocabulary()
    packed_vectors = []
    for pairs in vectors:
        unique = dict(pairs)  # a term vector names a word once
        words, weights = tuple(unique), list(unique.values())
        evidence = len(words) // 2
        norm2 = sum(weight * weight for weight in weights)
        terms = _Terms(words, array("H", weights), evidence, norm2)
        packed = vocabulary.pack(terms)
        packed_vectors.append((packed, words, weights, evidence, norm2))
    for packed, words, weights, evidence, norm2 in packed_vectors:
        assert vocabulary.unpack(packed) == (list(words), weights, evidence, norm2)
        assert _packed_norm2(packed) == norm2
        for word, weight in zip(words, weights, strict=True):
            assert _packed_weight(packed, vocabulary.ids[word]) == weight
        absent = [word_id for word, word_id in vocabulary.ids.items() if word not in words]
        assert all(_packed_weight(packed, word_id) is None for word_id in absent)
    assert len(vocabulary.words) == len(vocabulary.ids) == len({word for _, words, *_ in packed_vectors for word in words})
    assert all(vocabulary.words[word_id] == word for word, word_id in vocabulary.ids.items())


def test_words_too_common_to_list_their_holders_group_the_demo_county_as_listed_ones(monkeypatch) -> None:
    """A word held by more events than ``_UNLISTED_ABOVE`` keeps no list of them, and one is made again from
    the profile window when its count falls back within ``profile_max_events``: with almost no word listed,
    the demo county's items go to the same events, joined by the same rules, with the same merges."""
    from yuqing_core.analysis.grouping import new_grouper
    from yuqing_core.demo import load_county
    from yuqing_core.demo.backlog import RISK_FILE
    from yuqing_core.demo.events import county_group_items
    from yuqing_core.events import _grouping
    from yuqing_core.risk.library import CompiledLibrary, load_library_file

    items = [story.item for story in county_group_items(load_county(), CompiledLibrary(load_library_file(RISK_FILE).spec))]

    def grouped() -> tuple[list[object], list[object], list[object]]:
        grouper = new_grouper()
        assignments: list[object] = []
        merges: list[object] = []
        for first in range(0, len(items), 50):
            assignments += grouper.assign(items[first : first + 50])
            merges += grouper.take_merges()
        return assignments, merges, [grouper.event_of(item.item_id) for item in items]

    listed = grouped()
    assert {assignment.joined_by for assignment in listed[0]} >= {"profile", "anchor"}  # type: ignore[attr-defined]
    monkeypatch.setattr(_grouping, "_UNLISTED_ABOVE", 1)
    assert grouped() == listed
