"""Matching many rules against many documents: ``RuleSet``.

How a document is matched:

1. Title and text are joined (with a control character between them that
   no term contains). Line breaks, spaces and ellipses are tidied the way
   normalization does them (``tidy_fields``, cheap; most texts need nothing).
2. One Aho-Corasick automaton holds every term of every rule (phrases and
   ``near()`` arguments included), the literal strings that regular
   expressions cannot match without, and, as single-character "sentinel"
   patterns, every character that normalization would still change in a
   way that matters to these terms (traditional characters, upper case when
   a term has letters, ...; see ``Normalizer.sentinels``). The joined text
   is scanned once, with overlapping matches. If no sentinel is met, that
   scan is exactly the scan of the normal form, offsets included; otherwise
   the fields are normalized in full and scanned again. The source name is
   scanned separately, and only when some rule has ``source:``.
3. Each rule is indexed, when the set is built, under the terms of the
   clause it cannot be true without that documents contain least often
   (for ``(a | b) & (c | d) & !e``: ``{a, b}`` or ``{c, d}``), measured
   (``term_frequencies``) or guessed; a second such clause is checked
   before its evaluator runs. Only rules indexed under a found term are
   looked at, plus the few that can be true with no term at all (``!广告``).
   Cost grows with the text and the number of plausible rules, not with the
   size of the library.
4. A candidate's tree is evaluated by closures compiled once per rule;
   groups of plain terms become set operations done in C. The usual rule,
   groups of terms some of which are negated (``(a | b) & c & !(d | e)``),
   is checked by the matching loop itself, with no call and no per-document
   scan object unless it is true. ``near()``,
   ``w:`` terms and regular expressions are looked at only when the boolean
   evaluation reaches them, cheapest operands first; a regex only runs when
   the literal strings it cannot match without were found.
5. For a rule that is true, the evidence (the hits that made it true) is
   collected and mapped back to offsets in the original field text; the
   term hits of a matching document are made once and shared by its rules.

A ``RuleSet`` is immutable after construction and safe to share between
threads; of the lazily built shared state, the jieba tokenizer for ``w:``
terms and the cache of normalized source names are guarded by locks, and a
rule compiled on first use by two threads at once is compiled twice into
equal closures (each stored by one list assignment).
"""

from __future__ import annotations

import contextlib
import gc
import re
import threading
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

import ahocorasick_rs

from yuqing_core.errors import InvalidInput

from ._ast import FIELDS, REGEX_FLAGS, And, Near, Node, Not, Or, Regex, Scope, Term, slot_setter
from ._normalize import (
    FIELD_SEPARATOR,
    OffsetMap,
    fold_fields,
    normalize_fields,
    normalize_for_matching,
    normalizer,
    offset_map,
    tidied_offset_map,
    tidy_fields,
)
from ._prefilter import required_literals
from ._syntax import RuleSyntaxError, parse_rule
from ._words import WordSegmenter, dictionary_frequencies

__all__ = ["MatchText", "RuleMatch", "RuleSet", "RuleSetError", "TermHit"]

# Where an unscoped term is looked for.
_ANY = "any"
_FIELDS_OF_SCOPE = {_ANY: ("title", "text"), "title": ("title",), "text": ("text",), "source": ("source",)}
_FIELD_ORDER = {field: index for index, field in enumerate(FIELDS)}
_MAX_SOURCE_CACHE = 4096
_first = itemgetter(0)
_start = itemgetter(1)
_end = itemgetter(2)
_start_end = itemgetter(1, 2)


@dataclass(frozen=True, slots=True)
class MatchText:
    """What rules are matched against: an item's title and text, and the name of its source."""

    title: str = ""
    text: str = ""
    source: str = ""


