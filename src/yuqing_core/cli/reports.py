"""Commands for documents and deliveries: reports, units, the delivery ledger."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from yuqing_core.cli.app import database, main, run_flow, settings, user_errors
from yuqing_core.tables import render_table
from yuqing_core.timeutil import format_local, parse_user_datetime, utcnow

if TYPE_CHECKING:
    from prefect.client.schemas.objects import State


def _when(value: str | None) -> datetime | None:
    return parse_user_datetime(value, settings().tz) if value else None


def _print_files(state: State[Any]) -> None:
    """The report's paths on stdout, the delivery lines on stderr; exit 1 if it was not written or a send failed."""
    data = state.result(raise_on_failure=False)
    if not isinstance(data, dict) or "report" not in data:
        raise click.ClickException(f"报告未生成：{state.message}")
    for path in data["report"].files:
        click.echo(path)
    for line in data["delivery"]:
        click.echo(line, err=True)
    if data.get("failed"):  # the others were delivered; say plainly that not everyone got it
        raise click.ClickException(data["failed"])
    if state.is_failed():
        raise click.ClickException(f"报告已生成，但流程失败：{state.message}")


@main.group()
def report() -> None:
    """Reports: 舆情日报, 舆情周报/月报/季报, 舆情专报, 舆情督报, 网络风险提示函."""


@report.command("daily")
@click.option("--day", help="The local day (default: yesterday).")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Write here instead of the reports folder."
)
@click.option(
    "--deliver/--no-deliver", default=False, show_default=True,
    help="Also send it to the routed recipients; exits 1 (送达失败 N 条（共 M 条）：…) if any send failed, after trying them all.",
)  # fmt: skip
@user_errors
def report_daily(day: str | None, out_dir: Path | None, deliver: bool) -> None:
    """Write the daily report (HTML, Markdown, DOCX, short text) and print the paths, one per line.

    Example:

        yuqing report daily --day 2026-11-27 --out /tmp/reports
    """
    database()
    chosen = date.fromisoformat(day) if day else None
    state = run_flow("flows.daily_report:daily_report", day=chosen, deliver=deliver, out_dir=str(out_dir) if out_dir else None)
    _print_files(state)


def _periodic_command(kind: str, name: str, example: str) -> None:
    """Register ``yuqing report <kind>`` (weekly, monthly, quarterly): one command each, the same options."""

    @report.command(kind, help=f"""Write the {name} of a period (default: the last complete one) and print the paths, one per line.

    --period is {example}, or any date inside the period.

    Example:

        yuqing report {kind} --period {example} --out /tmp/reports
    """)  # fmt: skip
    @click.option("--period", help=f"The period: {example}, or a date inside it (default: the last complete one).")
    @click.option(
        "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Write here instead of the reports folder."
    )
    @click.option(
        "--deliver/--no-deliver", default=False, show_default=True,
        help="Also send it to the routed recipients (periodic_report, else daily_report); exits 1 if any send failed.",
    )  # fmt: skip
    @user_errors
    def command(period: str | None, out_dir: Path | None, deliver: bool) -> None:
        from yuqing_core.reports.periodic import parse_period

        conf = settings()
        parse_period(kind, period, today=utcnow().astimezone(conf.tz).date())  # a bad --period is said before any run
        database()
        state = run_flow("flows.periodic_report:periodic_report", kind=kind, period=period, deliver=deliver,
                         out_dir=str(out_dir) if out_dir else None)  # fmt: skip
        _print_files(state)


_periodic_command("weekly", "舆情周报", "2026-W48")
_periodic_command("monthly", "舆情月报", "2026-11")
_periodic_command("quarterly", "舆情季报", "2026-Q4")


@report.command("special")
@click.option("--event", "event_id", type=int, help="The event to report on.")
@click.option("--expr", "expression", help="Or: a rule expression ...")
@click.option("--since", help="... over items published from this date/time ...")
@click.option("--until", help="... and before this one.")
@click.option(
    "--to", "recipients", multiple=True,
    help="Address it (报送) and deliver it to this unit (repeatable; default: addressed to the county leaders, copied to the "
    "risk points' units, delivered as routed for special_report).",
)  # fmt: skip
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--deliver/--no-deliver", default=False, show_default=True,
    help="Also send it to the recipients; exits 1 (送达失败 N 条（共 M 条）：…) if any send failed, after trying them all.",
)  # fmt: skip
@user_errors
def report_special(event_id: int | None, expression: str | None, since: str | None, until: str | None,
                   recipients: tuple[str, ...], out_dir: Path | None, deliver: bool) -> None:  # fmt: skip
    """Write a special report on one event, or on a rule expression over a window, and print the paths.

    Examples:

        yuqing report special --event 12

        yuqing report special --expr '化工园区 & 泄漏' --since 2026-11-25 --until 2026-11-28
    """
    if (event_id is None) == (expression is None):
        raise click.UsageError("请用 --event 指定事件，或用 --expr 加 --since、--until 指定规则和时间范围（二选一）。")
    if expression is not None and not (since and until):
        raise click.UsageError("--expr 需要同时给出 --since 和 --until。")
    if expression is not None:
        from yuqing_core.rules import RuleSyntaxError, parse_rule

        try:
            parse_rule(expression)
        except RuleSyntaxError as exc:
            raise click.ClickException(f"规则有误：{exc}") from exc
    database()
    state = run_flow(
        "flows.special_report:special_report", event_id=event_id, expression=expression, since=_when(since),
        until=_when(until), recipients=list(recipients) or None, deliver=deliver, out_dir=str(out_dir) if out_dir else None,
    )  # fmt: skip
    _print_files(state)


