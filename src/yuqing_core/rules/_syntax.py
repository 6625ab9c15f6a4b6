"""Reading and writing the rule language: ``parse_rule``, ``format_rule``, ``RuleSyntaxError``.

The grammar (``!`` binds tightest, then ``&``, then ``|``)::

    rule     := or EOF
    or       := and ( "|" and )*
    and      := unary ( "&"? unary )*          # juxtaposition means &
    unary    := "!" unary | scoped | primary
    scoped   := FIELD ":" ( primary | "w:" term )
    primary  := term | "w:" term | REGEX | near | "(" or ")"
    near     := "near" "(" arg "," arg "," INTEGER ")"
    arg      := "w:"? term
    term     := WORD | PHRASE

A WORD is a run of characters that are neither whitespace nor one of
``( ) | & ! " / , :`` (or their full-width twins ``（ ） ｜ ＆ ！ “ ” ‘ ’ ， ：``).
A PHRASE is quoted with ``"..."`` (or ``“...”``, ``‘...’``) and may hold
anything; inside it ``\\"`` is a quote and ``\\\\`` a backslash. A REGEX is
``/.../`` with ``\\/`` for a slash. ``near`` is a keyword only when ``(``
follows it directly. FIELD is ``title``, ``text`` or ``source``; ``w:``
marks a term that must sit on word boundaries.

Errors name the 1-based column in the expression as written and what was
wrong, in Chinese: ``第12列：缺少右括号``. Any string gives either a tree or
a ``RuleSyntaxError``, never another exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from yuqing_core.errors import InvalidInput

from ._ast import (
    FIELDS,
    And,
    Near,
    Node,
    Not,
    Or,
    Regex,
    Scope,
    Term,
    check_term_text,
    regex_problem,
    slot_setter,
)
from ._normalize import normalize_for_matching, normalizer

__all__ = ["MAX_NESTING", "RuleSyntaxError", "format_rule", "parse_rule"]

#: Deepest nesting of parentheses, ``!`` and scopes a rule may have.
MAX_NESTING = 100

# Full-width (and curly) punctuation accepted as the ASCII operator it looks like.
_TWINS = {"（": "(", "）": ")", "｜": "|", "＆": "&", "！": "!", "，": ",", "：": ":"}
_OPERATORS = frozenset("()|&!,:")
# Opening quote -> the characters that may close it.
_QUOTES = {'"': '"', "“": "”“", "”": "”“", "‘": "’‘", "’": "’‘"}
_PUNCTUATION = _OPERATORS | frozenset(_TWINS) | frozenset(_QUOTES) | {"/"}
# A run of word characters: not whitespace, punctuation of the language, or a control character.
_WORD = re.compile("[^\\s" + re.escape("".join(sorted(_PUNCTUATION))) + "\\x00-\\x1f\\x7f]+")

# One step of the tokenizer's common path: a whitespace run, an operator
# other than the colon (group 1), or a word (group 2).
_FAST_TOKEN = re.compile(
    "\\s+|(["
    + re.escape("".join(sorted((_OPERATORS - {":"}) | {t for t, a in _TWINS.items() if a != ":"})))
    + "])|("
    + _WORD.pattern
    + ")"
)
_EXPECTED_OPERAND = "此处应为词语、短语、括号或 !"


class RuleSyntaxError(InvalidInput):
    """A rule expression that cannot be read: where (1-based column) and what is wrong."""

    def __init__(self, column: int, message: str) -> None:
        self.column = column
        self.message = message
        super().__init__(column, message)

    def __str__(self) -> str:
        return f"第{self.column}列：{self.message}"

    def __repr__(self) -> str:
        return f"RuleSyntaxError(column={self.column}, message={self.message!r})"

    def __reduce__(self) -> tuple[type[RuleSyntaxError], tuple[int, str]]:
        return (RuleSyntaxError, (self.column, self.message))


# --- tokens ------------------------------------------------------------------


class _Token(NamedTuple):
    # A named tuple rather than a frozen dataclass: a library of 10,000 rules
    # makes hundreds of thousands of tokens, and a tuple is made several times faster.
    kind: str  # ( ) | & ! , WORD PHRASE REGEX SCOPE WORDMARK NEAR EOF
    start: int  # index of the first character in the expression
    text: str = ""  # WORD/PHRASE: the text; REGEX: the canonical pattern; SCOPE: the field
    end: int = 0  # index after the last character

    @property
    def column(self) -> int:
        return self.start + 1


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    length = len(source)
    index = 0
    fast = _FAST_TOKEN.match
    while index < length:
        # Whitespace, operators and words (nearly everything a rule holds) in
        # one regex step; quotes, regexes, colons and bad characters below.
        match = fast(source, index)
        if match is not None:
            kind = match.lastindex
            if kind is None:
                index = match.end()
            elif kind == 1:
                tokens.append(_Token(_TWINS.get(match.group(1), match.group(1)), index, end=index + 1))
                index += 1
            else:
                index = _word(source, index, tokens, match.end())
            continue
        char = source[index]
        if char.isspace():
            index += 1
            continue
        if char < " " or char == "\x7f":
            raise RuleSyntaxError(index + 1, f"规则中不能含控制字符（U+{ord(char):04X}）")
        ascii_char = _TWINS.get(char, char)
        if ascii_char == ":":
            raise RuleSyntaxError(index + 1, "冒号前应为字段名 title、text 或 source（或 w 表示按词匹配）；要找冒号本身请加引号")
        if ascii_char in _OPERATORS:
            tokens.append(_Token(ascii_char, index, end=index + 1))
            index += 1
        elif char in _QUOTES:
            index = _phrase(source, index, tokens)
        elif char == "/":
            index = _regex(source, index, tokens)
        else:
            index = _word(source, index, tokens)
    tokens.append(_Token("EOF", length, end=length))
    return tokens


def _word(source: str, start: int, tokens: list[_Token], end: int | None = None) -> int:
    if end is None:
        match = _WORD.match(source, start)
        end = match.end() if match else start + 1  # the caller saw a word character at start
    index = end
    length = len(source)
    word = source[start:index]
    following = _TWINS.get(source[index], source[index]) if index < length else ""
    if following == ":":
        name = word.casefold()
        if name == "w":
            tokens.append(_Token("WORDMARK", start, end=index + 1))
        elif name in FIELDS:
            tokens.append(_Token("SCOPE", start, name, end=index + 1))
        else:
            allowed = "、".join(f"{field}:" for field in FIELDS)
            raise RuleSyntaxError(
                start + 1, f"未知的字段「{word}」，可用的字段：{allowed}（w: 表示按词匹配）；要找冒号本身请加引号"
            )
        return index + 1
    if following == "(" and word.casefold() == "near":
        tokens.append(_Token("NEAR", start, word, end=index))
        return index
    tokens.append(_Token("WORD", start, word, end=index))
    return index


def _phrase(source: str, start: int, tokens: list[_Token]) -> int:
    closers = _QUOTES[source[start]]
    out: list[str] = []
    index = start + 1
    length = len(source)
    while index < length:
        char = source[index]
        if char == "\\" and index + 1 < length:
            following = source[index + 1]
            # \" and \\ (and the curly quotes) stand for the character itself;
            # any other backslash is an ordinary character.
            out.append(following if following == "\\" or following in _QUOTES else char + following)
            index += 2
            continue
        if char in closers:
            tokens.append(_Token("PHRASE", start, "".join(out), end=index + 1))
            return index + 1
        if (char < " " and not char.isspace()) or char == "\x7f":
            raise RuleSyntaxError(index + 1, f"规则中不能含控制字符（U+{ord(char):04X}）")
        out.append(char)
        index += 1
    raise RuleSyntaxError(start + 1, "短语缺少结尾的引号")


def _regex(source: str, start: int, tokens: list[_Token]) -> int:
    out: list[str] = []
    columns: list[int] = []  # expression index of each pattern character, to place regex errors
    index = start + 1
    length = len(source)
    while index < length:
        char = source[index]
        if char == "\\" and index + 1 < length:
            following = source[index + 1]
            if following == "/":
                out.append("/")
                columns.append(index)
            else:
                out.extend((char, following))
                columns.extend((index, index + 1))
            index += 2
            continue
        if char == "/":
            pattern = "".join(out)
            problem = regex_problem(pattern)
            if problem:
                position, message = problem
                where = columns[position] if 0 <= position < len(columns) else (index if pattern else start)
                raise RuleSyntaxError(where + 1, message)
            tokens.append(_Token("REGEX", start, pattern, end=index + 1))
            return index + 1
        out.append(char)
        columns.append(index)
        index += 1
    raise RuleSyntaxError(start + 1, "正则表达式缺少结尾的 /（要找 / 本身请加引号）")


# --- parser --------------------------------------------------------------------

# Terms as written -> their (immutable) Term: a library names its places and
# events in rule after rule, and normalizing each occurrence again was most
# of the time a large library took to parse. Bounded; a lost race between
# threads only makes an equal Term twice.
_TERMS: dict[tuple[str, bool], Term] = {}
_MAX_TERMS = 100_000
_TERMS_NORMALIZER: object = None  # the normalization routine the cached terms went through


def _term_cache() -> dict[tuple[str, bool], Term]:
    """The cache of parsed terms, emptied when the process's normalization routine is another one."""
    global _TERMS_NORMALIZER  # noqa: PLW0603 - one check per parsed rule
    current = normalizer()
    if current is not _TERMS_NORMALIZER:
        _TERMS.clear()
        _TERMS_NORMALIZER = current
    return _TERMS


