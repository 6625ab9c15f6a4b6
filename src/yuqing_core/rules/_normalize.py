"""The normal form in which rule terms and item texts meet, and the way back to the original text.

Every term of every rule and every field of every item goes through
``normalize_for_matching`` before they are compared, so "ＡＢＣ", "abc" and
"Abc" are one term, "化工厂 泄漏" equals 化工厂泄漏, and 發展 equals 发展.
The steps, in order:

1. NFKC: full-width letters, digits and punctuation become half-width
   (，→ , （→ ( ０→0), ligatures and circled digits are spelled out.
2. Case folding.
3. Whitespace: every run becomes one space, ends are trimmed, and a space
   between two CJK characters is dropped (Chinese text sprinkles spaces).
4. Traditional to simplified Chinese with OpenCC's ``t2s`` configuration,
   when the optional ``opencc`` package is installed (detected once).

Every item goes through here, so the routine stays in C: ``str`` methods
and compiled regular expressions, no loop over characters. Most Chinese
text needs one search of a character class (is there any character some
step would change?) and nothing else; OpenCC, the costliest step, only
runs on text holding a character it would convert. The engine goes one
step further and usually skips normalization altogether (see
``Normalizer.sentinels``).

Offsets found in the normal form are mapped back to the original text by
``offset_map``, which is only built for fields that produced a reported hit
and takes a per-character path only when normalization changed the length
or alignment of the text.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import json
import os
import re
import sys
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from yuqing_core.files import write_atomically

__all__ = [
    "FIELD_SEPARATOR",
    "TIDIED_CHARACTERS",
    "OffsetMap",
    "fold_fields",
    "needs_tidying",
    "normalize_fields",
    "normalize_for_matching",
    "offset_map",
    "tidied_offset_map",
    "tidy_fields",
    "traditional_conversion_available",
]

_nfkc = unicodedata.normalize
_is_normalized = unicodedata.is_normalized

# Characters NFKC changes that are common in Chinese text. Replacing them with
# their NFKC image first is exactly what NFKC would do (each is a single
# character mapping to a single starter), and it usually leaves a text that
# passes the cheap ``is_normalized`` check, which skips the slow full NFKC.
_COMMON_FOLDS = tuple((char, _nfkc("NFKC", char)) for char in "，：；！？（）\u3000")

_WHITESPACE_RUN = re.compile(r"\s+")
# Scripts written without spaces between words: a space between two of these
# characters is an artefact of the source, not a word break.
_CJK_CLASS = (
    "\u2e80-\u2fdf"  # CJK radicals, Kangxi radicals
    "\u3001-\u303f"  # CJK symbols and punctuation (not the ideographic space)
    "\u3040-\u30ff"  # kana
    "\u3100-\u312f\u31a0-\u31ff"  # bopomofo, katakana extensions
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK unified and compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
# The space first, then a look behind it: a pattern opening with a literal is
# searched for with a fast scan, one opening with a look-behind is tried at
# every position.
_CJK_SPACE = re.compile(f" (?<=[{_CJK_CLASS}] )(?=[{_CJK_CLASS}])")
_CJK_CHAR = re.compile(f"[{_CJK_CLASS}]")


def _fold(text: str) -> str:
    """Steps 1 and 2: NFKC and case folding."""
    if text.isascii():
        return text.lower()  # NFKC is the identity on ASCII, and casefold is lower
    for full, half in _COMMON_FOLDS:
        text = text.replace(full, half)
    if not _is_normalized("NFKC", text):
        text = _nfkc_in_pieces(text)
    text = text.casefold()
    # Case folding can decompose a character (ǰ -> j + caron); composing again
    # keeps the result a fixed point, so normalizing twice changes nothing.
    if not text.isascii() and not _is_normalized("NFKC", text):
        text = _nfkc("NFKC", text)
    return text


def _fold_each(chars: Iterable[str]) -> dict[str, str]:
    """``{char: _fold(char)}`` for many single characters, in one call of ``_fold``.

    Built once per process over thousands of characters, where a call each
    was a third of what the first rule set of a process took to load. The
    characters are folded joined by line breaks: a line break is a starter
    that combines with nothing, so NFKC neither composes nor reorders across
    it, and neither step produces one, so each character comes out as it
    would alone.
    """
    listed = [char for char in chars if char != "\n"]
    images = _fold("\n".join(listed)).split("\n")
    if len(images) != len(listed):  # pragma: no cover - defensive, see above
        return {char: _fold(char) for char in listed}
    return dict(zip(listed, images, strict=True))


def _nfkc_in_pieces(text: str) -> str:
    """NFKC of ``text``, applied only to the stretches it can change.

    ``unicodedata.normalize`` walks the whole text (about 10 µs for 200
    Chinese characters); a text with one ellipsis needs it on two
    characters. A stretch is a run of characters NFKC may change or attach
    to their neighbour, with the starter before it: NFKC never reaches past
    such a boundary, so normalizing the stretches alone is exact.
    """
    pattern = _nfkc_runs()
    pieces: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        start, end = match.span()
        begin = start - 1 if start > position else start  # the starter before the run
        pieces.append(text[position:begin])
        pieces.append(_nfkc("NFKC", text[begin:end]))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


@functools.cache
def _nfkc_runs() -> re.Pattern[str]:
    """Runs of characters NFKC may change or attach to their neighbour (built on first use)."""
    seconds, candidates = _composition_data()
    changing = set(seconds) | {char for char in candidates if _nfkc("NFKC", char) != char}
    # Outside the BMP every character counts, as a range: a class listing
    # thousands of scattered characters there is slow to search.
    body = _ranges_class({char for char in changing if char <= "\uffff"}) + "\U00010000-\U0010ffff"
    return re.compile(f"[{body}]+")


def _space(text: str) -> str:
    """Step 3: collapse and trim whitespace, drop spaces between CJK characters."""
    text = " ".join(text.split())  # returns the same object when there is no whitespace
    if " " in text:
        text = _CJK_SPACE.sub("", text)
    return text


#: Characters ``tidy_fields`` looks for and spells out as normalization does;
#: they need not be sentinels. Other whitespace is rare and is.
TIDIED_CHARACTERS = frozenset(" \n\u3000\t…")


# --- traditional to simplified -----------------------------------------------

# Characters that t2s leaves alone on their own but that start or sit in a
# phrase t2s rewrites (打坏 -> 打坯, 瞭解 -> 了解, 回覆 -> 回复, 沈默 -> 沉默,
# 藉口 -> 借口, 衹得 -> 只得): every such phrase in OpenCC's TSPhrases contains
# one of them. Together with the characters t2s changes on their own they make
# the trigger set: a text without any of them comes out of t2s unchanged, so
# the conversion (the most expensive step) is skipped for it.
_PHRASE_TRIGGERS = "坏瞭藉覆沈衹"
# The ranges probed for characters t2s changes on their own: radicals, CJK
# unified ideographs and extensions A-H, compatibility ideographs.
_PROBED_RANGES = ((0x2E80, 0x2FE0), (0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x323B0))


class _TraditionalToSimplified:
    """OpenCC's t2s with a cheap test for texts it would leave unchanged."""

    def __init__(self, opencc_module: Any, triggers: tuple[frozenset[str], str] | None = None) -> None:
        """``triggers``: the ``trigger_characters`` and ``trigger_class`` of an earlier instance, if kept."""
        self._convert: Callable[[str], str] = opencc_module.OpenCC("t2s").convert
        if triggers is None:
            trigger_characters = self._probe()
            # Characters outside the BMP are rare; any of them sends the text
            # through OpenCC (a regex class mixing them with thousands of BMP
            # characters would be slow to search).
            triggers = (trigger_characters, _ranges_class({char for char in trigger_characters if char <= "\uffff"}))
        self.trigger_characters, self.trigger_class = triggers
        self._trigger = _class_pattern(self.trigger_class)

    def _probe(self) -> frozenset[str]:
        """The characters t2s changes on their own, and the phrase triggers."""
        probed = [chr(cp) for first, stop in _PROBED_RANGES for cp in range(first, stop)]
        # One call for all characters: a line break between them keeps any
        # phrase from forming, so each is converted on its own.
        converted = self._convert("\n".join(probed)).split("\n")
        if len(converted) != len(probed):  # pragma: no cover - defensive, OpenCC keeps line breaks
            changed = set(probed)
        else:
            changed = {char for char, out in zip(probed, converted, strict=True) if out != char}
        changed.update(_PHRASE_TRIGGERS)
        return frozenset(changed)

    def __call__(self, text: str) -> str:
        if self._trigger.search(text) is None:
            return text
        # A few t2s outputs are themselves converted again (薴 -> 苧 -> 苎);
        # iterating to the fixed point keeps normalization idempotent.
        for _ in range(3):
            converted = self._convert(text)
            if converted == text:
                break
            text = converted
            if self._trigger.search(text) is None:
                break
        return text