class TermHit(NamedTuple):
    """One piece of evidence: ``term`` found in ``field`` at ``[start, end)`` of the original field text.

    ``term`` is the term as the library holds it (normalized), ``w:民政`` for
    a word-boundary term, ``/pattern/`` for a regular expression.

    A named tuple rather than a frozen dataclass: a matching document makes
    about ten of these, and a tuple is made in one C call (a fifth of the
    cost), which counts in the matching loop.
    """

    term: str
    field: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that is true for a document, with the hits that made it true.

    ``hits`` holds the positive evidence (for ``a & !b`` the hits of ``a``;
    for ``a | b`` whichever were found; for ``near()`` the occurrences that
    were near each other), without duplicates, ordered by field (title,
    text, source), then start and end offsets.
    """

    key: Any
    hits: tuple[TermHit, ...]


class RuleSetError(InvalidInput):
    """Rules that cannot be used; ``errors`` lists every ``(key, RuleSyntaxError)`` at once."""

    def __init__(self, errors: list[tuple[Any, RuleSyntaxError]]) -> None:
        self.errors = list(errors)
        super().__init__(self.errors)

    def __str__(self) -> str:
        lines = [f"{len(self.errors)} 条规则有误："]
        lines.extend(f"规则 {key}：{error}" for key, error in self.errors)
        return "\n".join(lines)

    def __reduce__(self) -> tuple[type[RuleSetError], tuple[list[tuple[Any, RuleSyntaxError]]]]:
        return (RuleSetError, (self.errors,))


Evaluate = Callable[["_Scan"], bool]
# The usual rule's shape (see _Compiled.plain): groups that must each be found, patterns none of which may be.
Plain = tuple[tuple[frozenset[int], ...], frozenset[int]]
# A rule not compiled yet (RuleSet._compile_rule): a shape no compiled rule has.
_UNCOMPILED: Plain = ((), frozenset())


def _not_compiled(scan: _Scan) -> Any:  # pragma: no cover - the loop compiles a rule before calling it
    raise AssertionError("rule not compiled")


_EMPTY: frozenset[int] = frozenset()


class RuleSet:
    """A compiled rule library: ``match`` one document, ``match_many`` a stream of them.

    ``rules`` is an iterable of ``(key, expression)`` pairs (or a mapping),
    where the expression is rule text or a syntax tree and the key is any
    hashable value (a database id, a name). Every bad expression is
    reported at once in a ``RuleSetError``. ``user_words`` are extra words
    for the segmentation that decides ``w:`` terms (place and unit names).

    ``term_frequencies`` (optional) maps normalized terms to the share of
    documents that contain them, as measured by ``term_frequencies()`` on
    recent items. It only steers which terms index each rule (a rule is
    looked at when its rarest required terms occur), so results never
    depend on it, only speed: without it, the share is guessed from how
    many rules use a term and how common the word is in general Chinese.

    >>> rules = RuleSet([("chem", '(濮阳县 | 濮阳) & ("化工厂 泄漏" | 爆炸) & !广告')])
    >>> [m.key for m in rules.match(MatchText(title="濮阳县化工厂泄漏", text="..."))]
    ['chem']
    """

    def __init__(
        self,
        rules: Iterable[tuple[Hashable, str | Node]] | Mapping[Hashable, str | Node],
        user_words: Iterable[str] = (),
        term_frequencies: Mapping[str, float] | None = None,
    ) -> None:
        with _bulk_allocation():
            self._build(rules, user_words, term_frequencies)

    def _build(
        self,
        rules: Iterable[tuple[Hashable, str | Node]] | Mapping[Hashable, str | Node],
        user_words: Iterable[str],
        term_frequencies: Mapping[str, float] | None,
    ) -> None:
        keys, nodes = _read_rules(rules)
        self._keys: tuple[Any, ...] = tuple(keys)
        self._nodes: tuple[Node, ...] = tuple(nodes)
        self._index_of_key = {key: index for index, key in enumerate(keys)}
        self._user_words = tuple(user_words)
        self._term_frequencies = dict(term_frequencies) if term_frequencies is not None else None

        # Patterns of the automaton: every distinct term first (ids below
        # _term_count), then the literals that prefilter regular expressions.
        self._pids: dict[str, int] = {}
        self._patterns: list[str] = []
        self._regexes: dict[str, re.Pattern[str]] = {}
        self._uses_source = False
        # Per rule: the ids of the patterns it uses, and the clauses it cannot be true without.
        used_by_rule: list[set[int]] = []
        clauses_of_rule: list[list[frozenset[int]]] = []
        with_regexes: list[tuple[int, list[str]]] = []
        for index, node in enumerate(nodes):
            used: set[int] = set()
            regexes: list[str] = []
            clauses_of_rule.append(self._analyse(node, _ANY, used, regexes))
            used_by_rule.append(used)
            if regexes:
                with_regexes.append((index, regexes))
        self._term_count = len(self._patterns)
        # Each factor: patterns one of which every match of the regex contains.
        self._regex_factors: dict[str, tuple[frozenset[int], ...]] = {}
        for pattern in self._regexes:
            factors = required_literals(pattern, REGEX_FLAGS)
            if factors:
                self._regex_factors[pattern] = tuple(frozenset(map(self._pid_of, factor)) for factor in factors)
        # The literals of a regex have their ids only now: its rules are looked at again.
        for index, regexes in with_regexes:
            clauses_of_rule[index] = self._analyse(nodes[index], _ANY, set(), None)
            for pattern in regexes:
                used_by_rule[index].update(*self._regex_factors.get(pattern, ()))

        # Then single characters that normalization would change (see
        # Normalizer.sentinels): a raw text in which the scan meets none of
        # them needs no normalization, which is most Chinese text.
        # A sentinel is added even when it is also a term (坏 is both a word and
        # part of phrases OpenCC rewrites): the automaton reports both ids.
        self._sentinel_base = base = len(self._patterns)
        self._patterns.extend(sorted(normalizer().sentinels(frozenset("".join(self._patterns)))))
        self._automaton = ahocorasick_rs.AhoCorasick(self._patterns)
        self._find = self._automaton.find_matches_as_indexes
        self._segmenter = WordSegmenter(
            self._patterns[: self._term_count],
            (normalize_for_matching(word) for word in self._user_words if word and word.strip()),
        )

        # Index each rule under the rarest clause it needs. Its evaluator is
        # compiled when it is first a candidate (_compile_rule): most rules of
        # a library are never looked at by most runs (a backtest, a day's
        # items), and compiling them all was a third of building the set.
        uses = Counter(pid for used in used_by_rule for pid in used)
        indexable = self._patterns[:base]  # terms and regex literals; sentinels index nothing
        if term_frequencies is None:
            corpus = dictionary_frequencies(indexable)
            weights = [_guessed_frequency(text, uses[pid], len(nodes), corpus.get(text)) for pid, text in enumerate(indexable)]
        else:
            # Measured: the share of documents holding the term is what a
            # rule's index costs; the number of rules breaks ties.
            weights = [float(term_frequencies.get(text, 0.0)) + uses[pid] * 1e-9 for pid, text in enumerate(indexable)]
        self._compiled_groups: dict[tuple[str, frozenset[int]], _Compiled] = {}
        triggers: list[set[int]] = [set() for _ in indexable]
        always: list[int] = []
        second: list[frozenset[int] | None] = []
        for index, necessary in enumerate(clauses_of_rule):
            clauses = sorted(
                set(necessary),
                key=lambda clause: (sum(weights[pid] for pid in clause), len(clause), sorted(clause)),
            )
            if clauses:
                for pid in clauses[0]:
                    triggers[pid].add(index)
            else:
                always.append(index)
            # A second clause is checked before the rule's evaluator is called:
            # most candidates fail there, at the cost of one set operation.
            second.append(clauses[1] if len(clauses) > 1 else None)
        self._triggers: list[frozenset[int]] = [frozenset(t) if t else _EMPTY for t in triggers]
        self._trigger_pids = frozenset(pid for pid, rule_indexes in enumerate(triggers) if rule_indexes)
        self._wanted = self._trigger_pids | frozenset(range(base, len(self._patterns)))
        self._always: frozenset[int] = frozenset(always)
        self._second: tuple[frozenset[int] | None, ...] = tuple(second)
        # Per indexing pattern: every pattern that could let one of its rules
        # past the second-clause check (all of them if a rule has no second clause).
        everything = frozenset(range(len(self._patterns)))
        self._second_union: list[frozenset[int]] = [
            _EMPTY
            if not rules
            else everything
            if any(second[rule] is None for rule in rules)
            else frozenset[int]().union(*(clause for rule in rules if (clause := second[rule]) is not None))
            for rules in triggers
        ]
        # Filled by _compile_rule. Threads compiling one rule at once store
        # equal closures, one assignment each: no lock needed.
        self._evaluators: list[Evaluate] = [_not_compiled] * len(nodes)
        self._explainers: list[Callable[[_Scan], tuple[TermHit, ...]]] = [_not_compiled] * len(nodes)
        self._evidence: list[frozenset[int] | None] = [None] * len(nodes)
        self._plain: list[Plain | None] = [_UNCOMPILED] * len(nodes)
        self._source_cache: dict[str, tuple[str, list[tuple[int, int, int]], frozenset[int]]] = {}
        self._source_lock = threading.Lock()

    def _compile_rule(self, index: int) -> Plain | None:
        """Compile rule ``index`` (once; see __init__) and return its shape for the matching loop."""
        compiled = _compile(self._nodes[index], _ANY, self)
        self._evaluators[index] = compiled.evaluate
        self._explainers[index] = _rule_hits(compiled)
        self._evidence[index] = compiled.evidence
        self._plain[index] = compiled.plain
        return compiled.plain

    def _analyse(self, node: Node, scope: str, used: set[int], regexes: list[str] | None) -> list[frozenset[int]]:
        """Give each term of ``node`` its pattern id (collected in ``used``); return the clauses it cannot be true without.

        A clause is a set of patterns one of which is in the title or text.
        The literals of a regular expression get their ids after every term:
        until they have them, a regex adds no clause but is listed in
        ``regexes``, and the caller walks its rule again with ``regexes=None``.
        """
        searched = scope != "source"  # the source name is not scanned with title and text
        # Terms are most nodes of a library: they are looked at in their parent's loop, without a call each.
        if isinstance(node, And):
            clauses: list[frozenset[int]] = []
            for operand in node.operands:
                if isinstance(operand, Term):
                    pid = self._pid_of(operand.text)
                    used.add(pid)
                    if searched:
                        clauses.append(frozenset((pid,)))
                else:
                    clauses.extend(self._analyse(operand, scope, used, regexes))
            return clauses
        if isinstance(node, Or):
            union: set[int] = set()
            complete = searched
            for operand in node.operands:
                if isinstance(operand, Term):
                    pid = self._pid_of(operand.text)
                    used.add(pid)
                    union.add(pid)
                    continue
                operand_clauses = self._analyse(operand, scope, used, regexes)
                if not operand_clauses:
                    complete = False
                elif complete:
                    smallest = min(operand_clauses, key=len)
                    union.update(smallest)
            return [frozenset(union)] if complete else []
        if isinstance(node, Term):
            pid = self._pid_of(node.text)
            used.add(pid)
            return [frozenset((pid,))] if searched else []
        if isinstance(node, Near):
            left, right = self._pid_of(node.left.text), self._pid_of(node.right.text)
            used.update((left, right))
            return [frozenset((left,)), frozenset((right,))] if searched else []
        if isinstance(node, Regex):
            if regexes is None:
                return list(self._regex_factors.get(node.pattern, ())) if searched else []
            if node.pattern not in self._regexes:
                self._regexes[node.pattern] = re.compile(node.pattern, REGEX_FLAGS)
            regexes.append(node.pattern)
            return []
        if isinstance(node, Scope):
            self._uses_source = self._uses_source or node.field == "source"
            return self._analyse(node.operand, node.field, used, regexes)
        if isinstance(node, Not):
            self._analyse(node.operand, scope, used, regexes)
        return []  # Not: true without any term

    def _pid_of(self, text: str) -> int:
        pid = self._pids.get(text)
        if pid is None:
            pid = self._pids[text] = len(self._patterns)
            self._patterns.append(text)
        return pid

    # --- public surface ----------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"<RuleSet of {len(self._keys)} rules, {self._term_count} terms>"

    @property
    def keys(self) -> tuple[Any, ...]:
        """The rule keys in registration order."""
        return self._keys

    @property
    def terms(self) -> frozenset[str]:
        """Every distinct normalized term of the library (for hot words, jieba user dictionaries)."""
        return frozenset(self._patterns[: self._term_count])

    def rule(self, key: Any) -> Node:
        """The syntax tree of the rule registered under ``key`` (``KeyError`` if there is none)."""
        return self._nodes[self._index_of_key[key]]

    def __reduce__(self) -> tuple[Any, ...]:
        # Compiled closures and the automaton cannot be pickled; the rules
        # can, and rebuilding from them gives the same rule set (for process
        # pools and Dask workers).
        return (RuleSet, (list(zip(self._keys, self._nodes, strict=True)), self._user_words, self._term_frequencies))

    def term_frequencies(self, documents: Iterable[MatchText]) -> dict[str, float]:
        """The share of ``documents`` whose title or text contains each term of this rule set.

        Scans like ``match`` does, without evaluating rules. Meant for a
        sample of recent items; pass the result as ``term_frequencies`` when
        building the next ``RuleSet`` so that rules are indexed under the
        terms that are actually rare.
        """
        counts: Counter[int] = Counter()
        total = 0
        for document in documents:
            total += 1
            title = (document.title or "").replace(FIELD_SEPARATOR, _SEPARATOR_STAND_IN)
            text = (document.text or "").replace(FIELD_SEPARATOR, _SEPARATOR_STAND_IN)
            found = set(map(_first, self._find(tidy_fields(title + FIELD_SEPARATOR + text), True)))
            if found and max(found) >= self._sentinel_base:
                found = set(map(_first, self._find(normalize_fields(title, text), True)))
            counts.update(found)
        if not total:
            return {}
        return {text: counts[pid] / total for pid, text in enumerate(self._patterns[: self._sentinel_base])}

    def match(self, document: MatchText) -> list[RuleMatch]:
        """The rules true for ``document``, one ``RuleMatch`` each, in registration order."""
        for _index, matches in self._matches((document,)):
            return matches
        return []

    def match_many(self, documents: Iterable[MatchText]) -> Iterator[tuple[int, list[RuleMatch]]]:
        """``(index, matches)`` for each document with at least one match, in input order.

        Streams: documents are read one at a time, so a generator over a
        database cursor works, and nothing is kept between documents.
        """
        return self._matches(documents)

    # --- matching ------------------------------------------------------------------

    def _matches(self, documents: Iterable[MatchText]) -> Iterator[tuple[int, list[RuleMatch]]]:
        # One loop for both entry points, with everything it touches per
        # document bound to locals: most documents leave after the scan.
        find = self._find
        sentinel_base = self._sentinel_base
        trigger_sets = self._triggers.__getitem__
        trigger_pids = self._trigger_pids
        wanted = self._wanted
        second_union = self._second_union
        always = self._always
        second = self._second
        evaluators = self._evaluators
        explainers = self._explainers
        plain = self._plain
        evidence = self._evidence
        keys = self._keys
        separator = FIELD_SEPARATOR
        for index, document in enumerate(documents):
            title = document.title or ""
            text = document.text or ""
            scanned = title + separator + text
            # Whitespace and ellipses are tidied first, cheaply: paragraphs,
            # stray spaces and …… are common, and everything else
            # normalization does can then be left undone unless the scan
            # meets a sentinel. (The test is needs_tidying, inlined.)
            if not ("\n" in scanned or " " in scanned or "…" in scanned or "\u3000" in scanned or "\t" in scanned):
                mode = _RAW
            elif separator in title or separator in text:
                mode = _NORMALIZED
            else:
                scanned = tidy_fields(scanned)
                mode = _TIDIED
            if mode is not _NORMALIZED:
                hits = find(scanned, True)  # overlapping; positional is cheaper to pass
                # One pass in C over the hits answers both questions for most
                # documents: nothing to normalize, and no pattern that indexes a rule.
                hot = wanted.intersection(map(_first, hits))
                if hot and max(hot) >= sentinel_base:
                    mode = _NORMALIZED
            if mode is _NORMALIZED:  # scan the normal form instead
                if separator in title or separator in text:
                    title = title.replace(separator, _SEPARATOR_STAND_IN)
                    text = text.replace(separator, _SEPARATOR_STAND_IN)
                scanned = normalize_fields(title, text)
                hits = find(scanned, True)  # overlapping; positional is cheaper to pass
                hot = trigger_pids.intersection(map(_first, hits))
            if hot:
                if not always and len(hot) == 1:
                    (pid,) = hot
                    # Most documents that hold an indexing term hold none of the
                    # second clauses of the rules it indexes: one pass in C.
                    if second_union[pid].isdisjoint(map(_first, hits)):
                        continue
                    candidates = trigger_sets(pid)
                else:
                    candidates = always.union(*map(trigger_sets, hot))
                found = set(map(_first, hits))
            elif always:
                found = set(map(_first, hits))
                candidates = always
            else:
                continue
            scan = None
            true_rules = []
            for rule in sorted(candidates):
                clause = second[rule]
                if clause is not None and found.isdisjoint(clause):
                    continue  # most candidates leave here, at the cost of one set operation
                shape = plain[rule]
                if shape is _UNCOMPILED:
                    shape = self._compile_rule(rule)
                if shape is None:
                    if scan is None:
                        scan = _Scan(self, document, title, text, scanned, mode, hits, found)
                    if evaluators[rule](scan):
                        true_rules.append(rule)
                elif found.isdisjoint(shape[1]):
                    # The usual rule: each group found, none of the excluded (the evaluator of
                    # _compile_and, inlined: no call, no scan object for the many that fail).
                    for group in shape[0]:
                        if found.isdisjoint(group):
                            break
                    else:
                        true_rules.append(rule)
            if true_rules:
                if scan is None:
                    scan = _Scan(self, document, title, text, scanned, mode, hits, found)
                matches = []
                for rule in true_rules:
                    pids = evidence[rule]
                    matches.append(_new_match(keys[rule], explainers[rule](scan) if pids is None else scan.group_hits(pids)))
                yield index, matches

    def _source(self, source: str) -> tuple[str, list[tuple[int, int, int]], frozenset[int]]:
        """The normalized source name, its hits and found patterns (cached: sources repeat)."""
        cached = self._source_cache.get(source)
        if cached is None:
            normalized = normalize_for_matching(source)
            hits = self._find(normalized, True) if normalized else []
            cached = (normalized, hits, frozenset(map(_first, hits)))
            with self._source_lock:
                if len(self._source_cache) >= _MAX_SOURCE_CACHE:
                    self._source_cache.clear()
                self._source_cache[source] = cached
        return cached


@contextlib.contextmanager
def _bulk_allocation() -> Iterator[None]:
    """No cyclic garbage collection while a rule set is built.

    A library of 10,000 rules makes hundreds of thousands of small objects
    and no cycles; the collector's full passes over a young process's heap,
    triggered by the allocations alone, were a fifth of the build. It is
    switched back on after (unless it was off before), whatever happens.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_rules(rules: Iterable[tuple[Hashable, str | Node]] | Mapping[Hashable, str | Node]) -> tuple[list[Any], list[Node]]:
    """Keys and syntax trees of the rules; every syntax error at once, then duplicate keys."""
    pairs = list(rules.items()) if isinstance(rules, Mapping) else list(rules)
    keys: list[Any] = []
    nodes: list[Node] = []
    errors: list[tuple[Any, RuleSyntaxError]] = []
    for pair in pairs:
        try:
            key, expression = pair
        except (TypeError, ValueError):
            raise TypeError("每条规则应为 (键, 表达式) 二元组") from None
        if isinstance(expression, str):
            try:
                node = parse_rule(expression)
            except RuleSyntaxError as exc:
                errors.append((key, exc))
                continue
        elif isinstance(expression, (Term, Regex, Near, Not, And, Or, Scope)):
            node = expression
        else:
            raise TypeError(f"规则 {key!r} 的表达式应为文本或语法树，而不是 {type(expression).__name__}")
        keys.append(key)
        nodes.append(node)
    if errors:
        raise RuleSetError(errors)
    duplicates = [key for key, count in Counter(keys).items() if count > 1]
    if duplicates:
        raise InvalidInput(f"规则键重复：{'、'.join(map(repr, duplicates))}")
    return keys, nodes


