#!/usr/bin/env python3
"""Build $YUQING_EVAL_DIR/ (default: ../eval beside the checkout) summary.jsonl: Chinese news with human-written summaries.

Source: the sample file of CLTS (A Chinese Long Text Summarization Dataset; Liu et al., 2020),
https://github.com/lxj5957/CLTS-Dataset, ``samples.txt``: articles from the news site 澎湃新闻
(thepaper.cn), each with the summary its editors wrote (several sentences). The repository states
no licence and the full set is handed out by its authors on request; the articles' copyright is
the publisher's. So the data is not kept in this repository: this script rebuilds it from a clone.

Usage: CLTS_GIT=/path/to/CLTS-Dataset/.git python bench/eval/build_summary.py

Each output line: {"id": "clts-sample-N", "article": ..., "summary": ..., "source": "CLTS samples.txt@<commit>"}.
Deterministic: the same commit gives byte-identical output.
"""

import json
import os
import re
import sys
from pathlib import Path

from gitdata import git_show, head_commit

SAMPLE = re.compile(r"^Sample\s+(\d+)\s*$")


def samples(text):
    """(number, article, summary) for each sample: a "Sample N" line, then a summarization and an article JSON line."""
    number, fields = None, {}
    for line_number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        header = SAMPLE.match(line)
        if header:
            number, fields = int(header.group(1)), {}
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"samples.txt line {line_number}: not JSON ({exc})") from exc
        fields.update(record)
        if number is not None and "article" in fields and "summarization" in fields:
            yield number, fields["article"].strip(), fields["summarization"].strip()
            number, fields = None, {}


def main():
    gitdir = os.environ.get("CLTS_GIT")
    if not gitdir:
        raise SystemExit("set CLTS_GIT to the git directory of a clone of lxj5957/CLTS-Dataset")
    out_dir = Path(os.environ.get("YUQING_EVAL_DIR") or Path(__file__).resolve().parents[3] / "eval")
    out_dir.mkdir(parents=True, exist_ok=True)
    commit = head_commit(gitdir)
    text = git_show(gitdir, "samples.txt").decode("utf-8")
    rows = [
        {"id": f"clts-sample-{n}", "article": article, "summary": summary, "source": f"CLTS samples.txt@{commit[:12]}"}
        for n, article, summary in samples(text)
    ]
    path = out_dir / "summary.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    print(f"{path}: {len(rows)} articles", file=sys.stderr)


if __name__ == "__main__":
    main()
