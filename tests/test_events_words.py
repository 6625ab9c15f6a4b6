"""Hot words and keyword suggestions (jieba TF-IDF), and the heat score."""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime, timedelta

import jieba
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import jieba_tfidf_of_joined_texts
from yuqing_core.events import heat_score, hot_words, suggest_keywords, velocity_per_hour

LEAK = [
    "白沙镇东坪村一早全是刺鼻气味，是不是化工园区泄漏了？好几个老人说头晕、嗓子疼。",
    "东坪村刺鼻异味，疑似化工园区泄漏，请环保部门马上来查。",
    "县生态环境局回应白沙镇异味：已启动应急监测，布设4个大气监测点位，初步锁定异味来源于园区内一家企业。",
    "情况通报：禾川精细化工有限公司一储罐阀门密封件老化，导致少量有机溶剂物料泄漏挥发。2026年11月28日。",
]


def words(pairs: list[tuple[str, float]]) -> list[str]:
    return [word for word, _ in pairs]


def test_hot_words_of_an_event() -> None:
    result = hot_words(LEAK, top_k=8)
    assert len(result) == 8
    assert {"异味", "泄漏", "东坪村"} <= set(words(result))
    weights = [weight for _, weight in result]
    assert weights == sorted(weights, reverse=True) and all(weight > 0 for weight in weights)


def test_hot_words_are_cjk_words_of_two_or_more_characters() -> None:
    result = words(hot_words([*LEAK, "Ｗｅｉｂｏ 2026 ABC 123456 ！！！ 的 了 我们 他们"], top_k=50))
    assert result
    for word in result:
        assert len(word) >= 2 and all("\u4e00" <= char <= "\u9fff" for char in word), word
    assert "我们" not in result and "他们" not in result  # stop words


def test_user_words_are_kept_whole_and_only_for_that_call() -> None:
    texts = ["禾川精细化工储罐阀门老化，禾川精细化工停产整改。"]
    assert "禾川精细化工" in words(hot_words(texts, top_k=10, user_words=["禾川精细化工"]))
    assert "禾川精细化工" not in words(hot_words(texts, top_k=10))  # nothing leaked into the next call
    # and nothing leaked into jieba's process-wide tokenizer
    assert "禾川精细化工" not in jieba.lcut("禾川精细化工储罐阀门老化")


def test_stop_words_and_top_k() -> None:
    assert hot_words(LEAK, top_k=0) == []
    assert hot_words([], top_k=5) == [] and hot_words(["", "   "], top_k=5) == []
    without = words(hot_words(LEAK, top_k=20, stop_words=["异味", "泄漏"]))
    assert "异味" not in without and "泄漏" not in without


def test_hot_words_are_deterministic_and_thread_safe() -> None:
    expected = hot_words(LEAK, top_k=10, user_words=["东坪村", "化工园区"])
    results: list[list[tuple[str, float]]] = []
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            # Interleave calls with and without user words: each must see only its own.
            if index % 2:
                results.append(hot_words(LEAK, top_k=10, user_words=["东坪村", "化工园区"]))
            else:
                hot_words(LEAK, top_k=10, user_words=["刺鼻气味", "应急监测", "禾川"])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results and all(result == expected for result in results)


def test_suggest_keywords_leaves_out_what_the_library_covers() -> None:
    known = ["化工园区", "泄漏", "东坪", "异味问题"]
    suggestions = words(suggest_keywords(LEAK, known, top_k=15))
    assert suggestions
    for word in suggestions:
        for term in known:
            assert word != term and word not in term and term not in word, (word, term)
    assert "异味" not in suggestions  # contained in 异味问题
    assert "东坪村" not in suggestions  # contains 东坪
    assert {"白沙镇", "刺鼻", "储罐"} <= set(suggestions)  # salient words no term covers are kept


def test_suggest_keywords_compares_normalized_forms() -> None:
    texts = ["ＡＢ化工园区泄漏", "禾川精细化工储罐阀门老化"] * 3
    assert "储罐" not in words(suggest_keywords(texts, ["储罐阀门"], top_k=10))
    assert suggest_keywords(texts, [], top_k=0) == []


# --- heat ------------------------------------------------------------------------------------


def test_heat_score_examples() -> None:
    assert heat_score(0, 0, 0.0, 0.0, 0.0) == 0.0
    assert 3 < heat_score(1, 1, 0.5, 1 / 6, 0.0) < 10
    assert 40 < heat_score(10, 5, 4.0, 1.5, 0.0) < 60
    assert 80 < heat_score(300, 40, 40.0, 30.0, 0.0) < 100
    assert heat_score(10, 5, 4.0, 1.5, 24.0) == pytest.approx(heat_score(10, 5, 4.0, 1.5, 0.0) / 2)


