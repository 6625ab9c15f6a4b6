"""Prefect tasks of the analyze stage: one task per batch and step, never per item.

The plan (which items, which library version, which "now") is fixed once
per flow run and persisted, so a retried run analyses the same items with
the same version even if new items arrived or a library was imported
meanwhile; completed batch steps come back from their persisted results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event

from tasks.policies import PER_RUN_CACHE, database_error, task_timeout
from yuqing_core.analysis import (
    AnalysisSummary,
    batches,
    events_due_for_response,
    events_of,
    group_batch,
    items_to_analyze,
    match_batch,
    refresh_events,
)
from yuqing_core.analysis.grouping import GroupingSummary, prepare_grouping
from yuqing_core.analysis.match import MatchSummary
from yuqing_core.analysis.warn import RaisedWarning
from yuqing_core.cases import load_policy
from yuqing_core.cases.calendar import WorkCalendar
from yuqing_core.collect.fulltext import EnrichSummary, enrich_items, enrichment_candidates, recheck_candidates
from yuqing_core.collect.snapshots import prune_snapshots
from yuqing_core.config import get_settings
from yuqing_core.db import get_database
from yuqing_core.faults import check_fault
from yuqing_core.levels import Level
from yuqing_core.risk.hotlist import events_with_hot_list_changes
from yuqing_core.risk.versions import active_library, library_version
from yuqing_core.timeutil import format_local, utcnow

WARNING_EVENT = "yuqing.warning.raised"
WARNING_UPDATED_EVENT = "yuqing.warning.updated"


def office_calendar() -> WorkCalendar:
    """The office's working-day calendar (the cases file's local holidays and working days), for response timing."""
    return load_policy(get_settings().cases_file).calendar()


def _announce(warnings: list[RaisedWarning]) -> None:
    """A Prefect event per notice: ``yuqing.warning.raised`` for a new warning or a level rise, ``.updated`` for a change."""
    for warning in warnings:
        emit_event(
            event=WARNING_UPDATED_EVENT if warning.kind == "change" else WARNING_EVENT,
            resource={"prefect.resource.id": f"yuqing.event.{warning.event_id}", "prefect.resource.name": warning.title[:120]},
            payload={
                "warning_id": warning.id,
                "event_id": warning.event_id,
                "level": Level(warning.level).name,
                "level_label": warning.label,
                "score": warning.score,
                "risk_points": warning.risk_points,
                "kind": warning.kind,
                "changes": warning.changes,
            },
        )


@dataclass(frozen=True)
class AnalysisPlan:
    version_id: int
    version: int
    now: datetime
    batches: list[list[int]]

    @property
    def items(self) -> int:
        return sum(len(b) for b in self.batches)


@task(
    timeout_seconds=task_timeout("analyze"),
    name="plan-analysis",
    task_run_name="plan-analysis",
    cache_policy=PER_RUN_CACHE,
    persist_result=True,
    retries=2,
    retry_delay_seconds=2,
    retry_condition_fn=database_error,
)
def plan_analysis(since: datetime | None, until: datetime | None, batch_size: int) -> AnalysisPlan:
    """Which items this run analyses, in batches, with which library version."""
    db = get_database()
    library = active_library(db)
    ids = items_to_analyze(db, since=since, until=until)
    plan = AnalysisPlan(library.version_id, library.version.version, until or utcnow(), list(batches(ids, batch_size)))
    get_run_logger().info("风险库第 %d 版；待分析 %d 条，分 %d 批", plan.version, plan.items, len(plan.batches))
    return plan


@task(timeout_seconds=task_timeout("analyze"), name="match-items", task_run_name="match-{index}", cache_policy=PER_RUN_CACHE, persist_result=True,
      retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=database_error)  # fmt: skip
def match_items(version_id: int, index: int, item_ids: list[int], now: datetime) -> MatchSummary:
    """Run every rule of the library over the batch; store verdicts and matches."""
    check_fault(get_settings(), "analyze")
    db = get_database()
    summary = match_batch(db, library_version(db, version_id), item_ids, now=now)
    get_run_logger().info(
        "第 %d 批：%d 条，本县相关 %d 条，新命中 %d 个", index, summary.items, summary.relevant, summary.matches_new
    )
    return summary


@task(timeout_seconds=task_timeout("analyze"), name="fetch-full-text", task_run_name="fulltext-{index}", cache_policy=PER_RUN_CACHE, persist_result=True,
      retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=database_error)  # fmt: skip
def fetch_full_text(version_id: int, index: int, item_ids: list[int], now: datetime, budget: int) -> EnrichSummary:
    """Fetch the article pages of the batch's relevant items (at most ``budget``), keep snapshots, and
    run the rules again over the items whose full text is new."""
    db, settings = get_database(), get_settings()
    chosen = enrichment_candidates(db, item_ids, now=now, settings=settings, limit=budget)
    summary = enrich_items(db, settings, chosen, now=now)
    if summary.enriched:
        match_batch(db, library_version(db, version_id), summary.enriched, now=now)
    get_run_logger().info("第 %d 批：%s", index, summary.description)
    return summary


@task(timeout_seconds=task_timeout("analyze"), name="recheck-pages", task_run_name="recheck-pages", cache_policy=PER_RUN_CACHE, persist_result=True,
      retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=database_error)  # fmt: skip
def recheck_pages(now: datetime) -> EnrichSummary:
    """Fetch kept pages again to notice deletions (原文已删除); remove snapshots past their retention."""
    db, settings = get_database(), get_settings()
    chosen = recheck_candidates(db, now=now, settings=settings, limit=settings.fulltext_recheck_per_run)
    summary = enrich_items(db, settings, chosen, now=now)
    removed = prune_snapshots(db, settings.effective_snapshots_dir, retention_days=settings.snapshot_retention_days, now=now)
    get_run_logger().info("复查原文：%s超过保存期限删除快照 %d 份。", summary.description, removed)
    return summary


@task(timeout_seconds=task_timeout("analyze"), name="group-events", task_run_name="group-{index}", cache_policy=PER_RUN_CACHE, persist_result=True,
      retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=database_error)  # fmt: skip
def group_events(version_id: int, index: int, item_ids: list[int], now: datetime) -> GroupingSummary:
    """Assign the batch's relevant items to events (new or existing)."""
    db = get_database()
    summary = group_batch(db, library_version(db, version_id), item_ids, now=now)
    get_run_logger().info("第 %d 批：归入事件 %d 条，新事件 %d 个", index, summary.grouped, summary.new_events)
    return summary


