"""Text utilities shared by every stage: HTML to plain text, normalization, fingerprints."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from html import unescape
from html.parser import HTMLParser
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

# Elements whose content is never text a reader sees.
_SKIP_CONTENT = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math", "head", "title"}
)
# Elements that break a line when rendered.
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset", "figcaption",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
        "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "source", "wbr"})

_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u3000\u202f\u205f]+")
_BLANK_LINES = re.compile(r"\n{2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_TAG_LIKE = re.compile(r"<[a-zA-Z!/?]")
# UTF-16 halves: a lone one (from ``&#xd800;`` or a JSON ``"\\ud800"``) cannot be encoded as UTF-8, so no database stores it.
_SURROGATE = re.compile("[\ud800-\udfff]")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_CONTENT and tag not in _VOID:
            self._skip_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_CONTENT:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def storable(text: str) -> str:
    """Text every database can store: surrogate pairs joined, lone surrogates as U+FFFD, NUL dropped.

    >>> storable("a\\ud800b\\ud83d\\ude00\\x00c")
    'a\ufffdb😀c'
    """
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", "") if "\x00" in text else text


def clean_whitespace(text: str) -> str:
    """Collapse runs of spaces, trim lines, keep at most one line break in a row."""
    text = _CONTROL.sub("", storable(text).replace("\r\n", "\n").replace("\r", "\n"))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment: tags dropped, scripts and styles removed, entities decoded.

    >>> html_to_text("<p>AT&amp;T <b>x</b></p><script>alert(1)</script><p>next</p>")
    'AT&T x\\nnext'
    """
    if "<" not in html:
        return clean_whitespace(unescape(html)) if "&" in html else clean_whitespace(html)
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:
        return clean_whitespace(unescape(re.sub(r"<[^>]*>", " ", html)))
    return clean_whitespace("".join(parser.parts))


def plain_title(value: str) -> str:
    """A title as one line of plain text, whatever markup the feed put in it."""
    if _TAG_LIKE.search(value) or "&" in value:
        value = html_to_text(value)
    return clean_whitespace(value).replace("\n", " ")


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """At most ``limit`` characters, ending in ``ellipsis`` if anything was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))].rstrip() + ellipsis


def excerpt(text: str, limit: int = 200) -> str:
    """A one-paragraph plain-text excerpt for lists and reports."""
    return truncate(" ".join(text.split()), limit)


def normalize_text(text: str) -> str:
    """The normal form texts are matched and compared in.

    NFKC (which also folds full-width letters, digits and punctuation to
    their half-width forms), case folding, whitespace collapsed to single
    spaces.

    >>> normalize_text("ＡＢＣ　濮阳县\\n\\n事故")
    'abc 濮阳县 事故'
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def fingerprint(title: str, text: str) -> str:
    """SHA-1 of the normalized title and text: equal for exact cross-source duplicates."""
    payload = normalize_text(title) + "\x1f" + normalize_text(text)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def new_jieba_tokenizer() -> jieba.Tokenizer:
    """A private jieba tokenizer (never the global one, so user words stay local to their owner).

    jieba announces loading its dictionary in four DEBUG lines on stderr, which
    would clutter every command and flow log; it is told to keep quiet.
    """
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba.Tokenizer()
