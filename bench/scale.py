"""Benchmark: the analyze flow over a backlog of 100,000 items, on the default task runner and on Dask.

Run with ``make bench`` (or ``.venv/bin/python bench/scale.py``; ``--items N``
for a smaller backlog, ``--rounds N`` for fewer or more rounds, also as
``BENCH_SCALE_ITEMS`` and ``BENCH_SCALE_ROUNDS`` in the environment, e.g.
``BENCH_SCALE_ITEMS=5000 make bench``; ``--database sqlite|postgresql``).
Prints one JSON object per line::

    {"bench": "scale", "metric": "items_per_s_dask_2_workers", "value": ..., "anchor": "default task runner",
     "anchor_value": ..., "ratio": ..., "same_results": true, ...}

The backlog is ``yuqing_core.demo.backlog``: the sample county's posts told
again every ten days and reposted by other sources (about 14% originals),
stored through the archive import, with the sample risk library. One
database is filled and kept as a template; every flow run gets a fresh
copy of it (``CREATE DATABASE ... TEMPLATE`` on PostgreSQL, a file copy on
SQLite), so all runs start from the same rows. The real ``analyze`` flow
runs against a Prefect test server on three runners:

- the anchor: the flow's default task runner (threads in one process);
- ``DaskTaskRunner`` on a ``LocalCluster`` of 1 worker process;
- the same with 2 worker processes (what ``analyze/backlog`` uses by default).

The runners are interleaved: each round runs each of them once, the first
one rotating from round to round, over ``--rounds`` rounds (default 3).
Each run's figure is backlog items divided by the wall time of the flow
run, cluster start included (the deployment starts one per run). Each Dask
runner gets one line: the median over its rounds beside the median of the
default runner, with both spreads (``value_min``/``value_max``,
``anchor_min``/``anchor_max``), and memory: the peak RSS of the flow's
process, which holds the grouping index (``peak_rss_mib``; the default
runner's as ``anchor_peak_rss_mib``), and of the largest Dask worker
process (``worker_peak_rss_mib``), each the largest over the rounds; the 2-worker line also gives its ratio to
1 worker (``ratio_to_dask_1_worker``). After every run,
``analysis_snapshot`` of its database must equal the first run's
(verdicts, matches with hits, the event partition, event figures,
warnings): ``same_results`` says so per runner, and the script exits 1
otherwise.

Cost: the fill (archive import of the backlog) once, then 3 x rounds flow
runs; at the default 100,000 items and 3 rounds that is many minutes.

What scales: the ``match-N`` tasks run in the workers; grouping and
warning run batch by batch in the flow's process (events grow in
publication order), so the speed-up is bounded by that serial part. The
database is PostgreSQL when one answers on 127.0.0.1:5432 (the many-machine
setup), else SQLite, whose single writer serialises the workers' commits.
"""

from __future__ import annotations

import os

os.environ.setdefault("DO_NOT_TRACK", "1")

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchlib import ChildrenPeakRss, emit, figure_from_rounds, log, peak_rss_mib, reset_peak_rss, round_order

