"""The monitor flow: collect, then analyze — what runs every ten minutes.

Both stages run as tasks of this one flow run (the same tasks the collect
and analyze flows use), cached on the run with persisted results. So when
analysis fails, the run fails at its ``match-N`` task; pressing Retry in the
Prefect UI re-runs only what did not complete: the sources already polled
and the batches already matched come back from their results, and the
database ends as if nothing had failed. A feed that fails does not stop the
analysis of what the others brought: the run then ends Failed naming it,
after analysing.

Every run also checks the warnings nobody has acknowledged and sends the
escalation steps that have come due (``escalate-warnings``): ten minutes is
the finest wait the risk library allows for a I warning to be useful, which
the hourly track-cases flow could not honour.
"""

from __future__ import annotations

from prefect import flow
from prefect.states import Completed, Failed, State

from tasks.analyze import analyze_stage
from tasks.collect import collect_stage
from tasks.report import escalate_open_warnings, notify_warnings, sends_of
from yuqing_core.timeutil import SHANGHAI, utcnow

DEFAULT_BATCH = 2000


def _run_name() -> str:
    return "monitor-" + utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M")


@flow(name="monitor", flow_run_name=_run_name)
async def monitor(all_sources: bool = False, batch_size: int = DEFAULT_BATCH, shard: str | None = None) -> State:
    """Poll the due sources (``shard`` "k/n": this machine's share of them), then analyse what is new."""
    collected = await collect_stage(all_sources, shard=shard)
    analysed = analyze_stage(None, None, batch_size)
    _sent, notify_failure = sends_of(notify_warnings(analysed.warnings, return_state=True))
    escalated, escalate_failure = sends_of(escalate_open_warnings(return_state=True))
    failures = [failure for failure in (notify_failure, escalate_failure) if failure]
    message = f"{collected.description()} {analysed.description}" + (f" 预警升级 {len(escalated)} 次。" if escalated else "")
    data = {"collect": collected, "analyze": analysed}
    if collected.trouble:
        return Failed(
            message=f"{len(collected.trouble)} 个信息源采集失败：" + "、".join(collected.trouble) + "；" + analysed.description
            + "".join(f"；{failure}" for failure in failures),
            data=data,
        )  # fmt: skip
    if failures:
        return Failed(message=message + " " + "；".join(failures), data=data)
    return Completed(message=message, data=data)