def _new_term(terms: dict[tuple[str, bool], Term], written: str, word: bool) -> Term | str:
    """The term for text as written (cached in ``terms``), or why it cannot be one."""
    text = normalize_for_matching(written)
    problem = check_term_text(text)
    if problem:
        return problem
    term = Term._normalized(text, word)
    if len(terms) >= _MAX_TERMS:
        terms.clear()
    terms[(written, word)] = term
    return term


_STARTS_OPERAND = frozenset({"(", "!", "WORD", "PHRASE", "REGEX", "SCOPE", "WORDMARK", "NEAR"})


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.terms = _term_cache()
        self.position = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def error(self, message: str, token: _Token | None = None) -> RuleSyntaxError:
        token = token or self.token
        if token.kind == "EOF":
            # Point just after the last thing written, where something is missing.
            return RuleSyntaxError(len(self.source.rstrip()) + 1, message)
        return RuleSyntaxError(token.column, message)

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"嵌套太深（最多 {MAX_NESTING} 层）")

    def rule(self) -> Node:
        if self.token.kind == "EOF":
            raise RuleSyntaxError(1, "规则为空")
        node = self.or_()
        token = self.token
        if token.kind == ")":
            raise self.error("多余的右括号")
        if token.kind == ",":
            raise self.error("此处不应有逗号（逗号只用于 near(…) 的参数之间）")
        if token.kind != "EOF":  # pragma: no cover - every other token starts an operand
            raise self.error("此处应为 &、| 或规则结束")
        return node

    def or_(self) -> Node:
        operands = [self.and_()]
        while self.token.kind == "|":
            self.advance()
            operands.append(self.and_())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_(self) -> Node:
        operands = [self.unary()]
        while True:
            kind = self.token.kind
            if kind == "&":
                self.advance()
            elif kind not in _STARTS_OPERAND:
                break
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def unary(self) -> Node:
        token = self.token
        if token.kind == "!":
            self.advance()
            self.nest()
            operand = self.unary()
            self.depth -= 1
            return Not(operand)
        if token.kind == "SCOPE":
            self.advance()
            self.nest()
            following = self.token
            if following.kind not in ("WORD", "PHRASE", "WORDMARK", "REGEX", "NEAR", "("):
                raise self.error(f"{token.text}: 后应为词语、短语、正则表达式、near(…) 或括号", following)
            operand = self.primary()
            self.depth -= 1
            return Scope(token.text, operand)
        return self.primary()

    def primary(self) -> Node:
        token = self.token
        kind = token.kind
        if kind in ("WORD", "PHRASE", "WORDMARK"):
            return self.term()
        if kind == "REGEX":
            self.advance()
            return Regex(token.text)
        if kind == "NEAR":
            return self.near()
        if kind == "(":
            self.advance()
            if self.token.kind == ")":
                raise self.error("括号内为空", token)
            self.nest()
            node = self.or_()
            self.depth -= 1
            if self.token.kind == ")":
                self.advance()
                return node
            if self.token.kind == ",":
                raise self.error("此处不应有逗号（逗号只用于 near(…) 的参数之间）")
            raise self.error("缺少右括号")
        raise self.error(_EXPECTED_OPERAND)

    def term(self) -> Term:
        word = False
        if self.token.kind == "WORDMARK":
            self.advance()
            word = True
            if self.token.kind not in ("WORD", "PHRASE"):
                raise self.error("w: 后应为词语或短语")
        token = self.advance()
        if token.kind not in ("WORD", "PHRASE"):  # pragma: no cover - callers check
            raise self.error(_EXPECTED_OPERAND, token)
        term = self.terms.get((token.text, word)) or _new_term(self.terms, token.text, word)
        if isinstance(term, str):
            raise RuleSyntaxError(token.column, "短语为空" if term == "词语为空" and token.kind == "PHRASE" else term)
        return term

    def near(self) -> Near:
        self.advance()  # near
        self.advance()  # the "(" that made it a keyword
        left = self.near_argument("第一个")
        self.near_comma()
        right = self.near_argument("第二个")
        self.near_comma()
        token = self.token
        distance = _non_negative_int(token.text) if token.kind == "WORD" else None
        if distance is None:
            raise self.error("near() 的第三个参数应为非负整数")
        self.advance()
        if self.token.kind != ")":
            if self.token.kind == "EOF":
                raise self.error("缺少右括号")
            raise self.error("near() 只有三个参数，此处应为右括号")
        self.advance()
        return Near(left, right, distance)

    def near_argument(self, which: str) -> Term:
        kind = self.token.kind
        if kind in ("WORD", "PHRASE", "WORDMARK"):
            return self.term()
        if kind == "SCOPE":
            raise self.error("near() 的参数不能带字段范围，请写在 near 前面，如 title:near(…)")
        raise self.error(f"near() 的{which}参数应为词语或短语")

    def near_comma(self) -> None:
        kind = self.token.kind
        if kind != ",":
            if kind == "EOF":
                raise self.error("缺少右括号")
            if kind == ")":
                raise self.error("near() 需要三个参数，如 near(化工厂, 泄漏, 10)")
            raise self.error("near() 的参数之间应有逗号")
        self.advance()


