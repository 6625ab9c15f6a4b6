"""Settings, read from the environment with the ``YUQING_`` prefix.

Example::

    YUQING_HOME=/srv/yuqing YUQING_DATABASE_URL=postgresql://db/yuqing yuqing collect

Every field can be set as ``YUQING_<FIELD NAME IN CAPITALS>``; for example
``fetch_allowed_networks`` is ``YUQING_FETCH_ALLOWED_NETWORKS`` (a list: comma-separated there).
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from yuqing_core import __version__
from yuqing_core.allowlist import SETTING as ALLOWED_NETWORKS_SETTING
from yuqing_core.allowlist import AllowedNetwork, parse_allowed_networks
from yuqing_core.timeutil import ZoneName

MIB = 1024 * 1024
# The longest wait any setting may ask for: beyond it a schedule leaves the calendar (datetime's year 9999).
MAX_DURATION_S = 366 * 24 * 3600
# Settings that were replaced: an environment still setting one fails loudly rather than being ignored.
REPLACED_SETTINGS = {
    "YUQING_FETCH_ALLOW_PRIVATE_NETWORKS": (
        f"YUQING_FETCH_ALLOW_PRIVATE_NETWORKS 已停用，由 {ALLOWED_NETWORKS_SETTING} 取代：请删除它，"
        f"改为列出允许访问的内网地址及端口，例如 {ALLOWED_NETWORKS_SETTING}=127.0.0.1:8080,10.1.0.0/16:443"
        "（不写端口即允许所有端口）"
    ),
}

# A list of allow-list entries, parsed once when the settings load (comma-separated in the environment).
AllowedNetworks = Annotated[tuple[AllowedNetwork, ...], NoDecode, BeforeValidator(parse_allowed_networks)]


class Settings(BaseSettings):
    """Everything an operator may tune, with defaults for one machine."""

    model_config = SettingsConfigDict(env_prefix="YUQING_", extra="ignore")

    home: Path = Field(Path("./var"), description="Folder for the SQLite database, reports and other state.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the application database; default: SQLite file under home."
    )
    timezone: ZoneName = Field("Asia/Shanghai", description="Zone for display and for zone-less dates.")

    county_name: str = Field("本县", description="The county watched, as printed in reports.")
    office_name: str = Field("网络舆情应急监控中心", description="The issuing office printed on every document.")
    office_short_name: str = Field("舆情", description="Prefix of document numbers, e.g. 青舆 gives 青舆日〔2026〕332号.")
    reports_dir: Path | None = Field(None, description="Where report files go; default: home/reports.")
    templates_dir: Path | None = Field(None, description="A folder whose templates override the built-in ones.")
    units_file: Path | None = Field(None, description="Units, routing, quiet hours and digests (YAML) for deliveries.")
    cases_file: Path | None = Field(None, description="Case types, time limits, reminders, local holidays (YAML).")

    contact: str = Field(
        "mailto:yuqing-ops@example.invalid",
        description="Where feed publishers can reach the operator; sent in the User-Agent.",
    )
    fetch_user_agent: str | None = Field(None, description="Overrides the default User-Agent entirely.")
    fetch_connect_timeout_s: float = Field(10.0, gt=0)
    fetch_total_timeout_s: float = Field(60.0, gt=0, description="Whole fetch, all redirect hops and the body.")
    fetch_max_body_bytes: int = Field(15 * MIB, gt=0, description="Decoded body cap, counted after decompression.")
    fetch_max_redirects: int = Field(5, ge=0)
    fetch_concurrency: int = Field(16, ge=1, description="Fetches in flight at once in one collect run.")
    fetch_per_host_concurrency: int = Field(2, ge=1, description="Fetches in flight at once to one host.")
    fetch_allowed_networks: AllowedNetworks = Field(
        (),
        description="Non-public addresses the collector may reach: IP or CIDR, optionally with a port "
        "(127.0.0.1:8080, [::1]:8080, 10.0.0.0/8); empty: public addresses only.",
    )
    fetch_max_entries_per_feed: int = Field(500, ge=1)
    fetch_max_field_chars: int = Field(20_000, ge=100, description="Cap on an item's text, in characters.")

    fulltext_max_per_run: int = Field(
        200, ge=0, description="Article pages fetched for full text (new relevant items) in one analyze run; 0: none."
    )
    fulltext_recheck_per_run: int = Field(
        200, ge=0, description="Kept pages fetched again in one analyze run, to notice deletions (原文已删除)."
    )
    fulltext_recheck_interval_s: int = Field(
        6 * 3600, ge=60, le=MAX_DURATION_S, description="Least time between two fetches of the same article page."
    )
    fulltext_recheck_days: int = Field(7, ge=0, description="Pages of items published this many days back are fetched again.")
    fulltext_host_delay_s: float = Field(
        1.0, ge=0, description="Least time between two full-text requests to the same host (politeness)."
    )
    snapshots_dir: Path | None = Field(None, description="Where page snapshots (gzip HTML and text) go; default: home/snapshots.")
    snapshot_retention_days: int = Field(
        365, ge=1, description="Snapshots fetched longer ago than this are removed (files no snapshot still names, too)."
    )

    fault_injection_file: Path | None = Field(
        None,
        description="Rehearsal of failures: while this file exists, the stages named in it (one per line) fail.",
    )

    secrets_from_prefect_blocks: bool = Field(
        False,
        description="Also look ${NAME} placeholders up in Prefect Secret blocks (readable by every holder of the "
        "Prefect API credential); off: only the environment of the machine that sends.",
    )

    dask_address: str | None = Field(
        None,
        description="Scheduler of a running Dask cluster for the analyze/backlog deployment: tls://host:8786, "
        "or tcp://host:8786 on a loopback or private address only.",
    )
    dask_tls_ca_file: Path | None = Field(None, description="CA certificate that signed the Dask cluster's (tls:// only).")
    dask_tls_cert_file: Path | None = Field(None, description="This client's certificate for the Dask cluster (tls:// only).")
    dask_tls_key_file: Path | None = Field(None, description="This client's private key for the Dask cluster (tls:// only).")
    dask_workers: int = Field(2, ge=1, description="Worker processes of the local Dask cluster when no address is given.")

    collect_disable_after_errors: int = Field(10, ge=1, description="Consecutive failures before a source is disabled.")
    collect_max_backoff_s: int = Field(24 * 3600, ge=60, le=MAX_DURATION_S)
    collect_max_retry_after_s: int = Field(7 * 24 * 3600, ge=60, le=MAX_DURATION_S, description="Longest Retry-After honoured.")
    collect_permanent_redirects_to_move: int = Field(
        3, ge=1, description="Polls ending in the same permanent redirect before the stored URL moves."
    )
    collect_future_tolerance_s: int = Field(
        600, ge=0, le=MAX_DURATION_S, description="Publication dates further ahead than this are treated as wrong."
    )
    hot_list_retention_days: int = Field(
        14, ge=2, le=366, description="How long a hot list's rank observations are kept (each poll drops older ones)."
    )

    # Every Prefect task has a timeout (read when the tasks module is imported): a run that hangs
    # (a slow regular expression, a stuck connection) fails instead of holding its worker forever.
    task_timeout_collect_s: int = Field(900, ge=10, le=MAX_DURATION_S, description="Timeout of each collect task.")
    task_timeout_analyze_s: int = Field(1800, ge=10, le=MAX_DURATION_S, description="Timeout of each analyze task (one batch).")
    task_timeout_report_s: int = Field(600, ge=10, le=MAX_DURATION_S, description="Timeout of building a report's files.")
    task_timeout_notify_s: int = Field(600, ge=10, le=MAX_DURATION_S, description="Timeout of a delivery or escalation task.")
    task_timeout_cases_s: int = Field(600, ge=10, le=MAX_DURATION_S, description="Timeout of a case-tracking task.")
    task_timeout_risk_s: int = Field(1800, ge=10, le=MAX_DURATION_S, description="Timeout of a risk-library task (backtests).")

    web_session_idle_s: int = Field(2 * 3600, ge=60, le=MAX_DURATION_S, description="A web session unused this long ends.")
    web_session_max_s: int = Field(12 * 3600, ge=60, le=MAX_DURATION_S, description="A web session ends this long after sign-in.")
    web_cookie_secure: bool = Field(
        False, description="Send the session cookie only over https (also automatic when a request arrives over https)."
    )
    web_login_max_failures: int = Field(5, ge=1, description="Failed sign-ins of one login name before it must wait.")
    web_login_max_failures_per_client: int = Field(
        20, ge=1, description="Failed sign-ins from one client address before it must wait."
    )
    web_login_window_s: int = Field(900, ge=60, le=MAX_DURATION_S, description="The window those failures are counted in.")
    web_max_upload_bytes: int = Field(10 * MIB, gt=0, description="Largest attachment a unit may hand in.")
    attachments_dir: Path | None = Field(None, description="Where case attachments are kept; default: home/attachments.")

    @model_validator(mode="before")
    @classmethod
    def _no_replaced_settings(cls, data: Any) -> Any:
        for name, message in REPLACED_SETTINGS.items():
            field = name.removeprefix("YUQING_").lower()
            if name in os.environ or (isinstance(data, dict) and field in data):
                raise ValueError(message)
        return data

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def hot_list_retention(self) -> timedelta:
        return timedelta(days=self.hot_list_retention_days)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.home / 'yuqing.db').resolve()}"

    @property
    def effective_reports_dir(self) -> Path:
        return self.reports_dir or self.home / "reports"

    @property
    def effective_attachments_dir(self) -> Path:
        return self.attachments_dir or self.home / "attachments"

    @property
    def effective_snapshots_dir(self) -> Path:
        return self.snapshots_dir or self.home / "snapshots"

    @property
    def user_agent(self) -> str:
        if self.fetch_user_agent:
            return self.fetch_user_agent
        return f"yuqing/{__version__} (+{self.contact})"


def normalize_database_url(url: str) -> str:
    """Pick the psycopg 3 driver for plain ``postgresql://`` URLs.

    >>> normalize_database_url("postgresql://localhost/test")
    'postgresql+psycopg://localhost/test'
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
