"""Retry and cache policies shared by the tasks of every stage."""

from __future__ import annotations

from typing import Any, Literal

from prefect.cache_policies import INPUTS, RUN_ID, TASK_SOURCE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from sqlalchemy.exc import DBAPIError, OperationalError

# Cached per flow run, task and inputs, with persisted results: retrying a flow run re-runs
# only the task runs that did not complete; a new flow run computes afresh. TASK_SOURCE keeps
# two tasks called with equal arguments (match-N and warn-N of one batch) apart.
PER_RUN_CACHE = RUN_ID + TASK_SOURCE + INPUTS


def database_error(task: Any, task_run: TaskRun, state: State) -> bool:
    """Retry only what a retry can fix: the database being busy or the connection dropping."""
    error = state.data
    return isinstance(error, OperationalError) or (isinstance(error, DBAPIError) and error.connection_invalidated)


def database_error_or_failed_sends(task: Any, task_run: TaskRun, state: State) -> bool:
    """As ``database_error``, and also when sends failed outright: the retry sends only those again
    (the ledger keeps sent rows sent; unreachable units and uncertain sends are not retried)."""
    from yuqing_core.notify import DeliveryFailed

    error = state.data
    return database_error(task, task_run, state) or (isinstance(error, DeliveryFailed) and error.retryable)


# Waits before a delivery task's retries: long enough for a channel's hiccup to pass.
SEND_RETRY_DELAYS_S = [30, 120]


TaskKind = Literal["collect", "analyze", "report", "notify", "cases", "risk"]


def task_timeout(kind: TaskKind) -> float:
    """The ``timeout_seconds`` of a task of ``kind``: the setting ``YUQING_TASK_TIMEOUT_<KIND>_S``.

    Read when the tasks module is imported (Prefect fixes a task's options then); a worker
    picks up a changed setting when it starts again.
    """
    from yuqing_core.config import Settings

    return float(getattr(Settings(), f"task_timeout_{kind}_s"))


def sending_task_options() -> dict[str, Any]:
    """The ``@task`` options every task that sends shares: the notify timeout, and retries of failed sends only."""
    return {
        "timeout_seconds": task_timeout("notify"),
        "retries": 2,
        "retry_delay_seconds": SEND_RETRY_DELAYS_S,
        "retry_condition_fn": database_error_or_failed_sends,
    }
