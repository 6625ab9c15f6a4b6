"""Incremental grouping of items into events (one incident, one event): same URL, same title,
near-duplicate text, similar words, or the same topic; and merges of events found to be one.

Each new item is tried against the items already indexed and published
within ``window`` of it (in either direction), in a fixed chain:

1. ``url`` — the same ``canonical_url``;
2. ``thread`` — the item answers or forwards an indexed item (its
   ``in_reply_to`` is that item's ``canonical_url``: a comment, a reply, a
   repost whose source names the post), an indexed item answers or
   forwards it, or both answer the same post (not indexed: out of the
   window, or not collected). A reaction ("[威武]", "求真相", "转发微博") seldom repeats the
   words of the post it reacts to, so only the thread can place it, and the
   thread is what the platform says, not a guess. A thread ties at any
   age (no ``window``: a comment a month late is still about its post).
   On the public evaluation set (``bench/quality.py``) threads raise the
   gold rows' B-cubed F1 from 0.404 to 0.897 on the test half (dev: 0.485
   to 0.846) and pull in no unrelated post;
3. ``title`` — the same ``title_key``. When the item's text is long enough
   to compare (``min_text_chars``) and some same-titled items' texts are
   too, only those whose estimated Jaccard similarity to it reaches
   ``title_min_similarity`` (default 0.2) count, and the others (short
   texts) do not, so a short post cannot bridge two unrelated long ones.
   The shared title alone and a stock phrase or two ("请广大群众不信谣、
   不传谣") give unrelated texts about 0.1; reposts under the same title
   score 0.5 and up. This keeps short, common headlines ("有关部门管管吧")
   from chaining unrelated posts. A title equal to the item's source name
   does not count, since some feeds title every entry with their own name;
4. ``minhash`` — an item whose ``event_text`` signature shares an LSH band
   with the item's and whose estimated Jaccard similarity is at least
   ``threshold``; items whose event text is shorter than ``min_text_chars``
   take no part (too few grams for a trustworthy estimate);
5. ``profile`` — the event whose term profile is most like the item's words
   (TDT-style single-pass clustering), at least ``profile_threshold``.
   An item's term vector is its ``PROFILE_WORDS`` heaviest jieba words
   (``GroupItem.word_counts``, as the match step stores them) weighted by
   (1 + ln count) x idf, idf from jieba's bundled table (a fixed
   general-corpus statistic, so every run weighs words alike), scaled to
   a unit vector of integers. An event's profile is the sum of the vectors
   of its members published within ``profile_window`` (24 hours) of the
   item: a sliding window, so a profile follows the happening as it moves
   on, and integer sums, so adding, removing and merging members in any
   order give the same profile. The score is the cosine of the item's
   vector and the profile, counting in the dot product only the item's
   evidence words: words of idf >= ``profile_min_idf`` (rare in general
   Chinese: places, names, what happened) that at most
   ``profile_max_events`` events in the window hold (a word on every
   event's lips, say 疫情 in a pandemic, ties nothing), and at least
   ``profile_min_shared`` of them. Items too short for the MinHash rule
   take no part here either;
6. ``topic`` — an item sharing a topic key (a risk point at a specific
   place, from the caller) within ``topic_window`` (48 hours);
7. ``point`` — an item that names a risk point but no specific place (a
   caller's key ``@<risk point>`` and no ``point@place`` key: "化工园区的事
   有没有官方消息") joins the event that holds at least
   ``point_min_items`` (3) and ``point_min_share`` (three quarters) of the
   indexed items of that risk point within ``topic_window``: while one
   incident of a kind is running, a placeless post of that kind is about
   it, as an analyst would read it; with two running (two accidents in
   two towns) it is ambiguous and founds its own event. This rule never
   merges events;
8. ``anchor`` — an item that names no risk point (no ``@<risk point>``
   key: "东坪村的味道下午淡了一些") joins the running incident whose
   anchor words it uses. A word anchors an event when it is an evidence
   word (as for ``profile``: rare in general text) that at least
   ``anchor_min_items`` (3) of the event's members in the profile window
   use, and at least ``anchor_min_share`` (three quarters) of all the
   members of any event in that window that use it: the word is specific
   to that happening right now (a village, a company, what happened
   there), whatever it means elsewhere. The item needs
   ``anchor_min_shared`` (2) distinct anchors of the event -- a word inside
   another (园区 in 化工园区) counts with it, and the specific places the
   event's members name in their topic keys (``化工园区异味泄漏@东坪村``)
   count once together (a road repair between 石桥村 and 凤鸣水库 names
   where a dam rumour ran, not what it said) -- or one such place while the event is a
   running risk incident (``point_min_items`` of its members in the
   profile window name a risk point); and, as textual support, a profile
   score (as for ``profile``: on at least ``profile_min_shared`` shared
   evidence words, so never on one word) of at least ``anchor_min_similarity`` (0.2,
   against 0.3 for a ``profile`` join). One word held by two events alike
   anchors neither; the figures veto applies. A short post (event text
   under ``anchor_short_chars``, 60 characters: a reply, a comment, a
   one-line repost such as "不是广汉，辟谣了" or "韩庚在你身边") names one
   thing of the happening and cannot share two evidence words with it;
   when the rule finds nothing for it, one anchor suffices, with no
   profile score, if that word is rarer in general text than evidence
   words must be (idf >= ``anchor_short_min_idf``, 9: 伴娘, 救护车, a
   name), is used by at least ``anchor_short_min_items`` (2) members (a
   post and its first echo) and is not one of the event's places (a place
   says where, not what: "东坪村的柑橘大丰收" is not the odour incident).
   On the public evaluation set's dev half this raised the gold rows'
   B-cubed F1 from 0.459 to 0.485 (unrelated posts pulled in 0.61% ->
   0.73%; ``bench/quality.py``, measured with no thread known). This rule never merges events;
9. otherwise the item founds a new event (``seed``).

Figures. Templated series posts (a daily 疫情通报, "11月23日全县新增病例5例，
在院治疗12例…" and the next day's "11月24日…2例，在院治疗11例…") are near-duplicates
in their characters and their words, yet each day is its own happening.
So the ``title`` (where texts are compared), ``minhash`` and ``profile``
rules do not tie an item to an indexed item (for ``profile``: to an event,
by the numbers its members in the profile name) when both name at least
``numbers_min_compared`` (3) distinct numbers (``numbers_of`` its cleaned
title and body: digit runs, so counts, dates and times) and the side naming
fewer shares under ``numbers_min_share`` (half) of them with the other. A
repost names the same figures and still joins; a post with one or two
numbers (a follow-up's "排查出隐患点位9处") is not judged by them at all.
``numbers_min_compared=None`` turns this off.

The first rule that finds anything decides the join. Within a rule the
candidate with the highest similarity wins (for ``url``, ``thread``,
``title`` and ``topic`` the closest in time), then the one closest in time, then the
lowest item id (for ``profile``: the event last active).

Merges. The item's evidence may tie it to more events than the one it
joins: every other event with an item of the same url, of the same thread, of the same title
with compared texts, a minhash candidate, a profile score of at least
``profile_merge_threshold``, or a shared topic key. Such an event is the
same happening, and is merged into the joined one, provided the two
events' own profiles have a cosine of at least ``merge_min_similarity``
(an item can resemble two unrelated events at once, e.g. a digest
quoting both stories; then the events are not alike), and provided
``never_merge`` does not keep them apart: pairs of stored event ids an
analyst split, never brought into one event, also not through a third
(each event carries the stored ids folded into it). The survivor of a
merge is a stored event (``int``) over a new one, the lower id between
two stored ones, the earlier seed ``(published_at, item id)`` between two
new ones; ``take_merges`` reports each merge, ``event_of`` gives every
indexed item's event after merges, and ``Assignment.event`` is the item's
event when it was assigned (after the merges it caused). Without
profiles (``profile_threshold=None``) nothing is merged.

The LSH index is our own banding over the signatures with datasketch's
parameters: ``MinHashLSH(threshold, num_perm)`` chooses ``b`` bands of
``r`` rows (``datasketch.lsh._optimal_param``, 25 x 5 for 0.5 and 128), and
we read ``b`` and ``r`` off such an index. Two items are LSH candidates
exactly when they agree on all ``r`` values of at least one band, as in
``MinHashLSH.query``; the band is looked up by a 64-bit hash of its values
(``_minhash.band_keys``), one index for all bands, instead of datasketch's
per-band dict of sets keyed by the band's bytes. Hash collisions can only
add candidates, and every candidate is verified by its Jaccard estimate.
The index (``_bands.BandIndex``) holds (key, signature slot) pairs in
sorted numpy runs, 12 bytes a pair, where a dict of Python ints took about
80: a batch's own inserts wait in a small dict until ``assign`` returns,
every item of a batch is looked up in the runs at once, and ``add_many``
loads its items as one run. Measured in ``bench/events.py``: index loading
about 2.4 times as fast as ``MinHashLSH`` with dict storage, and under
half its memory per item with our signatures included; a test
checks that both return the same candidates.

Memory. The index is meant to hold a million items (``bench/events.py``,
``index_mib_at_scale``), so per-item Python objects are kept few and small:
an event with one member in its profile (most events) reads that member's
term vector instead of holding dicts of its own (``_EventRef.solo``; the
dicts of the others are a ``_Sums`` apart), keeps no member dict, and, founded
in memory, no ``NewEvent`` (its label is made from its seed); an entry keeps
its term vector as one array of 4-byte numbers (word ids of a per-grouper
``_Vocabulary``, weights) and drops it when it leaves the profile window;
one ``(timestamp, item_id)`` tuple per entry serves both expiry heaps and
its event's ``latest``; url and title keys are bytes; a key held by one item
maps to its id, not to a list; a word held by more than ``_UNLISTED_ABOVE``
events keeps no list of them (``_Holders``); the signature rows sit in
blocks of 1,024, not in a matrix grown by copying.

Processing order is ``(published_at, item_id)``, whether the items come in
one ``assign`` call or several, and every rule looks only within its
window (profiles drop members as the items being assigned move past
them). So grouping in batches gives the same events (after merges) as
grouping all at once, also when the index is rebuilt between batches from
stored signatures and word counts (``add_many``, with the merges applied
to the stored events) or evicted up to the earliest upcoming
``published_at`` minus ``window``; the tests hold us to that. Items
arriving late (published before items already assigned) are grouped
against profiles that may already have dropped members of their time.
"""

from __future__ import annotations

import heapq
import math
import sys
from array import array
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import repeat
from typing import TypeVar

import numpy as np

