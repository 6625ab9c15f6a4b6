"""The analyze and risk-library flows in Prefect: batch tasks, artifacts, the warning event."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
)
from sqlalchemy import select

from flows.analyze import analyze
from flows.risk_library import risk_library
from helpers import add_sources, prefect_events, task_run_name, task_runs_of
from test_analysis import LEAK, LIBRARY, post
from test_fulltext import ARTICLES
from yuqing_core.collect.archive import import_archive
from yuqing_core.config import get_settings
from yuqing_core.db.models import Item
from yuqing_core.risk.versions import list_versions
from yuqing_core.timeutil import utcnow

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def stored_posts(db, settings, tmp_path: Path, article_url: str | None = None) -> None:
    now = utcnow()
    rows = [post(f"p{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), now - timedelta(hours=i + 1)) for i in range(5)]
    rows[0]["url"] = article_url
    rows.append(post("h", "青禾县柑橘丰收", "果农笑开颜", now - timedelta(hours=2)))
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    add_sources(db, settings, 青禾论坛="http://example.org/bbs.xml")
    import_archive(db, settings, path, "青禾论坛")


async def flow_run_details(flow_run_id, expected_tasks: int = 0):
    """Task run names and artifacts of a flow run."""
    task_runs = await task_runs_of(flow_run_id, expected_tasks)
    async with get_client() as client:
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return sorted(task_run_name(r) for r in task_runs), {a.key: a for a in artifacts}


def test_analyze_flow_runs_batches_and_announces_warnings(env_settings, db, tmp_path, feed_server, monkeypatch) -> None:
    started = utcnow() - timedelta(seconds=5)
    feed_server.add("/a/0.html", (ARTICLES / "gne_gzggw.html").read_bytes(), content_type="text/html")
    stored_posts(db, env_settings, tmp_path, article_url=feed_server.url("/a/0.html"))
    (tmp_path / "risk.yaml").write_text(LIBRARY, encoding="utf-8")
    assert risk_library(str(tmp_path / "risk.yaml"), return_state=True).is_completed()
    monkeypatch.setenv("YUQING_FULLTEXT_MAX_PER_RUN", "5")
    monkeypatch.setenv("YUQING_FULLTEXT_HOST_DELAY_S", "0")
    get_settings.cache_clear()

    state = analyze(batch_size=4, return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert summary.matched.items == 6 and summary.warnings
    names, artifacts = asyncio.run(flow_run_details(state.state_details.flow_run_id, expected_tasks=13))
    # check-responses: events whose response target passed unanswered are refreshed even without new items.
    # fulltext-N: the relevant items' article pages, per batch, before grouping; recheck-pages: deletions.
    assert names == ["check-responses", "fulltext-0", "fulltext-1", "group-0", "group-1", "match-0", "match-1",
                     "notify-warnings", "plan-analysis", "publish-analysis-summary", "recheck-pages", "warn-0", "warn-1"]  # fmt: skip
    with db.reader() as session:
        assert session.scalars(select(Item.enriched_from).where(Item.enriched_at.is_not(None))).all() == [
            feed_server.url("/a/0.html")
        ]
    assert "化工异味" in artifacts["analysis-summary"].data

    # New warnings and level rises are "raised"; material changes to a warning are "updated".
    raised = [w for w in summary.warnings if w.kind != "change"]
    events = asyncio.run(
        prefect_events("yuqing.warning.raised", since=started, expected=len(raised), flow_run_id=state.state_details.flow_run_id)
    )
    assert events, "no yuqing.warning.raised event reached Prefect"
    payload = events[0]["payload"]
    assert payload["level"] in {"IV", "III", "II", "I"}
    assert {e["payload"]["warning_id"] for e in events} == {w.id for w in raised}
    assert events[0]["resource"]["prefect.resource.id"].startswith("yuqing.event.")

    again = analyze(return_state=True)
    assert again.is_completed() and again.result().matched.items == 0


def test_risk_library_flow_refuses_a_bad_file_and_imports_a_good_one(env_settings, db, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(LIBRARY.replace("(异味 | 泄漏 | 刺鼻)", "(异味 | 泄漏"), encoding="utf-8")
    failed = risk_library(str(bad), return_state=True)
    assert failed.is_failed() and "缺少右括号" in str(failed.result(raise_on_failure=False))
    assert list_versions(db) == []

    good = tmp_path / "risk.yaml"
    good.write_text(LIBRARY, encoding="utf-8")
    state = risk_library(str(good), days=7, author="王分析", return_state=True)
    assert state.is_completed(), state.message
    assert state.result()["version"] == 1 and state.result()["created"]
    _names, artifacts = asyncio.run(flow_run_details(state.state_details.flow_run_id))
    assert "risk-library-backtest" in artifacts
    (version,) = list_versions(db)
    assert version.author == "王分析"
    assert not risk_library(str(good), return_state=True).result()["created"]