def _guessed_frequency(text: str, uses: int, rules: int, corpus_count: int | None) -> float:
    """A guess at the share of documents containing a term, when none was measured.

    Two hints, the larger wins: a term most rules use (the county's place
    names) is in most local news, a term few rules use (an enterprise's
    name) in little; and a word common in general Chinese (jieba's corpus
    count: 村民, 工人) is common in any text. Short terms count as commoner.
    """
    by_library = 0.5 * uses / max(rules, 1)
    by_corpus = 2e-5 * corpus_count if corpus_count else 0.0
    return max(by_library, by_corpus) * _LENGTH_WEIGHT.get(len(text), 1.0) + 1e-9 * uses


# Short terms are frequent in text: prefer other clauses as triggers.
_LENGTH_WEIGHT = {1: 8.0, 2: 2.0}
# A field containing the separator is read with this character in its place
# (a control character either way; offsets are unchanged).
_SEPARATOR_STAND_IN = "\x02"
# What the scanned text of a document is: the raw fields; the fields with
# whitespace and ellipses done as normalization does them; the normalized
# fields. In the first two, what normalization would still do only turns
# characters into single characters no pattern contains.
_RAW, _TIDIED, _NORMALIZED = "raw", "tidied", "normalized"


class _Scan:
    """One document as the evaluators see it; everything beyond the found set is built on demand.

    Derived facts (per-field found sets and positions, normalized field
    texts, segmentations, regex results, evidence, hit objects) live in one
    memo dict, created with the scan, under keys tagged by kind.
    """

    __slots__ = ("any", "document", "matches", "memo", "normal", "raw", "ruleset", "scanned", "separator", "text", "title")

    def __init__(
        self,
        ruleset: RuleSet,
        document: MatchText,
        title: str,
        text: str,
        scanned: str,
        mode: str,
        hits: list[tuple[int, int, int]],
        found: set[int],
    ) -> None:
        self.ruleset = ruleset
        self.document = document
        self.title = title  # the fields as scanned (the separator replaced if a field held it)
        self.text = text
        self.scanned = scanned  # title + separator + text: raw, whitespace tidied, or normalized
        self.raw = mode is _RAW  # offsets in scanned are offsets in the original fields
        self.normal = mode is _NORMALIZED  # scanned is the normal form; otherwise folding it gives that, same length
        self.matches = hits  # (pattern id, start, end) in scanned
        self.any = found  # patterns found in title or text
        # Raw text may hold the separator, but its title ends where it did.
        self.separator = len(title) if self.raw else scanned.index(FIELD_SEPARATOR)
        self.memo: dict[Any, Any] = {}

    # -- per field, in normalized coordinates --

    def normalized(self, field: str) -> str:
        """The normalized text of ``field``."""
        key = ("normalized", field)
        text = self.memo.get(key)
        if text is None:
            if field == "source":
                text = self.ruleset._source(self.document.source or "")[0]
            else:
                # Unless normalized, the scanned text only holds characters
                # case folding and NFKC turn into one other character: folding
                # is all it needs, and the title still ends at the separator.
                joined = self.scanned if self.normal else fold_fields(self.scanned)
                self.memo[("normalized", "title")] = joined[: self.separator]
                self.memo[("normalized", "text")] = joined[self.separator + 1 :]
                normalized: str = self.memo[key]
                return normalized
            self.memo[key] = text
        return text

    def found_in(self, field: str) -> Any:
        """The set of pattern ids found in ``field``."""
        key = ("found", field)
        found = self.memo.get(key)
        if found is None:
            if field == "source":
                found = self.ruleset._source(self.document.source or "")[2]
            else:
                # The automaton reports matches in order of their end, and none
                # spans the separator: the title's matches come first.
                split = bisect_right(self.matches, self.separator, key=_end)
                self.memo[("found", "title")] = set(map(_first, self.matches[:split]))
                self.memo[("found", "text")] = set(map(_first, self.matches[split:]))
                return self.memo[key]
            self.memo[key] = found
        return found

    def starts(self, field: str, pid: int) -> list[int]:
        """Sorted start offsets of every occurrence of pattern ``pid`` in ``field``."""
        key = ("starts", field, pid)
        starts = self.memo.get(key)
        if starts is None:
            # Matches come in order of their end; one pattern's ends and starts
            # are in the same order.
            if field == "source":
                source_hits = self.ruleset._source(self.document.source or "")[1]
                starts = [start for hit_pid, start, _end in source_hits if hit_pid == pid]
            elif field == "title":
                separator = self.separator
                starts = [start for hit_pid, start, _end in self.matches if hit_pid == pid and start < separator]
            else:
                shift = self.separator + 1
                starts = [start - shift for hit_pid, start, _end in self.matches if hit_pid == pid and start >= shift]
            self.memo[key] = starts
        return starts

    def word_starts(self, field: str, pid: int) -> list[int]:
        """Like ``starts`` but only occurrences on word boundaries (segments the field once)."""
        starts = self.starts(field, pid)
        if not starts:
            return starts
        key = ("bounds", field)
        bounds = self.memo.get(key)
        if bounds is None:
            bounds = self.memo[key] = self.ruleset._segmenter.boundaries(self.normalized(field))
        length = len(self.ruleset._patterns[pid])
        return [start for start in starts if start in bounds and start + length in bounds]

    def term_starts(self, field: str, term: Term) -> list[int]:
        pid = self.ruleset._pids[term.text]
        if pid not in self.found_in(field):
            return _NO_POSITIONS
        return self.word_starts(field, pid) if term.word else self.starts(field, pid)

    def regex_found(self, field: str, pattern: str) -> bool:
        """Whether the regex finds a match in ``field`` (searched once per document and field)."""
        key = ("regex", pattern, field)
        result = self.memo.get(key)
        if result is None:
            factors = self.ruleset._regex_factors.get(pattern, ())
            if field != "source" and any(self.any.isdisjoint(factor) for factor in factors):
                result = False  # the document-wide set is cheap and usually enough to say no
            elif any(self.found_in(field).isdisjoint(factor) for factor in factors):
                result = False
            else:
                result = self.ruleset._regexes[pattern].search(self.normalized(field)) is not None
            self.memo[key] = result
        return result

    # -- evidence --

    def term_spans(self, term: Term, scope: str) -> Spans:
        """Every occurrence of ``term`` (word boundaries checked for ``w:``) in ``scope`` as evidence."""
        if not term.word:
            return self.pattern_spans(self.ruleset._pids[term.text], scope)
        key = ("word spans", term.text, scope)
        spans = self.memo.get(key)
        if spans is None:
            spans = []
            length = len(term.text)
            label = term.label
            for field in _FIELDS_OF_SCOPE[scope]:
                order = _FIELD_ORDER[field]
                spans.extend((order, start, start + length, label) for start in self.term_starts(field, term))
            self.memo[key] = spans
        return spans

    def pattern_spans(self, pid: int, scope: str) -> Spans:
        """Every occurrence of pattern ``pid`` in ``scope`` as evidence."""
        key = ("spans", pid, scope)
        spans = self.memo.get(key)
        if spans is None:
            label = self.ruleset._patterns[pid]
            length = len(label)
            spans = []
            for field in _FIELDS_OF_SCOPE[scope]:
                order = _FIELD_ORDER[field]
                spans.extend((order, start, start + length, label) for start in self.starts(field, pid))
            self.memo[key] = spans
        return spans

    def hits(self, explain: Explain) -> tuple[TermHit, ...]:
        """The evidence of a rule known to be true, in original offsets, ordered by field and position."""
        evidence: Spans = []
        explain(self, evidence)
        spans = {item for item in evidence if item.__class__ is tuple}
        if len(spans) == len(evidence):
            pids = None
        else:
            pids = {item for item in evidence if item.__class__ is int}
            # Whole-pattern evidence as spans too, so that one sort orders
            # everything and the same occurrence found twice counts once.
            separator = self.separator
            shift = separator + 1
            labels = self.ruleset._patterns
            spans.update(
                [
                    (0, start, end, labels[pid]) if start < separator else (1, start - shift, end - shift, labels[pid])
                    for pid, start, end in self.matches
                    if pid in pids
                ]
            )
        memo = self.memo
        hits = [memo.get(span) or self._hit(span) for span in sorted(spans)]
        if len(hits) > 1 and not self.raw and self._maps_merge():
            return tuple(dict.fromkeys(hits))  # distinct spans mapped to one original span
        return tuple(hits)

    def _maps_merge(self) -> bool:
        return "merges" in self.memo  # set by _map when a map that merges is made

    def pattern_hits(self, pids: set[int] | frozenset[int]) -> list[TermHit]:
        """Every occurrence in title and text of the patterns ``pids``, as hits in field and position order.

        Straight from the scan's matches, sorted once per document by their
        place in the scanned text (title before text); no two patterns share
        a span, so that order is total.
        """
        memo = self.memo
        ordered = memo.get("ordered")
        if ordered is None:
            ordered = memo["ordered"] = sorted(self.matches, key=_start_end)
        if not self.raw:
            return [memo.get(match) or self._match_hit(match) for match in ordered if match[0] in pids]
        # Raw offsets are the fields' own: the hits are made right here.
        hits: list[TermHit] = []
        separator = self.separator
        shift = separator + 1
        labels = self.ruleset._patterns
        for match in ordered:
            if match[0] in pids:
                hit = memo.get(match)
                if hit is None:
                    pid, start, end = match
                    if start < separator:
                        hit = memo[match] = _new_hit(labels[pid], "title", start, end)
                    else:
                        hit = memo[match] = _new_hit(labels[pid], "text", start - shift, end - shift)
                hits.append(hit)
        return hits

    def group_hits(self, pids: frozenset[int]) -> tuple[TermHit, ...]:
        """``hits`` for a rule whose evidence is every found pattern among ``pids``."""
        ordered = self.memo.get("term hits")
        if ordered is None:
            ordered = self._term_hits()
        hits = [hit for pid, hit in ordered if pid in pids]
        if len(hits) > 1 and not self.raw and self._maps_merge():
            return tuple(dict.fromkeys(hits))
        return tuple(hits)

    def _term_hits(self) -> list[tuple[int, TermHit]]:
        """Every occurrence of a term in title and text as ``(pattern id, hit)``, in field and position order.

        Made once per matching document and shared by its true rules (a
        document matching one rule of a risk point usually matches its
        neighbours on the same terms). Order as in ``pattern_hits``. Each
        field's offsets are mapped back in one call (``OffsetMap.spans``).
        """
        term_count = self.ruleset._term_count
        ordered = sorted([match for match in self.matches if match[0] < term_count], key=_start_end)
        labels = self.ruleset._patterns
        separator = self.separator
        # Title matches start before the separator, text matches after it.
        split = bisect_left(ordered, separator, key=_start)
        title_matches, text_matches = ordered[:split], ordered[split:]
        title_spans = [(start, end) for _pid, start, end in title_matches]
        shift = separator + 1
        text_spans = [(start - shift, end - shift) for _pid, start, end in text_matches]
        if not self.raw:
            if title_spans:
                title_spans = self._map("title").spans(title_spans)
            if text_spans:
                text_spans = self._map("text").spans(text_spans)
        hits = [
            (pid, _tuple_new(TermHit, (labels[pid], "title", start, end)))
            for (pid, _start, _end), (start, end) in zip(title_matches, title_spans, strict=True)
        ]
        hits += [
            (pid, _tuple_new(TermHit, (labels[pid], "text", start, end)))
            for (pid, _start, _end), (start, end) in zip(text_matches, text_spans, strict=True)
        ]
        self.memo["term hits"] = hits
        return hits

    def _match_hit(self, match: tuple[int, int, int]) -> TermHit:
        """The hit of an automaton match, its offsets mapped back to the original field."""
        pid, start, end = match
        if start < self.separator:
            field = "title"
        else:
            field = "text"
            start -= self.separator + 1
            end -= self.separator + 1
        mapping = self._map(field)
        if not mapping.identity:
            start, end = mapping.span(start, end)
        hit = self.memo[match] = _new_hit(self.ruleset._patterns[pid], field, start, end)
        return hit

    def _hit(self, span: tuple[int, int, int, str]) -> TermHit:
        memo = self.memo
        hit = memo.get(span)  # spans are (int, int, int, str): no clash with the tagged keys
        if hit is None:
            order, start, end, label = span
            field = FIELDS[order]
            if not self.raw or field == "source":
                start, end = self._map(field).span(start, end)
            hit = memo[span] = _new_hit(label, field, start, end)
        return hit

    def _map(self, field: str) -> OffsetMap:
        """The offset map of ``field``, made once per document."""
        key = ("map", field)
        mapping = self.memo.get(key)
        if mapping is None:
            mapping = self.memo[key] = self._offset_map(field)
            if mapping.merges:
                self.memo["merges"] = True
        return mapping

    def _offset_map(self, field: str) -> OffsetMap:
        original = getattr(self.document, field) or ""
        if self.normal or field == "source":
            return offset_map(original, self.normalized(field))
        # Whitespace and ellipses tidied, nothing else moved.
        scanned = self.scanned[: self.separator] if field == "title" else self.scanned[self.separator + 1 :]
        return tidied_offset_map(original, scanned)