@report.command("supervision")
@click.option("--unit", required=True, help="The lead unit that must verify and report back.")
@click.option("--co-unit", "co_units", multiple=True, help="Co-units (repeatable).")
@click.option("--event", "event_id", type=int)
@click.option("--item", "item_id", type=int)
@click.option("--requirements", required=True, help="What the unit must verify and report back.")
@click.option("--deadline", help="By when (default: 3 days from now).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path))
@user_errors
def report_supervision(unit: str, co_units: tuple[str, ...], event_id: int | None, item_id: int | None,
                       requirements: str, deadline: str | None, out_dir: Path | None) -> None:  # fmt: skip
    """Write a supervision notice (舆情督报) to a unit about an event or an item."""
    from yuqing_core.reports.data import build_supervision_notice
    from yuqing_core.reports.render import Renderer

    conf = settings()
    due = _when(deadline) or utcnow() + timedelta(days=3)
    notice = build_supervision_notice(database(), conf, unit=unit, co_units=co_units, event_id=event_id, item_id=item_id,
                                      requirements=requirements, deadline=due)  # fmt: skip
    label = notice.number.replace("〔", "-").replace("〕", "-").rstrip("号")
    folder = out_dir or conf.effective_reports_dir / "supervision" / label
    for path in Renderer(conf.templates_dir, tz=conf.tz).write(notice, folder, f"舆情督报-{label}").all:
        click.echo(str(path))


@report.command("risk-notice")
@click.argument("notice_id", type=int)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path))
@user_errors
def report_risk_notice(notice_id: int, out_dir: Path | None) -> None:
    """Write a risk notice letter (网络风险提示函) from a risk notice record."""
    from yuqing_core.reports.data import build_risk_notice_letter
    from yuqing_core.reports.render import Renderer

    conf = settings()
    letter = build_risk_notice_letter(database(), conf, notice_id)
    label = letter.number.replace("〔", "-").replace("〕", "-").rstrip("号")
    folder = out_dir or conf.effective_reports_dir / "risk-notice" / label
    for path in Renderer(conf.templates_dir, tz=conf.tz).write(letter, folder, f"网络风险提示函-{label}").all:
        click.echo(str(path))


# --- units and deliveries -------------------------------------------------------------------------


@main.group()
def units() -> None:
    """Units (单位) and how to reach them: validate and import the units file, list."""


@units.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@user_errors
def units_validate(file: Path) -> None:
    """Check a units file (units, routing, quiet hours, digests)."""
    from yuqing_core.notify import load_units_file

    spec = load_units_file(file)
    click.echo(f"有效：{len(spec.units)} 个单位，{len(spec.routing)} 条路由。")


@units.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@user_errors
def units_import(file: Path) -> None:
    """Import units into the database (all or nothing). Set YUQING_UNITS_FILE to this file for the flows' routing."""
    from yuqing_core.notify import import_units, load_units_file

    summary = import_units(database(), load_units_file(file))
    for line in summary.lines():
        click.echo(line)


@units.command("list")
@user_errors
def units_list() -> None:
    """List units with their leadership, roles and number of channels."""
    from yuqing_core.notify import list_units

    rows = [
        {
            "单位": u.name,
            "类型": u.kind,
            "上级": u.leader or "",
            "角色": "、".join(u.roles),
            "渠道数": len(u.targets),
            "状态": "启用" if u.enabled else "停用",
        }
        for u in list_units(database())
    ]
    click.echo(render_table(rows) if rows else "还没有导入单位：先运行 `yuqing units import 单位.yaml`。")


@main.group()
def deliveries() -> None:
    """The send-once ledger: what went out, what failed, what is uncertain."""


@deliveries.command("list")
@click.option("--status", type=click.Choice(["pending", "sent", "failed", "uncertain", "held", "digested"]))
@click.option("--limit", type=int, default=100, show_default=True)
@user_errors
def deliveries_list(status: str | None, limit: int) -> None:
    """Ledger rows, newest first (channels shown with secrets masked)."""
    from yuqing_core.notify import Envelope, list_deliveries

    tz = settings().tz
    rows = [
        {
            "状态": d.status,
            "时间": format_local(d.created_at, tz),
            "收件单位": d.recipient,
            "主题": d.subject,
            "渠道": d.channel,
            "说明": d.error or Envelope.loads(d.envelope).note or "",
            "键": d.key,
        }
        for d in list_deliveries(database(), status=status, limit=limit)
    ]
    click.echo(render_table(rows, max_column_width=40) if rows else "没有发送记录。")


@deliveries.command("resolve")
@click.argument("key")
@click.option("--delivered/--not-delivered", required=True, help="Did the uncertain message arrive?")
@user_errors
def deliveries_resolve(key: str, delivered: bool) -> None:
    """Settle an uncertain delivery after checking with the recipient (not delivered: it is sent again)."""
    from yuqing_core.notify import resolve_uncertain

    row = resolve_uncertain(database(), key, delivered=delivered)
    click.echo(f"已更新：{row.key} → {row.status}")
    if not delivered:
        click.echo("下次运行发送流程时会重新发送。", err=True)
    sys.stdout.flush()
