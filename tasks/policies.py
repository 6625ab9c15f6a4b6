"""Retry and cache policies shared by the tasks of every stage."""

from __future__ import annotations

from typing import Any

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