def _ranges_class(chars: set[str]) -> str:
    """A regex character class body (without brackets) for ``chars``, as ranges."""
    codes = sorted(ord(char) for char in chars)
    parts: list[str] = []
    index = 0
    while index < len(codes):
        first = last = codes[index]
        while index + 1 < len(codes) and codes[index + 1] == last + 1:
            index += 1
            last = codes[index]
        parts.append(re.escape(chr(first)) if first == last else f"{re.escape(chr(first))}-{re.escape(chr(last))}")
        index += 1
    return "".join(parts)


class _Normalizer:
    """The whole routine, with a fast path for text that is already (nearly) in normal form.

    Built once per process (``normalizer()``); tests build one without
    OpenCC to check the path of installations without the extra.
    """

    def __init__(self, t2s: _TraditionalToSimplified | None, tables: _DerivedTables | None = None) -> None:
        self.t2s = t2s
        if tables is None:
            tables = self._derive()
        self.changing = tables.changing
        self.one_to_one = tables.one_to_one
        self.needs_work_class = tables.needs_work_class
        # One search of this class replaces the four steps for most Chinese
        # text (after the full-width comma, the commonest such character, is
        # replaced). Characters outside the BMP always take the full path: a
        # class mixing them with BMP ranges is much slower to search.
        self.needs_work = _class_pattern(self.needs_work_class)

    def _derive(self) -> _DerivedTables:
        """This routine's tables, computed from the Unicode database (and OpenCC's triggers)."""
        t2s = self.t2s
        # Every character some step would change or that could combine with
        # its neighbour. A text without one is already normal.
        changing = _changing_characters()
        if t2s is not None:
            changing |= t2s.trigger_characters
        # Characters that normalize to one other character whatever their
        # neighbours are (full-width ASCII, upper case), with that character.
        seconds, _ = _composition_data()
        settled = seconds | (t2s.trigger_characters if t2s is not None else frozenset())
        candidates = [char for char in changing if not (char.isspace() or char in settled)]
        folded = _fold_each(candidates)
        images: dict[str, str] = {}
        for char in candidates:
            image = self._after_fold(folded[char])
            if (
                len(image) == 1
                and image != char
                and folded[char] == image  # folding alone gets there (see fold_fields)
                and not image.isspace()
                and image not in settled
                # and a space next to it is dropped or kept alike (ｱ -> ア would differ)
                and bool(_CJK_CHAR.match(char)) == bool(_CJK_CHAR.match(image))
            ):
                images[char] = image
        # ... and the image is in normal form itself.
        folded = _fold_each(set(images.values()))
        one_to_one = {char: image for char, image in images.items() if self._after_fold(folded[image]) == image}
        needs_work_class = _ranges_class({char for char in changing if char <= "\uffff"})
        return _DerivedTables(frozenset(changing), one_to_one, needs_work_class)

    def _full(self, text: str) -> str:
        return self._after_fold(_fold(text))

    def _after_fold(self, text: str) -> str:
        """Steps 3 and 4 (whitespace, traditional to simplified) of folded text."""
        text = _space(text)
        return self.t2s(text) if self.t2s is not None else text

    def __call__(self, text: str) -> str:
        text = text.replace("，", ",")
        if self.needs_work.search(text) is None:
            return text
        return self._full(text)

    def sentinels(self, pattern_characters: frozenset[str]) -> frozenset[str]:
        """Characters whose absence makes a text with tidy whitespace as good as its normal form.

        Take a text whose whitespace has already been through step 3
        (``tidy_fields``; cheap, unlike the other steps) and whose ellipses
        are spelled out as NFKC spells them ("…" -> "..."). If it contains
        none of these characters, every character normalization would still
        change becomes one single character that no pattern contains (a
        full-width comma when no term has a comma), so the patterns occur in
        the text exactly where, and at the offsets where, they occur in the
        normalized text. Scanning for these characters along with the
        patterns tells, in the same pass, whether that scan can be kept.
        """
        skippable = {char for char, image in self.one_to_one.items() if image not in pattern_characters}
        return frozenset(self.changing - skippable - TIDIED_CHARACTERS)