def _non_negative_int(text: str) -> int | None:
    digits = normalize_for_matching(text)  # full-width digits are digits too
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        return None
    return int(digits)


# --- the common case -------------------------------------------------------------
#
# A library is thousands of well-formed rules, and reading them token object
# by token object through five levels of recursive descent was most of the
# time a 10,000-rule set took to build. Well-formed text goes through one
# regex scan and one loop instead; whatever that loop is not sure of (any
# error, anything unusual) it declines, and the parser above reads the rule
# again to say exactly what is wrong and where. So this path decides
# nothing on its own: it either builds the tree the parser would build or
# returns None (tests/test_rules_syntax.py checks that on fuzzed text).

# Quoted phrases with their escapes, each opening quote with what may close it.
_PHRASES = "|".join(
    re.escape(opener) + "(?:[^" + re.escape(closers) + "\\\\]|\\\\.)*[" + re.escape(closers) + "]"
    for opener, closers in _QUOTES.items()
)
# One token after optional whitespace: a phrase, a regex, "near(", a word
# (with the colon of a field or w: mark), an operator, or any other single
# character (which the loop declines).
_WELL_FORMED_TOKEN = re.compile(
    "\\s*(" + _PHRASES + "|/(?:[^/\\\\]|\\\\.)*/" + "|(?i:near)[(（]" + "|" + _WORD.pattern + "[:：]?" + "|[^\\s])",
    re.DOTALL,
)
_DECLINE = "declined"
# What a token is, by its first character; None: a word.
_TOKEN_KIND: dict[str, str] = {
    **{char: char for char in "()|&!,"},
    **{twin: ascii_char for twin, ascii_char in _TWINS.items() if ascii_char != ":"},
    **dict.fromkeys(_QUOTES, '"'),
    "/": "/",
    **dict.fromkeys([":", "：", "\x7f", *map(chr, range(32))], _DECLINE),
}
_FIELD_MARKS = frozenset(":：")
_PHRASE_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_PHRASE_CONTROL = re.compile("[\\x00-\\x1f\\x7f]")
_NOT = "!"