counts = st.integers(min_value=1, max_value=100_000)
rates = st.floats(min_value=0, max_value=1e4, allow_nan=False)


@given(counts, counts, rates, rates, rates, st.integers(min_value=1, max_value=1000), rates)
def test_heat_score_is_monotone_and_bounded(
    items: int, sources: int, weighted: float, velocity: float, hours: float, more: int, extra: float
) -> None:
    base = heat_score(items, sources, weighted, velocity, hours)
    assert 0.0 <= base < 100.0
    assert heat_score(items + more, sources, weighted, velocity, hours) >= base
    assert heat_score(items, sources + more, weighted, velocity, hours) >= base
    assert heat_score(items, sources, weighted + extra, velocity, hours) >= base
    assert heat_score(items, sources, weighted, velocity + extra, hours) >= base
    assert heat_score(items, sources, weighted, velocity, hours + extra) <= base


def test_velocity_is_items_per_hour_over_the_last_six_hours() -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    stamps = [now - timedelta(minutes=m) for m in (0, 30, 359, 360, 600)] + [now + timedelta(minutes=1)]
    assert velocity_per_hour(stamps, now=now) == pytest.approx(3 / 6)
    assert velocity_per_hour(stamps, now=now, window=timedelta(hours=1)) == 2
    with pytest.raises(ValueError):
        velocity_per_hour(stamps, now=datetime(2026, 11, 28))


def test_hot_words_from_stored_counts_equal_jiebas_tfidf_of_the_joined_texts() -> None:
    """Per-text counts (what the match step stores) summed give exactly jieba's TF-IDF of the whole document."""
    from yuqing_core.demo import load_county
    from yuqing_core.events import count_words, hot_words_from_counts

    texts = [f"{item.get('title') or ''} {item['text']}" for item in load_county().items]
    for start, size, user_words in [
        (0, 1, []),
        (3, 7, ["青溪河", "化工园区"]),
        (40, 40, ["东坪村", "禾川精细化工", "讨薪"]),
        (0, len(texts), []),
    ]:
        chosen = texts[start : start + size]
        expected = jieba_tfidf_of_joined_texts(chosen, user_words)
        assert hot_words_from_counts(count_words(chosen, user_words), top_k=None) == expected
        assert hot_words(chosen, top_k=15, user_words=user_words) == expected[:15]
        # Counted one by one or all at once: the same.
        one_by_one = [count_words([text], user_words)[0] for text in chosen]
        assert hot_words_from_counts(one_by_one, top_k=15) == expected[:15]


@functools.cache
def _reference_tokenizer(user_words: frozenset[str]) -> jieba.Tokenizer:
    from yuqing_core.text import new_jieba_tokenizer

    tokenizer = new_jieba_tokenizer()
    for word in sorted(user_words):
        if len(word) >= 2:
            tokenizer.add_word(word)
    return tokenizer


def _counts_of_whole_texts(texts: list[str], user_words: list[str]) -> list[dict[str, object]]:
    """count_words as jieba segments each whole text, with a tokenizer of its own (the reference)."""
    from yuqing_core.events._hotwords import _CJK_WORD, _extractor
    from yuqing_core.text import normalize_text

    tokenizer = _reference_tokenizer(frozenset(normalize_text(word) for word in user_words))
    stop_words = _extractor().stop_words
    counted = []
    for text in texts:
        found = [w for w in tokenizer.cut(normalize_text(text)) if len(w.strip()) >= 2 and w.lower() not in stop_words]
        words: dict[str, int] = {}
        for word in found:
            if _CJK_WORD.fullmatch(word):
                words[word] = words.get(word, 0) + 1
        counted.append({"total": len(found), "words": words})
    return counted


_SEGMENTED = st.text(alphabet="禾川精细化工园区泄漏东坪村的了是青溪河死鱼abcXY12３.%-_#，。！ \n\t「」…", max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(_SEGMENTED, max_size=4), st.sampled_from([(), ("禾川精细",), ("溪河死", "园区泄")]))))
def test_counts_by_remembered_runs_equal_counts_of_whole_texts(calls: list[tuple[list[str], tuple[str, ...]]]) -> None:
    from yuqing_core.events import count_words

    # Calls alternate their user words: runs remembered under one set of words must not be
    # reused under another (禾川精细化工 segments differently with 禾川精细 in the dictionary).
    for texts, user_words in calls:
        assert count_words(texts, user_words) == _counts_of_whole_texts(texts, list(user_words))


def test_user_words_change_how_a_remembered_run_is_counted() -> None:
    from yuqing_core.events import count_words

    text = "禾川精细化工园区泄漏"
    plain = count_words([text])[0]
    with_word = count_words([text], ["禾川精细"])[0]
    assert "禾川精细" in with_word["words"] and "禾川精细" not in plain["words"]
    assert count_words([text])[0] == plain
