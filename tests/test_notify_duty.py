"""Nothing silently undelivered; 24-hour duty: unknown units, the fallback, the duty roster, escalation.

Real SQLite and PostgreSQL (the ``db`` fixture), a real webhook receiver on
127.0.0.1 reached through Apprise, warnings raised by the real analysis.
Time is driven by passing ``now``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from helpers import add_sources
from receivers import WebhookReceiver
from test_analysis import LEAK, load, post
from yuqing_core.analysis import analyze
from yuqing_core.cli import main
from yuqing_core.db import Database
from yuqing_core.db.models import Delivery, EarlyWarning, EarlyWarningAction, EventItem
from yuqing_core.levels import Level
from yuqing_core.notify import (
    ConfigFileError,
    Envelope,
    Message,
    SecretResolver,
    UnitsFile,
    deliver,
    escalate_warnings,
    import_units,
    load_units_file,
    resolve_recipients,
)
from yuqing_core.risk.decisions import decide
from yuqing_core.risk.library import UNITS_NOT_CHECKED, load_library_file
from yuqing_core.risk.versions import active_library, import_library
from yuqing_core.timeutil import utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE, HEAD, YJJ, LEADER, ZJJ = "县网络舆情应急监控中心", "中心主任", "县应急管理局", "分管副县长", "县住建局"
DAY, NIGHT = "白班值班员", "夜班值班员"

LIBRARY = """\
name: 测试库
region:
  terms: [青禾县, 白沙镇, 东坪村]
  local_sources: [青禾论坛]
risk_points:
  - name: 化工异味
    units:
      - 县应急管理局
      - 县不存在局
    severity: 1
    rules: ['(化工园区 | 化工厂) & (异味 | 泄漏 | 刺鼻)']
sensitive_words: [中毒, 送医院]
escalation: {I: 10, II: 30, III: 60, IV: null}
"""


def units_text(hook: WebhookReceiver, extra: str = "") -> str:
    return f"""\
units:
  - {{name: {OFFICE}, kind: office, targets: ["{hook.url("/office")}"]}}
  - {{name: {HEAD}, kind: duty, leader: {OFFICE}, targets: ["{hook.url("/head")}"]}}
  - {{name: {DAY}, kind: duty, targets: ["{hook.url("/day")}"]}}
  - {{name: {NIGHT}, kind: duty, targets: ["{hook.url("/night")}"]}}
  - {{name: {YJJ}, leader: {LEADER}, targets: ["{hook.url("/yjj")}"]}}
  - {{name: {LEADER}, kind: leadership, roles: [county_leadership], targets: ["{hook.url("/leader")}"]}}
  - {{name: {ZJJ}, targets: []}}
routing:
  IV: [{OFFICE}]
  III: [{OFFICE}, risk_point_units]
  II: [{OFFICE}, risk_point_units]
  I: [{OFFICE}, risk_point_units, role:county_leadership]
duty:
  - {{who: {DAY}, days: [mon, tue, wed, thu, fri], start: "08:30", end: "18:00"}}
  - {{who: {NIGHT}, start: "18:00", end: "08:30"}}
