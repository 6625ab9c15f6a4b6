"""The syntax tree of a rule: small frozen dataclasses, hashable and comparable with ``==``.

Trees are canonical: a ``Term`` holds its text already normalized (so
``Term("ＡＢＣ") == Term("abc")``), a ``Regex`` holds its pattern with the
rule language's ``\\/`` escape resolved, and ``And``/``Or`` keep the grouping
they were written with (``a & (b & c)`` is not ``a & b & c``). That is what
makes ``parse_rule(format_rule(node)) == node`` hold for every tree.

Constructors check their arguments and raise ``ValueError`` (or
``TypeError``) with a Chinese message; the parser reports the same problems
as ``RuleSyntaxError`` with a column.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yuqing_core.errors import InvalidInput

from ._normalize import normalize_for_matching

# The parser behind re.compile and its opcodes (sre_parse, sre_constants): private, not in typeshed.
_parser: Any = importlib.import_module("re._parser")
_constants: Any = importlib.import_module("re._constants")

__all__ = ["FIELDS", "And", "Near", "Node", "Not", "Or", "Regex", "Scope", "Term"]

#: The fields a scope can name, in the order hits are reported.
FIELDS = ("title", "text", "source")

# Characters a term may not contain: they could never come out of
# normalization of a real text anyway, and the engine relies on their absence.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")


def check_term_text(text: str) -> str | None:
    """Why normalized ``text`` cannot be a term, or None if it can."""
    if not text:
        return "词语为空"
    control = _CONTROL.search(text)
    if control:
        return f"词语中不能含控制字符（U+{ord(control.group()):04X}）"
    return None


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase matched as a substring of the normalized text.

    ``word=True`` (written ``w:民政``) asks for the hit to sit on word
    boundaries of the text's segmentation.
    """

    text: str
    word: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError("词语应为文本")
        normalized = normalize_for_matching(self.text)
        problem = check_term_text(normalized)
        if problem:
            raise ValueError(problem)
        object.__setattr__(self, "text", normalized)
        object.__setattr__(self, "word", bool(self.word))

    @classmethod
    def _normalized(cls, text: str, word: bool) -> Term:
        """A term from text the caller has already normalized and checked (the parser)."""
        term = object.__new__(cls)
        object.__setattr__(term, "text", text)
        object.__setattr__(term, "word", word)
        return term

    @property
    def label(self) -> str:
        """How hits of this term are labelled: the normalized text, ``w:`` in front for word terms."""
        return f"w:{self.text}" if self.word else self.text


@dataclass(frozen=True, slots=True)
class Regex:
    """A Python regular expression searched in the normalized text (case-insensitively)."""

    pattern: str

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str):
            raise TypeError("正则表达式应为文本")
        pattern = canonical_pattern(self.pattern)
        problem = regex_problem(pattern)
        if problem:
            raise ValueError(problem[1])
        object.__setattr__(self, "pattern", pattern)

    @property
    def label(self) -> str:
        """How hits of this regex are labelled: ``/pattern/`` as written in a rule."""
        return f"/{escape_pattern(self.pattern)}/"


@dataclass(frozen=True, slots=True)
class Near:
    """``near(left, right, distance)``: both terms in one field, at most ``distance`` characters apart.

    The distance is counted in the normalized text, from the end of the
    earlier occurrence to the start of the later one, in either order;
    overlapping occurrences count as near.
    """

    left: Term
    right: Term
    distance: int

    def __post_init__(self) -> None:
        if not isinstance(self.left, Term) or not isinstance(self.right, Term):
            raise TypeError("near() 的前两个参数应为词语或短语")
        if not isinstance(self.distance, int) or isinstance(self.distance, bool) or self.distance < 0:
            raise InvalidInput("near() 的第三个参数应为非负整数")


@dataclass(frozen=True, slots=True)
class Not:
    """``!operand``: true when the operand is false."""

    operand: Node

    def __post_init__(self) -> None:
        _check_node(self.operand)


