"""Prefect tasks of the collect stage: retry, cache and naming policy around core calls.

- ``select_due_sources`` and ``collect_source`` cache on the flow run id and
  their inputs (persisted results), so retrying a flow run re-runs only the
  sources that failed; a new flow run polls afresh.
- One ``collect_source`` task run per source, named after the source, so a
  failing feed shows by name in the Prefect UI. The task runs of one flow
  run share one ``Collector`` (``shared_collector``): one HTTP client, the
  due sources read in bulk, and the health and poll log of the sources that
  brought no items written a batch per transaction. Each task run still
  ends only once its own source's writes are committed, so its state says
  what is stored.
- A feed that fails (HTTP error, timeout, not a feed) ends its task run
  Failed without task-level retries: the source's own backoff and
  Retry-After decide when it is polled next, and hammering a broken server
  helps nobody. Database errors (locked, connection lost) are retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.states import Completed, Failed, State

from tasks.policies import PER_RUN_CACHE, database_error, task_timeout
from yuqing_core.collect.fetch import Fetcher
from yuqing_core.collect.service import Collector, SourceRef, SourceResult, due_sources
from yuqing_core.collect.summary import CollectSummary, summary_rows
from yuqing_core.config import get_settings
from yuqing_core.db import get_database
from yuqing_core.faults import check_fault
from yuqing_core.timeutil import utcnow

_shared_collector: ContextVar[Collector | None] = ContextVar("yuqing_shared_collector", default=None)


@asynccontextmanager
async def shared_collector(sources: list[SourceRef]) -> AsyncIterator[Collector]:
    """One collector (HTTP client, bulk reads, batched health writes) for the source tasks of a flow run."""
    settings = get_settings()
    async with Fetcher(settings) as fetcher:
        collector = Collector(get_database(settings), settings, fetcher)
        collector.expect([source.id for source in sources])
        token = _shared_collector.set(collector)
        try:
            yield collector
        finally:
            _shared_collector.reset(token)


@task(
    timeout_seconds=task_timeout("collect"),
    name="select-due-sources",
    task_run_name="select-due-sources",
    cache_policy=PER_RUN_CACHE,
    persist_result=True,
    retries=2,
    retry_delay_seconds=2,
)
def select_due_sources(all_sources: bool = False, names: list[str] | None = None, shard: str | None = None) -> list[SourceRef]:
    """The sources this run polls, fixed once per flow run so a retry polls the same set."""
    sources = due_sources(get_database(), utcnow(), all_sources=all_sources, names=names, shard=shard)
    get_run_logger().info("本次采集 %d 个信息源", len(sources))
    return sources


@task(
    timeout_seconds=task_timeout("collect"),
    name="collect-source",
    task_run_name="{source_name}",
    cache_policy=PER_RUN_CACHE,
    persist_result=True,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=database_error,
)
async def collect_source(source_id: int, source_name: str) -> State:
    """Poll one source and store its new items; Failed if the feed did not come back."""
    logger = get_run_logger()
    settings = get_settings()
    check_fault(settings, "collect", source_name)
    collector = _shared_collector.get()
    if collector is None:  # called outside a flow's shared_collector(): use a private one
        async with Fetcher(settings) as fetcher:
            result = await Collector(get_database(settings), settings, fetcher).collect(source_id)
    else:
        result = await collector.collect(source_id)
    if result is None:
        return Completed(message=f"{source_name} 已被删除，跳过", data=None)
    if result.failed:
        logger.warning("%s 采集失败：%s", source_name, result.error)
        return Failed(message=f"{source_name}：{result.error}", data=result)
    logger.info("%s：%d 条，新增 %d 条%s", source_name, result.entries_seen, result.items_new, _note(result))
    return Completed(data=result)


def _note(result: SourceResult) -> str:
    return f"（{result.note}）" if result.note else ""


async def collect_stage(all_sources: bool = False, names: list[str] | None = None, shard: str | None = None) -> CollectSummary:
    """The collect stage as tasks (for the collect and monitor flows): select, poll each source, publish."""
    due = select_due_sources(all_sources=all_sources, names=names, shard=shard)
    async with shared_collector(due):
        states = await asyncio.gather(*(collect_source(source_id=s.id, source_name=s.name, return_state=True) for s in due))
    summary = CollectSummary()
    for source, state in zip(due, states, strict=True):
        result = await state.aresult(raise_on_failure=False) if not state.is_crashed() else None
        if isinstance(result, SourceResult):
            summary.results.append(result)
        elif not (state.is_completed() and result is None):
            summary.not_run.append(source.name)
    publish_collect_summary(summary)
    return summary


@task(timeout_seconds=task_timeout("collect"), name="publish-collect-summary", task_run_name="publish-collect-summary")
def publish_collect_summary(summary: CollectSummary) -> str:
    """A table artifact: new items per source, the sources in trouble listed first."""
    description = summary.description()
    create_table_artifact(key="collect-summary", table=summary_rows(summary.results), description=description)
    return description