def _phrase_escape(match: re.Match[str]) -> str:
    following = match.group(1)
    return following if following == "\\" or following in _QUOTES else match.group(0)


def _new_node(cls: type, name: str) -> Callable[[Any], Any]:
    """A constructor of ``cls`` that sets slot ``name`` without the checks (the loop has made them)."""
    setter = slot_setter(cls, name)
    allocate = object.__new__

    def new(value: Any) -> Any:
        node: Any = allocate(cls)
        setter(node, value)
        return node

    return new


_new_and, _new_or, _new_not = _new_node(And, "operands"), _new_node(Or, "operands"), _new_node(Not, "operand")


def _group(ors: list[Node], ands: list[Node]) -> Node:
    """What a parenthesis (or the rule) holds: the ``|`` of ``ors`` and the ``&`` of ``ands``, each only if needed."""
    last: Node = ands[0] if len(ands) == 1 else _new_and(tuple(ands))
    if ors:
        grouped: Node = _new_or((*ors, last))
        return grouped
    return last


def _term_token(tokens: list[str], index: int, terms: dict[tuple[str, bool], Term]) -> tuple[Term | None, int]:
    """The term written at ``tokens[index]`` (a word or phrase, ``w:`` before it or not), and the index after it.

    None for anything else, or a term that cannot be one.
    """
    count = len(tokens)
    if index >= count:
        return None, index
    token = tokens[index]
    word = token[-1] in _FIELD_MARKS and token[0] not in _TOKEN_KIND
    if word:
        if token[:-1].casefold() != "w" or index + 1 >= count:
            return None, index
        index += 1
        token = tokens[index]
    kind = _TOKEN_KIND.get(token[0])
    if kind is None and token[-1] not in _FIELD_MARKS and token[-1] not in "(（":
        written = token
    elif kind == '"' and len(token) > 1:
        written = token[1:-1]
        if "\\" in written:
            written = _PHRASE_ESCAPE.sub(_phrase_escape, written)
        if _PHRASE_CONTROL.search(written):
            return None, index
    else:
        return None, index
    term = terms.get((written, word)) or _new_term(terms, written, word)
    return (term if isinstance(term, Term) else None), index + 1


