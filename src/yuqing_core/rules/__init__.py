"""The rule language and matching engine: text in, matches out (no database, no Prefect).

Analysts describe a risk as a boolean expression over words::

    (濮阳县 | 濮阳) & (事故 | 爆炸 | "化工厂 泄漏") & !广告
    title:(拆迁) & 上访
    near(化工厂, 泄漏, 10)
    /\\d+人(死亡|受伤)/
    w:民政

Operands:

- a term: any run of characters other than whitespace and the language's
  punctuation ``( ) | & ! " / , :``; a phrase in double quotes may hold
  anything (``\\"`` and ``\\\\`` inside). Both match as substrings of the
  normalized text (see ``normalize_for_matching``): full-width and
  half-width, upper and lower case, traditional and simplified characters
  match each other, and spaces inside a phrase between Chinese characters
  do not matter ("化工厂 泄漏" finds 化工厂泄漏).
- ``w:term``: the hit must start and end on word boundaries of the field's
  jieba segmentation (民政 in 县民政局 yes, in 人民政府 no).
- ``near(a, b, n)``: a and b (terms or phrases, ``w:`` allowed) in the same
  field with at most n characters between the end of the earlier and the
  start of the later, in either order.
- ``/regex/``: a Python regular expression searched case-insensitively in the
  normalized field text (so write it for simplified, half-width, lower-case
  text); ``\\/`` is a slash. Use sparingly: it is evaluated per document.
- ``( ... )`` groups.

Operators, tightest first: ``!`` (not), ``&`` (and), ``|`` (or). Writing two
operands side by side means ``&`` (``濮阳 事故`` is ``濮阳 & 事故``); the
canonical form printed by ``format_rule`` always writes ``&``. So
``a | b c & !d`` reads ``a | (b & c & (!d))``.

Field scopes ``title:``, ``text:`` and ``source:`` (the source's name) go in
front of a term, phrase, regex, ``near()`` or parenthesised group and apply
to everything inside; an inner scope overrides an outer one. Unscoped terms
are looked for in the title or the text, not in the source name.

Full-width punctuation is read as its ASCII twin: （）｜＆！：， and the
curly quotes “” ‘’.

Usage::

    rules = RuleSet([(1, "(濮阳 | 青禾) & 事故"), (2, "title:拆迁 & 上访")])
    for index, matches in rules.match_many(documents):
        for match in matches:
            print(match.key, [(hit.term, hit.field, hit.start, hit.end) for hit in match.hits])

Offsets in ``TermHit`` are positions in the original field strings, so
``highlight(document.text, match.hits, "text")`` marks them.

A ``RuleSet`` is immutable once built and may be shared by threads; it
pickles as its rules (and is rebuilt on the other side). Building one from
10,000 rules takes about a second of CPU; pass ``term_frequencies`` measured
on recent items (``RuleSet.term_frequencies``) to let it index each rule
under its rarest terms. Any object with ``title``, ``text`` and ``source``
string attributes can stand in for a ``MatchText``.
"""

from ._ast import FIELDS, And, Near, Node, Not, Or, Regex, Scope, Term
from ._engine import MatchText, RuleMatch, RuleSet, RuleSetError, TermHit
from ._explain import highlight, marked_segments, snippet, snippet_segments
from ._normalize import normalize_for_matching, traditional_conversion_available
from ._syntax import MAX_NESTING, RuleSyntaxError, format_rule, parse_rule

__all__ = [  # noqa: RUF022 - grouped by topic, in the order the module docstring introduces them
    # syntax
    "parse_rule",
    "format_rule",
    "RuleSyntaxError",
    "MAX_NESTING",
    # syntax tree
    "Node",
    "Term",
    "Regex",
    "Near",
    "Not",
    "And",
    "Or",
    "Scope",
    "FIELDS",
    # normalization
    "normalize_for_matching",
    "traditional_conversion_available",
    # engine
    "MatchText",
    "TermHit",
    "RuleMatch",
    "RuleSet",
    "RuleSetError",
    # explain
    "highlight",
    "marked_segments",
    "snippet",
    "snippet_segments",
]
