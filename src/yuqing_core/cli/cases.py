"""Commands for supervision cases (督办件) and the working-day calendar."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from yuqing_core.cli.app import database, main, output_format_option, settings, user_errors
from yuqing_core.tables import render_table
from yuqing_core.timeutil import format_local, parse_user_datetime

if TYPE_CHECKING:
    from yuqing_core.cases import CasePolicy, Origin
    from yuqing_core.db.models import Case

P = ParamSpec("P")
R = TypeVar("R")


def _policy() -> CasePolicy:
    from yuqing_core.cases import load_policy

    return load_policy(settings().cases_file)


def _actor(actor: str | None) -> str:
    from yuqing_core.risk.versions import default_author

    return actor or default_author()


def _deadline_text(case: Case) -> str:
    if case.deadline_at is None:
        return "-"
    text = format_local(case.deadline_at, settings().tz)
    return text + ("（暂定）" if case.deadline_provisional else "")


def _echo_case(case: Case) -> None:
    from yuqing_core.cases.states import STATE_LABELS, describe_allowed

    click.echo(f"{case.number}「{case.title}」：{STATE_LABELS[case.state]}；牵头 {case.lead_unit}"
               + (f"，配合 {'、'.join(case.co_units)}" if case.co_units else "")
               + f"；期限 {_deadline_text(case)}；版本 {case.version}")  # fmt: skip
    click.echo(f"  可执行：{describe_allowed(case.state)}")


def _errors(func: Callable[P, R]) -> Callable[P, R]:
    """Case refusals and conflicts as messages, not tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from yuqing_core.cases import CaseConflict, TransitionRefused

        try:
            return func(*args, **kwargs)
        except (CaseConflict, TransitionRefused) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@main.group()
def case() -> None:
    """Supervision cases (督办件): open, dispatch, acknowledge, handle, return, close; list and show."""


@case.command("open")
@click.option("--warning", "warning_id", type=int, help="Open from a warning (its event, its risk points' units).")
@click.option("--event", "event_id", type=int, help="Open from an event.")
@click.option("--item", "item_id", type=int, help="Open from an item.")
@click.option("--notice-letter", "risk_notice_id", type=int, help="Open from a risk notice letter (网络风险提示函).")
@click.option("--title", help="The matter (default: the origin's title).")
@click.option("--unit", "lead_unit", help="Lead unit (default: the first responsible unit of the origin's risk points).")
@click.option(
    "--co-unit", "co_units", multiple=True,
    help="Co-unit (repeatable; default 1+3+N: the other responsible units, then the units file's "
    "case_coordinator and case_core units).",
)  # fmt: skip
@click.option("--requirements", help="What the unit must verify and report back.")
@click.option("--type", "case_type", help="Case type, which sets the time limit (default from the cases file).")
@click.option("--dispatch/--list-only", default=True, show_default=True, help="Dispatch at once (the deadline starts).")
@click.option(
    "--notice/--no-notice", default=True, show_default=True,
    help="Also write the supervision notice (舆情督报) and, once dispatched, send it to the lead and co-units.",
)  # fmt: skip
@click.option("--by", "actor", help="Who opens it (default: YUQING_AUTHOR or the login name).")
@user_errors
@_errors
def case_open(
    warning_id: int | None,
    event_id: int | None,
    item_id: int | None,
    risk_notice_id: int | None,
    title: str | None,
    lead_unit: str | None,
    co_units: tuple[str, ...],
    requirements: str | None,
    case_type: str | None,
    dispatch: bool,
    notice: bool,
    actor: str | None,
) -> None:
    """Open a case, from a warning, an event or an item, or by hand, in one command.

    Examples:

        yuqing case open --warning 7

        yuqing case open --title "东坪村道路破损" --unit 柳湾镇人民政府 --type complaint
    """
    from yuqing_core.cases import open_case, origin_of

    db = database()
    origin = origin_of(db, warning_id=warning_id, event_id=event_id, item_id=item_id, risk_notice_id=risk_notice_id)
    opened = open_case(db, _policy(), actor=_actor(actor), title=title, lead_unit=lead_unit, co_units=list(co_units) or None,
                       requirement=requirements, case_type=case_type, origin=origin, dispatch=dispatch)  # fmt: skip
    _echo_case(opened)
    if notice:
        _issue_notice(opened, origin)


def _issue_notice(case: Case, origin: Origin | None = None) -> None:
    """Write the dispatched case's 督报 and send it to its units; paths on stdout, sends on stderr."""
    from yuqing_core.reports.case_notice import issue_case_notice, units_config

    db = database()
    issued = issue_case_notice(db, settings(), case, origin, config=units_config(db, settings()))
    for path in issued.files:
        click.echo(str(path))
    for line in ([issued.note] if issued.note else []) + issued.report.lines():
        click.echo(line, err=True)
    if issued.report.failed:
        raise click.ClickException(f"督报送达失败 {len(issued.report.failed)} 条；下次发送流程运行时重试。")


