"""An extractive summary of a set of texts: the sentences that say what happened, in time order.

Used for the 舆情专报's "what happened" (an event's items) and measured against human-written
summaries of public Chinese news in ``bench/summary.py``. Nothing is generated: every sentence
is one of the texts' own, so the summary can be checked against its source.

How sentences are chosen (for any texts, nothing about a particular event):

1. Each text is split into sentences (。！？；! ? ; and line breaks); each sentence is segmented
   with jieba into content words (two or more characters, or a number; stop words dropped).
2. Each sentence is scored by (weights in ``SummarySettings``, chosen on the dev half of the
   evaluation set of ``bench/summary.py``; the test half is what is reported):
   * **centrality**: cosine similarity of its word vector to the centroid of all sentences, each
     word weighted by its count times how informative it is in general Chinese text (its rarity
     in jieba's dictionary: "表示", "工作" weigh little, "储罐", "阀门" much), so a fact many texts repeat — the
     cause an official statement gives and every outlet copies — ranks high;
   * **position**: news puts what matters first (the inverted pyramid), so a text's first
     sentence scores highest and later ones fall off steeply (``1 / (1 + index) ** position_decay``);
   * **information**: a number with its unit or a place name (县、镇、村、园区 ...) is a fact a
     reader can act on; a question, a very short or a very long sentence says less.
3. Sentences are taken best first, skipping any that repeats one already taken (character
   bigram overlap above ``redundancy_limit``), until ``max_sentences``, and within ``max_chars``
   when a length budget is given (the best sentence cut at a clause break if it alone is longer).
4. They are given back in time order (the text's time, then its order in the text).

>>> texts = [Passage("东坪村出现刺鼻异味。村民很担心。", key=1), Passage("经调查，异味系储罐阀门老化导致。企业已停产。", key=2)]
>>> [s.text for s in summarize(texts, max_sentences=2)]
['东坪村出现刺鼻异味。', '经调查，异味系储罐阀门老化导致。']
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import statistics
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from yuqing_core.events._hotwords import CHINESE_STOP_WORDS
from yuqing_core.text import new_jieba_tokenizer

if TYPE_CHECKING:
    import jieba

MIN_SENTENCE_CHARS = 6  # shorter fragments ("同时。", "结果表明。") carry no fact of their own
SHORT_SENTENCE_CHARS = 12
LONG_SENTENCE_CHARS = 160
REDUNDANCY_LIMIT = 0.4  # share of a sentence's character bigrams already said by a chosen one


@dataclass(frozen=True)
class SummarySettings:
    """The weights of a sentence's score and the redundancy limit (chosen on the dev half, see ``bench/summary.py``)."""

    weight_centrality: float = 0.5
    weight_position: float = 0.6
    weight_information: float = 0.2
    position_decay: float = 2.0  # position score 1 / (1 + index) ** decay: 0.5 gently, 1 steeply inverted-pyramid
    redundancy_limit: float = REDUNDANCY_LIMIT


DEFAULT_SETTINGS = SummarySettings()

_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]*[”」』）)]?")
_CJK = re.compile(r"[\u3400-\u9fff]")
_NUMBER = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:%|％|人|名|户|家|次|起|条|吨|公斤|千克|米|公里|平方米|亩|元|万|亿|天|日|小时|分钟|时|岁|所|辆|处)"
    r"|[一二两三四五六七八九十百千万]+(?:人|名|户|家|次|起|条|吨|天|小时|辆|处|所)"
    r"|\d{1,2}[:：]\d{2}|\d{1,2}月\d{1,2}日"
)
_PLACE = re.compile(r"[\u4e00-\u9fff]{1,8}(?:省|市|县|区|镇|乡|村|街道|社区|园区|工业园|开发区|水库|河|路|街|小区|学校|医院)")
_CLAUSE_BREAK = re.compile(r"[，,；;：:]")
_QUESTION_END = re.compile(r"[？?][”」』）)]?$")


@dataclass(frozen=True)
class Passage:
    """One text to summarise: an item's title and body, a news article ..."""

    text: str
    published: datetime | None = None
    key: int = 0  # the caller's id for it (an item id)


