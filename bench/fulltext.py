"""Full-text extraction (``yuqing_core.collect.fulltext.extract_main_text``) beside trafilatura used raw.

Run with ``make bench`` (or ``.venv/bin/python bench/fulltext.py``). Every line on stdout is one JSON object::

    {"bench": "fulltext", "metric": "char_f1", "value": ..., "anchor": "trafilatura-raw", "anchor_value": ..., "ratio": ...}

The evaluation set is Zyte's (Scrapinghub's) article-extraction-benchmark (MIT licence,
github.com/scrapinghub/article-extraction-benchmark): 181 captured article pages (``html/*.html.gz``)
with a human-checked reference main text each (``ground-truth.json``, ``articleBody``). It is read
from a clone's git directory, ``FULLTEXT_EVAL_GIT`` (default: the fetched mirror on this machine);
without it the bench says so and measures nothing. The pages are English: the set is the public
one with reference texts; the Chinese pages in ``tests/data/articles`` are only timed (no reference).

- ``char_f1``: character-level F1 of the extracted text against the reference, per page (the
  multiset of non-blank characters both share), averaged over the pages; a page with nothing
  extracted scores 0. The anchor is ``trafilatura.extract`` on the same bytes with its defaults.
- ``pages_per_s``: extraction throughput on the same pages (our decoding by the collector's rules,
  trafilatura with our options, blank-line cleanup and the length cap) against trafilatura raw,
  alternating the two sides over ``BENCH_ROUNDS`` rounds (``benchlib.interleave``); median and spread.
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import trafilatura

from benchlib import emit, figure, figure_from_rounds, interleave, log
from eval.gitdata import git_blobs, git_show, head_commit
from yuqing_core.collect.fulltext import extract_main_text

BENCH = "fulltext"
DEFAULT_GIT = "/work/.mirror/scrapinghub+article-extraction-benchmark/repo"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CHINESE_PAGES = Path(__file__).resolve().parents[1] / "tests" / "data" / "articles"


def char_f1(extracted: str, reference: str) -> float:
    """F1 of the non-blank characters of ``extracted`` against those of ``reference`` (as multisets)."""
    got = Counter(c for c in extracted if not c.isspace())
    want = Counter(c for c in reference if not c.isspace())
    shared = sum((got & want).values())
    if not shared:
        return 0.0
    precision, recall = shared / sum(got.values()), shared / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def ours(body: bytes) -> str:
    return extract_main_text(body)


def raw(body: bytes) -> str:
    return trafilatura.extract(body) or ""


def load_set(gitdir: str) -> list[tuple[bytes, str]]:
    truth = json.loads(git_show(gitdir, "ground-truth.json"))
    pages = []
    for path, data in git_blobs(gitdir, "html/"):
        key = Path(path).name.removesuffix(".html.gz")
        if key in truth:
            pages.append((gzip.decompress(data), truth[key]["articleBody"]))
    return pages


def runner(extract: Callable[[bytes], str], bodies: list[bytes]) -> Callable[[], int]:
    def run() -> int:
        return sum(len(extract(body)) for body in bodies)

    return run


def main() -> None:
    gitdir = os.environ.get("FULLTEXT_EVAL_GIT", DEFAULT_GIT)
    if not Path(gitdir).exists():
        log(f"evaluation set not found at {gitdir}: clone scrapinghub/article-extraction-benchmark and set FULLTEXT_EVAL_GIT")
        return
    pages = load_set(gitdir)
    log(f"{len(pages)} pages with reference texts, {head_commit(gitdir)[:12]}; {ROUNDS} rounds")
    ours_f1 = [char_f1(ours(body), reference) for body, reference in pages]
    raw_f1 = [char_f1(raw(body), reference) for body, reference in pages]
    emit(
        figure(
            BENCH, "char_f1", statistics.mean(ours_f1), "trafilatura-raw", statistics.mean(raw_f1),
            statistics.mean(ours_f1) / statistics.mean(raw_f1), pages=len(pages),
            median=round(statistics.median(ours_f1), 3), anchor_median=round(statistics.median(raw_f1), 3),
            empty=sum(f == 0 for f in ours_f1), anchor_empty=sum(f == 0 for f in raw_f1),
        )
    )  # fmt: skip
    for name, bodies in (
        ("pages_per_s", [body for body, _ in pages]),
        ("chinese_pages_per_s", [p.read_bytes() for p in sorted(CHINESE_PAGES.glob("*.html"))] * 10),
    ):
        seconds = interleave({"ours": runner(ours, bodies), "raw": runner(raw, bodies)}, ROUNDS)
        per_s = {side: [len(bodies) / s for s in times] for side, times in seconds.items()}
        emit(
            figure_from_rounds(
                BENCH, name, per_s["ours"], "trafilatura-raw", per_s["raw"],
                pages=len(bodies), bytes=sum(len(b) for b in bodies),
            )
        )  # fmt: skip


if __name__ == "__main__":
    main()
