"""Benchmark: the analyze flow over a backlog of 100,000 items, on the default task runner and on Dask.

Run with ``make bench`` (or ``.venv/bin/python bench/scale.py``; ``--items N``
for a smaller backlog, ``--database sqlite|postgresql``). Prints one JSON
object per line::

    {"bench": "scale", "metric": "items_per_s_dask_2_workers", "value": ..., "anchor": "default task runner",
     "anchor_value": ..., "ratio": ..., "same_results": true, ...}

The backlog is ``yuqing_core.demo.backlog``: the sample county's posts told
again every ten days and reposted by other sources (about 14% originals),
stored through the archive import, with the sample risk library. Three
databases are filled alike; then the real ``analyze`` flow runs once on
each, against a Prefect test server:

- the anchor: the flow's default task runner (threads in one process);
- ``DaskTaskRunner`` on a ``LocalCluster`` of 1 worker process;
- the same with 2 worker processes (what ``analyze/backlog`` uses by default).

Each figure is backlog items divided by the wall time of the flow run,
cluster start included (the deployment starts one per run). After each
Dask run, ``analysis_snapshot`` of its database must equal the anchor's
(verdicts, matches with hits, the event partition, event figures,
warnings): ``same_results`` says so and the script exits 1 otherwise.

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
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchlib import emit, log

ITEMS = 100_000
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
    from yuqing_core.config import get_settings
    from yuqing_core.db import get_database
    from yuqing_core.demo.backlog import import_backlog

    use_database(url)
    return import_backlog(get_database(), get_settings(), folder, rounds, REPOSTS)


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
    """One analyze flow run over the database at ``url``; returns seconds, snapshot, summary and phases."""
    from flows.analyze import analyze
    from flows.analyze_backlog import dask_task_runner
    from yuqing_core.analysis.snapshot import analysis_snapshot
    from yuqing_core.db import get_database

    use_database(url)
    flow = analyze if workers is None else analyze.with_options(task_runner=dask_task_runner(workers=workers))
    started = time.perf_counter()
    state = flow(batch_size=BATCH, return_state=True)
    seconds = time.perf_counter() - started
    if not state.is_completed():
        raise SystemExit(f"analyze flow run ended {state.type.value}: {state.message}")
    summary = state.result()
    return seconds, analysis_snapshot(get_database()), summary, phases(state.state_details.flow_run_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=ITEMS, help=f"backlog size, at least (default {ITEMS:,})")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], help="default: postgresql if it answers, else sqlite")
    args = parser.parse_args()
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

    from yuqing_core.demo.backlog import backlog_size

    per_round = backlog_size(1, REPOSTS)
    rounds = -(-args.items // per_round)
    databases = Databases(dialect, folder)
    try:
        with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), prefect_test_harness(server_startup_timeout=120):
            os.environ["PREFECT_API_URL"] = str(get_current_settings().api.url)
            sides = {"default": None, "dask_1_worker": 1, "dask_2_workers": 2}
            urls = {}
            for label in sides:
                started = time.perf_counter()
                urls[label] = databases.new(label)
                items = fill(urls[label], folder / label, rounds)
                log(f"{label}: {items:,} items stored on {dialect} in {time.perf_counter() - started:.1f} s")
            results = {}
            for label, workers in sides.items():
                results[label] = run(urls[label], workers)
                seconds, snapshot, summary, spent = results[label]
                log(f"{label}: {summary.matched.items:,} items analysed in {seconds:.1f} s ({spent}); {len(snapshot['events']):,} events, "
                    f"{len(snapshot['warnings'])} warnings")  # fmt: skip
        anchor_seconds, anchor_snapshot, anchor_summary, anchor_spent = results["default"]
        items = anchor_summary.matched.items
        anchor_rate = items / anchor_seconds
        same_everywhere = True
        for label in ("dask_1_worker", "dask_2_workers"):
            seconds, snapshot, summary, spent = results[label]
            same = snapshot == anchor_snapshot and summary.matched.items == items
            same_everywhere &= same
            rate = items / seconds
            emit({
                "bench": "scale", "metric": f"items_per_s_{label}", "value": round(rate, 1),
                "anchor": "default task runner", "anchor_value": round(anchor_rate, 1), "ratio": round(rate / anchor_rate, 3),
                "same_results": same, "items": items, "database": dialect, "batch": BATCH,
                "events": len(snapshot["events"]), "warnings": len(snapshot["warnings"]), "matches": len(snapshot["matches"]),
                **spent, "anchor_match_phase_s": anchor_spent["match_phase_s"], "anchor_group_and_warn_s": anchor_spent["group_and_warn_s"],
            })  # fmt: skip
        one, two = items / results["dask_1_worker"][0], items / results["dask_2_workers"][0]
        emit({
            "bench": "scale", "metric": "items_per_s_dask_2_workers", "value": round(two, 1),
            "anchor": "dask 1 worker", "anchor_value": round(one, 1), "ratio": round(two / one, 3), "items": items, "database": dialect,
        })  # fmt: skip
        return 0 if same_everywhere else 1
    finally:
        databases.drop_all()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