# A frozen dataclass sets each field through object.__setattr__ in __init__;
# filling its slots directly makes the same object at half the cost, which
# counts for the matches of every matching document.
_allocate = object.__new__
_tuple_new = tuple.__new__


_set_key, _set_hits = slot_setter(RuleMatch, "key"), slot_setter(RuleMatch, "hits")


def _new_match(key: Any, hits: tuple[TermHit, ...]) -> RuleMatch:
    """``RuleMatch(key, hits)``, made directly."""
    match = _allocate(RuleMatch)
    _set_key(match, key)
    _set_hits(match, hits)
    return match


def _new_hit(term: str, field: str, start: int, end: int) -> TermHit:
    """``TermHit(term, field, start, end)``, made directly (the class's own ``__new__`` is Python code)."""
    return _tuple_new(TermHit, (term, field, start, end))


# --- rule compilation ------------------------------------------------------------------

_NO_POSITIONS: list[int] = []
_NO_SPANS: Spans = []

# Evaluation cost ranks: cheap operands are tried first in & and |.
_COST_SET, _COST_NEAR, _COST_WORD, _COST_REGEX = 1, 4, 8, 16

Group = tuple[str, frozenset[int]]  # (scope, pattern ids): true when any of them is found in the scope
# Evidence, as explainers collect it: a pattern id stands for every occurrence
# of that pattern in title and text; a tuple (field order, start, end, label)
# is one occurrence, in normalized offsets of its field.
Spans = list[int | tuple[int, int, int, str]]
Explain = Callable[["_Scan", Spans], bool]


