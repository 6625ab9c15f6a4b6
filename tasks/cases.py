"""Prefect tasks of the cases stage: track deadlines and notify, record an action."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event

from tasks.policies import database_error, database_error_or_failed_sends, task_timeout
from tasks.report import notify_config
from yuqing_core.cases import act, load_policy
from yuqing_core.cases.states import STATE_LABELS
from yuqing_core.cases.tracking import TrackingSummary, track_cases
from yuqing_core.config import get_settings
from yuqing_core.db import get_database
from yuqing_core.errors import UserError
from yuqing_core.notify import DeliveryFailed, sweep
from yuqing_core.reports.case_notice import issue_case_notice


@task(
    timeout_seconds=task_timeout("cases"),
    name="track-cases",
    task_run_name="track-cases",
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=database_error_or_failed_sends,
)
def track(now: datetime | None = None) -> TrackingSummary:
    """Reminders, overdue notices, reprimand listings and provisional deadlines, each notice sent once."""
    settings = get_settings()
    db = get_database(settings)
    config = notify_config(settings)
    logger = get_run_logger()
    summary = track_cases(db, load_policy(settings.cases_file), config, now=now)
    for number in summary.overdue_notified:
        emit_event(
            event="yuqing.case.overdue", resource={"prefect.resource.id": f"yuqing.case.{number}"}, payload={"case": number}
        )
    if config is not None:
        swept = sweep(db, now, config=config)
        summary.delivery += swept.lines()
        summary.sends.extend(swept)
    for line in summary.lines():
        logger.info(line)
    create_markdown_artifact(key="track-cases", markdown="\n".join(["# 督办跟踪", "", *(f"- {line}" for line in summary.lines())]),
                             description=summary.lines()[0])  # fmt: skip
    failure = DeliveryFailed.of(summary.sends)
    if failure is not None:  # every notice was tried; the task ends Failed, a retry resends only the failed rows
        logger.error(failure.summary)
        raise failure
    return summary


@task(
    timeout_seconds=task_timeout("cases"),
    name="case-action",
    task_run_name="{action}-{case_number}",
    retries=2,
    retry_condition_fn=database_error,
)
def record_action(case_number: str, action: str, actor: str, note: str | None, answer: str | None,
                  until: datetime | None, expected_version: int | None, *, on_behalf_of: str | None = None,
                  details: dict | None = None) -> dict:  # fmt: skip
    """Apply one action to one case (refused transitions and refused units fail the task with the reason)."""
    settings = get_settings()
    case = act(get_database(settings), load_policy(settings.cases_file), case_number, action, actor=actor, note=note,
               answer=answer, until=until, expected_version=expected_version, on_behalf_of=on_behalf_of,
               audit_details=details)  # fmt: skip
    logger = get_run_logger()
    logger.info("%s：%s → %s（%s）", case.number, action, STATE_LABELS[case.state], actor)
    if action == "dispatch":  # the 督报 goes out with the dispatch; a failed send stays in the ledger for the hourly sweep
        try:
            lines = issue_case_notice(get_database(settings), settings, case, config=notify_config(settings)).lines()
        except UserError as exc:  # the case is dispatched; its notice could not be written (origin gone)
            lines = [str(exc)]
        for line in lines:
            logger.info(line)
    return {"case": case.number, "state": case.state, "version": case.version,
            "deadline": case.deadline_at.isoformat() if case.deadline_at else None}  # fmt: skip
