"""Hot words of a set of texts (jieba TF-IDF), and keyword suggestions for the risk library.

jieba is used through a private ``jieba.Tokenizer`` and a private
``jieba.analyse.TFIDF`` instance, so words added here never change how the
rest of the process (the rule engine, say) segments text. Both are built on
first use, under a lock. The library's terms are passed per call as
``user_words``: they are added to the private dictionary and stay there
while later calls pass the same words (a library's terms, call after call);
a call with other words first puts the dictionary back, so calls never see
each other's words. Calls are serialised by the lock (segmentation is
single-threaded Python anyway).

TF-IDF over a set of texts needs only each text's word counts: the texts
are joined by newlines, which jieba never segments across, so the counts of
the joined document are the sums of the texts' counts. ``count_words``
gives one text's counts (the analyze stage stores them with each relevant
item, computed in its parallel match step), and ``hot_words_from_counts``
ranks summed counts exactly as ``hot_words`` ranks the texts themselves.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from yuqing_core.text import new_jieba_tokenizer, normalize_text

if TYPE_CHECKING:
    import jieba
    from jieba.analyse.tfidf import TFIDF

# Two or more CJK ideographs and nothing else: no digits, Latin or punctuation.
_CJK_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")

# Function words and feed boilerplate that TF-IDF would otherwise rank high
# in short Chinese posts (jieba's own stop list is English only).
CHINESE_STOP_WORDS = frozenset(
    {
        "我们", "你们", "他们", "她们", "大家", "自己", "什么", "怎么", "怎么样", "为什么", "这个", "那个", "这些",
        "那些", "这样", "那样", "这里", "那里", "一个", "一些", "一下", "一点", "一直", "一起", "没有", "已经",
        "可以", "可能", "应该", "因为", "所以", "但是", "如果", "还是", "就是", "不是", "只是", "还有", "而且",
        "或者", "以及", "以后", "之后", "之前", "时候", "现在", "目前", "今天", "昨天", "明天", "今年", "日前",
        "近日", "近期", "当日", "当天", "有关", "相关", "进行", "表示", "情况", "问题", "工作", "有人", "听说",
        "希望", "知道", "看到", "觉得", "真的", "不要", "不能", "不会", "出来", "起来", "下来", "过来", "一次",
        "记者", "小编", "网友", "粉丝", "转发", "微博", "评论", "留言", "关注", "点赞", "收藏", "分享", "链接",
        "视频", "图片", "全文", "原文", "来源", "编辑", "责任编辑", "本报", "本台", "据悉", "获悉", "了解",
        "其中", "同时", "通过", "对于", "关于", "根据", "按照", "以上", "以下", "左右", "之一", "部分", "方面",
    }
)  # fmt: skip

_lock = threading.Lock()


@functools.cache
def _extractor() -> TFIDF:
    """The private TF-IDF extractor (built on first use; call with ``_lock`` held)."""
    import copy

    import jieba.analyse

    tokenizer = new_jieba_tokenizer()
    tokenizer.initialize()
    # Importing jieba.analyse builds its default extractor, which reads the
    # idf table (about 0.14 s); a copy shares that table, read-only here,
    # instead of reading it a second time in every process (each Dask worker).
    tfidf = copy.copy(jieba.analyse.default_tfidf)
    # Point both tokenizer attributes at the private one: the default
    # extractor's are jieba's process-wide ones.
    tfidf.tokenizer = tokenizer
    tfidf.postokenizer = None  # type: ignore[assignment]  # unused: extract_tags is never called with allowPOS
    tfidf.stop_words = set(tfidf.stop_words) | CHINESE_STOP_WORDS
    return tfidf


class _UserWords:
    """The words currently added to the private dictionary, and what they replaced (restored on a change)."""

    def __init__(self) -> None:
        self.installed: frozenset[str] = frozenset()
        self.replaced: dict[str, int | None] = {}
        self.replaced_total: int | None = None


_user_words = _UserWords()


def _use_words(tokenizer: jieba.Tokenizer, words: Iterable[str]) -> None:
    """Make ``words`` (and only they) the user words of the tokenizer; call with ``_lock`` held."""
    state = _user_words
    wanted = frozenset(word for word in words if len(word) >= 2)
    if wanted == state.installed:
        return
    _BLOCKS.clear()  # segmented with the words that were installed
    frequencies = tokenizer.FREQ
    for word, frequency in state.replaced.items():
        if frequency is None:
            frequencies.pop(word, None)
        else:
            frequencies[word] = frequency
    if state.replaced_total is not None:
        tokenizer.total = state.replaced_total
    state.replaced.clear()
    state.installed, state.replaced_total = frozenset(), tokenizer.total
    for word in sorted(wanted):
        # add_word also adds every prefix of the word (with frequency 0)
        # as a marker for the segmenter's prefix dictionary.
        for end in range(1, len(word) + 1):
            prefix = word[:end]
            if prefix not in state.replaced:
                state.replaced[prefix] = frequencies.get(prefix)
        if not frequencies.get(word):
            tokenizer.add_word(word)
    state.installed = wanted


def count_words(texts: Sequence[str], user_words: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Each text's word counts for TF-IDF: ``{"total": n, "words": {word: count}}``.

    ``total`` counts every word TF-IDF counts (two or more characters, not
    a stop word); ``words`` keeps only the CJK words that can be hot words.
    Each result is JSON as it stands.

    >>> count_words(["青溪河死鱼，河面死鱼 2026"], ["青溪河"])
    [{'total': 5, 'words': {'青溪河': 1, '死鱼': 2, '河面': 1}}]
    """
    user_words = [normalize_text(word) for word in user_words]
    counted = []
    with _lock:
        tfidf = _extractor()
        _use_words(tfidf.tokenizer, user_words)
        blocks = _BLOCKS
        for text in texts:
            total = 0
            words: dict[str, int] = {}
            for block in _han_blocks(normalize_text(text)) if text else ():
                found = blocks.get(block)
                if found is None:
                    found = _block_words(tfidf, block)
                    if len(blocks) >= _MAX_BLOCKS:
                        blocks.clear()
                    blocks[block] = found
                total += found[0]
                for word in found[1]:
                    words[word] = words.get(word, 0) + 1
            counted.append({"total": total, "words": words})
    return counted


