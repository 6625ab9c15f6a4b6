"""The risk library (风险库) as analysts write it: YAML, validated, compiled, compared.

A library file::

    name: 青禾县风险库
    region:                       # 地域词: what makes an item about this county at all
      county_names: [青禾县, 青禾]  # the county itself: in scope, but names no particular place
      terms: [柳湾镇, 东坪村, 青溪河]   # specific places (townships, villages, rivers, roads ...)
      rules: ['江华 & 青禾']        # optional extra expressions
      local_sources: [青禾县人民政府网]   # items from these are in scope without a place name
    exclusions:                   # items matching any of these are set aside (ads and the like)
      - name: 广告
        rules: ['广告 | 促销 | 优惠券']
    risk_points:                  # 风险点
      - name: 化工园区异味泄漏
        category: 安全生产
        units: [县应急管理局, 县生态环境分局]   # responsible units
        severity: 3               # base severity, 1 (一般) .. 4 (特别重大)
        positive: false           # true: positive coverage to report, never a warning
        rules:
          - '化工园区 & (异味 | 臭味 | 泄漏 | 泄露)'
        notes: 2025 年曾发生异味投诉
    source_weights: {云江日报: 1.5}            # authority used in scoring, over the source's own weight
    sensitive_words: [死亡, 中毒, 维权, 堵路]   # the sensitive-language flag in scoring
    warning_levels: {IV: 40, III: 55, II: 70, I: 85}   # score thresholds (see ``risk.scoring``)
    escalation: {I: 10, II: 30, III: 120, IV: null}    # minutes unacknowledged before each escalation step
    response:                                          # 快速回应 targets (see ``risk.response``)
      target_hours: {I: 2, II: 4, III: 8, IV: 24}      # working hours to the first official response
      office_hours: ["08:30-12:00", "14:30-17:30"]     # office hours on working days (Asia/Shanghai)

An item is *relevant* if a region rule matches it or it comes from a local
source; *excluded* if an exclusion matches. A risk point counts for an item
only if the item is relevant and not excluded. The specific places an item
names, with the risk points it matches, also tell the events stage which
differently worded posts are about one happening (``topic_keys``).

``escalation``: an open (unacknowledged) warning of a level goes to the
next step of the units file's ``escalation_chain`` every so many minutes
(step *k* after *k* times the minutes); ``null`` never escalates that level.
Omitted levels keep the defaults shown.

``response``: how fast an official source should answer an event, in working hours (office hours
on the office's working days), by the event's level; an incident with no official response past
its target is raised one level (``risk.scoring``). Omitted keys keep the defaults shown.

Validation names the file, line and field of every problem, including rule
syntax errors (with the column inside the expression); nothing is imported
from a file with any problem. Given the names of the units file's units
(``known_units``), a risk point naming a unit the units file does not know
is a problem too, at the line of that name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from yuqing_core.errors import InvalidInput
from yuqing_core.events import POINT_KEY_PREFIX
from yuqing_core.risk.response import ResponseSpec
from yuqing_core.rules import MatchText, RuleMatch, RuleSet, RuleSyntaxError, normalize_for_matching, parse_rule
from yuqing_core.yamlfile import ConfigFileError, Problem, YamlDocument, load_document, read_yaml_text, validate


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class RegionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    county_names: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)
    local_sources: list[str] = Field(default_factory=list)

    @field_validator("county_names", "terms", "rules", "local_sources", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)

    @model_validator(mode="after")
    def _something(self) -> RegionSpec:
        if not (self.county_names or self.terms or self.rules or self.local_sources):
            raise InvalidInput("地域范围不能为空：至少写 county_names、terms、rules 或 local_sources 之一")
        return self


class ExclusionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    rules: list[str] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _rule_alias(cls, data: Any) -> Any:
        # `rule: EXPR` is accepted for the common one-rule exclusion.
        if isinstance(data, dict) and "rule" in data and "rules" not in data:
            data = dict(data)
            data["rules"] = _as_list(data.pop("rule"))
        return data


class RiskPointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    category: str | None = Field(None, max_length=100)
    units: list[str] = Field(default_factory=list)
    severity: int = Field(2, ge=1, le=4)
    positive: bool = False
    rules: list[str] = Field(min_length=1)
    notes: str | None = None

    @field_validator("units", "rules", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)


class WarningLevels(BaseModel):
    """Score thresholds of the four levels; IV is the lowest bar."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    iv: float = Field(40, alias="IV", ge=0, le=100)
    iii: float = Field(55, alias="III", ge=0, le=100)
    ii: float = Field(70, alias="II", ge=0, le=100)
    i: float = Field(85, alias="I", ge=0, le=100)

    @model_validator(mode="after")
    def _increasing(self) -> WarningLevels:
        if not self.iv < self.iii < self.ii < self.i:
            raise InvalidInput("预警阈值必须逐级升高：IV < III < II < I")
        return self

    def by_level(self) -> dict[int, float]:
        return {4: self.iv, 3: self.iii, 2: self.ii, 1: self.i}