def _class_pattern(bmp_class: str) -> re.Pattern[str]:
    """A pattern finding any character of ``bmp_class`` (a ``_ranges_class``) or any character outside the BMP."""
    return re.compile(f"[{bmp_class}\U00010000-\U0010ffff]")


def _changing_characters() -> set[str]:
    """Characters that NFKC, case folding or whitespace handling change, or that NFKC may combine."""
    changing = {char for char in map(chr, range(0x10000)) if char.isspace()}
    seconds, candidates = _composition_data()
    changing |= seconds
    folded = _fold_each(candidates)
    changing |= {char for char in candidates if folded[char] != char}
    return changing


_UNLOADED: Any = object()
_NORMALIZER: _Normalizer = _UNLOADED
_NORMALIZER_LOCK = threading.Lock()


def _load_normalizer() -> _Normalizer:
    """Build the routine once per process, with OpenCC if it is installed."""
    global _NORMALIZER  # noqa: PLW0603 - read directly on every normalization (no call), and reset by tests
    with _NORMALIZER_LOCK:
        if _NORMALIZER is _UNLOADED:
            opencc_module: Any
            try:
                import opencc as opencc_module
            except ImportError:
                opencc_module = None
            _NORMALIZER = _normalizer_from_cache(opencc_module) or _normalizer_computed(opencc_module)
    return _NORMALIZER


