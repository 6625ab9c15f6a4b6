"""The rule language: what parses to what, what is refused and where, and that printing round-trips."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuqing_core.rules import (
    MAX_NESTING,
    And,
    Near,
    Not,
    Or,
    Regex,
    RuleSyntaxError,
    Scope,
    Term,
    _syntax,
    format_rule,
    parse_rule,
)

A, B, C, D = Term("a"), Term("b"), Term("c"), Term("d")


# --- what parses to what ---------------------------------------------------------

PARSES = [
    ("濮阳", Term("濮阳")),
    ('"化工厂 泄漏"', Term("化工厂泄漏")),  # the space between CJK characters goes in normalization
    ('"iphone  15"', Term("iphone 15")),
    ("a & b", And((A, B))),
    ("a | b", Or((A, B))),
    ("!a", Not(A)),
    ("!!a", Not(Not(A))),
    # precedence: ! binds tighter than &, & tighter than |
    ("a | b & c", Or((A, And((B, C))))),
    ("a & b | c", Or((And((A, B)), C))),
    ("!a & b", And((Not(A), B))),
    ("!a | b", Or((Not(A), B))),
    ("!(a | b)", Not(Or((A, B)))),
    ("a | b c & !d", Or((A, And((B, C, Not(D)))))),
    # chains are flat; written parentheses keep their grouping
    ("a & b & c", And((A, B, C))),
    ("a & (b & c)", And((A, And((B, C))))),
    ("(a & b) & c", And((And((A, B)), C))),
    ("a | b | c", Or((A, B, C))),
    ("(a)", A),
    ("((a))", A),
    # juxtaposition is &
    ("濮阳 事故", And((Term("濮阳"), Term("事故")))),
    ("a b | c", Or((And((A, B)), C))),
    ("a (b | c)", And((A, Or((B, C))))),
    ("a !b", And((A, Not(B)))),
    ('a"b c"', And((A, Term("b c")))),
    ("a /x/", And((A, Regex("x")))),
    # full-width punctuation is its ASCII twin
    ("（a ｜ b） ＆ ！c", And((Or((A, B)), Not(C)))),
    ("“化工厂 泄漏”", Term("化工厂泄漏")),
    ("‘a b’", Term("a b")),
    ("title：拆迁", Scope("title", Term("拆迁"))),
    ("near（a，b，3）", Near(A, B, 3)),
    # terms are normalized: full-width, case, traditional
    ("ＡＢＣ", Term("abc")),
    ("ABC", Term("abc")),
    ("發展", Term("发展")),
    # escapes in phrases
    (r'"a\"b"', Term('a"b')),
    (r'"a\\b"', Term("a\\b")),
    (r'"a\tb"', Term("a\\tb")),  # an unknown escape is kept as written
    ('"a|b&!c(d)"', Term("a|b&!c(d)")),
    ('"他说“好”"', Term("他说“好”")),
    # field scopes
    ("title:拆迁", Scope("title", Term("拆迁"))),
    ("TITLE:拆迁", Scope("title", Term("拆迁"))),
    ("title: 拆迁", Scope("title", Term("拆迁"))),
    ('text:"a b"', Scope("text", Term("a b"))),
    ("source:论坛", Scope("source", Term("论坛"))),
    ("title:(拆迁) & 上访", And((Scope("title", Term("拆迁")), Term("上访")))),
    ("title:(a | b)", Scope("title", Or((A, B)))),
    ("title:(a | text:b)", Scope("title", Or((A, Scope("text", B))))),
    ("title:(text:a)", Scope("title", Scope("text", A))),
    ("title:/x/", Scope("title", Regex("x"))),
    ("title:near(a, b, 1)", Scope("title", Near(A, B, 1))),
    ("title:w:民政", Scope("title", Term("民政", word=True))),
    ("!title:a", Not(Scope("title", A))),
    # word boundaries
    ("w:民政", Term("民政", word=True)),
    ('w:"县 民政"', Term("县民政", word=True)),
    ("W:民政", Term("民政", word=True)),
    # near
    ("near(化工厂, 泄漏, 10)", Near(Term("化工厂"), Term("泄漏"), 10)),
    ('near("化工厂 泄漏", w:爆炸, 0)', Near(Term("化工厂泄漏"), Term("爆炸", word=True), 0)),
    ("NEAR(a, b, １０)", Near(A, B, 10)),
    ("near", Term("near")),  # a keyword only right before "("
    ("near (a)", And((Term("near"), A))),
    ("near & b", And((Term("near"), B))),
    # regular expressions
    (r"/\d+人(死亡|受伤)/", Regex(r"\d+人(死亡|受伤)")),
    (r"/a\/b/", Regex("a/b")),
    (r"/a\\/", Regex("a\\\\")),
    (r"/\//", Regex("/")),
    # words hold anything else, including characters of other languages and symbols
    ("c++ & c#", And((Term("c++"), Term("c#")))),
    ("a.b-c_d", Term("a.b-c_d")),
    ("a\\b", Term("a\\b")),
    ("it's", Term("it's")),
    # whitespace of every kind separates
    ("a\n&\tb\u3000|\u00a0c", Or((And((A, B)), C))),
]


@pytest.mark.parametrize(("expression", "expected"), PARSES)
def test_parses(expression: str, expected: object) -> None:
    assert parse_rule(expression) == expected


@pytest.mark.parametrize(("expression", "expected"), PARSES)
def test_prints_canonically_and_reads_back(expression: str, expected: object) -> None:
    node = parse_rule(expression)
    text = format_rule(node)
    assert parse_rule(text) == node
    assert format_rule(parse_rule(text)) == text


@pytest.mark.parametrize(
    ("expression", "canonical"),
    [
        ("（濮阳 ｜青禾） 事故 ！广告", "(濮阳 | 青禾) & 事故 & !广告"),
        ('(濮阳县 | 濮阳) & (事故 | 爆炸 | "化工厂 泄漏") & !广告', "(濮阳县 | 濮阳) & (事故 | 爆炸 | 化工厂泄漏) & !广告"),
        ("a & (b & c)", "a & (b & c)"),
        ("(a | b) | c", "(a | b) | c"),
        ("!(a & b)", "!(a & b)"),
        ("title:(a)", "title:a"),
        ("title:(!a)", "title:(!a)"),
        ('"a b" | "a:b" | "x/y" | "near"', '"a b" | "a:b" | "x/y" | near'),
        (r'"say \"hi\" \\ bye"', r'"say \"hi\" \\ bye"'),
        ("w:“县 民政”", "w:县民政"),
        (r"/a\/b/", r"/a\/b/"),
        ("near（a，b，3）", "near(a, b, 3)"),
    ],
)
def test_canonical_text(expression: str, canonical: str) -> None:
    assert format_rule(parse_rule(expression)) == canonical


def test_trees_are_hashable_values() -> None:
    first, second = parse_rule("(a | b) & !c"), parse_rule("（a｜b）！c")
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second, parse_rule("a")}) == 2
    with pytest.raises(AttributeError):
        first.operands = ()  # type: ignore[misc]


def test_tree_constructors_check_their_arguments() -> None:
    with pytest.raises(ValueError, match="词语为空"):
        Term("   ")
    with pytest.raises(ValueError, match="控制字符"):
        Term("a\x01b")
    with pytest.raises(ValueError, match="非负整数"):
        Near(A, B, -1)
    with pytest.raises(ValueError, match="非负整数"):
        Near(A, B, True)
    with pytest.raises(TypeError):
        Near(A, "b", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="至少需要两个"):
        And((A,))
    with pytest.raises(TypeError):
        Or((A, "b"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="未知的字段"):
        Scope("author", A)
    with pytest.raises(ValueError, match="正则表达式有误"):
        Regex("(")
    assert Regex(r"a\/b") == Regex("a/b")
    assert And([A, B]) == And((A, B))
    assert Term("ＡＢＣ") == Term("abc")


# --- what is refused, and where ---------------------------------------------------------

ERRORS = [
    ("", 1, "规则为空"),
    ("   ", 1, "规则为空"),
    ("(濮阳县 | 濮阳 & 事故", 15, "缺少右括号"),
    ("((a | b) & c", 13, "缺少右括号"),
    ("a &", 4, "此处应为词语、短语、括号或 !"),
    ("a & ", 4, "此处应为词语、短语、括号或 !"),
    ("a & & b", 5, "此处应为词语、短语、括号或 !"),
    ("| a", 1, "此处应为词语、短语、括号或 !"),
    ("a | )", 5, "此处应为词语、短语、括号或 !"),
    ("!", 2, "此处应为词语、短语、括号或 !"),
    ("a )", 3, "多余的右括号"),
    ("(a))", 4, "多余的右括号"),
    ("()", 1, "括号内为空"),
    ("a & ()", 5, "括号内为空"),
    ("a , b", 3, "此处不应有逗号（逗号只用于 near(…) 的参数之间）"),
    ("(a , b)", 4, "此处不应有逗号（逗号只用于 near(…) 的参数之间）"),
    ('"abc', 1, "短语缺少结尾的引号"),
    ('a & "abc\\"', 5, "短语缺少结尾的引号"),
    ("“abc", 1, "短语缺少结尾的引号"),
    ('""', 1, "短语为空"),
    ('" \t"', 1, "短语为空"),
    ("/abc", 1, "正则表达式缺少结尾的 /（要找 / 本身请加引号）"),
    ("事故/爆炸", 3, "正则表达式缺少结尾的 /（要找 / 本身请加引号）"),
    ("//", 1, "正则表达式为空"),
    ("/(/", 2, "正则表达式有误：圆括号没有闭合（missing ), unterminated subpattern）"),
    ("a & /x[/", 7, "正则表达式有误：方括号没有闭合（unterminated character set）"),
    ("a & /(a+)+$/", 6, "正则表达式可能极慢：重复的部分里又有不限次数的重复（如 (a+)+），请改写，例如 a+"),
    ("/(a*)*/", 2, "正则表达式可能极慢：重复的部分里又有不限次数的重复（如 (a+)+），请改写，例如 a+"),
    ("/(?:\\d+\\s*){2,}/", 2, "正则表达式可能极慢：重复的部分里又有不限次数的重复（如 (a+)+），请改写，例如 a+"),
    (
        "/(a|aa)+$/",
        2,
        "正则表达式可能极慢：不限次数重复的部分能以不止一种方式切分同一段文字（如 (a|aa)+、(x?x)+），请改写，例如 a+",
    ),
    (
        "a | /(x?x)+/",
        6,
        "正则表达式可能极慢：不限次数重复的部分能以不止一种方式切分同一段文字（如 (a|aa)+、(x?x)+），请改写，例如 a+",
    ),
    (
        "/(\\d|1x)*/",
        2,
        "正则表达式可能极慢：不限次数重复的部分能以不止一种方式切分同一段文字（如 (a|aa)+、(x?x)+），请改写，例如 a+",
    ),
    ("/(x)\\1/", 2, "正则表达式不支持反向引用（如 \\1、(?P=name)）：匹配可能极慢"),
    ("/(?P<x>a)(?P=x)/", 2, "正则表达式不支持反向引用（如 \\1、(?P=name)）：匹配可能极慢"),
    ("near(a, b, -1)", 12, "near() 的第三个参数应为非负整数"),
    ("near(a, b, x)", 12, "near() 的第三个参数应为非负整数"),
    ("near(a, b, 1.5)", 12, "near() 的第三个参数应为非负整数"),
    ("near(a, b, )", 12, "near() 的第三个参数应为非负整数"),
    ("near(a, b)", 10, "near() 需要三个参数，如 near(化工厂, 泄漏, 10)"),
    ("near(a b 3)", 8, "near() 的参数之间应有逗号"),
    ("near(a, b, 3", 13, "缺少右括号"),
    ("near(a, b, 3, 4)", 13, "near() 只有三个参数，此处应为右括号"),
    ("near()", 6, "near() 的第一个参数应为词语或短语"),
    ("near(/x/, b, 3)", 6, "near() 的第一个参数应为词语或短语"),
    ("near(a, (b), 3)", 9, "near() 的第二个参数应为词语或短语"),
    ("near(title:a, b, 3)", 6, "near() 的参数不能带字段范围，请写在 near 前面，如 title:near(…)"),
    ("title:!a", 7, "title: 后应为词语、短语、正则表达式、near(…) 或括号"),
    ("title:", 7, "title: 后应为词语、短语、正则表达式、near(…) 或括号"),
    ("title:text:a", 7, "title: 后应为词语、短语、正则表达式、near(…) 或括号"),
    ("w:(a)", 3, "w: 后应为词语或短语"),
    ("w:", 3, "w: 后应为词语或短语"),
    ("w:title:a", 3, "w: 后应为词语或短语"),
    (":a", 1, "冒号前应为字段名 title、text 或 source（或 w 表示按词匹配）；要找冒号本身请加引号"),
    ("a\x01b", 2, "规则中不能含控制字符（U+0001）"),
    ('"a\x00"', 3, "规则中不能含控制字符（U+0000）"),
]


@pytest.mark.parametrize(("expression", "column", "message"), ERRORS)
def test_errors_name_column_and_problem(expression: str, column: int, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(expression)
    assert (caught.value.column, caught.value.message) == (column, message)
    assert str(caught.value) == f"第{column}列：{message}"


@pytest.mark.parametrize(("expression", "column"), [("author:张三", 1), ("a & 作者：张三", 5), ("http://example.com", 1)])
def test_unknown_field_names_the_allowed_ones(expression: str, column: int) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(expression)
    assert caught.value.column == column
    assert caught.value.message.startswith("未知的字段「")
    for field in ("title:", "text:", "source:"):
        assert field in caught.value.message


def test_regex_error_points_into_the_pattern() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(r"青禾 & /\d+(人/")
    assert caught.value.column == len(r"青禾 & /\d+(") and "圆括号没有闭合" in caught.value.message


def test_nesting_is_bounded() -> None:
    deep = "(" * (MAX_NESTING - 1) + "a" + ")" * (MAX_NESTING - 1)
    assert parse_rule(deep) == A
    for expression in ("(" * 5000 + "a" + ")" * 5000, "!" * 5000 + "a", "title:(" * 3000 + "a" + ")" * 3000):
        with pytest.raises(RuleSyntaxError) as caught:
            parse_rule(expression)
        assert "嵌套太深" in caught.value.message


def test_error_survives_pickling() -> None:
    error = RuleSyntaxError(3, "此处应为词语、短语、括号或 !")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.column, copy.message, str(copy)) == (3, error.message, "第3列：此处应为词语、短语、括号或 !")


def test_non_text_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_rule(None)  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------

# Characters that stress the printer: operators, quotes, backslashes, slashes,
# full-width twins, whitespace, CJK, keywords' letters.
TERM_ALPHABET = '甲乙丙丁濮阳abcnearwtitlsouxABC01 ()|&!,:"/\\“”‘’（）｜＆！，：　發ａＢ～'
REGEXES = [r"\d+人", "a/b", r"a\/b", "[甲乙]+丙", "^甲", "丁$", r"\\", "(死亡|受伤)", "x{2,3}", "."]


def _term(draw_text: st.SearchStrategy[str]) -> st.SearchStrategy[Term]:
    def build(text: str, word: bool) -> Term | None:
        try:
            return Term(text, word=word)
        except ValueError:
            return None

    return st.builds(build, draw_text, st.booleans()).filter(lambda term: term is not None)  # type: ignore[return-value]


TERMS = _term(st.text(alphabet=TERM_ALPHABET, min_size=1, max_size=6))
LEAVES = st.one_of(
    TERMS,
    st.builds(Regex, st.sampled_from(REGEXES)),
    st.builds(Near, TERMS, TERMS, st.integers(min_value=0, max_value=50)),
)


def _extend(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    operands = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(
        st.builds(Not, children),
        st.builds(And, operands),
        st.builds(Or, operands),
        st.builds(Scope, st.sampled_from(["title", "text", "source"]), children),
    )


TREES = st.recursive(LEAVES, _extend, max_leaves=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(TREES)
def test_printing_round_trips_every_tree(node: object) -> None:
    text = format_rule(node)  # type: ignore[arg-type]
    assert parse_rule(text) == node


FUZZ_ALPHABET = '()|&!,:"/\\ \t\n甲乙丙a b near title text source w （）｜＆！，：“”‘’ 　\x01ＡＢ發*+?[]{}.^$-1'


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.text(alphabet=FUZZ_ALPHABET, max_size=40), st.text(max_size=40)))
def test_any_text_parses_or_raises_rule_syntax_error(expression: str) -> None:
    try:
        node = parse_rule(expression)
    except RuleSyntaxError as error:
        assert 1 <= error.column <= len(expression) + 1
        assert error.message
        return
    assert parse_rule(format_rule(node)) == node


def _read_step_by_step(expression: str) -> object:
    """What the token-by-token parser makes of ``expression``: its tree, or its error."""
    try:
        return _syntax._Parser(expression).rule()
    except RuleSyntaxError as error:
        return error


# The common case has a one-loop reader (_parse_well_formed) that builds the
# tree or declines; the token-by-token parser then reads the rule again.
# Whatever the one loop accepts must be the same tree, and it must decline
# every rule that is an error.
@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(alphabet=FUZZ_ALPHABET, max_size=40), st.text(max_size=40)))
def test_one_loop_reader_builds_the_parsers_tree_or_declines(expression: str) -> None:
    expected = _read_step_by_step(expression)
    node = _syntax._parse_well_formed(expression)
    if node is not None:
        assert node == expected
        assert isinstance(node, type(expected))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(TREES)
def test_one_loop_reader_reads_every_printed_tree(node: object) -> None:
    text = format_rule(node)  # type: ignore[arg-type]
    assert _syntax._parse_well_formed(text) == node


@pytest.mark.parametrize(
    "expression",
    [
        "(濮阳 | 青禾) & 化工厂 & (泄漏 | 爆炸) & !(演练 | 广告)",
        'title:(甲 | !乙) & near(w:丙, "丁 戊", 3)',
        "NEAR（甲，乙，１０） ！广告",
        'source:甲 & text:/\\d+人(死亡|受伤)/ & "a\\"b" & ‘引号’',
        "w:“民政” | (((甲)))",
    ],
)
def test_one_loop_reader_takes_the_common_forms(expression: str) -> None:
    node = _syntax._parse_well_formed(expression)
    assert node is not None
    assert node == _read_step_by_step(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "甲 &",
        "(甲",
        "甲)",
        "()",
        "title:!甲",
        "title:text:甲",
        "w:(甲)",
        "near(甲, 乙)",
        "甲 : 乙",
        '"甲',
        "/甲",
        "甲\x01",
        "near(甲, 乙, -1)",
        "near(title:甲, 乙, 1)",
        "甲, 乙",
        "w:near(甲, 乙, 1)",
        "/(/",
        '""',
        "!" * 120 + "甲",
    ],
)
def test_one_loop_reader_declines_errors(expression: str) -> None:
    assert _syntax._parse_well_formed(expression) is None
    with pytest.raises(RuleSyntaxError):
        parse_rule(expression)


@pytest.mark.parametrize("pattern", ["(ab|a)+", "(死亡|受伤)+", "(.|\\n)*", "(\\w|\\d)+", "(a|ab)*c", "\\d+人(死亡|受伤)",
                                     "(化工|化学)(园区)?泄漏+", "(https?:\\/\\/)?\\S+"])  # fmt: skip
def test_repeats_that_split_text_one_way_only_are_accepted(pattern: str) -> None:
    """Only an unbounded repeat that can split one run of text several ways is refused; these cannot."""
    assert parse_rule(f"/{pattern}/") is not None