@dataclass(frozen=True, slots=True)
class And:
    """``a & b & ...``: all operands are true (two or more, in the order written)."""

    operands: tuple[Node, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "operands", _check_operands(self.operands))


@dataclass(frozen=True, slots=True)
class Or:
    """``a | b | ...``: at least one operand is true (two or more, in the order written)."""

    operands: tuple[Node, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "operands", _check_operands(self.operands))


@dataclass(frozen=True, slots=True)
class Scope:
    """``field:operand``: the terms inside are looked for in ``field`` only (inner scopes win)."""

    field: str
    operand: Node

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise InvalidInput(f"未知的字段「{self.field}」，可用的字段：{'、'.join(FIELDS)}")
        _check_node(self.operand)


Node = Term | Regex | Near | Not | And | Or | Scope
_NODE_TYPES = (Term, Regex, Near, Not, And, Or, Scope)


def slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The ``__set__`` of slot ``name`` of ``cls`` (its member descriptor), which a frozen dataclass does not block.

    For the hot paths that make many nodes or hits whose values are known to be valid.
    """
    setter: Callable[[Any, Any], None] = cls.__dict__[name].__set__
    return setter


def _check_node(node: object) -> None:
    if not isinstance(node, _NODE_TYPES):
        raise TypeError(f"不是规则的语法树节点：{type(node).__name__}")


def _check_operands(operands: object) -> tuple[Node, ...]:
    if isinstance(operands, (str, bytes)) or not hasattr(operands, "__iter__"):
        raise TypeError("operands 应为节点的序列")
    result = tuple(operands)
    if len(result) < 2:
        raise InvalidInput("& 和 | 至少需要两个操作数")
    for operand in result:
        _check_node(operand)
    return result


# --- regular expressions -----------------------------------------------------

REGEX_FLAGS = re.IGNORECASE


def canonical_pattern(pattern: str) -> str:
    """Resolve the rule language's ``\\/`` escape (``/`` needs no escape in Python's ``re``)."""
    if "\\/" not in pattern:
        return pattern
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            following = pattern[index + 1]
            out.append("/" if following == "/" else char + following)
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def escape_pattern(pattern: str) -> str:
    """A canonical pattern as written between slashes: every ``/`` not part of an escape becomes ``\\/``."""
    if "/" not in pattern:
        return pattern
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out.append(pattern[index : index + 2])
            index += 2
        else:
            out.append("\\/" if char == "/" else char)
            index += 1
    return "".join(out)


def regex_problem(pattern: str) -> tuple[int, str] | None:
    """``(index in pattern, message)`` if ``pattern`` cannot be used, else None."""
    if not pattern:
        return 0, "正则表达式为空"
    try:
        re.compile(pattern, REGEX_FLAGS)
    except re.error as exc:
        return (exc.pos or 0), f"正则表达式有误：{_regex_message(exc.msg)}"
    except (RecursionError, OverflowError, ValueError, Warning) as exc:  # pathological nesting or repeat counts
        return 0, f"正则表达式有误：{type(exc).__name__}"
    return _slow_regex_problem(pattern)


_REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT)


def _slow_regex_problem(pattern: str) -> tuple[int, str] | None:
    """``(0, message)`` if ``pattern`` may backtrack catastrophically: a repeated part that itself
    holds an unbounded repeat (``(a+)+``, ``(a*)*``, ``(\\d+\\s*){2,}``), an unboundedly repeated
    choice whose branches can start with the same character (``(a|aa)+``, ``(\\w|\\d)*``: each
    run of characters can be split among the branches in exponentially many ways), or a
    backreference.

    The parsed pattern (``re._parser``) is inspected, not the text. Possessive repeats and atomic
    groups do not backtrack and are allowed.

    >>> _slow_regex_problem("(a+)+$")[1]
    '正则表达式可能极慢：重复的部分里又有不限次数的重复（如 (a+)+），请改写，例如 a+'
    >>> _slow_regex_problem(r"\\d+人(死亡|受伤)") is None
    True
    >>> _slow_regex_problem("(a|aa)+$")[1][:20], _slow_regex_problem("(死亡|受伤)+") is None
    ('正则表达式可能极慢：不限次数重复的部分能', True)
    """
    try:
        parsed = _parser.parse(pattern, REGEX_FLAGS)
    except (re.error, RecursionError, OverflowError, ValueError):  # already reported by re.compile
        return None
    found = _walk(list(parsed), inside_repeat=False)
    if found == "nested":
        return 0, "正则表达式可能极慢：重复的部分里又有不限次数的重复（如 (a+)+），请改写，例如 a+"
    if found == "overlap":
        return 0, "正则表达式可能极慢：不限次数重复的部分能以不止一种方式切分同一段文字（如 (a|aa)+、(x?x)+），请改写，例如 a+"
    if found == "backref":
        return 0, "正则表达式不支持反向引用（如 \\1、(?P=name)）：匹配可能极慢"
    return None


def _walk(items: list[tuple[Any, Any]], *, inside_repeat: bool) -> str | None:
    """``"nested"`` or ``"backref"`` for the first slow construct among parsed ``items``, else None."""
    for op, av in items:
        found: str | None = None
        if op in (_constants.GROUPREF, _constants.GROUPREF_EXISTS):
            return "backref"
        if op in _REPEATS:
            _low, high, sub = av
            unbounded = high == _constants.MAXREPEAT
            if unbounded and inside_repeat:
                return "nested"
            if unbounded and _ambiguous_body(list(sub)):
                return "overlap"
            found = _walk(list(sub), inside_repeat=inside_repeat or high > 1)
        elif op == _constants.POSSESSIVE_REPEAT:
            found = _walk(list(av[2]), inside_repeat=False)
        elif op == _constants.ATOMIC_GROUP:
            found = _walk(list(av), inside_repeat=False)
        elif op == _constants.SUBPATTERN:
            found = _walk(list(av[3]), inside_repeat=inside_repeat)
        elif op == _constants.BRANCH:
            for branch in av[1]:
                found = found or _walk(list(branch), inside_repeat=inside_repeat)
        elif op in (_constants.ASSERT, _constants.ASSERT_NOT):
            found = _walk(list(av[1]), inside_repeat=inside_repeat)
        if found:
            return found
    return None


_CATEGORY_ESCAPES = {
    _constants.CATEGORY_DIGIT: r"\d", _constants.CATEGORY_NOT_DIGIT: r"\D",
    _constants.CATEGORY_WORD: r"\w", _constants.CATEGORY_NOT_WORD: r"\W",
    _constants.CATEGORY_SPACE: r"\s", _constants.CATEGORY_NOT_SPACE: r"\S",
}  # fmt: skip
# Characters tried against both branches' first characters, beside the ones the pattern names.
_PROBES = "0aZ_ \n.-中。，"


def _first_character(items: list[tuple[Any, Any]]) -> Callable[[str], bool] | None:
    """A test for the characters a branch can start with, or None when that is not simply known
    (an empty branch, an optional first part, an anchor): those branches are not judged."""
    if not items:
        return None
    op, av = items[0]
    if op in (_constants.LITERAL, _constants.NOT_LITERAL):
        same = chr(av).casefold()
        wanted = op == _constants.LITERAL

        def literal(char: str) -> bool:
            return (char.casefold() == same) is wanted

        return literal
    if op == _constants.ANY:  # without DOTALL, "." is anything but a line break
        dotall = bool(REGEX_FLAGS & re.DOTALL)

        def anything(char: str) -> bool:
            return dotall or char != "\n"

        return anything
    if op == _constants.IN:
        text = _class_text(av)
        if text is None:
            return None
        members = re.compile(text, REGEX_FLAGS)

        def member(char: str) -> bool:
            return members.fullmatch(char) is not None

        return member
    if op == _constants.SUBPATTERN:
        return _first_character(list(av[3]))
    if op in _REPEATS and av[0] >= 1:
        return _first_character(list(av[2]))
    return None


def _class_text(av: list[tuple[Any, Any]]) -> str | None:
    """The character class ``[...]`` of a parsed IN, rebuilt as text (None if it holds anything else)."""
    parts: list[str] = []
    for op, value in av:
        if op == _constants.NEGATE:
            parts.insert(0, "^")
        elif op == _constants.LITERAL:
            parts.append(re.escape(chr(value)))
        elif op == _constants.RANGE:
            parts.append(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
        elif op == _constants.CATEGORY and value in _CATEGORY_ESCAPES:
            parts.append(_CATEGORY_ESCAPES[value])
        else:
            return None
    return "[" + "".join(parts) + "]"


def _literals(items: list[tuple[Any, Any]]) -> set[str]:
    """Characters a parsed branch names (probes for the overlap test)."""
    found: set[str] = set()
    for op, av in items:
        if op in (_constants.LITERAL, _constants.NOT_LITERAL):
            found.add(chr(av))
        elif op == _constants.IN:
            for inner, value in av:
                if inner == _constants.LITERAL:
                    found.add(chr(value))
                elif inner == _constants.RANGE:
                    found.update((chr(value[0]), chr(value[1])))
        elif op == _constants.SUBPATTERN:
            found |= _literals(list(av[3]))
        elif op in _REPEATS:
            found |= _literals(list(av[2]))
        elif op == _constants.BRANCH:
            for branch in av[1]:
                found |= _literals(list(branch))
    return found


def _overlap(first: Callable[[str], bool], second: Callable[[str], bool], probes: set[str]) -> bool:
    return any(first(char) and second(char) for char in probes)


def _ambiguous_body(body: list[tuple[Any, Any]]) -> bool:
    """Whether the body of an unbounded repeat can split one run of text in more than one way.

    Two shapes, judged on the characters they can start with: a choice whose branches can start
    alike (``(\\d|1x)+``), and an optional part followed — later in the body, or by the next
    round of the repeat — by something that can start alike (``(a|aa)+``, which ``re`` reads as
    ``(a(?:|a))+``; ``(x?x)+``). ``(ab|a)+`` and ``(死亡|受伤)+`` split one way only and pass.
    """
    while len(body) == 1 and body[0][0] == _constants.SUBPATTERN:
        body = list(body[0][1][3])
    probes = set(_PROBES) | _literals(body)
    for index, (op, av) in enumerate(body):
        if op == _constants.BRANCH:
            branches = [list(branch) for branch in av[1]]
            starts = [test for branch in branches if branch and (test := _first_character(branch)) is not None]
            if any(_overlap(a, b, probes) for i, a in enumerate(starts) for b in starts[i + 1 :]):
                return True
            optional = any(not branch for branch in branches)
        else:
            optional = op in _REPEATS and av[0] == 0
            starts = [test] if optional and (test := _first_character(list(av[2]))) is not None else []
        if not optional:
            continue
        after = _first_character(body[index + 1 :]) or _first_character(body)
        if after is not None and any(_overlap(start, after, probes) for start in starts):
            return True
    return False


# The re module's commonest complaints, in the words analysts read.
_REGEX_MESSAGES = (
    ("missing ), unterminated subpattern", "圆括号没有闭合"),
    ("unbalanced parenthesis", "多余的右圆括号"),
    ("unterminated character set", "方括号没有闭合"),
    ("nothing to repeat", "重复符号（* + ? {}）前面没有内容"),
    ("multiple repeat", "重复符号连用"),
    ("bad escape", "无效的转义"),
    ("bad character range", "方括号内的字符范围无效"),
    ("missing ), unterminated name", "组名没有闭合"),
    ("unknown extension", "不支持的 (? 写法"),
    ("look-behind requires fixed-width pattern", "后行断言必须是固定长度"),
)


def _regex_message(message: str) -> str:
    for english, chinese in _REGEX_MESSAGES:
        if message.startswith(english):
            return f"{chinese}（{message}）"
    return message
