"""Quality of incident-level grouping (``EventGrouper`` as ``analysis.grouping.new_grouper()`` builds it).

Part of ``bench/quality.py`` (which prints these lines after the stance lines); run alone with
``.venv/bin/python bench/grouping_quality.py [--half dev|test|both] [--options JSON]`` (``--options``
overrides grouper options, for tuning on the dev half only).

The set is ``grouping.jsonl`` in ``$YUQING_EVAL_DIR`` (see ``bench/eval/grouping.README.md``): real
Weibo posts spreading 81 claims or threads in different wordings (with verdicts, i.e. 辟谣, and
reactions), among 1,672 unrelated real posts (``group`` null). Each null row is its own gold
singleton.

Dev and test halves: a gold group belongs to the dev half when the SHA-1 of its id is even, and a
distractor by the SHA-1 of its own id, the same way. Options were tuned on dev only; test is the
headline. Each half is grouped on its own, as one stream.

How rows become items (the production path: ``new_grouper()``, ``assign`` in batches of
``BATCH`` in time order, ``resolve``, merges followed through ``event_of``):

- title empty (Weibo posts have none), text as given, one source name for all;
- a URL made of the row's id, and for a reaction (a comment or repost) ``in_reply_to`` made of its
  ``parent``: the post of the thread it belongs to, as the platform gives it with every comment and
  repost (the thread's source post in CED, the commented post in CHECKED), and for a verdict the post
  it judges (the service's notice "经查，此微博称…不实" is about that post and links it). A row whose post
  is not in the set (every distractor reaction) has only its text to go by. How much the threads give
  is printed beside: ``grouping_bcubed_f1[half,grouped,verdicts_unattached]`` (verdicts as posts of
  their own) and ``[half,grouped,no_threads]`` (a source that says nothing of threads);
- word counts from ``count_words`` of the text, as the match step stores them (no user words: the
  set has no risk library), and no topic keys (likewise);
- ``published_at`` is the row's time. Rows without one (the 85 verdicts, 28 CED source posts) are
  all placed at one fixed instant, ``NULL_TIME`` (after every dated row), not near their group:
  any placement from the file would leak the labels, since the file lists each group's rows
  together. So they can only join each other, which costs recall, honestly;
- item ids are the rows' rank by SHA-1 of their id, so ties in time are not broken in file order.

Figures, each with the plain MinHash baseline of the same half in the same run as the anchor
(``bench/eval/minhash_baseline.py``: datasketch ``MinHashLSH``, character 3-grams of the
whitespace-free text, 128 permutations, threshold 0.5 -- our MinHash step's options -- and
connected components, no time window):

``bcubed_{p,r,f1}[half,all]``
    B-cubed precision, recall and F1 over all rows of the half;
``bcubed_{p,r,f1}[half,grouped]``
    the same over the rows of gold groups only (precision still counts the distractors a gold
    row's event holds);
``unrelated_pulled_in[half]``
    the share of distractor rows placed in an event with any other row (lower is better, so
    ``ratio`` is anchor / ours; the target is at most 1%);
``rows_outside_main_event[half]``
    what keeps the gold rows apart (``residual``): the gold rows not in the event holding most of
    their group, by kind -- undated (unreachable here, see above), and per kind whether the row shares
    any evidence word with another row of its group -- and the grouped-rows F1 if the undated rows,
    the reactions, or both were in their group's main event (everything else as grouped).

Then the same figures on the demo county (``demo``): the items the pipeline would group, with the
demo library's topic keys and word counts, scored against their ``story`` labels (items without a
story count as singletons, although some of them are about one unlabelled happening, e.g. the
three reports of one 招商签约; read ``unrelated_pulled_in[demo]`` with that in mind), and
``events_mixing_stories[demo]``, the events holding items of two stories (must be 0).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from benchlib import emit, figure, log
from yuqing_core.analysis.grouping import GROUPING_WINDOW, LSH_WEIGHTS, MIN_TEXT_CHARS, SIMILARITY_THRESHOLD, new_grouper
from yuqing_core.events import EventGrouper, GroupItem, NewEvent, count_words

BENCH = "quality"
EVAL_FILE = "grouping.jsonl"
BATCH = 200
NULL_TIME = datetime.fromisoformat("2021-01-01T00:00:00+08:00")
SOURCE = "微博"
BASELINE_NGRAM, BASELINE_PERM, BASELINE_THRESHOLD = 3, 128, 0.5


def production_grouper(options: Mapping[str, Any]) -> EventGrouper:
    """``new_grouper()``, or with ``options`` overriding its defaults (tuning on dev)."""
    if not options:
        return new_grouper()
    options = {"min_text_chars": MIN_TEXT_CHARS, **options}
    return EventGrouper(threshold=SIMILARITY_THRESHOLD, window=GROUPING_WINDOW, lsh_weights=LSH_WEIGHTS, **options)


def half_of(row: Mapping[str, Any]) -> str:
    key = row["group"] or row["id"]
    return "dev" if int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


def rank_ids(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    ordered = sorted(rows, key=lambda row: hashlib.sha1(row["id"].encode("utf-8")).hexdigest())
    return {row["id"]: number for number, row in enumerate(ordered, 1)}


def post_url(row_id: str) -> str:
    """The address a row's post would have on the platform (rows carry ids; parents name ids)."""
    return f"https://weibo.com/eval/{row_id}"


