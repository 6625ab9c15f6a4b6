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

from prefect import flow
from prefect.states import Completed, Failed, State

from tasks.collect import collect_stage
from yuqing_core.collect.summary import CollectSummary
from yuqing_core.timeutil import SHANGHAI, utcnow


def _run_name() -> str:
    return "collect-" + utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")


@flow(name="collect", flow_run_name=_run_name, log_prints=True)
async def collect(all_sources: bool = False, sources: list[str] | None = None, shard: str | None = None) -> State:
    """Poll due sources (or all enabled ones, or the named ones; ``shard`` "k/n": this machine's share) and store new items."""
    summary = await collect_stage(all_sources, sources, shard)
    return collect_state(summary)


def collect_state(summary: CollectSummary) -> State:
    """Failed (naming the sources in trouble) if any source failed; Completed otherwise."""
    if summary.trouble:
        return Failed(message=f"{len(summary.trouble)} 个信息源采集失败：" + "、".join(summary.trouble), data=summary)
    return Completed(message=summary.description(), data=summary)
