"""The matching engine: which rules are true for a document, the evidence, offsets, and the API around it."""

from __future__ import annotations

import gc
import pickle
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuqing_core.rules import (
    And,
    MatchText,
    Near,
    Node,
    Not,
    Or,
    Regex,
    RuleMatch,
    RuleSet,
    RuleSetError,
    RuleSyntaxError,
    Scope,
    Term,
    TermHit,
    _words,
    format_rule,
    highlight,
    normalize_for_matching,
)
from yuqing_core.rules._engine import _compile, _new_hit, _new_match
from yuqing_core.rules._words import dictionary_frequencies

DOCUMENT = MatchText(
    title="濮阳县化工厂泄漏",
    text="今天濮阳县人民政府通报，县民政局称3人受伤，化工厂发生泄漏。",
    source="青禾论坛",
)


def keys(rules: RuleSet, document: MatchText) -> list[Any]:
    return [match.key for match in rules.match(document)]


def spans(document: MatchText, match: RuleMatch) -> list[tuple[str, str, str]]:
    """(term, field, original text) of each hit."""
    return [(hit.term, hit.field, getattr(document, hit.field)[hit.start : hit.end]) for hit in match.hits]


# --- semantics, case by case ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "true"),
    [
        ('(濮阳县 | 濮阳) & (事故 | 爆炸 | "化工厂 泄漏") & !广告', True),
        ("濮阳 & 广告", False),
        ("濮阳 & !泄漏", False),
        ("!广告", True),
        ("title:民政", False),
        ("text:民政", True),
        ("title:(化工厂 & 泄漏) & text:受伤", True),
        ("title:(化工厂 & text:受伤)", True),  # the inner scope wins
        ("title:(化工厂 & text:濮阳县化工厂)", False),
        ("source:论坛", True),
        ("论坛", False),  # unscoped terms are not looked for in the source name
        ("source:(青禾 & !微博) & 泄漏", True),
        ("near(化工厂, 泄漏, 2)", True),  # text: 化工厂发生泄漏
        ("text:near(化工厂, 泄漏, 1)", False),
        ("title:near(化工厂, 泄漏, 0)", True),  # adjacent in the title
        ("near(泄漏, 化工厂, 2)", True),  # either order
        ("near(人民政府, 民政局, 5)", True),
        ("near(通报, 通报, 100)", False),  # one occurrence is not a pair
        ("near(濮阳, 濮阳县, 0)", True),  # overlapping occurrences are near
        (r"/\d+人(死亡|受伤)/", True),
        (r"title:/\d+人/", False),
        ("/^今天/", True),
        ("/^濮阳/", True),  # title
        ("/化工厂.{0,3}泄漏/", True),
        ("w:民政", True),  # 县|民政|局
        ("w:人民政府", True),
        ("/政府通报,县/", True),  # regexes see the normalized text (， is ,)
    ],
)
def test_semantics(expression: str, true: bool) -> None:
    rules = RuleSet([("rule", expression)])
    assert keys(rules, DOCUMENT) == (["rule"] if true else [])


def test_matches_come_in_registration_order_with_any_hashable_keys() -> None:
    rules = RuleSet([(("risk", 2), "泄漏"), ("b", "濮阳"), (1, "广告"), (0.5, "化工厂")])
    assert keys(rules, DOCUMENT) == [("risk", 2), "b", 0.5]
    assert rules.keys == (("risk", 2), "b", 1, 0.5)
    assert len(rules) == 4


def test_rules_may_be_a_mapping_and_trees() -> None:
    rules = RuleSet({7: And((Term("濮阳"), Not(Term("广告")))), 8: "广告"})
    assert keys(rules, DOCUMENT) == [7]
    assert rules.rule(7) == And((Term("濮阳"), Not(Term("广告"))))


