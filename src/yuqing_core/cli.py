"""The ``yuqing`` command: a thin layer over ``yuqing_core``.

Stages run as their Prefect flows, loaded by entrypoint name (e.g.
``flows.collect:collect``) so the core never imports flows statically.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from yuqing_core import __version__
from yuqing_core.config import Settings, get_settings
from yuqing_core.tables import render_table
from yuqing_core.timeutil import format_local, parse_user_datetime
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


def _settings() -> Settings:
    return get_settings()


def _db():  # type: ignore[no-untyped-def]
    from yuqing_core.db import get_database

    return get_database(_settings())


@click.group()
@click.version_option(__version__, prog_name="yuqing")
def main() -> None:
    """yuqing：县域网络舆情监测——采集公开信息源、匹配风险规则、预警、报告、督办。"""


# --- db ----------------------------------------------------------------------


@main.group()
def db() -> None:
    """Application database: schema migrations."""


@db.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create or migrate the database schema to the current version.

    Example:

        YUQING_DATABASE_URL=postgresql://localhost/yuqing yuqing db upgrade
    """
    from yuqing_core.db import Database
    from yuqing_core.db.migrate import upgrade

    settings = _settings()
    database = Database(settings.effective_database_url)
    revision = upgrade(database)
    click.echo(f"数据库已是最新结构（版本 {revision}）：{database!r}")


@db.command("current")
@user_errors
def db_current() -> None:
    """Show the schema version of the database and of this program."""
    from yuqing_core.db import Database
    from yuqing_core.db.migrate import current_revision, head_revision

    database = Database(_settings().effective_database_url)
    click.echo(f"数据库版本：{current_revision(database) or '未初始化'}；程序需要：{head_revision()}")


# --- sources -----------------------------------------------------------------


@main.group()
def sources() -> None:
    """Information sources (信息源): import from YAML, list health, enable/disable."""


@sources.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@user_errors
def sources_import(file: Path) -> None:
    """Import sources from a YAML file (all or nothing).

    Example:

        yuqing sources import config/sources.yaml
    """
    from yuqing_core.collect.sources import import_sources, load_sources_file

    specs = load_sources_file(file)
    summary = import_sources(_db(), specs, _settings())
    for line in summary.lines():
        click.echo(line)


def source_health_rows(items: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "名称": s.name,
            "类型": s.kind,
            "状态": ("启用" if s.enabled else "停用"),
            "上次成功": format_local(s.last_success_at),
            "上次新信息": format_local(s.last_new_item_at),
            "连续错误": s.consecutive_errors,
            "下次采集": format_local(s.next_poll_at) if s.enabled and s.kind != "archive" else "-",
            "停用原因/最近错误": s.disabled_reason or s.last_error or "",
        }
        for s in items
    ]


@sources.command("list")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@user_errors
def sources_list(output: str) -> None:
    """List sources with their health: last success, last new item, errors, next poll, disabled reason."""
    from yuqing_core.collect.sources import list_sources

    rows = list_sources(_db())
    if output == "json":
        for s in rows:
            click.echo(
                json.dumps(
                    {
                        "name": s.name, "url": s.url, "kind": s.kind, "enabled": s.enabled,
                        "owner_unit": s.owner_unit, "category": s.category, "weight": s.weight,
                        "poll_interval_s": s.poll_interval_s,
                        "last_success": _iso(s.last_success_at), "last_new_item": _iso(s.last_new_item_at),
                        "consecutive_errors": s.consecutive_errors, "next_poll": _iso(s.next_poll_at),
                        "last_status": s.last_status, "last_error": s.last_error,
                        "disabled_reason": s.disabled_reason,
                    },  # fmt: skip
                    ensure_ascii=False,
                )
            )
        return
    if not rows:
        click.echo("还没有信息源：先用 `yuqing sources import 文件` 导入。")
        return
    click.echo(render_table(source_health_rows(rows)))


def _iso(value: Any) -> str | None:
    from yuqing_core.timeutil import isoformat_local

    return isoformat_local(value, _settings().tz)


