"""Quality of the extractive summary (``yuqing_core.reports.summary``) against human-written summaries of Chinese news.

Run with ``make bench`` (or ``.venv/bin/python bench/summary.py``). Every line on stdout is one JSON object::

    {"bench": "summary", "metric": "test.rouge1_f", "value": ..., "anchor": "lead3", "anchor_value": ..., "ratio": ..., "n": ...}

The evaluation set is ``summary.jsonl`` in ``YUQING_EVAL_DIR`` (default: ``eval`` beside the checkout),
one article per line with its human-written ``summary`` and its half (``split``: dev or test, by a hash
of the text); ``bench/eval/build_summary.py`` builds it from public data (LCSTS news posts with their
headlines, the CLTS samples; see ``bench/eval/README.md``). It is not part of this repository; without
it this script prints one line saying so and exits 0. The summariser's settings were chosen on the dev
half only; the test half is the figure to quote. Lines for ``test`` come first, then ``dev``.

What is measured: ROUGE-1, ROUGE-2 and ROUGE-L F1, **character-level** (Chinese has no spaces; a
character n-gram needs no segmenter, so the score does not depend on jieba's dictionary; punctuation
and whitespace are dropped before counting), of our summary of each article against its reference,
averaged over the articles (``value``, ``anchor_value``), with the per-article medians and the share of
articles where ours scores higher, equal or lower. Ours is ``summarize`` with at most three sentences
and a length budget of ``BUDGET_SHARE`` of the article's characters (at least ``BUDGET_MIN_CHARS``),
the budget fixed beforehand from the article alone, never from its reference. The anchor is the
lead-3 baseline on the same articles (its first three sentences, split the same way); ``lead_budget``
in the details is the lead baseline held to the same character budget as ours (the first sentences
that fit, the first cut at a clause break if it alone is too long), which separates what choosing
sentences adds from what the budget adds. Both sides are deterministic, so one run is the figure.

ROUGE here is the textbook definition (n-gram overlap F1; LCS-based F1 for ROUGE-L, beta = 1),
written out in 20 lines rather than bringing in rouge-score and its NLTK for a tokenizer we would replace;
``tests/test_summary.py`` checks it against a hand-computed example.
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
from yuqing_core.reports.summary import Passage, SummarySettings, clause_cut, lead_sentences, summarize

BENCH = "summary"
EVAL_FILE = "summary.jsonl"
SENTENCES = 3
BUDGET_SHARE = 0.4  # of the article's characters (chosen on the dev half; see bench/eval/README.md)
BUDGET_MIN_CHARS = 20
SPLITS = ("test", "dev")
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


def budget(article: str) -> int:
    """The length budget of a summary of ``article``, in characters: a share of the article, known before any reference."""
    return max(BUDGET_MIN_CHARS, round(BUDGET_SHARE * len(article)))


def ours(article: str, settings: SummarySettings | None = None) -> str:
    chosen = summarize([Passage(article)], max_sentences=SENTENCES, max_chars=budget(article), settings=settings)
    return "".join(s.text for s in chosen)


def lead3(article: str) -> str:
    return "".join(lead_sentences(article, SENTENCES))


def lead_budget(article: str) -> str:
    limit, taken = budget(article), ""
    for sentence in lead_sentences(article, SENTENCES):
        if not taken and len(sentence) > limit:
            return clause_cut(sentence, limit)
        if len(taken) + len(sentence) > limit:
            break
        taken += sentence
    return taken


SIDES: dict[str, Callable[[str], str]] = {"ours": ours, "lead3": lead3, "lead_budget": lead_budget}


def load(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append({"article": str(row["article"]), "summary": str(row["summary"]), "split": row.get("split", "test"),
                         "set": row.get("set", "")})  # fmt: skip
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise SystemExit(f"{path} line {number}: not an article with its summary ({exc!r})") from exc
    return rows


def score(rows: Sequence[dict[str, Any]], sides: dict[str, Callable[[str], str]]) -> dict[str, dict[str, list[float]]]:
    """Per side, per metric: the score of each row, in row order."""
    scores: dict[str, dict[str, list[float]]] = {side: {m: [] for m in METRICS} for side in sides}
    for row in rows:
        reference = characters(row["summary"])
        for side, summarise in sides.items():
            candidate = characters(summarise(row["article"]))
            for metric, measure in METRICS.items():
                scores[side][metric].append(measure(candidate, reference))
    return scores


def main() -> int:
    path = eval_dir() / EVAL_FILE
    if not path.is_file():
        emit({"bench": BENCH, "metric": "skipped", "reason": f"evaluation set not found: {path} (set YUQING_EVAL_DIR; "
              "build it with bench/eval/build_summary.py)"})  # fmt: skip
        return 0
    rows = load(path)
    for split in SPLITS:
        part = [row for row in rows if row["split"] == split]
        if not part:
            continue
        started = time.perf_counter()
        scores = score(part, SIDES)
        log(f"summary: {split}: {len(part)} articles in {time.perf_counter() - started:.1f} s")
        lengths = {side: statistics.fmean(len(characters(fn(r["article"]))) for r in part) for side, fn in SIDES.items()}
        for metric in METRICS:
            mine, anchor, fair = scores["ours"][metric], scores["lead3"][metric], scores["lead_budget"][metric]
            gaps = [a - b for a, b in zip(mine, anchor, strict=True)]
            value, anchor_value = statistics.fmean(mine), statistics.fmean(anchor)
            details: dict[str, Any] = {
                "n": len(part), "split": split, "level": "character",
                "sets": dict(sorted(Counter(r["set"] for r in part).items())),
                "median": round(statistics.median(mine), 3), "anchor_median": round(statistics.median(anchor), 3),
                "share_better": round(sum(g > 0 for g in gaps) / len(gaps), 3),
                "share_equal": round(sum(g == 0 for g in gaps) / len(gaps), 3),
                "share_worse": round(sum(g < 0 for g in gaps) / len(gaps), 3),
                "lead_budget": round(statistics.fmean(fair), 3),
                "share_better_than_lead_budget": round(sum(a > b for a, b in zip(mine, fair, strict=True)) / len(gaps), 3),
                "share_worse_than_lead_budget": round(sum(a < b for a, b in zip(mine, fair, strict=True)) / len(gaps), 3),
                "chars_ours": round(lengths["ours"]), "chars_lead3": round(lengths["lead3"]),
                "chars_reference": round(statistics.fmean(len(characters(r["summary"])) for r in part)),
            }  # fmt: skip
            emit(
                figure(
                    BENCH,
                    f"{split}.{metric}",
                    value,
                    "lead3",
                    anchor_value,
                    value / anchor_value if anchor_value else 0.0,
                    **details,
                )
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
