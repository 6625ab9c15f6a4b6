"""Units (单位) and who gets what: a YAML file people edit, its units imported into the database.

A units file::

    units:
      - name: 县应急管理局
        kind: department              # township | department | leadership | office
        leader: 分管副县长              # the unit's leadership (another unit): where escalations go
        roles: [core_department]
        targets:                      # any Apprise URLs; secrets only as ${NAME}
          - "mailto://yjj:${SMTP_PASSWORD}@smtp.example.gov.cn?to=yjj@example.gov.cn"
          - "json://hooks.example.gov.cn/yjj?-token=${WEBHOOK_TOKEN}"
    routing:                          # who gets what: warning levels and other kinds of message
      IV: [office]
      III: [office, risk_point_units]
      II: [office, risk_point_units, role:county_leadership]
      I: [office, risk_point_units, role:county_leadership]
      daily_report: [office, role:county_leadership]
      case_overdue: [office, risk_point_units, leaders]
    quiet_hours: {start: "22:00", end: "07:00", hold_below: II}
    digest: {below: III, every: 2h}
    timezone: Asia/Shanghai           # of quiet hours, digest periods and duty shifts (default)
    fallback: 县网络舆情应急监控中心     # gets a warning nobody else can receive (default: the unit of kind office)
    duty:                             # 值班: who gets every warning first, when (local time)
      - {who: 白班值班员, days: [mon, tue, wed, thu, fri], start: "08:30", end: "18:00"}
      - {who: 夜班值班员, start: "18:00", end: "08:30"}       # overnight: ends the next morning
      - {who: 节假日值班员, dates: ["2027-01-01"], start: "00:00", end: "00:00"}   # a whole day
    escalation_chain:                 # after the duty officer, while a warning stays unacknowledged
      - 中心主任                        # step 1 (a unit, or any routing entry, or a list of them)
      - leaders                       # step 2: the leadership of the risk points' units
      - role:county_leadership        # step 3

Two roles assign cases (1+3+N, ``cases.service``): every new case gets
the units with ``case_coordinator`` (the 1: 宣传部) and ``case_core`` (the
3: 网信、公安、国安) as co-units, besides the N units its matter involves.

Routing entries are unit names, ``role:<role>`` (every enabled unit with
that role), ``risk_point_units`` (the units the caller names as concerned:
for a warning the responsible units of its risk points, for a case its
lead and co-units) and ``leaders`` (the ``leader`` of each of those). All
four levels I..IV must be routed; other keys are message kinds.

``quiet_hours``: between ``start`` and ``end`` (local time) only messages
of level ``hold_below`` or more severe go out at once; less severe ones,
and kinds listed in ``hold_kinds``, are held until ``end``.
``digest``: warnings less severe than ``below`` are collected per recipient
and channel into one message per ``every`` (periods from local midnight;
``every`` divides a day).

Duty (值班): the people or posts on duty are units too (``kind: duty``,
with their own targets). A shift names them in ``who`` and covers
``start``..``end`` local time on ``days`` (``mon``..``sun`` or
``周一``..``周日``; default every day) or on ``dates``; a shift whose end
is not after its start runs overnight into the next day (the day is the
day it starts), ``start == end`` is 24 hours. When any dated shift covers
a moment, it replaces the weekly shifts then (a holiday roster). Every
warning goes first to whoever is on duty when it is raised, in addition
to its routing; quiet hours never hold a message to someone on duty.

``fallback``: a warning that would reach nobody (its routing names no
reachable unit: unknown, disabled or without targets) goes to this unit,
and the ledger row says so. Default: the first unit of kind ``office``.

``escalation_chain``: the steps after the duty officer. Step *k* goes out
once an open warning has waited *k* times its level's minutes (the risk
library's ``escalation``) without being acknowledged, downgraded or
dismissed; each step is a routing entry or a list of them.

``office``: the office's own identity (county, office name, document-number
prefixes, the leaders documents are reported to, the 版记's 报/送/抄送 lists,
印发机关, 内部资料); see ``yuqing_core.office``, whose ``load_office`` reads it.

Import is all or nothing: a file with any problem imports nothing, and the
error names file, line and field of every problem. Units missing from the
file are disabled, not deleted (the delivery ledger names them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select

from yuqing_core.db.database import Database
from yuqing_core.db.models import Unit
from yuqing_core.errors import InvalidInput, NotFound
from yuqing_core.levels import Level
from yuqing_core.notify.channels import check_target
from yuqing_core.office import OfficeSpec
from yuqing_core.timeutil import ZoneName, utcnow
from yuqing_core.yamlfile import ConfigFileError, Problem, load_document, validate

UnitKind = Literal["township", "department", "leadership", "office", "duty"]
CONCERNED_UNITS = "risk_point_units"
LEADERS = "leaders"
ROLE_PREFIX = "role:"
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_LEVEL_LIKE = re.compile(r"^[IVX]+$|^\d+$")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|min|h|d|秒|分钟|小时|天)?\s*$", re.IGNORECASE)
_DURATION_SECONDS = {"s": 1, "秒": 1, "m": 60, "min": 60, "分钟": 60, "h": 3600, "小时": 3600, "d": 86400, "天": 86400}
DAY_S = 86400
MIN_DIGEST_PERIOD_S = 300
DEFAULT_IN_FLIGHT_S = 600
DEFAULT_MAX_ATTEMPTS = 5


def parse_level(value: object) -> int:
    """1..4 from ``"II"``, ``2`` or ``"2"`` (1 = I 特别重大 ... 4 = IV 一般).

    >>> parse_level("IV"), parse_level(2)
    (4, 2)
    """
    return int(Level.parse(value))


def parse_period(value: object) -> int:
    """Seconds in ``30m``, ``2h``, ``1d`` (or a number of seconds)."""
    if isinstance(value, bool):
        raise InvalidInput("应为时长，如 30m、2h")
    if isinstance(value, int):
        return value
    match = _DURATION.match(str(value)) if len(str(value)) <= 40 else None
    if not match:
        raise InvalidInput(f"无法识别的时长 {value!r}（应为 30m、2h、1d 这样的写法）")
    return int(match.group(1)) * _DURATION_SECONDS[(match.group(2) or "s").lower()]


def _clock(value: object) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise InvalidInput('时间要加引号，写成 "22:00" 这样')
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise InvalidInput(f'无法识别的时间 {value!r}（应为 "22:00" 这样的 24 小时制时:分）')
    return time(int(match.group(1)), int(match.group(2)))


def _valid_target(value: str) -> str:
    problems = check_target(value)
    if problems:
        raise ValueError("；".join(problems))
    return value.strip()


Target = Annotated[str, AfterValidator(_valid_target)]


class UnitSpec(BaseModel):
    """One unit as declared in a units file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind = "department"
    leader: str | None = Field(None, max_length=200)
    roles: list[str] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _no_separator(cls, value: str) -> str:
        if "|" in value:
            raise InvalidInput("单位名称不能含有 |")
        return value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        bad = [role for role in value if not _SNAKE.match(role)]
        if bad:
            raise InvalidInput(f"角色名应为小写字母、数字和下划线（如 county_leadership）：{'、'.join(bad)}")
        return list(dict.fromkeys(value))

    @field_validator("targets", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class QuietHours(BaseModel):
    """Hours in which only severe messages go out at once; the rest wait for ``end``."""

    model_config = ConfigDict(extra="forbid")

    start: time
    end: time
    hold_below: int = 2
    hold_kinds: list[str] = Field(default_factory=list)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: object) -> time:
        return _clock(value)

    @field_validator("hold_below", mode="before")
    @classmethod
    def _level(cls, value: object) -> int:
        return parse_level(value)

    @field_validator("end")
    @classmethod
    def _not_empty(cls, value: time, info: Any) -> time:
        if info.data.get("start") == value:
            raise InvalidInput("静默时段的开始和结束不能相同")
        return value

    def holds(self, level: int | None, kind: str) -> bool:
        """Whether a message of this level (or, without a level, this kind) waits during quiet hours."""
        return level > self.hold_below if level is not None else kind in self.hold_kinds