@dataclass(slots=True, eq=False)  # not frozen: made once per node of every rule, and a frozen init is slow
class _Compiled:
    """A node ready to run: ``evaluate(scan)``; ``explain(scan, spans)`` also appends the evidence when true."""

    evaluate: Evaluate
    explain: Explain
    cost: int
    group: Group | None = None  # set when the node is a plain group of terms (a | b | c)
    explain_true: Explain | None = None  # ``explain`` for when the node is known to be true, if cheaper
    evidence: frozenset[int] | None = None  # when true, the evidence is these patterns' occurrences (plain groups)
    # For the usual rule, groups that must each be found and patterns none of
    # which may be (``(a | b) & c & !(d | e)``): the matching loop checks these
    # sets itself, without a scan object or a call per rule.
    plain: Plain | None = None

    @property
    def explain_known_true(self) -> Explain:
        return self.explain_true or self.explain


def _rule_hits(compiled: _Compiled) -> Callable[[_Scan], tuple[TermHit, ...]]:
    """The function giving a true rule's hits: a direct one for rules of plain groups, the general one otherwise."""
    evidence = compiled.evidence
    if evidence is not None:
        return lambda scan: scan.group_hits(evidence)
    explain = compiled.explain_known_true
    return lambda scan: scan.hits(explain)


