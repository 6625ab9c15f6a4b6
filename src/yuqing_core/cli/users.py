"""Accounts of the web workbench (``yuqing web``): add, disable, reset, list, and one per unit at once."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from yuqing_core.cli.app import database, main, output_format_option, settings, user_errors
from yuqing_core.tables import render_table
from yuqing_core.timeutil import format_local

F = TypeVar("F", bound=Callable[..., Any])


def password_options(func: F) -> F:
    """Where a new password comes from: a hidden prompt (default), one line of stdin, or generated and printed once."""
    func = click.option("--generate", is_flag=True, help="Generate a password and print it once.")(func)
    return click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")(func)


def _password(password_stdin: bool, generate: bool) -> str | None:
    if password_stdin and generate:
        raise click.UsageError("--password-stdin 与 --generate 只能选一个")
    if generate:
        return None
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码"))


def _audit(action: str, target: str, details: dict[str, Any] | None = None) -> None:
    from yuqing_core.accounts import record_audit
    from yuqing_core.risk.versions import default_author

    record_audit(database(), account=None, actor_name=f"命令行:{default_author()}", action=action, target=target, details=details)


@main.group()
def users() -> None:
    """Accounts of the web workbench: office analysts, duty officers, the head, unit members, leaders."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=click.Choice(["analyst", "duty", "head", "unit", "leader"]), help="The account's role."
)
@click.option("--unit", help="The unit (from the units table) a unit member belongs to.")
@click.option("--display-name", help="The person's name as shown in case histories (default: NAME).")
@password_options
@user_errors
def users_add(name: str, role: str, unit: str | None, display_name: str | None, password_stdin: bool, generate: bool) -> None:
    """Add an account.

    Examples:

        yuqing users add zhangsan --role unit --unit 县应急管理局 --display-name 张三

        echo 'a long passphrase' | yuqing users add lisi --role analyst --password-stdin
    """
    from yuqing_core.accounts import ROLE_LABELS, add_account

    password = _password(password_stdin, generate)
    account, used = add_account(database(), name, role=role, unit=unit, display_name=display_name, password=password)
    _audit("account.add", account.name, {"role": role, "unit": unit})
    click.echo(f"已创建账号 {account.name}（{ROLE_LABELS[role]}{'，' + unit if unit else ''}）。")
    if password is None:
        click.echo(f"初始密码（只显示这一次）：{used}")


@users.command("disable")
@click.argument("name")
@user_errors
def users_disable(name: str) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end."""
    from yuqing_core.accounts import disable_account

    disable_account(database(), name)
    _audit("account.disable", name)
    click.echo(f"账号 {name} 已停用，其登录会话已全部结束。")


@users.command("reset")
@click.argument("name")
@password_options
@user_errors
def users_reset(name: str, password_stdin: bool, generate: bool) -> None:
    """Give an account a new password; all its sessions end."""
    from yuqing_core.accounts import reset_password

    password = _password(password_stdin, generate)
    _account, used = reset_password(database(), name, password)
    _audit("account.reset", name)
    click.echo(f"账号 {name} 的密码已重置，其登录会话已全部结束。")
    if password is None:
        click.echo(f"新密码（只显示这一次）：{used}")


@users.command("list")
@output_format_option()
@user_errors
def users_list(output: str) -> None:
    """Every account with its role, unit and state (never a password or its hash)."""
    from yuqing_core.accounts import ROLE_LABELS, list_accounts

    rows = list_accounts(database())
    if output == "jsonl":
        for a in rows:
            click.echo(json.dumps({"name": a.name, "display_name": a.display_name, "role": a.role, "unit": a.unit,
                                   "disabled": a.disabled, "created_at": a.created_at.isoformat()}, ensure_ascii=False))  # fmt: skip
        return
    tz = settings().tz
    table = [
        {
            "账号": a.name,
            "姓名": a.display_name,
            "角色": ROLE_LABELS[a.role],
            "单位": a.unit or "",
            "状态": "停用" if a.disabled else "启用",
            "创建时间": format_local(a.created_at, tz),
        }
        for a in rows
    ]
    click.echo(render_table(table, max_column_width=40) if table else "还没有账号。")


@users.command("bootstrap")
@user_errors
def users_bootstrap() -> None:
    """One unit-member account per unit of the units file (YUQING_UNITS_FILE) that has none; passwords printed once.

    Townships, departments and leadership units get one (login name = the unit's name); duty posts and the office do not.
    The units must be imported first (yuqing units import FILE).
    """
    from yuqing_core.accounts import bootstrap_unit_accounts
    from yuqing_core.notify import load_units_file

    file = settings().units_file
    if file is None:
        raise click.ClickException("请先设置 YUQING_UNITS_FILE（单位文件）")
    spec = load_units_file(file)
    summary = bootstrap_unit_accounts(database(), [(u.name, u.kind) for u in spec.units])
    for account, password in summary.created:
        _audit("account.add", account.name, {"role": "unit", "unit": account.unit, "bootstrap": True})
        click.echo(f"{account.unit}\t账号 {account.name}\t初始密码 {password}")
    if summary.created:
        click.echo(f"已创建 {len(summary.created)} 个单位账号；以上密码只显示这一次，请妥善转交。")
    else:
        click.echo("没有需要创建的单位账号。")
    if summary.existing:
        click.echo(f"已有账号，未创建：{'、'.join(summary.existing)}")
    if summary.missing:
        click.echo(f"单位表中没有（请先 yuqing units import）：{'、'.join(summary.missing)}")
