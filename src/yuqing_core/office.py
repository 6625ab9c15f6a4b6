"""The office's identity (本单位信息): who issues the documents, how they are numbered, whom they address.

It lives in the ``office:`` section of the units file (the file that already
describes the county's units, ``YUQING_UNITS_FILE``; default
``$YUQING_HOME/units.yaml`` when that file exists), so one file a person
edits says who the county's units are and who the office is::

    office:
      county: 青禾县
      name: 青禾县网络舆情应急监控中心
      short_name: 青舆                    # document numbers: 青舆日〔2026〕332号, 青舆专〔2026〕7号 ...
      issuer: 青禾县网络舆情应急监控中心      # 印发机关 in the 版记 (default: name)
      internal_only: true                 # print 内部资料 注意保存 on the first page (default: false)
      contact: {person: 王某, phone: "0000-1234567"}
      number_prefixes:                    # per kind; a kind not written gets short_name + 日/专/督/提/周/月/季
        special: 青舆专
      leaders:                            # the county leaders the documents are reported to (报); names optional
        - {title: 县委书记, name: 李某}
        - 县长
        - 县委宣传部部长
      workbench_url: https://yuqing.example.gov.cn   # optional: short texts link to the full documents there
      distribution:                       # 版记: 报 / 送 / 抄送, per kind of document; kinds not written use default
        default:
          report_to: [leaders]            # leaders: the list above (also the default of report_to)
          send_to: [县委办公室, 县政府办公室]
        supervision:
          copy_to: [县委宣传部, risk_point_units]   # risk_point_units: the units the document concerns

Kinds are ``daily``, ``special``, ``supervision``, ``risk_notice`` and
``weekly``, ``monthly``, ``quarterly``; any other lower-case name may be
given a prefix or a distribution too.

Environment variables stay as overrides: ``YUQING_COUNTY_NAME``,
``YUQING_OFFICE_NAME`` and ``YUQING_OFFICE_SHORT_NAME``, when set, win over
the file (a short name from the environment also replaces the file's
``number_prefixes``, so every number follows it). Without a file (or without
its ``office:`` section) the identity is the settings' alone.

The section is validated all or nothing, with file, line and field for every
problem (``yamlfile``); ``yuqing units validate`` checks it with the rest of
the file.

Example::

    office = load_office(get_settings())
    office.number_prefix("daily")                  # '青舆日'
    office.distribution("special", concerned=["县应急管理局"]).lines()
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from yuqing_core.config import Settings
from yuqing_core.errors import InvalidInput
from yuqing_core.yamlfile import ConfigFileError, load_document, validate

__all__ = [
    "CONCERNED_ENTRY",
    "DEFAULT_NUMBER_SUFFIXES",
    "LEADERS_ENTRY",
    "ContactSpec",
    "Distribution",
    "DistributionSpec",
    "Leader",
    "LeaderSpec",
    "Office",
    "OfficeSpec",
    "identity_file",
    "load_office",
    "office_from_spec",
    "read_office_spec",
]

# What each kind of document adds to the short name in its number (青舆 + 日 = 青舆日〔2026〕332号).
DEFAULT_NUMBER_SUFFIXES = {
    "daily": "日",
    "special": "专",
    "supervision": "督",
    "risk_notice": "提",
    "weekly": "周",
    "monthly": "月",
    "quarterly": "季",
}
# Entries of a distribution list that stand for names known only when a document is built.
LEADERS_ENTRY = "leaders"
CONCERNED_ENTRY = "risk_point_units"
DEFAULT_DISTRIBUTION = "default"
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_NAME_CHARS = 100


# --- what the documents use ----------------------------------------------------------------


@dataclass(frozen=True)
class Leader:
    """A county leader a document is reported to: the post, and optionally the person's name."""

    title: str  # 县委书记
    name: str = ""  # 李某

    @property
    def label(self) -> str:
        """``县委书记李某``, or the post alone."""
        return f"{self.title}{self.name}"


@dataclass(frozen=True)
class Distribution:
    """The 版记's lines: 报 (leaders, superiors), 送 (peers), 抄送 (copies)."""

    report_to: tuple[str, ...] = ()
    send_to: tuple[str, ...] = ()
    copy_to: tuple[str, ...] = ()

    def lines(self) -> list[tuple[str, tuple[str, ...]]]:
        """``[("报", (...)), ("送", (...)), ("抄送", (...))]`` without the empty ones, in the order printed."""
        pairs = (("报", self.report_to), ("送", self.send_to), ("抄送", self.copy_to))
        return [(label, names) for label, names in pairs if names]


