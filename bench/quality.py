"""Quality of the stance classifier (``yuqing_core.risk.stance``) and of incident grouping on real Chinese texts.

Run with ``make bench`` (or ``.venv/bin/python bench/quality.py``). Every line on stdout is one JSON
object, as in the other benchmarks::

    {"bench": "quality", "metric": "f1[complaint]", "value": ..., "anchor": "role_only", "anchor_value": ..., "ratio": ...}

The evaluation set is ``stance.jsonl`` in the folder named by ``YUQING_EVAL_DIR`` (default: ``eval``
beside the checkout, ``../eval``): one object per line with ``text``, ``source_role``
(official | media | public | null), ``label`` (one of the nine stances) and ``labelled_by``
(``dataset`` | ``hand``). It is built from public datasets whose terms forbid redistribution, so it
is never part of this repository; without it this script prints one line saying so and exits 0.

What is measured, per class: precision, recall and F1 of ``classify_stance(None, text, role)``;
then the macro-F1 over the nine classes, overall and on the dataset-labelled and hand-labelled rows
separately. Beside each figure, an anchor computed in the same run:

``role_only``
    a stance from the source role alone, fixed in advance (not fitted to the set): official ->
    official_response, public -> complaint, media and unknown -> other. What "who speaks" gives
    without reading a word.
``majority``
    every row gets the most frequent label of the set (in the details of each line).

``ratio`` is ours / anchor (null when the anchor scores 0). The confusion matrix goes to stderr.

Cost, last line (``items_per_s``): the classifier over the demo county's items (repeated to 6,500),
beside the anchor the match step already pays per item, the demo risk library's
``CompiledLibrary.judge_many`` over the same items; interleaved rounds, medians (``benchlib``).

Then the grouping lines (``grouping_*``): B-cubed precision, recall and F1 of ``EventGrouper`` on
``grouping.jsonl`` (dev and test halves) and on the demo county, beside plain MinHash-LSH; see
``bench/grouping_quality.py`` for what exactly is measured and how the rows are fed.

Read the stance figures with the set's caveats (its README): classes are confounded with genre and
source (citizen messages vs. government replies vs. @人民日报 posts vs. debunked Weibo rumours),
several classes are thin (resolution 9 rows, question 28), and 300 labels were given by an AI
assistant in one pass without adjudication -- silver labels, not ground truth. The lexicons were
written from domain knowledge, not fitted to these rows.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import emit, figure, figure_from_rounds, interleave, log
from grouping_quality import EVAL_FILE as GROUPING_FILE
from grouping_quality import grouping_lines
from yuqing_core.demo import load_county
from yuqing_core.demo.backlog import RISK_FILE
from yuqing_core.risk.library import CompiledLibrary, load_library_file
from yuqing_core.risk.stance import STANCES, classify_stance
from yuqing_core.rules import MatchText

BENCH = "quality"
EVAL_FILE = "stance.jsonl"
ROLE_ONLY = {"official": "official_response", "public": "complaint", "media": "other", None: "other"}


def eval_dir() -> Path:
    configured = os.environ.get("YUQING_EVAL_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[1].parent / "eval"


def load_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                if row.get("label") not in STANCES:
                    raise ValueError(f"{path}: label {row.get('label')!r} of row {row.get('id')!r} is not a stance")
                rows.append(row)
    return rows


def per_class(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, tuple[float, float, float, int]]:
    """Class -> (precision, recall, F1, support)."""
    out = {}
    for stance in STANCES:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == stance)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if p == stance and g != stance)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == stance and p != stance)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[stance] = (precision, recall, f1, tp + fn)
    return out


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the classes present in ``gold`` (a class absent from a subset is not scored there)."""
    scores = per_class(gold, predicted)
    present = [s for s in STANCES if scores[s][3]]
    return sum(scores[s][2] for s in present) / len(present) if present else 0.0


def line(metric: str, value: float, anchor: str, anchor_value: float, **details: Any) -> dict[str, Any]:
    out = figure(BENCH, metric, value, anchor, anchor_value, value / anchor_value if anchor_value else 0.0, **details)
    if not anchor_value:
        out["ratio"] = None
    return out


