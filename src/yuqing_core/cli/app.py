"""The ``yuqing`` command group and what every subcommand shares.

Stages run as their Prefect flows, loaded by entrypoint name (e.g.
``flows.collect:collect``) so the core never imports flows statically.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import os
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click
from pydantic import ValidationError

from yuqing_core import __version__
from yuqing_core.config import Settings, get_settings
from yuqing_core.db.database import Database
from yuqing_core.errors import UserError
from yuqing_core.yamlfile import ConfigFileError

F = TypeVar("F", bound=Callable[..., Any])


#: How long a command waits for its local (ephemeral) Prefect API to start. Prefect's own default of
#: 20 s is too short on a busy 2-core machine, where the first start (creating and migrating its
#: database) has taken over 40 s. PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, if set, wins.
PREFECT_STARTUP_TIMEOUT_S = 300


def prefect_defaults(*, quiet: bool = True) -> None:
    """Environment defaults for running flows from the command line; explicit settings win."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(PREFECT_STARTUP_TIMEOUT_S))
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def secure_ephemeral_api() -> None:
    """Give the ephemeral Prefect API of this process a random credential of its own (``yuqing demo``).

    Without ``PREFECT_API_URL`` Prefect starts an API server on 127.0.0.1, at a random port, for as long
    as the command runs; open, any local user or web page (it allows every CORS origin) could drive it
    meanwhile. Prefect reads its settings once, when imported, and passes them to that server's
    subprocess: set before the import, the same credential reaches server and client. Once Prefect is
    imported (tests, a program embedding the CLI) nothing is changed -- a server with a credential the
    client never read would refuse this very process. The caller owns ``PREFECT_HOME`` (the demo does),
    so no profile of the user's points this credential at another server.
    """
    if os.environ.get("PREFECT_API_URL") or "prefect" in sys.modules:
        return
    if os.environ.get("PREFECT_API_AUTH_STRING") or os.environ.get("PREFECT_SERVER_API_AUTH_STRING"):
        return
    credential = f"yuqing:{secrets.token_urlsafe(24)}"
    os.environ["PREFECT_SERVER_API_AUTH_STRING"] = credential
    os.environ["PREFECT_API_AUTH_STRING"] = credential
    # No UI is served and no browser should call it: no origin is allowed (not even "null", file:// pages').
    os.environ["PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS"] = ""


def start_prefect_api() -> None:
    """Make sure the Prefect API that flow runs will talk to is up, saying so while the user waits.

    With ``PREFECT_API_URL`` set (``make serve``, a shared server) there is nothing to start. Otherwise
    Prefect runs flows against an ephemeral API server in a subprocess, started on first use and reused
    by every later flow run of this process; it is started here, with a generous allowance, so that a
    slow start is a message on the terminal rather than a silent pause, and a failed one a single
    Chinese line that says what to do rather than a traceback.
    """
    from prefect.settings import get_current_settings

    current = get_current_settings()
    if current.api.url:
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    if server.running:
        return
    timeout_s = int(float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", PREFECT_STARTUP_TIMEOUT_S)))
    click.echo(
        f"正在启动本地 Prefect 服务…（首次启动要建立它的数据库，较忙的机器上可能需要一两分钟，最多等 {timeout_s} 秒）", err=True
    )
    started = time.monotonic()
    try:
        server.start(timeout=timeout_s)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise click.ClickException(
            f"本地 Prefect 服务没能启动（{reason}）。请稍后重试；机器繁忙时可加大等待时间，"
            f"如 PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=600，"
            f"或先用 make serve 启动常驻服务并设置 PREFECT_API_URL=http://127.0.0.1:4200/api。"
        ) from exc
    click.echo(f"本地 Prefect 服务已启动（{time.monotonic() - started:.0f} 秒），地址 {server.api_url}。", err=True)


def run_flow(entrypoint: str, **parameters: Any) -> Any:
    """Run the flow at ``module:function`` once and return its final state."""
    prefect_defaults()
    start_prefect_api()
    module_name, _, attribute = entrypoint.partition(":")
    flow = getattr(importlib.import_module(module_name), attribute)
    outcome = flow(**parameters, return_state=True)
    if inspect.iscoroutine(outcome):  # an async flow
        outcome = asyncio.run(outcome)
    return outcome


def user_errors(func: F) -> F:
    """Show the errors a user can fix (``UserError``) as their message alone; anything else is a bug and keeps its traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigFileError as exc:
            raise click.ClickException("文件有问题，未导入任何内容：\n" + str(exc)) from exc
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc

    return cast(F, wrapper)


OUTPUT_FORMATS = ("text", "jsonl")


def output_format_option(default: str = "text") -> Callable[[F], F]:
    """The one ``--format`` every command that prints records offers.

    ``text`` is for people (a table, or lines); ``jsonl`` is one JSON object per line, for programs.
    """
    return click.option(
        "--format",
        "output",
        type=click.Choice(OUTPUT_FORMATS),
        default=default,
        show_default=True,
        help="text: for people; jsonl: one JSON object per line.",
    )


def settings() -> Settings:
    """The settings from the environment; a mistake there is the user's to fix, shown without a traceback."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise click.ClickException("环境变量设置有误：\n" + "\n".join(_setting_problems(exc))) from exc


def _setting_problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        names = [str(part) for part in error["loc"]]
        problems.append(f"  YUQING_{names[0].upper()}：{message}" if names else f"  {message}")
    return problems


def database() -> Database:
    """The application database, schema checked (a brand-new one is initialised)."""
    from yuqing_core.db import get_database

    return get_database(settings())


@click.group()
@click.version_option(__version__, prog_name="yuqing")
def main() -> None:
    """yuqing：县域网络舆情监测——采集公开信息源、匹配风险规则、预警、报告、督办。"""