@dataclass(frozen=True)
class _DistributionRule:
    """A distribution as written: lists that may hold ``leaders`` or ``risk_point_units``; None = not written."""

    report_to: tuple[str, ...] | None = None
    send_to: tuple[str, ...] | None = None
    copy_to: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Office:
    """Who issues the documents, printed on every page; built by ``load_office``."""

    name: str  # 青禾县网络舆情应急监控中心
    county: str  # 青禾县
    short_name: str = "县舆情中心"  # used in document numbers: 青舆日〔2026〕332号
    issuer: str = ""  # 印发机关 (default: name)
    internal_only: bool = False  # 内部资料 注意保存
    leaders: tuple[Leader, ...] = ()
    contact_person: str = ""
    contact_phone: str = ""
    number_prefixes: Mapping[str, str] = field(default_factory=dict)
    distributions: Mapping[str, _DistributionRule] = field(default_factory=dict)
    workbench_url: str = ""  # where readers open the full documents (the web workbench), for short texts

    def link(self, path: str) -> str:
        """``workbench_url`` + ``path`` (``/events/12``), or "" when the office gives no address."""
        return self.workbench_url.rstrip("/") + path if self.workbench_url else ""

    @property
    def issuing_body(self) -> str:
        """The 印发机关 of the 版记."""
        return self.issuer or self.name

    @property
    def leader_labels(self) -> tuple[str, ...]:
        return tuple(leader.label for leader in self.leaders)

    @property
    def contact(self) -> str:
        """``王某，0000-1234567`` (as printed after 联系方式：), or "" when the office names no contact."""
        return "，".join(part for part in (self.contact_person, self.contact_phone) if part)

    def number_prefix(self, kind: str) -> str:
        """The prefix of a document number for ``kind`` (``daily`` ... ``quarterly``): ``青舆日``."""
        if kind in self.number_prefixes:
            return self.number_prefixes[kind]
        if kind not in DEFAULT_NUMBER_SUFFIXES:
            raise InvalidInput(f"没有 {kind!r} 类文件的文号前缀：请在单位配置文件 office.number_prefixes 中写出")
        return f"{self.short_name}{DEFAULT_NUMBER_SUFFIXES[kind]}"

    def distribution(self, kind: str, *, concerned: Iterable[str] = (), report_to: Iterable[str] | None = None) -> Distribution:
        """The 版记 lines of a document of ``kind``; ``concerned`` are the units it concerns (``risk_point_units``).

        Each line comes from the kind's own distribution if written there, else
        from ``default``; 报 defaults to the leaders. A name appears once, on the
        first line that names it. ``report_to``, when given (a 专报 sent to
        the leaders a reader chose), replaces the 报 line.
        """
        own = self.distributions.get(kind, _DistributionRule())
        base = self.distributions.get(DEFAULT_DISTRIBUTION, _DistributionRule())
        concerned = tuple(concerned)

        def pick(
            own_entries: tuple[str, ...] | None, base_entries: tuple[str, ...] | None, default: tuple[str, ...]
        ) -> tuple[str, ...]:
            entries = own_entries if own_entries is not None else base_entries if base_entries is not None else default
            names: list[str] = []
            for entry in entries:
                if entry == LEADERS_ENTRY:
                    names += self.leader_labels
                elif entry == CONCERNED_ENTRY:
                    names += concerned
                else:
                    names.append(entry)
            return tuple(dict.fromkeys(names))

        report_to = tuple(dict.fromkeys(report_to)) if report_to else pick(own.report_to, base.report_to, (LEADERS_ENTRY,))
        send_to = tuple(name for name in pick(own.send_to, base.send_to, ()) if name not in report_to)
        copy_to = tuple(name for name in pick(own.copy_to, base.copy_to, ()) if name not in report_to + send_to)
        return Distribution(report_to=report_to, send_to=send_to, copy_to=copy_to)


# --- the office: section of the units file -------------------------------------------------


