"""Benchmark: the office workbench's busiest pages over a county-and-beyond database of 1,000,000 items.

Run with ``make bench`` (or ``.venv/bin/python bench/web.py``; ``--items N``
for a smaller database, ``--requests N`` for more or fewer timed requests
per page, ``--rebuild`` to make the data again, ``--drop`` to remove the
database at the end). Needs PostgreSQL on 127.0.0.1:5432 (trust auth);
without it the script says so in one line and exits 0. Prints one JSON
object per line::

    {"bench": "web", "metric": "p95_ms[warnings]", "value": ..., "anchor": "bare SQLAlchemy query",
     "anchor_value": ..., "ratio": ..., "median_ms": ..., "anchor_median_ms": ..., "target_ms": 300, ...}

What is measured, per page, ``--requests`` times (default 60), interleaved
with its anchor (``benchlib.interleave``: one request and one anchor run per
round, the first rotating):

- ``warnings``: ``GET /warnings`` (the open queue);
- ``event_large`` / ``event_typical``: ``GET /events/{id}`` for the event
  with the most items (6,000) and one of a dozen (the page's timeline
  shows 100 items a page; its charts count every item);
- ``cases``: ``GET /office/cases`` (the board of every case);
- ``search_common`` / ``search_rare``: ``GET /items?q=`` a two-character
  term found in several percent of the items, and one found in 30 items.

The subject is the full HTTP request to the real app (``create_app``,
FastAPI's TestClient, in process) signed in as an analyst: routing, the
session and access checks, the core queries, the template and the response.
The anchor is the data query the route runs (the same core function with
the same arguments, e.g. ``warning_queue(db, statuses=["open"])``,
``search_items(db, query=..., limit=51)``; for an event ``get_event``,
``explain_items`` of the first timeline page and ``event_spread``), bare through SQLAlchemy on the
same database. ``value`` is the page's 95th percentile in milliseconds,
``anchor_value`` the anchor's; ``ratio = anchor / page`` (lower is better,
so the share of the page's time that is the query). The issue asks for
every page under 300 ms at the 95th percentile (``within_target``).

The data, made once and kept in the database ``yuqing_bench_web`` (a
comment on the database records what it holds; a later run reuses it and
only applies newer migrations): the schema from the migrations
(``yuqing_core.db.upgrade``), the sample risk library and units, 300
sources, ``--items`` items spread evenly over the year up to now, their
titles and 40-160 character texts built from the demo county's clauses
(place names and numbers mixed in), about a quarter of them grouped into
some 25,000 events (one of 6,000 items, the rest of 1 to 30), a risk match
and an analysis for half the grouped items, a warning for 1,000 events (300
open, the rest acknowledged, downgraded or dismissed) and 300 cases opened
and moved on through ``cases.open_case`` and ``cases.act`` in every state.
Items, events, event items, analyses, matches and warnings go in by
``COPY`` with the items' indexes dropped during the load and made again
after it (the trigram indexes of 0012 and the bigram indexes of 0013
included), then ``ANALYZE``.

Cost: building 1,000,000 items takes about ten minutes on two busy cores
(most of it the trigram and bigram indexes); a run over a kept database a
few minutes (six pages, twice ``--requests`` timed calls each).
"""

from __future__ import annotations

import os

os.environ.setdefault("DO_NOT_TRACK", "1")

import argparse
import json
import math
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import PLACES, clause_body, county_clauses, emit, figure, interleave, log

ITEMS = int(os.environ.get("BENCH_WEB_ITEMS", "1000000"))
REQUESTS = int(os.environ.get("BENCH_WEB_REQUESTS", "60"))
DATABASE = "yuqing_bench_web"
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATA_VERSION = 1  # raise when the generated data changes: a kept database of another version is rebuilt
SEED = 20261202
SOURCES = 300
LARGE_EVENT = 6000
WARNINGS = {"open": 300, "acknowledged": 400, "downgraded": 100, "dismissed": 200}
CASES = 300
RARE_TERM = "鸭棚"  # in no clause of the demo county: put into exactly RARE_COUNT items
RARE_COUNT = 30
TARGET_MS = 300.0
ACCOUNT, PASSWORD = "bench-analyst", "bench web password"
SOURCE_COLUMNS = (
    "id", "name", "url", "kind", "category", "weight", "poll_interval_s", "timezone", "role", "role_inferred", "enabled",
    "consecutive_errors", "redirect_count", "created_at", "updated_at",
)  # fmt: skip
ANALYSIS_COLUMNS = ("item_id", "version_id", "relevant", "excluded", "analyzed_at", "stance", "stance_reason")