def _action_command(name: str, action: str, help_text: str, *, note: str | None = None, answer: bool = False,
                    until: bool = False) -> None:  # fmt: skip
    @click.argument("number")
    @click.option("--by", "actor", help="Who acts (default: YUQING_AUTHOR or the login name).")
    @click.option(
        "--for",
        "unit",
        help="The unit acted for (checked: the case's lead or co-unit, unit actions only); default: the office.",
    )
    @click.option("--version", "expected_version", type=int, help="Fail if the case changed since you saw this version.")
    @user_errors
    @_errors
    def command(number: str, actor: str | None, unit: str | None, expected_version: int | None, **extra: str) -> None:
        from yuqing_core.cases import act

        when = parse_user_datetime(extra["until"], settings().tz) if extra.get("until") else None
        updated = act(database(), _policy(), number, action, actor=_actor(actor), note=extra.get("note"),
                      answer=extra.get("answer"), attachments=list(extra.get("attachment") or []), until=when,
                      expected_version=expected_version, on_behalf_of=unit)  # fmt: skip
        _echo_case(updated)
        if action == "dispatch":
            _issue_notice(updated)

    if note:
        command = click.option("--note", required=True, help=note)(command)
    if answer:
        command = click.option("--answer", required=True, help="The unit's answer (办理结果).")(command)
        command = click.option("--attachment", multiple=True, help="A path or link (repeatable).")(command)
    if until:
        command = click.option("--until", required=True, help="The new deadline asked for.")(command)
    command.__doc__ = help_text
    case.command(name)(command)


_action_command("dispatch", "dispatch", "Dispatch a listed case (派单): the working-day deadline starts.")
_action_command("ack", "ack", "The unit acknowledges the case (签收).")
_action_command("start", "start", "The unit starts handling (办单), also after a send-back or a reopening.")
_action_command("return", "return", "The unit returns its answer (交单).", answer=True)
_action_command("close", "close", "The office closes the case (办结).")
_action_command("send-back", "send_back", "The office sends the answer back (退回).", note="Why it is sent back.")
_action_command("reopen", "reopen", "Reopen a closed case.", note="Why it is reopened.")
_action_command("cancel", "cancel", "Cancel a case.", note="Why it is cancelled.")
_action_command("extend", "extend", "Ask for a later deadline (before the current one).", note="Why.", until=True)
_action_command("grant", "grant", "Grant the pending extension.")
_action_command("refuse", "refuse", "Refuse the pending extension.", note="Why not.")


@case.command("list")
@click.option("--state", "states", multiple=True, help="Only these states (listed, dispatched, ..., closed).")
@click.option("--unit", help="Only cases led by this unit.")
@output_format_option()
@user_errors
def case_list(states: tuple[str, ...], unit: str | None, output: str) -> None:
    """Cases by deadline, with their state."""
    from yuqing_core.cases import list_cases
    from yuqing_core.cases.states import STATE_LABELS

    rows = list_cases(database(), states=list(states) or None, unit=unit)
    if output == "jsonl":
        for c in rows:
            click.echo(json.dumps({"number": c.number, "title": c.title, "state": c.state, "lead_unit": c.lead_unit,
                                   "co_units": c.co_units, "deadline": c.deadline_at.isoformat() if c.deadline_at else None,
                                   "provisional": c.deadline_provisional, "version": c.version}, ensure_ascii=False))  # fmt: skip
        return
    table = [
        {
            "编号": c.number,
            "状态": STATE_LABELS[c.state],
            "期限": _deadline_text(c),
            "牵头单位": c.lead_unit,
            "配合单位": "、".join(c.co_units),
            "事项": c.title,
        }
        for c in rows
    ]
    click.echo(render_table(table, max_column_width=40) if table else "没有督办件。")


@case.command("show")
@click.argument("number")
@user_errors
def case_show(number: str) -> None:
    """One case with its audit trail."""
    from yuqing_core.cases import get_case, history
    from yuqing_core.cases.states import STATE_LABELS

    found = get_case(database(), number)
    _echo_case(found)
    click.echo(f"  要求：{found.requirement}")
    if found.answer:
        click.echo(f"  办理结果：{found.answer}")
    if found.extension_request:
        click.echo(f"  待批准延期：至 {found.extension_request['until']}（{found.extension_request.get('reason')}）")
    tz = settings().tz
    for entry in history(database(), number):
        before = STATE_LABELS.get(entry.from_state, "") if entry.from_state else ""
        click.echo(
            f"  {format_local(entry.at, tz)} {entry.actor} {entry.action} {before}→{STATE_LABELS[entry.to_state]} {entry.note or ''}".rstrip()
        )


# --- calendar ---------------------------------------------------------------------------------


@main.group()
def calendar() -> None:
    """The working-day calendar (public holidays and make-up working days, plus local ones)."""


@calendar.command("add-workdays")
@click.argument("day")
@click.argument("n", type=click.IntRange(0, 10000))
@user_errors
def calendar_add(day: str, n: int) -> None:
    """Print the date N working days after DAY (counting from the next day).

    Example:

        yuqing calendar add-workdays 2026-09-30 3
    """
    result = _policy().calendar().add_workdays(date.fromisoformat(day), n)
    click.echo(result.date.isoformat() + ("（暂定：该年节假日安排尚未公布，按周一至周五计）" if result.provisional else ""))


@calendar.command("is-workday")
@click.argument("day")
@user_errors
def calendar_is_workday(day: str) -> None:
    """Say whether DAY is a working day (exit status 0 if it is, 1 if not)."""
    calendar_ = _policy().calendar()
    when = date.fromisoformat(day)
    working = calendar_.is_workday(when)
    note = "" if calendar_.is_known(when) else "（暂定：该年节假日安排尚未公布，按周一至周五计）"
    click.echo(("工作日" if working else "非工作日") + note)
    raise SystemExit(0 if working else 1)
