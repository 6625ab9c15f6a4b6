"""``yuqing demo`` (the sample county end to end) and ``yuqing serve`` (every deployment on one machine).

The sample county itself (its feeds, risk library and units) is data in ``yuqing_core.demo``; the
steps that run it through the flows and print what was found live here, with the rest of the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from datetime import datetime, time, timedelta
from importlib import resources
from pathlib import Path

import click

from yuqing_core.analysis.queries import iter_event_items
from yuqing_core.cli.analysis import explanation_lines
from yuqing_core.cli.app import main, run_flow, secure_ephemeral_api, user_errors
from yuqing_core.cli.collect import print_collect_summary
from yuqing_core.cli.demo_web import create_demo_accounts, start_demo_web, stop_demo_web
from yuqing_core.db.database import Database
from yuqing_core.demo import DELETED_POST_ID, article_path, load_county, replay_hot_lists, serve_county, sources_yaml
from yuqing_core.demo.server import FeedServer
from yuqing_core.levels import Level
from yuqing_core.timeutil import SHANGHAI, isoformat_local, utcnow

# --- demo --------------------------------------------------------------------


@main.command("demo")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"), show_default=True)
@user_errors
def demo_command(home: Path) -> None:
    """Serve the bundled sample county on 127.0.0.1, collect it, and print what was found."""
    sys.exit(run_demo(home))


@main.command("serve")
@click.option(
    "--risk-file",
    envvar="YUQING_RISK_FILE",
    type=click.Path(dir_okay=False),
    help="Risk library file for the daily risk-library run.",
)
@user_errors
def serve_command(risk_file: str | None) -> None:
    """Serve every deployment from this machine (starting a local Prefect server on 127.0.0.1 if none is configured).

    Schedules: monitor every 10 minutes, daily-report at 08:00, periodic-report weekly
    (Monday 08:00), monthly (the 1st 08:00) and quarterly (1 Jan/Apr/Jul/Oct 08:00),
    track-cases hourly, risk-library at 06:30 (Asia/Shanghai); special-report, case-action, collect and
    analyze on demand. Stop with Ctrl-C.

    The local server's API asks for a credential, made once and kept in
    $YUQING_HOME/prefect-server/api-auth-string (mode 0600); the UI asks for that
    line. With PREFECT_API_URL set, PREFECT_API_AUTH_STRING is the credential.
    """
    import importlib

    from yuqing_core.cli.app import database, prefect_defaults, settings

    prefect_defaults(quiet=False)
    database()  # the schema check, before anything is scheduled
    importlib.import_module("flows.deployments").serve_all(settings().home.resolve(), risk_file)


# --- the demo's steps -----------------------------------------------------------


def run_demo(home: Path) -> int:
    """Serve the sample county, collect it, analyse it with the sample risk library, and say where everything is."""
    home = home.resolve()
    if home.exists():
        stop_demo_web(home)  # the previous demo's workbench, before its data goes
        shutil.rmtree(home)  # the demo starts from nothing every time
    (home / "reports").mkdir(parents=True)
    # The demo owns its environment: its own SQLite file and its own Prefect home.
    os.environ.pop("YUQING_DATABASE_URL", None)
    os.environ["YUQING_HOME"] = str(home)
    os.environ["PREFECT_HOME"] = str(home / "prefect")
    os.environ.pop("PREFECT_API_URL", None)
    secure_ephemeral_api()  # before Prefect is imported
    # The county's names, document numbers and leaders come from the units file's office: section (yuqing_core.office).
    os.environ["YUQING_UNITS_FILE"] = str(home / "units.yaml")

    from yuqing_core.cli.app import settings as checked_settings
    from yuqing_core.collect.sources import import_sources, load_sources_file
    from yuqing_core.config import get_settings
    from yuqing_core.db import get_database
    from yuqing_core.items import iter_items

    county = load_county()
    with FeedServer() as server:
        # The sample feeds are on loopback, which is not public: allow exactly this server's address and port.
        os.environ["YUQING_FETCH_ALLOWED_NETWORKS"] = server.base_url.removeprefix("http://")
        # Full text from the demo's own loopback server: no politeness delay is owed to it, and the page
        # taken down between the two analyze runs is fetched again a minute after it was read.
        os.environ["YUQING_FULLTEXT_HOST_DELAY_S"] = "0"
        os.environ["YUQING_FULLTEXT_RECHECK_INTERVAL_S"] = "60"
        os.environ["YUQING_FULLTEXT_MAX_PER_RUN"] = "1000"  # the week's backlog at once (its other links answer 404)
        get_settings.cache_clear()
        settings = checked_settings()
        serve_county(server, county)
        inbox = "/".join(server.base_url.split("/")[2:]) + "/inbox"
        for unit in ("office", "propaganda", "deputy-county-head", "emergency", "environment", "baisha", "hrss", "water", "departments",
                     "duty-day", "duty-night", "office-head"):  # fmt: skip
            server.add_inbox(f"/inbox/{unit}")
        units_text = resources.files("yuqing_core.demo").joinpath("units.yaml").read_text(encoding="utf-8")
        (home / "units.yaml").write_text(units_text.replace("{inbox}", inbox), encoding="utf-8")
        sources_file = home / "sources.yaml"
        sources_file.write_text(sources_yaml(county, server.base_url), encoding="utf-8")
        db = get_database(settings)
        summary = import_sources(db, load_sources_file(sources_file), settings)
        print(f"示例县：{county.name}（虚构）。信息源服务：{server.base_url}")
        print(*summary.lines(), sep="\n")
        # The hot list's earlier polls (ranks a county story climbed through), as the collector would have stored them.
        replayed = replay_hot_lists(db, settings, county, server.base_url)
        print(f"热榜此前的 {replayed} 次采集（名次、热度）已按当时时间补录。")
        print("\n第一次采集（Prefect 流程 collect，临时 Prefect API）：")
        status = print_collect_summary(run_flow("flows.collect:collect", all_sources=True))
        print("\n再次采集（应全部未更新、无新增——每条信息只存一次）：")
        status |= print_collect_summary(run_flow("flows.collect:collect", all_sources=True))

        print("\n导入风险库（示例）并分析（Prefect 流程 analyze）：")
        status |= analyze_county(db, home, take_down=lambda: server.routes.pop(article_path(DELETED_POST_ID), None))
        print("\n为最高级别的预警开督办件（派单后按工作日计算期限，督报送达牵头和配合单位）：")
        open_demo_cases(db)
        print("\n人工撰写网络风险提示函（关口前移），送达后据此开督办件（一函四单）：")
        write_demo_letter(db)
        print(
            f"演示接收端收到舆情督报 {_posts_titled(server, '【舆情督报】')} 条，网络风险提示函 {_posts_titled(server, '【网络风险提示函】')} 条。"
        )
        print("\n写出昨天的舆情日报（Prefect 流程 daily-report），并送达日报收件单位：")
        report_state = run_flow("flows.daily_report:daily_report")
        report_data = report_state.result(raise_on_failure=False)
        if not report_state.is_completed():
            print(f"日报失败：{report_state.message}")
            status = 1
        else:
            print(report_data["report"].summary)
            print(*report_data["delivery"], sep="\n")
        received = {path.rsplit("/", 1)[-1]: len(posts) for path, posts in server.inboxes.items() if posts}
        print("演示接收端收到的消息（单位: 条数）：" + "，".join(f"{unit}: {count}" for unit, count in sorted(received.items())))

    reports = home / "reports"
    items_file = reports / "items.jsonl"
    with items_file.open("w", encoding="utf-8") as handle:
        for row in iter_items(db):
            handle.write(json.dumps(row.as_json(settings.tz), ensure_ascii=False) + "\n")
    events_file = reports / "event-items.jsonl"
    with events_file.open("w", encoding="utf-8") as handle:
        for event_row in iter_event_items(db):
            handle.write(
                json.dumps(event_row.as_json(lambda value: isoformat_local(value, settings.tz)), ensure_ascii=False) + "\n"
            )
    print("\n结果在这里：")
    print(f"  应用数据库   {settings.effective_database_url}")
    print(f"  信息源配置   {sources_file}")
    print(f"  风险库       {home / 'risk.yaml'}")
    print(f"  采集到的信息 {items_file}")
    print(f"  事件归并     {events_file}")
    if report_state.is_completed():
        print("  舆情日报")
        for path in report_data["report"].files:
            print(f"    {path}")
    print(f"  Prefect 数据 {home / 'prefect'}（与应用数据库分开）")
    print(f"\n查看：YUQING_HOME={home} .venv/bin/yuqing events list --risk")
    print(f"      YUQING_HOME={home} .venv/bin/yuqing warnings list")
    print(f"      YUQING_HOME={home} .venv/bin/yuqing case list")
    return status | show_workbench(db, home)


def show_workbench(db: Database, home: Path) -> int:
    """Make the three demo accounts, start the workbench in the background, and say how to sign in and stop it."""
    from yuqing_core.cases import list_cases

    cases = list_cases(db)  # the unit account is for the unit the demo's first case went to
    accounts = create_demo_accounts(db, home / "units.yaml", cases[0].lead_unit if cases else None)
    print("\n工作台（网页，舆情中心、单位和县领导各用自己的账号登录）：")
    try:
        web = start_demo_web(home)
    except RuntimeError as exc:
        print(f"  {exc}")
        return 1
    print(f"  地址 {web.url}（仅本机可访问，在后台运行，make demo 结束后仍在）")
    for account in accounts:
        print(f"  {account.role_label}：账号 {account.name}，密码 {account.password}")
    print("  密码每次运行演示时重新生成。")
    pid_file = web.pid_file
    shown = pid_file.relative_to(Path.cwd()) if pid_file.is_relative_to(Path.cwd()) else pid_file
    print(f"  停止工作台：kill $(cat {shown})（再次运行 make demo 也会先停止它）")
    return 0


def open_demo_cases(db: Database) -> None:
    """Approve a 研判 on the hottest warned event, then open and dispatch a case for each of the most severe
    warnings: each 督报 (carrying the approved 研判) is written and sent to the case's units; print the cases."""
    from yuqing_core.analysis.queries import list_warnings
    from yuqing_core.cases import CasePolicy, list_cases, open_case, origin_of
    from yuqing_core.cases.assessments import approve_assessment, draft_assessment, submit_assessment
    from yuqing_core.cases.states import STATE_LABELS
    from yuqing_core.config import get_settings
    from yuqing_core.reports.case_notice import issue_case_notice, units_config
    from yuqing_core.tables import render_table
    from yuqing_core.timeutil import format_local

    settings = get_settings()
    config = units_config(db, settings)
    warnings = sorted(list_warnings(db), key=lambda pair: (pair[0].level, -pair[1].score))
    top_level = warnings[0][0].level if warnings else None
    if warnings:
        drafted = draft_assessment(db, warnings[0][0].event_id, actor="演示分析员", tz=settings.tz)
        submit_assessment(db, drafted.id)
        approve_assessment(db, drafted.id, actor="中心主任")
        print(f"事件 #{drafted.event_id} 的研判 {drafted.id} 已由中心主任签发（督报、专报随附）。")
    policy = CasePolicy()
    notices = 0
    for warning, _event in warnings:
        if warning.level != top_level:
            break
        origin = origin_of(db, warning_id=warning.id)
        if origin.units:
            opened = open_case(db, policy, actor="青禾县网络舆情应急监控中心", origin=origin, dispatch=True)
            issued = issue_case_notice(db, settings, opened, origin, config=config)  # as `yuqing case open` does
            notices += bool(issued.files)
            print(*issued.report.lines(), sep="\n")
    print(
        render_table(
            [
                {
                    "编号": c.number,
                    "状态": STATE_LABELS[c.state],
                    "期限": format_local(c.deadline_at) + ("（暂定）" if c.deadline_provisional else ""),
                    "牵头单位": c.lead_unit,
                    "配合单位": "、".join(c.co_units),
                    "事项": c.title,
                }
                for c in list_cases(db)
            ],
            max_column_width=30,
        )
    )
    print(f"已为 {notices} 件督办件写出并发送舆情督报（reports/supervision/），牵头单位可在工作台「通知」中回执。")


