"""Commands of the analysis side: the risk library, rules, analyze, events and warnings."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from yuqing_core.cli.app import database, main, output_format_option, run_flow, settings, user_errors
from yuqing_core.levels import Level
from yuqing_core.risk.decisions import ACTION_LABELS, STATUS_LABELS
from yuqing_core.tables import render_table
from yuqing_core.timeutil import format_local, isoformat_local, parse_user_datetime, utcnow

if TYPE_CHECKING:
    from yuqing_core.risk.library import CompiledLibrary
    from yuqing_core.rules import MatchText, RuleSet, TermHit


def _when(value: str | None) -> datetime | None:
    return parse_user_datetime(value, settings().tz) if value else None


# --- risk library ----------------------------------------------------------------------------


@main.group()
def risk() -> None:
    """Risk library (风险库): validate, import as a new version, diff, backtest, export."""


@risk.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@user_errors
def risk_validate(file: Path) -> None:
    """Check a library file; every problem is named by file, line and field.

    With YUQING_UNITS_FILE set, a risk point naming a unit that file does not
    declare is a problem too.

    Example:

        yuqing risk validate config/risk.yaml
    """
    from yuqing_core.risk.editing import library_summary
    from yuqing_core.risk.library import load_library_file

    loaded = load_library_file(file, known_units=_known_units())
    click.echo(library_summary(loaded.spec))


def _known_units() -> set[str] | None:
    """The configured units file's unit names; says on stderr, once, when none is configured."""
    from yuqing_core.notify.units import configured_unit_names
    from yuqing_core.risk.library import UNITS_NOT_CHECKED

    known = configured_unit_names(settings().units_file)
    if known is None:
        click.echo(UNITS_NOT_CHECKED, err=True)
    return known


@risk.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--author", help="Who is importing (default: YUQING_AUTHOR or the login name).")
@click.option("--note", help="Why: kept with the version.")
@user_errors
def risk_import(file: Path, author: str | None, note: str | None) -> None:
    """Import a library file as a new version (nothing is stored if it equals the active one)."""
    from yuqing_core.risk.library import describe_changes, load_library_file
    from yuqing_core.risk.versions import import_library

    loaded = load_library_file(file, known_units=_known_units())
    result = import_library(database(), loaded, author=author, note=note)
    version = result.version
    if not result.created:
        click.echo(f"与当前第 {version.version} 版相同，未生成新版本。")
        return
    click.echo(f"已导入为第 {version.version} 版（{version.author}，{format_local(version.created_at)}）。变化：")
    for line in describe_changes(version.changes):
        click.echo(f"  {line}")


@risk.command("diff")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--against", "version", type=int, help="Compare with this version instead of the active one.")
@user_errors
def risk_diff(file: Path, version: int | None) -> None:
    """Show what a library file changes against the active (or a given) version."""
    from yuqing_core.risk.library import describe_changes, diff_libraries, load_library_file, load_library_text
    from yuqing_core.risk.versions import NoActiveLibrary, version_content

    proposed = load_library_file(file).spec
    try:
        info, content = version_content(database(), version)
        current, label = load_library_text(content, f"版本 {info.version}"), f"第 {info.version} 版"
    except NoActiveLibrary:
        current, label = None, "空库"
    click.echo(f"{file} 对比{label}：")
    for line in describe_changes(diff_libraries(current, proposed)):
        click.echo(f"  {line}")


@risk.command("backtest")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--days", type=click.IntRange(1, 3650), default=14, show_default=True, help="How far back to look.")
@output_format_option()
@user_errors
def risk_backtest(file: Path, days: int, output: str) -> None:
    """Run a proposed library over the stored items of the last N days, beside the active one.

    Shows, per risk point, what would newly match and what would stop
    matching. Nothing is stored.
    """
    from yuqing_core.risk.backtest import backtest
    from yuqing_core.risk.library import load_library_file

    report = backtest(database(), load_library_file(file).spec, days=days)
    if output == "jsonl":
        for point in report.points.values():
            click.echo(json.dumps({"risk_point": point.name, "before": point.before, "after": point.after,
                                   "newly": point.newly, "stopped": point.stopped}, ensure_ascii=False))  # fmt: skip
        return
    for line in report.lines():
        click.echo(line)