# --- the database ---------------------------------------------------------------------------------


def admin_engine() -> Any:
    from sqlalchemy import create_engine

    return create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


def postgres_available() -> bool:
    from sqlalchemy import text

    try:
        engine = admin_engine()
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def database_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(POSTGRES_ADMIN).set(database=DATABASE).render_as_string(hide_password=False)


def marker(items: int) -> str:
    return f"yuqing bench/web.py data v{DATA_VERSION}: {items} items"


def kept_marker() -> str | None:
    """The comment on the kept database (what it holds), None when there is none."""
    from sqlalchemy import text

    engine = admin_engine()
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :name"), {"name": DATABASE}
        ).first()
    engine.dispose()
    return None if found is None else (found[0] or "")


def recreate_database() -> None:
    from sqlalchemy import text

    engine = admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    engine.dispose()


def drop_database() -> None:
    from sqlalchemy import text

    engine = admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    engine.dispose()


def mark_database(items: int) -> None:
    from sqlalchemy import text

    engine = admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f"COMMENT ON DATABASE \"{DATABASE}\" IS '{marker(items)}'"))
    engine.dispose()


# --- the data -------------------------------------------------------------------------------------


def item_text(rng: random.Random, clauses: list[str]) -> tuple[str, str]:
    """A headline and a 40-160 character text."""
    text = clause_body(rng, clauses, 40, 160)
    return rng.choice(PLACES) + rng.choice(clauses)[:14], text


def common_term(texts: list[str]) -> str:
    """A two-character Chinese term in 2-10% of the texts (the most frequent such), for the common search."""
    counts: dict[str, int] = {}
    for text in texts:
        for gram in {text[i : i + 2] for i in range(len(text) - 1)}:
            if all("\u4e00" <= ch <= "\u9fff" for ch in gram):
                counts[gram] = counts.get(gram, 0) + 1
    fitting = [(n, gram) for gram, n in counts.items() if 0.02 * len(texts) <= n <= 0.10 * len(texts)]
    return max(fitting)[1]


