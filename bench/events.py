"""Benchmark of event grouping, each figure beside an anchor measured in the same run.

Run with ``.venv/bin/python bench/events.py`` (``--items N`` for a smaller
run, ``--figures scale`` for the index at scale alone: a few minutes, most
of it counting the words of the items it groups). Every line on stdout is one JSON object::

    {"bench": "events", "metric": ..., "value": ..., "anchor": ..., "anchor_value": ..., "ratio": ...}

The data: 100,000 synthetic Chinese items over four days from twelve
sources. Originals are 50 to 300 characters of county-news clauses (taken
from the demo county's texts, shuffled, with numbers and places mixed in);
30% of items are reposts of a recent original, wrapped the way reposts are
(``转发微博//@某某:``, ``【关注】``, ``转：``, ``转自某某：``, `` - 青禾论坛``,
``_江华日报``), truncated to 60-100% with ``……``, sometimes with a comment
or a repost chain appended, sometimes with the original's link plus
tracking parameters; 40% of reposts have no headline or a new one, so only
their text ties them to the original. Items arrive in ``published_at`` order.

``items_per_s``
    Ours: ``EventGrouper.assign`` over batches of 1,000 items (as the
    events flow will call it), which includes cleaning each item
    (``canonical_url``, ``title_key``, ``event_text``), computing the
    signatures of the batch, LSH lookup, verification and indexing, and
    the profile rule over the items' word counts (computed beforehand and
    not timed: the match step stores them with every relevant item, as
    ``count_words`` gives them). The
    anchor is plain datasketch usage on the same items with the same
    options: per item the same cleaned text (``event_text(title, text)``),
    ``MinHash(num_perm=128, seed=1, hashfunc=_gram_hash32,
    scheme="affine32")`` -- our gram hash, one gram at a time in Python,
    as a datasketch user would pass it, instead of datasketch's default
    SHA-1 -- updated (``update_batch``) with the text's character 3-grams
    (a shorter text as one gram), then, for texts of at least 20 characters
    (``min_text_chars``), ``MinHashLSH(threshold=0.5, num_perm=128)``
    ``query`` and ``insert``. Its signatures are ours bit for bit (checked
    on the first batch). ``ratio = ours / anchor``; the issue asks for at
    least 1.0. The line also reports grouping quality against the
    generator's truth: the share of reposts that joined their original's
    event, and the number of events that mix two originals' stories.

``rebuild_items_per_s``
    Loading the index of the next run from stored signature bytes:
    ``EventGrouper.add_many`` of all items with ``signature_from_bytes``
    rows, beside ``MinHashLSH.insertion_session`` of ``MinHash(hashvalues=
    ..., scheme="affine32")`` built from the same bytes. Three interleaved
    rounds (rotating which goes first); the median and spread.

``index_bytes_per_item``
    Memory held by a grouper of 5,000 items (``tracemalloc``) beside a
    ``MinHashLSH`` holding the same signatures. Lower is better, so here
    ``ratio = anchor / ours``.

``index_mib_at_scale``
    The grouping index at 1,000,000 items, extrapolated (not measured):
    ``tracemalloc`` of groupers that assigned the first 5,000 and 20,000
    items (signatures, keys, the LSH band runs, term vectors and profiles:
    all of them in the 24-hour profile window, the largest an entry gets;
    an entry drops its term vector when it leaves that window, as six in
    seven entries of a week's index have), a straight line through the two, read at
    1,000,000. The signatures are kept in blocks of 1,024 rows, so each
    measured point carries under one block (512 KiB) unused. The anchor is the 2 GiB the issue
    allows; ``ratio = limit / ours``.

Every line carries ``peak_rss_mib``: this process's peak resident set
size during that figure's work (Linux resets the peak before each; the
data, about 1 GiB at 100,000 items, is included).

Noise: the grouping figure interleaves the two sides batch by batch,
alternating which runs first, and sums each side's time, so a load spike
from elsewhere on the machine hits both alike; it is one pass (both
indexes grow with every batch, and a pass is long). The rebuild figure
repeats whole interleaved rounds and reports medians with their spread.
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from datasketch import MinHash, MinHashLSH

from benchlib import (
    PLACES,
    clause_body,
    county_clauses,
    emit,
    figure,
    figure_from_rounds,
    interleave,
    log,
    peak_rss_mib,
    reset_peak_rss,
)
from yuqing_core.events import (
    EventGrouper,
    GroupItem,
    NewEvent,
    count_words,
    event_text,
    signature_from_bytes,
    signature_to_bytes,
)
from yuqing_core.events._minhash import _gram_hash32

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEED = 20261128
ITEMS = 100_000
BATCH = 1_000
REPOST_SHARE = 0.30
DAYS = 4
MEMORY_ITEMS = 5_000
# The grouping index's size at this many items is extrapolated from two measured sizes (``index_mib_at_scale``).
SCALE_ITEMS = 1_000_000
MEMORY_LIMIT_MIB = 2048
REBUILD_ROUNDS = 3
FIGURES = ("grouping", "rebuild", "memory", "scale")
# The grouper's options, shared by both sides.
THRESHOLD = 0.5
NUM_PERM = 128
NGRAM = 3
SEED_PERMUTATIONS = 1
MIN_TEXT_CHARS = 20

SOURCES = (
    "青禾县人民政府网", "柳湾镇人民政府", "石桥乡人民政府", "青禾县网络问政平台", "青禾论坛", "青禾吧",
    "青禾生活圈", "江华日报", "江华电视台", "云江日报", "云江新闻网", "微博",
)  # fmt: skip
TAGS = ("关注", "转", "图", "突发", "青禾", "民生热线", "江华新闻", "辟谣", "扩散")
NAMES = ("青溪钓客", "石桥土著", "东坪守望", "白沙过客", "吧友甲", "柳湾老张", "青禾小编", "梅岭茶农", "河口人家")
COMMENTS = (
    "大家注意安全", "求扩散", "有关部门管管吧", "总算有说法了", "希望早点解决", "别信谣别传谣", "关注后续",
    "这事得查清楚", "点赞", "支持", "太吓人了", "蹲一个后续",
)  # fmt: skip


@dataclass(frozen=True)
class Synthetic:
    item: GroupItem
    story: int  # the item id of the original: reposts share their original's story
    repost: bool


# --- data -------------------------------------------------------------------------


def original_text(rng: random.Random, clauses: list[str]) -> tuple[str, str]:
    """A title and a 50-300 character body."""
    body = clause_body(rng, clauses, 50, 300)
    # Headlines name a place and what happened there; two clauses keep
    # unrelated originals from sharing a headline by chance.
    title = rng.choice(PLACES) + rng.choice(clauses)[:12] + "，" + rng.choice(clauses)[:12]
    return title, body


def repost_of(rng: random.Random, title: str, text: str) -> tuple[str, str]:
    """The ways reposts wrap, cut and comment on what they pass on."""
    cut = text[: max(20, int(len(text) * rng.uniform(0.6, 1.0)))]
    if len(cut) < len(text):
        cut += rng.choice(("……", "...", "…"))
    roll = rng.random()
    if roll < 0.3:
        name = rng.choice(NAMES)
        title = f"转发微博//@{name}:{title}"
        body = f"转发微博//@{name}:{cut}"
        if rng.random() < 0.5:
            body += f"//@{rng.choice(NAMES)}:{rng.choice(COMMENTS)}"
    elif roll < 0.55:
        tag = rng.choice(TAGS)
        title = f"【{tag}】{title}"
        body = f"【{tag}】{cut}"
    elif roll < 0.8:
        title = f"转：{title}"
        body = f"转自{rng.choice(SOURCES)}：{cut}"
    else:
        body = cut
    if rng.random() < 0.4:
        # Many reposts carry no headline of their own or a new one (Weibo,
        # WeChat, forum replies): only their text can tie them to the original.
        title = rng.choice(("", rng.choice(COMMENTS), rng.choice(PLACES) + rng.choice(COMMENTS)))
    elif rng.random() < 0.4:
        title += rng.choice((" - ", "_", "｜")) + rng.choice(SOURCES)
    if rng.random() < 0.3:
        body += rng.choice(COMMENTS) + "。"
    return title, body


def build_items(count: int, counted: int | None = None) -> list[Synthetic]:
    """``count`` items; only the first ``counted`` (default all) get word counts, the rest None (the slow part)."""
    rng = random.Random(SEED)
    clauses = county_clauses()
    start = datetime(2026, 11, 24, tzinfo=SHANGHAI)
    span_s = DAYS * 86400
    originals: list[tuple[int, datetime, str, str, str | None]] = []
    # (published, generation index, story's generation index, title, text, url, repost)
    drafts: list[tuple[datetime, int, int, str, str, str | None, bool]] = []
    for index in range(count):
        if originals and rng.random() < REPOST_SHARE:
            # A repost of a recent original, a few minutes to two days later.
            story, at, title, text, url = originals[max(0, len(originals) - 1 - int(rng.expovariate(1 / 300)))]
            published = at + timedelta(minutes=rng.uniform(2, 48 * 60))
            new_title, new_text = repost_of(rng, title, text)
            link = f"{url}?utm_source=weibo&from=timeline&spm=a.{index}" if url and rng.random() < 0.1 else None
            drafts.append((published, index, story, new_title, new_text, link, True))
        else:
            published = start + timedelta(seconds=span_s * index / count + rng.uniform(0, 600))
            title, text = original_text(rng, clauses)
            url = f"https://site{rng.randrange(40)}.example.cn/a/{index}.html" if rng.random() < 0.7 else None
            originals.append((index, published, title, text, url))
            drafts.append((published, index, index, title, text, url, False))
    drafts.sort(key=lambda draft: draft[0])
    item_id_of = {draft[1]: item_id for item_id, draft in enumerate(drafts)}
    # Word counts as the match step stores them with each relevant item (not timed: the match step pays for them).
    counted = count if counted is None else min(count, counted)
    texts = [f"{title} {text}" for _, _, _, title, text, _, _ in drafts[:counted]]
    counts = [counted_words["words"] for counted_words in count_words(texts)] + [None] * (count - counted)
    return [
        Synthetic(
            GroupItem(item_id, at, url, title, text, rng.choice(SOURCES), word_counts=words),
            item_id_of[story],
            repost,
        )
        for item_id, ((at, _, story, title, text, url, repost), words) in enumerate(zip(drafts, counts, strict=True))
    ]


# --- the two sides ------------------------------------------------------------------


def anchor_grams(text: str) -> list[str]:
    """The character n-grams ours signs: every ``NGRAM``-gram, or a shorter non-empty text as one gram."""
    if len(text) < NGRAM:
        return [text] if text else []
    return [text[i : i + NGRAM] for i in range(len(text) - NGRAM + 1)]


class Anchor:
    """Plain datasketch with our options: one MinHash per item (our hash), then MinHashLSH query + insert."""

    def __init__(self) -> None:
        self.lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        self.candidates = 0

    @staticmethod
    def text_of(item: GroupItem) -> str:
        return event_text(item.title, item.text)

    @staticmethod
    def minhash(text: str) -> MinHash:
        minhash = MinHash(num_perm=NUM_PERM, seed=SEED_PERMUTATIONS, hashfunc=_gram_hash32, scheme="affine32")
        minhash.update_batch(anchor_grams(text))
        return minhash

    def run(self, batch: list[GroupItem]) -> None:
        for item in batch:
            text = self.text_of(item)
            minhash = self.minhash(text)
            if len(text) >= MIN_TEXT_CHARS:
                self.candidates += len(self.lsh.query(minhash))
                self.lsh.insert(item.item_id, minhash)


def exact_jaccard(a: GroupItem, b: GroupItem) -> float:
    grams_a, grams_b = (
        {text[i : i + 3] for i in range(len(text) - 2)} for text in (event_text(a.title, a.text), event_text(b.title, b.text))
    )
    return len(grams_a & grams_b) / len(grams_a | grams_b) if grams_a and grams_b else 0.0


@dataclass
class Tally:
    seconds: float = 0.0
    items: int = 0

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def bench_grouping(data: list[Synthetic]) -> tuple[dict[str, Any], EventGrouper]:
    grouper = new_grouper()
    anchor = Anchor()
    ours, theirs = Tally(), Tally()
    events: dict[int, int | NewEvent] = {}
    joined_by: dict[str, int] = defaultdict(int)
    for number, first in enumerate(range(0, len(data), BATCH)):
        batch = [synthetic.item for synthetic in data[first : first + BATCH]]
        assignments: list[Any] = []

        def run_ours(batch: list[GroupItem] = batch, assignments: list[Any] = assignments) -> None:
            assignments.extend(grouper.assign(batch))

        def run_anchor(batch: list[GroupItem] = batch) -> None:
            anchor.run(batch)

        sides: list[tuple[Tally, Callable[[], Any]]] = [(ours, run_ours), (theirs, run_anchor)]
        if number % 2:
            sides.reverse()
        for tally, call in sides:
            tally.seconds += timed(call)
            tally.items += len(batch)
        for assignment in assignments:
            events[assignment.item_id] = assignment.event
            joined_by[assignment.joined_by] += 1
        if number == 0:
            # Same work: the anchor's signatures are ours, bit for bit (untimed check).
            for item in batch[:200]:
                theirs_row = Anchor.minhash(Anchor.text_of(item)).hashvalues
                assert (theirs_row == grouper.signature_of(item.item_id)).all(), item.item_id
        if number % 10 == 9:
            log(f"grouping: {first + len(batch):,} items, ours {ours.rate:,.0f}/s, anchor {theirs.rate:,.0f}/s")

    # Quality against the generator's truth, by each item's final event (merges followed).
    events = {item_id: grouper.event_of(item_id) or event for item_id, event in events.items()}
    story_of = {synthetic.item.item_id: synthetic.story for synthetic in data}
    reposts = [synthetic for synthetic in data if synthetic.repost]
    joined = sum(events[s.item.item_id] == events[s.story] for s in reposts)
    # Reposts whose text is a near-duplicate of the original by the rule's own
    # measure (exact Jaccard of event_text 3-grams >= 0.5): what the MinHash
    # rule promises to join, up to LSH misses.
    item_of = {synthetic.item.item_id: synthetic.item for synthetic in data}
    near = [s for s in reposts if exact_jaccard(s.item, item_of[s.story]) >= 0.5]
    near_joined = sum(events[s.item.item_id] == events[s.story] for s in near)
    stories_per_event: dict[int | NewEvent, set[int]] = defaultdict(set)
    for item_id, event in events.items():
        stories_per_event[event].add(story_of[item_id])
    mixed = sum(1 for stories in stories_per_event.values() if len(stories) > 1)
    line = figure(
        "events",
        "items_per_s",
        ours.rate,
        "plain datasketch MinHash(128, hashfunc=ours, affine32)+MinHashLSH(0.5) query+insert",
        theirs.rate,
        ours.rate / theirs.rate,
        items=len(data),
        batch=BATCH,
        seconds=round(ours.seconds, 2),
        anchor_seconds=round(theirs.seconds, 2),
        reposts_joined_share=round(joined / len(reposts), 4),
        near_duplicate_reposts_share=round(len(near) / len(reposts), 4),
        near_duplicate_reposts_joined_share=round(near_joined / max(1, len(near)), 4),
        events=len(stories_per_event),
        events_mixing_stories=mixed,
        joined_by=dict(sorted(joined_by.items())),
    )
    return line, grouper


def bench_rebuild(data: list[Synthetic], grouper: EventGrouper) -> dict[str, Any]:
    """Both sides load the index from the signatures the grouping run left behind."""
    stored = [(synthetic.item, signature_to_bytes(grouper.signature_of(synthetic.item.item_id))) for synthetic in data]
    event_ids = {item.item_id: index for index, (item, _) in enumerate(stored)}

    def ours() -> None:
        fresh = EventGrouper()
        fresh.add_many((replace(item, signature=signature_from_bytes(blob)), event_ids[item.item_id]) for item, blob in stored)

    def theirs() -> None:
        lsh = MinHashLSH(threshold=0.5, num_perm=128)
        with lsh.insertion_session() as session:
            for item, blob in stored:
                session.insert(item.item_id, MinHash(hashvalues=signature_from_bytes(blob), scheme="affine32"))

    seconds = interleave({"ours": ours, "anchor": theirs}, REBUILD_ROUNDS)
    return figure_from_rounds(
        "events",
        "rebuild_items_per_s",
        [len(data) / s for s in seconds["ours"]],
        "MinHashLSH.insertion_session of MinHash(hashvalues=stored)",
        [len(data) / s for s in seconds["anchor"]],
        items=len(data),
        note="ours also re-derives url and title keys and event_text lengths",
    )


def bench_memory(data: list[Synthetic]) -> dict[str, Any]:
    items = [synthetic.item for synthetic in data[:MEMORY_ITEMS]]
    rows = EventGrouper()
    rows.assign(items)
    stored = [rows.signature_of(item.item_id) for item in items]
    del rows
    gc.collect()

    def measure(build: Callable[[], Any]) -> float:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del kept
        return (after - before) / len(items)

    def ours() -> EventGrouper:
        grouper = EventGrouper()
        grouper.add_many((replace(item, signature=row), 1) for item, row in zip(items, stored, strict=True))
        return grouper

    def theirs() -> MinHashLSH:
        lsh = MinHashLSH(threshold=0.5, num_perm=128)
        for item, row in zip(items, stored, strict=True):
            lsh.insert(item.item_id, MinHash(hashvalues=row, scheme="affine32"))
        return lsh

    ours_bytes, theirs_bytes = measure(ours), measure(theirs)
    return figure(
        "events",
        "index_bytes_per_item",
        ours_bytes,
        "MinHashLSH(0.5, 128) holding the same signatures",
        theirs_bytes,
        theirs_bytes / ours_bytes,
        items=len(items),
        note=(
            "lower is better; ratio = anchor / ours; ours includes the signatures, the anchor's index keeps none; "
            "add_many leaves term profiles to the next assign (only the last day's items get them)"
        ),
    )


def new_grouper() -> EventGrouper:
    """The grouper of ``bench_grouping``, with the same options."""
    return EventGrouper(
        threshold=THRESHOLD, num_perm=NUM_PERM, ngram=NGRAM, seed=SEED_PERMUTATIONS, window=timedelta(days=7),
        min_text_chars=MIN_TEXT_CHARS,
    )  # fmt: skip


def bench_index_at_scale(data: list[Synthetic]) -> dict[str, Any]:
    """The index at ``SCALE_ITEMS``, on the line through two measured sizes (see the module docstring)."""
    sizes = sorted({min(len(data), MEMORY_ITEMS), min(len(data), 4 * MEMORY_ITEMS)})
    measured: dict[int, int] = {}
    for size in sizes:
        items = [synthetic.item for synthetic in data[:size]]
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        grouper = new_grouper()
        for first in range(0, size, BATCH):
            grouper.assign(items[first : first + BATCH])
        gc.collect()
        measured[size] = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        del grouper
    low, high = sizes[0], sizes[-1]
    per_item = (measured[high] - measured[low]) / (high - low) if high > low else measured[low] / low
    fixed = measured[low] - per_item * low
    mib = (fixed + per_item * SCALE_ITEMS) / 2**20
    return figure(
        "events",
        "index_mib_at_scale",
        mib,
        f"limit {MEMORY_LIMIT_MIB} MiB",
        MEMORY_LIMIT_MIB,
        MEMORY_LIMIT_MIB / mib,
        items=SCALE_ITEMS,
        method="extrapolated",
        measured_items=sizes,
        measured_mib=[round(measured[size] / 2**20, 2) for size in sizes],
        bytes_per_item=round(per_item),
        note="lower is better; ratio = limit / ours; tracemalloc of groupers that assigned the measured items, line through both",
    )


# --- output ---------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=ITEMS, help=f"items to group (default {ITEMS:,})")
    parser.add_argument(
        "--figures",
        default=",".join(FIGURES),
        help=(
            f"comma-separated figures to measure, of {', '.join(FIGURES)} (default all); "
            f"rebuild needs grouping; memory and scale alone count the words of the first {4 * MEMORY_ITEMS:,} items only"
        ),
    )
    args = parser.parse_args()
    figures = set(args.figures.split(","))
    if not figures <= set(FIGURES) or ("rebuild" in figures and "grouping" not in figures):
        parser.error(f"--figures takes some of {', '.join(FIGURES)}, and rebuild only with grouping")
    started = time.perf_counter()
    data = build_items(args.items, None if figures & {"grouping", "rebuild"} else 4 * MEMORY_ITEMS)
    # The data lives for the whole run: keep the collector from rescanning it
    # at every collection, which would land in whichever side runs then.
    gc.collect()
    gc.freeze()
    log(f"built {len(data):,} items ({sum(s.repost for s in data):,} reposts) in {time.perf_counter() - started:.1f} s")
    if "grouping" in figures:
        reset_peak_rss()
        line, grouper = bench_grouping(data)
        emit({**line, "peak_rss_mib": peak_rss_mib()})
        log(f"grouping done at {time.perf_counter() - started:.1f} s")
        if "rebuild" in figures:
            reset_peak_rss()
            emit({**bench_rebuild(data, grouper), "peak_rss_mib": peak_rss_mib()})
            log(f"rebuild done at {time.perf_counter() - started:.1f} s")
        del grouper
    gc.collect()
    if "memory" in figures:
        reset_peak_rss()
        emit({**bench_memory(data), "peak_rss_mib": peak_rss_mib()})
    if "scale" in figures:
        # The same state as after the other figures: the word and idf tables loaded before the measurement.
        new_grouper().assign([synthetic.item for synthetic in data[:BATCH]])
        reset_peak_rss()
        emit({**bench_index_at_scale(data), "peak_rss_mib": peak_rss_mib()})
    log(f"total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