from yuqing_core.events._bands import BandIndex, file_under
from yuqing_core.events._hotwords import count_words, idf_table
from yuqing_core.events._minhash import (
    SIGNATURE_DTYPE,
    SIGNATURE_SCHEME_VERSION,
    band_keys,
    jaccard_estimates,
    signatures,
)
from yuqing_core.events._normalize import (
    canonical_url,
    clean_title,
    event_text_and_numbers_of_clean,
    title_key,
    title_key_of_clean,
)

JOINED_BY_URL = "url"
JOINED_BY_THREAD = "thread"
JOINED_BY_TITLE = "title"
JOINED_BY_MINHASH = "minhash"
JOINED_BY_PROFILE = "profile"
JOINED_BY_TOPIC = "topic"
JOINED_BY_POINT = "point"
# A topic key naming a risk point alone (no place): ``@化工园区异味泄漏``; see the ``point`` rule.
POINT_KEY_PREFIX = "@"
JOINED_BY_ANCHOR = "anchor"
JOINED_BY_SEED = "seed"

# An item's term vector keeps its heaviest words only, weights scaled to
# integers: profiles are sums of integers, so adding, removing and merging
# members in any order gives exactly the same profile (batches == all at once).
PROFILE_WORDS = 24
PROFILE_SCALE = 1000


@dataclass(frozen=True, slots=True)
class GroupItem:
    """An item as the grouper sees it.

    ``signature`` is the item's MinHash row (``uint32``, ``num_perm`` long)
    if the caller stored one (``signature_from_bytes``); otherwise the
    grouper computes it from ``event_text(title, text)``.

    ``topic_keys`` name the happening the item is about as the caller sees
    it, e.g. ``{"化工园区异味泄漏@东坪村"}`` (a risk point it matched and a
    specific place it names); items sharing a key within ``topic_window``
    join one event even when their wording differs (the last rule of the
    chain).

    ``word_counts`` are the item's jieba word counts, the ``"words"`` of
    ``count_words([f"{title} {text}"])`` (the analyze stage stores them per
    item); the grouper counts them itself where they are None.

    ``in_reply_to`` is the URL of the post this item comments on, replies to
    or forwards, where its source says so (``items.in_reply_to``): the
    ``thread`` rule puts it in that post's event.
    """

    item_id: int
    published_at: datetime
    url: str | None
    title: str
    text: str
    source: str
    signature: np.ndarray | None = field(default=None, compare=False, repr=False)
    topic_keys: frozenset[str] = field(default=frozenset(), compare=False)
    word_counts: Mapping[str, int] | None = field(default=None, compare=False, repr=False)
    in_reply_to: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event founded in this batch by ``seed_item_id``; it has no database id yet."""

    seed_item_id: int


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where one item went and why.

    ``joined_by`` is ``'url'``, ``'thread'``, ``'title'``, ``'minhash'``, ``'profile'``,
    ``'topic'``, ``'point'``, ``'anchor'`` or ``'seed'``; ``matched_item_id`` is the indexed item it was
    joined through (None for a seed; for ``'profile'`` the event's latest
    item); ``similarity`` is the estimated Jaccard similarity for
    ``'minhash'`` joins, the profile score for ``'profile'`` joins, else
    None. ``event`` is the item's event when it was assigned, after the
    merges it caused; later merges are followed by ``EventGrouper.event_of``.
    """

    item_id: int
    event: int | NewEvent
    joined_by: str
    similarity: float | None
    matched_item_id: int | None


EventLabel = int | NewEvent


@dataclass(frozen=True, slots=True)
class Merge:
    """Two events found to be one: ``absorbed`` was folded into ``survivor`` because of ``item_id``.

    ``reason`` is the rule whose evidence tied the item to the absorbed
    event (``'url'``, ``'thread'``, ``'title'``, ``'minhash'`` or ``'profile'``, as in
    ``Assignment.joined_by``); ``similarity`` its score (Jaccard estimate
    for ``'minhash'``, profile similarity for ``'profile'``; for ``'title'``
    the Jaccard estimate where the texts were compared), else None.
    """

    survivor: EventLabel
    absorbed: EventLabel
    item_id: int
    reason: str
    similarity: float | None


class _Sums:
    """The profile sums of an event with two or more members in its profile (``_EventRef``)."""

    __slots__ = ("holders", "norm2", "numbers", "places", "pointed", "profile")

    def __init__(self) -> None:
        self.profile: dict[str, int] = {}
        self.norm2 = 0
        # number -> how many members in the profile name it
        self.numbers: dict[str, int] = {}
        self.holders: dict[str, int] = {}
        self.pointed = 0
        self.places: dict[str, int] = {}


# The sums of an event with none of its own (none or one member in its profile); never written to.
_NO_SUMS = _Sums()


class _EventRef:
    """One event in the index: its label, live members and term profile; shared by its items' entries.

    ``sums.profile`` is the sum of the term vectors of the members still
    within the profile window, ``sums.norm2`` its exact squared length;
    ``sums.holders`` counts those members per evidence word they use,
    ``sums.pointed`` those naming a risk point, ``sums.places`` those
    naming each specific place in a topic key (the ``anchor`` rule). While
    one member alone is in the profile (most events: a post nobody
    repeated), ``solo`` is that member and those sums are its own vector,
    numbers and keys, read through ``_weight``, ``_held``, ``_numbers``,
    ``_norm2`` and ``_places``; ``sums`` is then the shared empty
    ``_NO_SUMS`` (``_materialize`` gives an event sums of its own). ``ids``
    are the stored event ids folded into this event (for ``never_merge``);
    ``seed`` orders events founded in memory (survivor rule); ``latest`` is
    the member last in ``(published_at, item_id)``. An event absorbed by
    another points at it with ``alias``.

    Most events have one member, so the record is kept small: the sums
    live apart, and an event founded in memory holds no ``NewEvent`` (its
    ``label`` is made from ``seed`` when asked for).
    """

    __slots__ = ("alias", "ids", "latest", "members", "seed", "solo", "stored_id", "sums")

    def __init__(self, label: EventLabel, seed: tuple[float, int] | None = None) -> None:
        # The database id; None for an event founded in memory and not yet resolved (``NewEvent(seed[1])``).
        self.stored_id: int | None = None
        if isinstance(label, int):
            self.stored_id = label
        else:
            assert seed is not None and seed[1] == label.seed_item_id, "a new event's seed is its seed item's order"
        # The member ids once the event has two; None while ``latest`` is its only member (or it has none).
        self.members: dict[int, None] | None = None
        self.solo: _Entry | None = None
        self.sums = _NO_SUMS
        self.ids: tuple[int, ...] = (label,) if isinstance(label, int) else ()
        self.seed = seed
        self.latest: tuple[float, int] | None = None
        self.alias: _EventRef | None = None

    @property
    def label(self) -> EventLabel:
        if self.stored_id is not None:
            return self.stored_id
        assert self.seed is not None
        return NewEvent(self.seed[1])

    @property
    def size(self) -> int:
        if self.members is not None:
            return len(self.members)
        return 0 if self.latest is None else 1

    def member_ids(self) -> list[int]:
        if self.members is not None:
            return list(self.members)
        return [] if self.latest is None else [self.latest[1]]

    def add_member(self, order: tuple[float, int]) -> None:
        """Count in a member, given as its ``(timestamp, item_id)``."""
        latest = self.latest
        if latest is None:
            self.members, self.latest = None, order
            return
        if self.members is None:
            self.members = {latest[1]: None}
        self.members[order[1]] = None
        if order > latest:
            self.latest = order

    def live(self) -> _EventRef:
        ref = self
        while ref.alias is not None:
            ref = ref.alias
        return ref


class _Entry:
    __slots__ = (
        "event",
        "in_lsh",
        "in_profile",
        "item_id",
        "numbers",
        "order",
        "parent_key",
        "slot",
        "terms",
        "timestamp",
        "title_key",
        "topic_keys",
        "url_key",
    )  # fmt: skip

    def __init__(
        self,
        item_id: int,
        timestamp: float,
        event: _EventRef,
        url_key: bytes | None,
        title_key: bytes | None,
        slot: int,
        in_lsh: bool,
        topic_keys: frozenset[str] = frozenset(),
        terms: array[int] | None = None,
        numbers: frozenset[str] = frozenset(),
        parent_key: bytes | None = None,
        order: tuple[float, int] | None = None,
    ) -> None:
        self.item_id = item_id
        self.timestamp = timestamp
        # (timestamp, item_id): one tuple shared by both expiry heaps, the event's latest and its seed.
        self.order = order or (timestamp, item_id)
        self.event = event
        self.url_key = url_key
        self.parent_key = parent_key
        self.title_key = title_key
        self.slot = slot
        self.in_lsh = in_lsh
        self.topic_keys = topic_keys
        # A tuple of interned strings: a frozenset of a few short strings is several times its size.
        self.numbers: tuple[str, ...] = tuple(map(sys.intern, numbers)) if numbers else ()
        # Its term vector packed (``_Vocabulary.pack``) while it is in the profile window, else _NO_TERMS.
        self.terms: array[int] = terms if terms else _NO_TERMS
        self.in_profile = False


# The packed term vector of an entry without one (shared, never written to).
_NO_TERMS: array[int] = array("I")


class _Vocabulary:
    """The words of the grouper's stored term vectors, each with a number: an entry keeps its vector
    as one array of 4-byte numbers (``pack``) instead of a tuple of words (8 bytes a word) beside an
    array of weights and an int, about 130 bytes an item less with the whole index in the profile
    window. Words are never forgotten: a grouper lives for one flow run.
    """

    __slots__ = ("ids", "words")

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[str] = []

    def pack(self, terms: _Terms) -> array[int]:
        """``terms`` as one ``uint32`` array: word ids, then weights, then ``evidence`` and ``norm2``."""
        numbers = [self.ids.get(word, -1) for word in terms.words]
        if -1 in numbers:
            ids, words = self.ids, self.words
            for position, word in enumerate(terms.words):
                if numbers[position] == -1:
                    numbers[position] = ids[word] = len(words)
                    words.append(word)
        numbers += terms.weights
        numbers.append(terms.evidence)
        numbers.append(terms.norm2)  # at most PROFILE_WORDS * PROFILE_SCALE**2, far below 2**32
        # Made from a list, the array is allocated at its size (appending over-allocates).
        return array("I", numbers)

    def unpack(self, packed: array[int]) -> tuple[list[str], list[int], int, int]:
        """``(words, weights, evidence, norm2)`` of a packed term vector."""
        values = packed.tolist()
        size = (len(values) - 2) >> 1
        words = self.words
        return [words[number] for number in values[:size]], values[size : 2 * size], values[-2], values[-1]


