"""Prefect tasks of the risk-library flow: validate, backtest, import, write risk notices.

Tasks take the library file's path and read it themselves (stages hand each
other paths and ids, not payloads), so a retry sees the file as it is.
"""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from tasks.policies import PER_RUN_CACHE, database_error, task_timeout
from yuqing_core.config import get_settings
from yuqing_core.db import get_database
from yuqing_core.notify.units import configured_unit_names
from yuqing_core.risk.backtest import backtest
from yuqing_core.risk.library import UNITS_NOT_CHECKED, load_library_file
from yuqing_core.risk.notices import NoticeRecord, write_risk_notices
from yuqing_core.risk.versions import ImportResult, active_library, import_library


@task(timeout_seconds=task_timeout("risk"), name="validate-library", task_run_name="validate-library")
def validate_library(path: str) -> int:
    """Check the file; a bad file fails here with every problem named (file, line, field).

    With a units file configured, a risk point naming a unit it lacks is such a problem.
    """
    logger = get_run_logger()
    known = configured_unit_names(get_settings().units_file)
    if known is None:
        logger.warning(UNITS_NOT_CHECKED)
    loaded = load_library_file(path, known_units=known)
    logger.info("风险库文件有效：%d 个风险点", len(loaded.spec.risk_points))
    return len(loaded.spec.risk_points)


@task(
    timeout_seconds=task_timeout("risk"),
    name="backtest-library",
    task_run_name="backtest-library",
    cache_policy=PER_RUN_CACHE,
    persist_result=True,
    retries=2,
    retry_condition_fn=database_error,
)
def backtest_library(path: str, days: int) -> list[str]:
    """What the file would change over the last ``days`` of stored items, as a markdown artifact."""
    report = backtest(get_database(), load_library_file(path).spec, days=days)
    lines = report.lines()
    create_markdown_artifact(
        key="risk-library-backtest", markdown="\n".join(["# 风险库回测", "", "```", *lines, "```"]), description=lines[0]
    )
    return lines


@task(
    timeout_seconds=task_timeout("risk"),
    name="import-library",
    task_run_name="import-library",
    cache_policy=PER_RUN_CACHE,
    persist_result=True,
    retries=2,
    retry_condition_fn=database_error,
)
def import_library_version(path: str, author: str | None, note: str | None) -> ImportResult:
    """Store the file as a new version unless it equals the active one."""
    known = configured_unit_names(get_settings().units_file)
    result = import_library(get_database(), load_library_file(path, known_units=known), author=author, note=note)
    logger = get_run_logger()
    if result.created:
        logger.info("已导入为第 %d 版（%s）", result.version.version, result.version.author)
    else:
        logger.info("与当前第 %d 版相同，未生成新版本", result.version.version)
    return result


@task(
    timeout_seconds=task_timeout("risk"),
    name="write-risk-notices",
    task_run_name="write-risk-notices",
    retries=2,
    retry_condition_fn=database_error,
)
def write_notices() -> list[NoticeRecord]:
    """A risk notice record for each risk point whose signals are rising today."""
    db = get_database()
    notices = write_risk_notices(db, active_library(db))
    for notice in notices:
        get_run_logger().info(
            "风险提示：%s 今日 %d 条，基线期望 %.1f 条（p=%.2g）",
            notice.risk_point,
            notice.current,
            notice.expected,
            notice.p_value,
        )
    return notices
