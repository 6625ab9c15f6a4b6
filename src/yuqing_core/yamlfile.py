"""YAML files that people edit, validated with pydantic, with errors that name file, line and field.

Every configuration file (sources, and later the risk library and units)
goes through ``load_validated``: the YAML is composed node by node so each
value keeps its line and column, duplicate keys are refused (PyYAML would
silently keep the last), and pydantic's errors are mapped back to the line
of the offending value and worded in Chinese for the people who fix them.

Example::

    spec = load_validated(Path("sources.yaml"), SourcesFile)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from yuqing_core.errors import InvalidInput

Loc = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)


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


def load_document(path: Path | str, text: str | None = None) -> YamlDocument:
    """Read a YAML file into data plus positions; syntax errors become a ``ConfigFileError``."""
    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ConfigFileError([Problem(file, None, None, "", "文件不存在")]) from exc
        except UnicodeDecodeError as exc:
            raise ConfigFileError([Problem(file, None, None, "", f"不是 UTF-8 编码（第 {exc.start} 字节）")]) from exc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        detail = exc.problem or exc.context or "YAML 语法错误"
        raise ConfigFileError([Problem(file, line, column, "", f"YAML 语法错误：{detail}")]) from exc
    finally:
        loader.dispose()
    ctx = _Context(file=file, marks={}, problems=[], scalars=yaml.SafeLoader(""))
    data = _construct(node, (), ctx) if node is not None else None
    if ctx.problems:
        raise ConfigFileError(ctx.problems)
    return YamlDocument(data=data, marks=ctx.marks, file=file)


def _construct(node: yaml.Node, loc: Loc, ctx: _Context) -> Any:
    ctx.marks[loc] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key_node, yaml.ScalarNode):
                ctx.problems.append(Problem(ctx.file, *where, format_loc(loc), "字段名必须是文本"))
                continue
            key = key_node.value
            if key in result:
                ctx.problems.append(Problem(ctx.file, *where, format_loc((*loc, key)), "重复的字段"))
                continue
            result[key] = _construct(value_node, (*loc, key), ctx)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(child, (*loc, i), ctx) for i, child in enumerate(node.value)]
    try:
        return ctx.scalars.construct_object(node)
    except yaml.YAMLError as exc:
        line, column = ctx.marks[loc]
        ctx.problems.append(Problem(ctx.file, line, column, format_loc(loc), f"无法读取的值：{getattr(exc, 'problem', exc)}"))
        return None


@dataclass
class _Context:
    file: str
    marks: dict[Loc, tuple[int, int]]
    problems: list[Problem]
    scalars: yaml.SafeLoader


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
