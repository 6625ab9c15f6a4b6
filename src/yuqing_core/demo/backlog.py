"""A backlog of stored, unanalysed items made from the sample county, for scale tests and benchmarks.

Each of the sample county's posts is told again every ten days for
``rounds`` rounds (a new event each time: the grouping windows are shorter)
and reposted ``reposts`` times by other sources within hours, cut
shorter and wrapped as reposts are ("转：", "转发微博//@…:"). Everything is
dated long before today, so the analysis gives the same verdicts, events
and scores whenever it runs. Items go in through the archive import, the
same normalize-and-store path as feeds.

Example::

    folder = tmp_path / "backlog"
    count = import_backlog(db, settings, folder, rounds=3, reposts=2)   # about 2,600 items
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from yuqing_core.collect.archive import import_archive
from yuqing_core.collect.sources import import_sources, load_sources_file
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.demo import County, item_time, load_county, sources_yaml
from yuqing_core.risk.library import load_library_file
from yuqing_core.risk.versions import import_library
from yuqing_core.timeutil import SHANGHAI, utcnow

RISK_FILE = Path(__file__).with_name("risk.yaml")
ROUND_DAYS = 10
WRAPPERS = ("转：{}", "【关注】{}", "转发微博//@青溪钓客:{}", "{}")


def backlog_size(rounds: int, reposts: int, county: County | None = None) -> int:
    """How many items ``write_backlog`` writes for these settings."""
    return len((county or load_county()).items) * rounds * (1 + reposts)


def write_backlog(folder: Path, rounds: int, reposts: int, county: County | None = None) -> dict[str, Path]:
    """One JSON Lines archive per source under ``folder``; returns source name -> file."""
    county = county or load_county()
    names = [s["name"] for s in county.sources if s["format"] != "hot-page"]  # a hot list carries no reposts
    start = (utcnow() - timedelta(days=ROUND_DAYS * rounds + 60)).astimezone(SHANGHAI).date()
    lines: dict[str, list[str]] = {name: [] for name in names}
    for round_ in range(rounds):
        day = start + timedelta(days=ROUND_DAYS * round_)
        for number, item in enumerate(county.items):
            published = item_time(item, day)
            title, body = str(item.get("title") or ""), str(item["text"])
            lines[item["source"]].append(_line(f"{item['id']}-w{round_}", title, body, published))
            for repost in range(reposts):
                source = names[(number + 3 * repost + round_ + 1) % len(names)]
                wrap = WRAPPERS[(number + repost) % len(WRAPPERS)]
                cut = body[: max(30, len(body) * (3 + repost % 3) // 5)]
                lines[source].append(
                    _line(
                        f"{item['id']}-w{round_}-r{repost}",
                        wrap.format(title) if title else "",
                        wrap.format(cut),
                        published + timedelta(minutes=37 * (repost + 1) + number % 50),
                    )
                )
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for number, (name, found) in enumerate(lines.items()):
        files[name] = folder / f"source-{number}.jsonl"
        files[name].write_text("".join(line + "\n" for line in found), encoding="utf-8")
    return files


def import_backlog(db: Database, settings: Settings, folder: Path, rounds: int, reposts: int) -> int:
    """The sample county's sources and risk library, and the backlog, into ``db``; returns the items stored."""
    county = load_county()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sources.yaml").write_text(sources_yaml(county, "http://127.0.0.1:9"), encoding="utf-8")
    import_sources(db, load_sources_file(folder / "sources.yaml"), settings)
    import_library(db, load_library_file(RISK_FILE), author="基准")
    files = write_backlog(folder, rounds, reposts, county)
    return sum(import_archive(db, settings, path, name).items_new for name, path in files.items())


def _line(guid: str, title: str, body: str, published: datetime) -> str:
    record = {
        "guid": guid,
        "title": title,
        "text": body,
        "published": published.isoformat(),
        "url": f"http://example.org/a/{guid}.html",
    }
    return json.dumps(record, ensure_ascii=False)