def test_evidence_is_what_made_the_rule_true() -> None:
    rules = RuleSet(
        [
            ("and-not", "化工厂 & !广告"),
            ("or", "化工厂 | 广告 | 通报"),
            ("near", "near(化工厂, 泄漏, 2)"),
            ("regex", r"/\d+人(死亡|受伤)/"),
            ("word", "w:民政 | 人民政府"),
            ("source", "source:论坛 & title:泄漏"),
            ("nothing", "!广告"),
        ]
    )
    by_key = {match.key: spans(DOCUMENT, match) for match in rules.match(DOCUMENT)}
    assert by_key["and-not"] == [("化工厂", "title", "化工厂"), ("化工厂", "text", "化工厂")]
    assert by_key["or"] == [("化工厂", "title", "化工厂"), ("通报", "text", "通报"), ("化工厂", "text", "化工厂")]
    assert by_key["near"] == [
        ("化工厂", "title", "化工厂"),
        ("泄漏", "title", "泄漏"),
        ("化工厂", "text", "化工厂"),
        ("泄漏", "text", "泄漏"),
    ]
    assert by_key["regex"] == [(r"/\d+人(死亡|受伤)/", "text", "3人受伤")]
    assert by_key["word"] == [("人民政府", "text", "人民政府"), ("w:民政", "text", "民政")]
    assert by_key["source"] == [("泄漏", "title", "泄漏"), ("论坛", "source", "论坛")]
    assert by_key["nothing"] == []


def test_near_reports_only_the_occurrences_that_are_near() -> None:
    rules = RuleSet([("near", "near(化工厂, 泄漏, 2)")])
    document = MatchText(text="化工厂今天检查，化工厂附近泄漏，泄漏已止。化工厂")
    (match,) = rules.match(document)
    assert [(hit.term, hit.start) for hit in match.hits] == [("化工厂", 8), ("泄漏", 13)]


def test_hits_are_deduplicated_and_ordered_by_field_then_position() -> None:
    rules = RuleSet([("r", "(泄漏 | 化工厂) & (化工厂 | 泄漏) & source:青禾")])
    (match,) = rules.match(DOCUMENT)
    assert len(set(match.hits)) == len(match.hits)
    order = {"title": 0, "text": 1, "source": 2}
    assert [(order[h.field], h.start) for h in match.hits] == sorted((order[h.field], h.start) for h in match.hits)


def test_match_many_yields_only_documents_with_matches_by_index() -> None:
    rules = RuleSet([("r", "泄漏")])
    documents = (MatchText(text=text) for text in ["无关", "化工厂泄漏", "", "泄漏了", "广告"])  # a generator works
    results = list(rules.match_many(documents))
    assert [index for index, _ in results] == [1, 3]
    assert all(isinstance(matches, list) and matches[0].key == "r" for _, matches in results)


def test_empty_and_missing_fields() -> None:
    rules = RuleSet([("not", "!广告"), ("regex", "/^$/"), ("term", "a")])
    assert keys(rules, MatchText()) == ["not", "regex"]
    assert keys(rules, MatchText(title=None, text=None, source=None)) == ["not", "regex"]  # type: ignore[arg-type]
    assert keys(RuleSet([]), DOCUMENT) == []


def test_terms_are_every_normalized_term() -> None:
    rules = RuleSet([(1, '(ＡＢＣ | "化工厂 泄漏") & near(發展, w:民政, 3) & /regex文字/'), (2, "abc")])
    assert rules.terms == frozenset({"abc", "化工厂泄漏", "发展", "民政"})


def test_a_field_holding_the_internal_separator_still_matches() -> None:
    rules = RuleSet([("title", "title:泄漏"), ("text", "text:濮阳"), ("near", "near(a, b, 1)")])
    document = MatchText(title="化工\x01厂泄漏", text="濮阳\x01 a\x01b")
    assert keys(rules, document) == ["title", "text", "near"]


# --- errors -----------------------------------------------------------------------------------