@sources.command("enable")
@click.argument("name")
@user_errors
def sources_enable(name: str) -> None:
    """Put a disabled source back in rotation (due at once, error count reset)."""
    from yuqing_core.collect.sources import set_enabled

    set_enabled(_db(), name, True)
    click.echo(f"已启用：{name}")


@sources.command("disable")
@click.argument("name")
@click.option("--reason", default=None, help="Why, for the health list.")
@user_errors
def sources_disable(name: str, reason: str | None) -> None:
    """Take a source out of rotation."""
    from yuqing_core.collect.sources import set_enabled

    set_enabled(_db(), name, False, reason=reason)
    click.echo(f"已停用：{name}")


# --- import (archives) -------------------------------------------------------


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--source", "source_name", required=True, help="Source to import into (created as kind archive).")
@user_errors
def import_command(file: Path, source_name: str) -> None:
    """Backfill items from a JSON Lines archive (fields: title, text/summary, url, published, guid).

    Example:

        yuqing import weibo-2026-10.jsonl --source 微博存档
    """
    from yuqing_core.collect.archive import import_archive

    summary = import_archive(_db(), _settings(), file, source_name)
    click.echo(summary.line())


# --- collect -----------------------------------------------------------------


def print_collect_summary(state: Any) -> int:
    """Print a collect run's per-source table; the exit status for the shell."""
    from yuqing_core.collect.summary import summary_rows

    summary = state.result(raise_on_failure=False)
    results = getattr(summary, "results", None)
    if results is None:
        click.echo(f"采集未完成：{state.message or state.name}", err=True)
        return 1
    if results:
        click.echo(render_table(summary_rows(results)))
    else:
        click.echo("没有到期的信息源（用 --all 忽略采集间隔）。")
    click.echo(f"\n共 {len(results)} 个信息源，新增 {summary.items_new} 条。")
    if state.is_failed():
        click.echo(state.message, err=True)
        return 1
    return 0


@main.command("collect")
@click.option("--all", "all_sources", is_flag=True, help="Poll every enabled source, ignoring schedules.")
@click.option("--source", "names", multiple=True, help="Only this source (repeatable).")
@user_errors
def collect_command(all_sources: bool, names: tuple[str, ...]) -> None:
    """Run one collect (as the Prefect flow) over the due sources and print a per-source summary."""
    _db()  # schema check before Prefect starts
    state = run_flow("flows.collect:collect", all_sources=all_sources, sources=list(names) or None)
    sys.exit(print_collect_summary(state))


# --- items -------------------------------------------------------------------


@main.group()
def items() -> None:
    """Stored items (信息/帖文)."""


@items.command("list")
@click.option("--since", help="From this date/time (Asia/Shanghai unless it has an offset).")
@click.option("--until", help="Up to (not including) this date/time.")
@click.option("--source", help="Only this source.")
@click.option("--limit", type=int, help="At most this many items.")
@click.option("--format", "output", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@user_errors
def items_list(since: str | None, until: str | None, source: str | None, limit: int | None, output: str) -> None:
    """List items by publication time.

    Example:

        yuqing items list --since 2026-11-27 --format jsonl
    """
    from yuqing_core.items import iter_items

    tz = _settings().tz
    rows = iter_items(
        _db(),
        since=parse_user_datetime(since, tz) if since else None,
        until=parse_user_datetime(until, tz) if until else None,
        source=source,
        limit=limit,
    )
    if output == "jsonl":
        for row in rows:
            click.echo(json.dumps(row.as_json(tz), ensure_ascii=False))
        return
    table = [
        {"ID": r.id, "发布时间": format_local(r.published, tz), "信息源": r.source, "标题": r.title or r.excerpt}
        for r in rows
    ]
    click.echo(render_table(table, max_column_width=60) if table else "没有符合条件的信息。")


# --- demo --------------------------------------------------------------------


@main.command("demo")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"), show_default=True)
@user_errors
def demo_command(home: Path) -> None:
    """Serve the bundled sample county on 127.0.0.1, collect it, and print what was found."""
    from yuqing_core.demo import run_demo

    sys.exit(run_demo(home))


if __name__ == "__main__":  # pragma: no cover
    main()