def copy_rows(connection: Any, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> int:
    count = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def build(items: int) -> None:
    """A fresh ``yuqing_bench_web`` holding ``items`` items and everything around them (see the docstring)."""
    import psycopg
    from sqlalchemy import select, text

    from yuqing_core.accounts import add_account
    from yuqing_core.cases import CasePolicy, act, open_case
    from yuqing_core.db import Database, upgrade
    from yuqing_core.db.models import Rule
    from yuqing_core.notify import import_units, load_units_file
    from yuqing_core.risk.library import load_library_file
    from yuqing_core.risk.versions import import_library

    started = time.perf_counter()
    rng = random.Random(SEED)
    recreate_database()
    db = Database(database_url())
    upgrade(db)
    import yuqing_core

    demo = Path(yuqing_core.__file__).parent / "demo"  # by path: importing yuqing_core.demo pulls in the app
    units = [unit.name for unit in load_units_file(demo / "units.yaml").units]
    import_units(db, load_units_file(demo / "units.yaml").units)
    version_id = import_library(db, load_library_file(demo / "risk.yaml"), author="基准").version.id
    with db.reader() as session:
        rules = [(r.id, r.label) for r in session.scalars(select(Rule).where(Rule.version_id == version_id, Rule.kind == "risk"))]
        indexes = session.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'items' AND indexname NOT IN "
                 "(SELECT conname FROM pg_constraint WHERE conrelid = 'items'::regclass)")
        ).all()  # fmt: skip
        constraints = [
            (name, definition)
            for name, definition in session.execute(
                text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                     "WHERE conrelid = 'items'::regclass AND contype = 'u'")
            )
        ]  # fmt: skip
    now = datetime.now(UTC).replace(microsecond=0)
    year_ago = now - timedelta(days=365)
    clauses = [clause for clause in county_clauses() if RARE_TERM not in clause]
    pool = [item_text(rng, clauses) for _ in range(20_000)]
    rare = set(rng.sample(range(1, items + 1), min(RARE_COUNT, items)))
    step = 365 * 86400 / items
    published = [year_ago + timedelta(seconds=i * step + rng.random() * step) for i in range(items)]
    item_source = [rng.randint(1, SOURCES) for _ in range(items)]
    log(f"generated {items:,} items' times in {time.perf_counter() - started:.1f} s; loading")

    # Events: one large (every third item of a run of days), then runs of 1-30 items with gaps between.
    event_of: dict[int, int] = {}
    events: list[list[int]] = []
    large_start = max(1, items - LARGE_EVENT * 3 - items // 50)
    large = list(range(large_start, min(items, large_start + LARGE_EVENT * 3), 3))
    events.append(large)
    for item_id in large:
        event_of[item_id] = 1
    position = 1
    while position <= items:
        position += rng.randint(0, 60)
        size = min(rng.choice((1, 1, 2, 3, 5, 8, 12, 12, 20, 30)), items - position + 1)
        members = [i for i in range(position, position + size) if i not in event_of]
        position += size
        if members:
            events.append(members)
            for item_id in members:
                event_of[item_id] = len(events)
    log(f"{len(events):,} events over {len(event_of):,} items")

    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={DATABASE}", autocommit=True) as connection:
        with connection.cursor() as cursor:
            for name, _definition in constraints:
                cursor.execute(f"ALTER TABLE items DROP CONSTRAINT {name}")
            for name, _sql in indexes:
                cursor.execute(f"DROP INDEX {name}")
        roles = ("official", "media", "public")
        sources = (
            (n, f"信息源{n:03d}", f"https://source{n}.example.cn/feed", "auto", "新闻", 1.0, 1800, "Asia/Shanghai",
             rng.choice(roles), True, True, 0, 0, year_ago, now)
            for n in range(1, SOURCES + 1)
        )  # fmt: skip
        copy_rows(connection, "sources", SOURCE_COLUMNS, sources)

        def item_rows() -> Iterator[tuple[Any, ...]]:
            for number in range(1, items + 1):
                title, body = pool[rng.randrange(len(pool))]
                if rng.random() < 0.5:
                    body = rng.choice(PLACES) + body
                if number in rare:
                    body = body[: len(body) // 2] + RARE_TERM + body[len(body) // 2 :]
                when = published[number - 1]
                yield (number, item_source[number - 1], f"b{number}", f"https://source.example.cn/p/{number}", title, body,
                       body[:60], when, when + timedelta(minutes=5), f"{number:040x}")  # fmt: skip

        copy_rows(connection, "items", ("id", "source_id", "entry_key", "url", "title", "text", "excerpt", "published_at",
                                        "fetched_at", "fingerprint"), item_rows())  # fmt: skip
        log(f"items copied in {time.perf_counter() - started:.1f} s")

        def event_rows() -> Iterator[tuple[Any, ...]]:
            for number, members in enumerate(events, start=1):
                first, last = published[members[0] - 1], published[members[-1] - 1]
                point = rules[number % len(rules)][1]
                level = 1 + number % 4 if number <= sum(WARNINGS.values()) + 1 else None
                yield (number, members[0], pool[members[0] % len(pool)][0], first, last, len(members),
                       len({item_source[m - 1] for m in members}), round(len(members) / 24, 2), float(len(members)),
                       json.dumps([point]), json.dumps([["村民", 3.0], ["反映", 2.0]]), "[]",
                       40.0 + len(members) % 50, level, last)  # fmt: skip

        copy_rows(connection, "events", ("id", "seed_item_id", "title", "first_seen_at", "last_seen_at", "item_count",
                                         "source_count", "velocity_per_h", "heat", "risk_points", "hot_words",
                                         "sensitive_words", "score", "level", "updated_at"), event_rows())  # fmt: skip

        def event_item_rows() -> Iterator[tuple[Any, ...]]:
            for number, members in enumerate(events, start=1):
                for position, item_id in enumerate(members):
                    when = published[item_id - 1]
                    yield (item_id, number, "seed" if position == 0 else "minhash", when, when + timedelta(minutes=10))

        copy_rows(connection, "event_items", ("item_id", "event_id", "joined_by", "published_at", "joined_at"),
                  event_item_rows())  # fmt: skip
        analysed = sorted(item_id for item_id in event_of if item_id % 2 == 0)
        reason = '{"role": "public", "cues": ["反映"]}'
        analyses = ((item_id, version_id, True, False, now, "complaint", reason) for item_id in analysed)
        copy_rows(connection, "item_analysis", ANALYSIS_COLUMNS, analyses)
        copy_rows(connection, "matches", ("item_id", "rule_id", "version_id", "kind", "risk_point_name", "hits", "created_at"),
                  ((item_id, rules[item_id % len(rules)][0], version_id, "risk", rules[item_id % len(rules)][1],
                    '[{"term": "村民", "field": "title", "start": 0, "end": 2}]', now) for item_id in analysed))  # fmt: skip

        def warning_rows() -> Iterator[tuple[Any, ...]]:
            number = 0
            for status, count in WARNINGS.items():
                for _ in range(count):
                    number += 1
                    event_id = number + 1  # events 2..: the large one stays unwarned, as most are
                    if event_id > len(events):  # a small --items run has fewer events
                        return
                    level = 1 + event_id % 4
                    effective = min(4, level + 1) if status == "downgraded" else level
                    created = now - timedelta(hours=rng.randint(1, 24 * 90))
                    reasons = json.dumps({"risk_points": [rules[event_id % len(rules)][1]]}, ensure_ascii=False)
                    yield (number, event_id, level, 60.0, version_id, reasons, status, effective, created, created)

        copy_rows(connection, "warnings", ("id", "event_id", "level", "score", "version_id", "reasons", "status",
                                           "effective_level", "created_at", "updated_at"), warning_rows())  # fmt: skip
        log(f"events, analyses and warnings copied in {time.perf_counter() - started:.1f} s; indexing")
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for name, definition in constraints:
                cursor.execute(f"ALTER TABLE items ADD CONSTRAINT {name} {definition}")
            for _name, sql in indexes:
                cursor.execute(sql)
            for table in ("items", "events", "event_items", "warnings", "sources"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                               if table != "event_items" else "SELECT 1")  # fmt: skip
            cursor.execute("ANALYZE")
    log(f"indexes made in {time.perf_counter() - started:.1f} s; cases")

    policy = CasePolicy()
    paths = {"listed": [], "dispatched": [], "acknowledged": ["ack"], "handling": ["ack", "start"],
             "returned": ["ack", "start", "return"], "closed": ["ack", "start", "return", "close"]}  # fmt: skip
    unit_names = [name for name in units if name not in ("县网络舆情应急监控中心", "县委宣传部", "分管副县长")]
    for number in range(CASES):
        state = list(paths)[number % len(paths)]
        opened_at = now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23))
        case = open_case(db, policy, actor="舆情中心", title=pool[number][0], lead_unit=rng.choice(unit_names),
                         dispatch=state != "listed", now=opened_at)  # fmt: skip
        for step, action in enumerate(paths[state], start=1):
            case = act(db, policy, case.number, action, actor="舆情中心", note="已处理" if action == "return" else None,
                       now=opened_at + timedelta(hours=step * 5))  # fmt: skip
    add_account(db, ACCOUNT, role="analyst", password=PASSWORD)
    db.dispose()
    mark_database(items)
    log(f"built {items:,} items in {time.perf_counter() - started:.1f} s")


