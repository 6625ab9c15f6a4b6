"""YAML files that people edit, validated with pydantic, with errors that name file, line and field.

Every configuration file (sources, and later the risk library and units)
goes through ``load_validated``: the YAML is composed node by node so each
value keeps its line and column, duplicate keys are refused (PyYAML would
silently keep the last), and pydantic's errors are mapped back to the line
of the offending value and worded in Chinese for the people who fix them.

Input is bounded before it can cost memory or a traceback: the file's size
(``MAX_YAML_BYTES``), how deep collections nest (``MAX_YAML_DEPTH``,
checked while composing) and how many values the document expands to
(``MAX_YAML_VALUES``, counting every use of an alias: a "billion laughs"
stops there). An alias inside the node it names is refused. YAML 1.1 merge
keys (``<<: *defaults`` or ``<<: [*a, *b]``) work as in YAML 1.1: keys
written in the mapping win, then the merged mappings in order.

Example::

    spec = load_validated(Path("sources.yaml"), SourcesFile)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from yuqing_core.errors import InvalidInput
from yuqing_core.text import storable

Loc = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_YAML_BYTES = 4 * 1024 * 1024
MAX_YAML_DEPTH = 64
MAX_YAML_VALUES = 200_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, at a place a person can find."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" 第 {self.line} 行"
            if self.column is not None:
                where += f"第 {self.column} 列"
        field = f"，字段 {self.field}" if self.field else ""
        return f"{where}{field}：{self.message}"


class ConfigFileError(InvalidInput):
    """A file that cannot be used as it is; ``problems`` lists everything found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class YamlDocument:
    """A YAML document as plain data, plus the (line, column) of every value by its path."""

    data: Any
    marks: dict[Loc, tuple[int, int]]
    file: str

    def mark(self, loc: Loc) -> tuple[int | None, int | None]:
        """Position of the value at ``loc``, or of its nearest ancestor that exists."""
        for end in range(len(loc), -1, -1):
            mark = self.marks.get(tuple(loc[:end]))
            if mark:
                return mark
        return None, None

    def problem(self, loc: Loc, message: str) -> Problem:
        line, column = self.mark(loc)
        return Problem(self.file, line, column, format_loc(loc), message)