def confusion(gold: Sequence[str], predicted: Sequence[str]) -> str:
    counts = Counter(zip(gold, predicted, strict=True))
    short = {s: s[:8] for s in STANCES}
    rows = ["gold \\ ours".ljust(18) + " ".join(short[s].rjust(8) for s in STANCES)]
    for g in STANCES:
        rows.append(g.ljust(18) + " ".join(str(counts[(g, p)] or ".").rjust(8) for p in STANCES))
    return "\n".join(rows)


def main() -> int:
    path = eval_dir() / EVAL_FILE
    if not path.is_file():
        emit({"bench": BENCH, "metric": "skipped", "reason": f"evaluation set not found: {path} (set YUQING_EVAL_DIR)"})
    else:
        stance_lines(path)
    for line in grouping_lines(eval_dir() / GROUPING_FILE):
        emit(line)
    return 0


def stance_lines(path: Path) -> None:
    rows = load_rows(path)
    gold = [r["label"] for r in rows]
    started = time.perf_counter()
    ours = [classify_stance(None, r["text"], r.get("source_role")).stance for r in rows]
    seconds = time.perf_counter() - started
    role_only = [ROLE_ONLY.get(r.get("source_role"), "other") for r in rows]
    majority_label = Counter(gold).most_common(1)[0][0]
    majority = [majority_label] * len(rows)
    log(f"{len(rows)} rows from {path}; {len(rows) / seconds:,.0f} items/s classified")
    log("confusion (rows: gold, columns: ours):\n" + confusion(gold, ours))

    scores, anchor_scores, majority_scores = per_class(gold, ours), per_class(gold, role_only), per_class(gold, majority)
    for stance in STANCES:
        p, r, f1, support = scores[stance]
        ap, ar, af1, _ = anchor_scores[stance]
        emit(
            line(
                f"f1[{stance}]", f1, "role_only", af1,
                precision=round(p, 3), recall=round(r, 3), support=support,
                anchor_precision=round(ap, 3), anchor_recall=round(ar, 3), majority_f1=round(majority_scores[stance][2], 3),
            )
        )  # fmt: skip
    emit(
        line(
            "macro_f1", macro_f1(gold, ours), "role_only", macro_f1(gold, role_only),
            rows=len(rows), majority=majority_label, majority_macro_f1=round(macro_f1(gold, majority), 3),
            accuracy=round(sum(g == p for g, p in zip(gold, ours, strict=True)) / len(rows), 3),
            anchor_accuracy=round(sum(g == p for g, p in zip(gold, role_only, strict=True)) / len(rows), 3),
        )
    )  # fmt: skip

    def subset(values: list[str], who: str) -> list[str]:
        return [v for v, row in zip(values, rows, strict=True) if row.get("labelled_by") == who]

    for who in ("dataset", "hand"):
        g = subset(gold, who)
        if g:
            emit(line(f"macro_f1[labelled_by={who}]", macro_f1(g, subset(ours, who)), "role_only",
                      macro_f1(g, subset(role_only, who)), rows=len(g)))  # fmt: skip
    emit(throughput())


def throughput(repeat: int = 20, rounds: int = 5) -> dict[str, Any]:
    county = load_county()
    roles = {s["name"]: s.get("role") for s in county.sources}
    items = [(i.get("title") or "", str(i["text"]), roles.get(i["source"])) for i in county.items] * repeat
    documents = [MatchText(title=title, text=text, source="") for title, text, _ in items]
    library = CompiledLibrary(load_library_file(RISK_FILE).spec)
    seconds = interleave(
        {
            "stance": lambda: [classify_stance(title, text, role) for title, text, role in items],
            "judge_many": lambda: library.judge_many(documents),
        },
        rounds,
    )
    return figure_from_rounds(
        BENCH, "items_per_s", [len(items) / s for s in seconds["stance"]],
        "demo_library_judge_many", [len(items) / s for s in seconds["judge_many"]], items=len(items),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