def _parse_well_formed(source: str) -> Node | None:
    """The tree of a well-formed rule, built in one loop; None for anything else (see above)."""
    tokens = _WELL_FORMED_TOKEN.findall(source)
    count = len(tokens)
    terms = _term_cache()
    kinds = _TOKEN_KIND
    # The open parentheses: what each interrupted (its | operands, & operands, prefixes).
    stack: list[tuple[list[Node], list[Node], list[str]]] = []
    ors: list[Node] = []
    ands: list[Node] = []
    prefixes: list[str] = []  # "!" and field names waiting for their operand, innermost last
    depth = 0
    expecting = True
    index = 0
    while index < count:
        token = tokens[index]
        kind = kinds.get(token[0])
        if not expecting:
            if kind == "&" or kind == "|":
                if kind == "|":
                    ors.append(_group([], ands))
                    ands = []
                expecting = True
                index += 1
                continue
            if kind == ")":
                if not stack:
                    return None
                node: Node = _group(ors, ands)
                ors, ands, prefixes = stack.pop()
                depth -= 1
                index += 1
            elif kind == ",":
                return None
            else:
                expecting = True  # juxtaposition: an operand after an operand means &
        if expecting:
            last = token[-1]
            field = kind is None and last in _FIELD_MARKS and token[:-1].casefold() != "w"
            if prefixes and prefixes[-1] is not _NOT and (kind == "!" or field):
                return None  # a field's operand is a primary: not !, not another field
            if kind is None and last not in _FIELD_MARKS and last not in "(（":
                # A plain word, most tokens of a library.
                index += 1
                found = terms.get((token, False)) or _new_term(terms, token, False)
                if isinstance(found, str):
                    return None
                node = found
            elif field or kind == "!" or kind == "(":
                if field:
                    name = token[:-1].casefold()
                    if name not in FIELDS:
                        return None
                    prefixes.append(name)
                elif kind == "!":
                    prefixes.append(_NOT)
                else:
                    if index + 1 < count and kinds.get(tokens[index + 1][0]) == ")":
                        return None
                    stack.append((ors, ands, prefixes))
                    ors, ands, prefixes = [], [], []
                depth += 1
                if depth >= MAX_NESTING:
                    return None
                index += 1
                continue
            elif kind is None and last in "(（":
                # near(left, right, distance): a term, a comma, a term, a comma, a number, a parenthesis.
                left, index = _term_token(tokens, index + 1, terms)
                if left is None or index >= count or kinds.get(tokens[index][0]) != ",":
                    return None
                right, index = _term_token(tokens, index + 1, terms)
                if right is None or index + 3 > count or kinds.get(tokens[index][0]) != ",":
                    return None
                distance_token, closing = tokens[index + 1], tokens[index + 2]
                distance = _non_negative_int(distance_token) if kinds.get(distance_token[0]) is None else None
                if distance is None or kinds.get(closing[0]) != ")":
                    return None
                index += 3
                node = Near(left, right, distance)
            elif kind == "/" and len(token) > 1:
                index += 1
                try:
                    node = Regex(token[1:-1].replace("\\/", "/"))
                except ValueError:
                    return None
            else:  # a phrase, or w: and its term
                phrase, index = _term_token(tokens, index, terms)
                if phrase is None:
                    return None
                node = phrase
        # An operand is complete: its prefixes apply to it, innermost first.
        while prefixes:
            prefix = prefixes.pop()
            node = _new_not(node) if prefix is _NOT else Scope(prefix, node)
            depth -= 1
        ands.append(node)
        expecting = False
    if expecting or stack:
        return None
    return _group(ors, ands)


