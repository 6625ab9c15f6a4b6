"""Literal strings a regular expression cannot match without, to scan for them with the automaton.

``/\\d+人(死亡|受伤)/`` can only match a text containing 人死亡 or 人受伤.
Adding those strings to the automaton lets the engine skip the regex for
every document that has neither (the idea of RE2's and Hyperscan's
prefilters), and index a rule like ``青禾 & /\\d+人(死亡|受伤)/`` under them
rather than under 青禾.

The pattern is read with the standard library's own regex parser
(``re._parser``). It is private, so everything here is best effort: any
surprise yields no literals, and the regex is then simply evaluated
whenever its rule is a candidate.
"""

from __future__ import annotations

from typing import Any

__all__ = ["required_literals"]

try:  # Python 3.11+: the parser moved to a private module
    from re import _constants as _c  # type: ignore[attr-defined]  # private module, not in typeshed
    from re import _parser as _sre_parse  # type: ignore[attr-defined]  # private module, not in typeshed
except ImportError:  # pragma: no cover - older layouts
    _sre_parse = None
    _c = None

# Cap on alternatives while expanding groups (人(死亡|受伤) -> 2 strings).
_MAX_ALTERNATIVES = 16
# Factors kept per regex: each must be found before the regex runs.
_MAX_FACTORS = 3
_REPEATS = tuple(
    op for op in (getattr(_c, name, None) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")) if op is not None
)


def required_literals(pattern: str, flags: int) -> list[frozenset[str]]:
    """Sets of non-empty strings such that every match of ``pattern`` contains one string of each set.

    Best first (longest shortest string, then fewest strings), at most
    ``_MAX_FACTORS`` of them; empty when nothing useful is found. The strings
    are in normal form as far as matters here (ASCII letters lower-cased,
    since matched text is case-folded and the regex is case-insensitive), so
    they can be looked for in normalized text.
    """
    if _sre_parse is None:  # pragma: no cover
        return []
    try:
        parsed = _sre_parse.parse(pattern, flags)
        _exact, factors = _sequence(list(parsed))
    except Exception:
        return []
    usable = {frozenset(factor) for factor in factors if factor and "" not in factor}
    ranked = sorted(usable, key=lambda factor: (-min(map(len, factor)), len(factor), sorted(factor)))
    return ranked[:_MAX_FACTORS]


def _char(code: int) -> str | None:
    """The character to look for in normalized text, or None if a literal cannot be used."""
    char = chr(code)
    if char < " " or char == "\x7f":
        return None
    if char.isascii():
        return char.lower()
    if char.lower() == char and char.upper() == char and char.casefold() == char:
        return char  # uncased: Chinese, digits, punctuation
    return None  # cased outside ASCII: case-insensitive regex matching and case folding differ


def _sequence(items: list[tuple[Any, Any]]) -> tuple[set[str] | None, list[set[str]]]:
    """For a sequence: the exact set of strings it matches (if finite and small) and necessary factors.

    A factor is a set of strings one of which every match contains.
    """
    factors: list[set[str]] = []
    run: set[str] = {""}  # alternatives for the contiguous literal text read so far
    exact = True

    def close() -> None:
        nonlocal run
        if "" not in run:
            factors.append(run)
        run = {""}

    def extend(tails: set[str]) -> None:
        nonlocal run, exact
        longer = {head + tail for head in run for tail in tails}
        if len(longer) <= _MAX_ALTERNATIVES:
            run = longer
        else:  # too many combinations: keep what was read as a factor, start again
            close()
            exact = False
            run = set(tails) if len(tails) <= _MAX_ALTERNATIVES else {""}

    def cut() -> None:
        nonlocal exact
        close()
        exact = False

    for op, av in items:
        if op is _c.LITERAL:
            char = _char(av)
            if char is None:
                cut()
            else:
                extend({char})
        elif op is _c.IN and all(kind is _c.LITERAL for kind, _ in av):
            chars = {_char(code) for _, code in av}
            if None in chars:
                cut()
            else:
                extend({char for char in chars if char is not None})
        elif op is _c.SUBPATTERN or op is _c.ATOMIC_GROUP:
            group_exact, group_factors = _sequence(list(av[-1] if op is _c.SUBPATTERN else av))
            if group_exact is not None:
                extend(group_exact)
            else:
                cut()
                factors.extend(group_factors)
        elif op is _c.BRANCH:
            branch_exact, branch_factor = _branch(av[1])
            if branch_exact is not None:
                extend(branch_exact)
            else:
                cut()
                if branch_factor:
                    factors.append(branch_factor)
        elif op in _REPEATS:
            low, high, item = av
            item_exact, item_factors = _sequence(list(item))
            if low == high == 1 and item_exact is not None:
                extend(item_exact)
                continue
            if low >= 1 and item_exact is not None and "" not in item_exact:
                # The first repetition follows what was read, the last precedes what comes next.
                extend(item_exact)
                cut()
                run = set(item_exact)
                continue
            cut()
            if low >= 1:
                factors.extend(item_factors)
        elif op is _c.AT or op is _c.ASSERT or op is _c.ASSERT_NOT:
            continue  # zero-width: the literal text around it is still contiguous
        else:  # character classes, any character, back references, conditionals
            cut()
    if exact:
        return run, factors + ([run] if "" not in run else [])
    close()
    return None, factors


def _branch(branches: list[Any]) -> tuple[set[str] | None, set[str] | None]:
    """For an alternation: its exact strings (if every branch is exact) and a necessary factor."""
    exact: set[str] | None = set()
    factor: set[str] | None = set()
    for branch in branches:
        branch_exact, branch_factors = _sequence(list(branch))
        if exact is not None and branch_exact is not None:
            exact |= branch_exact
            if len(exact) > _MAX_ALTERNATIVES:
                exact = None
        else:
            exact = None
        usable = [f for f in branch_factors if f and "" not in f]
        if factor is not None and usable:
            factor |= max(usable, key=lambda f: (min(map(len, f)), -len(f)))
        else:
            factor = None
    return exact, factor
