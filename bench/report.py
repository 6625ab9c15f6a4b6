"""Benchmark: building the daily report from a small and from a large database.

Run with ``make bench`` (or ``.venv/bin/python bench/report.py``); prints one
JSON object per line::

    {"bench": "report", "metric": "daily_report_s_at_1m", "value": ..., "anchor": "daily_report_s_at_100k",
     "anchor_value": ..., "ratio": ...}

Two SQLite databases are filled with the same kind of history, 1,000 items
a day, one with 100 days (100,000 items) and one with 1,000 days (1,000,000
items): items with their analysis verdicts, risk-point matches, events and
their memberships, warnings, and the fetch attempts of a dozen sources
polled every half hour. The report of the last full day is then built
(``build_daily_report``: every query and the hot words, not the rendering)
from each, interleaved over five rounds: the medians and their spread.
The day holds the same number of items in both, so the ratio shows whether
the queries are bounded by the day (indexed) or by the database: the aim
is under 2x.
"""

from __future__ import annotations

import os

os.environ.setdefault("DO_NOT_TRACK", "1")

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import insert, select

from benchlib import emit, figure_from_rounds, interleave, log
from yuqing_core.config import Settings
from yuqing_core.db import Database, upgrade
from yuqing_core.db.models import (
    EarlyWarning,
    Event,
    EventItem,
    FetchAttempt,
    Item,
    ItemAnalysis,
    Match,
    Rule,
    Source,
)
from yuqing_core.reports.data import build_daily_report
from yuqing_core.risk.library import LoadedLibraryFile, load_library_text
from yuqing_core.risk.versions import import_library
from yuqing_core.timeutil import SHANGHAI

ITEMS_PER_DAY = 1000
SOURCES = 12
POLLS_PER_DAY = 48
BATCH = 20_000
PASSES = 5
POINTS = ["化工园区异味泄漏", "征收拆迁补偿", "拖欠农民工工资", "校园食品安全", "道路交通事故", "河道污染死鱼", "正面宣传"]
WORDS = [
    "青禾县",
    "柳湾镇",
    "东坪村",
    "化工园区",
    "异味",
    "泄漏",
    "拆迁",
    "补偿",
    "欠薪",
    "讨薪",
    "食堂",
    "车祸",
    "河道",
    "死鱼",
    "丰收",
    "通车",
    "会议",
    "群众",
    "反映",
    "部门",
    "回应",
    "调查",
]
LIBRARY = f"""name: 基准库
region:
  county_names: [青禾县]
  terms: [柳湾镇, 东坪村]
risk_points:
{chr(10).join(f"  - name: {name}{chr(10)}    severity: 2{chr(10)}    positive: {'true' if name == '正面宣传' else 'false'}{chr(10)}    rules: [{name}]" for name in POINTS)}
"""