# jieba segments each run of these characters on its own (``Tokenizer.cut``
# splits the text at every other character first) and makes no word of two
# characters outside them, which are all count_words looks at. So a text's
# counts are the sums of its runs' counts, and runs repeat: reposts, quotes
# and templated notices carry the same sentences again and again. Each run's
# counts are remembered (a bounded dict, emptied when the user words change,
# since they change the segmentation).
_MAX_BLOCKS = 100_000
_BLOCKS: dict[str, tuple[int, tuple[str, ...]]] = {}


@functools.cache
def _han_blocks_finder() -> Callable[[str], list[str]]:
    import jieba

    finder: Callable[[str], list[str]] = jieba.re_han_default.findall  # one group: the runs themselves
    return finder


def _han_blocks(text: str) -> list[str]:
    """The runs of ``text`` jieba segments, in order (as ``Tokenizer.cut`` finds them)."""
    return _han_blocks_finder()(text)


def _block_words(tfidf: TFIDF, block: str) -> tuple[int, tuple[str, ...]]:
    """(how many words of ``block`` TF-IDF counts, those that can be hot words); call with ``_lock`` held."""
    stop_words = tfidf.stop_words
    total = 0
    hot: list[str] = []
    for word in tfidf.tokenizer.cut(block):
        if len(word.strip()) < 2 or word.lower() in stop_words:
            continue
        total += 1
        if _CJK_WORD.fullmatch(word):
            hot.append(word)
    return total, tuple(hot)