ITEMS = int(os.environ.get("BENCH_SCALE_ITEMS", "100000"))
ROUNDS = int(os.environ.get("BENCH_SCALE_ROUNDS", "3"))
REPOSTS = 6
BATCH = 2000
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_available() -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(POSTGRES_ADMIN, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


class Databases:
    """Fresh, migrated application databases of one dialect, removed at the end."""

    def __init__(self, dialect: str, folder: Path) -> None:
        self.dialect, self.folder, self.created = dialect, folder, []

    def new(self, label: str) -> str:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from yuqing_core.db import Database, upgrade

        if self.dialect == "sqlite":
            url = f"sqlite:///{self.folder / f'{label}.db'}"
        else:
            name = f"yuqing_scale_{label}_{uuid.uuid4().hex[:8]}"
            admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            self.created.append(name)
            url = make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)
        database = Database(url)
        upgrade(database)
        database.dispose()
        return url

    def copy(self, template: str, label: str) -> str:
        """A fresh database holding what ``template`` holds (nothing may be connected to it)."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        if self.dialect == "sqlite":
            source = Path(make_url(template).database or "")
            target = self.folder / f"{label}.db"
            shutil.copyfile(source, target)
            return f"sqlite:///{target}"
        name = f"yuqing_scale_{label}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Remove one database made by ``new`` or ``copy``."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = make_url(url).database or ""
        if self.dialect == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)
            return
        admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        self.created.remove(name)

    def drop_all(self) -> None:
        from sqlalchemy import create_engine, text

        if not self.created:
            return
        admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def use_database(url: str) -> None:
    """Point this process, and Dask workers started after this, at ``url``."""
    from yuqing_core.config import get_settings
    from yuqing_core.db import forget_databases

    os.environ["YUQING_DATABASE_URL"] = url
    get_settings.cache_clear()
    forget_databases()


def fill(url: str, folder: Path, rounds: int) -> int:
    """The backlog into ``url``; every connection to it is closed afterwards (it serves as a template)."""
    from yuqing_core.config import get_settings
    from yuqing_core.db import forget_databases, get_database
    from yuqing_core.demo.backlog import import_backlog

    use_database(url)
    try:
        return import_backlog(get_database(), get_settings(), folder, rounds, REPOSTS)
    finally:
        forget_databases()


def phases(flow_run_id: Any) -> dict[str, float]:
    """Seconds spent in the run's phases, from its task runs: all ``match-N`` (start of the first to end of
    the last), and the serial ``group-N`` and ``warn-N`` tasks (summed)."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async def read() -> list[Any]:
        async with get_client() as client:
            return await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))

    runs = [r for r in asyncio.run(read()) if r.start_time and r.end_time]
    matches = [r for r in runs if r.name.startswith("match-")]
    serial = [r for r in runs if r.name.startswith(("group-", "warn-"))]
    return {
        "match_phase_s": round((max(r.end_time for r in matches) - min(r.start_time for r in matches)).total_seconds(), 2)
        if matches
        else 0.0,
        "group_and_warn_s": round(sum((r.end_time - r.start_time).total_seconds() for r in serial), 2),
    }


