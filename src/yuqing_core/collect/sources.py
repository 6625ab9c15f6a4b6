"""Sources declared in YAML and imported into the database (the database is the record).

The simplest file::

    sources:
      - name: 县政府网
        url: "http://127.0.0.1:8000/gov.xml"

Every field::

    sources:
      - name: 江华日报            # unique
        url: https://example.org/rss.xml
        kind: auto                # auto | rss | atom | jsonfeed | archive | page | json
        owner_unit: 县委宣传部
        category: 媒体
        weight: 1.2               # authority of the source, > 0 and <= 10
        poll_interval: 15m        # 90s, 15m, 2h, 1d, or a number of seconds
        enabled: true
        timezone: Asia/Shanghai   # for dates written without a zone
        role: media               # official | media | public (信息源角色; see below)

``role`` says who speaks through the source: ``official`` (government and party
organs, the county's own accounts), ``media`` (newspapers, broadcasters, news
sites) or ``public`` (forums, 贴吧, social posts, message boards). The stance
of an item depends on it (an official source reporting 已兑付 is a resolution).
When a file leaves it out it is inferred from category and name
(``infer_role``) and ``yuqing sources list`` marks it as inferred.

Sites without a feed: ``kind: page`` reads a list page with the selectors under
``page:`` (``collect.pages``); ``kind: json`` reads a JSON API list with the
JMESPath mapping under ``json:``, a message board's official replies included
(``collect.jsonlist``). ``yuqing sources test`` shows what they extract.

Hot lists (热榜): ``hot_list: true`` on a ``page`` or ``json`` source records each entry's
rank and heat at every poll, read by ``rank:`` and ``heat:`` in its selectors or mapping
(``collect.hotlist``); a county item on a hot list is a signal of the risk score.

Import is all or nothing: a file with any problem imports nothing, and the
error names file, line and field of every problem.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select

from yuqing_core.collect.health import MAX_POLL_INTERVAL_S, disable, enable
from yuqing_core.collect.jsonlist import JsonListSpec
from yuqing_core.collect.netpolicy import BlockedAddress, check_scheme
from yuqing_core.collect.pages import PageSpec
from yuqing_core.config import MAX_DURATION_S, Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Source
from yuqing_core.errors import InvalidInput, NotFound
from yuqing_core.timeutil import ZoneName, utcnow
from yuqing_core.yamlfile import ConfigFileError, load_document, validate

SourceKind = Literal["auto", "rss", "atom", "jsonfeed", "archive", "page", "json"]
SourceRole = Literal["official", "media", "public"]
SOURCE_ROLES: tuple[SourceRole, ...] = ("official", "media", "public")
ROLE_LABELS: dict[str, str] = {"official": "官方", "media": "媒体", "public": "公众"}
MIN_POLL_INTERVAL_S = 60
DEFAULT_POLL_INTERVAL_S = 1800
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|秒|m|min|分钟|h|小时|d|天)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "秒": 1, "m": 60, "min": 60, "分钟": 60, "h": 3600, "小时": 3600, "d": 86400, "天": 86400}
DISABLED_IN_FILE = "配置文件中停用（enabled: false）"

# Words in a source's category or name that say who speaks through it, checked in this order:
# a message board run by the government (网络问政平台, 留言板) and a 自媒体 account carry the
# public's voice, so "public" words are looked at first; a 日报 is media before it is official.
_ROLE_CUES: tuple[tuple[SourceRole, str], ...] = (
    ("public", "论坛 贴吧 吧 留言 问政 信箱 社区 自媒体 微博 抖音 快手 生活圈 网友 社交"),
    ("media", "媒体 日报 晚报 报社 电视 广播 新闻 融媒 通讯社 杂志"),
    ("official", "政务 政府 乡镇 党委 县委 市委 人大 政协 公安 法院 检察 官方 发布 局 办公室"),
)


def infer_role(category: str | None, name: str) -> SourceRole:
    """The role a source most likely has, from its category (first) and its name; ``public`` when nothing says.

    >>> infer_role("乡镇", "柳湾镇人民政府"), infer_role(None, "江华日报"), infer_role("留言板", "县网络问政平台")
    ('official', 'media', 'public')
    """
    for text in (category or "", name):
        for role, cues in _ROLE_CUES:
            if any(cue in text for cue in cues.split()):
                return role
    return "public"


def parse_duration(value: object, *, max_s: int = MAX_DURATION_S) -> int:
    """Seconds in ``90s``, ``15m``, ``2h``, ``1d`` or a bare number of seconds.

    >>> parse_duration("15m"), parse_duration(600), parse_duration("2小时")
    (900, 600, 7200)

    Anything longer than ``max_s`` (by default ``MAX_DURATION_S``, a year) is
    refused here, before it can become a date past the calendar.
    """
    if isinstance(value, bool):
        raise InvalidInput("应为时长，如 15m、2h、1d")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise InvalidInput(f"无法识别的时长 {value!r}（应为 90s、15m、2h、1d 这样的写法）")
        seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    if not math.isfinite(seconds) or abs(seconds) > max_s:
        raise InvalidInput(f"时长 {value!r} 太长（最长 {_describe_seconds(max_s)}）")
    return int(seconds)


def _describe_seconds(seconds: int) -> str:
    """``30 天``, ``2 小时``, ``90 秒``: the largest unit that divides ``seconds``."""
    for unit, size in (("天", 86400), ("小时", 3600), ("分钟", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} 秒"


class SourceSpec(BaseModel):
    """One source as declared in a sources file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    name: str = Field(min_length=1, max_length=200)
    url: str | None = None
    kind: SourceKind = "auto"
    owner_unit: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=100)
    weight: float = Field(1.0, gt=0, le=10)
    poll_interval: int = DEFAULT_POLL_INTERVAL_S
    enabled: bool = True
    timezone: ZoneName | None = None
    role: SourceRole | None = None
    page: PageSpec | None = None
    json_list: JsonListSpec | None = Field(None, alias="json")
    hot_list: bool = False

    @property
    def effective_role(self) -> SourceRole:
        return self.role or infer_role(self.category, self.name)

    @property
    def extract(self) -> dict[str, Any] | None:
        """What is stored in ``Source.extract``: the page selectors or the JSON mapping, and whether it is a hot list."""
        hot_list = {"hot_list": True} if self.hot_list else {}
        if self.page is not None:
            return {"page": self.page.model_dump(exclude_none=True), **hot_list}
        if self.json_list is not None:
            return {"json": self.json_list.model_dump(exclude_none=True), **hot_list}
        return None

    @field_validator("poll_interval", mode="before")
    @classmethod
    def _duration(cls, value: object) -> int:
        seconds = parse_duration(value, max_s=MAX_POLL_INTERVAL_S)
        if seconds < MIN_POLL_INTERVAL_S:
            raise InvalidInput(f"采集间隔不能短于 {MIN_POLL_INTERVAL_S} 秒")
        return seconds

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            check_scheme(value)
        except BlockedAddress as exc:
            raise ValueError(str(exc)) from exc
        return value

    @model_validator(mode="after")
    def _url_unless_archive(self) -> SourceSpec:
        if self.kind != "archive" and not self.url:
            raise InvalidInput("url：订阅源必须有地址（只有 kind: archive 可以没有）")
        return self

    @model_validator(mode="after")
    def _extraction_matches_kind(self) -> SourceSpec:
        if self.kind == "page" and self.page is None:
            raise InvalidInput("page：kind: page 的信息源需要 page 选择器（至少 items）")
        if self.kind == "json" and self.json_list is None:
            raise InvalidInput("json：kind: json 的信息源需要 json 字段映射（至少 items 与 title 或 text）")
        if self.page is not None and self.kind != "page":
            raise InvalidInput("page：只有 kind: page 的信息源可以写 page 选择器")
        if self.json_list is not None and self.kind != "json":
            raise InvalidInput("json：只有 kind: json 的信息源可以写 json 字段映射")
        return self

    @model_validator(mode="after")
    def _ranks_only_on_hot_lists(self) -> SourceSpec:
        if self.hot_list and self.kind not in ("page", "json"):
            raise InvalidInput("hot_list：热榜须是 kind: page 或 kind: json 的信息源（按选择器或字段映射读取名次和热度）")
        extraction = self.page or self.json_list
        ranked = [name for name in ("rank", "heat") if extraction is not None and getattr(extraction, name)]
        if ranked and not self.hot_list:
            where = "page" if self.page is not None else "json"
            raise InvalidInput(f"{where}.{ranked[0]}：名次和热度只用于热榜，请同时写 hot_list: true")
        return self


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[SourceSpec] = Field(min_length=1)


