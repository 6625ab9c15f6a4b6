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
from collections.abc import Callable
from typing import Any, TypeVar

import click

from yuqing_core import __version__
from yuqing_core.config import Settings, get_settings
from yuqing_core.db.database import Database
from yuqing_core.yamlfile import ConfigFileError

F = TypeVar("F", bound=Callable[..., Any])


def prefect_defaults(*, quiet: bool = True) -> None:
    """Environment defaults for running flows from the command line; explicit settings win."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def run_flow(entrypoint: str, **parameters: Any) -> Any:
    """Run the flow at ``module:function`` once and return its final state."""
    prefect_defaults()
    module_name, _, attribute = entrypoint.partition(":")
    flow = getattr(importlib.import_module(module_name), attribute)
    outcome = flow(**parameters, return_state=True)
    if inspect.isawaitable(outcome):
        outcome = asyncio.run(outcome)  # type: ignore[arg-type]
    return outcome


def user_errors(func: F) -> F:
    """Turn the errors a user can fix into one clear message instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from yuqing_core.db.migrate import SchemaOutdated

        try:
            return func(*args, **kwargs)
        except ConfigFileError as exc:
            raise click.ClickException("文件有问题，未导入任何内容：\n" + str(exc)) from exc
        except (SchemaOutdated, LookupError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def settings() -> Settings:
    return get_settings()


def database() -> Database:
    """The application database, schema checked (a brand-new one is initialised)."""
    from yuqing_core.db import get_database

    return get_database(settings())


@click.group()
@click.version_option(__version__, prog_name="yuqing")
def main() -> None:
    """yuqing：县域网络舆情监测——采集公开信息源、匹配风险规则、预警、报告、督办。"""
