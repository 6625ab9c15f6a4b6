"""Prefect tasks of the report and notification stages.

Documents are built and written per flow run (cached on the run, so a retry
reuses the files it already wrote); deliveries go through the send-once
ledger, so a retried flow never sends twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event
from prefect.states import State

from tasks.policies import PER_RUN_CACHE, database_error, sending_task_options, task_timeout
from yuqing_core.analysis.notices import send_warning_notices
from yuqing_core.analysis.warn import RaisedWarning
from yuqing_core.config import Settings, get_settings
from yuqing_core.db import get_database
from yuqing_core.faults import check_fault
from yuqing_core.levels import Level
from yuqing_core.notify import (
    DeliveryFailed,
    DeliveryReport,
    Message,
    UnitsFile,
    deliver,
    escalate_warnings,
    import_units,
    load_units_file,
    resolve_recipients,
)
from yuqing_core.office import load_office
from yuqing_core.reports.archive import event_label
from yuqing_core.reports.data import build_daily_report, build_special_report
from yuqing_core.reports.model import DailyReport, PeriodicReport, SpecialReport
from yuqing_core.reports.periodic import build_periodic_report
from yuqing_core.reports.render import RenderedFiles, Renderer, suggested_handling
from yuqing_core.risk.versions import NoActiveLibrary, active_library

ESCALATED_EVENT = "yuqing.warning.escalated"


@dataclass(frozen=True)
class WrittenReport:
    title: str
    number: str
    summary: str
    files: list[str]
    short_text: str
    units: tuple[str, ...] = ()  # the units concerned (a special report's risk-point units), for routing


def report_folder(settings: Settings, kind: str, label: str) -> Path:
    return settings.effective_reports_dir / kind / label


def notify_config(settings: Settings) -> UnitsFile | None:
    """The units file's routing (its units are imported into the database first), or None if not configured."""
    if settings.units_file is None:
        return None
    spec = load_units_file(settings.units_file)
    import_units(get_database(settings), spec)
    return spec


@task(timeout_seconds=task_timeout("report"), name="build-daily-report", task_run_name="build-daily-report-{day}", cache_policy=PER_RUN_CACHE, persist_result=True,
      retries=2, retry_condition_fn=database_error)  # fmt: skip
def build_daily(day: date, out_dir: str | None = None) -> WrittenReport:
    """Build the day's report from the database and write it as HTML, Markdown, DOCX and short text."""
    settings = get_settings()
    report: DailyReport = build_daily_report(get_database(settings), settings, day)
    folder = Path(out_dir) if out_dir else report_folder(settings, "daily", day.isoformat())
    renderer = Renderer(settings.templates_dir, tz=settings.tz)
    files: RenderedFiles = renderer.write(report, folder, f"舆情日报-{day.isoformat()}")
    written = WrittenReport(f"{report.office.county}舆情日报（{day.isoformat()}）", report.number, report.summary,
                            [str(p) for p in files.all], renderer.short_text(report))  # fmt: skip
    _publish(written, key="daily-report")
    return written


@task(timeout_seconds=task_timeout("report"), name="build-special-report", task_run_name="build-special-report", cache_policy=PER_RUN_CACHE, persist_result=True,
      retries=2, retry_condition_fn=database_error)  # fmt: skip
def build_special(event_id: int | None, expression: str | None, since: datetime | None, until: datetime | None,
                  recipients: list[str], out_dir: str | None = None) -> WrittenReport:  # fmt: skip
    """Build a special report for an event or a rule expression over a window, and write its files."""
    settings = get_settings()
    report: SpecialReport = build_special_report(
        get_database(settings), settings, event_id=event_id, expression=expression, since=since, until=until,
        recipients=recipients, handling=lambda level: suggested_handling(level, settings.templates_dir),
    )  # fmt: skip
    label = event_label(event_id) if event_id is not None else report.number.replace("〔", "-").replace("〕", "-").rstrip("号")
    folder = Path(out_dir) if out_dir else report_folder(settings, "special", label)
    renderer = Renderer(settings.templates_dir, tz=settings.tz)
    files = renderer.write(report, folder, f"舆情专报-{label}")
    written = WrittenReport(report.title, report.number, report.assessment, [str(p) for p in files.all], renderer.short_text(report),
                            units=report.units)  # fmt: skip
    _publish(written, key="special-report")
    return written


@task(timeout_seconds=task_timeout("report"), name="build-periodic-report", task_run_name="build-{kind}-report", cache_policy=PER_RUN_CACHE, persist_result=True,
      retries=2, retry_condition_fn=database_error)  # fmt: skip
def build_periodic(kind: str, period: str | None = None, out_dir: str | None = None) -> WrittenReport:
    """Build the 周报, 月报 or 季报 (``kind`` weekly | monthly | quarterly) of ``period`` and write its files."""
    settings = get_settings()
    report: PeriodicReport = build_periodic_report(get_database(settings), settings, kind, period)
    label = periodic_label(report)
    folder = Path(out_dir) if out_dir else report_folder(settings, kind, label)
    renderer = Renderer(settings.templates_dir, tz=settings.tz)
    files = renderer.write(report, folder, f"{report.name}-{label}")
    written = WrittenReport(f"{report.office.county}{report.name}（{report.period_label}）", report.number, report.summary,
                            [str(p) for p in files.all], renderer.short_text(report))  # fmt: skip
    _publish(written, key=f"{kind}-report")
    return written


def periodic_label(report: PeriodicReport) -> str:
    """The folder and file label of a periodic report: ``2026-11-23`` (its first day)."""
    return report.period_start.astimezone(get_settings().tz).date().isoformat()


