"""Bytes of a feed to a list of raw entries: RSS 0.9x/1.0/2.0 and Atom through
feedparser, JSON Feed directly.

Before feedparser sees a document it is decoded by our own rules (a BOM
first, then valid UTF-8 wins, then the declared charset with GB2312/GBK read
as GB18030), stripped of DOCTYPE internal subsets and ENTITY declarations
(feedparser's loose fallback expands "billion laughs" entities), stripped of
characters XML forbids, and handed over as UTF-8 *bytes*. feedparser's own
HTML sanitizer and URI resolution are off: we never keep its HTML (bodies
become plain text in ``normalize``), and resolving guids against the feed
URL would change entry identities whenever a feed moves.
"""

from __future__ import annotations

import codecs
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import feedparser

from yuqing_core.collect.hotlist import ListPosition
from yuqing_core.text import storable

GB_FAMILY = frozenset(
    {"gb2312", "gbk", "gb_2312-80", "gb_2312", "x-gbk", "cp936", "ms936", "euc-cn", "csgb2312", "windows-936", "chinese"}
)

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.IGNORECASE)
_XML_DECLARATION_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_CONTENT_TYPE_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ENTITY_DECLARATION = re.compile(r"<!ENTITY\b[^>]*>", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE\b", re.IGNORECASE)
_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
_REPLACEMENT_REFERENCE = "&#xFFFD;"
# What the depth pre-scan looks at: sections whose content is text (CDATA, comments, processing
# instructions, declarations; an unterminated one runs to the end), and tags. ``[^<>]`` keeps a tag
# that never closes from being re-scanned from every later "<": the scan stays linear.
_MARKUP = re.compile(
    r"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)|<![^<>]*>?|<(/?)([A-Za-z_][^\s/<>]*)[^<>]*?(/?)>",
    re.DOTALL,
)
# HTML elements that never have content: feeds that put raw HTML in a description leave them open.
_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
MAX_ELEMENT_DEPTH = 256
REPLACEMENT_CHARACTER = "\ufffd"
# Marks an encoding that read the document only by replacing some bytes with U+FFFD.
REPLACED_SUFFIX = " (有乱码替换)"


class FeedParseError(Exception):
    """The document is not a feed we can read; the message says why, for operators."""


@dataclass
class RawEntry:
    """One entry as the feed gave it, before normalization."""

    guid: str | None = None
    link: str | None = None
    title: str = ""
    title_is_html: bool = True
    body: str = ""
    body_is_html: bool = True
    author: str | None = None
    date_raw: str | None = None
    # feedparser's own reading of the date (UTC), used only where our parser gives up.
    date_struct: time.struct_time | None = None
    # An official reply published with the entry (message boards): its text, raw date and who replied.
    reply_text: str | None = None
    reply_date_raw: str | None = None
    reply_by: str | None = None
    # The post this entry comments on, replies to or forwards (Atom ``thr:in-reply-to``, a JSON list's
    # or a page's ``parent``): its link, or an id the source's link template turns into one.
    in_reply_to: str | None = None
    # A hot list's entry (``collect.hotlist``): its rank and heat as the list wrote them, and where it stood.
    rank_raw: str | None = None
    heat_raw: str | None = None
    position: ListPosition | None = None


@dataclass
class ParsedFeed:
    format: str
    title: str = ""
    entries: list[RawEntry] = field(default_factory=list)
    entries_total: int = 0
    warning: str | None = None


def parse_feed(body: bytes, *, content_type: str | None = None, kind: str = "auto", max_entries: int = 500) -> ParsedFeed:
    """Parse a feed document of any supported kind.

    Raises ``FeedParseError`` if the bytes are not a feed (an HTML page, a
    JSON error, nothing at all). A malformed feed that still yields entries
    parses, with ``warning`` saying what was wrong.
    """
    if not body.strip():
        raise FeedParseError("内容为空")
    if kind == "jsonfeed" or (kind == "auto" and _looks_like_json(body, content_type)):
        return parse_json_feed(body, max_entries=max_entries)
    return parse_xml_feed(body, content_type=content_type, max_entries=max_entries)


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"[")):
        return True
    return bool(content_type and "json" in content_type.lower() and not head.startswith(b"<"))