def run(url: str, workers: int | None) -> tuple[float, dict[str, Any], Any, dict[str, float]]:
    """One analyze flow run over the database at ``url``; returns seconds, snapshot, summary, and phases with
    the peak RSS of the flow's process (``peak_rss_mib``) and of the largest worker process (``worker_peak_rss_mib``)."""
    from flows.analyze import analyze
    from flows.analyze_backlog import dask_task_runner
    from yuqing_core.analysis.snapshot import analysis_snapshot
    from yuqing_core.db import get_database

    use_database(url)
    flow = analyze if workers is None else analyze.with_options(task_runner=dask_task_runner(workers=workers))
    reset_peak_rss()
    started = time.perf_counter()
    with ChildrenPeakRss() as workers_rss:
        state = flow(batch_size=BATCH, return_state=True)
    seconds = time.perf_counter() - started
    memory = {"peak_rss_mib": peak_rss_mib(), "worker_peak_rss_mib": workers_rss.largest_mib}
    if not state.is_completed():
        raise SystemExit(f"analyze flow run ended {state.type.value}: {state.message}")
    summary = state.result()
    return seconds, analysis_snapshot(get_database()), summary, {**phases(state.state_details.flow_run_id), **memory}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=ITEMS, help=f"backlog size, at least (default {ITEMS:,}; BENCH_SCALE_ITEMS)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"interleaved rounds (default {ROUNDS}; BENCH_SCALE_ROUNDS)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], help="default: postgresql if it answers, else sqlite")
    args = parser.parse_args()
    if args.rounds < 1 or args.items < 1:
        parser.error("--items and --rounds must be at least 1")
    dialect = args.database or ("postgresql" if postgres_available() else "sqlite")
    folder = Path(tempfile.mkdtemp(prefix="yuqing-bench-scale-"))
    # Settings read by this process and inherited by the Dask worker processes.
    os.environ.update({
        "YUQING_HOME": str(folder / "home"),
        "PREFECT_HOME": str(folder / "prefect"),
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(folder / "results"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    })  # fmt: skip
    os.environ.pop("YUQING_UNITS_FILE", None)  # no deliveries: this measures the analysis

    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    from yuqing_core.db import forget_databases
    from yuqing_core.demo.backlog import backlog_size

    per_round = backlog_size(1, REPOSTS)
    backlog_rounds = -(-args.items // per_round)
    databases = Databases(dialect, folder)
    runners = {"default": None, "dask_1_worker": 1, "dask_2_workers": 2}
    seconds: dict[str, list[float]] = {label: [] for label in runners}
    spent: dict[str, list[dict[str, float]]] = {label: [] for label in runners}
    same: dict[str, bool] = dict.fromkeys(runners, True)
    reference: tuple[dict[str, Any], int] | None = None  # the first run's snapshot and item count
    try:
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), prefect_test_harness(server_startup_timeout=120):
            os.environ["PREFECT_API_URL"] = str(get_current_settings().api.url)
            started = time.perf_counter()
            template = databases.new("template")
            stored = fill(template, folder / "backlog", backlog_rounds)
            log(f"template: {stored:,} items stored on {dialect} in {time.perf_counter() - started:.1f} s; "
                f"{args.rounds} rounds of {len(runners)} runners")  # fmt: skip
            # Untimed, on the smallest backlog: the first flow run in a process pays for imports and
            # the test server's first answers, which would otherwise land on whichever runner goes first.
            warmup = databases.new("warmup")
            fill(warmup, folder / "warmup", 1)
            run(warmup, None)
            forget_databases()
            databases.drop(warmup)
            for number in range(args.rounds):
                for label in round_order(list(runners), number):
                    url = databases.copy(template, f"{label}_{number}")
                    run_seconds, snapshot, summary, run_spent = run(url, runners[label])
                    forget_databases()  # close this process's connections to it before dropping it
                    databases.drop(url)
                    if reference is None:
                        reference = snapshot, summary.matched.items
                    elif (snapshot, summary.matched.items) != reference:
                        same[label] = False
                        log(f"{label}: round {number + 1} differs from the first run")
                    seconds[label].append(run_seconds)
                    spent[label].append(run_spent)
                    log(f"round {number + 1} {label}: {summary.matched.items:,} items analysed in {run_seconds:.1f} s "
                        f"({run_spent}); {len(snapshot['events']):,} events, {len(snapshot['warnings'])} warnings")  # fmt: skip
                    del snapshot
        assert reference is not None
        snapshot, items = reference
        rates = {label: [items / s for s in values] for label, values in seconds.items()}

        def phase(label: str, name: str) -> float:
            return round(statistics.median(one[name] for one in spent[label]), 2)

        def peak(label: str, name: str) -> float:
            return max(one[name] for one in spent[label])

        for label in ("dask_1_worker", "dask_2_workers"):
            details: dict[str, Any] = {}
            if label == "dask_2_workers":
                details["ratio_to_dask_1_worker"] = round(
                    statistics.median(rates[label]) / statistics.median(rates["dask_1_worker"]), 3
                )
            emit(figure_from_rounds(
                "scale", f"items_per_s_{label}", rates[label], "default task runner", rates["default"],
                same_results=same[label] and same["default"], items=items, database=dialect, batch=BATCH,
                events=len(snapshot["events"]), warnings=len(snapshot["warnings"]), matches=len(snapshot["matches"]),
                match_phase_s=phase(label, "match_phase_s"), group_and_warn_s=phase(label, "group_and_warn_s"),
                anchor_match_phase_s=phase("default", "match_phase_s"),
                anchor_group_and_warn_s=phase("default", "group_and_warn_s"),
                peak_rss_mib=peak(label, "peak_rss_mib"), worker_peak_rss_mib=peak(label, "worker_peak_rss_mib"),
                anchor_peak_rss_mib=peak("default", "peak_rss_mib"),
                **details,
            ))  # fmt: skip
        return 0 if all(same.values()) else 1
    finally:
        databases.drop_all()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