def load_sources_file(path: Path | str) -> list[SourceSpec]:
    """Read and validate a sources file; raise ``ConfigFileError`` naming every problem."""
    document = load_document(path)
    spec = validate(document, SourcesFile)
    problems = []
    seen: dict[str, int] = {}
    for index, source in enumerate(spec.sources):
        if source.name in seen:
            first_line = document.mark(("sources", seen[source.name], "name"))[0]
            problems.append(document.problem(("sources", index, "name"), f"名称 {source.name!r} 与第 {first_line} 行重复"))
        else:
            seen[source.name] = index
    if problems:
        raise ConfigFileError(problems)
    return spec.sources


@dataclass
class ImportSummary:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    still_disabled: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"新增 {len(self.added)} 个，更新 {len(self.updated)} 个，未变 {len(self.unchanged)} 个信息源"]
        if self.still_disabled:
            out.append("仍处于自动停用状态（确认后用 `yuqing sources enable 名称` 恢复）：" + "、".join(self.still_disabled))
        if self.not_in_file:
            out.append("数据库中有、文件中没有（保持原样）：" + "、".join(self.not_in_file))
        return out


_DECLARED_FIELDS = (
    "url", "kind", "owner_unit", "category", "weight", "poll_interval_s", "timezone", "role", "role_inferred", "extract",
)  # fmt: skip