def _posts_titled(server: FeedServer, prefix: str) -> int:
    """How many messages the demo's receivers got whose title starts with ``prefix`` (Apprise json:// posts)."""
    count = 0
    for posts in server.inboxes.values():
        for _headers, body in posts:
            try:
                title = json.loads(body).get("title", "")
            except (ValueError, AttributeError):
                continue
            count += str(title).startswith(prefix)
    return count


def write_demo_letter(db: Database) -> None:
    """A 提示函 written by hand for a foreseen risk, sent to its units, and a case opened from it (its 督报 sent too)."""
    from yuqing_core.cases import CasePolicy, open_case, origin_of
    from yuqing_core.config import get_settings
    from yuqing_core.reports.case_notice import issue_case_notice, units_config
    from yuqing_core.reports.risk_letter import send_risk_letter, track_risk_letter
    from yuqing_core.risk.notices import write_hand_notice

    settings = get_settings()
    config = units_config(db, settings)
    notice = write_hand_notice(
        db, subject="城东片区征收补偿兑付", title="关于城东片区第二批征收补偿款兑付网络舆情风险的提示",
        units=["城东片区征收指挥部", "县住建局"], actor="青禾县网络舆情应急监控中心",
        body="城东片区第二批征收补偿款拟于下周起兑付。此前已有群众在论坛询问补偿标准和兑付时间，"
             "兑付期间如信息不公开、解释不到位，易引发集中投诉和网上炒作。",
        requirements="（一）兑付前在政府网站和社区公示补偿标准、兑付时间和咨询电话。\n"
                     "（二）设立现场咨询点，对群众反映的问题当日登记、限期答复。\n（三）发现网上诉求及时回应，并报监控中心。",
    )  # fmt: skip
    sent = send_risk_letter(db, settings, notice.id, config=config)
    print(f"提示函 {notice.id}「{notice.title}」送达 {'、'.join(notice.units)}：", *sent.report.lines(), sep="\n")
    origin = origin_of(db, risk_notice_id=notice.id)
    opened = open_case(db, CasePolicy(), actor="青禾县网络舆情应急监控中心", origin=origin, dispatch=True)
    issued = issue_case_notice(db, settings, opened, origin, config=config)
    print(f"据提示函 {notice.id} 开督办件 {opened.number}（牵头 {opened.lead_unit}，配合 {'、'.join(opened.co_units)}）：",
          *issued.report.lines(), sep="\n")  # fmt: skip
    track = track_risk_letter(db, settings, notice.id)
    for case in track.cases:
        print(
            f"一函四单：提示函 {track.number} → 督办件 {case.number} → 督报 {case.supervision_number} → 回执（待单位在工作台签收）"
        )