def parse_rule(expression: str) -> Node:
    """Parse a rule expression into its syntax tree.

    >>> parse_rule("(濮阳 | 青禾) & 事故 & !广告")  # doctest: +ELLIPSIS
    And(operands=(Or(...), Term(text='事故', word=False), Not(...)))

    Raises ``RuleSyntaxError`` (with ``.column`` and ``.message``) for
    anything that is not a rule; never any other exception for a string.
    """
    if not isinstance(expression, str):
        raise TypeError("规则应为文本")
    node = _parse_well_formed(expression)
    if node is not None:
        return node
    try:
        return _Parser(expression).rule()
    except RecursionError as exc:  # pragma: no cover - MAX_NESTING keeps the parser well below the limit
        raise RuleSyntaxError(1, f"嵌套太深（最多 {MAX_NESTING} 层）") from exc


# --- printer -------------------------------------------------------------------


def format_rule(node: Node) -> str:
    """The canonical text of a rule: ``parse_rule(format_rule(node)) == node`` for every tree.

    Operators are spelled ``&``, ``|``, ``!`` with spaces around the binary
    ones, parentheses appear only where the tree needs them, terms are
    quoted only when they must be.

    >>> format_rule(parse_rule("（濮阳 ｜青禾） 事故 ！广告"))
    '(濮阳 | 青禾) & 事故 & !广告'
    """
    return _format(node)


def _format(node: Node) -> str:
    if isinstance(node, Term):
        return _format_term(node)
    if isinstance(node, Regex):
        return node.label
    if isinstance(node, Near):
        return f"near({_format_term(node.left)}, {_format_term(node.right)}, {node.distance})"
    if isinstance(node, Not):
        operand = node.operand
        inner = _format(operand)
        return f"!({inner})" if isinstance(operand, (And, Or)) else f"!{inner}"
    if isinstance(node, And):
        return " & ".join(f"({_format(op)})" if isinstance(op, (And, Or)) else _format(op) for op in node.operands)
    if isinstance(node, Or):
        return " | ".join(f"({_format(op)})" if isinstance(op, Or) else _format(op) for op in node.operands)
    if isinstance(node, Scope):
        operand = node.operand
        inner = _format(operand)
        bare = isinstance(operand, (Term, Regex, Near))
        return f"{node.field}:{inner}" if bare else f"{node.field}:({inner})"
    raise TypeError(f"不是规则的语法树节点：{type(node).__name__}")


def _format_term(term: Term) -> str:
    text = term.text
    prefix = "w:" if term.word else ""
    if _is_bare(text):
        return prefix + text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    for quote in "“”‘’":
        escaped = escaped.replace(quote, "\\" + quote)
    return f'{prefix}"{escaped}"'


def _is_bare(text: str) -> bool:
    """Whether ``text`` reads back as the same single WORD token."""
    for char in text:
        if char.isspace() or char in _PUNCTUATION or char < " " or char == "\x7f":
            return False
    # A bare "near" before "(" would be the keyword, but the printer never
    # writes "(" right after a term, so only the word itself matters here.
    return bool(text)