def _plain_group(node: Node, scope: str, pids: dict[str, int]) -> Group | None:
    """``(scope, term ids)`` if ``node`` is plain terms or'ed together (a | b | c) in one scope."""
    if isinstance(node, Term):
        return None if node.word else (scope, frozenset((pids[node.text],)))
    if isinstance(node, Scope):
        return _plain_group(node.operand, node.field, pids)
    if isinstance(node, Or):
        group_scope = None
        members: set[int] = set()
        for operand in node.operands:
            group = _plain_group(operand, scope, pids)
            if group is None or (group_scope is not None and group[0] != group_scope):
                return None
            group_scope = group[0]
            members.update(group[1])
        return (group_scope, frozenset(members)) if group_scope is not None else None
    return None


def _compile(node: Node, scope: str, ruleset: RuleSet) -> _Compiled:
    """Closures evaluating and explaining ``node`` within ``scope``."""
    group = _plain_group(node, scope, ruleset._pids)
    if group is not None:
        return _compile_group(*group, ruleset)
    if isinstance(node, Term):
        pid = ruleset._pids[node.text]
        if not node.word:
            return _compile_group(scope, frozenset((pid,)), ruleset)
        return _Compiled(_word_evaluator(scope, pid), _word_explainer(scope, node), _COST_WORD)
    if isinstance(node, Scope):
        return _compile(node.operand, node.field, ruleset)
    if isinstance(node, Regex):
        return _Compiled(_regex_evaluator(scope, node.pattern), _regex_explainer(scope, node), _COST_REGEX)
    if isinstance(node, Near):
        return _Compiled(_near_evaluator(scope, node, ruleset), _near_explainer(scope, node), _COST_NEAR)
    if isinstance(node, Not):
        inner = _compile(node.operand, scope, ruleset)
        if inner.group is not None:
            evaluate = _absent_evaluator(*inner.group)
        else:
            inner_evaluate = inner.evaluate

            def evaluate(scan: _Scan) -> bool:
                return not inner_evaluate(scan)

        # A negation is true because something is absent: it shows nothing.
        return _Compiled(evaluate, lambda scan, spans: evaluate(scan), inner.cost)
    if isinstance(node, Or):
        return _compile_or(node, scope, ruleset)
    if isinstance(node, And):
        return _compile_and(node, scope, ruleset)
    raise TypeError(f"不是规则的语法树节点：{type(node).__name__}")  # pragma: no cover