def _packed_weight(packed: array[int], word_id: int) -> int | None:
    """The weight of a word (by vocabulary id) in a packed term vector, None if the vector lacks it."""
    size = (len(packed) - 2) >> 1
    try:
        return packed[size + packed.index(word_id, 0, size)]
    except ValueError:
        return None


def _packed_norm2(packed: array[int]) -> int:
    return packed[-1] if packed else 0


class _Terms:
    """An item's term vector: its heaviest words, their integer weights and squared length.

    The first ``evidence`` words are rare enough in general text to tie
    items (the profile rule looks up only those).
    """

    __slots__ = ("evidence", "norm2", "weights", "words")

    def __init__(self, words: Sequence[str], weights: Sequence[int], evidence: int, norm2: int) -> None:
        self.words = words
        self.weights = weights
        self.evidence = evidence
        self.norm2 = norm2


class _Prepared:
    """What the chain needs of one item, computed once per call."""

    __slots__ = ("band_keys", "chars", "numbers", "parent_key", "row", "sealed", "terms", "title_key", "url_key")

    def __init__(
        self,
        url_key: bytes | None,
        title_key: bytes | None,
        row: np.ndarray,
        band_keys: list[int] | None,
        terms: _Terms | None,
        numbers: frozenset[str],
        chars: int,
        parent_key: bytes | None = None,
    ) -> None:
        self.url_key = url_key
        self.parent_key = parent_key  # canonical URL of the post the item answers or forwards
        self.numbers = numbers
        self.chars = chars  # length of the event text
        self.title_key = title_key
        self.row = row
        self.band_keys = band_keys  # None when the event text is too short for the MinHash rule
        self.terms = terms  # None when the item has no words to compare
        # The slots the band index's sealed runs hold under band_keys (looked up for a whole batch at once).
        self.sealed: list[int] = []


class _Holders:
    """The events whose profile holds an evidence word (``EventGrouper._by_word``): ``count`` of them.

    An event that stops holding the word only lowers ``count``: taking it
    out of ``refs`` would scan a list of thousands for a common word, while
    a set of them took some 1 kB an item. ``refs`` may so hold events that
    no longer hold the word, or one twice; ``live`` (read only where
    ``count`` is at most ``profile_max_events``) and ``add`` (when such
    refs pile up) keep just the holders.

    A word held by more than ``_UNLISTED_ABOVE`` events keeps no list
    (``refs`` None): the rules read the holders of a word only while at
    most ``profile_max_events`` events hold it, and most evidence words'
    lists were those of such common words (some 170 bytes an item with a
    day's items in the profile window). Should its count fall that low
    again (the happening is over), ``EventGrouper._live_holders`` finds its
    holders once by going through the profile window.
    """

    __slots__ = ("count", "refs")

    def __init__(self, ref: _EventRef) -> None:
        self.count = 1
        self.refs: list[_EventRef] | None = [ref]

    def add(self, ref: _EventRef, word: str, vocabulary: _Vocabulary) -> None:
        """Count in an event that has just come to hold the word."""
        self.count += 1
        refs = self.refs
        if refs is None:
            return
        if self.count > _UNLISTED_ABOVE:
            self.refs = None
            return
        refs.append(ref)
        if len(refs) > 2 * self.count + 16:
            self.live(word, vocabulary)

    def live(self, word: str, vocabulary: _Vocabulary) -> list[_EventRef]:
        """The events holding the word, each once, in the order they came to hold it (the list must be kept)."""
        refs = self.refs
        assert refs is not None, "a word without a list of holders (EventGrouper._live_holders finds them)"
        if len(refs) != self.count:
            # _holds, inlined (no call, no ValueError for a stale ref): this runs over thousands of events.
            word_id = vocabulary.ids[word]
            refs = self.refs = [
                ref
                for ref in dict.fromkeys(refs)
                if (word in ref.sums.profile if ref.solo is None else word_id in ref.solo.terms[: (len(ref.solo.terms) - 2) >> 1])
            ]
        return refs


# A word held by more events than this keeps no list of them (_Holders); far above profile_max_events.
_UNLISTED_ABOVE = 256


def _holds(ref: _EventRef, word: str, word_id: int) -> bool:
    """Whether an event's profile holds a word (``word_id`` its vocabulary id)."""
    solo = ref.solo
    return word in ref.sums.profile if solo is None else _packed_weight(solo.terms, word_id) is not None


class _Tie:
    """Evidence tying the item to one event: which rule, how strongly, through which indexed item."""

    __slots__ = ("event", "matched", "reason", "similarity")

    def __init__(self, reason: str, event: _EventRef, matched: int, similarity: float | None) -> None:
        self.reason = reason
        self.event = event
        self.matched = matched
        self.similarity = similarity


class _SignatureStore:
    """Signature rows in fixed-size blocks of ``_BLOCK_ROWS``, so candidates are verified with a fancy
    index or a few; ``owners[slot]`` is the entry whose row a slot holds (the band index stores slots).

    Blocks, not one growing matrix: a matrix grown by a quarter held up to a quarter of its rows
    unused (128 MiB at a million items) and, while growing, the old and the new matrix at once
    (2.25 times the rows); blocks hold at most one block unused and never copy a row. A slot's row
    is ``blocks[slot >> _BLOCK_SHIFT][slot & _BLOCK_MASK]``.
    """

    def __init__(self, num_perm: int) -> None:
        self.num_perm = num_perm
        self.blocks: list[np.ndarray] = []
        self.owners: list[_Entry | None] = []
        self._free: list[int] = []

    def put(self, row: np.ndarray, owner: _Entry | None = None) -> int:
        if self._free:
            slot = self._free.pop()
            self.owners[slot] = owner
        else:
            slot = len(self.owners)
            if slot >> _BLOCK_SHIFT == len(self.blocks):
                self.blocks.append(np.empty((_BLOCK_ROWS, self.num_perm), dtype=SIGNATURE_DTYPE))
            self.owners.append(owner)
        self.blocks[slot >> _BLOCK_SHIFT][slot & _BLOCK_MASK] = row
        return slot

    def row(self, slot: int) -> np.ndarray:
        """The row of one slot (a view)."""
        row: np.ndarray = self.blocks[slot >> _BLOCK_SHIFT][slot & _BLOCK_MASK]
        return row

    def gather(self, slots: Sequence[int]) -> np.ndarray:
        """The rows of these slots, in their order (a new matrix)."""
        if not slots:
            return np.empty((0, self.num_perm), dtype=SIGNATURE_DTYPE)
        blocks = self.blocks
        first = slots[0] >> _BLOCK_SHIFT
        if all(slot >> _BLOCK_SHIFT == first for slot in slots):  # the usual case: recent items, one block
            return blocks[first][[slot & _BLOCK_MASK for slot in slots]]
        # Row views stacked: measured faster than grouping the slots by block
        # (np.unique and a mask per block) for 5 to 500 slots over 3 to 90 blocks.
        return np.stack([blocks[slot >> _BLOCK_SHIFT][slot & _BLOCK_MASK] for slot in slots])

    def release(self, slot: int) -> None:
        self.owners[slot] = None
        self._free.append(slot)

    @property
    def nbytes(self) -> int:
        return sum(block.nbytes for block in self.blocks)


# 1,024 rows of 128 values: 512 KiB a block.
_BLOCK_SHIFT = 10
_BLOCK_ROWS = 1 << _BLOCK_SHIFT
_BLOCK_MASK = _BLOCK_ROWS - 1


@lru_cache(maxsize=16)
def lsh_parameters(threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)) -> tuple[int, int]:
    """``(bands, rows_per_band)`` as datasketch's ``MinHashLSH(threshold, num_perm, weights)`` picks them.

    datasketch minimises ``weights[0] x P(false positive) + weights[1] x
    P(false negative)`` over all band shapes (``datasketch.lsh._optimal_param``);
    we ask a throwaway index rather than call that private function.

    >>> lsh_parameters(0.5, 128), lsh_parameters(0.5, 128, (0.2, 0.8))
    ((25, 5), (30, 4))
    """
    from datasketch import MinHashLSH

    index = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
    return index.b, index.r


def term_vectors(
    word_counts: Sequence[Mapping[str, int]], idf: Mapping[str, float], median_idf: float, min_idf: float
) -> list[_Terms | None]:
    """Each item's ``PROFILE_WORDS`` heaviest words by (1 + ln count) x idf, as a unit vector scaled to integers.

    One vectorised pass over the words of all items; equal weights keep the
    order of the item's counts (a stable sort), so the same counts always
    give the same vector. Words of at least ``min_idf`` are the evidence.
    """
    sizes = np.fromiter((len(counts) for counts in word_counts), dtype=np.int64, count=len(word_counts))
    total = int(sizes.sum())
    if not total:
        return [None] * len(word_counts)
    words = [word for counts in word_counts for word in counts]
    counts = np.fromiter((count for found in word_counts for count in found.values()), dtype=np.float64, count=total)
    # map over a list, not a generator into np.fromiter: half the time (this ran about 10 µs an item).
    idfs = np.array(list(map(idf.get, words, repeat(median_idf, total))), dtype=np.float64)
    owner = np.repeat(np.arange(len(word_counts)), sizes)
    weights = np.where(counts > 0, (1.0 + np.log(np.maximum(counts, 1.0))) * idfs, 0.0)
    # Heaviest first within each item (stable), then keep the first PROFILE_WORDS of each.
    order = np.lexsort((-weights, owner))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank = np.arange(total) - np.repeat(starts, sizes)
    kept = order[(rank < PROFILE_WORDS) & (weights[order] > 0)]
    kept_owner = owner[kept]
    squares = np.zeros(len(word_counts))
    np.add.at(squares, kept_owner, weights[kept] ** 2)
    scaled = np.rint(weights[kept] * (PROFILE_SCALE / np.sqrt(squares[kept_owner]))).astype(np.uint16)
    useful = scaled > 0
    kept, kept_owner, scaled = kept[useful], kept_owner[useful], scaled[useful]
    # Evidence words first within each item (stable again), then the rest.
    evidence = idfs[kept] >= min_idf
    regroup = np.lexsort((~evidence, kept_owner))
    kept, kept_owner, scaled, evidence = kept[regroup], kept_owner[regroup], scaled[regroup], evidence[regroup]
    evidence_counts = np.bincount(kept_owner[evidence], minlength=len(word_counts))
    norms = np.bincount(kept_owner, weights=scaled.astype(np.float64) ** 2, minlength=len(word_counts))
    bounds = np.searchsorted(kept_owner, np.arange(len(word_counts) + 1))
    kept_list, scaled_list, bound_list = kept.tolist(), scaled.tolist(), bounds.tolist()
    evidence_list, norm_list = evidence_counts.tolist(), norms.tolist()
    vectors: list[_Terms | None] = []
    for index in range(len(word_counts)):
        first, last = bound_list[index], bound_list[index + 1]
        if first == last:
            vectors.append(None)
            continue
        vectors.append(
            _Terms(
                [words[position] for position in kept_list[first:last]],
                scaled_list[first:last],
                evidence_list[index],
                int(norm_list[index]),  # exact: a sum of at most PROFILE_WORDS squares below 2**20
            )
        )
    return vectors


