"""The collect flow: poll the due public feeds and store each new item once.

Operators run it on a schedule (every 10 minutes as part of ``monitor``) or
by hand::

    yuqing collect            # the due sources
    yuqing collect --all      # every enabled source, schedules ignored

Each source is one task run named after the source. If any source fails,
the flow run ends Failed with the failing sources named; pressing Retry in
the Prefect UI re-runs only those sources (the others come back from their
persisted results), and the items stored so far stay stored.
"""

from __future__ import annotations

import asyncio

from prefect import flow
from prefect.states import Completed, Failed, State

from tasks.collect import collect_source, publish_collect_summary, select_due_sources, shared_fetcher
from yuqing_core.collect.service import SourceResult
from yuqing_core.collect.summary import CollectSummary
from yuqing_core.timeutil import SHANGHAI, utcnow


def _run_name() -> str:
    return "collect-" + utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")


@flow(name="collect", flow_run_name=_run_name, log_prints=True)
async def collect(all_sources: bool = False, sources: list[str] | None = None) -> State:
    """Poll due sources (or all enabled ones, or the named ones) and store new items."""
    due = select_due_sources(all_sources=all_sources, names=sources)
    async with shared_fetcher():
        states = await asyncio.gather(
            *(collect_source(source_id=s.id, source_name=s.name, return_state=True) for s in due)
        )
    summary = CollectSummary()
    for source, state in zip(due, states, strict=True):
        result = await state.aresult(raise_on_failure=False) if not state.is_crashed() else None
        if isinstance(result, SourceResult):
            summary.results.append(result)
        elif not (state.is_completed() and result is None):
            summary.not_run.append(source.name)
    description = publish_collect_summary(summary)
    if summary.trouble:
        return Failed(message=f"{len(summary.trouble)} 个信息源采集失败：" + "、".join(summary.trouble), data=summary)
    return Completed(message=description, data=summary)