def deleted_posts(db: Database) -> list[str]:
    """A line per item whose page was found deleted, with when, and what the kept snapshot holds."""
    from sqlalchemy import func, select

    from yuqing_core.db.models import Item, PageSnapshot

    with db.reader() as session:
        rows = session.execute(
            select(Item.title, Item.deleted_at, func.count(PageSnapshot.id))
            .outerjoin(PageSnapshot, PageSnapshot.item_id == Item.id)
            .where(Item.deleted_at.is_not(None))
            .group_by(Item.id, Item.title, Item.deleted_at)
            .order_by(Item.deleted_at)
        ).all()
    return [
        f"原文已删除：{title}（{deleted_at.astimezone(SHANGHAI):%m-%d %H:%M} 发现，留存快照 {snapshots} 份）"
        for title, deleted_at, snapshots in rows
        if deleted_at is not None
    ]


def analyze_county(db: Database, home: Path, take_down: Callable[[], object] | None = None) -> int:
    """Import the sample risk library, run the analyze flow, print events and warnings with explanations.

    ``take_down`` runs between the backlog's run and today's: the demo removes a post's page there,
    so today's run finds it gone (原文已删除) where the backlog's run had kept its snapshot.
    """
    from yuqing_core.analysis.queries import event_item_ids, explain_items, list_events, list_warnings
    from yuqing_core.risk.library import describe_changes, load_library_file
    from yuqing_core.risk.versions import import_library
    from yuqing_core.tables import render_table

    risk_file = home / "risk.yaml"
    risk_file.write_text(resources.files("yuqing_core.demo").joinpath("risk.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    imported = import_library(db, load_library_file(risk_file), author="演示", note="示例风险库")
    print(f"风险库第 {imported.version.version} 版：{describe_changes(imported.version.changes)[0]} 等")
    # A real office analyses every few minutes; the demo collected a week at once. Analysing the backlog
    # up to the end of yesterday first, then today's items, dates warnings as the office would have seen them.
    midnight = datetime.combine(utcnow().astimezone(SHANGHAI).date(), time(), tzinfo=SHANGHAI)
    for parameters in ({"since": midnight - timedelta(days=8), "until": midnight - timedelta(seconds=1)}, {}):
        state = run_flow("flows.analyze:analyze", **parameters)
        if not state.is_completed():
            print(f"分析失败：{state.message}")
            return 1
        print(state.message)
        if take_down is not None and parameters:
            take_down()
    for line in deleted_posts(db):
        print(line)

    events = list_events(db, with_risk=True, limit=8)
    print("\n涉及风险点的事件（按风险分）：")
    print(
        render_table(
            [
                {
                    "ID": e.id,
                    "级别": Level.label_of(e.level, "-"),
                    "风险分": e.score,
                    "条数": e.item_count,
                    "来源": e.source_count,
                    "风险点": "、".join(e.risk_points),
                    "标题": e.title,
                }
                for e in events
            ],
            max_column_width=36,
        )
    )
    warnings = list_warnings(db)
    print(f"\n预警 {len(warnings)} 条：")
    for warning, event in warnings:
        print(
            f"  #{warning.id} {Level(warning.level).label} 风险分 {event.score}：{event.title}（{'、'.join(warning.reasons['risk_points'])}）"
        )
    for event in events[:3]:
        print(f"\n为什么——事件 #{event.id}「{event.title}」的前几条信息：")
        for line in explanation_lines(explain_items(db, event_item_ids(db, event.id)[:4])):
            print(line)
    return 0