@task(timeout_seconds=task_timeout("analyze"), name="score-and-warn", task_run_name="warn-{index}", cache_policy=PER_RUN_CACHE, persist_result=True,
      retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=database_error)  # fmt: skip
def score_and_warn(version_id: int, index: int, item_ids: list[int], now: datetime) -> list[RaisedWarning]:
    """Refresh the batch's events, score them, raise warnings, and announce each as a Prefect event."""
    db = get_database()
    summary = refresh_events(db, library_version(db, version_id), events_of(db, item_ids), now=now, calendar=office_calendar())
    _announce(summary.warnings)
    get_run_logger().info("第 %d 批：更新事件 %d 个，预警通知 %d 条", index, summary.events, len(summary.warnings))
    return summary.warnings


@task(timeout_seconds=task_timeout("analyze"), name="check-responses", task_run_name="check-responses", cache_policy=PER_RUN_CACHE, persist_result=True,
      retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=database_error)  # fmt: skip
def check_responses(version_id: int, now: datetime) -> list[RaisedWarning]:
    """Refresh the events whose response target passed unanswered (overdue even without new items), and those
    seen on a hot list since they were scored (a climb brings no new item); announce changes."""
    db = get_database()
    due = events_due_for_response(db, now)
    listed = [event_id for event_id in events_with_hot_list_changes(db, now) if event_id not in due]
    summary = refresh_events(db, library_version(db, version_id), due + listed, now=now, calendar=office_calendar())
    _announce(summary.warnings)
    get_run_logger().info(
        "回应时限到期的事件 %d 个，热榜名次有变化的事件 %d 个，预警通知 %d 条", len(due), len(listed), len(summary.warnings)
    )
    return summary.warnings


