"""An extractive summary of a set of texts: the sentences that say what happened, in time order.

Used for the 舆情专报's "what happened" (an event's items) and measured against human-written
summaries of public Chinese news in ``bench/summary.py``. Nothing is generated: every sentence
is one of the texts' own, so the summary can be checked against its source.

How sentences are chosen (for any texts, nothing about a particular event):

1. Each text is split into sentences (。！？；! ? ; and line breaks); each sentence is segmented
   with jieba into content words (two or more characters, or a number; stop words dropped).
2. Each sentence is scored by
   * **centrality**: cosine similarity of its word vector to the centroid of all sentences
     (term frequency x ``log(1 + N / df)`` over the N sentences), so a fact many texts repeat —
     the cause an official statement gives and every outlet copies — ranks high;
   * **position**: the first sentences of a text say most (``1 / sqrt(1 + index)``);
   * **information**: a number with its unit or a place name (县、镇、村、园区 ...) is a fact a
     reader can act on; a question, a very short or a very long sentence says less.
3. Sentences are taken best first, skipping any that repeats one already taken (character
   bigram overlap above ``REDUNDANCY_LIMIT``), until ``max_sentences`` or ``max_chars``.
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
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
WEIGHT_CENTRALITY, WEIGHT_POSITION, WEIGHT_INFORMATION = 0.5, 0.3, 0.2

_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]*[”」』）)]?")
_CJK = re.compile(r"[\u3400-\u9fff]")
_NUMBER = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:%|％|人|名|户|家|次|起|条|吨|公斤|千克|米|公里|平方米|亩|元|万|亿|天|日|小时|分钟|时|岁|所|辆|处)"
    r"|[一二两三四五六七八九十百千万]+(?:人|名|户|家|次|起|条|吨|天|小时|辆|处|所)"
    r"|\d{1,2}[:：]\d{2}|\d{1,2}月\d{1,2}日"
)
_PLACE = re.compile(r"[\u4e00-\u9fff]{1,8}(?:省|市|县|区|镇|乡|村|街道|社区|园区|工业园|开发区|水库|河|路|街|小区|学校|医院)")
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
    with _lock:
        words = _tokenizer().lcut(sentence)
    return [
        w for w in (word.strip() for word in words)
        if w and w not in CHINESE_STOP_WORDS and ((len(w) >= 2 and _CJK.search(w)) or any(c.isdigit() for c in w))
    ]  # fmt: skip


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


def score_sentences(passages: Sequence[Passage]) -> list[SummarySentence]:
    """Every sentence of every passage with its score (see the module docstring), in passage order."""
    found: list[tuple[Passage, int, str, Counter[str]]] = []
    for passage in passages:
        for index, sentence in enumerate(split_sentences(passage.text)):
            found.append((passage, index, sentence, Counter(content_words(sentence))))
    if not found:
        return []
    document_frequency: Counter[str] = Counter()
    for *_, words in found:
        document_frequency.update(words.keys())
    total = len(found)
    idf = {word: math.log(1 + total / df) for word, df in document_frequency.items()}
    vectors = [{word: count * idf[word] for word, count in words.items()} for *_, words in found]
    centroid: dict[str, float] = defaultdict(float)
    for vector in vectors:
        for word, weight in vector.items():
            centroid[word] += weight
    scored = []
    for (passage, index, sentence, _), vector in zip(found, vectors, strict=True):
        score = (
            WEIGHT_CENTRALITY * _cosine(vector, centroid)
            + WEIGHT_POSITION / math.sqrt(1 + index)
            + WEIGHT_INFORMATION * information(sentence)
        )
        scored.append(SummarySentence(sentence, passage.key, passage.published, index, round(score, 4)))
    return scored


def summarize(
    passages: Iterable[Passage],
    *,
    max_sentences: int = 4,
    max_chars: int | None = None,
    exclude: Iterable[str] = (),
) -> list[SummarySentence]:
    """The best non-redundant sentences of ``passages``, in time order (see the module docstring).

    ``exclude``: sentences already said elsewhere in the document; nothing repeating them is taken.
    """
    ordered = list(passages)
    ranked = sorted(score_sentences(ordered), key=lambda s: (-s.score, _when(s), s.key, s.index))
    said = [_bigrams(text) for text in exclude]
    chosen: list[SummarySentence] = []
    used_chars = 0
    for sentence in ranked:
        if len(chosen) >= max_sentences:
            break
        grams = _bigrams(sentence.text)
        if not grams or any(len(grams & other) / len(grams) > REDUNDANCY_LIMIT for other in said):
            continue
        if max_chars is not None and chosen and used_chars + len(sentence.text) > max_chars:
            continue
        chosen.append(sentence)
        said.append(grams)
        used_chars += len(sentence.text)
    order = {id(p): n for n, p in enumerate(ordered)}
    position = {p.key: order[id(p)] for p in ordered}
    return sorted(chosen, key=lambda s: (_when(s), position.get(s.key, 0), s.index))


def _when(sentence: SummarySentence) -> float:
    return sentence.published.timestamp() if sentence.published else 0.0


def lead_sentences(text: str, count: int = 3) -> list[str]:
    """The first ``count`` sentences: the lead-k baseline every extractive summary is measured beside."""
    return split_sentences(text)[:count]