@dataclass(frozen=True)
class SummarySentence:
    text: str
    key: int  # the passage it came from
    published: datetime | None
    index: int  # its place in that passage
    score: float


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, each with its closing punctuation; fragments shorter than ``MIN_SENTENCE_CHARS`` dropped.

    >>> split_sentences("第一句话在这里。第二句呢？短。")
    ['第一句话在这里。', '第二句呢？']
    """
    sentences = (match.group(0).strip() for match in _SENTENCE.finditer(text or ""))
    return [s for s in sentences if len(s) >= MIN_SENTENCE_CHARS or (len(s) >= 4 and _CJK.search(s))]


_lock = threading.Lock()


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    return new_jieba_tokenizer()


def content_words(sentence: str) -> list[str]:
    """The words of a sentence that can carry its meaning: two or more characters or a number, stop words dropped."""
    return list(_content_words(sentence))


@functools.lru_cache(maxsize=16384)  # the 专报 scores an event's sentences several times (key facts, latest status)
def _content_words(sentence: str) -> tuple[str, ...]:
    with _lock:
        words = _tokenizer().lcut(sentence)
    return tuple(
        w for w in (word.strip() for word in words)
        if w and w not in CHINESE_STOP_WORDS and ((len(w) >= 2 and _CJK.search(w)) or any(c.isdigit() for c in w))
    )  # fmt: skip


def information(sentence: str) -> float:
    """0..1: a number with its unit, a place name; less for a question or a sentence too short or too long."""
    score = 0.5 * bool(_NUMBER.search(sentence)) + 0.5 * bool(_PLACE.search(sentence))
    if _QUESTION_END.search(sentence):
        score -= 0.5
    if len(sentence) < SHORT_SENTENCE_CHARS or len(sentence) > LONG_SENTENCE_CHARS:
        score -= 0.3
    return score


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text if _CJK.match(c) or c.isalnum()]
    return {a + b for a, b in itertools.pairwise(chars)}


def repeats(sentence: str, said: Iterable[str]) -> bool:
    """Whether ``sentence`` mostly repeats one of ``said`` (character bigram overlap above ``REDUNDANCY_LIMIT``)."""
    grams = _bigrams(sentence)
    return not grams or any(len(grams & _bigrams(other)) / len(grams) > REDUNDANCY_LIMIT for other in said)


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(weight * b.get(word, 0.0) for word, weight in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


@functools.cache
def _word_rarity() -> tuple[dict[str, int], int, float]:
    """jieba's dictionary counts (already loaded by the tokenizer), their total, and the median rarity (unknown words)."""
    tokenizer = _tokenizer()
    with _lock:
        tokenizer.check_initialized()
    counts, total = tokenizer.FREQ, tokenizer.total
    return counts, total, statistics.median(math.log(total / count) for count in counts.values() if count > 0)


def informativeness(word: str) -> float:
    """How much a word tells: its rarity in general Chinese text, ``log(total / count)`` over jieba's dictionary.

    A word every text has ("表示", "工作") tells less than a name, a place or a cause ("储罐", "阀门").
    jieba's dictionary counts stand in for its separate IDF table: they are in memory already with the
    tokenizer, where the table would add 48 MiB and 1.7 s on first use, and on the dev half of the
    evaluation set the two give the same scores (``bench/eval/README.md``).
    """
    counts, total, median = _word_rarity()
    count = counts.get(word, 0)
    return math.log(total / count) if count > 0 else median


def score_sentences(passages: Sequence[Passage], settings: SummarySettings | None = None) -> list[SummarySentence]:
    """Every sentence of every passage with its score (see the module docstring), in passage order."""
    settings = settings or DEFAULT_SETTINGS
    found: list[tuple[Passage, int, str, Counter[str]]] = []
    for passage in passages:
        for index, sentence in enumerate(split_sentences(passage.text)):
            found.append((passage, index, sentence, Counter(content_words(sentence))))
    if not found:
        return []
    vectors = [{word: count * informativeness(word) for word, count in words.items()} for *_, words in found]
    centroid: dict[str, float] = defaultdict(float)
    for vector in vectors:
        for word, weight in vector.items():
            centroid[word] += weight
    scored = []
    for (passage, index, sentence, _), vector in zip(found, vectors, strict=True):
        score = (
            settings.weight_centrality * _cosine(vector, centroid)
            + settings.weight_position / (1 + index) ** settings.position_decay
            + settings.weight_information * information(sentence)
        )
        scored.append(SummarySentence(sentence, passage.key, passage.published, index, round(score, 4)))
    return scored


def summarize(
    passages: Iterable[Passage],
    *,
    max_sentences: int = 4,
    max_chars: int | None = None,
    exclude: Iterable[str] = (),
    settings: SummarySettings | None = None,
) -> list[SummarySentence]:
    """The best non-redundant sentences of ``passages``, in time order (see the module docstring).

    ``max_chars``: the length budget in characters; sentences that would overrun it are passed over,
    and when even the best one is longer, it is cut at its last clause break (，；：) within the budget.
    ``exclude``: sentences already said elsewhere in the document; nothing repeating them is taken.
    """
    settings = settings or DEFAULT_SETTINGS
    ordered = list(passages)
    ranked = sorted(score_sentences(ordered, settings), key=lambda s: (-s.score, _when(s), s.key, s.index))
    said = [_bigrams(text) for text in exclude]
    chosen: list[SummarySentence] = []
    used_chars = 0
    for candidate in ranked:
        if len(chosen) >= max_sentences:
            break
        grams = _bigrams(candidate.text)
        if not grams or any(len(grams & other) / len(grams) > settings.redundancy_limit for other in said):
            continue
        taken = candidate
        if max_chars is not None and used_chars + len(candidate.text) > max_chars:
            if chosen:
                continue
            taken = replace(candidate, text=clause_cut(candidate.text, max_chars))
        chosen.append(taken)
        said.append(grams)
        used_chars += len(taken.text)
    order = {id(p): n for n, p in enumerate(ordered)}
    position = {p.key: order[id(p)] for p in ordered}
    return sorted(chosen, key=lambda s: (_when(s), position.get(s.key, 0), s.index))


def clause_cut(sentence: str, max_chars: int) -> str:
    """``sentence`` up to its last clause break within ``max_chars`` (the break dropped), or whole if none is.

    >>> clause_cut("经调查，异味系储罐阀门老化导致，企业已停产。", 16)
    '经调查，异味系储罐阀门老化导致'
    """
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(sentence, 0, max_chars + 1)]
    return sentence[: breaks[-1]] if breaks else sentence


def _when(sentence: SummarySentence) -> float:
    return sentence.published.timestamp() if sentence.published else 0.0


def lead_sentences(text: str, count: int = 3) -> list[str]:
    """The first ``count`` sentences: the lead-k baseline every extractive summary is measured beside."""
    return split_sentences(text)[:count]
