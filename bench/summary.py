"""Quality of the extractive summary (``yuqing_core.reports.summary``) against human-written summaries of Chinese news.

Run with ``make bench`` (or ``.venv/bin/python bench/summary.py``). Every line on stdout is one JSON object::

    {"bench": "summary", "metric": "rouge1_f", "value": ..., "anchor": "lead3", "anchor_value": ..., "ratio": ...}

The evaluation set is ``summary.jsonl`` in ``YUQING_EVAL_DIR`` (default: ``eval`` beside the checkout),
one article per line with its human-written ``summary``; ``bench/eval/build_summary.py`` builds it from
the public CLTS samples (澎湃新闻 articles and their editors' summaries; see ``bench/eval/README.md``). It
is not part of this repository; without it this script prints one line saying so and exits 0.

What is measured: ROUGE-1, ROUGE-2 and ROUGE-L F1, **character-level** (Chinese has no spaces; a
character n-gram needs no segmenter, so the score does not depend on jieba's dictionary; punctuation
and whitespace are dropped before counting), of our summary of each article (``summarize`` with
``max_sentences=3``) against its reference, averaged over the articles. The anchor is the lead-3
baseline on the same articles (its first three sentences, split the same way), the usual
extractive baseline for news; ``ratio`` is ours / lead-3. Both sides are deterministic, so one run
is the figure; the per-article spread (min and max of ours - lead-3) is in each line's details.

ROUGE here is the textbook definition (n-gram overlap F1; LCS-based F1 for ROUGE-L, beta = 1),
written out in 20 lines rather than bringing in rouge-score and its NLTK for a tokenizer we would replace.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchlib import emit, figure, log
from yuqing_core.reports.summary import Passage, lead_sentences, summarize

BENCH = "summary"
EVAL_FILE = "summary.jsonl"
SENTENCES = 3
_NOT_COUNTED = re.compile(r"[\s\W_]+", re.UNICODE)


def eval_dir() -> Path:
    configured = os.environ.get("YUQING_EVAL_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[1].parent / "eval"


def characters(text: str) -> list[str]:
    return list(_NOT_COUNTED.sub("", text))


def _f1(overlap: int, candidate: int, reference: int) -> float:
    if not overlap:
        return 0.0
    precision, recall = overlap / candidate, overlap / reference
    return 2 * precision * recall / (precision + recall)


def rouge_n(candidate: Sequence[str], reference: Sequence[str], n: int) -> float:
    grams = [Counter(tuple(chars[i : i + n]) for i in range(len(chars) - n + 1)) for chars in (candidate, reference)]
    overlap = sum((grams[0] & grams[1]).values())
    return _f1(overlap, sum(grams[0].values()), sum(grams[1].values()))


def rouge_l(candidate: Sequence[str], reference: Sequence[str]) -> float:
    previous = [0] * (len(reference) + 1)
    for char in candidate:
        current = [0]
        for j, other in enumerate(reference, 1):
            current.append(previous[j - 1] + 1 if char == other else max(previous[j], current[j - 1]))
        previous = current
    return _f1(previous[-1], len(candidate), len(reference))


METRICS: dict[str, Callable[[Sequence[str], Sequence[str]], float]] = {
    "rouge1_f": lambda c, r: rouge_n(c, r, 1),
    "rouge2_f": lambda c, r: rouge_n(c, r, 2),
    "rougeL_f": rouge_l,
}


def ours(article: str) -> str:
    return "".join(s.text for s in summarize([Passage(article)], max_sentences=SENTENCES))


def lead3(article: str) -> str:
    return "".join(lead_sentences(article, SENTENCES))


def main() -> int:
    path = eval_dir() / EVAL_FILE
    if not path.is_file():
        emit({"bench": BENCH, "metric": "skipped", "reason": f"evaluation set not found: {path} (set YUQING_EVAL_DIR; "
              "build it with bench/eval/build_summary.py)"})  # fmt: skip
        return 0
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    scores: dict[str, dict[str, list[float]]] = {side: {m: [] for m in METRICS} for side in ("ours", "lead3")}
    started = time.perf_counter()
    lengths: dict[str, list[int]] = {"ours": [], "lead3": [], "reference": []}
    for row in rows:
        reference = characters(row["summary"])
        lengths["reference"].append(len(reference))
        for side, summarise in (("ours", ours), ("lead3", lead3)):
            candidate = characters(summarise(row["article"]))
            lengths[side].append(len(candidate))
            for metric, score in METRICS.items():
                scores[side][metric].append(score(candidate, reference))
    log(f"summary: {len(rows)} articles in {time.perf_counter() - started:.1f} s")
    for metric in METRICS:
        value, anchor = statistics.fmean(scores["ours"][metric]), statistics.fmean(scores["lead3"][metric])
        gaps = [a - b for a, b in zip(scores["ours"][metric], scores["lead3"][metric], strict=True)]
        details: dict[str, Any] = {
            "articles": len(rows), "level": "character", "sentences": SENTENCES, "set": EVAL_FILE,
            "gap_min": round(min(gaps), 3), "gap_max": round(max(gaps), 3),
            "better_on": sum(g > 0 for g in gaps), "worse_on": sum(g < 0 for g in gaps),
            "chars_ours": round(statistics.fmean(lengths["ours"])), "chars_lead3": round(statistics.fmean(lengths["lead3"])),
            "chars_reference": round(statistics.fmean(lengths["reference"])),
        }  # fmt: skip
        emit(figure(BENCH, metric, value, "lead3", anchor, value / anchor if anchor else 0.0, **details))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