class DigestPolicy(BaseModel):
    """Warnings less severe than ``below`` go out as one digest per recipient per period."""

    model_config = ConfigDict(extra="forbid")

    below: int = 3
    every: int = 7200

    @field_validator("below", mode="before")
    @classmethod
    def _level(cls, value: object) -> int:
        return parse_level(value)

    @field_validator("every", mode="before")
    @classmethod
    def _period(cls, value: object) -> int:
        seconds = parse_period(value)
        if seconds < MIN_DIGEST_PERIOD_S or DAY_S % seconds:
            raise InvalidInput("汇总周期应不短于 5 分钟、并能整除 24 小时（如 30m、1h、2h、4h、1d）")
        return seconds

    def collects(self, level: int | None) -> bool:
        return level is not None and level > self.below


class SendingPolicy(BaseModel):
    """How long a recorded send may be in flight, and how often a failed one is retried."""

    model_config = ConfigDict(extra="forbid")

    in_flight: int = DEFAULT_IN_FLIGHT_S
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, ge=1, le=100)

    @field_validator("in_flight", mode="before")
    @classmethod
    def _period(cls, value: object) -> int:
        seconds = parse_period(value)
        if seconds < 60:
            raise InvalidInput("发送中状态的时限不能短于 60 秒")
        if seconds > DAY_S:
            raise InvalidInput("发送中状态的时限不能长于 1 天")
        return seconds