def eval_items(rows: Sequence[Mapping[str, Any]]) -> list[GroupItem]:
    ids = rank_ids(rows)
    counts = count_words([row["text"] for row in rows])
    return [
        GroupItem(
            item_id=ids[row["id"]],
            published_at=datetime.fromisoformat(row["time"]) if row["time"] else NULL_TIME,
            url=post_url(row["id"]),
            title="",
            text=row["text"],
            source=SOURCE,
            word_counts=counted["words"],
            in_reply_to=post_url(row["parent"]) if row.get("parent") else None,
        )
        for row, counted in zip(rows, counts, strict=True)
    ]


def group(items: Sequence[GroupItem], grouper: EventGrouper) -> tuple[dict[int, Hashable], dict[str, int]]:
    """Item id -> final event, fed in time order in batches as the events flow does; and merges per reason."""
    ordered = sorted(items, key=lambda item: (item.published_at, item.item_id))
    next_id = 1
    merges: dict[str, int] = defaultdict(int)
    for first in range(0, len(ordered), BATCH):
        assignments = grouper.assign(ordered[first : first + BATCH])
        ids: dict[NewEvent, int] = {}
        for assignment in assignments:
            if isinstance(assignment.event, NewEvent) and assignment.event not in ids:
                ids[assignment.event] = next_id
                next_id += 1
        for merge in grouper.take_merges():
            merges[merge.reason] += 1
        grouper.resolve(ids)
    event_of = {item.item_id: grouper.event_of(item.item_id) for item in items}
    return {item_id: event for item_id, event in event_of.items() if event is not None}, dict(merges)


