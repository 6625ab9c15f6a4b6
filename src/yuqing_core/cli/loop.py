"""Commands that run the loop: 网络风险提示函 written by hand (关口前移), 研判 and their approval (签发),
研判会 / 联席会议 records whose decisions open or update cases."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from yuqing_core.cli.app import database, main, output_format_option, settings, user_errors
from yuqing_core.tables import render_table
from yuqing_core.timeutil import format_local, parse_user_datetime

if TYPE_CHECKING:
    from yuqing_core.db.models import Assessment
    from yuqing_core.reports.case_notice import IssuedNotice


def _actor(actor: str | None) -> str:
    from yuqing_core.risk.versions import default_author

    return actor or default_author()


def _echo_issued(issued: IssuedNotice) -> None:
    """Paths on stdout, the sends on stderr; exit 1 if a send failed (the ledger retries it on the next sweep)."""
    for path in issued.files:
        click.echo(str(path))
    for line in ([issued.note] if issued.note else []) + issued.report.lines():
        click.echo(line, err=True)
    if issued.report.failed:
        raise click.ClickException(f"送达失败 {len(issued.report.failed)} 条；下次发送流程运行时重试。")


# --- 网络风险提示函 ----------------------------------------------------------------------------------


@main.group()
def notices() -> None:
    """Risk notice letters (网络风险提示函): write one by hand for a foreseen risk, send, track, open a case."""


@notices.command("write")
@click.option("--subject", required=True, help="The matter: a risk point's name or a short subject.")
@click.option("--unit", "units", multiple=True, required=True, help="A unit it is addressed to (repeatable).")
@click.option("--body", required=True, help="What the office sees coming, and why (风险提示).")
@click.option("--requirements", help="What the units must do (工作要求).")
@click.option("--title", help="The letter's own title (default: 关于“<subject>”网络舆情风险的提示).")
@click.option("--send/--no-send", default=True, show_default=True, help="Also write the letter and send it to the units.")
@click.option("--by", "actor", help="Who writes it (default: YUQING_AUTHOR or the login name).")
@user_errors
def notices_write(subject: str, units: tuple[str, ...], body: str, requirements: str | None, title: str | None,
                  send: bool, actor: str | None) -> None:  # fmt: skip
    """Write a 提示函 for a risk the office sees coming (关口前移), and send it.

    Example:

        yuqing notices write --subject 城东片区征收补偿兑付 --unit 城东片区征收指挥部 --unit 县住建局 \\
            --body "12月10日起兑付第二批补偿款，此前有群众在论坛询问标准……" --requirements "提前公布兑付标准和咨询电话"
    """
    from yuqing_core.risk.notices import write_hand_notice

    db = database()
    notice = write_hand_notice(db, subject=subject, units=list(units), body=body, requirements=requirements, title=title,
                               actor=_actor(actor))  # fmt: skip
    click.echo(f"提示函 {notice.id}：{notice.title or notice.risk_point_name}；送达 {'、'.join(notice.units)}")
    if send:
        _send(notice.id)


def _send(notice_id: int) -> None:
    from yuqing_core.reports.case_notice import units_config
    from yuqing_core.reports.risk_letter import send_risk_letter

    db = database()
    _echo_issued(send_risk_letter(db, settings(), notice_id, config=units_config(db, settings())))


@notices.command("send")
@click.argument("notice_id", type=int)
@user_errors
def notices_send(notice_id: int) -> None:
    """Write a 提示函 (hand-written or found by the risk-library flow) and send it to its units, once."""
    _send(notice_id)


@notices.command("list")
@click.option("--limit", type=int, default=50, show_default=True)
@output_format_option()
@user_errors
def notices_list(limit: int, output: str) -> None:
    """Recent 提示函, newest first, with how many units have acknowledged (回执)."""
    from yuqing_core.reports.receipts import get_notice, receipts_of
    from yuqing_core.risk.notices import list_risk_notices

    db, conf = database(), settings()
    rows = []
    for record in list_risk_notices(db, limit=limit):
        notice = get_notice(db, conf, "risk_notice", record.id)
        acked = len(receipts_of(db, [notice])[("risk_notice", record.id)]) if notice else 0
        rows.append((record, notice.number if notice else None, acked))
    if output == "jsonl":
        for record, number, acked in rows:
            click.echo(json.dumps({"id": record.id, "origin": record.origin, "day": record.day, "subject": record.risk_point_name,
                                   "number": number, "units": list(record.units), "acknowledged": acked}, ensure_ascii=False))  # fmt: skip
        return
    table = [{"编号": record.id, "来源": "人工" if record.origin == "manual" else "信号", "日期": record.day,
              "事项": record.risk_point_name, "文号": number or "（未写出）", "回执": f"{acked}/{len(record.units)}"}
             for record, number, acked in rows]  # fmt: skip
    click.echo(render_table(table, max_column_width=40) if table else "没有提示函。")


@notices.command("show")
@click.argument("notice_id", type=int)
@user_errors
def notices_show(notice_id: int) -> None:
    """One 提示函's chain: each unit (sent? 回执?), the cases opened from it and their 督报's 回执 (一函四单)."""
    from yuqing_core.cases.states import STATE_LABELS
    from yuqing_core.reports.risk_letter import track_risk_letter

    conf = settings()
    track = track_risk_letter(database(), conf, notice_id)
    click.echo(f"提示函 {notice_id} {track.number or '（未写出）'}：{track.title}；回执 {track.acknowledged}/{len(track.units)}")
    for unit in track.units:
        receipt = f"已回执（{format_local(unit.receipt.at, conf.tz)}，{unit.receipt.by}）" if unit.receipt else "未回执"
        click.echo(f"  {unit.unit}：{'已发送' if unit.delivery == 'sent' else unit.delivery or '未发送'}；{receipt}")
    for case in track.cases:
        receipt = "已回执" if case.supervision_receipt else "未回执"
        click.echo(f"  → 督办件 {case.number}（{STATE_LABELS[case.state]}，牵头 {case.lead_unit}）"
                   f"→ 督报 {case.supervision_number or '（未写出）'}：{receipt}")  # fmt: skip


@notices.command("open-case")
@click.argument("notice_id", type=int)
@click.option("--unit", "lead_unit", help="Lead unit (default: the first unit the letter was addressed to).")
@click.option("--co-unit", "co_units", multiple=True, help="Co-unit (repeatable; default 1+3+N).")
@click.option("--requirements", help="What the unit must verify and report back.")
@click.option("--type", "case_type", help="Case type, which sets the time limit.")
@click.option("--by", "actor", help="Who opens it.")
@user_errors
def notices_open_case(notice_id: int, lead_unit: str | None, co_units: tuple[str, ...], requirements: str | None,
                      case_type: str | None, actor: str | None) -> None:  # fmt: skip
    """Open and dispatch a case from a 提示函; its 督报 is written and sent (提示函 → 督办件 → 督报 → 回执)."""
    from yuqing_core.cases import load_policy, open_case, origin_of
    from yuqing_core.reports.case_notice import issue_case_notice, units_config

    db, conf = database(), settings()
    origin = origin_of(db, risk_notice_id=notice_id)
    opened = open_case(db, load_policy(conf.cases_file), actor=_actor(actor), origin=origin, lead_unit=lead_unit,
                       co_units=list(co_units) or None, requirement=requirements, case_type=case_type, dispatch=True)  # fmt: skip
    click.echo(f"{opened.number}「{opened.title}」：牵头 {opened.lead_unit}，配合 {'、'.join(opened.co_units) or '无'}")
    _echo_issued(issue_case_notice(db, conf, opened, origin, config=units_config(db, conf)))


# --- 研判 ------------------------------------------------------------------------------------------


def _part_options(func: click.decorators.FC) -> click.decorators.FC:
    for name, label in reversed(
        (("nature", "性质"), ("trend", "走势"), ("risks", "风险"), ("handling", "处置建议"), ("talking-points", "回应口径"))
    ):
        func = click.option(f"--{name}", help=f"{label} (default when drafting: filled from the system's facts).")(func)
    return func


def _echo_assessment(row: Assessment) -> None:
    from yuqing_core.cases.assessments import PART_LABELS, STATE_LABELS

    tz = settings().tz
    signed = f"；{row.approved_by} 于 {format_local(row.approved_at, tz)} 签发" if row.approved_at else ""
    click.echo(f"研判 {row.id}（事件 {row.event_id}）：{STATE_LABELS[row.state]}；起草 {row.drafted_by}{signed}")
    if row.returned_reason:
        click.echo(f"  退回理由：{row.returned_reason}")
    for name, label in PART_LABELS.items():
        click.echo(f"  【{label}】" + getattr(row, name).replace("\n", "\n    "))


@main.group()
def assessment() -> None:
    """研判 on an event: an analyst drafts (the system's facts filled in) and submits; the office head approves (签发)."""


@assessment.command("draft")
@click.option("--event", "event_id", type=int, required=True)
@_part_options
@click.option("--by", "actor", help="The analyst (default: YUQING_AUTHOR or the login name).")
@user_errors
def assessment_draft(event_id: int, actor: str | None, **parts: str | None) -> None:
    """Draft a 研判: each part not given is filled from the event's facts, score parts and response timing.

    Example:

        yuqing assessment draft --event 108 --nature "企业储罐阀门密封老化导致的泄漏事故，非人为"
    """
    from yuqing_core.cases.assessments import draft_assessment

    _echo_assessment(draft_assessment(database(), event_id, actor=_actor(actor), parts=_parts(parts), tz=settings().tz))


def _parts(parts: dict[str, str | None]) -> dict[str, str | None]:
    return {name.replace("-", "_"): value for name, value in parts.items()}


@assessment.command("edit")
@click.argument("assessment_id", type=int)
@_part_options
@user_errors
def assessment_edit(assessment_id: int, **parts: str | None) -> None:
    """Change the text of a draft or returned 研判."""
    from yuqing_core.cases.assessments import edit_assessment

    _echo_assessment(edit_assessment(database(), assessment_id, _parts(parts)))


@assessment.command("submit")
@click.argument("assessment_id", type=int)
@user_errors
def assessment_submit(assessment_id: int) -> None:
    """Submit a 研判 to the office head."""
    from yuqing_core.cases.assessments import submit_assessment

    _echo_assessment(submit_assessment(database(), assessment_id))


@assessment.command("approve")
@click.argument("assessment_id", type=int)
@click.option("--by", "actor", help="The office head (default: YUQING_AUTHOR or the login name).")
@user_errors
def assessment_approve(assessment_id: int, actor: str | None) -> None:
    """签发: approve a submitted 研判; the 专报 and 督报 on its event carry it from now on."""
    from yuqing_core.cases.assessments import approve_assessment

    _echo_assessment(approve_assessment(database(), assessment_id, actor=_actor(actor)))


@assessment.command("send-back")
@click.argument("assessment_id", type=int)
@click.option("--reason", required=True, help="Why it goes back to the analyst.")
@user_errors
def assessment_send_back(assessment_id: int, reason: str) -> None:
    """Return a submitted 研判 to the analyst with a reason."""
    from yuqing_core.cases.assessments import return_assessment

    _echo_assessment(return_assessment(database(), assessment_id, reason=reason))


@assessment.command("list")
@click.option("--event", "event_id", type=int, required=True)
@user_errors
def assessment_list(event_id: int) -> None:
    """An event's 研判 (newest first) and its 研判会 / 联席会议."""
    from yuqing_core.cases.assessments import MEETING_KINDS, list_assessments, list_meetings

    db, tz = database(), settings().tz
    rows = list_assessments(db, event_id)
    for row in rows:
        _echo_assessment(row)
    for meeting in list_meetings(db, event_id):
        click.echo(
            f"{MEETING_KINDS[meeting.kind]} {meeting.id}（{format_local(meeting.held_at, tz)}）：参会 {'、'.join(meeting.attendees)}"
        )
        for decision in meeting.decisions:
            effect = {"opened": "立案", "updated": "更新"}.get(decision.get("effect") or "", "")
            click.echo(f"  决定：{decision['text']}" + (f"（{effect}督办件 {decision['case']}）" if effect else ""))
    if not rows:
        click.echo(f"事件 {event_id} 还没有研判：yuqing assessment draft --event {event_id}")


@main.group()
def meeting() -> None:
    """研判会 and 联席会议 on an event: when, which units attended, what was decided (decisions open or update cases)."""


@meeting.command("record")
@click.option("--event", "event_id", type=int, required=True)
@click.option("--kind", type=click.Choice(["assessment", "joint"]), default="assessment", show_default=True,
              help="assessment: 研判会; joint: 联席会议.")  # fmt: skip
@click.option("--at", "held_at", required=True, help="When it was held (local time).")
@click.option("--unit", "attendees", multiple=True, required=True, help="An attending unit or role (repeatable; no names).")
@click.option("--decision", "decisions", multiple=True, help="A decision, recorded only (repeatable).")
@click.option("--open-case", "opening", multiple=True, help="A decision that opens and dispatches a case on the event.")
@click.option("--update-case", "updating", nargs=2, multiple=True, metavar="NUMBER TEXT",
              help="A decision added to an existing case's requirements and audit trail.")  # fmt: skip
@click.option("--by", "actor", help="Who records it.")
@user_errors
def meeting_record(event_id: int, kind: str, held_at: str, attendees: tuple[str, ...], decisions: tuple[str, ...],
                   opening: tuple[str, ...], updating: tuple[tuple[str, str], ...], actor: str | None) -> None:  # fmt: skip
    """Record a 研判会 or 联席会议 on an event.

    Example:

        yuqing meeting record --event 108 --kind joint --at "2026-12-01 15:00" --unit 县委宣传部 --unit 县应急管理局 \\
            --open-case "县应急管理局牵头公开周边水井检测结果" --update-case 督〔2026〕1号 "12月3日前完成储罐检修"
    """
    from yuqing_core.cases import get_case, load_policy
    from yuqing_core.cases.assessments import MEETING_KINDS, Decision, record_meeting
    from yuqing_core.reports.case_notice import issue_case_notice, units_config

    conf = settings()
    db = database()
    wanted = [Decision(text) for text in decisions] + [Decision(text, open_case=True) for text in opening]
    wanted += [Decision(text, case=number) for number, text in updating]
    recorded = record_meeting(db, load_policy(conf.cases_file), event_id, kind=kind, held_at=parse_user_datetime(held_at, conf.tz),
                              attendees=list(attendees), decisions=wanted, actor=_actor(actor))  # fmt: skip
    click.echo(f"{MEETING_KINDS[kind]} {recorded.id} 已记录（事件 {event_id}）。")
    for decision in recorded.decisions:
        click.echo(f"  决定：{decision['text']}" + (f" → 督办件 {decision['case']}" if decision["case"] else ""))
        if decision["effect"] == "opened":
            _echo_issued(issue_case_notice(db, conf, get_case(db, decision["case"]), config=units_config(db, conf)))
