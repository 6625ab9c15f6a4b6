"""Word boundaries for ``w:`` terms, by jieba segmentation of one field at a time.

About one substring hit in twenty crosses a word boundary and is mostly
wrong: 民政 inside 人民|政府. A ``w:民政`` hit counts only if its start and
end are token boundaries of the segmentation of the normalized field text.
Segmenting costs far more than matching, so the engine asks for it only when
a ``w:`` term was found in a field and a rule's evaluation needs the answer,
and then once per field of that document.

The tokenizer is a private ``jieba.Tokenizer`` (the global one belongs to
whoever else uses jieba in the process), created on first use, with every
term of the rule library added as a strong word and the caller's user words
as ordinary ones. "Strong" means a frequency near the dictionary's commonest
content words: a library term then wins over a dictionary word that merely
extends it (县|民政|局 rather than 县|民政局, so ``w:民政`` finds the bureau),
while a dictionary word the term straddles still wins (人民政府 stays whole,
so ``w:民政`` does not fire inside it). Segmentation uses the dictionary
only (no HMM guessing of unknown words), so the answer is stable.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from yuqing_core.text import new_jieba_tokenizer

if TYPE_CHECKING:
    import jieba

__all__ = ["LIBRARY_WORD_FREQ", "WordSegmenter", "dictionary_frequencies"]

#: jieba frequency given to every library term (the default dictionary totals about 60 million).
LIBRARY_WORD_FREQ = 1_000_000


class WordSegmenter:
    """Token boundaries of normalized texts, with the rule library's terms as words.

    Safe to share between threads: the tokenizer is built once under a lock
    and only read afterwards.
    """

    def __init__(self, library_terms: Iterable[str], user_words: Iterable[str] = ()) -> None:
        self._library_terms = tuple(sorted(set(library_terms)))
        self._user_words = tuple(sorted(set(user_words) - set(self._library_terms)))
        self._tokenizer: jieba.Tokenizer | None = None
        self._lock = threading.Lock()

    def _load(self) -> jieba.Tokenizer:
        with self._lock:
            tokenizer = self._tokenizer
            if tokenizer is None:
                tokenizer = new_jieba_tokenizer()
                tokenizer.initialize()
                total = tokenizer.total
                for word in self._user_words:
                    tokenizer.add_word(word)
                for term in self._library_terms:
                    tokenizer.add_word(term, max(LIBRARY_WORD_FREQ, tokenizer.FREQ.get(term) or 0))
                # add_word adds each frequency to the total; thousands of strong
                # words would shrink every other word's probability and change
                # how unrelated text is cut. Keep the dictionary's total.
                tokenizer.total = total
                self._tokenizer = tokenizer
        return tokenizer

    def boundaries(self, text: str) -> frozenset[int]:
        """Offsets in ``text`` where a token starts or ends (0 and ``len(text)`` included)."""
        tokenizer = self._tokenizer if self._tokenizer is not None else self._load()
        position = 0
        bounds = [0]
        for token in tokenizer.cut(text, HMM=False):
            position += len(token)
            bounds.append(position)
        if position != len(text):  # pragma: no cover - jieba yields every character; be safe anyway
            return frozenset(range(len(text) + 1))
        return frozenset(bounds)

    def tokens(self, text: str) -> list[str]:
        """The segmentation itself (for explaining a ``w:`` decision)."""
        tokenizer = self._tokenizer if self._tokenizer is not None else self._load()
        return list(tokenizer.cut(text, HMM=False))


def dictionary_frequencies(words: Iterable[str]) -> dict[str, int]:
    """jieba's reference-corpus count for each of ``words`` found in its dictionary.

    A hint at how common a word is in Chinese text (村民 is, 讨薪 is not),
    for choosing which terms index a rule when no measured frequencies are
    given. Answers are remembered; words not seen before cost one pass of
    an automaton over the dictionary file (a few tens of milliseconds). An
    unreadable dictionary gives no counts.
    """
    words = set(words)
    missing = [word for word in words if word not in _CORPUS_COUNTS and "\n" not in word and " " not in word]
    if missing:
        counts = _read_counts(missing)
        with _CORPUS_LOCK:
            if len(_CORPUS_COUNTS) > _MAX_CORPUS_COUNTS:
                _CORPUS_COUNTS.clear()
            for word in missing:
                _CORPUS_COUNTS[word] = counts.get(word, 0)
    return {word: count for word in words if (count := _CORPUS_COUNTS.get(word, 0))}


_CORPUS_COUNTS: dict[str, int] = {}
_CORPUS_LOCK = threading.Lock()
_MAX_CORPUS_COUNTS = 500_000


def _read_counts(words: list[str]) -> dict[str, int]:
    try:
        import ahocorasick_rs

        content = _dictionary_content()
    except Exception:
        return {}
    if isinstance(content, str):
        content = content.encode("utf-8")
    # Scanned as UTF-8 bytes: decoding the 5-MB file and scanning the str
    # (which ahocorasick-rs encodes again) took four times as long.
    content = b"\n" + content  # every entry is "\nword count tag"
    automaton = ahocorasick_rs.BytesAhoCorasick([f"\n{word} ".encode("utf-8", "surrogatepass") for word in words])
    counts: dict[str, int] = {}
    for index, _start, end in automaton.find_matches_as_indexes(content):
        stop = content.find(b" ", end)
        count = content[end:stop] if stop > end else b""
        if count.isdigit():
            counts[words[index]] = int(count)
    return counts


def _dictionary_content() -> str | bytes:
    """The text of jieba's dictionary, without importing jieba when it is not loaded yet.

    Importing jieba takes about a third of a second (it pulls in
    pkg_resources), more than the rest of building a rule library's
    frequency guesses; its default dictionary is a file in the package.
    """
    loaded = sys.modules.get("jieba")
    if loaded is not None:  # ask it: it may have been given another dictionary
        with loaded.get_dict_file() as handle:
            content: str | bytes = handle.read()
        return content
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("jieba")
    return (Path(next(iter(spec.submodule_search_locations))) / "dict.txt").read_bytes()