def analyze_stage(since: datetime | None, until: datetime | None, batch_size: int) -> AnalysisSummary:
    """The analyze stage as tasks (for the analyze and monitor flows).

    Matching is independent per item, so every batch's ``match-N`` is
    submitted at once (a Dask task runner spreads them over processes); then
    ``fulltext-N`` per batch, within the run's bound (``fulltext_max_per_run``),
    and ``recheck-pages`` once;
    grouping and warning then run batch by batch in publication order,
    because events grow incrementally and later items must see earlier ones.
    """
    plan = plan_analysis(since, until, batch_size)
    summary = AnalysisSummary(version=plan.version)
    futures = [match_items.submit(plan.version_id, index, batch, plan.now) for index, batch in enumerate(plan.batches)]
    # Grouping runs in this process; on a Dask task runner the matching does not, and this process would
    # load jieba's dictionary in group-0, serially. Loaded now, it overlaps the matching.
    prepare_grouping()
    matched = [future.result() for future in futures]
    # Full text before grouping: the rules have read the articles by the time events form.
    enriched = EnrichSummary()
    for index, batch in enumerate(plan.batches):
        budget = get_settings().fulltext_max_per_run - enriched.attempted
        if budget > 0:
            enriched.add(fetch_full_text(plan.version_id, index, batch, plan.now, budget))
    enriched.add(recheck_pages(plan.now))
    grouped = []
    for index, batch in enumerate(plan.batches):
        grouped.append(group_events(plan.version_id, index, batch, plan.now))
        summary.warnings += score_and_warn(plan.version_id, index, batch, plan.now)
    summary.warnings += check_responses(plan.version_id, plan.now)
    for part in matched:
        summary.matched.add(part)
    for part in grouped:
        summary.grouped.add(part)
    summary.description = publish_analysis_summary(plan, matched, grouped, summary.warnings)
    return summary


@task(timeout_seconds=task_timeout("analyze"), name="publish-analysis-summary", task_run_name="publish-analysis-summary")
def publish_analysis_summary(plan: AnalysisPlan, matched: list[MatchSummary], grouped: list[GroupingSummary],
                             warnings: list[RaisedWarning]) -> str:  # fmt: skip
    """A markdown artifact: matches per risk point, events, warnings."""
    total = MatchSummary()
    for part in matched:
        total.add(part)
    groups = GroupingSummary()
    for part in grouped:
        groups.add(part)
    lines = [
        f"# 分析结果（风险库第 {plan.version} 版，截至 {format_local(plan.now)}）",
        "",
        f"分析 {total.items} 条，本县相关 {total.relevant} 条，排除 {total.excluded} 条；新事件 {groups.new_events} 个，"
        + (f"合并事件 {groups.merged} 个，" if groups.merged else "")
        + f"预警通知 {len(warnings)} 条（新预警 {sum(w.kind == 'new' for w in warnings)} 条）。",
        "",
        "| 风险点 | 命中条数 |",
        "|---|---|",
        *(f"| {name} | {count} |" for name, count in total.risk_points.most_common()),
    ]
    if warnings:
        lines += ["", "| 预警 | 通知 | 级别 | 风险分 | 事件 | 风险点 |", "|---|---|---|---|---|---|"]
        lines += [
            f"| #{w.id} | {_cell(w.subject.split('】')[0] + '】')} | {w.label} | {w.score} | {_cell(w.title)} | {'、'.join(w.risk_points)} |"
            for w in warnings
        ]
    text = "\n".join(lines)
    create_markdown_artifact(key="analysis-summary", markdown=text, description=lines[2])
    return lines[2]


def _cell(text: str) -> str:
    return text.replace("|", "｜").replace("\n", " ")[:60]