def format_loc(loc: Loc) -> str:
    """``sources[2].url`` for ``("sources", 2, "url")``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def read_yaml_text(path: Path | str) -> str:
    """The text of a YAML file people edit; a missing, oversized or non-UTF-8 file is a ``ConfigFileError``."""
    file = str(path)
    try:
        if Path(path).stat().st_size > MAX_YAML_BYTES:
            raise ConfigFileError([Problem(file, None, None, "", _too_large())])
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigFileError([Problem(file, None, None, "", "文件不存在")]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigFileError([Problem(file, None, None, "", f"不是 UTF-8 编码（第 {exc.start} 字节）")]) from exc


def load_document(path: Path | str, text: str | None = None) -> YamlDocument:
    """Read a YAML file into data plus positions; syntax errors become a ``ConfigFileError``."""
    file = str(path)
    if text is None:
        text = read_yaml_text(path)
    if len(text) > MAX_YAML_BYTES:
        raise ConfigFileError([Problem(file, None, None, "", _too_large())])
    try:
        loader = _BoundedLoader(text)  # the reader refuses control characters here, before parsing
    except yaml.reader.ReaderError as exc:
        raise ConfigFileError([_unacceptable_character(file, text, exc)]) from None
    try:
        node = loader.get_single_node()
    except _TooDeep as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ConfigFileError([Problem(file, line, column, "", str(exc.problem))]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        detail = exc.problem or exc.context or "YAML 语法错误"
        raise ConfigFileError([Problem(file, line, column, "", f"YAML 语法错误：{detail}")]) from exc
    finally:
        loader.dispose()
    ctx = _Context(file=file, marks={}, problems=[], scalars=yaml.SafeLoader(""))
    try:
        data = _construct(node, (), ctx) if node is not None else None
    except _Refused as exc:
        raise ConfigFileError([*ctx.problems, exc.problem]) from None
    if ctx.problems:
        raise ConfigFileError(ctx.problems)
    return YamlDocument(data=data, marks=ctx.marks, file=file)


def _unacceptable_character(file: str, text: str, exc: yaml.reader.ReaderError) -> Problem:
    """A control character YAML does not allow (a BEL pasted from somewhere), at its line and column."""
    position = min(max(exc.position, 0), len(text))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return Problem(file, line, column, "", f"YAML 语法错误：不允许的控制字符 U+{exc.character:04X}")


def _too_large() -> str:
    return f"文件太大（超过 {MAX_YAML_BYTES // (1024 * 1024)} MiB），拒绝读取"


class _TooDeep(yaml.MarkedYAMLError):
    """Collections nested deeper than ``MAX_YAML_DEPTH``, found while composing."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a bound on nesting: its composer recurses once per level."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _TooDeep(problem=f"嵌套超过 {MAX_YAML_DEPTH} 层，拒绝读取", problem_mark=mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Refused(Exception):
    """The document expands past a bound or into itself; nothing more of it is read."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _construct(node: yaml.Node, loc: Loc, ctx: _Context) -> Any:
    ctx.marks[loc] = _position(node)
    ctx.values += 1
    if ctx.values > MAX_YAML_VALUES:
        message = f"展开后超过 {MAX_YAML_VALUES} 个值（别名 * 被反复展开？），拒绝读取"
        raise _Refused(Problem(ctx.file, *_position(node), format_loc(loc), message))
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        if id(node) in ctx.open_nodes:
            message = "别名 * 引用了包含它自身的节点（无限循环），拒绝读取"
            raise _Refused(Problem(ctx.file, *_position(node), format_loc(loc), message))
        ctx.open_nodes.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return _construct_mapping(node, loc, ctx)
            return [_construct(child, (*loc, i), ctx) for i, child in enumerate(node.value)]
        finally:
            ctx.open_nodes.discard(id(node))
    try:
        value = ctx.scalars.construct_object(node)
        # A double-quoted "\ud800" is a lone surrogate no database can store: U+FFFD instead.
        return storable(value) if isinstance(value, str) else value
    except (yaml.YAMLError, ValueError) as exc:
        line, column = ctx.marks[loc]
        ctx.problems.append(Problem(ctx.file, line, column, format_loc(loc), f"无法读取的值：{getattr(exc, 'problem', exc)}"))
        return None


def _construct_mapping(node: yaml.MappingNode, loc: Loc, ctx: _Context) -> dict[Any, Any]:
    merges = [(key, value) for key, value in node.value if key.tag == _MERGE_TAG]
    if len(merges) > 1:
        ctx.problems.append(Problem(ctx.file, *_position(merges[1][0]), format_loc(loc), "重复的合并键 <<"))
    # Merged keys first, so that the keys written here replace them (values and positions alike).
    result: dict[Any, Any] = _merged(merges[0][1], loc, ctx) if merges else {}
    ctx.marks[loc] = _position(node)
    written: set[Any] = set()
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            continue
        where = _position(key_node)
        if not isinstance(key_node, yaml.ScalarNode):
            ctx.problems.append(Problem(ctx.file, *where, format_loc(loc), "字段名必须是文本"))
            continue
        key = key_node.value
        if key in written:
            ctx.problems.append(Problem(ctx.file, *where, format_loc((*loc, key)), "重复的字段"))
            continue
        written.add(key)
        result[key] = _construct(value_node, (*loc, key), ctx)
    return result


def _merged(value_node: yaml.Node, loc: Loc, ctx: _Context) -> dict[Any, Any]:
    """What YAML 1.1 ``<<`` brings in: the keys of the merged mapping(s), an earlier mapping's first."""
    result: dict[Any, Any] = {}
    sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
    for source in sources:
        if not isinstance(source, yaml.MappingNode):
            message = "合并键 << 的值应为映射或映射的列表（如 <<: *defaults）"
            ctx.problems.append(Problem(ctx.file, *_position(source), format_loc(loc), message))
            continue
        # Positions of merged values stay where they are written (the anchored mapping).
        for key, value in _construct(source, loc, ctx).items():
            result.setdefault(key, value)
    return result


@dataclass
class _Context:
    file: str
    marks: dict[Loc, tuple[int, int]]
    problems: list[Problem]
    scalars: yaml.SafeLoader
    values: int = 0
    open_nodes: set[int] = field(default_factory=set)


_MESSAGES = {
    "missing": "缺少必填字段",
    "extra_forbidden": "未知字段",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "string_too_short": "不能为空",
}


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        return f"应为以下之一：{ctx.get('expected', '')}".replace("'", "")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {"greater_than": "大于", "greater_than_equal": "不小于", "less_than": "小于", "less_than_equal": "不大于"}[kind]
        return f"应{bound} {next(iter(ctx.values()), '')}"
    if kind == "string_too_long":
        return f"太长（最多 {ctx.get('max_length')} 个字符）"
    return _MESSAGES.get(kind, error["msg"])


def problems_from_validation(document: YamlDocument, exc: ValidationError, *, prefix: Loc = ()) -> Iterator[Problem]:
    for error in exc.errors(include_url=False):
        loc = (*prefix, *error["loc"])
        yield document.problem(loc, _message(error))


def validate(document: YamlDocument, model: type[ModelT]) -> ModelT:
    """Validate a whole document against ``model``; every problem is reported at once."""
    try:
        return model.model_validate(document.data if document.data is not None else {})
    except ValidationError as exc:
        raise ConfigFileError(list(problems_from_validation(document, exc))) from exc


def load_validated(path: Path | str, model: type[ModelT]) -> tuple[ModelT, YamlDocument]:
    document = load_document(path)
    return validate(document, model), document