escalation_chain:
  - {HEAD}
  - leaders
{extra}
"""


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def config(db: Database, hook: WebhookReceiver, tmp_path: Path) -> UnitsFile:
    path = tmp_path / "units.yaml"
    path.write_text(units_text(hook), encoding="utf-8")
    spec = load_units_file(path)
    import_units(db, spec)
    return spec


def paths(hook: WebhookReceiver) -> list[str]:
    return [post.path for post in hook.posts]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)  # 2026-11-27 is a Friday


def warning_message(number: int, level: int) -> Message:
    return Message(
        kind="warning",
        key=f"warning:{number}:{level}",
        subject=f"【{Level(level).label}预警】东坪村化工园区异味",
        body="东坪村化工园区附近居民反映刺鼻异味，请核实。",
        level=level,
        reference=f"warning:{number}",
    )


# --- a risk library naming a unit the units file does not know ---------------------------------


def test_a_library_naming_an_unknown_unit_fails_validation_with_file_line_and_name(
    db: Database, hook: WebhookReceiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_settings: object
) -> None:
    library = tmp_path / "risk.yaml"
    library.write_text(LIBRARY, encoding="utf-8")
    units = tmp_path / "units.yaml"
    units.write_text(units_text(hook), encoding="utf-8")
    known = {unit.name for unit in load_units_file(units).units}

    with pytest.raises(ConfigFileError) as caught:
        load_library_file(library, known_units=known)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (str(library), 9, "risk_points[0].units[1]")
    assert "县不存在局" in problem.message and "化工异味" in problem.message
    assert load_library_file(library).spec.escalation.by_level() == {1: 10, 2: 30, 3: 60, 4: None}  # unchecked: valid

    runner = CliRunner()
    unchecked = runner.invoke(main, ["risk", "validate", str(library)])
    assert unchecked.exit_code == 0 and UNITS_NOT_CHECKED in unchecked.output
    monkeypatch.setenv("YUQING_UNITS_FILE", str(units))
    from yuqing_core.config import get_settings

    get_settings.cache_clear()
    for command in ("validate", "import"):
        refused = runner.invoke(main, ["risk", command, str(library)])
        assert refused.exit_code != 0, refused.output
        assert f"{library} 第 9 行" in refused.output and "县不存在局" in refused.output
    with db.reader() as session:
        assert session.scalar(select(Delivery.id)) is None


def test_escalation_minutes_are_validated(tmp_path: Path) -> None:
    library = tmp_path / "risk.yaml"
    library.write_text(
        LIBRARY.replace("escalation: {I: 10, II: 30, III: 60, IV: null}", "escalation: {I: 60, II: 30, V: 5}"), "utf-8"
    )
    with pytest.raises(ConfigFileError) as caught:
        load_library_file(library)
    messages = [str(problem) for problem in caught.value.problems]
    assert any("escalation.V" in message and "未知字段" in message for message in messages), messages
    library.write_text(LIBRARY.replace("II: 30, III", "II: 5, III"), "utf-8")
    with pytest.raises(ConfigFileError, match="不应短于更严重的 I 级"):
        load_library_file(library)


# --- a warning nobody can receive goes to the fallback -----------------------------------------


def test_a_warning_with_no_reachable_recipient_reaches_the_fallback_and_is_recorded_as_such(
    db: Database, config: UnitsFile, hook: WebhookReceiver, env_settings: object
) -> None:
    assert config.fallback == OFFICE  # not written: the unit of kind office
    routed = resolve_recipients(
        db,
        "II",
        [ZJJ, "县不存在局"],
        config=config.model_copy(update={"routing": {**config.routing, "II": ["risk_point_units"]}}),
    )
    assert routed == [ZJJ, "县不存在局"]
    now = at(27, 10)
    report = deliver(
        db, warning_message(1, 2), routed, config=config, now=now, secrets=SecretResolver(blocks=None), fallback=True
    )
    hook.wait_for(1)
    assert paths(hook) == ["/office"]
    assert [row.recipient for row in report.unreachable] == [ZJJ, "县不存在局"]
    assert [row.recipient for row in report.fallback] == [OFFICE] and [row.recipient for row in report.sent] == [OFFICE]
    assert any(line.startswith(f"已转兜底单位 {OFFICE}") and "县住建局：单位没有通知渠道" in line for line in report.lines())
    with db.reader() as session:
        [row] = session.scalars(select(Delivery)).all()
    note = Envelope.loads(row.envelope).note or ""
    assert row.status == "sent" and row.recipient == OFFICE
    assert "转兜底单位" in note and "县住建局：单位没有通知渠道" in note and "县不存在局：单位未配置" in note

    listed = CliRunner().invoke(main, ["deliveries", "list"], terminal_width=400)
    assert listed.exit_code == 0 and "转兜底单位" in listed.output, listed.output

    again = deliver(db, warning_message(1, 2), routed, config=config, now=now, secrets=SecretResolver(blocks=None), fallback=True)
    assert len(again.skipped_already_sent) == 1 and len(hook.posts) == 1  # sent once


def test_an_explicit_fallback_unit_is_checked(hook: WebhookReceiver, tmp_path: Path) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(units_text(hook, "fallback: 县不存在中心\n"), encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_units_file(path)
    assert any(p.field == "fallback" and "县不存在中心" in p.message and p.line for p in caught.value.problems)


# --- the duty roster ----------------------------------------------------------------------------


def test_the_roster_knows_who_is_on_duty_overnight_and_on_named_dates(
    config: UnitsFile, hook: WebhookReceiver, tmp_path: Path
) -> None:
    assert config.on_duty(at(27, 9)) == [DAY]  # Friday morning
    assert config.on_duty(at(27, 18)) == [NIGHT]
    assert config.on_duty(at(28, 8, 29)) == [NIGHT]  # Saturday early: Friday's night shift
    assert config.on_duty(at(28, 10)) == []  # Saturday day: no weekend day shift in this roster
    path = tmp_path / "holiday.yaml"
    extra = f'  - {{who: {HEAD}, dates: ["2026-11-28"], start: "00:00", end: "00:00"}}\n'
    path.write_text(units_text(hook).replace("escalation_chain:", extra + "escalation_chain:"), encoding="utf-8")
    holiday = load_units_file(path)
    assert holiday.on_duty(at(28, 10)) == [HEAD] and holiday.on_duty(at(28, 23)) == [HEAD]
    assert holiday.on_duty(at(28, 2)) == [HEAD]  # the dated roster replaces Friday's night shift from midnight


def test_the_on_duty_officer_gets_a_warning_first_even_in_quiet_hours(
    db: Database, hook: WebhookReceiver, tmp_path: Path
) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(units_text(hook, 'quiet_hours: {start: "22:00", end: "07:00", hold_below: II}\n'), encoding="utf-8")
    config = load_units_file(path)
    import_units(db, config)
    now = at(27, 23)  # Friday night, quiet hours
    routed = resolve_recipients(db, 3, [YJJ], config=config)
    report = deliver(db, warning_message(2, 3), routed, config=config, now=now, on_duty=config.on_duty(now),
                     secrets=SecretResolver(blocks=None))  # fmt: skip
    hook.wait_for(1)
    assert paths(hook) == ["/night"]  # first, and alone: the office and the bureau wait for the morning
    assert {row.recipient for row in report.held} == {OFFICE, YJJ}
    with db.reader() as session:
        first = session.scalars(select(Delivery).order_by(Delivery.id)).first()
    assert first is not None and first.recipient == NIGHT and first.status == "sent"

    day = at(30, 11)  # Monday, daytime: the day officer first, then the routing, in that order
    deliver(db, warning_message(3, 2), resolve_recipients(db, 2, [YJJ], config=config), config=config, now=day,
            on_duty=config.on_duty(day), secrets=SecretResolver(blocks=None))  # fmt: skip
    hook.wait_for(4)
    assert paths(hook)[1:] == ["/day", "/office", "/yjj"]


# --- escalation -----------------------------------------------------------------------------------


@pytest.fixture
def open_warning(db: Database, settings: object, tmp_path: Path) -> EarlyWarning:
    """A II warning raised by the real analysis of real posts, left open."""
    library = tmp_path / "risk.yaml"
    # Eight posts on one forum within the hour about a severity-3 point: II (risk.scoring; one source does not spread).
    library.write_text(LIBRARY.replace("      - 县不存在局\n", "").replace("severity: 1", "severity: 3"), encoding="utf-8")
    raised_at = at(27, 10)
    add_sources(db, settings, raised_at - timedelta(days=3), 青禾论坛="http://example.org/bbs.xml")  # type: ignore[arg-type]
    import_library(db, load_library_file(library), author="测试", now=raised_at)
    posts = [post(f"p{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), raised_at - timedelta(minutes=10 * i + 5)) for i in range(8)]
    load(db, settings, tmp_path, "青禾论坛", posts)
    summary = analyze(db, now=raised_at)
    with db.reader() as session:
        warnings = session.scalars(select(EarlyWarning).order_by(EarlyWarning.level)).all()
    assert summary.warnings and warnings[0].level == Level.II, [(w.level, w.score) for w in warnings]
    return warnings[0]


def escalate(db: Database, config: UnitsFile, now: datetime) -> list:  # type: ignore[type-arg]
    spec = active_library(db).spec

    def units_of(points):  # type: ignore[no-untyped-def]
        return [unit for name in points if (point := spec.risk_point(name)) for unit in point.units]

    return escalate_warnings(db, config=config, minutes=spec.escalation.by_level(), units_of=units_of, now=now,
                             secrets=SecretResolver(blocks=None))  # fmt: skip


def test_an_unacknowledged_II_warning_reaches_the_next_on_the_chain_after_its_minutes_exactly_once(
    db: Database, config: UnitsFile, hook: WebhookReceiver, open_warning: EarlyWarning
) -> None:
    raised = open_warning.created_at
    assert escalate(db, config, raised + timedelta(minutes=29)) == []  # II waits 30 minutes
    first = escalate(db, config, raised + timedelta(minutes=30))
    assert [(step.warning_id, step.step, step.recipients) for step in first] == [(open_warning.id, 1, [HEAD])]
    hook.wait_for(1)
    assert paths(hook) == ["/head"] and "30 分钟无人确认" in hook.posts[0].json["message"]
    assert escalate(db, config, raised + timedelta(minutes=31)) == []  # the check runs again: nothing new
    assert escalate(db, config, raised + timedelta(minutes=59)) == []

    second = escalate(db, config, raised + timedelta(minutes=60))  # step 2: the leaders of the risk point's units
    assert [(step.step, step.recipients) for step in second] == [(2, [LEADER])]
    hook.wait_for(2)
    assert escalate(db, config, raised + timedelta(hours=5)) == []  # the chain has two steps
    assert paths(hook) == ["/head", "/leader"]
    with db.reader() as session:
        keys = sorted(session.scalars(select(Delivery.key).where(Delivery.kind == "warning_escalation")))
    assert [key.split("|")[0] for key in keys] == [
        f"warning:{open_warning.id}:level:2:escalate:1",
        f"warning:{open_warning.id}:level:2:escalate:2",
    ]


def test_a_raised_warning_escalates_from_its_rise_at_its_new_level(
    db: Database, config: UnitsFile, hook: WebhookReceiver, settings: object, tmp_path: Path
) -> None:
    library = tmp_path / "risk.yaml"
    library.write_text(LIBRARY.replace("      - 县不存在局\n", "").replace("severity: 1", "severity: 3"), encoding="utf-8")
    start = at(30, 10)
    add_sources(db, settings, start - timedelta(days=5), 青禾论坛="http://example.org/bbs.xml")  # type: ignore[arg-type]
    import_library(db, load_library_file(library), author="测试", now=start - timedelta(days=3))
    load(db, settings, tmp_path, "青禾论坛", [post("p0", "东坪村化工园区有异味", LEAK, start - timedelta(days=3))])
    (first,) = analyze(db, now=start - timedelta(days=3) + timedelta(minutes=5)).warnings
    assert first.level == 4  # IV never escalates
    wave = [post(f"p{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), start - timedelta(minutes=10 * i)) for i in range(1, 9)]
    load(db, settings, tmp_path, "青禾论坛", wave, "wave.jsonl")
    (rise,) = analyze(db, now=start).warnings
    assert rise.kind == "level" and rise.level in (2, 3)
    minutes = active_library(db).spec.escalation.by_level()[rise.level]
    assert minutes is not None
    # Three days after the first warning, but minutes after the rise: the chain starts from the rise.
    assert escalate(db, config, start + timedelta(minutes=minutes - 1)) == []
    steps = escalate(db, config, start + timedelta(minutes=minutes))
    assert [(step.warning_id, step.step) for step in steps] == [(first.id, 1)]


def test_a_warning_raised_after_its_chain_started_walks_the_chain_again_at_the_new_level(
    db: Database, config: UnitsFile, hook: WebhookReceiver, open_warning: EarlyWarning
) -> None:
    """III escalated to the head of the centre; then the incident grew to II: the head hears of the II too."""
    warned_at = open_warning.created_at
    with db.writer() as session:  # the warning as it stood before the rise: III, first warned at warned_at
        session.execute(update(EarlyWarning).where(EarlyWarning.id == open_warning.id).values(level=3, effective_level=3))
    assert [(s.step, s.level) for s in escalate(db, config, warned_at + timedelta(minutes=60))] == [(1, 3)]
    hook.wait_for(1)
    risen_at = warned_at + timedelta(minutes=90)
    with db.writer() as session:  # what refresh_events records when the level rises
        session.execute(update(EarlyWarning).where(EarlyWarning.id == open_warning.id).values(level=2, effective_level=2))
        session.add(EarlyWarningAction(warning_id=open_warning.id, action="raise", actor="系统", reason="等级上调",
                                       from_level=3, to_level=2, created_at=risen_at))  # fmt: skip
    assert escalate(db, config, risen_at + timedelta(minutes=29)) == []
    again = escalate(db, config, risen_at + timedelta(minutes=30))
    assert [(s.step, s.level, s.recipients) for s in again] == [(1, 2, [HEAD])]
    hook.wait_for(2)
    assert paths(hook) == ["/head", "/head"] and f"【{Level.II.label}预警】" in str(hook.posts[1].json)
    assert escalate(db, config, risen_at + timedelta(minutes=31)) == []


def test_a_warning_made_by_an_analysts_split_is_sent_by_the_command(
    db: Database, hook: WebhookReceiver, env_settings: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``events split`` refreshes the events it changed; a new warning there goes out at once, not never."""
    from yuqing_core.config import get_settings

    library = tmp_path / "risk.yaml"
    library.write_text(LIBRARY.replace("      - 县不存在局\n", "").replace("severity: 1", "severity: 3"), encoding="utf-8")
    units = tmp_path / "units.yaml"
    units.write_text(units_text(hook), encoding="utf-8")
    monkeypatch.setenv("YUQING_UNITS_FILE", str(units))
    get_settings.cache_clear()
    now = utcnow()
    add_sources(db, env_settings, now - timedelta(days=3), 青禾论坛="http://example.org/bbs.xml")  # type: ignore[arg-type]
    import_library(db, load_library_file(library), author="测试", now=now - timedelta(days=1))
    posts = [post(f"p{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), now - timedelta(minutes=10 * i + 5)) for i in range(8)]
    load(db, env_settings, tmp_path, "青禾论坛", posts)
    analyze(db, now=now)
    with db.reader() as session:
        (event_id,) = set(session.scalars(select(EventItem.event_id)))
        items = sorted(session.scalars(select(EventItem.item_id)))
        before = set(session.scalars(select(Delivery.key)))
    runner = CliRunner()
    split = runner.invoke(main, ["events", "split", str(event_id), "--items", ",".join(map(str, items[:4])), "--note", "另一处"])
    assert split.exit_code == 0, split.output
    with db.reader() as session:
        new = session.scalars(select(EarlyWarning).where(EarlyWarning.event_id != event_id)).one()
        sent = {key.split("|")[0] for key in session.scalars(select(Delivery.key))} - {k.split("|")[0] for k in before}
    assert f"升为{Level(new.level).label}预警（预警 #{new.id}）" in split.output
    assert f"warning:{new.id}:level:{new.level}" in sent, sent
    lines = split.output.splitlines()
    assert lines[0].startswith(f"已从事件 #{event_id} 拆出信息") and "通知：已发送" in split.output, split.output
    hook.wait_for(1)
    assert any(f"预警编号 {new.id}" in p.json["message"] for p in hook.posts)
    get_settings.cache_clear()


def test_an_acknowledged_warning_does_not_escalate(
    db: Database, config: UnitsFile, hook: WebhookReceiver, open_warning: EarlyWarning
) -> None:
    raised = open_warning.created_at
    decide(
        db, open_warning.id, "acknowledge", actor="夜班值班员", reason="已电话通知应急局核实", now=raised + timedelta(minutes=20)
    )
    assert escalate(db, config, raised + timedelta(minutes=30)) == []
    assert escalate(db, config, raised + timedelta(hours=3)) == []
    assert hook.posts == []


def test_a_roster_and_chain_naming_unknown_people_fail_with_their_lines(hook: WebhookReceiver, tmp_path: Path) -> None:
    text = units_text(hook).replace(f"who: {NIGHT}, start", "who: 不在册值班员, start")
    text = text.replace("  - leaders\n", "  - [leaders, 县不存在局]\n")
    path = tmp_path / "units.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_units_file(path)
    found = {(p.field, p.line): p.message for p in caught.value.problems}
    lines = text.splitlines()
    assert "不在册值班员" in found[("duty[1].who[0]", 1 + next(i for i, line in enumerate(lines) if "不在册值班员" in line))]
    assert "县不存在局" in found[("escalation_chain[1][1]", 1 + next(i for i, line in enumerate(lines) if "县不存在局" in line))]

    path.write_text(units_text(hook).replace("days: [mon, tue, wed, thu, fri]", "days: [mon, 周八]"), encoding="utf-8")
    with pytest.raises(ConfigFileError) as caught:
        load_units_file(path)
    [problem] = caught.value.problems
    assert problem.field == "duty[0].days" and "周八" in problem.message and problem.line == 15


def test_an_escalation_step_nobody_can_receive_goes_to_the_fallback(
    db: Database, config: UnitsFile, hook: WebhookReceiver, open_warning: EarlyWarning
) -> None:
    unreachable = config.model_copy(update={"escalation_chain": [[ZJJ]]})
    [step] = escalate(db, unreachable, open_warning.created_at + timedelta(minutes=30))
    assert step.recorded and [row.recipient for row in step.report.fallback] == [OFFICE]
    hook.wait_for(1)
    assert paths(hook) == ["/office"]
    assert escalate(db, unreachable, open_warning.created_at + timedelta(minutes=40)) == []


# --- one warning per incident: a level rise and a material change are one notice each -----------------


def test_a_level_rise_is_one_new_notice_with_its_own_key_sent_once(
    db: Database, config: UnitsFile, hook: WebhookReceiver, settings: object, tmp_path: Path
) -> None:
    from yuqing_core.analysis.notices import warning_body

    library = tmp_path / "risk.yaml"
    library.write_text(LIBRARY.replace("      - 县不存在局\n", "").replace("severity: 1", "severity: 3"), encoding="utf-8")
    start = at(30, 10)  # Monday morning
    add_sources(db, settings, start - timedelta(days=3), 青禾论坛="http://example.org/bbs.xml")  # type: ignore[arg-type]
    import_library(db, load_library_file(library), author="测试", now=start)

    def tell(notices: list) -> None:  # type: ignore[type-arg]
        for notice in notices:
            message = Message(kind="warning", key=notice.key, subject=notice.subject, body=warning_body(notice),
                              level=notice.level, reference=f"warning:{notice.id}")  # fmt: skip
            deliver(db, message, resolve_recipients(db, notice.level, [YJJ], config=config), config=config, now=start,
                    on_duty=config.on_duty(start), secrets=SecretResolver(blocks=None))  # fmt: skip

    load(db, settings, tmp_path, "青禾论坛", [post("p0", "东坪村化工园区有异味", LEAK, start - timedelta(hours=30))])
    first = analyze(db, now=start - timedelta(hours=29)).warnings
    tell(first)
    wave = [post(f"p{i}", f"东坪村化工园区泄漏{i}", LEAK + str(i), start - timedelta(minutes=10 * i)) for i in range(1, 9)]
    load(db, settings, tmp_path, "青禾论坛", wave, "wave.jsonl")
    rise = analyze(db, now=start).warnings
    tell(rise)
    tell(rise)  # a retried notify task: the ledger sends nothing twice
    assert analyze(db, since=start - timedelta(days=2), until=start, now=start).warnings == []

    (warning,) = first
    assert [(n.kind, n.key) for n in first] == [("new", f"warning:{warning.id}:level:4")]
    assert [(n.kind, n.id, n.previous_level) for n in rise] == [("level", warning.id, 4)]
    with db.reader() as session:
        keys = {row.key.split("|")[0] for row in session.scalars(select(Delivery))}
        assert session.scalar(select(EarlyWarning.level)) == rise[0].level  # one row, raised in place
    assert keys == {f"warning:{warning.id}:level:4", f"warning:{warning.id}:level:{rise[0].level}"}
    hook.wait_for(2)
    texts = [json.dumps(p.json, ensure_ascii=False) for p in hook.posts]
    assert any(f"预警由IV级（一般）上调为{Level(rise[0].level).label}" in text for text in texts)