def traditional_conversion_available() -> bool:
    """Whether traditional characters are converted to simplified (the ``opencc`` extra is installed)."""
    normalizer = _NORMALIZER if _NORMALIZER is not _UNLOADED else _load_normalizer()
    return normalizer.t2s is not None


def normalizer() -> _Normalizer:
    """The process's normalization routine (built on first use)."""
    return _NORMALIZER if _NORMALIZER is not _UNLOADED else _load_normalizer()


def normalize_for_matching(text: str) -> str:
    """The normal form of a term or a text: NFKC, case-folded, spaces tidied, simplified.

    >>> normalize_for_matching("ＡＢＣ　濮阳 县\\n\\n事故，發展")
    'abc 濮阳县事故,发展'

    Normalizing twice gives the same result as normalizing once.
    """
    normalizer = _NORMALIZER if _NORMALIZER is not _UNLOADED else _load_normalizer()
    return normalizer(text)


#: Joins the fields of one document so they are normalized and scanned in one
#: call each. No term contains it (control characters are refused in rules),
#: no step of normalization changes, produces or joins across it, so no hit
#: can span two fields.
FIELD_SEPARATOR = "\x01"


def fold_fields(*fields: str) -> str:
    """Steps 1-2 only (NFKC, case folding) of the joined fields, for text known to need no more."""
    return _fold(FIELD_SEPARATOR.join(fields))


def normalize_fields(*fields: str) -> str:
    """``FIELD_SEPARATOR.join(normalize_for_matching(f) for f in fields)``, in one pass.

    The fields must not contain ``FIELD_SEPARATOR``.
    """
    normalizer = _NORMALIZER if _NORMALIZER is not _UNLOADED else _load_normalizer()
    return _trim_fields(normalizer(FIELD_SEPARATOR.join(fields)))


def tidy_fields(joined: str) -> str:
    """Joined fields with the common whitespace and ellipses done as normalization does them, cheaply.

    Returns ``joined`` itself when there is nothing to do (most Chinese text
    without paragraphs). Only ``TIDIED_CHARACTERS`` are looked for (with
    ``in``, much faster than asking ``split`` or a regex about every kind
    of whitespace); when one is found, all whitespace is tidied. The result
    differs from the normal form only by characters that steps 1, 2 and 4
    would change, each of which (see ``Normalizer.sentinels``) either
    becomes one character no pattern contains or is found by the engine's
    scan.
    """
    if "…" in joined:
        joined = joined.replace("…", "...")
    if "\n" in joined:
        # Paragraph breaks between Chinese sentences are the commonest
        # whitespace by far; a search for the literal line break drops them.
        joined = _CJK_LINE_BREAK.sub("", joined)
    if " " in joined or "\n" in joined or "\u3000" in joined or "\t" in joined:
        joined = _FIELD_SPACE.sub("", " ".join(joined.split()))
    return joined