@risk.command("export")
@click.option("--version", type=int, help="Version number (default: the active one).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@user_errors
def risk_export(version: int | None, output: Path | None) -> None:
    """Write a stored version's YAML exactly as it was imported."""
    from yuqing_core.risk.versions import version_content

    info, content = version_content(database(), version)
    if output is None:
        click.echo(content, nl=False)
        return
    output.write_text(content, encoding="utf-8")
    click.echo(f"第 {info.version} 版已写入 {output}")


@risk.command("versions")
@user_errors
def risk_versions() -> None:
    """List the stored versions: who, when, what changed."""
    from yuqing_core.risk.library import describe_changes
    from yuqing_core.risk.versions import list_versions

    rows = [
        {
            "版本": v.version,
            "时间": format_local(v.created_at),
            "导入人": v.author,
            "说明": v.note or "",
            "变化": "；".join(describe_changes(v.changes)),
        }
        for v in list_versions(database())
    ]
    click.echo(render_table(rows, max_column_width=60) if rows else "还没有导入风险库。")


# --- rules test ----------------------------------------------------------------------------


@main.group()
def rules() -> None:
    """Keyword rules (关键词规则): try an expression or a library before importing it."""


@rules.command("test")
@click.argument("expression", required=False)
@click.option(
    "--library", "library_file", type=click.Path(dir_okay=False, path_type=Path), help="Try a whole library file instead."
)
@click.option("--input", "input_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="JSON Lines with title, text (or summary), source; default: stored items.")  # fmt: skip
@click.option("--since", help="Stored items published from (default: 7 days ago).")
@click.option("--until", help="Stored items published before (default: now).")
@click.option("--limit", type=int, help="Look at most at this many stored items.")
@output_format_option()
@user_errors
def rules_test(expression: str | None, library_file: Path | None, input_file: Path | None, since: str | None,
               until: str | None, limit: int | None, output: str) -> None:  # fmt: skip
    """Show what an expression (or a library) matches, with the matched terms marked. Stores nothing.

    Examples:

        yuqing rules test '化工园区 & (泄漏 | 异味)'

        yuqing rules test --library config/risk.yaml --input samples.jsonl --format jsonl
    """
    from yuqing_core.analysis.match import Document, iter_match_texts, read_match_texts
    from yuqing_core.risk.library import CompiledLibrary, load_library_file
    from yuqing_core.risk.stance import classify_stance
    from yuqing_core.rules import RuleSet, RuleSyntaxError, parse_rule, snippet

    if expression and library_file is None:
        try:
            parse_rule(expression)
        except RuleSyntaxError as exc:
            raise click.ClickException(
                f"规则有误：{exc}\n  {expression}\n  {' ' * _display_column(expression, exc.column)}^"
            ) from exc
        judge = _expression_judge(RuleSet([(expression, expression)]))
    elif library_file is not None and not expression:
        judge = _library_judge(CompiledLibrary(load_library_file(library_file).spec))
    else:
        raise click.UsageError("请给出一条规则表达式，或用 --library 指定风险库文件（二选一）。")

    documents: Iterable[Document]
    if input_file is not None:
        documents, label = read_match_texts(input_file), "line"
    else:
        end = _when(until) or utcnow()
        documents, label = (
            iter_match_texts(database(), since=_when(since) or end - timedelta(days=7), until=end, limit=limit),
            "item_id",
        )

    shown = seen = 0
    for key, document, role in documents:
        seen += 1
        matched = judge(document)
        stance = classify_stance(document.title, document.text, role) if matched else None
        for name, hits in matched:
            shown += 1
            if output == "jsonl":
                terms = [{"term": h.term, "field": h.field, "start": h.start, "end": h.end} for h in hits]
                record = {label: key, "rule" if expression else "risk_point": name, "terms": terms}
                if stance is not None:
                    record |= {"stance": stance.stance, "stance_reason": stance.reason}
                click.echo(json.dumps(record, ensure_ascii=False))
                continue
            where = f"第 {key} 行" if label == "line" else f"#{key}"
            click.echo(f"{where} {document.source}  【{name}】" if not expression else f"{where} {document.source}")
            if document.title:
                click.echo(f"  标题：{snippet(document.title, list(hits), 'title', width=1000)}")
            click.echo(f"  正文：{snippet(document.text, list(hits), 'text')}")
            click.echo("  命中：" + "、".join(f"{h.term}@{h.field}[{h.start}:{h.end}]" for h in hits))
            if stance is not None:
                click.echo(f"  立场：{stance.explain()}")
    if output == "text":
        click.echo(f"\n共检查 {seen} 条，命中 {shown} 次。", err=True)


def _display_column(expression: str, column: int) -> int:
    from yuqing_core.tables import display_width

    return display_width(expression[: max(0, column - 1)])


# What ``rules test`` shows of one document: each matching rule (or risk point) with its hits.
Judge = Callable[["MatchText"], list[tuple[str, Sequence["TermHit"]]]]


def _expression_judge(ruleset: RuleSet) -> Judge:
    def judge(document: MatchText) -> list[tuple[str, Sequence[TermHit]]]:
        return [(match.key, match.hits) for match in ruleset.match(document)]

    return judge


def _library_judge(compiled: CompiledLibrary) -> Judge:
    def judge(document: MatchText) -> list[tuple[str, Sequence[TermHit]]]:
        verdict = compiled.judge(document)
        by_point: dict[str, list[TermHit]] = {}
        for key, match in verdict.matches:
            meta = compiled.meta[key]
            if meta.kind == "risk":
                by_point.setdefault(meta.label, []).extend(match.hits)
        return list(by_point.items())

    return judge


# --- analyze -----------------------------------------------------------------------------------


@main.command("analyze")
@click.option("--since", help="Re-analyse items published from this date/time (default: only new items).")
@click.option("--until", help="… and before this date/time.")
@click.option("--batch-size", type=click.IntRange(100, 100_000), default=2000, show_default=True)
@user_errors
def analyze_command(since: str | None, until: str | None, batch_size: int) -> None:
    """Run the analyze flow once: match, group into events, score, raise warnings."""
    from yuqing_core.risk.versions import active_library

    active_library(database())  # a clear message before Prefect starts if no library was imported
    state = run_flow("flows.analyze:analyze", since=_when(since), until=_when(until), batch_size=batch_size)
    summary = state.result(raise_on_failure=False)
    if state.is_failed() or not hasattr(summary, "matched"):
        click.echo(f"分析未完成：{state.message}", err=True)
        sys.exit(1)
    click.echo(state.message)
    for warning in summary.warnings:
        click.echo(
            f"  新预警 #{warning.id} {warning.label} 得分 {warning.score}：{warning.title}（{'、'.join(warning.risk_points)}）"
        )


# --- events ----------------------------------------------------------------------------------------


@main.group()
def events() -> None:
    """Events (舆情事件): items about one happening."""


@events.command("list")
@click.option("--since", help="Events last seen from this date/time (default: 7 days ago).")
@click.option("--min-items", type=int, default=1, show_default=True)
@click.option("--risk/--all", "with_risk", default=False, help="Only events touching a risk point.")
@click.option("--limit", type=int, default=50, show_default=True)
@output_format_option()
@user_errors
def events_list(since: str | None, min_items: int, with_risk: bool, limit: int, output: str) -> None:
    """List events, highest risk score first (风险分; 热度, how much an event is talked about, only in --format jsonl)."""
    from yuqing_core.analysis.queries import list_events

    start = _when(since) or utcnow() - timedelta(days=7)
    rows = list_events(database(), since=start, min_items=min_items, with_risk=with_risk, limit=limit)
    tz = settings().tz
    if output == "jsonl":
        for e in rows:
            click.echo(json.dumps({"event_id": e.id, "title": e.title, "first_seen": isoformat_local(e.first_seen_at, tz),
                                   "last_seen": isoformat_local(e.last_seen_at, tz), "items": e.item_count, "sources": e.source_count,
                                   "heat": e.heat, "score": e.score, "level": Level(e.level).name if e.level else None, "risk_points": e.risk_points,
                                   "hot_words": [w for w, _ in e.hot_words]}, ensure_ascii=False))  # fmt: skip
        return
    table = [
        {
            "ID": e.id,
            "级别": Level(e.level).name if e.level else "-",
            "风险分": e.score,
            "条数": e.item_count,
            "来源": e.source_count,
            "最后出现": format_local(e.last_seen_at, tz),
            "风险点": "、".join(e.risk_points),
            "标题": e.title,
        }
        for e in rows
    ]
    click.echo(render_table(table, max_column_width=50) if table else "没有符合条件的事件。")


@events.command("export")
@output_format_option(default="jsonl")
@click.option("--since", help="Items published from this date/time.")
@click.option("--until", help="Items published before this date/time.")
@user_errors
def events_export(output: str, since: str | None, until: str | None) -> None:
    """One line per grouped item (item id, guid, source, published, event id), to evaluate grouping."""
    from yuqing_core.analysis.queries import iter_event_items

    tz = settings().tz
    rows = iter_event_items(database(), since=_when(since), until=_when(until))
    if output == "jsonl":
        for row in rows:
            click.echo(json.dumps(row.as_json(lambda value: isoformat_local(value, tz)), ensure_ascii=False))
        return
    table = [
        {
            "事件": row.event_id,
            "信息": row.item_id,
            "来源": row.source,
            "发布时间": format_local(row.published, tz),
            "归入方式": row.joined_by,
        }
        for row in rows
    ]
    click.echo(render_table(table, max_column_width=40) if table else "没有已归并的信息。")


@events.command("show")
@click.argument("event_id", type=int)
@user_errors
def events_show(event_id: int) -> None:
    """One event with every item and why it matched."""
    from yuqing_core.analysis.merging import resolve_event_id
    from yuqing_core.analysis.queries import event_item_ids, explain_items, get_event

    live = resolve_event_id(database(), event_id)
    if live != event_id:
        click.echo(f"事件 #{event_id} 已并入事件 {live}，以下为事件 #{live}。")
        event_id = live
    event = get_event(database(), event_id)
    if event is None:
        raise click.ClickException(f"没有编号为 {event_id} 的事件")
    ids = event_item_ids(database(), event_id)
    click.echo(f"事件 #{event.id}：{event.title}")
    from yuqing_core.risk.explain import judgement_of

    judgement = judgement_of(event)
    click.echo(f"  风险分 {event.score}，{judgement.level_label}；{event.item_count} 条 / {event.source_count} 个来源，"
               f"风险点：{'、'.join(event.risk_points) or '无'}")  # fmt: skip
    click.echo("  风险分构成：")
    for line in judgement.part_lines() or ["（尚未按新方法评分，重新分析后显示）"]:
        click.echo(f"    {line}")
    click.echo("  快速回应：")
    for line in judgement.response_lines(settings().tz):
        click.echo(f"    {line}")
    click.echo(f"  热度（传播热度，不是风险分）：{event.heat}")
    click.echo(f"  热词：{'、'.join(w for w, _ in event.hot_words)}")
    for line in explanation_lines(explain_items(database(), ids)):
        click.echo(line)
    for line in merge_lines(event_id):
        click.echo(line)


def merge_lines(event_id: int) -> list[str]:
    """The event's merge history and the events it is kept apart from."""
    from yuqing_core.analysis.merging import describe_history, describe_separation, merge_history, separations_of

    tz = settings().tz
    history = merge_history(database(), event_id)
    lines = ["  合并与拆分记录："] if history else []
    lines += [f"    {describe_history(h, tz)}" for h in history]
    return lines + [f"  {describe_separation(*separation)}" for separation in separations_of(database(), event_id)]


_by = click.option("--by", "actor", help="Who decides (default: YUQING_AUTHOR or the login name).")
_note = click.option("--note", required=True, help="Why (kept in the merge history).")


def _refresh(event_ids: list[int], *, err: bool = False) -> None:
    """Recompute the changed events' figures; send the notices of any warning raised or changed, as the pipeline would.

    A level rise caused by an analyst's merge is recorded on the warning at once, so no later
    analyze run would see it as new: its notice goes out here (once, through the ledger), when a
    units file is configured; without one, the command says the notice was not sent.
    """
    from yuqing_core.analysis import refresh_events
    from yuqing_core.analysis.notices import send_warning_notices
    from yuqing_core.notify import DeliveryFailed, import_units, load_units_file
    from yuqing_core.office import load_office
    from yuqing_core.risk.versions import NoActiveLibrary, active_library

    try:
        library = active_library(database())
    except NoActiveLibrary:
        click.echo("尚未导入风险库，事件数据未重新计算。", err=True)
        return
    notices = refresh_events(database(), library, event_ids).warnings
    for warning in notices:
        what = {"new": f"升为{warning.label}预警", "level": f"预警上调为{warning.label}"}.get(warning.kind, "预警有新情况")
        click.echo(f"事件 #{warning.event_id} {what}（预警 #{warning.id}）。", err=err)
    if not notices:
        return
    units_file = settings().units_file
    if units_file is None:
        click.echo("未配置单位文件（YUQING_UNITS_FILE），以上预警通知未发送。", err=True)
        return
    config = load_units_file(units_file)
    import_units(database(), config)
    outcome = send_warning_notices(database(), notices, config=config, spec=library.spec, office=load_office(settings()))
    if (line := outcome.unknown_units_line()) is not None:
        click.echo(line, err=True)
    for line in outcome.report.lines():
        click.echo(line, err=err)
    failure = DeliveryFailed.of(outcome.report, unreachable_counts=False)
    if failure is not None:
        raise click.ClickException(failure.summary)


@events.command("merge")
@click.argument("survivor", type=int)
@click.argument("absorbed", type=int, nargs=-1, required=True)
@_note
@_by
@click.option("--force", is_flag=True, help="Also merge events an analyst kept apart (lifts the separation).")
@output_format_option()
@user_errors
def events_merge(survivor: int, absorbed: tuple[int, ...], note: str, actor: str | None, force: bool, output: str) -> None:
    """Merge events into SURVIVOR: their items, warnings, cases and report numbers follow it.

    Example:

        yuqing events merge 12 15 17 --note "同一次化工园区泄漏"
    """
    from yuqing_core.analysis.merging import merge_events, resolve_event_id
    from yuqing_core.risk.versions import default_author

    if not note.strip():
        raise click.ClickException("须写明理由（--note）")
    who = actor or default_author()
    results = [
        merge_events(database(), survivor, other, actor=who, note=note.strip(), override_separation=force) for other in absorbed
    ]
    for r in results:
        if output == "jsonl":
            click.echo(json.dumps({"survivor": r.survivor_id, "absorbed": r.absorbed_id, "merge_id": r.audit_id,
                                   "items": r.items_moved, "warnings_moved": r.warnings_moved,
                                   "warnings_merged": {str(k): v for k, v in r.warnings_merged.items()},
                                   "cases": r.cases_relinked}, ensure_ascii=False))  # fmt: skip
        elif r.audit_id is None:
            click.echo(f"事件 #{r.absorbed_id} 已在事件 #{r.survivor_id} 中，无需合并。")
        else:
            extra = "".join(
                [f"，预警 {len(r.warnings_moved)} 条随之转入" if r.warnings_moved else "",
                 f"，同级预警 {len(r.warnings_merged)} 条并入" if r.warnings_merged else "",
                 f"，督办件 {'、'.join(r.cases_relinked)} 改属该事件" if r.cases_relinked else ""]
            )  # fmt: skip
            click.echo(f"事件 #{r.absorbed_id} 已并入事件 #{r.survivor_id}：{len(r.items_moved)} 条信息{extra}。")
    _refresh([resolve_event_id(database(), survivor)], err=output == "jsonl")


@events.command("split")
@click.argument("event_id", type=int)
@click.option("--items", "items", required=True, help="The item ids to move out, comma-separated (e.g. 12,13).")
@_note
@_by
@output_format_option()
@user_errors
def events_split(event_id: int, items: str, note: str, actor: str | None, output: str) -> None:
    """Move items out of an event into a new one; the two are never merged automatically again.

    Example:

        yuqing events split 12 --items 301,302 --note "这两条说的是另一处异味"
    """
    from yuqing_core.analysis.merging import split_event
    from yuqing_core.risk.versions import default_author

    try:
        ids = [int(part) for part in items.replace("，", ",").split(",") if part.strip()]
    except ValueError as exc:
        raise click.ClickException(f"--items 应为逗号分隔的信息编号，收到 {items!r}") from exc
    result = split_event(database(), event_id, ids, actor=actor or default_author(), note=note)
    if output == "jsonl":
        click.echo(json.dumps({"event_id": result.event_id, "new_event_id": result.new_event_id,
                               "merge_id": result.audit_id, "items": result.items_moved}, ensure_ascii=False))  # fmt: skip
    else:
        moved = "、".join(f"#{i}" for i in result.items_moved)
        click.echo(f"已从事件 #{result.event_id} 拆出信息 {moved}，另立事件 #{result.new_event_id}；两事件今后不会自动合并。")
    _refresh([result.event_id, result.new_event_id], err=output == "jsonl")


@events.command("separate")
@click.argument("first", type=int)
@click.argument("second", type=int)
@_note
@_by
@user_errors
def events_separate(first: int, second: int, note: str, actor: str | None) -> None:
    """Record that two events are different happenings: grouping never merges them.

    Example:

        yuqing events separate 12 15 --note "两处异味来源不同"
    """
    from yuqing_core.analysis.merging import separate_events
    from yuqing_core.risk.versions import default_author

    if separate_events(database(), first, second, actor=actor or default_author(), note=note):
        click.echo(f"已记录：事件 #{first} 与事件 #{second} 不会自动合并。")
    else:
        click.echo(f"事件 #{first} 与事件 #{second} 早已分开，未重复记录。")


def explanation_lines(items: list[Any]) -> list[str]:
    """Each item with its stance and its matches, terms marked in title and text."""
    from yuqing_core.risk.stance import explain_stance
    from yuqing_core.rules import TermHit, snippet

    tz = settings().tz
    lines = []
    for item in items:
        lines.append(f"  #{item.item_id} {format_local(item.published, tz)} {item.source}（{item.joined_by or '-'}）")
        lines.append(f"      立场：{explain_stance(item.stance, item.stance_reason)}")
        hits_all = [TermHit(h["term"], h["field"], h["start"], h["end"]) for _, _, hits in item.matches for h in hits]
        if item.title:
            lines.append(f"      {snippet(item.title, hits_all, 'title', width=1000)}")
        for kind, label, hits in item.matches:
            if kind == "risk":
                terms = "、".join(sorted({h["term"] for h in hits}))
                lines.append(f"      命中【{label}】：{terms}")
        text_hits = [h for h in hits_all if h.field == "text"]
        if text_hits:
            lines.append(f"      {snippet(item.text, text_hits, 'text')}")
    return lines


# --- warnings ------------------------------------------------------------------------------------


@main.group()
def warnings() -> None:
    """Warnings (预警): list, and acknowledge / downgrade / dismiss with a reason."""


@warnings.command("list")
@click.option("--since", help="Raised from this date/time (default: 7 days ago).")
@click.option("--status", type=click.Choice(list(STATUS_LABELS)), help="Only warnings in this state.")
@output_format_option()
@user_errors
def warnings_list(since: str | None, status: str | None, output: str) -> None:
    """Warnings, newest first."""
    from yuqing_core.analysis.queries import list_warnings

    start = _when(since) or utcnow() - timedelta(days=7)
    rows = list_warnings(database(), since=start, status=status)
    tz = settings().tz
    if output == "jsonl":
        for w, e in rows:
            click.echo(json.dumps({"warning_id": w.id, "event_id": e.id, "level": Level(w.level).name,
                                   "effective_level": Level(w.effective_level).name, "score": e.score, "status": w.status,
                                   "raised": isoformat_local(w.created_at, tz), "title": e.title,
                                   "risk_points": w.reasons.get("risk_points", [])}, ensure_ascii=False))  # fmt: skip
        return
    table = [
        {
            "预警": w.id,
            "级别": Level(w.effective_level).label
            + ("（原" + Level(w.level).name + "）" if w.effective_level != w.level else ""),
            "风险分": e.score,
            "状态": STATUS_LABELS.get(w.status, w.status),
            "时间": format_local(w.created_at, tz),
            "事件": e.id,
            "风险点": "、".join(w.reasons.get("risk_points", [])),
            "标题": e.title,
        }
        for w, e in rows
    ]
    click.echo(render_table(table, max_column_width=40) if table else "没有预警。")


@warnings.command("show")
@click.argument("warning_id", type=int)
@user_errors
def warnings_show(warning_id: int) -> None:
    """One warning: its event's risk score with the parts, response timing, and its history (decisions, level rises, changes)."""
    from yuqing_core.analysis.queries import get_event, get_warning
    from yuqing_core.risk.decisions import history
    from yuqing_core.risk.explain import judgement_of

    warning = get_warning(database(), warning_id)
    if warning is None:
        raise click.ClickException(f"没有编号为 {warning_id} 的预警")
    event = get_event(database(), warning.event_id)
    tz = settings().tz
    level = Level(warning.effective_level).label + (
        f"（原为{Level(warning.level).label}）" if warning.effective_level != warning.level else ""
    )
    click.echo(f"预警 #{warning.id}：{level}，{STATUS_LABELS.get(warning.status, warning.status)}，"
               f"预警于 {format_local(warning.created_at, tz)}；事件 #{warning.event_id}")  # fmt: skip
    if event is not None:
        judgement = judgement_of(event)
        click.echo(f"  {event.title}")
        click.echo(f"  风险分 {event.score}，{judgement.level_label}")
        for line in judgement.part_lines():
            click.echo(f"    {line}")
        for line in judgement.response_lines(tz):
            click.echo(f"  {line}")
    click.echo("  经过：")
    for action in history(database(), warning_id) or []:
        click.echo(
            f"    {format_local(action.created_at, tz)} {action.actor} {ACTION_LABELS.get(action.action, action.action)}：{action.reason}"
        )


def _decide(warning_id: int, action: str, actor: str | None, reason: str, to_level: int | None = None) -> None:
    from yuqing_core.risk.decisions import DecisionRefused, decide
    from yuqing_core.risk.versions import default_author

    try:
        warning = decide(database(), warning_id, action, actor=actor or default_author(), reason=reason, to_level=to_level)
    except DecisionRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"预警 #{warning.id}：{STATUS_LABELS[warning.status]}，现为{Level(warning.effective_level).label}。")


LEVEL_CHOICE = click.Choice(["IV", "III", "II", "I"], case_sensitive=False)
_actor = click.option("--by", "actor", help="Who decides (default: YUQING_AUTHOR or the login name).")
_reason = click.option("--reason", required=True, help="Why (kept with the decision).")


@warnings.command("ack")
@click.argument("warning_id", type=int)
@_actor
@_reason
@user_errors
def warnings_ack(warning_id: int, actor: str | None, reason: str) -> None:
    """Acknowledge a warning: seen, being handled."""
    _decide(warning_id, "acknowledge", actor, reason)


@warnings.command("downgrade")
@click.argument("warning_id", type=int)
@click.option("--to", "to_level", type=LEVEL_CHOICE, required=True, help="The less severe level (IV, III, II).")
@_actor
@_reason
@user_errors
def warnings_downgrade(warning_id: int, to_level: str, actor: str | None, reason: str) -> None:
    """Lower a warning's level."""
    _decide(warning_id, "downgrade", actor, reason, {"IV": 4, "III": 3, "II": 2, "I": 1}[to_level.upper()])


@warnings.command("dismiss")
@click.argument("warning_id", type=int)
@_actor
@_reason
@user_errors
def warnings_dismiss(warning_id: int, actor: str | None, reason: str) -> None:
    """Dismiss a warning as not a real risk."""
    _decide(warning_id, "dismiss", actor, reason)