def fill(db: Database, days: int, end: datetime, rng: random.Random) -> None:
    """``days`` days of history ending at ``end``, inserted in bulk."""
    start = end - timedelta(days=days)
    with db.writer() as session:
        session.execute(
            insert(Source),
            [
                {
                    "id": i + 1,
                    "name": f"信息源{i + 1}",
                    "url": f"http://example.org/{i}.xml",
                    "kind": "auto",
                    "weight": 1.0,
                    "poll_interval_s": 1800,
                    "timezone": "Asia/Shanghai",
                    "enabled": True,
                    "consecutive_errors": 0,
                    "redirect_count": 0,
                    "category": ["政务", "论坛", "媒体"][i % 3],
                    "created_at": start,
                    "updated_at": start,
                    "last_new_item_at": end,
                }
                for i in range(SOURCES)
            ],
        )
    import_library(db, LoadedLibraryFile(load_library_text(LIBRARY), LIBRARY, "<bench>"), author="bench", now=start)
    with db.reader() as session:
        rule_of = {rule.label: rule.id for rule in session.scalars(select(Rule).where(Rule.kind == "risk"))}
    item_id = event_id = warning_id = 0
    total_days = days
    for day in range(total_days):
        day_start = start + timedelta(days=day)
        items, analysis, matches, event_rows, members, warnings = [], [], [], [], [], []
        for _ in range(ITEMS_PER_DAY):
            item_id += 1
            published = day_start + timedelta(seconds=rng.randrange(86400))
            title = "".join(rng.choices(WORDS, k=6))
            items.append({
                "id": item_id, "source_id": rng.randrange(SOURCES) + 1, "entry_key": f"id:{item_id}", "guid": str(item_id),
                "url": f"http://example.org/a/{item_id}", "title": title, "text": title * 4, "excerpt": title,
                "published_at": published, "fetched_at": published, "fingerprint": f"{item_id:040d}",
            })  # fmt: skip
            relevant = rng.random() < 0.85
            analysis.append(
                {"item_id": item_id, "version_id": 1, "relevant": relevant, "excluded": False, "analyzed_at": published}
            )
            if relevant and rng.random() < 0.3:
                point = rng.randrange(len(POINTS))
                matches.append({"item_id": item_id, "rule_id": rule_of[POINTS[point]], "version_id": 1, "kind": "risk", "risk_point_name": POINTS[point],
                                "hits": [{"term": POINTS[point], "field": "title", "start": 0, "end": 2}], "created_at": published})  # fmt: skip
                if rng.random() < 0.5 or not event_rows:
                    event_id += 1
                    event_rows.append({
                        "id": event_id, "seed_item_id": item_id, "title": title, "first_seen_at": published, "last_seen_at": published,
                        "item_count": 1, "source_count": 1, "velocity_per_h": 0.0, "heat": rng.random() * 50,
                        "risk_points": [POINTS[point]], "hot_words": [["青禾", 1.0]], "sensitive_words": [], "score": 45.0,
                        "level": 4 if rng.random() < 0.2 else None, "updated_at": published,
                    })  # fmt: skip
                    if event_rows[-1]["level"]:
                        warning_id += 1
                        warnings.append({"id": warning_id, "event_id": event_id, "level": 4, "score": 45.0, "version_id": 1,
                                         "reasons": {"risk_points": [POINTS[point]]}, "status": "open", "effective_level": 4,
                                         "created_at": published, "updated_at": published})  # fmt: skip
                members.append({"item_id": item_id, "event_id": event_rows[-1]["id"], "joined_by": "seed", "published_at": published,
                                "joined_at": published})  # fmt: skip
        attempts = [
            {
                "source_id": s + 1,
                "started_at": day_start + timedelta(minutes=30 * p),
                "finished_at": day_start + timedelta(minutes=30 * p, seconds=1),
                "status": "ok" if p % 2 else "not_modified",
                "entries_seen": 20,
                "items_new": 2,
                "bytes_read": 4096,
            }
            for s in range(SOURCES)
            for p in range(POLLS_PER_DAY)
        ]
        with db.writer() as session:
            for model, rows in ((Item, items), (ItemAnalysis, analysis), (Match, matches), (Event, event_rows),
                                (EventItem, members), (EarlyWarning, warnings), (FetchAttempt, attempts)):  # fmt: skip
                if rows:
                    session.execute(insert(model.__table__), rows)
        if day % 100 == 99:
            log(f"  {day + 1}/{total_days} days")


def best_build(db: Database, settings: Settings, day, now: datetime) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    report = build_daily_report(db, settings, day, now=now)
    assert report.items == ITEMS_PER_DAY, report.items
    return time.perf_counter() - started


def main() -> int:
    rng = random.Random(20261128)
    end = datetime(2026, 11, 28, tzinfo=SHANGHAI).astimezone(UTC)
    day = (end - timedelta(days=1)).astimezone(SHANGHAI).date()
    with tempfile.TemporaryDirectory() as folder:
        databases = {}
        for label, days in (("100k", 100), ("1m", 1000)):
            path = Path(folder) / f"{label}.db"
            db = Database(f"sqlite:///{path}")
            upgrade(db)
            log(f"filling {label} ({days} days of {ITEMS_PER_DAY} items)")
            started = time.perf_counter()
            fill(db, days, end, rng)
            log(f"  filled in {time.perf_counter() - started:.0f}s")
            databases[label] = (db, Settings(home=Path(folder), database_url=f"sqlite:///{path}"))
        now = end + timedelta(hours=8)
        timings = interleave(
            {label: partial(best_build, db, settings, day, now) for label, (db, settings) in databases.items()}, PASSES
        )
        emit(figure_from_rounds(
            "report", "daily_report_s_at_1m", timings["1m"], "daily_report_s_at_100k", timings["100k"],
            items_per_day=ITEMS_PER_DAY, note="lower is better; ratio = value / anchor_value, the aim is under 2",
        ))  # fmt: skip
        for db, _ in databases.values():
            db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