class EventGrouper:
    """An incremental in-memory index of recent items, assigning new ones to events.

    Load what the database already grouped with ``add``/``add_many``, group
    new items with ``assign``, collect the events it found to be one with
    ``take_merges``, give founded events their database ids with
    ``resolve``, and bound memory with ``evict_before``. See the module
    docstring for the join chain and merges.

    ``lsh_weights`` are datasketch's ``(false positive, false negative)``
    weights for choosing the bands. The default (0.5, 0.5) gives 25 bands of
    5 rows at threshold 0.5, the same candidates as ``MinHashLSH(0.5, 128)``;
    a pair with Jaccard similarity exactly 0.5 is then found with
    probability 0.55, at 0.6 with 0.87, at 0.7 with 0.99. Since every
    candidate is verified anyway, a recall-leaning (0.2, 0.8) (30 bands of
    4: 0.86 at 0.5, 0.98 at 0.6) costs only some verification time.

    The ``profile_*`` options drive the profile rule (module docstring);
    ``profile_threshold=None`` turns it off. ``numbers_min_compared`` and
    ``numbers_min_share`` keep templated reports with other figures apart
    (module docstring, "Figures"); ``numbers_min_compared=None`` turns that off. The ``anchor_*`` options
    drive the anchor rule, ``anchor_short_*`` its one-word form for short posts (``anchor_short_chars=0``
    turns that off); ``anchor_min_items=None`` turns the rule off. ``never_merge`` (and
    ``forbid_merge``) name pairs of stored event ids that must stay apart.

    Not thread-safe: use one grouper per flow run, or guard it with a lock.

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 11, 27, 9, tzinfo=timezone.utc)
    >>> grouper = EventGrouper()
    >>> story = "青溪河石桥村段河面漂着一大片死鱼，岸边一股腥臭味，是不是上游哪里偷排污水了"
    >>> grouper.add(GroupItem(1, at, None, "青溪河死了好多鱼", story, "青禾论坛"), event_id=7)
    >>> repost = GroupItem(2, at, None, "转发微博//@青溪钓客:青溪河大量死鱼", "转发微博//@青溪钓客:" + story + "……", "青禾吧")
    >>> other = GroupItem(3, at, None, "梅岭茶文化旅游节开幕", "第五届梅岭茶文化旅游节在梅岭乡开幕，游客体验采茶", "江华日报")
    >>> [(a.item_id, a.event, a.joined_by) for a in grouper.assign([repost, other])]
    [(2, 7, 'minhash'), (3, NewEvent(seed_item_id=3), 'seed')]
    >>> grouper.resolve({NewEvent(3): 8})
    >>> grouper.event_of(3)
    8
    """

    def __init__(
        self,
        threshold: float = 0.5,
        num_perm: int = 128,
        ngram: int = 3,
        window: timedelta = timedelta(days=7),
        min_text_chars: int = 20,
        *,
        seed: int = 1,
        lsh_weights: tuple[float, float] = (0.5, 0.5),
        title_min_similarity: float = 0.2,
        topic_window: timedelta | None = timedelta(hours=48),
        point_min_items: int = 3,
        point_min_share: float = 0.75,
        anchor_min_items: int | None = 3,
        anchor_min_share: float = 0.75,
        anchor_min_shared: int = 2,
        anchor_min_similarity: float = 0.2,
        anchor_short_chars: int = 60,
        anchor_short_min_items: int = 2,
        anchor_short_min_idf: float = 9.0,
        profile_threshold: float | None = 0.3,
        profile_merge_threshold: float = 0.35,
        profile_window: timedelta | None = timedelta(hours=24),
        profile_max_events: int = 8,
        profile_min_shared: int = 2,
        profile_min_idf: float = 8.0,
        merge_min_similarity: float = 0.2,
        numbers_min_compared: int | None = 3,
        numbers_min_share: float = 0.5,
        never_merge: Iterable[tuple[int, int]] = (),
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if window < timedelta(0):
            raise ValueError("window must not be negative")
        if ngram < 1 or min_text_chars < 0:
            raise ValueError("ngram must be at least 1 and min_text_chars not negative")
        if profile_threshold is not None and not 0.0 < profile_threshold <= profile_merge_threshold:
            raise ValueError("profile_threshold must be in (0, profile_merge_threshold]")
        self.threshold = threshold
        self.num_perm = num_perm
        self.ngram = ngram
        self.window = window
        self.min_text_chars = min_text_chars
        self.seed = seed
        self.title_min_similarity = title_min_similarity
        # Topic joins look only this far apart: a risk point at one place two weeks later is another happening.
        self._topic_window_s = min(window, topic_window).total_seconds() if topic_window is not None else None
        self.point_min_items = point_min_items
        self.point_min_share = point_min_share
        if anchor_min_items is not None and (anchor_min_items < 1 or anchor_min_shared < 1 or anchor_short_min_items < 1):
            raise ValueError(
                "anchor_min_items, anchor_short_min_items and anchor_min_shared must be at least 1 (anchor_min_items may be None)"
            )
        self.anchor_min_items = anchor_min_items
        self.anchor_min_share = anchor_min_share
        self.anchor_min_shared = anchor_min_shared
        self.anchor_min_similarity = anchor_min_similarity
        self.anchor_short_chars = anchor_short_chars
        self.anchor_short_min_items = anchor_short_min_items
        self.anchor_short_min_idf = anchor_short_min_idf
        self.profile_threshold = profile_threshold
        self.profile_merge_threshold = profile_merge_threshold
        self.profile_max_events = profile_max_events
        self.profile_min_shared = profile_min_shared
        self.profile_min_idf = profile_min_idf
        self.merge_min_similarity = merge_min_similarity
        if numbers_min_compared is not None and numbers_min_compared < 1:
            raise ValueError("numbers_min_compared must be at least 1 (or None)")
        self.numbers_min_compared = numbers_min_compared
        self.numbers_min_share = numbers_min_share
        self._profile_window_s = min(window, profile_window or window).total_seconds()
        # The items whose word counts the profile rule may read: published this long before the next item.
        self.profile_window = timedelta(seconds=self._profile_window_s)
        self.bands, self.rows_per_band = lsh_parameters(threshold, num_perm, tuple(lsh_weights))
        self._window_s = window.total_seconds()
        self._entries: dict[int, _Entry] = {}
        # Events by database id, and events founded in memory by their seed item's id (no NewEvent kept).
        self._events: dict[int, _EventRef] = {}
        self._founded: dict[int, _EventRef] = {}
        # key -> the item id holding it, or a list of ids once a second item holds it (file_under)
        # (url, parent and title keys as bytes: _url_bytes, _title_bytes)
        self._by_url: dict[bytes, int | list[int]] = {}
        # canonical URL of a post -> the indexed items answering or forwarding it (``thread``)
        self._by_parent: dict[bytes, int | list[int]] = {}
        self._by_title: dict[bytes, int | list[int]] = {}
        self._by_topic: dict[str, int | list[int]] = {}
        # evidence word -> the events whose profile holds it
        self._by_word: dict[str, _Holders] = {}
        # The words of the entries' packed term vectors (_Entry.terms)
        self._vocabulary = _Vocabulary()
        # band key -> signature slots of the items sharing it (module docstring, _bands)
        self._bands = BandIndex()
        self._store = _SignatureStore(num_perm)
        self._expiry: list[tuple[float, int]] = []
        self._profile_expiry: list[tuple[float, int]] = []
        self._source_keys: dict[str, str | None] = {}
        self._merges: list[Merge] = []
        self._pending: list[tuple[_Entry, GroupItem]] = []
        self._never: dict[int, set[int]] = {}
        for a, b in never_merge:
            self.forbid_merge(a, b)

    # --- public API ---------------------------------------------------------------

    @property
    def signature_scheme(self) -> str:
        """Names the recipe of this grouper's signatures; store it beside stored signatures.

        Signatures made under another scheme string are not comparable and
        must be recomputed (``GroupItem.signature=None``).
        """
        return f"yuqing-minhash-v{SIGNATURE_SCHEME_VERSION}/affine32/perm{self.num_perm}/ngram{self.ngram}/seed{self.seed}"

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._entries

    def event_of(self, item_id: int) -> EventLabel | None:
        """The event an indexed item belongs to now (after any merges), or None if it is not indexed."""
        entry = self._entries.get(item_id)
        return entry.event.label if entry else None

    def signature_of(self, item_id: int) -> np.ndarray | None:
        """A copy of an indexed item's signature row (to store with ``signature_to_bytes``)."""
        entry = self._entries.get(item_id)
        return self._store.row(entry.slot).copy() if entry else None

    def take_merges(self) -> list[Merge]:
        """The merges made since the last call, in the order made (and forget them)."""
        merges, self._merges = self._merges, []
        return merges

    def forbid_merge(self, a: int, b: int) -> None:
        """Never merge stored events ``a`` and ``b``, nor any two events holding them (an analyst split them)."""
        if a == b:
            raise ValueError("an event cannot be kept apart from itself")
        self._never.setdefault(a, set()).add(b)
        self._never.setdefault(b, set()).add(a)

    def add(self, item: GroupItem, event_id: int) -> None:
        """Index an item the database has already grouped into ``event_id`` (replacing any earlier entry)."""
        self.add_many([(item, event_id)])

    def add_many(self, pairs: Iterable[tuple[GroupItem, int]]) -> None:
        """Index many already-grouped items; signatures and word counts missing are computed in one call each."""
        pairs = list(pairs)
        items = [item for item, _ in pairs]
        _check_items(items)
        for _, event_id in pairs:
            if not isinstance(event_id, int) or isinstance(event_id, bool):
                raise TypeError(f"event_id must be an int (the database id), got {event_id!r}")
        # Term vectors wait for the next assign(): only members within the
        # profile window of what it assigns are needed (_join_pending).
        prepared, lsh_keys = self._prepare(items, terms=False)
        lsh_slots: list[int] = []
        for (item, event_id), ready in zip(pairs, prepared, strict=True):
            if item.item_id in self._entries:
                self._remove(self._entries[item.item_id])
            entry = self._index(item, self._event_ref(event_id), ready, in_bands=False)
            if ready.band_keys is not None:
                lsh_slots.append(entry.slot)
                if self.profile_threshold is not None:
                    self._pending.append((entry, item))
        # One sorted run of the band keys of all the loaded items, not one dict insert per key.
        self._bands.insert_many(lsh_keys, np.array(lsh_slots, dtype=np.int32))

    def assign(self, items: Sequence[GroupItem]) -> list[Assignment]:
        """Assign new items to events, in ``(published_at, item_id)`` order, and index them.

        Returns one ``Assignment`` per item, in the order given. Items later
        in the batch can join events founded earlier in it: they get the
        same ``NewEvent(seed)``, as do items of later batches until
        ``resolve`` names that event's database id. ``Assignment.event`` is
        the event at the time of assignment; events merged later (see
        ``take_merges``) are followed by ``event_of``.

        Raises ValueError for a naive ``published_at``, a repeated item id,
        or an item that is already indexed (``add`` replaces; ``assign``
        only takes new items).
        """
        items = list(items)
        _check_items(items)
        for item in items:
            if item.item_id in self._entries:
                raise ValueError(f"item {item.item_id} is already indexed; assign() takes new items only")
        prepared, lsh_keys = self._prepare(items)
        if items:
            self._join_pending(min(item.published_at for item in items).timestamp())
        # The band index's sealed runs do not change during the batch: look all its items up at once.
        comparable = [ready for ready in prepared if ready.band_keys is not None]
        for ready, slots in zip(comparable, self._bands.lookup_sealed(lsh_keys), strict=True):
            ready.sealed = slots
        order = sorted(range(len(items)), key=lambda i: (items[i].published_at, items[i].item_id))
        try:
            assigned = {index: self._assign_one(items[index], prepared[index]) for index in order}
        finally:
            self._bands.seal()
        return [assigned[index] for index in range(len(items))]

    def resolve(self, ids: Mapping[NewEvent, int]) -> None:
        """Give events founded by ``assign`` their database ids.

        Indexed items of ``NewEvent(seed)`` then report ``ids[NewEvent(seed)]``,
        and later items joining them are assigned that id. Unknown,
        already-evicted or merged-away new events are ignored.
        """
        for new_event, event_id in ids.items():
            ref = self._founded.pop(new_event.seed_item_id, None)
            if ref is None:
                continue
            ref.stored_id = event_id
            ref.ids = (*ref.ids, event_id)
            # If the caller folded the new event into an existing one, both
            # refs now carry the same label; add() keeps using the existing one.
            self._events.setdefault(event_id, ref)

    def evict_before(self, cutoff: datetime) -> int:
        """Drop indexed items published before ``cutoff``; returns how many were dropped."""
        if cutoff.tzinfo is None:
            raise ValueError("cutoff must be timezone-aware")
        limit = cutoff.timestamp()
        evicted: list[_Entry] = []
        while self._expiry and self._expiry[0][0] < limit:
            order = heapq.heappop(self._expiry)
            entry = self._entries.get(order[1])
            # Entries replaced by add() leave stale heap records behind, also of the same time; skip them.
            if entry is not None and entry.order is order:
                evicted.append(entry)
        self._unband([entry for entry in evicted if entry.in_lsh])
        for entry in evicted:
            self._remove(entry, unbanded=True)
        return len(evicted)

    def memory_bytes(self) -> int:
        """A rough size of the index: the signature blocks and band runs as allocated, plus an estimate per
        entry, event and term-vector word (fitted to ``tracemalloc`` on ``bench/events.py``'s items)."""
        per_entry = 780  # _Entry, its order tuple, float and slot, _entries and key-index slots, its keys and numbers
        per_event = 130  # _EventRef and its registry slot
        per_word = 15  # the packed id and weight, share of _by_word lists and of shared profiles
        words = sum((len(entry.terms) - 2) >> 1 for entry in self._entries.values() if entry.terms)
        return (
            self._store.nbytes
            + self._bands.nbytes
            + per_entry * len(self._entries)
            + per_event * (len(self._events) + len(self._founded))
            + per_word * words
        )

    # --- internals ----------------------------------------------------------------

    def _prepare(self, items: Sequence[GroupItem], *, terms: bool = True) -> tuple[list[_Prepared], np.ndarray]:
        """Keys, event-text length, signature row and term vector of each item; missing ones in one call.

        Also the band keys of the items long enough for the MinHash rule, one row per such item in order.
        """
        rows = np.empty((len(items), self.num_perm), dtype=SIGNATURE_DTYPE)
        texts: list[str] = []
        numbers: list[frozenset[str]] = []
        title_keys: list[bytes | None] = []
        missing: list[int] = []
        for index, item in enumerate(items):
            cleaned = clean_title(item.title) if item.title else ""
            text, named = event_text_and_numbers_of_clean(cleaned, item.text)
            texts.append(text)
            numbers.append(named)
            key = title_key_of_clean(cleaned) if cleaned else None
            # Interned: reposts keep their original's title, and every entry holds its key.
            title_keys.append(_title_bytes(key) if key is not None and key != self._source_key(item.source) else None)
            if item.signature is None:
                missing.append(index)
                continue
            row = np.asarray(item.signature)
            if row.shape != (self.num_perm,) or row.dtype != SIGNATURE_DTYPE:
                raise ValueError(
                    f"item {item.item_id}: signature must be a uint32 row of {self.num_perm}, got {row.dtype} {row.shape}"
                )
            rows[index] = row
        if missing:
            rows[missing] = signatures(
                [texts[index] for index in missing], num_perm=self.num_perm, ngram=self.ngram, seed=self.seed
            )
        long_enough = [index for index, text in enumerate(texts) if len(text) >= self.min_text_chars]
        keys: list[list[int] | None] = [None] * len(items)
        key_rows = band_keys(rows[long_enough], self.bands, self.rows_per_band)
        for index, item_keys in zip(long_enough, key_rows.tolist(), strict=True):
            keys[index] = item_keys
        vectors = self._terms(items, long_enough) if terms else [None] * len(items)
        urls = [_url_bytes(canonical_url(item.url)) for item in items]
        parents = [_url_bytes(canonical_url(item.in_reply_to)) if item.in_reply_to else None for item in items]
        prepared = [
            _Prepared(urls[i], title_keys[i], rows[i], keys[i], vectors[i], numbers[i], len(texts[i]), parents[i])
            for i in range(len(items))
        ]
        return prepared, key_rows

    def _terms(self, items: Sequence[GroupItem], long_enough: list[int]) -> list[_Terms | None]:
        """Term vectors of the items whose event text is long enough to compare (as for the MinHash rule)."""
        terms: list[_Terms | None] = [None] * len(items)
        if self.profile_threshold is None or not long_enough:
            return terms
        counts: dict[int, Mapping[str, int] | None] = {index: items[index].word_counts for index in long_enough}
        uncounted = [index for index, found in counts.items() if found is None]
        if uncounted:
            results = count_words([f"{items[index].title or ''} {items[index].text or ''}" for index in uncounted])
            for index, result in zip(uncounted, results, strict=True):
                counts[index] = result["words"]
        idf, median = idf_table()
        with_words = [index for index, found in counts.items() if found]
        vectors = term_vectors([counts[index] or {} for index in with_words], idf, median, self.profile_min_idf)
        for index, vector in zip(with_words, vectors, strict=True):
            terms[index] = vector
        return terms

    def _join_pending(self, first_timestamp: float) -> None:
        """Put the items loaded by ``add_many`` into their events' profiles, those the next items can see.

        Members published more than the profile window before the earliest
        item about to be assigned would leave the profile before it is
        scored, so they are never vectorised: the profiles are the same as
        if every member had joined at once, and rebuilding an index of a
        week costs term vectors for a day only.
        """
        limit = first_timestamp - self._profile_window_s
        pending = [
            (entry, item)
            for entry, item in self._pending
            if self._entries.get(entry.item_id) is entry and entry.timestamp >= limit and not entry.in_profile
        ]
        self._pending = []
        if not pending:
            return
        vectors = self._terms([item for _, item in pending], list(range(len(pending))))
        for (entry, _), terms in zip(pending, vectors, strict=True):
            if terms is not None:
                entry.terms = self._vocabulary.pack(terms)
                self._join_profile(entry, terms)

    def _unband(self, entries: list[_Entry]) -> None:
        """Take these entries' keys out of the band index (their keys come again from their stored rows)."""
        if entries:
            slots = np.array([entry.slot for entry in entries], dtype=np.int32)
            self._bands.remove(band_keys(self._store.gather(slots.tolist()), self.bands, self.rows_per_band), slots)

    def _event_ref(self, label: EventLabel, seed: tuple[float, int] | None = None) -> _EventRef:
        ref = self._events.get(label) if isinstance(label, int) else self._founded.get(label.seed_item_id)
        if ref is None:
            ref = _EventRef(label, seed)
            self._register(ref)
        return ref

    def _register(self, ref: _EventRef) -> None:
        """Make ``ref`` the event found under its label."""
        if ref.stored_id is not None:
            self._events[ref.stored_id] = ref
        else:
            assert ref.seed is not None
            self._founded[ref.seed[1]] = ref

    def _unregister(self, ref: _EventRef, also: _EventRef | None = None) -> None:
        """Forget the event found under ``ref``'s label if that is ``ref`` (or ``also``)."""
        if ref.stored_id is not None:
            registry, key = self._events, ref.stored_id
        else:
            assert ref.seed is not None
            registry, key = self._founded, ref.seed[1]
        found = registry.get(key)
        if found is not None and (found is ref or found is also):
            del registry[key]

    def _source_key(self, source: str) -> str | None:
        if source not in self._source_keys:
            self._source_keys[source] = title_key(source) if source else None
        return self._source_keys[source]

    def _assign_one(self, item: GroupItem, ready: _Prepared) -> Assignment:
        timestamp = item.published_at.timestamp()
        order = (timestamp, item.item_id)
        self._expire_profiles(timestamp)
        ties = self._ties(item, ready, timestamp)
        if ties:
            joined = ties[0]
            self._merge_ties(item.item_id, joined.event, ties[1:])
            ref = joined.event.live()
            joined_by, matched, similarity = joined.reason, joined.matched, joined.similarity
            if joined_by == JOINED_BY_TITLE:
                similarity = None
        else:
            joined_by, matched, similarity = JOINED_BY_SEED, None, None
            ref = self._event_ref(NewEvent(item.item_id), order)
        label = ref.label
        self._index(item, ref, ready, timestamp, order=order)
        return Assignment(item.item_id, label, joined_by, similarity, matched)

    def _ties(self, item: GroupItem, ready: _Prepared, timestamp: float) -> list[_Tie]:
        """Evidence tying the item to indexed events: the join first, then the other events to merge.

        The join is the best candidate of the first rule that finds
        anything. The others are every other event tied strongly enough to
        be the same happening: by url, by thread, by title where the texts were
        compared, by minhash, or by profile at ``profile_merge_threshold``.
        """
        found: list[list[_Tie]] = []
        if ready.url_key is not None and ready.url_key in self._by_url:
            found.append(self._closest_per_event(JOINED_BY_URL, _ids_under(self._by_url, ready.url_key), timestamp))
        if ready.parent_key is not None:
            if ready.parent_key in self._by_url:
                found.append(
                    self._closest_per_event(
                        JOINED_BY_THREAD, _ids_under(self._by_url, ready.parent_key), timestamp, windowed=False
                    )
                )
            if ready.parent_key in self._by_parent:  # other answers to the same post, which is not indexed
                found.append(
                    self._closest_per_event(
                        JOINED_BY_THREAD, _ids_under(self._by_parent, ready.parent_key), timestamp, windowed=False
                    )
                )
        if ready.url_key is not None and ready.url_key in self._by_parent:
            # Answers indexed before the post they answer (collected first, or dated earlier).
            found.append(
                self._closest_per_event(JOINED_BY_THREAD, _ids_under(self._by_parent, ready.url_key), timestamp, windowed=False)
            )
        if ready.title_key is not None and ready.title_key in self._by_title:
            comparable_row = ready.row if ready.band_keys is not None else None
            found.append(
                self._closest_per_event(
                    JOINED_BY_TITLE,
                    _ids_under(self._by_title, ready.title_key),
                    timestamp,
                    row=comparable_row,
                    numbers=ready.numbers,
                )
            )
        if ready.band_keys is not None:
            found.append(self._most_similar(ready, timestamp))
        if ready.terms is not None and self.profile_threshold is not None:
            joining = not any(found)
            found.append(
                self._profile_ties(ready.terms, ready.numbers, timestamp, floor=self.profile_threshold if joining else None)
            )
        if item.topic_keys and self._topic_window_s is not None:
            places, points = _split_topic_keys(item.topic_keys)
            if places:
                found.append(self._same_topic(places, timestamp, self._topic_window_s))
            elif points and not any(found):
                found.append(self._dominant_point_event(points, timestamp, self._topic_window_s))
        if (
            ready.terms is not None
            and self.anchor_min_items is not None
            and self.profile_threshold is not None
            and not any(found)
            and not any(key.startswith(POINT_KEY_PREFIX) for key in item.topic_keys)
        ):
            found.append(self._anchored_event(ready.terms, ready.numbers, ready.chars))
        ties = [tie for rule in found for tie in rule]
        if not ties:
            return []
        joined = ties[0]
        merge_floor = self.profile_merge_threshold
        return [joined] + [
            tie
            for tie in ties[1:]
            if tie.event is not joined.event
            and (tie.reason != JOINED_BY_TITLE or tie.similarity is not None)
            and (tie.reason != JOINED_BY_PROFILE or (tie.similarity or 0.0) >= merge_floor)
        ]

    def _merge_ties(self, item_id: int, joined: _EventRef, others: list[_Tie]) -> None:
        """Merge every other tied event into the joined one, unless ``never_merge`` keeps them apart."""
        for tie in others:
            ref, other = joined.live(), tie.event.live()
            if ref is other or self._kept_apart(ref, other):
                continue
            if _profile_similarity(ref, other, self._vocabulary) < self.merge_min_similarity:
                # An item can resemble two unrelated events at once (a digest
                # quoting both stories); the events themselves must be alike.
                continue
            survivor, absorbed = sorted((ref, other), key=_survival_rank)
            if survivor.label != absorbed.label:
                self._merges.append(Merge(survivor.label, absorbed.label, item_id, tie.reason, tie.similarity))
            self._fold(survivor, absorbed)

    def _kept_apart(self, a: _EventRef, b: _EventRef) -> bool:
        never = self._never
        if not never:
            return False
        return any(not never.get(event_id, _NO_IDS).isdisjoint(b.ids) for event_id in a.ids)

    def _fold(self, survivor: _EventRef, absorbed: _EventRef) -> None:
        """Make one event of two: the smaller's members and profile move into the larger, which takes the survivor's label."""
        stored_id, seed = survivor.stored_id, survivor.seed
        big, small = (survivor, absorbed) if survivor.size >= absorbed.size else (absorbed, survivor)
        for ref in (absorbed, survivor):
            self._unregister(ref, also=absorbed if ref is survivor else survivor)
        entries = self._entries
        for item_id in small.member_ids():
            entry = entries[item_id]
            entry.event = big
            big.add_member(entry.order)
        vocabulary = self._vocabulary
        _materialize(big, vocabulary)
        _materialize(small, vocabulary)
        sums, by_word = big.sums, self._by_word
        profile = sums.profile
        # Out of small first, so that a compaction of a holder list on the way sees who holds what.
        small_sums, small.sums = small.sums, _NO_SUMS
        for word, weight in small_sums.profile.items():
            held = profile.get(word)
            profile[word] = (held or 0) + weight
            holders = by_word.get(word)
            if holders is not None:  # an evidence word
                holders.count -= 1
                if held is None:
                    holders.add(big, word, vocabulary)
        sums.norm2 = sum(weight * weight for weight in profile.values())
        for number, held in small_sums.numbers.items():
            sums.numbers[number] = sums.numbers.get(number, 0) + held
        for word, held in small_sums.holders.items():
            sums.holders[word] = sums.holders.get(word, 0) + held
        for place, held in small_sums.places.items():
            sums.places[place] = sums.places.get(place, 0) + held
        sums.pointed += small_sums.pointed
        big.ids += small.ids
        big.latest = max(filter(None, (big.latest, small.latest)), default=None)
        big.stored_id, big.seed = stored_id, seed
        small.members, small.alias = {}, big
        self._register(big)

    def _closest_per_event(
        self,
        reason: str,
        item_ids: list[int],
        timestamp: float,
        *,
        row: np.ndarray | None = None,
        numbers: frozenset[str] | None = None,
        windowed: bool = True,
    ) -> list[_Tie]:
        """Per event, its candidate in the window closest in time (then lowest id); closest event first.

        ``windowed=False`` takes every indexed candidate (a thread: whatever its age, a reply is
        about its post).

        With ``row`` (the item's text is comparable), if any candidate's text
        is comparable too, only comparable candidates similar enough (and not
        naming other figures than ``numbers``) count,
        and the ties carry their similarity.
        """
        entries = [self._entries[item_id] for item_id in item_ids]
        if windowed:
            entries = [entry for entry in entries if abs(entry.timestamp - timestamp) <= self._window_s]
        similarity: dict[int, float] = {}
        if row is not None:
            comparable = [entry for entry in entries if entry.in_lsh]
            if comparable:
                # Compared texts decide, short ones then count no more: also when every compared
                # one names other figures (``numbers``), so a short post cannot bridge two days.
                similarities = jaccard_estimates(row, self._store.gather([entry.slot for entry in comparable]))
                floor = self.title_min_similarity
                similarity = {
                    entry.item_id: value
                    for entry, value in zip(comparable, similarities.tolist(), strict=True)
                    if value >= floor and not (numbers and self._numbers_differ(numbers, entry.numbers))
                }
                entries = [entry for entry in comparable if entry.item_id in similarity]
        entries.sort(key=lambda entry: (abs(entry.timestamp - timestamp), entry.item_id))
        ties: dict[_EventRef, _Tie] = {}
        for entry in entries:
            if entry.event not in ties:
                ties[entry.event] = _Tie(reason, entry.event, entry.item_id, similarity.get(entry.item_id))
        return list(ties.values())

    def _keyed_within(self, keys: frozenset[str], timestamp: float, window_s: float) -> Iterator[tuple[_Entry, float]]:
        """Each indexed item holding any of the topic keys within ``window_s`` of ``timestamp``, once, with its distance."""
        seen: set[int] = set()
        for key in keys:
            for item_id in _ids_under(self._by_topic, key):
                if item_id in seen:
                    continue
                seen.add(item_id)
                entry = self._entries[item_id]
                distance = abs(entry.timestamp - timestamp)
                if distance <= window_s:
                    yield entry, distance

    def _same_topic(self, keys: frozenset[str], timestamp: float, window_s: float) -> list[_Tie]:
        """Per event, its indexed item within the topic window sharing the most topic keys (then closest in
        time, lowest id); best event first."""
        ranked: dict[_EventRef, tuple[int, float, int]] = {}
        for entry, distance in self._keyed_within(keys, timestamp, window_s):
            rank = (-len(keys & entry.topic_keys), distance, entry.item_id)
            best = ranked.get(entry.event)
            if best is None or rank < best:
                ranked[entry.event] = rank
        order = sorted(((rank, ref) for ref, rank in ranked.items()), key=lambda pair: pair[0])
        return [_Tie(JOINED_BY_TOPIC, ref, rank[2], None) for rank, ref in order]

    def _dominant_point_event(self, points: frozenset[str], timestamp: float, window_s: float) -> list[_Tie]:
        """The event holding most of the indexed items of these risk points within the window, if it holds
        enough of them to be *the* running incident of that kind (``point`` rule); else nothing."""
        counts: dict[_EventRef, int] = {}
        closest: dict[_EventRef, tuple[float, int]] = {}
        for entry, distance in self._keyed_within(points, timestamp, window_s):
            ref = entry.event.live()
            counts[ref] = counts.get(ref, 0) + 1
            rank = (distance, entry.item_id)
            if ref not in closest or rank < closest[ref]:
                closest[ref] = rank
        if not counts:
            return []
        ref, held = max(counts.items(), key=lambda pair: (pair[1], -closest[pair[0]][0], -closest[pair[0]][1]))
        if held < self.point_min_items or held < self.point_min_share * sum(counts.values()):
            return []
        return [_Tie(JOINED_BY_POINT, ref, closest[ref][1], None)]

    def _anchored_event(self, terms: _Terms, numbers: frozenset[str], chars: int) -> list[_Tie]:
        """The running incident whose anchor words the item uses, with support (``anchor`` rule); else nothing.

        A word anchors the event of the profile window whose members use it
        most, if they are at least ``anchor_min_items`` and at least
        ``anchor_min_share`` of all members using it; a word on more than
        ``profile_max_events`` events' lips anchors nothing. Anchors count
        as distinct terms: one inside another (园区 in 化工园区) counts once,
        and the event's specific places count once together, so two place
        names are not two things the item says of the happening.

        A short post (event text under ``anchor_short_chars``) that finds
        nothing so may still join on one anchor that is not a place: a
        word of idf at least ``anchor_short_min_idf`` that at least
        ``anchor_short_min_items`` members use (``_short_anchored_event``).
        """
        least = self.anchor_min_items
        if least is None:
            return []
        ranked = []
        for ref, found in self._anchors(terms, least, 0.0).items():
            places, pointed = _places(ref)
            count, placed = _distinct_anchors(found, places)
            if count < self.anchor_min_shared and not (placed and pointed >= self.point_min_items):
                continue
            if numbers and self._numbers_differ(numbers, _numbers(ref)):
                continue
            if self._support(terms, ref) < self.anchor_min_similarity:
                continue
            latest = ref.latest or (0.0, 0)
            ranked.append((-count, -latest[0], -latest[1], ref))
        if not ranked:
            return self._short_anchored_event(terms, numbers) if chars < self.anchor_short_chars else []
        ranked.sort(key=lambda rank: rank[:3])
        ref = ranked[0][3]
        return [_Tie(JOINED_BY_ANCHOR, ref, ref.latest[1] if ref.latest else 0, None)]

    def _short_anchored_event(self, terms: _Terms, numbers: frozenset[str]) -> list[_Tie]:
        """The ``anchor`` rule for a short post: one rare anchor word that is not a place, no profile support.

        A reply or a one-line repost ("不是广汉，辟谣了", "韩庚在你身边") names
        one thing of the happening, so it cannot share the two evidence words
        a profile score needs. It joins the event one of its words anchors,
        counted among ``anchor_short_min_items`` members (a post and its first
        echo), if that word is rarer in general text than evidence words must
        be (idf at least ``anchor_short_min_idf``: 伴娘, 救护车, a name) and is
        not one of the event's places (a place is where, not what: "东坪村的
        柑橘大丰收" is not the odour incident). Most anchor words first, then
        the event last active.
        """
        ranked = []
        for ref, found in self._anchors(terms, self.anchor_short_min_items, self.anchor_short_min_idf).items():
            count, placed = _distinct_anchors(found, _places(ref)[0])
            if count - placed < 1 or (numbers and self._numbers_differ(numbers, _numbers(ref))):
                continue
            latest = ref.latest or (0.0, 0)
            ranked.append((-count, -latest[0], -latest[1], ref))
        if not ranked:
            return []
        ranked.sort(key=lambda rank: rank[:3])
        ref = ranked[0][3]
        return [_Tie(JOINED_BY_ANCHOR, ref, ref.latest[1] if ref.latest else 0, None)]

    def _anchors(self, terms: _Terms, least: int, min_idf: float) -> dict[_EventRef, list[str]]:
        """Per event, the item's evidence words (of idf at least ``min_idf``) that anchor it with ``least`` members."""
        by_word, cap, share = self._by_word, self.profile_max_events, self.anchor_min_share
        idf, median = idf_table() if min_idf > 0.0 else ({}, 0.0)
        anchors: dict[_EventRef, list[str]] = {}
        words = terms.words
        for index in range(terms.evidence):
            word = words[index]
            if min_idf > 0.0 and idf.get(word, median) < min_idf:
                continue
            held_by = by_word.get(word)
            if held_by is None or held_by.count > cap:
                continue
            holders = self._live_holders(word, held_by)
            ref = max(holders, key=lambda holder: (_held(holder, word), holder.latest or (0.0, 0)))
            held = _held(ref, word)
            if held >= least and held >= share * sum(_held(other, word) for other in holders):
                anchors.setdefault(ref, []).append(word)
        return anchors

    def _support(self, terms: _Terms, ref: _EventRef) -> float:
        """The item's profile score against one event as the ``profile`` rule scores it (0.0 unless they share
        ``profile_min_shared`` evidence words), without its threshold."""
        by_word, cap = self._by_word, self.profile_max_events
        dot = shared = 0
        word_ids = self._vocabulary.ids
        for index in range(terms.evidence):
            word = terms.words[index]
            weight = _weight(ref, word, word_ids)
            if weight is not None and by_word[word].count <= cap:
                dot += terms.weights[index] * weight
                shared += 1
        return dot / math.sqrt(terms.norm2 * _norm2(ref)) if shared >= self.profile_min_shared else 0.0

    def _most_similar(self, ready: _Prepared, timestamp: float) -> list[_Tie]:
        """Per event, its most similar LSH candidate at or above the threshold; most similar event first."""
        row, numbers = ready.row, ready.numbers
        candidates = self._bands.lookup(ready.band_keys or [])
        candidates.update(ready.sealed)
        if not candidates:
            return []
        owners = self._store.owners
        window_s = self._window_s
        near = [entry for slot in candidates if abs((entry := _owner(owners, slot)).timestamp - timestamp) <= window_s]
        if numbers:
            near = [entry for entry in near if not self._numbers_differ(numbers, entry.numbers)]
        if not near:
            return []
        similarities = jaccard_estimates(row, self._store.gather([entry.slot for entry in near]))
        ranked = sorted(
            (-similarity, abs(entry.timestamp - timestamp), entry.item_id, entry)
            for entry, similarity in zip(near, similarities.tolist(), strict=True)
            if similarity >= self.threshold
        )
        ties: dict[_EventRef, _Tie] = {}
        for negative, _, item_id, entry in ranked:
            if entry.event not in ties:
                ties[entry.event] = _Tie(JOINED_BY_MINHASH, entry.event, item_id, -negative)
        return list(ties.values())

    def _profile_ties(self, terms: _Terms, numbers: frozenset[str], timestamp: float, *, floor: float | None) -> list[_Tie]:
        """Events whose profile is similar enough to the item's term vector; most similar first.

        Only the item's evidence words count toward the dot product (words
        rare in general text that at most ``profile_max_events`` events in
        the window hold), and the event needs ``profile_min_shared`` of them;
        the lengths are those of the whole vectors, so what the two share in
        common words only makes the score smaller.
        """
        by_word, cap = self._by_word, self.profile_max_events
        dots: dict[_EventRef, int] = {}
        shared: dict[_EventRef, int] = {}
        words, weights, vocabulary = terms.words, terms.weights, self._vocabulary
        for index in range(terms.evidence):
            word = words[index]
            held_by = by_word.get(word)
            if held_by is None or held_by.count > cap:
                continue
            weight = weights[index]
            word_id = vocabulary.ids[word]
            for ref in self._live_holders(word, held_by):
                solo = ref.solo
                if solo is None:
                    held = ref.sums.profile[word]
                else:  # _packed_weight, inlined: the holders hold the word
                    packed = solo.terms
                    size = (len(packed) - 2) >> 1
                    held = packed[size + packed.index(word_id, 0, size)]
                dots[ref] = dots.get(ref, 0) + weight * held
                shared[ref] = shared.get(ref, 0) + 1
        floor = self.profile_merge_threshold if floor is None else floor
        if not dots:
            return []
        item_norm2 = terms.norm2
        ranked = []
        for ref, dot in dots.items():
            if shared[ref] < self.profile_min_shared or (numbers and self._numbers_differ(numbers, _numbers(ref))):
                continue
            score = dot / math.sqrt(item_norm2 * _norm2(ref))
            if score >= floor:
                latest = ref.latest or (0.0, 0)
                ranked.append((-score, -latest[0], -latest[1], ref))
        ranked.sort(key=lambda rank: rank[:3])
        return [_Tie(JOINED_BY_PROFILE, ref, ref.latest[1] if ref.latest else 0, -negative) for negative, _, _, ref in ranked]

    def _live_holders(self, word: str, held_by: _Holders) -> list[_EventRef]:
        """The events holding an evidence word (``held_by`` its entry in ``_by_word``), listing them
        again if the word had too many holders to keep a list (``_Holders``)."""
        if held_by.refs is None:
            word_id = self._vocabulary.ids[word]
            found: dict[_EventRef, None] = {}
            entries = self._entries
            for order in self._profile_expiry:
                entry = entries.get(order[1])
                if entry is None or entry.order is not order or not entry.in_profile:
                    continue  # a record the heap keeps of an entry gone or out of the profile
                if entry.event not in found and _holds(entry.event, word, word_id):
                    found[entry.event] = None
            held_by.refs = list(found)
            assert len(held_by.refs) == held_by.count, "the holders of a word are those its count counts"
        return held_by.live(word, self._vocabulary)

    def _numbers_differ(self, numbers: frozenset[str], other: Collection[str]) -> bool:
        """Whether two texts name different numbers: both name at least ``numbers_min_compared`` and the
        one naming fewer shares under ``numbers_min_share`` of them with the other (``other`` may be an
        event's numbers)."""
        least = self.numbers_min_compared
        if least is None:
            return False
        small, big = (numbers, other) if len(numbers) <= len(other) else (other, numbers)
        if len(small) < least:
            return False
        return sum(number in big for number in small) < self.numbers_min_share * len(small)

    def _expire_profiles(self, timestamp: float) -> None:
        """Take members published more than the profile window before ``timestamp`` out of their events' profiles."""
        limit = timestamp - self._profile_window_s
        heap = self._profile_expiry
        while heap and heap[0][0] < limit:
            order = heapq.heappop(heap)
            entry = self._entries.get(order[1])
            if entry is not None and entry.order is order and entry.in_profile:
                self._leave_profile(entry)

    def _join_profile(self, entry: _Entry, terms: _Terms) -> None:
        """Add a member to its event's profile; ``terms`` is its term vector as ``entry.terms`` packs it."""
        ref, by_word, vocabulary = entry.event, self._by_word, self._vocabulary
        entry.in_profile = True
        heapq.heappush(self._profile_expiry, entry.order)
        words, weights, evidence, norm2 = terms.words, terms.weights, terms.evidence, terms.norm2
        if ref.solo is None and not ref.sums.profile:
            # The first member in the profile: the event's sums are its own (_EventRef.solo).
            ref.solo = entry
            ref.sums = _NO_SUMS
            for word in words[:evidence]:
                holders = by_word.get(word)
                if holders is None:
                    by_word[word] = _Holders(ref)
                else:
                    holders.add(ref, word, vocabulary)
            return
        _materialize(ref, vocabulary)
        sums = ref.sums
        profile = sums.profile
        dot = 0
        for position, (word, weight) in enumerate(zip(words, weights, strict=True)):
            held = profile.get(word)
            if held is None:
                profile[word] = weight
                if position < evidence:
                    holders = by_word.get(word)
                    if holders is None:
                        by_word[word] = _Holders(ref)
                    else:
                        holders.add(ref, word, vocabulary)
            else:
                dot += held * weight
                profile[word] = held + weight
        sums.norm2 += 2 * dot + norm2
        numbers = sums.numbers
        for number in entry.numbers:
            numbers[number] = numbers.get(number, 0) + 1
        _count_anchoring(ref, entry, words[:evidence], 1)

    def _leave_profile(self, entry: _Entry) -> None:
        ref, by_word = entry.event, self._by_word
        entry.in_profile = False
        words, weights, evidence, norm2 = self._vocabulary.unpack(entry.terms)
        if ref.solo is entry:
            ref.solo = None
            for word in words[:evidence]:
                holders = by_word[word]
                holders.count -= 1
                if not holders.count:
                    del by_word[word]
            _forget_terms(entry)
            return
        sums = ref.sums
        profile = sums.profile
        dot = 0
        for position, (word, weight) in enumerate(zip(words, weights, strict=True)):
            held = profile[word]
            dot += held * weight
            if held == weight:
                del profile[word]
                if position < evidence:
                    holders = by_word[word]
                    holders.count -= 1
                    if not holders.count:
                        del by_word[word]
            else:
                profile[word] = held - weight
        sums.norm2 += norm2 - 2 * dot
        numbers = sums.numbers
        for number in entry.numbers:
            held = numbers[number]
            if held == 1:
                del numbers[number]
            else:
                numbers[number] = held - 1
        _count_anchoring(ref, entry, words[:evidence], -1)
        _forget_terms(entry)

    def _index(
        self,
        item: GroupItem,
        ref: _EventRef,
        ready: _Prepared,
        timestamp: float | None = None,
        *,
        in_bands: bool = True,
        order: tuple[float, int] | None = None,
    ) -> _Entry:
        """Index one item in event ``ref``; its band keys too unless ``in_bands`` is False (``add_many`` adds them at once)."""
        item_id = item.item_id
        if timestamp is None:
            timestamp = item.published_at.timestamp()
        keys = ready.band_keys
        slot = self._store.put(ready.row)
        entry = _Entry(
            item_id, timestamp, ref, ready.url_key, ready.title_key, slot, keys is not None,
            item.topic_keys, self._vocabulary.pack(ready.terms) if ready.terms else None, ready.numbers,
            ready.parent_key, order,
        )  # fmt: skip
        self._store.owners[slot] = entry
        self._entries[item_id] = entry
        ref.add_member(entry.order)
        if ready.terms is not None:
            self._join_profile(entry, ready.terms)
        if ready.url_key is not None:
            file_under(self._by_url, ready.url_key, item_id)
        if ready.parent_key is not None:
            file_under(self._by_parent, ready.parent_key, item_id)
        if ready.title_key is not None:
            file_under(self._by_title, ready.title_key, item_id)
        for topic_key in item.topic_keys:
            file_under(self._by_topic, topic_key, item_id)
        if keys is not None and in_bands:
            self._bands.insert(keys, slot)
        heapq.heappush(self._expiry, entry.order)
        return entry

    def _remove(self, entry: _Entry, *, unbanded: bool = False) -> None:
        """Forget an indexed item; ``unbanded``: its band keys are out of the band index already (``_unband``)."""
        item_id = entry.item_id
        if entry.in_profile:
            self._leave_profile(entry)
        del self._entries[item_id]
        if entry.url_key is not None:
            _discard(self._by_url, entry.url_key, item_id)
        if entry.parent_key is not None:
            _discard(self._by_parent, entry.parent_key, item_id)
        if entry.title_key is not None:
            _discard(self._by_title, entry.title_key, item_id)
        for topic_key in entry.topic_keys:
            _discard(self._by_topic, topic_key, item_id)
        if entry.in_lsh and not unbanded:
            self._unband([entry])
        self._store.release(entry.slot)
        ref = entry.event
        if ref.members is None:  # its only member
            ref.latest = None
        else:
            del ref.members[item_id]
            if ref.latest is not None and ref.latest[1] == item_id:
                ref.latest = max((self._entries[member].order for member in ref.members), default=None)
        if not ref.size:
            self._unregister(ref)


_NO_IDS: frozenset[int] = frozenset()

_IndexKey = TypeVar("_IndexKey", str, bytes)


def _url_bytes(url: str | None) -> bytes | None:
    """A canonical URL as the grouper keeps it: UTF-8 bytes, 16 bytes less than the (ASCII) str."""
    return None if url is None else url.encode("utf-8", "surrogatepass")


def _title_bytes(key: str) -> bytes:
    """A title key as the grouper keeps it: UTF-16 bytes, about 40 bytes less than the str (a Chinese
    str takes 2 bytes a character as UTF-16 does, beside a header of 74 bytes to bytes' 33).
    """
    return key.encode("utf-16-le", "surrogatepass")


def _owner(owners: list[_Entry | None], slot: int) -> _Entry:
    """The entry holding a slot the band index gave (the index holds live slots only)."""
    entry = owners[slot]
    assert entry is not None, f"the band index holds released slot {slot}"
    return entry


def _count_anchoring(ref: _EventRef, entry: _Entry, evidence_words: Sequence[str], step: int) -> None:
    """Add (``step`` 1) or take out (-1) a member's evidence words, risk point and places in the event's counts."""
    sums = ref.sums
    _count(sums.holders, evidence_words, step)
    places = _places_of(entry)
    _count(sums.places, places, step)
    if len(places) < len(entry.topic_keys):
        sums.pointed += step


def _forget_terms(entry: _Entry) -> None:
    """Drop an entry's term vector once it has left the profile window: nothing reads it again there."""
    entry.terms = _NO_TERMS


def _places_of(entry: _Entry) -> list[str]:
    """The specific places an item's topic keys name (``point@place``)."""
    return [key.rpartition("@")[2] for key in entry.topic_keys if not key.startswith(POINT_KEY_PREFIX)]


def _materialize(ref: _EventRef, vocabulary: _Vocabulary) -> None:
    """Give an event dicts of its own for its profile sums (holding its solo member's, if it has one)."""
    if ref.sums is not _NO_SUMS:
        return
    solo = ref.solo
    sums = ref.sums = _Sums()
    if solo is None:
        return
    ref.solo = None
    words, weights, evidence, sums.norm2 = vocabulary.unpack(solo.terms)
    sums.profile.update(zip(words, weights, strict=True))
    sums.numbers.update(dict.fromkeys(solo.numbers, 1))
    _count_anchoring(ref, solo, words[:evidence], 1)


def _weight(ref: _EventRef, word: str, word_ids: Mapping[str, int]) -> int | None:
    """The event's profile weight of a word (None if its profile lacks it); ``word_ids`` the vocabulary's."""
    solo = ref.solo
    if solo is None:
        return ref.sums.profile.get(word)
    word_id = word_ids.get(word)
    return None if word_id is None else _packed_weight(solo.terms, word_id)


def _held(ref: _EventRef, word: str) -> int:
    """How many members in the event's profile use an evidence word the event holds (``_by_word``)."""
    return 1 if ref.solo is not None else ref.sums.holders[word]


def _numbers(ref: _EventRef) -> Collection[str]:
    """The numbers the event's members in the profile name."""
    return ref.solo.numbers if ref.solo is not None else ref.sums.numbers


def _norm2(ref: _EventRef) -> int:
    return _packed_norm2(ref.solo.terms) if ref.solo is not None else ref.sums.norm2


def _places(ref: _EventRef) -> tuple[Collection[str], int]:
    """The specific places the event's members in the profile name, and how many of them name a risk point."""
    solo = ref.solo
    if solo is None:
        return ref.sums.places, ref.sums.pointed
    places = _places_of(solo)
    return places, int(len(places) < len(solo.topic_keys))


def _distinct_anchors(words: list[str], places: Collection[str]) -> tuple[int, bool]:
    """How many distinct things the anchor words name (one inside another counts once, all places once),
    and whether a place is among them."""
    kept: list[str] = []
    for word in sorted(words, key=len, reverse=True):
        if not any(word in longer for longer in kept):
            kept.append(word)
    placed = any(word in places for word in kept)
    return sum(word not in places for word in kept) + placed, placed


def _count(counts: dict[str, int], keys: Iterable[str], step: int) -> None:
    for key in keys:
        held = counts.get(key, 0) + step
        if held:
            counts[key] = held
        else:
            del counts[key]


def _profile_similarity(a: _EventRef, b: _EventRef, vocabulary: _Vocabulary) -> float:
    """Cosine similarity of two events' profiles (0.0 when either is empty)."""
    a_norm2, b_norm2 = _norm2(a), _norm2(b)
    if not a_norm2 or not b_norm2:
        return 0.0
    a_profile, b_profile = _profile(a, vocabulary), _profile(b, vocabulary)
    small, big = (a_profile, b_profile) if len(a_profile) <= len(b_profile) else (b_profile, a_profile)
    dot = sum(weight * big.get(word, 0) for word, weight in small.items())
    return dot / math.sqrt(a_norm2 * b_norm2)


def _profile(ref: _EventRef, vocabulary: _Vocabulary) -> Mapping[str, int]:
    solo = ref.solo
    if solo is None:
        return ref.sums.profile
    words, weights, _, _ = vocabulary.unpack(solo.terms)
    return dict(zip(words, weights, strict=True))


def _survival_rank(ref: _EventRef) -> tuple[int, float, int]:
    """Sort key putting the survivor of a merge first: stored events (lowest id first), then the earliest seed."""
    if ref.stored_id is not None:
        return (0, 0.0, ref.stored_id)
    assert ref.seed is not None
    return (1, ref.seed[0], ref.seed[1])


def _ids_under(index: Mapping[_IndexKey, int | list[int]], key: _IndexKey) -> list[int]:
    held = index.get(key)
    if held is None:
        return []
    return [held] if isinstance(held, int) else held


def _discard(index: dict[_IndexKey, int | list[int]], key: _IndexKey, item_id: int) -> None:
    held = index.get(key)
    if held is None:
        return
    if isinstance(held, int):
        if held == item_id:
            del index[key]
        return
    try:
        held.remove(item_id)
    except ValueError:
        return
    if len(held) == 1:
        index[key] = held[0]


def _check_items(items: Sequence[GroupItem]) -> None:
    seen: set[int] = set()
    for item in items:
        if item.published_at.tzinfo is None or item.published_at.utcoffset() is None:
            raise ValueError(f"item {item.item_id}: published_at must be timezone-aware")
        if item.item_id in seen:
            raise ValueError(f"item {item.item_id} appears twice in one call")
        seen.add(item.item_id)


def _split_topic_keys(keys: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """``(point@place keys, @point keys)`` of an item's topic keys."""
    points = frozenset(key for key in keys if key.startswith(POINT_KEY_PREFIX))
    return keys - points, points