MAX_ESCALATION_MINUTES = 7 * 24 * 60


class EscalationMinutes(BaseModel):
    """Minutes an open warning of each level waits before each escalation step; None: never escalates."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    i: int | None = Field(10, alias="I", ge=1, le=MAX_ESCALATION_MINUTES)
    ii: int | None = Field(30, alias="II", ge=1, le=MAX_ESCALATION_MINUTES)
    iii: int | None = Field(120, alias="III", ge=1, le=MAX_ESCALATION_MINUTES)
    iv: int | None = Field(None, alias="IV", ge=1, le=MAX_ESCALATION_MINUTES)

    @model_validator(mode="after")
    def _severe_first(self) -> EscalationMinutes:
        waits = [(name, value) for name, value in (("I", self.i), ("II", self.ii), ("III", self.iii), ("IV", self.iv))]
        previous: tuple[str, int] | None = None
        for name, value in waits:
            if value is None:
                continue
            if previous is not None and value < previous[1]:
                raise InvalidInput(f"{name} 级的升级等待（{value} 分钟）不应短于更严重的 {previous[0]} 级（{previous[1]} 分钟）")
            previous = (name, value)
        return self

    def by_level(self) -> dict[int, int | None]:
        return {1: self.i, 2: self.ii, 3: self.iii, 4: self.iv}


class LibrarySpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = "风险库"
    region: RegionSpec
    exclusions: list[ExclusionSpec] = Field(default_factory=list)
    risk_points: list[RiskPointSpec] = Field(min_length=1)
    source_weights: dict[str, float] = Field(default_factory=dict)
    sensitive_words: list[str] = Field(default_factory=list)
    warning_levels: WarningLevels = Field(default_factory=WarningLevels)
    escalation: EscalationMinutes = Field(default_factory=EscalationMinutes)
    response: ResponseSpec = Field(default_factory=ResponseSpec)

    @field_validator("source_weights")
    @classmethod
    def _positive_weights(cls, value: dict[str, float]) -> dict[str, float]:
        for name, weight in value.items():
            if not 0 < weight <= 10:
                raise InvalidInput(f"信息源 {name} 的权重应大于 0 且不大于 10")
        return value

    def risk_point(self, name: str) -> RiskPointSpec | None:
        return next((p for p in self.risk_points if p.name == name), None)


# --- rules of a library -------------------------------------------------------------------


@dataclass(frozen=True)
class RuleEntry:
    """One expression of a library, with where it sits (kind, owner, position) and its YAML path."""

    kind: str  # 'region' | 'exclusion' | 'risk'
    label: str  # the risk point's or exclusion's name; '地域范围' for the region scope
    position: int
    expression: str
    loc: tuple[str | int, ...]

    @property
    def identity(self) -> tuple[str, str, int]:
        return (self.kind, self.label, self.position)


REGION_LABEL = "地域范围"


def quote_term(term: str) -> str:
    """A place name as a phrase of the rule language, whatever characters it holds."""
    return '"' + term.replace("\\", "\\\\").replace('"', '\\"') + '"'


def library_rules(spec: LibrarySpec) -> Iterator[RuleEntry]:
    """Every expression of the library, region terms folded into one rule."""
    position = 0
    places = [*spec.region.county_names, *spec.region.terms]
    if places:
        expression = " | ".join(quote_term(t) for t in places)
        yield RuleEntry("region", REGION_LABEL, position, expression, ("region", "terms"))
        position += 1
    for index, expression in enumerate(spec.region.rules):
        yield RuleEntry("region", REGION_LABEL, position, expression, ("region", "rules", index))
        position += 1
    for e_index, exclusion in enumerate(spec.exclusions):
        for index, expression in enumerate(exclusion.rules):
            yield RuleEntry("exclusion", exclusion.name, index, expression, ("exclusions", e_index, "rules", index))
    for p_index, point in enumerate(spec.risk_points):
        for index, expression in enumerate(point.rules):
            yield RuleEntry("risk", point.name, index, expression, ("risk_points", p_index, "rules", index))


def user_words(spec: LibrarySpec) -> list[str]:
    """Words jieba should keep whole: place names and sensitive words (the rule terms are added by RuleSet)."""
    return [*spec.region.county_names, *spec.region.terms, *spec.sensitive_words]


# --- loading and validating ---------------------------------------------------------------


def check_library(
    spec: LibrarySpec,
    document: YamlDocument | None = None,
    file: str = "<library>",
    *,
    known_units: Collection[str] | None = None,
) -> list[Problem]:
    """Problems beyond the schema: rule syntax, duplicate names, and (given ``known_units``) units the units file lacks."""

    def problem(loc: tuple[str | int, ...], message: str) -> Problem:
        return document.problem(loc, message) if document else Problem(file, None, None, ".".join(map(str, loc)), message)

    problems = []
    for entry in library_rules(spec):
        if entry.kind == "region" and entry.loc == ("region", "terms"):
            continue  # quoted by us: always valid
        try:
            parse_rule(entry.expression)
        except RuleSyntaxError as exc:
            problems.append(problem(entry.loc, f"规则有误（{exc}）：{entry.expression}"))
    for kind, names in (("risk_points", [p.name for p in spec.risk_points]), ("exclusions", [e.name for e in spec.exclusions])):
        seen: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in seen:
                first_line = document.mark((kind, seen[name], "name"))[0] if document else None
                where = f"与第 {first_line} 行重复" if first_line else "重复"
                problems.append(problem((kind, index, "name"), f"名称 {name!r} {where}"))
            else:
                seen[name] = index
    if known_units is not None:
        for p_index, point in enumerate(spec.risk_points):
            for u_index, unit in enumerate(point.units):
                if unit not in known_units:
                    problems.append(
                        problem(("risk_points", p_index, "units", u_index), f"单位文件中没有单位 {unit!r}（风险点 {point.name}）")
                    )
    return problems


def unknown_units(spec: LibrarySpec, known_units: Collection[str]) -> dict[str, list[str]]:
    """Units the risk points name that are not in ``known_units``: unit -> the risk points naming it."""
    found: dict[str, list[str]] = {}
    for point in spec.risk_points:
        for unit in point.units:
            if unit not in known_units:
                found.setdefault(unit, []).append(point.name)
    return found


UNITS_NOT_CHECKED = "未配置单位文件（YUQING_UNITS_FILE），未能核对风险点的责任单位是否存在。"


@dataclass(frozen=True)
class LoadedLibraryFile:
    spec: LibrarySpec
    content: str
    path: str

    @property
    def content_sha1(self) -> str:
        return hashlib.sha1(self.content.encode("utf-8")).hexdigest()


def load_library_text(content: str, path: str = "<library>", *, known_units: Collection[str] | None = None) -> LibrarySpec:
    """Validate library YAML text; raise ``ConfigFileError`` naming every problem (unknown units too, given ``known_units``)."""
    document = load_document(path, text=content)
    spec = validate(document, LibrarySpec)
    problems = check_library(spec, document, known_units=known_units)
    if problems:
        raise ConfigFileError(problems)
    return spec


def load_library_file(path: Path | str, *, known_units: Collection[str] | None = None) -> LoadedLibraryFile:
    """Read and validate a library file, keeping its text (comments and all) for versioning.

    ``known_units``: the units file's unit names; a risk point naming another unit is then a problem.
    """
    path = Path(path)
    content = read_yaml_text(path)
    return LoadedLibraryFile(spec=load_library_text(content, str(path), known_units=known_units), content=content, path=str(path))


# --- compiled library: what an item is, for this library ------------------------------------


@dataclass(frozen=True)
class RuleMeta:
    kind: str
    label: str
    position: int
    expression: str
    risk_point: RiskPointSpec | None = None


@dataclass
class ItemVerdict:
    """What the library says of one item."""

    relevant: bool
    excluded: bool
    # Matches that count: region and exclusion evidence always; risk rules only for relevant, not excluded items.
    matches: list[tuple[Hashable, RuleMatch]] = field(default_factory=list)
    risk_points: list[str] = field(default_factory=list)


def topic_keys(risk_points: Iterable[str], places: Iterable[str]) -> frozenset[str]:
    """Keys naming a happening: each risk point at each specific place, e.g. ``化工园区异味泄漏@东坪村``."""
    places = list(places)
    return frozenset(f"{point}@{place}" for point in risk_points for place in places)


def grouping_keys(risk_points: Iterable[str], places: Iterable[str], spec: LibrarySpec) -> frozenset[str]:
    """The topic keys the grouper gets for an item: ``topic_keys``, and each of its non-positive risk points
    alone as ``@<risk point>`` (the grouper's ``point`` rule for posts that name no place).

    >>> spec = load_library_text("{region: {terms: [东坪村]}, risk_points: [{name: 异味, rules: [异味]}, {name: 丰收, positive: true, rules: [丰收]}]}")
    >>> sorted(grouping_keys(["异味", "丰收"], ["东坪村"], spec))
    ['@异味', '丰收@东坪村', '异味@东坪村']
    """
    risk_points = list(risk_points)
    positive = {point.name for point in spec.risk_points if point.positive}
    return topic_keys(risk_points, places) | {POINT_KEY_PREFIX + point for point in risk_points if point not in positive}


class CompiledLibrary:
    """A library ready to judge items: one ``RuleSet`` over all its rules.

    ``keys`` maps each rule's identity to the key used in the ``RuleSet``
    (database rule ids for stored versions; the identity itself otherwise).
    """

    def __init__(self, spec: LibrarySpec, keys: Mapping[tuple[str, str, int], Hashable] | None = None) -> None:
        self.spec = spec
        self.meta: dict[Hashable, RuleMeta] = {}
        points = {p.name: p for p in spec.risk_points}
        entries = []
        for entry in library_rules(spec):
            key = keys[entry.identity] if keys is not None else entry.identity
            self.meta[key] = RuleMeta(
                entry.kind,
                entry.label,
                entry.position,
                entry.expression,
                points.get(entry.label) if entry.kind == "risk" else None,
            )
            entries.append((key, entry.expression))
        self.ruleset = RuleSet(entries, user_words=user_words(spec))
        self.local_sources = frozenset(spec.region.local_sources)
        # Region hits report terms in their normalized form: compare specific places in that form too.
        self.specific_places = frozenset(normalize_for_matching(term) for term in spec.region.terms)

    def judge(self, document: MatchText) -> ItemVerdict:
        return self.verdict(document, self.ruleset.match(document))

    def judge_many(self, documents: list[MatchText]) -> list[ItemVerdict]:
        """Verdicts for every document, in order (documents without any match included)."""
        found = dict(self.ruleset.match_many(documents))
        return [self.verdict(doc, found.get(index, [])) for index, doc in enumerate(documents)]

    def verdict(self, document: MatchText, matches: Iterable[RuleMatch]) -> ItemVerdict:
        by_kind: dict[str, list[RuleMatch]] = {"region": [], "exclusion": [], "risk": []}
        for match in matches:
            by_kind[self.meta[match.key].kind].append(match)
        relevant = bool(by_kind["region"]) or document.source in self.local_sources
        excluded = bool(by_kind["exclusion"])
        counted = by_kind["region"] + by_kind["exclusion"]
        points: list[str] = []
        if relevant and not excluded:
            counted += by_kind["risk"]
            for match in by_kind["risk"]:
                name = self.meta[match.key].label
                if name not in points:
                    points.append(name)
        return ItemVerdict(relevant, excluded, [(m.key, m) for m in counted], points)


# --- comparing two libraries -------------------------------------------------------------------


def _list_diff(old: Iterable[str], new: Iterable[str]) -> dict[str, list[str]]:
    old_list, new_list = list(old), list(new)
    return {"added": [x for x in new_list if x not in old_list], "removed": [x for x in old_list if x not in new_list]}


def diff_libraries(old: LibrarySpec | None, new: LibrarySpec) -> dict[str, Any]:
    """What changed from ``old`` to ``new``, as plain data (stored with each version).

    Only non-empty parts are kept, so ``{}`` means "no change".
    """
    empty = LibrarySpec.model_construct(
        name="", region=RegionSpec.model_construct(county_names=[], terms=[], rules=[], local_sources=[]), exclusions=[], risk_points=[],
        source_weights={}, sensitive_words=[], warning_levels=WarningLevels(), escalation=EscalationMinutes(),
        response=ResponseSpec(),
    )  # fmt: skip
    old = old or empty
    changes: dict[str, Any] = {}
    region = {
        key: diff
        for key in ("county_names", "terms", "rules", "local_sources")
        if (diff := _list_diff(getattr(old.region, key), getattr(new.region, key)))["added"] or diff["removed"]
    }
    if region:
        changes["region"] = region
    old_points = {p.name: p for p in old.risk_points}
    new_points = {p.name: p for p in new.risk_points}
    points: dict[str, Any] = {}
    added = [n for n in new_points if n not in old_points]
    removed = [n for n in old_points if n not in new_points]
    if added:
        points["added"] = added
    if removed:
        points["removed"] = removed
    changed: dict[str, Any] = {}
    for name in (n for n in new_points if n in old_points):
        before, after = old_points[name], new_points[name]
        fields: dict[str, list[Any] | dict[str, list[str]]] = {
            f: [getattr(before, f), getattr(after, f)]
            for f in ("category", "units", "severity", "positive", "notes")
            if getattr(before, f) != getattr(after, f)
        }
        rules = _list_diff(before.rules, after.rules)
        if rules["added"] or rules["removed"]:
            fields["rules"] = rules
        if fields:
            changed[name] = fields
    if changed:
        points["changed"] = changed
    if points:
        changes["risk_points"] = points
    old_ex = {e.name: e.rules for e in old.exclusions}
    new_ex = {e.name: e.rules for e in new.exclusions}
    exclusions = {
        "added": [n for n in new_ex if n not in old_ex],
        "removed": [n for n in old_ex if n not in new_ex],
        "changed": [n for n in new_ex if n in old_ex and new_ex[n] != old_ex[n]],
    }
    if any(exclusions.values()):
        changes["exclusions"] = {k: v for k, v in exclusions.items() if v}
    weights = {n: [old.source_weights.get(n), w] for n, w in new.source_weights.items() if old.source_weights.get(n) != w}
    weights.update({n: [w, None] for n, w in old.source_weights.items() if n not in new.source_weights})
    if weights:
        changes["source_weights"] = weights
    words = _list_diff(old.sensitive_words, new.sensitive_words)
    if words["added"] or words["removed"]:
        changes["sensitive_words"] = words
    if old.warning_levels != new.warning_levels:
        changes["warning_levels"] = [old.warning_levels.model_dump(by_alias=True), new.warning_levels.model_dump(by_alias=True)]
    if old.escalation != new.escalation:
        changes["escalation"] = [old.escalation.model_dump(by_alias=True), new.escalation.model_dump(by_alias=True)]
    if old.response != new.response:
        changes["response"] = [old.response.model_dump(by_alias=True), new.response.model_dump(by_alias=True)]
    return changes


def describe_changes(changes: dict[str, Any]) -> list[str]:
    """The changes as lines an analyst reads."""
    if not changes:
        return ["与当前版本相同，没有变化。"]
    lines = []
    points = changes.get("risk_points", {})
    for name in points.get("added", []):
        lines.append(f"+ 新增风险点：{name}")
    for name in points.get("removed", []):
        lines.append(f"- 删除风险点：{name}")
    labels = {"category": "类别", "units": "责任单位", "severity": "基础等级", "positive": "正面报道", "notes": "备注"}
    for name, fields in points.get("changed", {}).items():
        for key, value in fields.items():
            if key == "rules":
                lines += [f"~ {name}：新增规则 {r}" for r in value["added"]]
                lines += [f"~ {name}：删除规则 {r}" for r in value["removed"]]
            else:
                lines.append(f"~ {name}：{labels[key]} {value[0]} → {value[1]}")
    for key, diff in changes.get("region", {}).items():
        label = {"county_names": "县名", "terms": "地域词", "rules": "地域规则", "local_sources": "本地信息源"}[key]
        lines += [f"+ {label}：{x}" for x in diff["added"]] + [f"- {label}：{x}" for x in diff["removed"]]
    exclusions = changes.get("exclusions", {})
    lines += [f"+ 新增排除规则：{n}" for n in exclusions.get("added", [])]
    lines += [f"- 删除排除规则：{n}" for n in exclusions.get("removed", [])]
    lines += [f"~ 修改排除规则：{n}" for n in exclusions.get("changed", [])]
    for name, (before, after) in changes.get("source_weights", {}).items():
        lines.append(
            f"~ 信息源权重 {name}：{before if before is not None else '默认'} → {after if after is not None else '默认'}"
        )
    words = changes.get("sensitive_words", {})
    lines += [f"+ 敏感词：{w}" for w in words.get("added", [])] + [f"- 敏感词：{w}" for w in words.get("removed", [])]
    if "warning_levels" in changes:
        before, after = changes["warning_levels"]
        lines.append(f"~ 预警阈值：{before} → {after}")
    if "escalation" in changes:
        before, after = changes["escalation"]
        lines.append(f"~ 预警升级等待（分钟）：{before} → {after}")
    if "response" in changes:
        before, after = changes["response"]
        lines.append(f"~ 回应时限与办公时段：{before} → {after}")
    return lines