def baseline(texts: Mapping[Hashable, str]) -> dict[Hashable, Hashable]:
    """``bench/eval/minhash_baseline.py``: datasketch MinHash-LSH and connected components."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=BASELINE_THRESHOLD, num_perm=BASELINE_PERM)
    signatures = {}
    for key, text in texts.items():
        stripped = re.sub(r"\s+", "", text)
        minhash = MinHash(num_perm=BASELINE_PERM, seed=1)
        for start in range(max(1, len(stripped) - BASELINE_NGRAM + 1)):
            minhash.update(stripped[start : start + BASELINE_NGRAM].encode("utf-8"))
        signatures[key] = minhash
        lsh.insert(key, minhash)
    parent = {key: key for key in texts}

    def find(key: Hashable) -> Hashable:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for key in texts:
        for other in lsh.query(signatures[key]):
            parent[find(other)] = find(key)
    return {key: find(key) for key in texts}


def bcubed(
    predicted: Mapping[Hashable, Hashable], gold: Mapping[Hashable, Hashable], keys: Iterable[Hashable]
) -> tuple[float, float, float]:
    clusters: dict[Hashable, set[Hashable]] = defaultdict(set)
    classes: dict[Hashable, set[Hashable]] = defaultdict(set)
    for key in predicted:
        clusters[predicted[key]].add(key)
        classes[gold[key]].add(key)
    keys = list(keys)
    precision = recall = 0.0
    for key in keys:
        cluster, cls = clusters[predicted[key]], classes[gold[key]]
        shared = len(cluster & cls)
        precision += shared / len(cluster)
        recall += shared / len(cls)
    precision, recall = precision / len(keys), recall / len(keys)
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def pulled_in(predicted: Mapping[Hashable, Hashable], unrelated: Sequence[Hashable]) -> float:
    """Share of the unrelated rows that share their event with any other row."""
    sizes: dict[Hashable, int] = defaultdict(int)
    for event in predicted.values():
        sizes[event] += 1
    return sum(sizes[predicted[key]] > 1 for key in unrelated) / len(unrelated) if unrelated else 0.0


def scores(
    name: str,
    ours: Mapping[Hashable, Hashable],
    anchor: Mapping[Hashable, Hashable],
    gold: Mapping[Hashable, Hashable],
    grouped: Sequence[Hashable],
    unrelated: Sequence[Hashable],
    **details: Any,
) -> list[dict[str, Any]]:
    lines = []
    for slice_name, keys in (("all", list(gold)), ("grouped", grouped)):
        mine, theirs = bcubed(ours, gold, keys), bcubed(anchor, gold, keys)
        for metric, value, anchor_value in zip(("p", "r", "f1"), mine, theirs, strict=True):
            lines.append(
                figure(
                    BENCH, f"grouping_bcubed_{metric}[{name},{slice_name}]", value, "plain_minhash_lsh", anchor_value,
                    value / anchor_value if anchor_value else 0.0, rows=len(keys),
                )
            )  # fmt: skip
    mine, theirs = pulled_in(ours, unrelated), pulled_in(anchor, unrelated)
    lines.append(
        figure(
            BENCH, f"grouping_unrelated_pulled_in[{name}]", mine, "plain_minhash_lsh", theirs,
            theirs / mine if mine else 0.0, rows=len(unrelated), lower_is_better=True,
            events=len(set(ours.values())), anchor_events=len(set(anchor.values())), **details,
        )
    )  # fmt: skip
    return lines


def eval_half(rows: Sequence[Mapping[str, Any]], half: str, options: Mapping[str, Any]) -> list[dict[str, Any]]:
    chosen = [row for row in rows if half_of(row) == half]
    items = eval_items(chosen)
    by_id = {item.item_id: row for item, row in zip(items, chosen, strict=True)}
    ours, merges = group(items, production_grouper(options))
    anchor = baseline({item.item_id: item.text for item in items})
    gold = {item_id: row["group"] or f"null:{row['id']}" for item_id, row in by_id.items()}
    grouped = [item_id for item_id, row in by_id.items() if row["group"]]
    unrelated = [item_id for item_id, row in by_id.items() if not row["group"]]
    groups = len({row["group"] for row in chosen if row["group"]})
    lines = scores(half, ours, anchor, gold, grouped, unrelated, groups=groups, merges=merges)
    lines.append(residual(half, ours, gold, grouped, by_id, {item.item_id: item for item in items}))
    # The same rows with less of the thread known: verdicts as posts of their own, and no thread at all
    # (a source that does not say what a comment answers).
    for variant, keeps in (("verdicts_unattached", lambda row: row["kind"] != "verdict"), ("no_threads", lambda row: False)):
        fewer = [item if keeps(by_id[item.item_id]) else replace(item, in_reply_to=None) for item in items]
        theirs, _ = group(fewer, production_grouper(options))
        p, r, f1 = bcubed(theirs, gold, grouped)
        lines.append(
            figure(
                BENCH, f"grouping_bcubed_f1[{half},grouped,{variant}]", f1, "plain_minhash_lsh", bcubed(anchor, gold, grouped)[2],
                f1 / bcubed(anchor, gold, grouped)[2], rows=len(grouped), p=round(p, 3), r=round(r, 3),
                pulled_in=round(pulled_in(theirs, unrelated), 5),
            )
        )  # fmt: skip
    return lines


def residual(
    half: str,
    ours: Mapping[Hashable, Hashable],
    gold: Mapping[Hashable, Hashable],
    grouped: Sequence[Hashable],
    rows: Mapping[Hashable, Mapping[str, Any]],
    items: Mapping[Hashable, GroupItem],
) -> dict[str, Any]:
    """What keeps the gold rows apart: rows outside their group's main event, by kind, and what placing them would give.

    A row is outside when its event is not the one holding most of its gold group. ``undated``: the harness
    places it at ``NULL_TIME``, so no rule can reach its group; the others by kind, and whether the row shares
    any evidence word (idf >= 8, as the profile rule reads them) with another row of its group -- without one,
    no rule of ours has anything to go on. ``f1_if_*``: the grouped-rows F1 if those rows were in their
    group's main event, everything else as grouped.
    """
    from yuqing_core.events._hotwords import idf_table

    idf, median = idf_table()
    evidence = {key: {w for w in items[key].word_counts or {} if idf.get(w, median) >= 8.0} for key in grouped}
    members: dict[Hashable, list[Hashable]] = defaultdict(list)
    for key in grouped:
        members[gold[key]].append(key)
    main = {
        group: max(sorted({ours[k] for k in keys}, key=str), key=[ours[k] for k in keys].count) for group, keys in members.items()
    }
    outside: dict[str, int] = defaultdict(int)
    for group, keys in members.items():
        for key in keys:
            if ours[key] == main[group]:
                continue
            row = rows[key]
            if row["time"] is None:
                outside["undated"] += 1
            else:
                shares = any(evidence[key] & evidence[other] for other in keys if other != key)
                outside[f"{row['kind']}_{'sharing' if shares else 'sharing_no'}_evidence_word"] += 1

    def f1_if_placed(placed: Any) -> float:
        moved = dict(ours)
        for keys in members.values():
            rest = [k for k in keys if not placed(rows[k])]
            if rest:
                target = max(sorted({ours[k] for k in rest}, key=str), key=[ours[k] for k in rest].count)
                moved.update({k: target for k in keys if placed(rows[k])})
        return bcubed(moved, gold, grouped)[2]

    total = sum(outside.values())
    return figure(
        BENCH, f"grouping_rows_outside_main_event[{half}]", total, "gold_rows", len(grouped), total / len(grouped),
        lower_is_better=True, note="ratio = value / anchor_value: the share of gold rows outside", by_kind=dict(sorted(outside.items())),
        f1_if_undated_placed=round(f1_if_placed(lambda row: row["time"] is None), 3),
        f1_if_reactions_placed=round(f1_if_placed(lambda row: row["kind"] == "reaction"), 3),
        f1_if_both_placed=round(f1_if_placed(lambda row: row["time"] is None or row["kind"] == "reaction"), 3),
    )  # fmt: skip


def eval_demo(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    from yuqing_core.demo import load_county
    from yuqing_core.demo.backlog import RISK_FILE
    from yuqing_core.demo.events import county_group_items
    from yuqing_core.risk.library import CompiledLibrary, load_library_file

    story_items = county_group_items(load_county(), CompiledLibrary(load_library_file(RISK_FILE).spec))
    ours, merges = group([s.item for s in story_items], production_grouper(options))
    anchor = baseline({s.item.item_id: f"{s.item.title} {s.item.text}" for s in story_items})
    gold = {s.item.item_id: s.story or f"null:{s.key}" for s in story_items}
    grouped = [s.item.item_id for s in story_items if s.story]
    unrelated = [s.item.item_id for s in story_items if not s.story]
    stories: dict[Hashable, set[str]] = defaultdict(set)
    for s in story_items:
        if s.story:
            stories[ours[s.item.item_id]].add(s.story)
    mixing = sum(len(found) > 1 for found in stories.values())
    per_story: dict[str, list[int]] = {}
    for story in sorted({s.story for s in story_items if s.story}):
        sizes: dict[Hashable, int] = defaultdict(int)
        for s in story_items:
            if s.story == story:
                sizes[ours[s.item.item_id]] += 1
        per_story[story] = sorted(sizes.values(), reverse=True)
    lines = scores("demo", ours, anchor, gold, grouped, unrelated, merges=merges, events_per_story=per_story)
    lines.append(figure(BENCH, "grouping_events_mixing_stories[demo]", mixing, "zero", 0, 1.0 if not mixing else 0.0))
    return lines


def load_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def grouping_lines(
    path: Path, halves: Sequence[str] = ("dev", "test"), options: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    options = dict(options or {})
    lines: list[dict[str, Any]] = []
    if path.is_file():
        rows = load_rows(path)
        for half in halves:
            log(f"grouping: {half} half of {path}")
            lines += eval_half(rows, half, options)
    else:
        lines.append(
            {"bench": BENCH, "metric": "grouping_skipped", "reason": f"evaluation set not found: {path} (set YUQING_EVAL_DIR)"}
        )
    lines += eval_demo(options)
    return lines


def main() -> int:
    from quality import eval_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=("dev", "test", "both"), default="both")
    parser.add_argument("--options", default="{}", help="grouper options as JSON, overriding new_grouper()'s (tune on dev)")
    args = parser.parse_args()
    halves = ("dev", "test") if args.half == "both" else (args.half,)
    for line in grouping_lines(eval_dir() / EVAL_FILE, halves, json.loads(args.options)):
        emit(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