def test_every_bad_rule_is_reported_at_once() -> None:
    with pytest.raises(RuleSetError) as caught:
        RuleSet([(1, "濮阳 & 事故"), (2, "(濮阳 | 青禾"), (3, "a &"), (4, "author:x")])
    assert [(key, error.column) for key, error in caught.value.errors] == [(2, 9), (3, 4), (4, 1)]
    assert all(isinstance(error, RuleSyntaxError) for _, error in caught.value.errors)
    assert str(caught.value).splitlines()[:3] == [
        "3 条规则有误：",
        "规则 2：第9列：缺少右括号",
        "规则 3：第4列：此处应为词语、短语、括号或 !",
    ]
    copy = pickle.loads(pickle.dumps(caught.value))
    assert [(key, str(error)) for key, error in copy.errors] == [(key, str(error)) for key, error in caught.value.errors]


def test_duplicate_keys_and_wrong_types_are_refused() -> None:
    with pytest.raises(ValueError, match="规则键重复"):
        RuleSet([(1, "a"), (1, "b")])
    with pytest.raises(TypeError):
        RuleSet([(1, 42)])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        RuleSet([(1, "a", "extra")])  # type: ignore[list-item]


# --- offsets in the original text ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expression", "found"),
    [
        ("型号ＡＢＣ－１２３发布", "abc-123", "ＡＢＣ－１２３"),
        ("今天 化工厂   泄漏 了", '"化工厂泄漏"', "化工厂   泄漏"),
        ("據說化工廠洩漏三人", "化工厂泄漏", "化工廠洩漏"),
        ("據說化工廠洩漏三人", "near(化工厂, 三人, 2)", "化工廠"),
        ("……濮陽縣　化工廠", "濮阳县化工厂", "濮陽縣　化工廠"),
        ("Ｗｅｉｂｏ热搜：青禾", "weibo", "Ｗｅｉｂｏ"),
        ("共３人受傷", r"/\d人受伤/", "３人受傷"),
    ],
)
def test_hits_point_into_the_original_text(text: str, expression: str, found: str) -> None:
    rules = RuleSet([("r", expression)])
    (match,) = rules.match(MatchText(text=text))
    first = match.hits[0]
    assert text[first.start : first.end] == found
    for hit in match.hits:
        term = hit.term[2:] if hit.term.startswith("w:") else hit.term
        if not term.startswith("/"):
            assert normalize_for_matching(text[hit.start : hit.end]) == term


def test_title_offsets_are_title_offsets() -> None:
    rules = RuleSet([("r", "泄漏")])
    document = MatchText(title="Ａ 化工厂泄漏", text="泄漏")
    (match,) = rules.match(document)
    assert [(hit.field, hit.start, hit.end) for hit in match.hits] == [("title", 5, 7), ("text", 0, 2)]


# --- word boundaries --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def word_rules() -> RuleSet:
    return RuleSet([("word", "w:民政"), ("after", "青禾 & w:民政"), ("plain", "民政")])


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("青禾县人民政府发布通知", False),  # 人民|政府: 民政 straddles two words
        ("县民政局发布通知", True),
        ("青禾县民政局", True),
        ("民政部门", True),
        ("市民政务服务中心", False),
        ("民政", True),
    ],
)
def test_word_terms_sit_on_word_boundaries(word_rules: RuleSet, text: str, word: bool) -> None:
    result = keys(word_rules, MatchText(text=text))
    assert ("word" in result) is word
    assert "plain" in result  # the substring is there either way


