"""Writing feeds in the formats and date styles real Chinese sources use (demo, tests, benchmarks).

Three formats are not feeds: ``page``, a township site's news list page (read by a ``page``
source's selectors), ``board-json``, a 县长信箱-style JSON list whose letters carry the
official reply (read by a ``json`` source's mapping), and ``hot-page``, a city's hot list (热榜)
page with each entry's rank and heat (``render_hot_list``, read by a hot-list ``page`` source).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

FeedFormat = Literal["rss2", "rss2-gbk", "atom", "rss1", "jsonfeed", "page", "board-json", "hot-page"]
DateStyle = Literal["rfc822", "iso8601", "chinese", "slash", "cst", "local"]

CONTENT_TYPES = {
    "rss2": "application/rss+xml; charset=utf-8",
    "rss2-gbk": "application/rss+xml",  # charset only in the XML declaration, as many county sites do
    "atom": "application/atom+xml; charset=utf-8",
    "rss1": "application/rdf+xml; charset=utf-8",
    "jsonfeed": "application/feed+json; charset=utf-8",
    "page": "text/html; charset=utf-8",
    "board-json": "application/json; charset=utf-8",
    "hot-page": "text/html; charset=utf-8",
}


@dataclass(frozen=True)
class FeedEntry:
    guid: str
    title: str
    text: str
    published: datetime  # aware, in the zone the feed writes dates in
    link: str | None = None
    author: str | None = None
    # The official reply a message board publishes with a letter (``board-json``).
    reply_text: str | None = None
    reply_at: datetime | None = None
    reply_by: str | None = None


def format_date(value: datetime, style: DateStyle) -> str:
    """A date the way a feed of ``style`` writes it.

    >>> from zoneinfo import ZoneInfo
    >>> format_date(datetime(2026, 10, 3, 12, 53, 46, tzinfo=ZoneInfo("Asia/Shanghai")), "chinese")
    '2026年10月03日 12:53'
    """
    if style == "rfc822":
        return format_datetime(value)
    if style == "cst":
        # RFC 822 shape with the zone written as "CST", as many Chinese CMSs do; the clock time is local.
        return value.strftime("%a, %d %b %Y %H:%M:%S CST")
    if style == "iso8601":
        return value.isoformat(timespec="seconds")
    if style == "chinese":
        return value.strftime("%Y年%m月%d日 %H:%M")
    if style == "slash":
        return value.strftime("%Y/%m/%d %H:%M:%S")
    if style == "local":  # list pages: no year (``render_feed`` writes 今天/昨天 for recent days)
        return value.strftime("%m月%d日 %H:%M")
    raise ValueError(f"unknown date style {style!r}")


def _text(value: str) -> str:
    return escape(value)


def render_feed(
    fmt: FeedFormat,
    *,
    title: str,
    site_url: str,
    entries: list[FeedEntry],
    date_style: DateStyle = "rfc822",
    now: datetime | None = None,
) -> bytes:
    """The feed document as bytes, in the encoding the format implies (``now`` dates a page's 今天 and 昨天).

    A hot list is not a feed of entries: ``render_hot_list`` writes it.
    """
    if fmt == "hot-page":
        raise ValueError("a hot list page is written by render_hot_list, from its rows in rank order")
    if fmt == "page":
        return _list_page(title, entries, date_style, now).encode("utf-8")
    if fmt == "board-json":
        return _board_json(entries, date_style)
    if fmt == "jsonfeed":
        return _json_feed(title, site_url, entries, date_style)
    if fmt == "atom":
        return _atom(title, site_url, entries, date_style).encode("utf-8")
    if fmt == "rss1":
        return _rss1(title, site_url, entries, date_style).encode("utf-8")
    if fmt == "rss2-gbk":
        return _rss2(title, site_url, entries, date_style, encoding="gb2312").encode("gb18030")
    return _rss2(title, site_url, entries, date_style, encoding="utf-8").encode("utf-8")


def _rss2(title: str, site_url: str, entries: list[FeedEntry], date_style: DateStyle, *, encoding: str) -> str:
    items = []
    for e in entries:
        parts = [
            f"<title>{_text(e.title)}</title>",
            f"<link>{_text(e.link)}</link>" if e.link else "",
            f'<guid isPermaLink="false">{_text(e.guid)}</guid>',
            f"<description>{_text(e.text)}</description>",
            f"<pubDate>{format_date(e.published, date_style)}</pubDate>",
            f"<author>{_text(e.author)}</author>" if e.author else "",
        ]
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>{_text(title)}</title><link>{_text(site_url)}</link><language>zh-cn</language>\n"
        + "\n".join(items)
        + "\n</channel></rss>\n"
    )


def _atom(title: str, site_url: str, entries: list[FeedEntry], date_style: DateStyle) -> str:
    items = []
    for e in entries:
        date = format_date(e.published, date_style)
        parts = [
            f"<id>{_text(e.guid)}</id>",
            f'<title type="text">{_text(e.title)}</title>',
            f'<link rel="alternate" href={quoteattr(e.link)}/>' if e.link else "",
            f"<published>{date}</published><updated>{date}</updated>",
            f"<author><name>{_text(e.author)}</name></author>" if e.author else "",
            f'<content type="html">{_text("<p>" + escape(e.text) + "</p>")}</content>',
        ]
        items.append("<entry>" + "".join(parts) + "</entry>")
    updated = format_date(max((e.published for e in entries), default=datetime.now().astimezone()), "iso8601")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">'
        f"<title>{_text(title)}</title><id>{_text(site_url)}</id><link href={quoteattr(site_url)}/>"
        f"<updated>{updated}</updated>\n" + "\n".join(items) + "\n</feed>\n"
    )


def _rss1(title: str, site_url: str, entries: list[FeedEntry], date_style: DateStyle) -> str:
    def about(e: FeedEntry) -> str:
        return e.link or f"{site_url}#{e.guid}"

    seq = "".join(f"<rdf:li rdf:resource={quoteattr(about(e))}/>" for e in entries)
    items = []
    for e in entries:
        items.append(
            f"<item rdf:about={quoteattr(about(e))}><title>{_text(e.title)}</title>"
            f"<link>{_text(about(e))}</link><description>{_text(e.text)}</description>"
            f"<dc:date>{format_date(e.published, date_style)}</dc:date>"
            + (f"<dc:creator>{_text(e.author)}</dc:creator>" if e.author else "")
            + "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel rdf:about={quoteattr(site_url)}><title>{_text(title)}</title><link>{_text(site_url)}</link>"
        f"<description>{_text(title)}</description><items><rdf:Seq>{seq}</rdf:Seq></items></channel>\n"
        + "\n".join(items)
        + "\n</rdf:RDF>\n"
    )


def _json_feed(title: str, site_url: str, entries: list[FeedEntry], date_style: DateStyle) -> bytes:
    items = []
    for e in entries:
        item: dict[str, object] = {
            "id": e.guid,
            "content_text": e.text,
            "date_published": format_date(e.published, date_style),
        }
        if e.title:
            item["title"] = e.title
        if e.link:
            item["url"] = e.link
        if e.author:
            item["authors"] = [{"name": e.author}]
        items.append(item)
    document = {"version": "https://jsonfeed.org/version/1.1", "title": title, "home_page_url": site_url, "items": items}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def local_date(value: datetime, now: datetime | None, style: DateStyle) -> str:
    """A list page's date: ``今天 08:30``, ``昨天 14:20``, else in ``style``.

    >>> from datetime import timedelta
    >>> from zoneinfo import ZoneInfo
    >>> at = datetime(2026, 11, 27, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> local_date(at, at + timedelta(days=1), "local"), local_date(at, at + timedelta(days=3), "local")
    ('昨天 08:30', '11月27日 08:30')
    """
    if now is not None:
        days = (now.astimezone(value.tzinfo).date() - value.date()).days
        if days in (0, 1):
            return ("今天 " if days == 0 else "昨天 ") + value.strftime("%H:%M")
    return format_date(value, style)


def _list_page(title: str, entries: list[FeedEntry], date_style: DateStyle, now: datetime | None) -> str:
    rows = "\n".join(
        f"<li><a href={quoteattr(e.link or '#')} title={quoteattr(e.title)}>{_text(e.title)}</a>"
        f'<span class="date">{local_date(e.published, now, date_style)}</span>'
        f'<p class="summary">{_text(e.text[:120])}</p></li>'
        for e in entries
    )
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{_text(title)}</title></head>'
        f'<body><div class="header">{_text(title)}</div><div class="main"><h2>工作动态</h2>'
        f'<ul class="news-list">\n{rows}\n</ul></div></body></html>\n'
    )


def _board_json(entries: list[FeedEntry], date_style: DateStyle) -> bytes:
    letters = []
    for e in entries:
        reply = None
        if e.reply_text and e.reply_at is not None:
            reply = {"content": e.reply_text, "replyTime": format_date(e.reply_at, date_style), "unitName": e.reply_by}
        letters.append(
            {
                "letterId": e.guid,
                "title": e.title,
                "content": e.text,
                "createTime": format_date(e.published, date_style),
                "reply": reply,
            }
        )
    document = {"code": 0, "msg": "success", "data": {"total": len(letters), "list": letters}}
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


@dataclass(frozen=True)
class HotListRow:
    """One entry of a hot list page: its topic, where it links, and its heat as the list writes it."""

    title: str
    link: str
    heat_text: str


def render_hot_list(title: str, rows: list[HotListRow]) -> bytes:
    """A hot list (热榜) page, the rows in rank order: rank, linked title and heat per entry."""
    entries = "\n".join(
        f'<li><span class="rank">{rank}</span><a class="title" href={quoteattr(row.link)}>{_text(row.title)}</a>'
        f'<span class="heat">{_text(row.heat_text)}</span></li>'
        for rank, row in enumerate(rows, start=1)
    )
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{_text(title)}</title></head>'
        f'<body><h1>{_text(title)}</h1><p class="note">每 10 分钟更新</p>'
        f'<ol class="hot-list">\n{entries}\n</ol></body></html>\n'
    ).encode()