# --- XML -------------------------------------------------------------------


def decode_document(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Text of an XML document and the encoding it was read with.

    A BOM first, then valid UTF-8, then a declared charset (GB2312 and GBK
    read as their superset GB18030) that decodes cleanly. Failing that, the
    declared (or, with none declared, GB18030) and UTF-8 readings that
    replace only the broken sequences are weighed, and the one with fewer
    replacements wins; its name then ends in ``REPLACED_SUFFIX``.

    >>> decode_document("<?xml version='1.0' encoding='gb2312'?><a>镕</a>".encode("gb18030"))[1]
    'gb18030'
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(encoding, errors="replace"), encoding.removesuffix("-sig")
    bomless = _bomless_utf16_or_32(body)
    if bomless:
        return body.decode(bomless, errors="replace"), bomless
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates: list[str] = []
    for declared in _declared_charsets(body, content_type):
        encoding = "gb18030" if declared in GB_FAMILY else declared
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            continue
        if encoding == "utf-8":
            continue  # declared UTF-8 but not valid UTF-8: weighed below
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError:
            candidates.append(encoding)
    # Nothing declared decodes cleanly. Chinese sources most often mean GB18030 when they declare
    # nothing. A few broken bytes must not garble the rest: each candidate replaces only the
    # sequences it cannot read, and the reading with the fewest replacements wins (declared first).
    if not candidates:
        try:
            return body.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            candidates.append("gb18030")
    readings = [(body.decode(encoding, errors="replace"), encoding) for encoding in dict.fromkeys([*candidates, "utf-8"])]
    text, encoding = min(readings, key=lambda reading: reading[0].count(REPLACEMENT_CHARACTER))
    return text, f"{encoding}{REPLACED_SUFFIX}"


def _bomless_utf16_or_32(body: bytes) -> str | None:
    head = body[:4]
    return {
        b"\x00\x00\x00<": "utf-32-be",
        b"<\x00\x00\x00": "utf-32-le",
        b"\x00<\x00?": "utf-16-be",
        b"<\x00?\x00": "utf-16-le",
    }.get(head)


def _declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    found = []
    if content_type:
        declared = _CONTENT_TYPE_CHARSET.search(content_type)
        if declared:
            found.append(declared.group(1).lower())
    head = body[:2048]
    for pattern in (_XML_DECLARATION, _META_CHARSET):
        match = pattern.search(head)
        if match:
            found.append(match.group(1).decode("ascii").lower())
    return found


def strip_doctype(text: str) -> str:
    """Remove DOCTYPE internal subsets and ENTITY declarations; keep the rest of the DOCTYPE.

    >>> strip_doctype('<!DOCTYPE rss [<!ENTITY a "x">]><rss>&a;</rss>')
    '<!DOCTYPE rss><rss>&a;</rss>'
    """
    match = _DOCTYPE.search(text, 0, 4096)
    if match:
        _end, subset_start, subset_end = _scan_doctype(text, match.end())
        if subset_start is not None:
            # An unterminated subset runs to the end of the document: drop it all.
            resume = subset_end + 1 if subset_end is not None else len(text)
            text = text[:subset_start].rstrip() + text[resume:]
    if "<!ENTITY" in text or "<!entity" in text.lower():
        text = _ENTITY_DECLARATION.sub("", text)
    return text


def _scan_doctype(text: str, start: int) -> tuple[int, int | None, int | None]:
    """End of a DOCTYPE (index of its '>' + 1) and the bounds of its internal subset."""
    quote: str | None = None
    subset_start = subset_end = None
    i = start
    while i < len(text):
        char = text[i]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "[" and subset_start is None:
            subset_start = i
            # Inside the subset, declarations may contain '>' and quoted ']'; skip to the unquoted ']'.
            i += 1
            inner_quote: str | None = None
            while i < len(text):
                c = text[i]
                if inner_quote:
                    if c == inner_quote:
                        inner_quote = None
                elif c in "\"'":
                    inner_quote = c
                elif c == "]":
                    subset_end = i
                    break
                i += 1
        elif char == ">":
            return i + 1, subset_start, subset_end
        i += 1
    return len(text), subset_start, subset_end


def replace_invalid_references(text: str) -> str:
    """Character references to what XML forbids (a lone surrogate, NUL, past U+10FFFF) become U+FFFD.

    feedparser's fallback parser turns ``&#xd800;`` into a character it cannot
    encode and stops with the whole feed unread; one bad reference must not
    cost the entries around it.

    >>> replace_invalid_references("a&#xd800;b&#20013;c&#0;")
    'a&#xFFFD;b&#20013;c&#xFFFD;'
    """
    if "&#" not in text:
        return text
    return _CHARACTER_REFERENCE.sub(_checked_reference, text)


def _checked_reference(match: re.Match[str]) -> str:
    hex_digits, decimal_digits = match.groups()
    digits = hex_digits or decimal_digits
    if len(digits.lstrip("0")) > 8:
        return _REPLACEMENT_REFERENCE
    code = int(digits, 16) if hex_digits else int(digits)
    if _allowed_in_xml(code):
        return match.group(0)
    return _REPLACEMENT_REFERENCE


def _allowed_in_xml(code: int) -> bool:
    """XML 1.0's Char production."""
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def prepare_xml(body: bytes, content_type: str | None = None) -> tuple[bytes, str]:
    """The document as safe UTF-8 bytes for feedparser, and the encoding it came in."""
    text, encoding = decode_document(body, content_type)
    text = _XML_DECLARATION_TEXT.sub("", text, count=1)
    text = strip_doctype(text)
    text = _INVALID_XML_CHARS.sub("", storable(text))
    text = replace_invalid_references(text)
    check_element_depth(text)
    return ('<?xml version="1.0" encoding="utf-8"?>' + text).encode("utf-8", errors="replace"), encoding


def check_element_depth(text: str, limit: int = MAX_ELEMENT_DEPTH) -> None:
    """Refuse a document whose elements nest deeper than ``limit``, before any parser builds them.

    feedparser spends seconds of CPU per hundred thousand nested elements; no
    feed needs more than a dozen levels. The scan is one linear pass that
    stops at the first element past the limit.

    >>> check_element_depth("<rss><channel><item><![CDATA[<p><br>]]></item></channel></rss>", limit=3)
    >>> check_element_depth("<a><b><c><d></d></c></b></a>", limit=3)
    Traceback (most recent call last):
    ...
    yuqing_core.collect.parse.FeedParseError: 元素嵌套超过 3 层（第 1 行），拒绝解析
    """
    depth = 0
    for match in _MARKUP.finditer(text):
        closing, name, self_closing = match.groups()
        if name is None or self_closing or name.lower() in _VOID_ELEMENTS:
            continue
        if closing:
            depth = max(0, depth - 1)
            continue
        depth += 1
        if depth > limit:
            line = text.count("\n", 0, match.start()) + 1
            raise FeedParseError(f"元素嵌套超过 {limit} 层（第 {line} 行），拒绝解析")


def parse_xml_feed(body: bytes, *, content_type: str | None = None, max_entries: int = 500) -> ParsedFeed:
    document, encoding = prepare_xml(body, content_type)
    parsed = feedparser.parse(
        document,
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    warning = None
    if parsed.get("bozo"):
        warning = f"格式不规范：{_describe_bozo(parsed.get('bozo_exception'))}"
    if encoding.endswith(REPLACED_SUFFIX):
        replaced = f"按 {encoding.removesuffix(REPLACED_SUFFIX)} 解码，无法解码的字节已替换为 �"
        warning = f"{warning}；{replaced}" if warning else replaced
    if not parsed.get("version") and not parsed.entries:
        raise FeedParseError(f"不是可识别的订阅源（RSS/Atom/JSON Feed）。{warning or ''}".strip())
    entries = [_entry_from_feedparser(e) for e in parsed.entries[:max_entries]]
    feed_title = parsed.feed.get("title", "") if isinstance(parsed.get("feed"), dict) else ""
    return ParsedFeed(
        format=parsed.get("version") or "unknown",
        title=str(feed_title or ""),
        entries=entries,
        entries_total=len(parsed.entries),
        warning=warning,
    )


def _describe_bozo(exc: object) -> str:
    if exc is None:
        return "未知问题"
    get_message = getattr(exc, "getMessage", None)
    message = str(get_message() if callable(get_message) else exc)
    get_line = getattr(exc, "getLineNumber", None)
    if callable(get_line):
        return f"第 {get_line()} 行，{message}"[:300]
    return message[:300]


def _is_html(detail: Any) -> bool:
    content_type = (detail or {}).get("type") if isinstance(detail, dict) else None
    return content_type not in ("text/plain",)


def _entry_from_feedparser(entry: Any) -> RawEntry:
    body, body_is_html = _best_body(entry)
    date_raw = None
    date_struct = None
    for key in ("published", "updated", "created"):
        if entry.get(key):
            date_raw = str(entry.get(key))
            date_struct = entry.get(f"{key}_parsed")
            break
    return RawEntry(
        guid=_as_text(entry.get("id")),
        link=_as_text(entry.get("link")),
        title=_as_text(entry.get("title")) or "",
        title_is_html=_is_html(entry.get("title_detail")),
        body=body,
        body_is_html=body_is_html,
        author=_as_text(entry.get("author")),
        date_raw=date_raw,
        date_struct=date_struct,
        in_reply_to=_in_reply_to(entry.get("thr_in-reply-to")),
    )


def _in_reply_to(reference: Any) -> str | None:
    """The answered post of an Atom threading (RFC 4685) ``thr:in-reply-to``: its ``href``, else its
    ``ref`` (an id, often the post's URL); normalizing keeps only http(s) URLs."""
    if not isinstance(reference, dict):
        return None
    return _as_text(reference.get("href")) or _as_text(reference.get("ref"))


def _best_body(entry: Any) -> tuple[str, bool]:
    """The fullest body an entry offers: its longest content, else its summary."""
    best, best_is_html = "", True
    for content in entry.get("content") or []:
        value = _as_text(content.get("value")) if isinstance(content, dict) else None
        if value and len(value) > len(best):
            best, best_is_html = value, _is_html(content)
    summary = _as_text(entry.get("summary"))
    if summary and len(summary) > len(best):
        best, best_is_html = summary, _is_html(entry.get("summary_detail"))
    return best, best_is_html


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        return text or None
    return None


# --- JSON Feed ---------------------------------------------------------------


def parse_json_feed(body: bytes, *, max_entries: int = 500) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        data = json.loads(body)
    except UnicodeDecodeError as exc:
        raise FeedParseError(f"JSON 编码无法识别：{exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise FeedParseError(f"JSON 解析失败：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}") from exc
    except RecursionError as exc:
        raise FeedParseError("JSON 嵌套过深，拒绝解析") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FeedParseError("不是 JSON Feed：顶层缺少 items 列表")
    version = str(data.get("version") or "")
    items = data["items"]
    entries = [_entry_from_json(item) for item in items[:max_entries] if isinstance(item, dict)]
    skipped = sum(1 for item in items[:max_entries] if not isinstance(item, dict))
    return ParsedFeed(
        format="json" + (version.rsplit("/", 1)[-1] if "jsonfeed.org" in version else ""),
        title=_as_text(data.get("title")) or "",
        entries=entries,
        entries_total=len(items),
        warning=f"格式不规范：{skipped} 个条目不是对象，已跳过" if skipped else None,
    )


def _entry_from_json(item: dict[str, Any]) -> RawEntry:
    if _as_text(item.get("content_html")):
        body, is_html = _as_text(item.get("content_html")) or "", True
    elif _as_text(item.get("content_text")):
        body, is_html = _as_text(item.get("content_text")) or "", False
    else:
        body, is_html = _as_text(item.get("summary")) or "", False
    authors = item.get("authors")
    author = None
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        author = _as_text(authors[0].get("name"))
    elif isinstance(item.get("author"), dict):
        author = _as_text(item["author"].get("name"))
    return RawEntry(
        guid=_as_text(item.get("id")),
        link=_as_text(item.get("url")) or _as_text(item.get("external_url")),
        title=_as_text(item.get("title")) or "",
        title_is_html=False,
        body=body,
        body_is_html=is_html,
        author=author,
        date_raw=_as_text(item.get("date_published")) or _as_text(item.get("date_modified")),
    )
