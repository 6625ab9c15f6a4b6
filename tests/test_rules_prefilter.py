"""Literal strings a regular expression cannot match without: the prefilter must never drop a match."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from yuqing_core.rules._ast import REGEX_FLAGS
from yuqing_core.rules._prefilter import required_literals


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\d+人(死亡|受伤)", [{"人死亡", "人受伤"}]),
        ("(镇|乡)政府.{0,6}(强拆|违建)", [{"乡政府", "镇政府"}, {"强拆", "违建"}]),
        ("ABC", [{"abc"}]),  # matched text is case-folded
        ("^青禾县$", [{"青禾县"}]),
        ("ab+c", [{"ab"}, {"bc"}]),
        ("x*", []),
        (".*", []),
        ("[^a]b", [{"b"}]),
        ("é", []),  # case-insensitive matching and case folding differ outside ASCII: no literal
    ],
)
def test_literals(pattern: str, expected: list[set[str]]) -> None:
    assert [set(factor) for factor in required_literals(pattern, REGEX_FLAGS)] == expected


PIECES = st.sampled_from(["甲", "乙", "丙", "a", "B", ".", "[甲乙]", "[^a]", r"\d", "^", "$", r"\b", "1", "(?:甲|乙丙)", "(a|)"])
REPEAT = st.sampled_from(["", "", "", "*", "+", "?", "{1,2}", "{2}", "*?"])


@st.composite
def regexes(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        if depth < 2 and draw(st.integers(min_value=0, max_value=5)) == 0:
            inner = draw(st.lists(regexes(depth + 1), min_size=1, max_size=3))
            parts.append("(" + "|".join(inner) + ")" + draw(REPEAT))
        else:
            parts.append(draw(PIECES) + draw(REPEAT))
    return "".join(parts)


@settings(max_examples=1500, deadline=None)
@given(regexes(), st.text(alphabet="甲乙丙ab1 ", max_size=20))
def test_every_match_contains_a_literal_of_every_factor(pattern: str, text: str) -> None:
    try:
        compiled = re.compile(pattern, REGEX_FLAGS)
    except re.error:
        assume(False)
    factors = required_literals(pattern, REGEX_FLAGS)
    for factor in factors:
        assert factor and all(factor)
    if compiled.search(text):
        for factor in factors:
            assert any(literal in text for literal in factor), (pattern, text, factor)
