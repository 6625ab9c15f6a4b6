"""Storing exactly once when collect runs overlap or die: real processes, real HTTP, real databases.

Running collect twice in a row is covered in ``test_collect.py``. This file
covers the two other cases the design names (DESIGN.md section 3: every stage
idempotent, natural keys plus ``INSERT ... ON CONFLICT DO NOTHING``). Each
test runs on SQLite and on PostgreSQL, and compares what a run left behind
with one clean, uninterrupted run over the same feeds into a second, fresh
database of the same dialect (``item_rows``: natural keys and content, no
surrogate ids or fetch times; plus each source's conditional-GET state).

``test_two_collect_runs_at_once_store_each_item_once``
    Two OS processes each run a full core collect (``due_sources`` +
    ``collect_source`` for every source, as ``flows.collect`` does) over the
    same 20 feeds and the same database, released together. The feed server
    holds every request until the other process has asked for the same feed,
    so both processes always download every feed without validators and both
    try to insert every item of every feed at about the same time: the race is
    forced, not hoped for. Proves: the items equal one clean run's (nothing
    lost, nothing doubled), each item is reported as new by exactly one of the
    two runs (the per-source ``items_new`` add up to the feed's item count),
    neither run fails (no unique-constraint error, deadlock or "database is
    locked" escapes), and the sources end with the clean run's validators.
    On PostgreSQL that is row locks on the unique index plus ON CONFLICT; on
    SQLite it is WAL plus ``BEGIN IMMEDIATE`` queueing the two writers.

``test_a_run_killed_midway_then_run_again_ends_as_one_clean_run``
    A collect process over 30 feeds is killed with SIGKILL once at least six
    sources have been stored. The kill lands deterministically midway: 14
    feeds are held unanswered by the server until after the kill, and the 16
    answered ones arrive spread over about a second, so the kill also often
    lands while other sources are being parsed or written. On PostgreSQL two
    sources' writes are additionally caught *inside* their transactions, by
    locks the test holds: one after inserting all of its feed's items, waiting
    to update the source with the new ETag; one in the middle of inserting its
    items, before the source is touched. Proves: right after the kill, every
    source that has an ETag has all of its feed's items and every source
    without one has none (items and validators commit together, whichever
    side is written first, so no item can hide behind a saved ETag); the
    transactions killed inside left nothing; a second run (a fresh process)
    gets 304 for the stored sources, stores the rest, and the database ends
    with exactly the rows and source validators of one clean run. SQLite
    allows one writer and no row locks, so there a kill inside a transaction
    is left to timing; the code path under test is the same on both.

Run as a script (``python tests/test_exactly_once.py --db URL ...``) this
file is the collect worker the tests start as separate processes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from helpers import SHANGHAI, add_sources, collect, entries, item_rows
from yuqing_core.collect.service import due_sources
from yuqing_core.config import Settings
from yuqing_core.db import Database, FetchAttempt, Item, Source
from yuqing_core.demo.feeds import CONTENT_TYPES, render_feed
from yuqing_core.demo.server import FeedServer
from yuqing_core.timeutil import utcnow

THIS_FILE = Path(__file__).resolve()
WHEN = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)  # well in the past: no date falls back to the fetch time
LAST_MODIFIED = "Mon, 01 Jun 2026 01:00:00 GMT"
# Formats and date styles Chinese sources use; every pair parses to the feed's own dates.
FORMATS = [
    ("rss2", "rfc822"),
    ("atom", "iso8601"),
    ("jsonfeed", "iso8601"),
    ("rss2-gbk", "chinese"),
    ("rss1", "iso8601"),
    ("rss2", "cst"),
]
WORKER_TIMEOUT_S = 60


# --- feeds -------------------------------------------------------------------


class Feeds:
    """A set of feeds on a ``FeedServer`` whose timing a test can script.

    - ``pair_up``: each request waits until a second request for the same
      feed has arrived (two processes then download every feed together);
    - ``held``: these feeds answer only once ``gate`` is set;
    - ``slow``: feed ``i`` answers after ``0.06 * (i + 1)`` seconds.
    """

    def __init__(self, count: int, *, held: range = range(0)) -> None:
        self.names = [f"源{i:02d}" for i in range(count)]
        self.held = {self.names[i] for i in held}
        self.pair_up = False
        self.slow = False
        self.gate = threading.Event()
        self.gate.set()
        self.broken_pairs: list[str] = []
        self.seen: defaultdict[str, list[str | None]] = defaultdict(list)  # name -> If-None-Match of each request
        self._lock = threading.Lock()
        self._barriers = {name: threading.Barrier(2, timeout=15) for name in self.names}
        self.documents: dict[str, tuple[bytes, str, str]] = {}
        for i, name in enumerate(self.names):
            fmt, style = FORMATS[i % len(FORMATS)]
            # 24 entries of its own plus 6 that every feed carries (the same guid and text in each).
            items = entries(24, prefix=f"{name}条", when=WHEN) + entries(6, start=i % 3, prefix="共享", when=WHEN)
            body = render_feed(
                fmt,
                title=f"青禾县{name}",
                site_url="http://example.org/",
                entries=items,
                date_style=style,  # type: ignore[arg-type]
            )
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            self.documents[name] = (body, CONTENT_TYPES[fmt], etag)

    def mount(self, server: FeedServer) -> dict[str, str]:
        """Add a route per feed; return source name -> URL."""
        for i, name in enumerate(self.names):
            server.add_handler(f"/feed/{i:02d}.xml", self._handler(i, name))
        return {name: server.url(f"/feed/{i:02d}.xml") for i, name in enumerate(self.names)}

    def _handler(self, index: int, name: str) -> Callable[[Any], None]:
        def handle(request: Any) -> None:
            if_none_match = request.headers.get("If-None-Match")
            with self._lock:
                self.seen[name].append(if_none_match)
            if self.pair_up:
                try:
                    self._barriers[name].wait()
                except threading.BrokenBarrierError:
                    with self._lock:
                        self.broken_pairs.append(name)
            if name in self.held:
                self.gate.wait(timeout=30)
            if self.slow:
                time.sleep(0.06 * (index + 1))
            body, content_type, etag = self.documents[name]
            if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
                request.send_response(304)
                request.send_header("ETag", etag)
                request.send_header("Content-Length", "0")
                request.end_headers()
                return
            request.send_response(200)
            request.send_header("Content-Type", content_type)
            request.send_header("ETag", etag)
            request.send_header("Last-Modified", LAST_MODIFIED)
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            request.wfile.write(body)

        return handle


# --- databases ---------------------------------------------------------------


@pytest.fixture
def clean_settings(settings: Settings, second_db_url: str) -> Settings:
    """Settings on an empty, migrated database of the same dialect as ``settings``."""
    return settings.model_copy(update={"database_url": second_db_url})


@pytest.fixture
def clean_db(clean_settings: Settings) -> Iterator[Database]:
    database = Database(clean_settings.effective_database_url)
    yield database
    database.dispose()


def source_state(db: Database) -> list[tuple]:
    """What a poll leaves on each source that a clean run must agree with."""
    with db.reader() as session:
        rows = session.execute(
            select(
                Source.name, Source.etag, Source.last_modified, Source.content_sha1,
                Source.enabled, Source.consecutive_errors, Source.last_error,
            ).order_by(Source.name)
        )  # fmt: skip
        return [tuple(row) for row in rows]


def stored_sources(db: Database) -> set[str]:
    """Names of the sources whose poll has been committed (they carry the feed's ETag)."""
    with db.reader() as session:
        return set(session.scalars(select(Source.name).where(Source.etag.is_not(None))))


def by_source(rows: list[tuple]) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return dict(grouped)


def clean_run(db: Database, settings: Settings) -> list[tuple]:
    """One uninterrupted collect into a fresh database: the reference every test compares with."""
    ids = [s.id for s in due_sources(db, utcnow(), all_sources=True)]
    results = collect(db, settings, *ids)
    assert [r.status for r in results] == ["ok"] * len(ids), [(r.name, r.status, r.error) for r in results]
    rows = item_rows(db)
    with db.reader() as session:
        fallbacks = session.scalar(select(func.count()).select_from(Item).where(Item.published_fallback.is_not(None)))
    assert fallbacks == 0, "a date fell back to the fetch time; runs would not be comparable"
    return rows


# --- worker processes --------------------------------------------------------


def start_worker(settings: Settings, *options: str) -> subprocess.Popen[str]:
    command = [sys.executable, str(THIS_FILE), "--db", settings.effective_database_url, "--home", str(settings.home)]
    return subprocess.Popen([*command, *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(worker: subprocess.Popen[str]) -> dict[str, dict[str, Any]]:
    """Wait for a worker; return its results by source name."""
    try:
        out, err = worker.communicate(timeout=WORKER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        out, err = worker.communicate()
        pytest.fail(f"collect worker still running after {WORKER_TIMEOUT_S} s; stderr:\n{err}")
    assert worker.returncode == 0, f"collect worker exited {worker.returncode}; stderr:\n{err}"
    return {r["name"]: r for r in json.loads(out.strip().splitlines()[-1])}


def wait_for(predicate: Callable[[], Any], what: str, *, timeout: float, worker: subprocess.Popen[str] | None = None) -> Any:
    """Poll ``predicate`` every 10 ms until it is true; fail naming ``what`` on timeout or if ``worker`` dies."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if worker is not None and worker.poll() is not None:
            stderr = worker.stderr.read() if worker.stderr else ""
            pytest.fail(f"collect worker exited ({worker.returncode}) while waiting for {what}:\n{stderr}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


@contextmanager
def blocking_two_writes(db: Database, row_lock_source: str, item_source: str, item_key: str) -> Iterator[int]:
    """Stop two sources' collect writes inside their transactions (PostgreSQL); yield this backend's pid.

    One open transaction here holds ``FOR NO KEY UPDATE`` on ``row_lock_source``'s
    row: a run inserts that feed's items (their foreign key needs only a KEY
    SHARE lock) and then waits to update the source with the new ETag. It
    also holds an uncommitted item with the natural key ``item_key`` of
    ``item_source``: a run's ``INSERT ... ON CONFLICT DO NOTHING`` of that
    feed waits on it (the unique index cannot tell yet whether it conflicts),
    before the source is updated. Rolling back releases both.
    """
    engine = create_engine(db.url)
    try:
        with engine.connect() as connection:
            ids = dict(connection.execute(select(Source.name, Source.id)).all())
            locked = connection.execute(
                text("SELECT id FROM sources WHERE name = :name FOR NO KEY UPDATE"), {"name": row_lock_source}
            ).all()
            assert len(locked) == 1
            now = utcnow()
            connection.execute(
                Item.__table__.insert().values(
                    source_id=ids[item_source], entry_key=item_key, title="", text="", excerpt="",
                    published_at=now, fetched_at=now, fingerprint="0" * 40,
                )
            )  # fmt: skip
            yield connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            connection.rollback()
    finally:
        engine.dispose()


def backends_blocked_by(db: Database, pid: int) -> list[int]:
    with db.reader() as session:
        query = text("SELECT pid FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
        return list(session.scalars(query, {"pid": pid}))


def backends_alive(db: Database, pids: list[int]) -> int:
    with db.reader() as session:
        return session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids}) or 0


# --- tests -------------------------------------------------------------------


@pytest.mark.slow
def test_two_collect_runs_at_once_store_each_item_once(db, settings, clean_db, clean_settings, tmp_path) -> None:
    feeds = Feeds(20)
    with FeedServer() as server:
        urls = feeds.mount(server)
        add_sources(db, settings, **urls)
        add_sources(clean_db, clean_settings, **urls)
        expected = clean_run(clean_db, clean_settings)
        per_source = {name: len(rows) for name, rows in by_source(expected).items()}
        assert sorted(per_source) == feeds.names and len(expected) == 20 * 30

        feeds.seen.clear()
        feeds.pair_up = True
        go = tmp_path / "go"
        ready = [tmp_path / f"ready-{n}" for n in range(2)]
        # Every fetch in flight at once, so both runs hold all 20 feeds' requests open together.
        workers = [
            start_worker(settings, "--ready", str(r), "--go", str(go), "--concurrency", "64", "--per-host", "64") for r in ready
        ]
        try:
            for worker, flag in zip(workers, ready, strict=True):
                wait_for(flag.exists, "the collect workers to start", timeout=30, worker=worker)
            go.touch()
            results = [finish(worker) for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()

    # The race really happened: both runs downloaded every feed in full, at the same moment.
    assert feeds.broken_pairs == []
    assert {name: feeds.seen[name] for name in feeds.names} == {name: [None, None] for name in feeds.names}
    for run in results:
        assert sorted(run) == feeds.names
        assert {(r["status"], r["http_status"], r["error"]) for r in run.values()} == {("ok", 200, None)}
    # Each item was new to exactly one of the two runs.
    assert {name: results[0][name]["items_new"] + results[1][name]["items_new"] for name in feeds.names} == per_source
    # And the database holds what one clean run stores.
    assert item_rows(db) == expected
    assert source_state(db) == source_state(clean_db)
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == len(expected)
        assert session.scalar(select(func.count()).select_from(FetchAttempt)) == 2 * 20


@pytest.mark.slow
def test_a_run_killed_midway_then_run_again_ends_as_one_clean_run(db, settings, clean_db, clean_settings) -> None:
    answered, held = range(16), range(16, 30)
    feeds = Feeds(30, held=held)
    on_postgresql = db.dialect == "postgresql"
    # PostgreSQL only: sources whose write transaction the kill interrupts (see blocking_two_writes).
    after_items, among_items = feeds.names[2], feeds.names[3]
    caught_inside = {after_items, among_items} if on_postgresql else set()
    with FeedServer() as server:
        urls = feeds.mount(server)
        add_sources(db, settings, **urls)
        add_sources(clean_db, clean_settings, **urls)
        expected = clean_run(clean_db, clean_settings)
        expected_by_source = by_source(expected)
        answered_names = {feeds.names[i] for i in answered}

        feeds.gate.clear()
        feeds.slow = True
        blocker = (
            blocking_two_writes(db, after_items, among_items, expected_by_source[among_items][-1][1])
            if on_postgresql
            else nullcontext(None)
        )
        orphans: list[int] = []
        with blocker as blocker_pid:
            worker = start_worker(settings, "--concurrency", "64", "--per-host", "64")
            try:

                def midway() -> bool:
                    if blocker_pid is not None:
                        orphans[:] = backends_blocked_by(db, blocker_pid)
                        if len(orphans) < len(caught_inside):
                            return False
                    return len(stored_sources(db)) >= 6

                wait_for(midway, "some sources stored", timeout=30, worker=worker)
                os.kill(worker.pid, signal.SIGKILL)
                worker.communicate(timeout=10)
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
            assert worker.returncode == -signal.SIGKILL
            assert len(orphans) == len(caught_inside)
        # The locks are released: each orphaned backend finishes its statement, finds its client
        # gone and rolls back. They must be gone before the next run inserts the same keys.
        feeds.slow = False
        feeds.gate.set()
        if orphans:
            wait_for(lambda: backends_alive(db, orphans) == 0, "the killed run's backends to end", timeout=15)

        # Right after the kill: stopped midway, and items travel with the ETag that describes them.
        stored = stored_sources(db)
        assert len(stored) >= 6
        assert stored <= answered_names - caught_inside  # the held feeds and the writes caught inside: nothing
        rows_after_kill = by_source(item_rows(db))
        assert sorted(rows_after_kill) == sorted(stored)
        for name in stored:
            assert rows_after_kill[name] == expected_by_source[name], name

        rerun = finish(start_worker(settings))

    assert sorted(rerun) == feeds.names
    for name in feeds.names:
        got = (rerun[name]["status"], rerun[name]["http_status"], rerun[name]["items_new"])
        if name in stored:
            assert got == ("not_modified", 304, 0), name
        else:
            assert got == ("ok", 200, len(expected_by_source[name])), name
    assert item_rows(db) == expected
    assert source_state(db) == source_state(clean_db)


# --- the worker --------------------------------------------------------------


def _worker(argv: list[str]) -> int:
    """One full collect run over every enabled source, as its own process; results as JSON on stdout."""
    parser = argparse.ArgumentParser(description="One collect run over every enabled source; results as JSON.")
    parser.add_argument("--db", required=True)
    parser.add_argument("--home", required=True)
    parser.add_argument("--ready", help="file to create once set up")
    parser.add_argument("--go", help="file to wait for before collecting")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--per-host", type=int, default=2)
    args = parser.parse_args(argv)
    settings = Settings(
        home=Path(args.home),
        database_url=args.db,
        fetch_allowed_networks=["127.0.0.1"],
        fetch_concurrency=args.concurrency,
        fetch_per_host_concurrency=args.per_host,
        fetch_total_timeout_s=45,
    )
    db = Database(settings.effective_database_url)
    ids = [s.id for s in due_sources(db, utcnow(), all_sources=True)]
    if args.ready:
        Path(args.ready).write_text(str(os.getpid()))
    if args.go:
        deadline = time.monotonic() + 30
        while not Path(args.go).exists():
            if time.monotonic() > deadline:
                print("no go signal", file=sys.stderr)
                return 3
            time.sleep(0.005)
    results = collect(db, settings, *ids)
    db.dispose()
    fields = ("name", "status", "http_status", "entries_seen", "items_new", "error")
    print(json.dumps([{f: getattr(r, f) for f in fields} for r in results], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
