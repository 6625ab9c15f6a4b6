#!/usr/bin/env python3
"""Sanity-check baseline for grouping.jsonl: plain MinHash-LSH near-duplicate
clustering (char n-gram shingles, connected components) scored with B-cubed.

Gold: each non-null `group` is a cluster; every null (distractor) row is its
own singleton cluster. B-cubed P/R/F1 are averaged over ALL rows, and also
reported over group rows only (precision still counts distractors that were
merged into a gold row's predicted cluster).

Requires: datasketch (tested 2.0.0). Usage:
  python minhash_baseline.py [grouping.jsonl] [--ngram 3] [--threshold 0.5]
"""

import argparse
import collections
import json
import os
import re
from pathlib import Path

from datasketch import MinHash, MinHashLSH


def shingles(text, n):
    t = re.sub(r"\s+", "", text)
    return {t[i : i + n] for i in range(max(1, len(t) - n + 1))}


def bcubed(pred, gold, items):
    pc = collections.defaultdict(set)
    gc = collections.defaultdict(set)
    for i in pred:
        pc[pred[i]].add(i)
        gc[gold[i]].add(i)
    P = R = 0.0
    for i in items:
        a, b = pc[pred[i]], gc[gold[i]]
        inter = len(a & b)
        P += inter / len(a)
        R += inter / len(b)
    P /= len(items)
    R /= len(items)
    return P, R, (2 * P * R / (P + R) if P + R else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=os.path.join(os.environ.get("YUQING_EVAL_DIR", "../eval"), "grouping.jsonl"))
    ap.add_argument("--ngram", type=int, default=3)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--perm", type=int, default=128)
    a = ap.parse_args()
    rows = [json.loads(line) for line in Path(a.path).read_text(encoding="utf-8").splitlines() if line.strip()]
    lsh = MinHashLSH(threshold=a.threshold, num_perm=a.perm)
    mh = {}
    for r in rows:
        m = MinHash(num_perm=a.perm, seed=1)
        for s in shingles(r["text"], a.ngram):
            m.update(s.encode("utf-8"))
        mh[r["id"]] = m
        lsh.insert(r["id"], m)
    parent = {r["id"]: r["id"] for r in rows}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r in rows:
        for other in lsh.query(mh[r["id"]]):
            parent[find(other)] = find(r["id"])
    pred = {r["id"]: find(r["id"]) for r in rows}
    gold = {r["id"]: (r["group"] if r["group"] else "null:" + r["id"]) for r in rows}
    allp = bcubed(pred, gold, [r["id"] for r in rows])
    grp = bcubed(pred, gold, [r["id"] for r in rows if r["group"]])
    core = [r["id"] for r in rows if r["group"] and r.get("kind") in ("claim_post", "verdict", "original")]
    corep = bcubed(pred, gold, core) if core else (0, 0, 0)
    print(
        json.dumps(
            {
                "ngram": a.ngram,
                "threshold": a.threshold,
                "rows": len(rows),
                "bcubed_all": dict(zip("PRF", [round(x, 4) for x in allp], strict=True)),
                "bcubed_group_rows": dict(zip("PRF", [round(x, 4) for x in grp], strict=True)),
                "bcubed_core_rows(claim_post/verdict/original)": dict(zip("PRF", [round(x, 4) for x in corep], strict=True)),
                "predicted_clusters": len(set(pred.values())),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