def needs_tidying(joined: str) -> bool:
    """Whether ``tidy_fields`` would change ``joined`` (a few fast substring tests)."""
    return "\n" in joined or " " in joined or "…" in joined or "\u3000" in joined or "\t" in joined


# A space to drop from joined, collapsed fields: at a field's end or start,
# or between two CJK characters. One pass, found by its literal space.
_FIELD_SPACE = re.compile(f" (?:(?=\x01)|(?<=\x01 )|(?<=[{_CJK_CLASS}] )(?=[{_CJK_CLASS}]))")
# A lone line break between two CJK characters (the same rule, before collapsing).
_CJK_LINE_BREAK = re.compile(f"\n(?<=[{_CJK_CLASS}]\n)(?=[{_CJK_CLASS}])")


def _trim_fields(joined: str) -> str:
    # Each field's ends are trimmed: collapsing whitespace left at most one
    # space on either side of a separator.
    if " \x01" in joined:
        joined = joined.replace(" \x01", "\x01")
    if "\x01 " in joined:
        joined = joined.replace("\x01 ", "\x01")
    return joined


# --- back to the original ----------------------------------------------------


class _Arrays:
    """A stage as two lists: output character i came from input span [starts[i], ends[i])."""

    __slots__ = ("ends", "input_length", "starts")

    def __init__(self, starts: list[int], ends: list[int], input_length: int) -> None:
        self.starts = starts
        self.ends = ends
        self.input_length = input_length

    def start(self, index: int) -> int:
        return self.starts[index] if index < len(self.starts) else self.input_length

    def end(self, index: int) -> int:
        return self.ends[index]