def hot_words_from_counts(
    counts: Iterable[dict[str, Any]], *, top_k: int | None = 10, stop_words: Iterable[str] = ()
) -> list[tuple[str, float]]:
    """The ``top_k`` (None: all) hot words of texts given by their ``count_words`` results (see ``hot_words``)."""
    if top_k is not None and top_k <= 0:
        return []
    summed: dict[str, float] = {}
    total = 0
    for counted in counts:
        total += counted["total"]
        for word, count in counted["words"].items():
            summed[word] = summed.get(word, 0.0) + count
    if not total:
        return []
    with _lock:
        tfidf = _extractor()
    idf, median = tfidf.idf_freq, tfidf.median_idf
    # Same arithmetic as jieba's extract_tags, so weights equal those of the joined document.
    ranked = [(word, count * (idf.get(word, median) / total)) for word, count in summed.items()]
    excluded = {normalize_text(word) for word in stop_words}
    # Equal weights in a stable order, so reports do not reshuffle between runs.
    ranked.sort(key=lambda pair: (-pair[1], pair[0]))
    return [(word, weight) for word, weight in ranked if word not in excluded][:top_k]


def idf_table() -> tuple[dict[str, float], float]:
    """jieba's bundled inverse document frequencies (a fixed general-corpus table) and their median.

    The median is what ``hot_words`` gives a word the table lacks.
    """
    with _lock:
        tfidf = _extractor()
    return tfidf.idf_freq, tfidf.median_idf


def hot_words(
    texts: Sequence[str], *, top_k: int = 10, user_words: Iterable[str] = (), stop_words: Iterable[str] = ()
) -> list[tuple[str, float]]:
    """The ``top_k`` words that characterise ``texts`` (e.g. an event's items), with TF-IDF weights.

    The texts are read as one document and segmented with jieba (the
    ``user_words``, e.g. the risk library's terms, kept whole); each word's
    weight is its share of the words times its inverse document frequency
    in jieba's general corpus (words jieba has not seen get the median).
    Only words of two or more CJK characters count, never numbers,
    punctuation, Latin, ``CHINESE_STOP_WORDS`` or ``stop_words``. Ties are
    broken by the word, so the result is deterministic.

    >>> [word for word, _ in hot_words(["青溪河出现大量死鱼，死鱼漂满河面", "青溪河死鱼原因查明"], top_k=2, user_words=["青溪河"])]
    ['青溪河', '死鱼']
    """
    return hot_words_from_counts(count_words(texts, user_words), top_k=top_k, stop_words=stop_words)


def _covered_by(terms: Iterable[str]) -> Callable[[str], bool]:
    """A test for "equal to, contained in, or containing a known term"."""
    known = {normalize_text(term) for term in terms}
    known.discard("")
    # One string holding every term lets "word inside some term" be one
    # substring search; the \x00 separators keep matches within a term.
    haystack = "\x00".join(sorted(known))

    def covered(word: str) -> bool:
        if word in haystack:
            return True
        return any(word[start:end] in known for start in range(len(word)) for end in range(start + 1, len(word) + 1))

    return covered


def suggest_keywords(texts: Sequence[str], known_terms: Iterable[str], *, top_k: int = 10) -> list[tuple[str, float]]:
    """Hot words of recent event texts that the risk library does not cover yet.

    A word is covered when it equals a known term, is contained in one
    (``化工`` in ``化工园区``) or contains one (``东坪村民`` contains
    ``东坪``); comparison is on ``normalize_text`` forms. The known terms are
    also given to jieba as user words, so they are segmented whole and
    recognised. Weights are those of ``hot_words``.

    >>> [word for word, _ in suggest_keywords(["东坪村刺鼻异味，疑似化工园区泄漏，东坪村异味严重"], ["化工园区", "泄漏"], top_k=2)]
    ['东坪村', '异味']
    """
    if top_k <= 0:
        return []
    known_terms = list(known_terms)
    covered = _covered_by(known_terms)
    suggestions: list[tuple[str, float]] = []
    for word, weight in hot_words_from_counts(count_words(texts, known_terms), top_k=None):
        if not covered(word):
            suggestions.append((word, weight))
            if len(suggestions) == top_k:
                break
    return suggestions
