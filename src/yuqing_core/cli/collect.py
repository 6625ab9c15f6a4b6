"""Commands of the collect stage: database, sources, archives, collect, items."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from yuqing_core.cli.app import database, main, output_format_option, run_flow, settings, user_errors
from yuqing_core.tables import render_table
from yuqing_core.timeutil import format_local, parse_user_datetime

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

    target = Database(settings().effective_database_url)
    revision = upgrade(target)
    click.echo(f"数据库已是最新结构（版本 {revision}）：{target!r}")


@db.command("current")
@user_errors
def db_current() -> None:
    """Show the schema version of the database and of this program."""
    from yuqing_core.db import Database
    from yuqing_core.db.migrate import current_revision, head_revision

    target = Database(settings().effective_database_url)
    click.echo(f"数据库版本：{current_revision(target) or '未初始化'}；程序需要：{head_revision()}")


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
    summary = import_sources(database(), specs, settings())
    for line in summary.lines():
        click.echo(line)


@sources.command("test")
@click.argument("target")
@click.option("--limit", default=5, show_default=True, help="How many extracted entries to show per source.")
@user_errors
def sources_test(target: str, limit: int) -> None:
    """Fetch a source once and show what each selector or mapping extracts; nothing is stored.

    TARGET is the name of an imported source, or a sources file (every source in it is tested,
    before it is imported). Exits 1 if any source fails.

    Example:

        yuqing sources test 柳湾镇人民政府
        yuqing sources test config/new-sources.yaml
    """
    import asyncio

    from yuqing_core.collect.trial import trial_source

    targets = _trial_targets(target)
    failed = 0
    for one in targets:
        report = asyncio.run(trial_source(one, settings()))
        failed += not report.ok
        for line in trial_lines(report, limit):
            click.echo(line)
    if failed:
        raise SystemExit(1)


def _trial_targets(target: str) -> list[Any]:
    from sqlalchemy import select

    from yuqing_core.collect.sources import load_sources_file
    from yuqing_core.collect.trial import TrialTarget
    from yuqing_core.db.models import Source

    if Path(target).is_file():
        zone = settings().timezone
        return [
            TrialTarget(spec.name, spec.url, spec.kind, spec.extract, spec.timezone or zone)
            for spec in load_sources_file(target)
            if spec.url and spec.kind != "archive"
        ]
    with database().reader() as session:
        source = session.scalar(select(Source).where(Source.name == target))
        if source is None or not source.url:
            raise click.ClickException(f"没有名为 {target!r} 的信息源（也不是一个文件）")
        return [TrialTarget(source.name, source.url, source.kind, source.extract, source.timezone)]


def trial_lines(report: Any, limit: int) -> list[str]:
    """What ``sources test`` prints for one source, in Chinese for the operator (a hot list's entries: rank and heat too)."""
    from yuqing_core.collect.hotlist import describe_position
    from yuqing_core.collect.kinds import is_hot_list

    target = report.target
    kind = f"{target.kind}，热榜" if is_hot_list(target.extract) else target.kind
    lines = [f"== {target.name}（{kind}）{target.url}"]
    status = f"HTTP {report.http_status}" if report.http_status else "未连接"
    lines.append(f"抓取：{status}，共 {report.pages} 页")
    for count in report.counts:
        mark = "✓" if count.matched else "✗"
        lines.append(f"  {mark} {count.field}「{count.expression}」：{count.matched}/{count.of} 个条目有匹配")
    if report.error:
        lines.append(f"失败：{report.error}")
        return lines
    if report.note:
        lines.append(f"提示：{report.note}")
    lines.append(f"提取到 {report.entries_total} 个条目，以下是前 {min(limit, len(report.records))} 个：")
    for number, record in enumerate(report.records[:limit], start=1):
        when = format_local(record.published_at)
        if record.published_fallback:
            when += f"（日期{'缺失' if record.published_fallback == 'missing' else '无法识别'}，按抓取时间）"
        elif record.published_raw:
            when += f"（原文：{record.published_raw}）"
        lines.append(f"{number}. {record.title or '（无标题）'}")
        lines.append(f"   链接：{record.url or '（无）'}")
        lines.append(f"   时间：{when}")
        if record.excerpt:
            lines.append(f"   摘要：{record.excerpt[:80]}")
        if record.reply_at is not None:
            by = f"（{record.reply_by}）" if record.reply_by else ""
            lines.append(f"   官方回复{by}：{format_local(record.reply_at)} {(record.reply_text or '')[:60]}")
        if record.position is not None:
            lines.append(f"   热榜：{describe_position(record.position)}")
    return lines


def source_health_rows(items: list[Any]) -> list[dict[str, Any]]:
    from yuqing_core.collect.sources import role_label

    return [
        {
            "名称": s.name,
            "类型": s.kind,
            "角色": role_label(s.role, s.role_inferred),
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
@output_format_option()
@user_errors
def sources_list(output: str) -> None:
    """List sources with their health: last success, last new item, errors, next poll, disabled reason."""
    from yuqing_core.collect.sources import list_sources

    rows = list_sources(database())
    if output == "jsonl":
        for s in rows:
            click.echo(
                json.dumps(
                    {
                        "name": s.name,
                        "url": s.url,
                        "kind": s.kind,
                        "enabled": s.enabled,
                        "owner_unit": s.owner_unit,
                        "category": s.category,
                        "role": s.role,
                        "role_inferred": s.role_inferred,
                        "weight": s.weight,
                        "poll_interval_s": s.poll_interval_s,
                        "last_success": _iso(s.last_success_at),
                        "last_new_item": _iso(s.last_new_item_at),
                        "consecutive_errors": s.consecutive_errors,
                        "next_poll": _iso(s.next_poll_at),
                        "last_status": s.last_status,
                        "last_error": s.last_error,
                        "disabled_reason": s.disabled_reason,
                    },
                    ensure_ascii=False,
                )
            )
        return
    if not rows:
        click.echo("还没有信息源：先用 `yuqing sources import 文件` 导入。")
        return
    click.echo(render_table(source_health_rows(rows)))


def _iso(value: datetime | None) -> str | None:
    from yuqing_core.timeutil import isoformat_local

    return isoformat_local(value, settings().tz)


@sources.command("enable")
@click.argument("name")
@user_errors
def sources_enable(name: str) -> None:
    """Put a disabled source back in rotation (due at once, error count reset)."""
    from yuqing_core.collect.sources import set_enabled

    set_enabled(database(), name, True)
    click.echo(f"已启用：{name}")


@sources.command("disable")
@click.argument("name")
@click.option("--reason", default=None, help="Why, for the health list.")
@user_errors
def sources_disable(name: str, reason: str | None) -> None:
    """Take a source out of rotation."""
    from yuqing_core.collect.sources import set_enabled

    set_enabled(database(), name, False, reason=reason)
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

    summary = import_archive(database(), settings(), file, source_name)
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
    database()  # schema check before Prefect starts
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
@output_format_option()
@user_errors
def items_list(since: str | None, until: str | None, source: str | None, limit: int | None, output: str) -> None:
    """List items by publication time.

    Example:

        yuqing items list --since 2026-11-27 --format jsonl
    """
    from yuqing_core.items import iter_items

    tz = settings().tz
    rows = iter_items(
        database(),
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
        {"ID": r.id, "发布时间": format_local(r.published, tz), "信息源": r.source, "标题": r.title or r.excerpt} for r in rows
    ]
    click.echo(render_table(table, max_column_width=60) if table else "没有符合条件的信息。")