def import_sources(db: Database, specs: list[SourceSpec], settings: Settings, *, now: datetime | None = None) -> ImportSummary:
    """Create or update sources by name, all in one transaction.

    A changed URL resets the conditional-GET state and re-enables a source
    that was disabled automatically; otherwise an automatically disabled
    source stays disabled until an operator enables it.
    """
    now = now or utcnow()
    summary = ImportSummary()
    with db.writer() as session:
        existing = {s.name: s for s in session.scalars(select(Source))}
        for spec in specs:
            declared = {
                "url": spec.url,
                "kind": spec.kind,
                "owner_unit": spec.owner_unit,
                "category": spec.category,
                "weight": spec.weight,
                "poll_interval_s": spec.poll_interval,
                "timezone": spec.timezone or settings.timezone,
                "role": spec.effective_role,
                "role_inferred": spec.role is None,
                "extract": spec.extract,
            }
            source = existing.get(spec.name)
            if source is None:
                source = Source(
                    name=spec.name, enabled=True, consecutive_errors=0, redirect_count=0,
                    created_at=now, updated_at=now, next_poll_at=now, **declared,
                )  # fmt: skip
                if not spec.enabled:
                    disable(source, DISABLED_IN_FILE, now)
                session.add(source)
                summary.added.append(spec.name)
                continue
            changed = [name for name in _DECLARED_FIELDS if getattr(source, name) != declared[name]]
            url_changed = "url" in changed
            # New selectors or mapping read an unchanged page afresh, and may be the fix of what disabled the source.
            reread = url_changed or "extract" in changed
            for name in changed:
                setattr(source, name, declared[name])
            if reread:
                source.etag = source.last_modified = source.content_sha1 = None
            if url_changed:
                source.redirect_url, source.redirect_count = None, 0
            if not spec.enabled and (source.enabled or source.disabled_reason != DISABLED_IN_FILE):
                disable(source, DISABLED_IN_FILE, now)
                changed.append("enabled")
            elif spec.enabled and not source.enabled:
                if source.disabled_reason == DISABLED_IN_FILE or reread:
                    enable(source, now)
                    changed.append("enabled")
                else:
                    summary.still_disabled.append(spec.name)
            if changed:
                source.updated_at = now
                summary.updated.append(spec.name)
            else:
                summary.unchanged.append(spec.name)
        declared_names = {spec.name for spec in specs}
        summary.not_in_file = sorted(name for name in existing if name not in declared_names)
    return summary


def set_enabled(db: Database, name: str, enabled: bool, *, reason: str | None = None, now: datetime | None = None) -> Source:
    """Enable or disable one source by name (operators, from the CLI)."""
    now = now or utcnow()
    with db.writer() as session:
        source = session.scalar(select(Source).where(Source.name == name))
        if source is None:
            raise NotFound(f"没有名为 {name!r} 的信息源")
        if enabled:
            enable(source, now)
        else:
            disable(source, reason or "操作员手动停用", now)
            source.updated_at = now
        return source


def role_label(role: str, inferred: bool) -> str:
    """``媒体`` as declared, ``公众（推断）`` when the sources file gave no role and it was inferred."""
    label = ROLE_LABELS.get(role, role)
    return f"{label}（推断）" if inferred else label


def list_sources(db: Database) -> list[Source]:
    with db.reader() as session:
        return list(session.scalars(select(Source).order_by(Source.name)))


__all__ = [
    "ROLE_LABELS",
    "SOURCE_ROLES",
    "ConfigFileError",
    "ImportSummary",
    "SourceRole",
    "SourceSpec",
    "import_sources",
    "infer_role",
    "list_sources",
    "load_sources_file",
    "parse_duration",
    "role_label",
    "set_enabled",
]
