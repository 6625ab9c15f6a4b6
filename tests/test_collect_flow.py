"""The collect flow as operators see it in Prefect: task runs named after sources, a summary
artifact, a Failed run naming the failing feeds, and a retry that re-runs only those."""

from __future__ import annotations

import asyncio

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_engine import run_flow
from prefect.states import Scheduled

from flows.collect import collect
from helpers import add_sources, entries, item_rows, rss, task_runs_of
from yuqing_core.collect.summary import CollectSummary

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def failing(request) -> None:
    request.send_response(500)
    request.send_header("Content-Length", "0")
    request.end_headers()


async def artifacts_of(flow_run_id):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async with get_client() as client:
        return await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )


def test_one_task_per_source_named_after_it_and_a_summary_artifact(env_settings, db, feed_server) -> None:
    feed_server.add("/gov.xml", rss(entries(3, prefix="政")))
    feed_server.add("/bbs.xml", rss(entries(2, prefix="帖")))
    add_sources(db, env_settings, 县政府网=feed_server.url("/gov.xml"), 青禾论坛=feed_server.url("/bbs.xml"))

    state = asyncio.run(collect(return_state=True))
    assert state.is_completed(), state.message
    summary = state.result()
    assert isinstance(summary, CollectSummary) and summary.items_new == 5

    runs = asyncio.run(task_runs_of(state.state_details.flow_run_id, expected=4))
    per_source = sorted(r.name for r in runs if r.task_key.startswith("collect-source") or "collect_source" in r.task_key)
    assert per_source == ["县政府网", "青禾论坛"]
    (artifact,) = [a for a in asyncio.run(artifacts_of(state.state_details.flow_run_id)) if a.key == "collect-summary"]
    assert artifact.type == "table" and "新增 5 条" in artifact.description


def test_failing_feed_fails_the_run_by_name_and_keeps_the_rest(env_settings, db, feed_server) -> None:
    feed_server.add("/gov.xml", rss(entries(3)))
    feed_server.add_handler("/down.xml", failing)
    add_sources(db, env_settings, 县政府网=feed_server.url("/gov.xml"), 坏源=feed_server.url("/down.xml"))

    state = asyncio.run(collect(return_state=True))
    assert state.is_failed()
    assert state.message == "1 个信息源采集失败：坏源"
    summary = state.result(raise_on_failure=False)
    assert [r.name for r in summary.failed] == ["坏源"] and summary.items_new == 3
    assert len(item_rows(db)) == 3


async def deployment_flow_run_of(flow, name: str, parameters: dict | None = None):
    """A flow run of a registered deployment of ``flow``, as a schedule or the UI's Run button creates it."""
    deployment_id = await (await flow.ato_deployment(name=name)).apply()
    async with get_client() as client:
        return await client.create_flow_run_from_deployment(deployment_id, parameters=parameters or {})


async def deployment_flow_run():
    return await deployment_flow_run_of(collect, "test-collect")


async def press_retry(flow_run_id):
    """What the UI's Retry button does: Scheduled named AwaitingRetry, without force."""
    async with get_client() as client:
        result = await client.set_flow_run_state(flow_run_id, Scheduled(name="AwaitingRetry"))
        assert result.status.value == "ACCEPT", result
        return await client.read_flow_run(flow_run_id)


def test_retrying_the_flow_run_re_runs_only_the_failed_sources(env_settings, db, feed_server) -> None:
    feed_server.add("/gov.xml", rss(entries(3, prefix="政")))
    feed_server.add_handler("/flaky.xml", failing)
    add_sources(db, env_settings, 县政府网=feed_server.url("/gov.xml"), 乡镇=feed_server.url("/flaky.xml"))

    # A worker executes the deployment's flow run.
    flow_run = asyncio.run(deployment_flow_run())
    first = asyncio.run(run_flow(collect, flow_run=flow_run, return_type="state"))
    assert first.is_failed()
    assert feed_server.hits["/gov.xml"] == 1

    # The feed recovers; the operator presses Retry and a worker runs the same flow run again.
    feed_server.add("/flaky.xml", rss(entries(2, prefix="镇")))
    retried = asyncio.run(press_retry(flow_run.id))
    second = asyncio.run(run_flow(collect, flow_run=retried, return_type="state"))
    assert second.is_completed(), second.message
    # The healthy source came back from its persisted result; only the failed one was polled again,
    # even though its backoff had moved its next poll into the future.
    assert feed_server.hits["/gov.xml"] == 1
    assert feed_server.hits["/flaky.xml"] == 2
    assert len(item_rows(db)) == 5
    assert [r.name for r in second.result().results if r.items_new] == ["乡镇", "县政府网"]


def test_unknown_source_name_fails_clearly(env_settings, db) -> None:
    state = asyncio.run(collect(sources=["不存在"], return_state=True))
    assert state.is_failed()
    assert "没有这些信息源：不存在" in str(state.result(raise_on_failure=False))
