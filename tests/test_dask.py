"""The analyze flow on a Dask task runner (prefect-dask, a LocalCluster of worker processes) leaves the
same database as on the default task runner, on SQLite and on PostgreSQL.

A backlog of a few thousand stored, unanalysed items (``demo.backlog``: the
sample county's posts, each told again in later rounds and reposted by other
sources, all dated weeks ago so that "now" changes no score) is analysed twice from the
same starting point: once with the flow's default task runner, once with
``DaskTaskRunner(LocalCluster(n_workers=2, processes=True))``, where every
``match-N`` task runs in a worker process. Both runs must end with the same
verdicts, matches (with their hits), event partition, event figures and
warnings.

The workers are separate processes started when the flow run starts: they
read the application's settings from the environment (``YUQING_DATABASE_URL``
...) and report their task runs to the Prefect API of the test harness, so
both are in the environment before the flow is called.
"""

from __future__ import annotations

import asyncio

import pytest

from helpers import task_run_name, task_runs_of
from yuqing_core.analysis.snapshot import analysis_snapshot
from yuqing_core.config import Settings, get_settings
from yuqing_core.db import Database, forget_databases
from yuqing_core.demo.backlog import import_backlog

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

ROUNDS = 3  # each sample post is told again in later rounds, 10 days apart (a new event each time)
REPOSTS = 2  # ... and reposted by other sources within hours
BATCH = 250  # small batches: a dozen match-N tasks to spread over the workers


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Point this process and the worker processes started after this at ``url``."""
    monkeypatch.setenv("YUQING_DATABASE_URL", url)
    get_settings.cache_clear()
    forget_databases()


def test_dask_task_runner_leaves_the_same_database(env_settings, db, second_db_url, tmp_path, monkeypatch) -> None:
    dask_db_url = second_db_url
    from prefect.settings import get_current_settings

    import tasks.analyze as analyze_tasks
    from flows.analyze import analyze
    from flows.analyze_backlog import dask_task_runner

    monkeypatch.delenv("YUQING_UNITS_FILE", raising=False)  # no deliveries: this is about the analysis
    # Worker processes inherit this process's environment when the cluster starts.
    monkeypatch.setenv("PREFECT_API_URL", str(get_current_settings().api.url))
    monkeypatch.setenv("PREFECT_RESULTS_LOCAL_STORAGE_PATH", str(get_current_settings().results.local_storage_path))
    dask_db = Database(dask_db_url)
    try:
        count = import_backlog(db, env_settings, tmp_path / "a", ROUNDS, REPOSTS)
        assert (
            import_backlog(dask_db, Settings(home=tmp_path, database_url=dask_db_url), tmp_path / "b", ROUNDS, REPOSTS) == count
        )
        assert count > 2500

        # Count the batches matched in this process: all of them on the default runner, none on Dask.
        matched_here: list[int] = []
        real_match_batch = analyze_tasks.match_batch

        def match_batch_here(*args, **kwargs):  # type: ignore[no-untyped-def]
            matched_here.append(len(args[2]))
            return real_match_batch(*args, **kwargs)

        monkeypatch.setattr(analyze_tasks, "match_batch", match_batch_here)
        default = analyze(batch_size=BATCH, return_state=True)
        assert default.is_completed(), default.message
        assert sum(matched_here) == count
        expected = analysis_snapshot(db)
        assert expected["warnings"] and len(expected["events"]) > 100
        assert any(len(members) > 2 for members, *_ in expected["events"])

        use_database(monkeypatch, dask_db_url)
        state = analyze.with_options(task_runner=dask_task_runner(workers=2))(batch_size=BATCH, return_state=True)
        assert state.is_completed(), state.message
        assert state.result().matched.items == default.result().matched.items == count
        assert analysis_snapshot(dask_db) == expected
        assert sum(matched_here) == count  # every match-N of the Dask run ran in a worker process

        batches = -(-count // BATCH)
        names = [
            task_run_name(r) for r in asyncio.run(task_runs_of(state.state_details.flow_run_id, 3 * batches + 3, attempts=80))
        ]
        assert sorted(n for n in names if n.startswith("match-")) == sorted(f"match-{i}" for i in range(batches))
    finally:
        dask_db.dispose()
