"""The analyze flow on a Dask task runner: the ``analyze/backlog`` deployment, for large backlogs.

Same flow, same tasks, same database afterwards as ``flows.analyze``; only
the ``match-N`` tasks of a run are spread over Dask worker processes
instead of this process's threads (grouping and warning stay in order in
the flow's process, as they must). Matching is CPU-bound Python, so
processes are what scale it.

Where the workers come from (settings, read when this module is loaded):

- ``YUQING_DASK_ADDRESS=tcp://host:8786``: a running cluster, e.g.
  ``dask scheduler`` on one machine and ``dask worker tcp://host:8786`` on
  others; each worker machine needs yuqing installed and the same
  ``YUQING_DATABASE_URL`` (PostgreSQL) and ``PREFECT_API_URL``.
- otherwise a ``distributed.LocalCluster`` of ``YUQING_DASK_WORKERS``
  (default 2) single-threaded worker processes, started for the run and
  stopped after it; they inherit this process's environment.

Example::

    prefect deployment run 'analyze/backlog' --param since=2026-11-01T00:00:00+08:00
"""

from __future__ import annotations

from typing import Any

from flows.analyze import analyze
from yuqing_core.config import get_settings


def dask_task_runner(workers: int | None = None, address: str | None = None) -> Any:
    """A ``DaskTaskRunner`` on the cluster at ``address``, or on a new LocalCluster of ``workers`` processes."""
    from prefect_dask import DaskTaskRunner

    settings = get_settings()
    address = address or settings.dask_address
    if address:
        return DaskTaskRunner(address=address)
    cluster = {
        "n_workers": workers or settings.dask_workers,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
    }
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=cluster)


analyze_backlog = analyze.with_options(task_runner=dask_task_runner())