# --- the measurement -------------------------------------------------------------------------------


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def measure(name: str, page: Callable[[], object], anchor: Callable[[], object], requests: int, **details: Any) -> None:
    page()
    anchor()  # untimed: the first call pays for imports, template compilation and cold caches
    seconds = interleave({"page": page, "anchor": anchor}, requests)
    ms = {side: [s * 1000 for s in values] for side, values in seconds.items()}
    p95, anchor_p95 = nearest_rank(ms["page"], 0.95), nearest_rank(ms["anchor"], 0.95)
    emit(figure(
        "web", f"p95_ms[{name}]", p95, "bare SQLAlchemy query", anchor_p95, anchor_p95 / p95,
        median_ms=round(statistics.median(ms["page"]), 1), anchor_median_ms=round(statistics.median(ms["anchor"]), 1),
        requests=requests, target_ms=TARGET_MS, within_target=p95 < TARGET_MS, **details,
    ))  # fmt: skip


def run(items: int, requests: int) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from yuqing_core.accounts.access import visible_cases
    from yuqing_core.analysis.queries import (
        event_item_ids,
        event_spread,
        explain_items,
        get_event,
        search_items,
        warning_queue,
    )
    from yuqing_core.config import Settings
    from yuqing_core.db import Database, upgrade
    from yuqing_core.db.models import Account, EventItem, Item
    from yuqing_core.web import create_app
    from yuqing_core.web.events import TIMELINE_PER_PAGE

    db = Database(database_url())
    upgrade(db)  # a kept database gets the migrations added since it was made
    folder = Path(tempfile.mkdtemp(prefix="yuqing-bench-web-"))
    settings = Settings(database_url=database_url(), home=folder)
    client = TestClient(create_app(settings, db=db), follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF field on the sign-in page"
    signed = client.post("/login", data={"name": ACCOUNT, "password": PASSWORD, "csrf_token": token.group(1)})
    assert signed.status_code == 303, signed.text
    with db.reader() as session:
        account = session.scalars(select(Account).where(Account.name == ACCOUNT)).one()
        sizes = session.execute(select(EventItem.event_id, func.count()).group_by(EventItem.event_id)).all()
        texts = list(session.scalars(select(Item.text).order_by(Item.id).limit(20_000)))
    largest = max(sizes, key=lambda row: row[1])
    typical = next(row for row in sizes if row[1] == 12)
    common = common_term(texts)

    def get(path: str) -> Callable[[], object]:
        def request() -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return request

    def event_query(event_id: int) -> Callable[[], object]:
        """What the event page reads: the event, its first timeline page explained, every item's source and time."""
        return lambda: (
            get_event(db, event_id),
            explain_items(db, event_item_ids(db, event_id, limit=TIMELINE_PER_PAGE + 1)[:TIMELINE_PER_PAGE]),
            event_spread(db, event_id),
        )

    measure("warnings", get("/warnings"), lambda: warning_queue(db, statuses=["open"]), requests,
            rows=len(warning_queue(db, statuses=["open"])), items=items)  # fmt: skip
    measure("event_large", get(f"/events/{largest[0]}"), event_query(largest[0]), requests, event_items=largest[1],
            items=items)  # fmt: skip
    measure("event_typical", get(f"/events/{typical[0]}"), event_query(typical[0]), requests, event_items=typical[1],
            items=items)  # fmt: skip
    measure("cases", get("/office/cases"), lambda: visible_cases(db, account), requests,
            rows=len(visible_cases(db, account)), items=items)  # fmt: skip
    for name, term in (("search_common", common), ("search_rare", RARE_TERM)):
        measure(name, get(f"/items?q={term}"), lambda term=term: search_items(db, query=term, limit=51), requests,
                term=term, items=items)  # fmt: skip
    client.close()
    db.dispose()
    shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=ITEMS, help=f"items in the database (default {ITEMS:,}; BENCH_WEB_ITEMS)")
    parser.add_argument(
        "--requests", type=int, default=REQUESTS, help=f"timed requests per page (default {REQUESTS}; BENCH_WEB_REQUESTS)"
    )
    parser.add_argument("--rebuild", action="store_true", help="make the data again even if a kept database holds it")
    parser.add_argument("--drop", action="store_true", help=f"remove the database {DATABASE} at the end")
    args = parser.parse_args()
    if args.items < LARGE_EVENT * 4 or args.requests < 1:
        parser.error(f"--items must be at least {LARGE_EVENT * 4:,} and --requests at least 1")
    if not postgres_available():
        print("bench/web.py: no PostgreSQL on 127.0.0.1:5432; skipped", file=sys.stderr)
        return 0
    try:
        if args.rebuild or kept_marker() != marker(args.items):
            build(args.items)
        else:
            log(f"reusing {DATABASE} ({marker(args.items)})")
        run(args.items, args.requests)
    finally:
        if args.drop:
            drop_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
