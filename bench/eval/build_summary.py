#!/usr/bin/env python3
"""Build $YUQING_EVAL_DIR/ (default: ../eval beside the checkout) summary.jsonl: Chinese news with human-written summaries.

Two public sources, read straight from fetched git directories (no work tree):

* **LCSTS** (A Large Scale Chinese Short Text Summarization Dataset; Hu, Chen and Zhu, 2015), the
  pairs a public repository keeps as sample data: https://github.com/damo894127201/TextSummarization,
  ``Pytorch+ABS2015/Bag-of-Words_EncoderCPU/data/{eval,test}/{source,target}.txt`` (1,066 + 2,134
  pairs, one character-spaced text a line). Each text is a news post of a media account on Sina
  Weibo (人民日报、财经网 ...: 80 to 140 characters, two to six sentences) and its summary is the
  headline the account wrote for it (one phrase, about 18 characters; the 30 texts that still open with that 【headline】 lose it here).
  LCSTS is "free to the public"
  for research, with the copyright of the posts their writers'; the repository states no licence.
* **CLTS** (A Chinese Long Text Summarization Dataset; Liu et al., 2020), the sample file of
  https://github.com/lxj5957/CLTS-Dataset, ``samples.txt``: 7 articles of 澎湃新闻 (thepaper.cn), each
  with the multi-sentence summary its editors wrote. No licence stated; the full set is handed out
  by its authors on request.

So the data is not kept in this repository: this script rebuilds it from clones.

Usage: LCSTS_GIT=/path/to/TextSummarization/.git CLTS_GIT=/path/to/CLTS-Dataset/.git python bench/eval/build_summary.py
(either variable may be left out; its source is then skipped).

Each output line: {"id": ..., "set": "lcsts"|"clts", "split": "dev"|"test", "article": ..., "summary": ...,
"source": "<repo path>@<commit>"}. Exact duplicate texts are kept once. ``split`` is by a hash of the
article text (SHA-256, first byte even: dev, odd: test), so a pair stays in its half whoever builds
the set and whatever else is added. Deterministic: the same commits give byte-identical output.
"""

import hashlib
import json
import os
import re
import sys
from pathlib import Path

from gitdata import git_show, head_commit

SAMPLE = re.compile(r"^Sample\s+(\d+)\s*$")
LCSTS_DIR = "Pytorch+ABS2015/Bag-of-Words_EncoderCPU/data"
LCSTS_PARTS = ("eval", "test")
# The texts are spaced character by character; a run of spaces stood for one in the original.
_SPACING = re.compile(r" (?! )")
_DOUBLED_QUOTE = re.compile(r'""')
# LCSTS took its summaries from the 【headline】 a post opens with; 30 texts still carry it, so it goes.
_LEADING_HEADLINE = re.compile(r"^【[^】]*】")


def split_of(article):
    """'dev' or 'test': the half this article belongs to, by a hash of its text."""
    return "dev" if hashlib.sha256(article.encode("utf-8")).digest()[0] % 2 == 0 else "test"


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


def unspace(line):
    """The text of a character-spaced LCSTS line: single spaces dropped, CSV-doubled quotes undone."""
    text = _SPACING.sub("", line.strip())
    text = re.sub(r" {2,}", " ", text)
    text = _DOUBLED_QUOTE.sub('"', text)
    return text.strip().strip('"').strip()


def lcsts_rows(gitdir):
    commit = head_commit(gitdir)[:12]
    for part in LCSTS_PARTS:
        sources, targets = (
            git_show(gitdir, f"{LCSTS_DIR}/{part}/{name}.txt").decode("utf-8").splitlines() for name in ("source", "target")
        )
        if len(sources) != len(targets):
            raise SystemExit(f"{LCSTS_DIR}/{part}: {len(sources)} texts but {len(targets)} summaries")
        for number, (source, target) in enumerate(zip(sources, targets, strict=True), 1):
            article, summary = _LEADING_HEADLINE.sub("", unspace(source)).strip(), unspace(target)
            if article and summary:
                yield {
                    "id": f"lcsts-{part}-{number}", "set": "lcsts", "article": article, "summary": summary,
                    "source": f"damo894127201/TextSummarization {LCSTS_DIR}/{part}@{commit}",
                }  # fmt: skip


def clts_rows(gitdir):
    commit = head_commit(gitdir)[:12]
    text = git_show(gitdir, "samples.txt").decode("utf-8")
    for number, article, summary in samples(text):
        yield {
            "id": f"clts-sample-{number}", "set": "clts", "article": article, "summary": summary,
            "source": f"lxj5957/CLTS-Dataset samples.txt@{commit}",
        }  # fmt: skip


def main():
    sources = [(os.environ.get("LCSTS_GIT"), lcsts_rows), (os.environ.get("CLTS_GIT"), clts_rows)]
    if not any(gitdir for gitdir, _ in sources):
        raise SystemExit("set LCSTS_GIT and/or CLTS_GIT to the git directories of clones (see the docstring)")
    out_dir = Path(os.environ.get("YUQING_EVAL_DIR") or Path(__file__).resolve().parents[3] / "eval")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, seen = [], set()
    for gitdir, read in sources:
        if not gitdir:
            continue
        for row in read(gitdir):
            if row["article"] in seen:
                continue
            seen.add(row["article"])
            rows.append({**row, "split": split_of(row["article"])})
    path = out_dir / "summary.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    halves = {half: sum(r["split"] == half for r in rows) for half in ("dev", "test")}
    print(f"{path}: {len(rows)} articles (dev {halves['dev']}, test {halves['test']})", file=sys.stderr)


if __name__ == "__main__":
    main()