def _compile_group(scope: str, pids: frozenset[int], ruleset: RuleSet) -> _Compiled:
    # Rules share their groups (the county's place names, the event words):
    # one set of closures per distinct group.
    compiled = ruleset._compiled_groups.get((scope, pids))
    if compiled is None:
        compiled = ruleset._compiled_groups[(scope, pids)] = _new_group(scope, pids)
    return compiled


def _new_group(scope: str, pids: frozenset[int]) -> _Compiled:
    if scope == _ANY:
        if len(pids) == 1:
            (pid,) = pids

            def evaluate(scan: _Scan) -> bool:
                return pid in scan.any

        else:

            def evaluate(scan: _Scan) -> bool:
                return not scan.any.isdisjoint(pids)

    else:

        def evaluate(scan: _Scan) -> bool:
            return not scan.found_in(scope).isdisjoint(pids)

    if scope == _ANY:

        def explain(scan: _Scan, spans: Spans) -> bool:
            present = pids.intersection(scan.any)
            spans.extend(present)  # pattern ids: every occurrence in title and text
            return bool(present)

    else:

        def explain(scan: _Scan, spans: Spans) -> bool:
            present = pids.intersection(scan.found_in(scope))
            for pid in present:
                spans.extend(scan.pattern_spans(pid, scope))
            return bool(present)

    return _Compiled(evaluate, explain, _COST_SET, (scope, pids))


def _compile_or(node: Or, scope: str, ruleset: RuleSet) -> _Compiled:
    groups: dict[str, set[int]] = {}
    others: list[_Compiled] = []
    for operand in node.operands:
        compiled = _compile(operand, scope, ruleset)
        if compiled.group is not None:
            groups.setdefault(compiled.group[0], set()).update(compiled.group[1])
        else:
            others.append(compiled)
    parts = [_compile_group(group_scope, frozenset(pids), ruleset) for group_scope, pids in groups.items()] + others
    if len(parts) == 1:  # a plain group: a | b | c
        return parts[0]
    parts.sort(key=lambda part: part.cost)
    evaluators = tuple(part.evaluate for part in parts)
    explainers = tuple(part.explain for part in parts)

    def evaluate(scan: _Scan) -> bool:
        for function in evaluators:  # noqa: SIM110 - hot path: a plain loop is several times faster than any()/all() over a generator
            if function(scan):
                return True
        return False

    def explain(scan: _Scan, spans: Spans) -> bool:
        true = False
        for function in explainers:  # every true operand is evidence
            true = function(scan, spans) or true
        return true

    return _Compiled(evaluate, explain, sum(part.cost for part in parts))