class _Runs:
    """A stage where some runs of input became other text and everything else stayed in place.

    One entry per run (its input span and how many output characters it
    became), looked up by bisection: building it costs a few operations per
    run instead of one per character. Whitespace runs become one space or
    nothing; an ellipsis becomes three dots.
    """

    __slots__ = ("input_length", "outputs", "runs")

    def __init__(self, outputs: list[int], runs: list[tuple[int, int, int]], input_length: int) -> None:
        self.outputs = outputs  # where each run's output begins, in output offsets
        self.runs = runs  # (input start, input end, output length)
        self.input_length = input_length

    def _span(self, index: int) -> tuple[int, int]:
        at = bisect_right(self.outputs, index) - 1
        if at < 0:
            return index, index + 1
        first, stop, produced = self.runs[at]
        offset = index - self.outputs[at]
        if offset < produced:  # inside what the run became
            return first, stop
        offset -= produced
        return stop + offset, stop + offset + 1

    def start(self, index: int) -> int:
        return min(self._span(index)[0], self.input_length)

    def end(self, index: int) -> int:
        return self._span(index)[1]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """``(start(start), end(end - 1))`` for a non-empty span, in one call."""
        return self._span(start)[0], self._span(end - 1)[1]

    def spans(self, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """``span`` of each non-empty ``(start, end)`` in ``pairs``: one call for a document's hits."""
        outputs, runs = self.outputs, self.runs
        mapped: list[tuple[int, int]] = []
        # _span inlined for the start and for end - 1: the point of this
        # method is a loop without calls over every hit of a document.
        for start, end in pairs:
            at = bisect_right(outputs, start) - 1
            if at < 0:
                low = start
            else:
                first, stop, produced = runs[at]
                offset = start - outputs[at]
                low = first if offset < produced else stop + offset - produced
            last = end - 1
            at = bisect_right(outputs, last) - 1
            if at < 0:
                high = end
            else:
                first, stop, produced = runs[at]
                offset = last - outputs[at]
                high = stop if offset < produced else stop + offset - produced + 1
            mapped.append((low, high))
        return mapped

    @property
    def merges(self) -> bool:
        """Whether two output spans can come from one input span (an ellipsis became three dots)."""
        return any(produced > 1 for _first, _stop, produced in self.runs)


Stage = _Arrays | _Runs


class OffsetMap:
    """Maps character offsets in a normalized text back to the text it came from."""

    __slots__ = ("_original_length", "_stages")

    def __init__(self, stages: list[Stage], original_length: int) -> None:
        # Stages run original -> normalized; each maps its output back to its input.
        self._stages = stages
        self._original_length = original_length

    @property
    def identity(self) -> bool:
        """Whether offsets are the same in both texts."""
        return not self._stages

    @property
    def merges(self) -> bool:
        """Whether distinct spans of the normalized text can map to one span of the original."""
        return any(stage.merges if stage.__class__ is _Runs else True for stage in self._stages)

    def spans(self, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """``span`` of each ``(start, end)`` in ``pairs``; for tidied text, in one loop without calls."""
        stages = self._stages
        if not stages:
            return pairs
        if len(stages) == 1 and stages[0].__class__ is _Runs and all(start < end for start, end in pairs):
            return stages[0].spans(pairs)
        span = self.span
        return [span(start, end) for start, end in pairs]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that produced ``[start, end)`` of the normalized text."""
        stages = self._stages
        if len(stages) == 1 and start < end and stages[0].__class__ is _Runs:
            return stages[0].span(start, end)  # tidied text: the common case, in one call
        if start >= end:
            position = start
            for stage in reversed(self._stages):
                position = stage.start(position)
            position = min(position, self._original_length)
            return position, position
        low, high = start, end
        for stage in reversed(self._stages):
            low, high = stage.start(low), stage.end(high - 1)
        return low, max(low, high)


_IDENTITY = OffsetMap([], 0)


def offset_map(original: str, normalized: str | None = None) -> OffsetMap:
    """How offsets in ``normalize_for_matching(original)`` map back into ``original``.

    ``normalized`` may be passed when the caller already has it. When
    normalization kept every character in place (the usual case for Chinese
    text: one character in, one character out, no spaces dropped) this is a
    constant-time check and the identity map.
    """
    if normalized is None:
        normalized = normalize_for_matching(original)
    if len(normalized) == len(original) and _not_simple().search(original) is None:
        return OffsetMap([], len(original)) if original else _IDENTITY
    stages: list[Stage] = []
    folded = _fold(original)
    if not (len(folded) == len(original) and _unsafe().search(original) is None):
        stages.append(_fold_stage(original, folded))
    spaced = _space(folded)
    if spaced != folded:
        stages.append(_space_stage(folded, spaced))
    if len(normalized) != len(spaced):
        stages.append(_aligned_stage(spaced, normalized))
    return OffsetMap(stages, len(original))


def tidied_offset_map(original: str, tidied: str) -> OffsetMap:
    """Offsets in ``tidied`` (``original`` through ``tidy_fields``, nothing else) back in ``original``."""
    if tidied == original:
        return OffsetMap([], len(original))
    return OffsetMap([_runs_stage(_tidied_runs(original), original, tidied)], len(original))


def _tidied_runs(text: str) -> list[tuple[int, int]]:
    """Spans of the whitespace runs and ellipsis runs of a field that went through tidy_fields.

    Such a field holds no whitespace but the kinds tidy_fields looks for
    (any other is a sentinel), so a few substring searches find every run;
    that is several times faster than a regex scanning every character.
    """
    marks: list[int] = []
    for char in TIDIED_CHARACTERS:
        index = text.find(char)
        while index >= 0:
            marks.append(index)
            index = text.find(char, index + 1)
    marks.sort()
    runs: list[tuple[int, int]] = []
    for index in marks:
        if runs and runs[-1][1] == index and (text[index] == "…") == (text[index - 1] == "…"):
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs


def _fold_stage(original: str, folded: str) -> Stage:
    """Per-character map of step 1-2, for texts with characters that expand, shrink or combine."""
    starts: list[int] = []
    ends: list[int] = []
    parts: list[str] = []
    position = 0
    for match in _unsafe_runs().finditer(original):
        first, stop = match.span()
        if first > position:
            first -= 1  # the starter before the run, which it may combine with
        if first > position:  # characters that map one-to-one
            starts.extend(range(position, first))
            ends.extend(range(position + 1, first + 1))
            parts.append(_fold(original[position:first]))
        segment = original[first:stop]
        out = _fold(segment)
        pieces = [_fold(char) for char in segment]
        if "".join(pieces) == out:  # no combining inside: each character owns its output
            for offset, piece in enumerate(pieces):
                starts.extend([first + offset] * len(piece))
                ends.extend([first + offset + 1] * len(piece))
        else:
            starts.extend([first] * len(out))
            ends.extend([stop] * len(out))
        parts.append(out)
        position = stop
    if position < len(original):
        starts.extend(range(position, len(original)))
        ends.extend(range(position + 1, len(original) + 1))
        parts.append(_fold(original[position:]))
    if "".join(parts) != folded:  # pragma: no cover - defensive: fall back to aligning the strings
        return _aligned_stage(original, folded)
    return _Arrays(starts, ends, len(original))


def _space_stage(folded: str, spaced: str) -> Stage:
    """Map of step 3: runs of whitespace became one space or nothing."""
    return _runs_stage([match.span() for match in _WHITESPACE_RUN.finditer(folded)], folded, spaced)


def _runs_stage(runs: list[tuple[int, int]], source: str, target: str) -> Stage:
    """Map from ``source`` to ``target`` where each of ``runs`` (whitespace, or ellipses) was tidied."""
    outputs: list[int] = []
    spans: list[tuple[int, int, int]] = []
    shift = 0  # output length minus input length so far
    length = len(source)
    for first, stop in runs:
        if source[first] == "…":
            produced = 3 * (stop - first)
        else:
            kept = first > 0 and stop < length and not (_CJK_CHAR.match(source, first - 1) and _CJK_CHAR.match(source, stop))
            produced = 1 if kept else 0
        outputs.append(first + shift)
        spans.append((first, stop, produced))
        shift += produced - (stop - first)
    if length + shift != len(target):  # pragma: no cover - defensive
        return _aligned_stage(source, target)
    return _Runs(outputs, spans, length)


def _aligned_stage(source: str, target: str) -> Stage:
    """Map by aligning two strings; for the rare steps that change length unpredictably."""
    starts = [0] * len(target)
    ends = [0] * len(target)
    matcher = difflib.SequenceMatcher(None, source, target, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(j2 - j1):
                starts[j1 + offset] = i1 + offset
                ends[j1 + offset] = i1 + offset + 1
        else:  # replace or insert: the output characters come from the whole input span
            for j in range(j1, j2):
                starts[j] = i1
                ends[j] = max(i2, i1 + 1) if i1 < len(source) else i1
    return _Arrays(starts, ends, len(source))


# Characters whose normal form is not exactly one character standing on its
# own: they expand (… -> ...), vanish into a neighbour (e + combining acute),
# or are the second half of a composition (Hangul jamo). Texts without them
# map back one-to-one. Computed once, on first need, from the running
# Python's Unicode database.
def _unsafe() -> re.Pattern[str]:
    return _unsafe_patterns()[0]


def _unsafe_runs() -> re.Pattern[str]:
    return _unsafe_patterns()[1]


def _not_simple() -> re.Pattern[str]:
    return _unsafe_patterns()[2]


# Both are built once, on first use (two threads meeting the first use may both build; they get equal results).
_COMPOSITION: tuple[frozenset[str], tuple[str, ...]] | None = None


def _composition_data() -> tuple[frozenset[str], tuple[str, ...]]:
    """(characters NFKC may attach to the one before, characters with a decomposition or case mapping)."""
    global _COMPOSITION  # noqa: PLW0603 - computed once, or read from the kept tables
    if _COMPOSITION is None:
        _COMPOSITION = _derive_composition_data()
    return _COMPOSITION


def _derive_composition_data() -> tuple[frozenset[str], tuple[str, ...]]:
    seconds = {chr(cp) for cp in range(0x1161, 0x1176)} | {chr(cp) for cp in range(0x11A8, 0x11C3)}
    candidates: list[str] = []
    # Unified ideographs (half the code points looked at) have no decomposition, no case and
    # combine with nothing: their blocks (extension A, the main block, and the supplementary
    # and tertiary ideographic planes but for the compatibility ideographs at U+2F800) are skipped.
    for cp in (
        *range(0x3400),
        *range(0x4DC0, 0x4E00),
        *range(0xA000, 0xD800),
        *range(0xE000, 0x20000),
        *range(0x2F800, 0x30000),
        *range(0xE0000, 0xE01F0),
    ):
        char = chr(cp)
        if unicodedata.combining(char):
            seconds.add(char)
        decomposition = unicodedata.decomposition(char)
        if decomposition:
            candidates.append(char)
            if not decomposition.startswith("<"):
                parts = decomposition.split()
                if len(parts) == 2:
                    seconds.add(chr(int(parts[1], 16)))
        elif char.casefold() != char:
            candidates.append(char)
    return (frozenset(seconds), tuple(candidates))


@functools.cache
def _unsafe_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """(one unsafe character, runs of them, one unsafe character or whitespace)."""
    seconds, candidates = _composition_data()
    unsafe = set(seconds)
    for char in candidates:
        folded = _fold(char)
        if len(folded) != 1 or any(part in seconds for part in _nfkc("NFKD", char) + folded):
            unsafe.add(char)
    body = _ranges_class(unsafe)
    return re.compile(f"[{body}]"), re.compile(f"[{body}]+"), re.compile(f"[{body}\\s]")


# --- the derived tables, kept between processes ---------------------------------
#
# The tables above are a function of the running Python's Unicode database,
# OpenCC's dictionaries and this module's code. Deriving them takes about
# 0.2 s, most of what a short-lived process (`yuqing risk validate`) spends
# on its first rule set besides the rules themselves, so they are kept in a
# file named by a digest of all three and read back by later processes. The
# file is only a cache: a missing, unreadable or malformed one is derived
# again (and rewritten when the directory is writable).


class _DerivedTables(NamedTuple):
    changing: frozenset[str]
    one_to_one: dict[str, str]
    needs_work_class: str  # the BMP part of ``changing`` as the body of a regex class


def _table_cache_path(opencc_module: Any) -> Path | None:
    """Where this process's tables are kept: ``$YUQING_CACHE_DIR``, else ``$XDG_CACHE_HOME/yuqing``, else ``~/.cache/yuqing``."""
    directory = os.environ.get("YUQING_CACHE_DIR")
    if not directory:
        xdg = os.environ.get("XDG_CACHE_HOME")
        try:
            directory = str(Path(xdg) / "yuqing") if xdg else str(Path.home() / ".cache" / "yuqing")
        except RuntimeError:  # no home directory
            return None
    opencc_version = "none"
    if opencc_module is not None:
        known = getattr(opencc_module, "__version__", None)
        if not isinstance(known, str):  # its dictionaries are unknown
            return None
        opencc_version = f"{known} at {getattr(opencc_module, '__file__', None)}"
    try:
        source = Path(__file__).read_bytes()
    except OSError:
        return None
    digest = hashlib.sha256(source)
    digest.update(f"|{sys.version}|{unicodedata.unidata_version}|opencc {opencc_version}".encode())
    return Path(directory) / f"normalization-{digest.hexdigest()[:24]}.json"


def _normalizer_from_cache(opencc_module: Any) -> _Normalizer | None:
    """The routine from the kept tables, or None when there are none for this process."""
    global _COMPOSITION  # noqa: PLW0603 - seeded from the file instead of derived
    path = _table_cache_path(opencc_module)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        strings = [data[key] for key in ("seconds", "candidates", "changing", "one_to_one", "images", "needs_work")]
        triggers = data["t2s_triggers"], data["t2s_class"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(isinstance(value, str) for value in strings) or len(strings[3]) != len(strings[4]):
        return None
    seconds, candidates, changing, keys, images, needs_work = strings
    if opencc_module is None:
        t2s = None
    elif all(isinstance(value, str) for value in triggers):
        t2s = _TraditionalToSimplified(opencc_module, (frozenset(triggers[0]), triggers[1]))
    else:
        return None
    if _COMPOSITION is None:
        _COMPOSITION = (frozenset(seconds), tuple(candidates))
    return _Normalizer(t2s, _DerivedTables(frozenset(changing), dict(zip(keys, images, strict=True)), needs_work))


def _normalizer_computed(opencc_module: Any) -> _Normalizer:
    """The routine with its tables derived, which are then kept for later processes where possible."""
    t2s = None if opencc_module is None else _TraditionalToSimplified(opencc_module)
    routine = _Normalizer(t2s)
    path = _table_cache_path(opencc_module)
    if path is not None:
        seconds, candidates = _composition_data()
        data = {
            "seconds": "".join(sorted(seconds)),
            "candidates": "".join(candidates),
            "changing": "".join(sorted(routine.changing)),
            "one_to_one": "".join(routine.one_to_one),
            "images": "".join(routine.one_to_one.values()),
            "needs_work": routine.needs_work_class,
            "t2s_triggers": None if t2s is None else "".join(sorted(t2s.trigger_characters)),
            "t2s_class": None if t2s is None else t2s.trigger_class,
        }
        # A read-only or full disk (or a character UTF-8 cannot carry): derived again next time.
        with contextlib.suppress(OSError, ValueError):
            write_atomically(path, json.dumps(data, ensure_ascii=False).encode("utf-8"), durable=False)
    return routine
