"""Normalization for matching: the normal form, its fast paths, and the way back to original offsets."""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from yuqing_core.rules import _normalize, normalize_for_matching, traditional_conversion_available
from yuqing_core.rules._normalize import (
    FIELD_SEPARATOR,
    TIDIED_CHARACTERS,
    _fold,
    _Normalizer,
    needs_tidying,
    normalize_fields,
    normalizer,
    offset_map,
    tidied_offset_map,
    tidy_fields,
)


@pytest.fixture
def without_opencc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Normalization as on an installation without the ``traditional`` extra."""
    monkeypatch.setitem(sys.modules, "opencc", None)  # import opencc now raises ImportError
    monkeypatch.setattr(_normalize, "_NORMALIZER", _normalize._UNLOADED)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("ＡＢＣ", "abc"),
        ("Hello WORLD", "hello world"),
        ("ß", "ss"),
        ("１２３４５", "12345"),
        ("濮阳，事故！（通报）", "濮阳,事故!(通报)"),
        ("  a \t\n b  ", "a b"),
        ("化工厂 泄漏", "化工厂泄漏"),
        ("化工厂\u3000\u3000泄漏", "化工厂泄漏"),
        ("青禾 县 a b", "青禾县 a b"),
        ("iPhone  15 发布", "iphone 15 发布"),
        ("發展 後來", "发展后来"),
        ("乾坤", "乾坤"),  # OpenCC keeps the phrase
        ("乾淨", "干净"),
        ("薴", "苎"),  # converted to the fixed point
        ("……", "......"),
        ("①②", "12"),
        ("e\u0301", "é"),
        ("", ""),
    ],
)
def test_normal_form(text: str, normal: str) -> None:
    assert normalize_for_matching(text) == normal


def test_opencc_is_detected() -> None:
    # No skip without OpenCC: the tests of conversion fail instead, and this one says why.
    assert traditional_conversion_available(), "opencc 未安装：请安装 traditional 附加依赖（make test 会安装）"


def test_without_opencc_everything_but_conversion_works(without_opencc: None) -> None:
    assert not traditional_conversion_available()
    assert normalize_for_matching("發展 ＡＢＣ，化工厂 泄漏") == "發展 abc,化工厂泄漏"
    assert normalize_for_matching("打坏") == "打坏"


TEXT_ALPHABET = "甲乙丙丁发發乾坤坏打回覆瞭解aAＡbＢ1１ ，,。…㈱\u3000\t\ne\u0301ǰßİ甯薴苧"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=TEXT_ALPHABET, max_size=30) | st.text(max_size=30))
def test_normalizing_twice_changes_nothing(text: str) -> None:
    once = normalize_for_matching(text)
    assert normalize_for_matching(once) == once


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=TEXT_ALPHABET, max_size=30) | st.text(max_size=30))
def test_fast_path_agrees_with_the_full_routine(text: str) -> None:
    routine = normalizer()
    assert routine(text) == routine._full(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="坏打拉土覆回答瞭解明沈默藉口衹得乾坤淨發一的是", max_size=12))
def test_conversion_is_only_skipped_when_it_would_change_nothing(text: str) -> None:
    t2s = normalizer().t2s
    assert t2s is not None
    converted = text
    for _ in range(3):  # the fixed point, by brute force
        converted = t2s._convert(converted)
    assert t2s(text) == converted


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=TEXT_ALPHABET, max_size=12), min_size=1, max_size=3))
def test_fields_normalize_together_as_they_would_apart(fields: list[str]) -> None:
    assert normalize_fields(*fields) == FIELD_SEPARATOR.join(map(normalize_for_matching, fields))


def test_whitespace_means_the_same_to_split_and_to_regex() -> None:
    # Normalization splits with str.split and maps offsets with \\s: they must agree.
    space = re.compile(r"\s")
    assert all(chr(cp).isspace() == bool(space.match(chr(cp))) for cp in range(0x30000) if not 0xD800 <= cp < 0xE000)


# --- back to original offsets ------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "term", "expected"),
    [
        ("xxＡＢＣyy", "abc", "ＡＢＣ"),
        ("今天 化工厂  泄漏 了", "化工厂泄漏", "化工厂  泄漏"),
        ("据說化工廠洩漏", "化工厂泄漏", "化工廠洩漏"),
        ("  前导空格化工厂", "化工厂", "化工厂"),
        ("省略……化工厂", "化工厂", "化工厂"),
        ("㈱公司", "株", "㈱"),
        ("Cafe\u0301 X", "café", "Cafe\u0301"),
    ],
)
def test_offsets_map_back_to_the_original(original: str, term: str, expected: str) -> None:
    normalized = normalize_for_matching(original)
    start = normalized.index(term)
    original_start, original_end = offset_map(original, normalized).span(start, start + len(term))
    assert original[original_start:original_end] == expected


def test_identity_when_nothing_moved() -> None:
    mapping = offset_map("青禾县化工厂泄漏，三人受伤")
    assert mapping.span(3, 6) == (3, 6)
    assert mapping.span(13, 13) == (13, 13)


OFFSET_ALPHABET = "甲乙丙丁發aAＡ1１ ，…㈱\u3000\te\u0301"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=OFFSET_ALPHABET, max_size=25), st.data())
def test_every_span_maps_to_original_text_that_normalizes_to_it(original: str, data: st.DataObject) -> None:
    normalized = normalize_for_matching(original)
    mapping = offset_map(original, normalized)
    start = data.draw(st.integers(min_value=0, max_value=len(normalized)))
    end = data.draw(st.integers(min_value=start, max_value=len(normalized)))
    original_start, original_end = mapping.span(start, end)
    assert 0 <= original_start <= original_end <= len(original)
    if end > start:  # (a span's own ends are trimmed when it is normalized alone)
        assert normalized[start:end].strip() in normalize_for_matching(original[original_start:original_end])


def test_sentinels_are_what_normalization_changes_in_a_way_that_matters() -> None:
    routine = normalizer()
    sentinels = routine.sentinels(frozenset("甲乙,a"))
    assert {"，", "Ａ", "發", "e\u0301"[1], "㈱"} <= sentinels  # "," and "a" are in a pattern
    assert not {"！", "Ｂ", "甲", "乙", "。", "、", "b"} & sentinels  # unchanged, or changed into what no pattern has
    assert not {" ", "\u3000", "\n", "\t", "…"} & sentinels  # tidied before the scan
    assert {"\xa0", "\r", "\u2003"} <= sentinels  # rarer whitespace is found by the scan
    assert "，" not in routine.sentinels(frozenset("甲乙"))
    assert "ｱ" in routine.sentinels(frozenset("甲"))  # ｱ -> ア, which makes a neighbouring space go


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="甲乙丙a,!Ｂ ", min_size=1, max_size=4), st.text(alphabet=TEXT_ALPHABET + "！，ＢＡｱア", max_size=30))
def test_text_without_sentinels_scans_like_its_normal_form(pattern: str, text: str) -> None:
    import ahocorasick_rs

    term = normalize_for_matching(pattern)
    assume(term)
    routine = normalizer()
    sentinels = routine.sentinels(frozenset(term))
    assume(not any(char in sentinels for char in tidy_fields(text)))
    automaton = ahocorasick_rs.AhoCorasick([term])
    spaced = tidy_fields(text)
    normalized = routine(text)
    assert len(normalized) == len(spaced)
    assert automaton.find_matches_as_indexes(spaced, overlapping=True) == automaton.find_matches_as_indexes(
        normalized, overlapping=True
    )


def test_unicode_database_assumptions() -> None:
    # The fast path relies on NFKC never deleting a character.
    assert all(unicodedata.normalize("NFKC", chr(cp)) for cp in range(0x10000) if not 0xD800 <= cp < 0xE000)


def test_a_normalizer_can_be_built_without_conversion() -> None:
    routine = _Normalizer(None)
    assert routine("發展 ＡＢＣ") == "發展 abc"
    assert "發" not in routine.sentinels(frozenset("发"))


TIDY_ALPHABET = "甲乙丙。a1, \n\t\u3000…."


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet=TIDY_ALPHABET, max_size=15), min_size=1, max_size=2))
def test_tidying_then_folding_is_normalizing(fields: list[str]) -> None:
    # tidy_fields is step 3 (and the ellipsis) done early: folding what it gives is the normal form.
    joined = FIELD_SEPARATOR.join(fields)
    assert _fold(tidy_fields(joined)) == normalize_fields(*fields)
    if not needs_tidying(joined):
        assert tidy_fields(joined) is joined
    assert set("\n \u3000\t…") == TIDIED_CHARACTERS  # the engine inlines needs_tidying's test


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=TIDY_ALPHABET, max_size=25), st.data())
def test_tidied_offsets_map_back(original: str, data: st.DataObject) -> None:
    tidied = tidy_fields(original)
    mapping = tidied_offset_map(original, tidied)
    start = data.draw(st.integers(min_value=0, max_value=len(tidied)))
    end = data.draw(st.integers(min_value=start, max_value=len(tidied)))
    original_start, original_end = mapping.span(start, end)
    assert 0 <= original_start <= original_end <= len(original)
    if end > start:
        assert tidied[start:end].strip() in tidy_fields(original[original_start:original_end])


def _span_pairs(length: int) -> st.SearchStrategy[list[tuple[int, int]]]:
    return st.lists(st.tuples(st.integers(0, length), st.integers(0, length)).map(sorted).map(tuple), max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=TIDY_ALPHABET, max_size=25), st.data())
def test_mapping_many_spans_at_once_is_mapping_each(original: str, data: st.DataObject) -> None:
    # OffsetMap.spans maps a document's hits in one call; each answer must be span's.
    for normal, mapping in (
        (tidy_fields(original), tidied_offset_map(original, tidy_fields(original))),
        (normalize_for_matching(original), offset_map(original)),
    ):
        pairs = data.draw(_span_pairs(len(normal)))
        assert mapping.spans(pairs) == [mapping.span(start, end) for start, end in pairs]
        non_empty = [(start, end) for start, end in pairs if start < end]
        assert mapping.spans(non_empty) == [mapping.span(start, end) for start, end in non_empty]


# --- the derived tables, kept between processes ------------------------------


def _tables(routine: _Normalizer) -> tuple[object, ...]:
    t2s = routine.t2s
    return (
        routine.changing,
        routine.one_to_one,
        routine.needs_work.pattern,
        None if t2s is None else (t2s.trigger_characters, t2s._trigger.pattern),
        _normalize._composition_data(),
    )


@pytest.fixture
def table_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh process's view: no routine loaded, no composition data derived, the tables kept in ``tmp_path``."""
    monkeypatch.setenv("YUQING_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_normalize, "_NORMALIZER", _normalize._UNLOADED)
    monkeypatch.setattr(_normalize, "_COMPOSITION", None)
    return tmp_path


def _forbid_deriving(monkeypatch: pytest.MonkeyPatch) -> None:
    def derived(*_args: object) -> None:
        raise AssertionError("derived although the tables were kept")

    monkeypatch.setattr(_normalize, "_derive_composition_data", derived)
    monkeypatch.setattr(_Normalizer, "_derive", derived)
    monkeypatch.setattr(_normalize._TraditionalToSimplified, "_probe", derived)


def test_derived_tables_are_kept_and_read_back_as_derived(table_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    derived = normalizer()
    [kept] = table_cache.iterdir()
    assert kept.name.startswith("normalization-") and kept.suffix == ".json"
    expected = _tables(derived)

    # The next process reads them and derives nothing.
    monkeypatch.setattr(_normalize, "_NORMALIZER", _normalize._UNLOADED)
    monkeypatch.setattr(_normalize, "_COMPOSITION", None)
    _forbid_deriving(monkeypatch)
    read_back = normalizer()
    assert read_back is not derived
    assert _tables(read_back) == expected
    for text in ("ＡＢＣ　濮阳 县\n\n事故，發展", "e\u0301……①", "薴 乾淨 回覆"):
        assert read_back(text) == derived(text)


@pytest.mark.parametrize(
    "content",
    [
        "",
        '{"seconds": "',  # cut short
        "[]",
        '{"seconds": 1, "candidates": "", "changing": "", "one_to_one": "", "images": "", "needs_work": "",'
        ' "t2s_triggers": "", "t2s_class": ""}',
        '{"seconds": "", "candidates": "", "changing": "", "one_to_one": "ab", "images": "a", "needs_work": "",'
        ' "t2s_triggers": "", "t2s_class": ""}',
        '{"seconds": "", "candidates": "", "changing": "", "one_to_one": "", "images": "", "needs_work": "",'
        ' "t2s_triggers": null, "t2s_class": null}',  # kept without OpenCC, read with it
    ],
    ids=["empty", "truncated", "not-an-object", "wrong-type", "unequal-lengths", "no-conversion"],
)
def test_a_damaged_kept_file_is_derived_again_and_rewritten(table_cache: Path, content: str) -> None:
    expected = _tables(normalizer())
    [kept] = table_cache.iterdir()
    kept.write_text(content, encoding="utf-8")
    _normalize._NORMALIZER = _normalize._UNLOADED
    _normalize._COMPOSITION = None
    assert _tables(normalizer()) == expected
    assert kept.read_text(encoding="utf-8") != content


def test_tables_are_derived_where_nothing_can_be_kept(table_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = table_cache / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("YUQING_CACHE_DIR", str(blocked))
    assert normalize_for_matching("ＡＢＣ 發展") == "abc 发展"
    assert [path.name for path in table_cache.iterdir()] == ["not-a-folder"]


def test_the_kept_file_is_named_by_what_the_tables_depend_on(table_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import opencc

    with_conversion = _normalize._table_cache_path(opencc)
    without_conversion = _normalize._table_cache_path(None)
    assert with_conversion is not None and without_conversion is not None
    assert with_conversion != without_conversion
    assert with_conversion.parent == table_cache
    monkeypatch.setattr(_normalize.unicodedata, "unidata_version", "0.0.0")
    assert _normalize._table_cache_path(opencc) != with_conversion
