"""``page`` sources: a web page that lists entries but publishes no feed (乡镇、部门网站的列表页).

The sources file names a selector for the list's entries and, inside each entry, for its link,
title, date and optional summary; optionally a selector for the next page's link and how many
pages to read::

    - name: 柳湾镇人民政府
      url: http://www.liuwan.gov.cn/xwdt/index.html
      kind: page
      page:
        items: "ul.news-list > li"       # CSS, or XPath when it starts with / ./ or (
        link: "a::attr(href)"            # default: the entry's first link
        title: "a"                       # default: the text (or title attribute) of the first link
        date: "span.date"                # "2026-11-27", "11月27日 08:30", "3小时前", "昨天 14:20"
        summary: "p.summary"             # optional
        next_page: "a.next::attr(href)"  # optional
        max_pages: 3                     # with next_page: pages read per poll, at most 10

A hot list (``hot_list: true``, ``collect.hotlist``) may also select each entry's ``rank`` and ``heat``.

A page of replies or comments (a forum's latest replies, a board's comment list) may select each
entry's ``parent``: the link to the post it answers (``"a.thread::attr(href)"``). Grouping puts the
entry in that post's event; entries without one are posts of their own.

Pages are read with parsel (Scrapy's selector library over lxml): one API for both CSS (with
``::text`` and ``::attr()``) and XPath, which is what operators copy from browser tools.

A selector that no longer matches (the site was redesigned) is the source's error, naming the
selector: a list that silently yields nothing would look like a quiet day.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal
from urllib.parse import urljoin

from parsel import Selector
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from yuqing_core.collect.parse import FeedParseError, ParsedFeed, RawEntry, decode_document
from yuqing_core.text import clean_whitespace

MAX_PAGES = 10
MAX_SELECTOR_CHARS = 500
_XPATH_START = ("/", "./", "(", "..")
# Labels and brackets around dates on list pages: "发布时间：2026-11-27", "(2020-08-16 22:26:38)", "[11-27]".
_DATE_LABEL = re.compile(r"^\s*(?:发布(?:时间|日期)|更新(?:时间|于)|时间|日期)\s*[:：]?\s*")
_DATE_BRACKETS = "()（）[]【】<>《》 \u3000"


class PageExtractError(FeedParseError):
    """The page does not have what the selectors ask for; the message names the selector."""


def is_xpath(selector: str) -> bool:
    """Whether a selector is XPath (starts with ``/``, ``./``, ``..`` or ``(``); otherwise it is CSS.

    >>> is_xpath("//ul/li"), is_xpath("ul > li"), is_xpath("./a/@href")
    (True, False, True)
    """
    return selector.startswith(_XPATH_START)


def select(node: Selector, selector: str) -> list[Selector]:
    return list(node.xpath(selector) if is_xpath(selector) else node.css(selector))


def check_selector(selector: str) -> str:
    """``selector`` if it compiles as XPath or CSS; a ``ValueError`` saying what is wrong otherwise."""
    if not selector:
        raise ValueError("选择器不能为空")
    if len(selector) > MAX_SELECTOR_CHARS:
        raise ValueError(f"选择器太长（最多 {MAX_SELECTOR_CHARS} 个字符）")
    try:
        select(_EMPTY_PAGE, selector)
    except Exception as exc:  # cssselect and lxml raise several kinds; each is a wrong selector here
        kind = "XPath" if is_xpath(selector) else "CSS"
        raise ValueError(f"不是有效的 {kind} 选择器 {selector!r}：{exc}") from None
    return selector


_EMPTY_PAGE = Selector(text="<html></html>")
SelectorText = Annotated[str, AfterValidator(check_selector)]


class PageSpec(BaseModel):
    """What to read from a ``page`` source (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    items: SelectorText
    link: SelectorText = "a"
    title: SelectorText = "a"
    date: SelectorText | None = None
    summary: SelectorText | None = None
    parent: SelectorText | None = None
    next_page: SelectorText | None = None
    max_pages: int = Field(1, ge=1, le=MAX_PAGES)
    rank: SelectorText | None = None  # hot lists only
    heat: SelectorText | None = None  # hot lists only

    @model_validator(mode="after")
    def _pages_need_next(self) -> PageSpec:
        if self.max_pages > 1 and not self.next_page:
            raise ValueError("max_pages 大于 1 时需要 next_page（下一页链接的选择器）")
        return self


FieldName = Literal["link", "title", "date", "summary", "parent", "rank", "heat"]


@dataclass
class PageExtraction:
    """What the selectors found on the pages: the entries, and per selector how many entries it matched."""

    entries: list[RawEntry] = field(default_factory=list)
    items_matched: int = 0
    field_hits: dict[str, int] = field(default_factory=dict)


def _first_value(node: Selector, selector: str, name: FieldName) -> str | None:
    """The value a field's selector finds in one entry: an attribute or text as selected, else the element's text (a link's href)."""
    found = select(node, selector)
    if not found:
        return None
    first = found[0]
    if isinstance(first.root, str):  # ::text, ::attr(), /@href, text(): already a value
        value: str | None = first.root
    elif name in ("link", "parent"):
        value = first.attrib.get("href") or first.css("a::attr(href)").get()
    else:
        value = " ".join(first.xpath(".//text()").getall())
        if name == "title" and not value.strip():
            value = first.attrib.get("title")
    value = clean_whitespace(value or "")
    return value or None


def clean_date_text(raw: str) -> str:
    """A date as list pages write it, without its label and brackets.

    >>> clean_date_text("(2020-08-16 22:26:38)"), clean_date_text("发布时间：2026-11-27")
    ('2020-08-16 22:26:38', '2026-11-27')
    """
    return _DATE_LABEL.sub("", raw.strip(_DATE_BRACKETS)).strip(_DATE_BRACKETS)


def extract_page(text: str, spec: PageSpec, *, base_url: str | None = None) -> PageExtraction:
    """The entries of one decoded page, with per-selector match counts and the next page's link."""
    document = Selector(text=text, base_url=base_url)
    nodes = select(document, spec.items)
    result = PageExtraction(items_matched=len(nodes))
    selectors: dict[FieldName, str | None] = {
        "link": spec.link,
        "title": spec.title,
        "date": spec.date,
        "summary": spec.summary,
        "parent": spec.parent,
        "rank": spec.rank,
        "heat": spec.heat,
    }
    hits: dict[str, int] = {name: 0 for name, sel in selectors.items() if sel}
    for node in nodes:
        values: dict[str, str | None] = {}
        for name, selector in selectors.items():
            if selector:
                values[name] = _first_value(node, selector, name)
                hits[name] += values[name] is not None
        date = values.get("date")
        result.entries.append(
            RawEntry(
                link=values.get("link"),
                title=values.get("title") or "",
                title_is_html=False,
                body=values.get("summary") or "",
                body_is_html=False,
                date_raw=clean_date_text(date) if date else None,
                rank_raw=values.get("rank"),
                heat_raw=values.get("heat"),
                in_reply_to=values.get("parent"),
            )
        )
    result.field_hits = hits
    return result


def describe_missing(spec: PageSpec, extraction: PageExtraction) -> str | None:
    """The error of a page whose selectors match nothing (the site changed), naming the selector; else None."""
    if not extraction.items_matched:
        return f"选择器 page.items「{spec.items}」在页面上没有匹配到任何条目（网站可能已改版）"
    for name, hits in extraction.field_hits.items():
        if not hits and name != "parent":  # a page of posts answers none
            selector = getattr(spec, name)
            return f"选择器 page.{name}「{selector}」在 {extraction.items_matched} 个条目中都没有匹配（网站可能已改版）"
    return None


def parse_page(
    bodies: Sequence[tuple[bytes, str | None, str | None]], spec: PageSpec, *, max_entries: int = 500, note: str | None = None
) -> ParsedFeed:
    """The entries of a list page and the pages after it, as ``(body, content_type, url)``; raise ``PageExtractError``.

    Only the first page's selectors decide the error: a later page of another layout adds nothing.
    """
    entries: list[RawEntry] = []
    notes = [note] if note else []
    for number, (body, content_type, url) in enumerate(bodies, start=1):
        text, _encoding = decode_document(body, content_type)
        extraction = extract_page(text, spec, base_url=url)
        if number == 1:
            missing = describe_missing(spec, extraction)
            if missing:
                raise PageExtractError(missing)
            partial = [
                f"page.{name} 有 {extraction.items_matched - hits} 个条目没有匹配"
                for name, hits in extraction.field_hits.items()
                if hits < extraction.items_matched and name in ("link", "title", "date")
            ]
            notes.extend(partial)
        elif not extraction.items_matched:
            notes.append(f"第 {number} 页没有匹配到条目")
        for entry in extraction.entries:  # resolved against their own page: normalize knows only the first
            entry.link = urljoin(url, entry.link) if entry.link and url else entry.link
            entry.in_reply_to = urljoin(url, entry.in_reply_to) if entry.in_reply_to and url else entry.in_reply_to
        entries.extend(extraction.entries)
    return ParsedFeed(
        format="page",
        entries=entries[:max_entries],
        entries_total=len(entries),
        warning="；".join(notes) or None,
    )


def next_page_url(body: bytes, content_type: str | None, url: str, spec: PageSpec) -> str | None:
    """The absolute URL of the page after this one, if the page has a next-page link."""
    if not spec.next_page:
        return None
    text, _encoding = decode_document(body, content_type)
    found = _first_value(Selector(text=text, base_url=url), spec.next_page, "link")
    return urljoin(url, found) if found else None