def _compile_and(node: And, scope: str, ruleset: RuleSet) -> _Compiled:
    present: list[frozenset[int]] = []  # groups looked for in title or text that must each be found
    absent: set[int] = set()  # patterns none of which may be in title or text
    others: list[_Compiled] = []
    present_parts: list[_Compiled] = []
    for operand in node.operands:
        group = _plain_group(operand, scope, ruleset._pids)
        if group is not None and group[0] == _ANY:
            present.append(group[1])
            present_parts.append(_compile_group(*group, ruleset))
            continue
        if isinstance(operand, Not):
            group = _plain_group(operand.operand, scope, ruleset._pids)
            if group is not None and group[0] == _ANY:
                absent.update(group[1])
                continue
        others.append(_compile(operand, scope, ruleset))
    others.sort(key=lambda part: part.cost)
    present_groups = tuple(sorted(present, key=len))
    absent_group = frozenset(absent)
    evaluators = tuple(part.evaluate for part in others)
    explainers = tuple(part.explain for part in present_parts + others)
    cost = len(present) * _COST_SET + (_COST_SET if absent else 0) + sum(part.cost for part in others)

    def evaluate(scan: _Scan) -> bool:
        found = scan.any
        for group in present_groups:
            if found.isdisjoint(group):
                return False
        if not found.isdisjoint(absent_group):
            return False
        for function in evaluators:  # noqa: SIM110 - hot path: a plain loop is several times faster than any()/all() over a generator
            if not function(scan):
                return False
        return True

    evidence: frozenset[int] | None = None
    if not others:
        # The usual rule: groups that are all true. Their evidence is every
        # found term of any of them, in one set operation.
        evidence = frozenset().union(*present)
        group_evidence = evidence

        def explain_true(scan: _Scan, spans: Spans) -> bool:
            spans.extend(group_evidence.intersection(scan.any))
            return True

    else:

        def explain_true(scan: _Scan, spans: Spans) -> bool:
            for function in explainers:
                function(scan, spans)
            return True

    def explain(scan: _Scan, spans: Spans) -> bool:
        return evaluate(scan) and explain_true(scan, spans)

    plain = (present_groups, absent_group) if evidence is not None else None
    return _Compiled(evaluate, explain, cost, explain_true=explain_true, evidence=evidence, plain=plain)


def _absent_evaluator(scope: str, pids: frozenset[int]) -> Evaluate:
    if scope == _ANY:
        return lambda scan: scan.any.isdisjoint(pids)
    return lambda scan: scan.found_in(scope).isdisjoint(pids)


def _word_evaluator(scope: str, pid: int) -> Evaluate:
    fields = _FIELDS_OF_SCOPE[scope]

    def evaluate_word(scan: _Scan) -> bool:
        if scope == _ANY and pid not in scan.any:
            return False
        for field in fields:  # noqa: SIM110 - hot path: a plain loop is several times faster than any()/all() over a generator
            if pid in scan.found_in(field) and scan.word_starts(field, pid):
                return True
        return False

    return evaluate_word


def _word_explainer(scope: str, term: Term) -> Explain:
    def explain(scan: _Scan, spans: Spans) -> bool:
        found = scan.term_spans(term, scope)
        spans.extend(found)
        return bool(found)

    return explain


def _regex_evaluator(scope: str, pattern: str) -> Evaluate:
    fields = _FIELDS_OF_SCOPE[scope]

    def evaluate_regex(scan: _Scan) -> bool:
        for field in fields:  # noqa: SIM110 - hot path: a plain loop is several times faster than any()/all() over a generator
            if scan.regex_found(field, pattern):
                return True
        return False

    return evaluate_regex


_MAX_REGEX_HITS = 100  # per regex and field: enough to show, bounded for pathological patterns


def _regex_explainer(scope: str, node: Regex) -> Explain:
    fields = _FIELDS_OF_SCOPE[scope]
    label = node.label

    def explain(scan: _Scan, spans: Spans) -> bool:
        true = False
        for field in fields:
            if not scan.regex_found(field, node.pattern):
                continue
            true = True
            order = _FIELD_ORDER[field]
            count = 0
            for match in scan.ruleset._regexes[node.pattern].finditer(scan.normalized(field)):
                if match.end() > match.start():
                    spans.append((order, match.start(), match.end(), label))
                    count += 1
                    if count >= _MAX_REGEX_HITS:
                        break
        return true

    return explain


def _near_evaluator(scope: str, node: Near, ruleset: RuleSet) -> Evaluate:
    fields = _FIELDS_OF_SCOPE[scope]
    left_pid, right_pid = ruleset._pids[node.left.text], ruleset._pids[node.right.text]

    def evaluate_near(scan: _Scan) -> bool:
        if scope == _ANY and (left_pid not in scan.any or right_pid not in scan.any):
            return False
        for field in fields:
            in_field = scan.found_in(field)
            if left_pid in in_field and right_pid in in_field and _near_in(scan, field, node):
                return True
        return False

    return evaluate_near


def _near_explainer(scope: str, node: Near) -> Explain:
    fields = _FIELDS_OF_SCOPE[scope]
    left, right = node.left, node.right
    left_length, right_length = len(left.text), len(right.text)
    same_text = left.text == right.text

    def explain(scan: _Scan, spans: Spans) -> bool:
        mark = len(spans)
        for field in fields:
            left_starts = scan.term_starts(field, left)
            right_starts = scan.term_starts(field, right) if left_starts else _NO_POSITIONS
            if not right_starts:
                continue
            order = _FIELD_ORDER[field]
            pairs = _near_pairs(left_starts, left_length, right_starts, right_length, node.distance, same_text)
            for left_start, right_start in pairs:
                spans.append((order, left_start, left_start + left_length, left.label))
                spans.append((order, right_start, right_start + right_length, right.label))
        return len(spans) > mark

    return explain


def _near_in(scan: _Scan, field: str, node: Near) -> bool:
    left, right = node.left, node.right
    left_starts = scan.term_starts(field, left)
    right_starts = scan.term_starts(field, right) if left_starts else _NO_POSITIONS
    if not right_starts:
        return False
    pairs = _near_pairs(left_starts, len(left.text), right_starts, len(right.text), node.distance, left.text == right.text)
    return next(pairs, None) is not None


def _near_pairs(
    left_starts: list[int], left_length: int, right_starts: list[int], right_length: int, distance: int, same_text: bool
) -> Iterator[tuple[int, int]]:
    """Pairs of occurrences (left start, right start) at most ``distance`` characters apart.

    The gap runs from the end of the earlier occurrence to the start of the
    later one; overlapping occurrences count. Every occurrence of a term has
    the term's length, so the right starts that qualify for a left
    occurrence at ``s`` form one sorted range:
    ``s - distance - right_length <= r <= s + left_length + distance``.
    """
    for start in left_starts:
        low = bisect_left(right_starts, start - distance - right_length)
        high = bisect_right(right_starts, start + left_length + distance)
        for index in range(low, high):
            other = right_starts[index]
            if same_text and other == start:
                continue  # one occurrence is not a pair
            yield start, other