class _CountingSegmenter:
    """Counts the texts the engine asks jieba to segment."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        original = _words.WordSegmenter.boundaries

        def boundaries(segmenter: _words.WordSegmenter, text: str) -> frozenset[int]:
            self.texts.append(text)
            return original(segmenter, text)

        monkeypatch.setattr(_words.WordSegmenter, "boundaries", boundaries)


def test_jieba_only_sees_fields_where_a_word_term_was_found(word_rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = _CountingSegmenter(monkeypatch)
    assert keys(word_rules, MatchText(title="青禾县化工厂泄漏", text="今天政府通报")) == []
    assert counter.texts == []  # no 民政 anywhere: no segmentation
    keys(word_rules, MatchText(title="县政府通报", text="县民政局称"))
    assert counter.texts == ["县民政局称"]  # only the text held 民政, and it is segmented once for both rules
    counter.texts.clear()
    keys(RuleSet([("lazy", "青禾 & w:民政")]), MatchText(text="县民政局称"))
    assert counter.texts == []  # 青禾 is missing: the w: term never needed deciding


def test_library_terms_and_user_words_steer_the_segmentation() -> None:
    rules = RuleSet([("r", "w:禾城")], user_words=["青禾城关镇"])
    assert keys(rules, MatchText(text="禾城中学")) == ["r"]
    assert keys(rules, MatchText(text="青禾城关镇")) == []  # a user word the term only sits inside


# --- highlight --------------------------------------------------------------------------------


def test_highlight_marks_the_hits_of_one_field() -> None:
    rules = RuleSet([("r", "(濮阳县 | 濮阳) & 化工厂 & 泄漏 & /\\d+人(死亡|受伤)/")])
    (match,) = rules.match(DOCUMENT)
    assert highlight(DOCUMENT.title, match.hits, "title") == "【濮阳县】【化工厂】【泄漏】"
    assert (
        highlight(DOCUMENT.text, match.hits, "text")
        == "今天【濮阳县】人民政府通报，县民政局称【3人受伤】，【化工厂】发生【泄漏】。"
    )
    assert highlight(DOCUMENT.text, match.hits, "text", mark=("<b>", "</b>")).startswith("今天<b>濮阳县</b>")


def test_highlight_merges_overlaps_and_ignores_empty_spans() -> None:
    hits = [TermHit("b", "text", 1, 3), TermHit("c", "text", 2, 5), TermHit("e", "text", 5, 6), TermHit("x", "text", 7, 7)]
    assert highlight("abcdefgh", hits, "text") == "a【bcde】【f】gh"
    assert highlight("abc", [TermHit("a", "title", 0, 1)], "text") == "abc"
    assert highlight("abc", [TermHit("a", "text", 2, 99)], "text") == "ab【c】"


# --- against a naive reference ---------------------------------------------------------------

SCOPE_FIELDS = {"any": ("title", "text"), "title": ("title",), "text": ("text",), "source": ("source",)}


def occurrences(text: str, term: str) -> Iterator[int]:
    start = text.find(term)
    while start >= 0:
        yield start
        start = text.find(term, start + 1)


def reference(node: Node, fields: dict[str, str], rules: RuleSet, scope: str = "any") -> bool:
    """Straightforward recursive evaluation with str.find over each normalized field."""

    def starts(field: str, term: Term) -> list[int]:
        found = list(occurrences(fields[field], term.text))
        if term.word and found:
            bounds = rules._segmenter.boundaries(fields[field])
            found = [s for s in found if s in bounds and s + len(term.text) in bounds]
        return found

    if isinstance(node, Term):
        return any(starts(field, node) for field in SCOPE_FIELDS[scope])
    if isinstance(node, Scope):
        return reference(node.operand, fields, rules, node.field)
    if isinstance(node, Not):
        return not reference(node.operand, fields, rules, scope)
    if isinstance(node, And):
        return all(reference(operand, fields, rules, scope) for operand in node.operands)
    if isinstance(node, Or):
        return any(reference(operand, fields, rules, scope) for operand in node.operands)
    if isinstance(node, Regex):
        return any(re.search(node.pattern, fields[field], re.IGNORECASE) for field in SCOPE_FIELDS[scope])
    if isinstance(node, Near):
        left, right = node.left, node.right
        for field in SCOPE_FIELDS[scope]:
            for a in starts(field, left):
                for b in starts(field, right):
                    if left.text == right.text and a == b:
                        continue
                    gap = b - (a + len(left.text)) if a <= b else a - (b + len(right.text))
                    if gap <= node.distance:
                        return True
        return False
    raise AssertionError(node)


TERM_TEXTS = st.text(alphabet="甲乙丙丁发aア ", min_size=1, max_size=3).map(normalize_for_matching).filter(bool)
TERMS = st.builds(Term, TERM_TEXTS, st.booleans())
REGEXES = st.sampled_from(["甲.乙", "[甲乙]{2}", "^甲", "丁$", "a+", "发", "乙 ?丙", "x"])
LEAVES = st.one_of(TERMS, TERMS, st.builds(Regex, REGEXES), st.builds(Near, TERMS, TERMS, st.integers(min_value=0, max_value=4)))
RULES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.builds(Not, children),
        st.builds(And, st.lists(children, min_size=2, max_size=3).map(tuple)),
        st.builds(Or, st.lists(children, min_size=2, max_size=3).map(tuple)),
        st.builds(Scope, st.sampled_from(["title", "text", "source"]), children),
    ),
    max_leaves=6,
)
TEXTS = st.text(alphabet="甲乙丙丁发發aＡA ，\u3000\nｱア….", max_size=40)
DOCUMENTS = st.builds(
    MatchText, st.text(alphabet="甲乙丙丁发發aＡA ，", max_size=12), TEXTS, st.text(alphabet="甲乙发發a", max_size=5)
)


@pytest.fixture(scope="module")
def shared_tokenizer() -> Iterator[None]:
    """One jieba tokenizer for all generated rule sets (each would otherwise load the dictionary)."""
    tokenizer = _words.WordSegmenter(["甲乙", "乙丙", "丙丁甲"])._load()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_words.WordSegmenter, "_load", lambda self: tokenizer)
        yield


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(RULES, min_size=1, max_size=6), st.lists(DOCUMENTS, min_size=1, max_size=4))
def test_rule_set_agrees_with_a_naive_reference(shared_tokenizer: None, nodes: list[Node], documents: list[MatchText]) -> None:
    rules = RuleSet(list(enumerate(nodes)))
    many = dict(rules.match_many(documents))
    for index, document in enumerate(documents):
        fields = {field: normalize_for_matching(getattr(document, field)) for field in ("title", "text", "source")}
        expected = [key for key, node in enumerate(nodes) if reference(node, fields, rules)]
        matches = rules.match(document)
        assert [match.key for match in matches] == expected, [format_rule(nodes[k]) for k in expected]
        assert many.get(index, []) == matches
        for match in matches:
            for hit in match.hits:
                original = getattr(document, hit.field)
                assert 0 <= hit.start <= hit.end <= len(original)
                piece = normalize_for_matching(original[hit.start : hit.end])
                if hit.term.startswith("/"):
                    assert re.fullmatch(hit.term[1:-1], piece, re.IGNORECASE), (hit, piece)
                else:
                    assert piece == hit.term.removeprefix("w:"), (hit, original)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(RULES, min_size=1, max_size=6), st.lists(DOCUMENTS, min_size=1, max_size=6))
def test_term_statistics_change_speed_not_results(shared_tokenizer: None, nodes: list[Node], documents: list[MatchText]) -> None:
    plain = RuleSet(list(enumerate(nodes)))
    tuned = RuleSet(list(enumerate(nodes)), term_frequencies=plain.term_frequencies(documents))
    assert list(plain.match_many(documents)) == list(tuned.match_many(documents))


# Rules of the usual shape (groups of terms, some negated) go through the
# matching loop's inlined checks and the shared per-document hits; every
# rule can also go through its compiled evaluator and the general evidence
# collector. Both must give the same matches and the same hits.
GROUPS = st.lists(TERM_TEXTS.map(Term), min_size=1, max_size=3).map(
    lambda terms: terms[0] if len(terms) == 1 else Or(tuple(terms))
)
USUAL_RULES = st.one_of(
    st.builds(
        lambda present, absent: And(tuple(present) + tuple(Not(group) for group in absent)),
        st.lists(GROUPS, min_size=2, max_size=3),
        st.lists(GROUPS, max_size=2),
    ),
    RULES,
)


def through_general_path(rules: RuleSet, nodes: list[Node]) -> RuleSet:
    """``rules`` with every rule evaluated by its closures and explained by the general collector."""
    general = object.__new__(RuleSet)
    general.__dict__.update(vars(rules))  # the same automaton and index, without building them again
    compiled = [_compile(node, "any", general) for node in nodes]
    general._evaluators = [rule.evaluate for rule in compiled]
    general._explainers = [(lambda explain: lambda scan: scan.hits(explain))(rule.explain_known_true) for rule in compiled]
    general._plain = [None] * len(nodes)
    general._evidence = [None] * len(nodes)
    return general


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(USUAL_RULES, min_size=1, max_size=6), st.lists(DOCUMENTS, min_size=1, max_size=4))
def test_inlined_rules_match_and_explain_like_the_general_path(
    shared_tokenizer: None, nodes: list[Node], documents: list[MatchText]
) -> None:
    rules = RuleSet(list(enumerate(nodes)))
    assert list(rules.match_many(documents)) == list(through_general_path(rules, nodes).match_many(documents))


def test_term_frequencies_are_shares_of_documents() -> None:
    rules = RuleSet([(1, "泄漏 & 化工廠")])
    documents = [MatchText(text="化工厂泄漏"), MatchText(title="泄漏"), MatchText(text="无关"), MatchText(text="泄 漏")]
    assert rules.term_frequencies(documents) == {"泄漏": 0.75, "化工厂": 0.25}
    assert rules.term_frequencies([]) == {}


# --- how the work is avoided ------------------------------------------------------------------


def test_a_regex_runs_only_when_its_literals_were_found() -> None:
    rules = RuleSet([("r", r"/\d+人(死亡|受伤)/")])
    pattern = next(iter(rules._regexes))
    searched: list[str] = []

    class Spy:
        def __init__(self, compiled: re.Pattern[str]) -> None:
            self.compiled = compiled

        def search(self, text: str) -> Any:
            searched.append(text)
            return self.compiled.search(text)

        def finditer(self, text: str) -> Any:
            return self.compiled.finditer(text)

    rules._regexes[pattern] = Spy(rules._regexes[pattern])  # type: ignore[assignment]
    assert keys(rules, MatchText(text="今天3人被困")) == []
    assert searched == []
    assert keys(rules, MatchText(text="今天3人受伤")) == ["r"]
    assert searched == ["今天3人受伤"]


def test_rules_without_required_terms_are_evaluated_everywhere() -> None:
    rules = RuleSet([("not", "!广告"), ("regex", "/x*/"), ("either", "a | !b")])
    assert rules._always == frozenset({0, 1, 2})
    assert keys(rules, MatchText(text="无关")) == ["not", "regex", "either"]


def test_object_shortcuts_equal_the_dataclasses() -> None:
    assert _new_hit("a", "text", 1, 2) == TermHit("a", "text", 1, 2)
    assert hash(_new_hit("a", "text", 1, 2)) == hash(TermHit("a", "text", 1, 2))
    assert _new_match(3, ()) == RuleMatch(3, ())


# --- sharing a rule set between threads -----------------------------------------------------------


def test_one_rule_set_serves_many_threads() -> None:
    rules = RuleSet(
        [(i, expression) for i, expression in enumerate(["w:民政 & 局", "濮阳 & !广告", "near(化工厂, 泄漏, 3)", "source:论坛"])]
    )
    documents = [
        MatchText(title=f"第{i}条", text=text, source="青禾论坛" if i % 2 else "微博")
        for i, text in enumerate(["县民政局称", "濮阳县化工厂发生泄漏", "人民政府", "广告：濮阳"] * 25)
    ]
    expected = list(RuleSet(list(enumerate(rules._nodes))).match_many(documents))  # a fresh set, used by one thread
    results: list[list[tuple[int, list[RuleMatch]]]] = []
    lock = threading.Lock()

    def work() -> None:
        found = list(rules.match_many(documents))
        with lock:
            results.append(found)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(found == expected for found in results)


# --- without OpenCC -----------------------------------------------------------------------------


def test_without_opencc_traditional_text_is_matched_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from yuqing_core.rules import _normalize

    monkeypatch.setitem(sys.modules, "opencc", None)
    monkeypatch.setattr(_normalize, "_NORMALIZER", _normalize._UNLOADED)
    rules = RuleSet([("simplified", "发展"), ("traditional", "發展"), ("width", "abc")])
    assert keys(rules, MatchText(text="經濟發展 ＡＢＣ")) == ["traditional", "width"]
    assert keys(rules, MatchText(text="经济发展")) == ["simplified"]


def test_a_rule_set_pickles_by_its_rules() -> None:
    rules = RuleSet([(1, "化工厂 & 泄漏"), ("w", "w:民政")], user_words=["青禾县"], term_frequencies={"泄漏": 0.5})
    copy = pickle.loads(pickle.dumps(rules))
    assert copy.keys == rules.keys and copy.rule(1) == rules.rule(1)
    assert copy.match(DOCUMENT) == rules.match(DOCUMENT)
    with pytest.raises(KeyError):
        rules.rule("missing")


def test_normalization_is_skipped_when_it_cannot_matter(monkeypatch: pytest.MonkeyPatch) -> None:
    from yuqing_core.rules import _engine

    normalized: list[tuple[str, str]] = []
    original = _engine.normalize_fields

    def spy(title: str, text: str) -> str:
        normalized.append((title, text))
        return original(title, text)

    monkeypatch.setattr(_engine, "normalize_fields", spy)
    rules = RuleSet([("r", "化工厂泄漏 & !广告")])
    for text in ["今天，化工厂泄漏！", "今天\n化工厂 泄漏\n\n记者 ＡＢＣ"]:  # full-width punctuation, paragraphs, spaces
        assert keys(rules, MatchText(title="通报", text=text)) == ["r"]
    assert normalized == []
    assert keys(rules, MatchText(text="化工廠洩漏")) == ["r"]  # traditional characters do need it
    assert normalized == [("", "化工廠洩漏")]


def test_a_term_that_is_also_a_sentinel_still_sends_the_text_to_normalization() -> None:
    # 坏 is a word, and part of phrases OpenCC rewrites (打坏 -> 打坯): the normal form decides.
    rules = RuleSet([("r", "坏")])
    assert keys(rules, MatchText(text="坏了")) == ["r"]
    assert normalize_for_matching("打坏了") == "打坯了"  # OpenCC is part of the test install (the traditional extra)
    assert keys(rules, MatchText(text="打坏了")) == []  # matched on the normal form, which has no 坏


def test_building_leaves_the_garbage_collector_as_it_found_it() -> None:
    # A build switches cyclic collection off for its duration (see _bulk_allocation).
    assert gc.isenabled()
    RuleSet([("a", "甲 & 乙")])
    assert gc.isenabled()
    with pytest.raises(RuleSetError):
        RuleSet([("a", "甲 &")])
    assert gc.isenabled()
    gc.disable()
    try:
        RuleSet([("a", "甲 & 乙")])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_dictionary_frequencies_are_jiebas_reference_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_words, "_CORPUS_COUNTS", {})
    words = ["村民", "化工厂", "青禾镇不存在的词", "村", "民", "\ud800", "a b", "甲\n乙"]
    # Counts as jieba's dict.txt has them ("村民 1213 n"); a prefix or a part of an
    # entry is not the entry, and what the dictionary lacks is left out.
    expected = {"村民": 1213, "化工厂": 121}
    assert {word: count for word, count in dictionary_frequencies(words).items() if word in expected} == expected
    assert not {"青禾镇不存在的词", "\ud800", "a b", "甲\n乙"} & set(dictionary_frequencies(words))
    # Remembered: a second call reads no dictionary.
    monkeypatch.setattr(_words, "_read_counts", lambda missing: pytest.fail(f"read again for {missing}"))
    assert dictionary_frequencies(["村民"]) == {"村民": 1213}