def _publish(written: WrittenReport, *, key: str) -> None:
    lines = [f"# {written.title}", "", f"文号：{written.number}", "", written.summary, "", "文件：", ""]
    lines += [f"- `{path}`" for path in written.files]
    create_markdown_artifact(key=key, markdown="\n".join(lines), description=written.summary[:200])
    get_run_logger().info("%s 已写出 %d 个文件", written.title, len(written.files))


@task(name="deliver-report", task_run_name="deliver-{kind}", **sending_task_options())
def deliver_report(written: WrittenReport, kind: str, message_key: str, recipients: list[str] | None = None,
                   routed_as: str | None = None) -> list[str]:  # fmt: skip
    """Send a written report (short text as body, DOCX and HTML attached) to its recipients, once.

    Without ``recipients``, the units file's routing for ``kind`` decides, or, when it has no entry for
    ``kind``, its entry for ``routed_as`` (a 周报 goes where the 日报 goes unless routed on its own).
    """
    settings = get_settings()
    check_fault(settings, "report", kind)
    config = notify_config(settings)
    logger = get_run_logger()
    if config is None:
        logger.warning("未配置单位与通知渠道（YUQING_UNITS_FILE），不发送")
        return ["未配置单位与通知渠道，未发送"]
    db = get_database(settings)
    route = routed_as if routed_as and kind not in config.routing else kind
    to = recipients or resolve_recipients(db, route, written.units, config=config)
    attachments = tuple(Path(p) for p in written.files if p.endswith((".docx", ".html")))
    # The short text is the body (the documents are attached) and, for a phone, all it gets.
    message = Message(kind=kind, key=message_key, subject=f"{written.title} {written.number}", body=written.short_text,
                      attachments=attachments, reference=written.files[0], short=written.short_text)  # fmt: skip
    report = deliver(db, message, to, config=config)
    _delivery_artifact(report, kind.replace("_", "-") + "-delivery")
    failure = DeliveryFailed.of(report)
    if failure is not None:  # every recipient was tried; the task ends Failed (a retry resends the failed ones)
        logger.error(failure.summary)
        raise failure
    return report.lines()


def sends_of(state: State[list[str]]) -> tuple[list[str], str | None]:
    """A delivery task's final state as (report lines, failure line or None); other errors are raised."""
    # _sync: the result itself even inside an async flow (monitor), not a coroutine.
    if state.is_failed():
        error = state.result(raise_on_failure=False, _sync=True)  # type: ignore[call-overload]
        if isinstance(error, DeliveryFailed):
            return error.lines, error.summary
    return state.result(_sync=True), None  # type: ignore[call-overload]


@task(name="notify-warnings", task_run_name="notify-warnings", **sending_task_options())
def notify_warnings(warnings: list[RaisedWarning]) -> list[str]:
    """Tell each warning notice (new, level rise, material change) to whoever is on duty, then to the units its level routes to.

    Each notice goes out once: its ledger key names the warning and the level or change
    (``warning:17:level:2``, ``warning:17:change:overdue``).

    Nobody reachable: the fallback unit gets it, the ledger says why. Risk
    points naming units the units file lacks are logged as a WARNING on every run.
    """
    settings = get_settings()
    config = notify_config(settings)
    if config is None:
        return ["未配置单位与通知渠道，预警未推送"]
    db = get_database(settings)
    try:
        spec = active_library(db).spec
    except NoActiveLibrary:
        spec = None
    logger = get_run_logger()
    outcome = send_warning_notices(db, warnings, config=config, spec=spec, office=load_office(settings))
    if (line := outcome.unknown_units_line()) is not None:
        logger.warning(line)
    total = outcome.report
    for line in total.lines()[1:]:
        if line.startswith(("已转兜底单位", "无法送达")):
            logger.warning(line)
    _delivery_artifact(total, "warning-delivery")
    failure = DeliveryFailed.of(total, unreachable_counts=False)  # unreachable units went to the fallback unit
    if failure is not None:
        logger.error(failure.summary)
        raise failure
    return total.lines()


@task(name="escalate-warnings", task_run_name="escalate-warnings", **sending_task_options())
def escalate_open_warnings(now: datetime | None = None) -> list[str]:
    """Send the escalation steps due now for warnings nobody has acknowledged; emit ``yuqing.warning.escalated`` for each."""
    settings = get_settings()
    config = notify_config(settings)
    if config is None or not config.escalation_chain:
        return []
    db = get_database(settings)
    try:
        spec = active_library(db).spec
    except NoActiveLibrary:
        return []

    def units_of(names: Iterable[str]) -> list[str]:
        return [unit for name in names if (point := spec.risk_point(name)) for unit in point.units]

    steps = escalate_warnings(db, config=config, minutes=spec.escalation.by_level(), units_of=units_of, now=now)
    logger = get_run_logger()
    total = DeliveryReport()
    for step in steps:
        logger.warning(step.line())
        total.extend(step.report)
        if not step.recorded:
            continue
        emit_event(
            event=ESCALATED_EVENT,
            resource={"prefect.resource.id": f"yuqing.event.{step.event_id}", "prefect.resource.name": step.title[:120]},
            payload={
                "warning_id": step.warning_id,
                "event_id": step.event_id,
                "level": Level(step.level).name,
                "step": step.step,
                "recipients": step.recipients,
                "waited_minutes": step.waited_minutes,
            },
        )
    if steps:
        _delivery_artifact(total, "warning-escalation")
    failure = DeliveryFailed.of(total, unreachable_counts=False)
    if failure is not None:
        logger.error(failure.summary)
        raise DeliveryFailed(failure.summary, [step.line() for step in steps], failure.retryable)
    return [step.line() for step in steps]


def _delivery_artifact(report: DeliveryReport, key: str) -> None:
    rows = report.table()
    if rows:
        create_table_artifact(key=key, table=rows, description="；".join(report.lines())[:200])