_WEEKDAYS = {
    **{name: index for index, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: index for index, name in enumerate(("周一", "周二", "周三", "周四", "周五", "周六", "周日"))},
    "周天": 6,
}


class DutyShift(BaseModel):
    """One shift of the duty roster: who is on duty from ``start`` to ``end`` (local), on which days."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    who: list[str] = Field(min_length=1)
    start: time
    end: time
    days: list[int] = Field(default_factory=lambda: list(range(7)))
    dates: list[date] = Field(default_factory=list)

    @field_validator("who", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: object) -> time:
        return _clock(value)

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        values = [value] if isinstance(value, str | int) else value
        if not isinstance(values, list):
            return value
        days = []
        for day in values:
            key = str(day).strip().lower()
            if key not in _WEEKDAYS:
                raise InvalidInput(f"无法识别的星期 {day!r}（应为 mon..sun 或 周一..周日）")
            days.append(_WEEKDAYS[key])
        if not days:
            raise InvalidInput("days 不能为空（不写则每天）")
        return sorted(set(days))

    @property
    def overnight(self) -> bool:
        """Whether the shift ends on the day after it starts (``start == end``: 24 hours)."""
        return self.end <= self.start

    def starts_on(self, day: date) -> bool:
        return day in self.dates if self.dates else day.weekday() in self.days

    def covers(self, moment: datetime, tz: ZoneInfo) -> bool:
        """Whether the shift is on at ``moment`` (a shift started yesterday may still be on)."""
        local = moment.astimezone(tz)
        clock, today = local.time().replace(tzinfo=None), local.date()
        if not self.overnight:
            return self.starts_on(today) and self.start <= clock < self.end
        return (self.starts_on(today) and clock >= self.start) or (self.starts_on(today - timedelta(days=1)) and clock < self.end)


class NotifyConfig(BaseModel):
    """Who gets what (routing), quiet hours, digests, duty and escalation: what ``deliver`` needs besides the units."""

    model_config = ConfigDict(extra="forbid")

    routing: dict[str, list[str]] = Field(default_factory=dict)
    quiet_hours: QuietHours | None = None
    digest: DigestPolicy | None = None
    timezone: ZoneName = "Asia/Shanghai"
    sending: SendingPolicy = Field(default_factory=SendingPolicy)
    fallback: str | None = Field(None, max_length=200)
    duty: list[DutyShift] = Field(default_factory=list)
    escalation_chain: list[list[str]] = Field(default_factory=list)

    @field_validator("escalation_chain", mode="before")
    @classmethod
    def _steps(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [[step] if isinstance(step, str) else step for step in value]
        return value

    def on_duty(self, moment: datetime) -> list[str]:
        """Who is on duty at ``moment``: the dated shifts covering it if any, else the weekly ones; each once."""
        dated = [shift for shift in self.duty if shift.dates and shift.covers(moment, self.tz)]
        shifts = dated or [shift for shift in self.duty if not shift.dates and shift.covers(moment, self.tz)]
        return list(dict.fromkeys(name for shift in shifts for name in shift.who))

    @field_validator("routing", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: [entry] if isinstance(entry, str) else entry for key, entry in value.items()}
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def route(self, key: int | str) -> list[str]:
        """The routing entries for a level (1..4 or ``"II"``) or a message kind; LookupError if none."""
        name = Level(key).name if isinstance(key, int) else key
        if name not in self.routing and isinstance(key, str) and key.upper() in Level.__members__:
            name = key.upper()
        if name not in self.routing:
            raise NotFound(f"路由中没有 {name!r} 的接收单位（在单位配置文件的 routing 中添加）")
        return self.routing[name]


class UnitsFile(NotifyConfig):
    """A whole units file: the units, plus the ``NotifyConfig`` it declares."""

    units: list[UnitSpec] = Field(min_length=1)
    office: OfficeSpec | None = None  # the office's identity (yuqing_core.office), read by load_office

    @model_validator(mode="after")
    def _default_fallback(self) -> UnitsFile:
        if self.fallback is None:
            self.fallback = next((unit.name for unit in self.units if unit.kind == "office"), None)
        return self


def load_units_file(path: Path | str, text: str | None = None) -> UnitsFile:
    """Read and validate a units file; raise ``ConfigFileError`` naming every problem by line and field."""
    document = load_document(path, text)
    spec = validate(document, UnitsFile)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, unit in enumerate(spec.units):
        if unit.name in seen:
            first_line = document.mark(("units", seen[unit.name], "name"))[0]
            problems.append(document.problem(("units", index, "name"), f"名称 {unit.name!r} 与第 {first_line} 行重复"))
        else:
            seen[unit.name] = index
    roles = {role for unit in spec.units for role in unit.roles}
    for index, unit in enumerate(spec.units):
        if unit.leader is not None and unit.leader not in seen:
            problems.append(document.problem(("units", index, "leader"), f"没有名为 {unit.leader!r} 的单位"))
        elif unit.leader == unit.name:
            problems.append(document.problem(("units", index, "leader"), "单位的上级不能是它自己"))
    problems += _routing_problems(document, spec, set(seen), roles)
    problems += _duty_problems(document, spec, set(seen), roles)
    for kind_index, kind in enumerate(spec.quiet_hours.hold_kinds if spec.quiet_hours else []):
        if not _SNAKE.match(kind):
            problems.append(document.problem(("quiet_hours", "hold_kinds", kind_index), "消息类型应为小写字母和下划线"))
    if problems:
        raise ConfigFileError(problems)
    return spec


def _routing_problems(document: Any, spec: UnitsFile, names: set[str], roles: set[str]) -> list[Problem]:
    problems = []
    for key, entries in spec.routing.items():
        if _LEVEL_LIKE.match(key) and key not in Level.__members__:
            problems.append(document.problem(("routing", key), f"未知的预警级别 {key}（应为 I、II、III、IV）"))
            continue
        if key not in Level.__members__ and not _SNAKE.match(key):
            problems.append(
                document.problem(("routing", key), f"{key!r} 既不是预警级别（I、II、III、IV）也不是消息类型（如 daily_report）")
            )
            continue
        for position, entry in enumerate(entries):
            message = _entry_problem(entry, names, roles)
            if message:
                problems.append(document.problem(("routing", key, position), message))
    missing = [level.name for level in Level if level.name not in spec.routing]
    if missing:
        problems.append(document.problem(("routing",), f"缺少预警级别 {'、'.join(missing)} 的接收单位"))
    return problems


def configured_unit_names(units_file: Path | str | None) -> set[str] | None:
    """The unit names a configured units file declares (what a risk library may name); None if none is configured."""
    if units_file is None:
        return None
    return {unit.name for unit in load_units_file(units_file).units}


def _duty_problems(document: Any, spec: UnitsFile, names: set[str], roles: set[str]) -> list[Problem]:
    problems = []
    if spec.fallback is not None and spec.fallback not in names:
        problems.append(document.problem(("fallback",), f"没有名为 {spec.fallback!r} 的单位"))
    for index, shift in enumerate(spec.duty):
        for position, who in enumerate(shift.who):
            if who not in names:
                problems.append(
                    document.problem(
                        ("duty", index, "who", position), f"没有名为 {who!r} 的单位（值班人员也写在 units 中，kind: duty）"
                    )
                )
        if shift.dates and "days" in (document.data["duty"][index] or {}):
            problems.append(document.problem(("duty", index, "days"), "同一班次不能同时写 days 和 dates"))
    for step, entries in enumerate(spec.escalation_chain):
        if not entries:
            problems.append(document.problem(("escalation_chain", step), "升级步骤不能为空"))
        for position, entry in enumerate(entries):
            message = _entry_problem(entry, names, roles)
            if message:
                problems.append(document.problem(("escalation_chain", step, position), message))
    return problems


def _entry_problem(entry: str, names: set[str], roles: set[str]) -> str | None:
    if entry in (CONCERNED_UNITS, LEADERS) or entry in names:
        return None
    if entry.startswith(ROLE_PREFIX):
        role = entry[len(ROLE_PREFIX) :].strip()
        return None if role in roles else f"没有单位具有角色 {role!r}"
    return f"没有名为 {entry!r} 的单位（也不是 role:角色、{CONCERNED_UNITS} 或 {LEADERS}）"


# --- the units table ---------------------------------------------------------------------


@dataclass
class UnitsImportSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)  # in the database, not in the file

    def lines(self) -> list[str]:
        out = [f"新增 {len(self.added)} 个，更新 {len(self.updated)} 个，未变 {len(self.unchanged)} 个单位"]
        if self.disabled:
            out.append("文件中没有、已停用：" + "、".join(self.disabled))
        return out


_DECLARED = ("kind", "leader", "roles", "targets", "enabled")


def import_units(db: Database, spec: UnitsFile | Sequence[UnitSpec], *, now: datetime | None = None) -> UnitsImportSummary:
    """Create or update units by name in one transaction; units not in the file are disabled."""
    now = now or utcnow()
    specs = spec.units if isinstance(spec, UnitsFile) else list(spec)
    summary = UnitsImportSummary()
    with db.writer() as session:
        existing = {unit.name: unit for unit in session.scalars(select(Unit))}
        for unit_spec in specs:
            declared = {name: getattr(unit_spec, name) for name in _DECLARED}
            declared["targets"] = [target.strip() for target in unit_spec.targets]
            unit = existing.get(unit_spec.name)
            if unit is None:
                session.add(Unit(name=unit_spec.name, created_at=now, updated_at=now, **declared))
                summary.added.append(unit_spec.name)
                continue
            changed = [name for name in _DECLARED if getattr(unit, name) != declared[name]]
            for name in changed:
                setattr(unit, name, declared[name])
            if changed:
                unit.updated_at = now
                summary.updated.append(unit_spec.name)
            else:
                summary.unchanged.append(unit_spec.name)
        declared_names = {unit_spec.name for unit_spec in specs}
        for name, unit in sorted(existing.items()):
            if name not in declared_names and unit.enabled:
                unit.enabled, unit.updated_at = False, now
                summary.disabled.append(name)
    return summary


def list_units(db: Database) -> list[Unit]:
    with db.reader() as session:
        return list(session.scalars(select(Unit).order_by(Unit.id)))


# --- routing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Directory:
    """Who the units are, in declaration order: enough to expand routing entries."""

    order: list[str]
    roles: dict[str, list[str]]
    leader: dict[str, str | None]
    enabled: dict[str, bool]


def _directory(source: Database | UnitsFile) -> _Directory:
    if isinstance(source, UnitsFile):
        rows = [(u.name, u.roles, u.leader, u.enabled) for u in source.units]
    else:
        rows = [(u.name, list(u.roles or []), u.leader, u.enabled) for u in list_units(source)]
    return _Directory(
        order=[name for name, *_ in rows],
        roles={name: roles for name, roles, _, _ in rows},
        leader={name: leader for name, _, leader, _ in rows},
        enabled={name: enabled for name, *_, enabled in rows},
    )


def resolve_recipients(
    source: Database | UnitsFile,
    key: int | str,
    risk_point_units: Iterable[str] = (),
    *,
    config: NotifyConfig | None = None,
) -> list[str]:
    """The unit names that get a message of level ``key`` (1..4, ``"II"``) or kind ``key`` (``"daily_report"``).

    ``risk_point_units`` are the units concerned (a warning's risk-point
    units, a case's lead and co-units); names not in the units table are
    kept, so ``deliver`` reports them as unreachable instead of dropping
    them silently. ``role:`` entries expand to enabled units only. Order
    follows the routing entry; each unit appears once.

    With a ``Database``, the routing comes from ``config`` (the units are
    the database's); with a ``UnitsFile``, both come from the file.
    """
    if isinstance(source, UnitsFile):
        config = config or source
    if config is None:
        raise TypeError("resolve_recipients(db, ...) needs config= (the routing of the units file)")
    return resolve_entries(source, config.route(key), risk_point_units)


def resolve_entries(source: Database | UnitsFile, entries: Iterable[str], risk_point_units: Iterable[str] = ()) -> list[str]:
    """The unit names routing ``entries`` (unit names, ``role:``, ``risk_point_units``, ``leaders``) stand for."""
    directory = _directory(source)
    concerned = list(dict.fromkeys(risk_point_units))
    out: list[str] = []
    for entry in entries:
        if entry == CONCERNED_UNITS:
            out += concerned
        elif entry == LEADERS:
            out += [leader for name in concerned if (leader := directory.leader.get(name))]
        elif entry.startswith(ROLE_PREFIX):
            role = entry[len(ROLE_PREFIX) :].strip()
            out += [name for name in directory.order if role in directory.roles[name] and directory.enabled[name]]
        else:
            out.append(entry)
    return list(dict.fromkeys(out))


__all__ = [
    "ConfigFileError",
    "DigestPolicy",
    "DutyShift",
    "NotifyConfig",
    "QuietHours",
    "SendingPolicy",
    "UnitSpec",
    "UnitsFile",
    "UnitsImportSummary",
    "configured_unit_names",
    "import_units",
    "list_units",
    "load_units_file",
    "parse_level",
    "resolve_entries",
    "resolve_recipients",
]
