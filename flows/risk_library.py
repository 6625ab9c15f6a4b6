"""The risk-library flow: validate the analysts' YAML, backtest it, import it as a new
version, and write a risk notice letter record (网络风险提示函) for every risk point
whose signals are rising.

Run daily and on demand::

    prefect deployment run 'risk-library/daily' --param path=config/risk.yaml
    yuqing risk import config/risk.yaml     # the import step alone, from the CLI

A file with any problem fails at ``validate-library`` and nothing is imported.
"""

from __future__ import annotations

from prefect import flow
from prefect.states import Completed, State

from tasks.risk import backtest_library, import_library_version, validate_library, write_notices
from yuqing_core.timeutil import SHANGHAI, utcnow


def _run_name() -> str:
    return "risk-library-" + utcnow().astimezone(SHANGHAI).strftime("%Y%m%d-%H%M%S")


@flow(name="risk-library", flow_run_name=_run_name)
def risk_library(path: str, days: int = 14, author: str | None = None, note: str | None = None) -> State:
    """Validate, backtest and import the library at ``path``; then write today's risk notices."""
    validate_library(path)
    backtest_lines = backtest_library(path, days)
    imported = import_library_version(path, author, note)
    notices = write_notices()
    version = imported.version.version
    message = f"风险库第 {version} 版{'（新导入）' if imported.created else '（未变化）'}；风险提示 {len(notices)} 条。"
    return Completed(
        message=message, data={"version": version, "created": imported.created, "backtest": backtest_lines, "notices": notices}
    )