def _name(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise InvalidInput("不能为空")
        if len(value) > MAX_NAME_CHARS:
            raise InvalidInput(f"太长（最多 {MAX_NAME_CHARS} 个字符）")
    return value


class LeaderSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    name: str = Field("", max_length=40)


class ContactSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    person: str = Field("", max_length=40)
    phone: str = Field("", max_length=40)

    @field_validator("phone", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # An unquoted phone number such as 12345678 reads as an integer: take it as written.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class DistributionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_to: list[str] | None = None
    send_to: list[str] | None = None
    copy_to: list[str] | None = None

    @field_validator("report_to", "send_to", "copy_to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        value = [value] if isinstance(value, str) else value
        if isinstance(value, list):
            return [_name(entry) for entry in value]
        return value


class OfficeSpec(BaseModel):
    """The ``office:`` section of a units file, as written."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    county: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    short_name: str = Field(min_length=1, max_length=20)
    issuer: str | None = Field(None, min_length=1, max_length=MAX_NAME_CHARS)
    internal_only: bool = False
    contact: ContactSpec = Field(default_factory=ContactSpec)
    number_prefixes: dict[str, str] = Field(default_factory=dict)
    leaders: list[LeaderSpec] = Field(default_factory=list)
    distribution: dict[str, DistributionSpec] = Field(default_factory=dict)
    workbench_url: str = Field("", max_length=200)

    @field_validator("workbench_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise InvalidInput("应为工作台的 http(s) 地址，如 https://yuqing.example.gov.cn（短信中的全文链接由它开头）")
        return value

    @field_validator("short_name", "issuer")
    @classmethod
    def _no_brackets(cls, value: str | None) -> str | None:
        if value and any(mark in value for mark in "〔〕[]"):
            raise InvalidInput("不能含有 〔〕 或 []（文号的年份括号由系统加上）")
        return value

    @field_validator("number_prefixes")
    @classmethod
    def _prefixes(cls, value: dict[str, str]) -> dict[str, str]:
        for kind, prefix in value.items():
            if not _KIND.match(kind):
                raise InvalidInput(f"文件类型 {kind!r} 应为小写字母、数字和下划线（如 daily、special）")
            if not prefix.strip() or len(prefix) > 20 or any(mark in prefix for mark in "〔〕[]"):
                raise InvalidInput(f"{kind} 的文号前缀应为 1 到 20 个字符、不含 〔〕（如 青舆专）")
        return {kind: prefix.strip() for kind, prefix in value.items()}

    @field_validator("leaders", mode="before")
    @classmethod
    def _titles(cls, value: Any) -> Any:
        # A leader may be written as just the post: "县长" means {title: 县长}.
        return [{"title": entry} if isinstance(entry, str) else entry for entry in value] if isinstance(value, list) else value

    @field_validator("distribution")
    @classmethod
    def _kinds(cls, value: dict[str, DistributionSpec]) -> dict[str, DistributionSpec]:
        bad = [kind for kind in value if not _KIND.match(kind)]
        if bad:
            raise InvalidInput(f"文件类型应为 default 或小写字母、数字和下划线（如 daily、special）：{'、'.join(bad)}")
        return value


class _IdentitySection(BaseModel):
    """Only the ``office:`` section of a units file; the rest is the units' (``notify.units``)."""

    model_config = ConfigDict(extra="ignore")

    office: OfficeSpec | None = None


def office_from_spec(spec: OfficeSpec) -> Office:
    """The ``Office`` an ``office:`` section describes."""
    return Office(
        name=spec.name,
        county=spec.county,
        short_name=spec.short_name,
        issuer=spec.issuer or "",
        internal_only=spec.internal_only,
        leaders=tuple(Leader(leader.title, leader.name) for leader in spec.leaders),
        contact_person=spec.contact.person,
        contact_phone=spec.contact.phone,
        number_prefixes=dict(spec.number_prefixes),
        distributions={
            kind: _DistributionRule(
                report_to=tuple(rule.report_to) if rule.report_to is not None else None,
                send_to=tuple(rule.send_to) if rule.send_to is not None else None,
                copy_to=tuple(rule.copy_to) if rule.copy_to is not None else None,
            )
            for kind, rule in spec.distribution.items()
        },
        workbench_url=spec.workbench_url,
    )


def identity_file(settings: Settings) -> Path | None:
    """The units file the identity is read from: ``units_file``, else ``home/units.yaml`` if it exists."""
    if settings.units_file is not None:
        return settings.units_file
    default = settings.home / "units.yaml"
    return default if default.is_file() else None


def read_office_spec(path: Path | str) -> OfficeSpec | None:
    """The ``office:`` section of a units file (None if it has none); ``ConfigFileError`` naming line and field."""
    document = load_document(path)
    if document.data is not None and not isinstance(document.data, dict):
        raise ConfigFileError([document.problem((), "应为映射（units:、routing:、office: ……）")])
    return validate(document, _IdentitySection).office


def load_office(settings: Settings) -> Office:
    """The office's identity: the units file's ``office:`` section, with the environment's names winning.

    The one accessor every document uses. Raises ``ConfigFileError`` (file,
    line, field) when the section is wrong; nothing is half-read.
    """
    path = identity_file(settings)
    spec = read_office_spec(path) if path is not None else None
    if spec is None:
        return Office(name=settings.office_name, county=settings.county_name, short_name=settings.office_short_name)
    office = office_from_spec(spec)
    overrides = settings.model_fields_set  # the settings given explicitly (environment or arguments), not defaults
    changes: dict[str, Any] = {}
    if "county_name" in overrides:
        changes["county"] = settings.county_name
    if "office_name" in overrides:
        changes["name"] = settings.office_name
    if "office_short_name" in overrides:
        changes["short_name"], changes["number_prefixes"] = settings.office_short_name, {}
    return replace(office, **changes) if changes else office
