"""Which reader a source's kind takes: feeds (``parse``), list pages (``pages``), JSON lists (``jsonlist``).

``service`` calls these two functions and nothing kind-specific: ``fetch_following_pages``
after the first fetch (only a changed ``page`` source with a next-page selector fetches more),
and ``parse_source_document`` on what was fetched. A ``page`` or ``json`` source that is a hot
list (``hot_list: true``) gets each entry's rank and heat too (``collect.hotlist``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from yuqing_core.collect.fetch import Fetcher, FetchError, FetchResult
from yuqing_core.collect.hotlist import place_entries
from yuqing_core.collect.jsonlist import JsonListSpec, parse_json_list
from yuqing_core.collect.normalize import safe_link
from yuqing_core.collect.pages import PageSpec, next_page_url, parse_page
from yuqing_core.collect.parse import FeedParseError, ParsedFeed, parse_feed

FEED_KINDS = ("auto", "rss", "atom", "jsonfeed")
EXTRACTED_KINDS = ("page", "json")
POLLABLE_KINDS = FEED_KINDS + EXTRACTED_KINDS


def page_spec(extract: dict[str, Any] | None) -> PageSpec:
    if not extract or "page" not in extract:
        raise FeedParseError("信息源缺少 page 选择器配置：请在信息源文件中补上并重新导入")
    return PageSpec.model_validate(extract["page"])


def json_spec(extract: dict[str, Any] | None) -> JsonListSpec:
    if not extract or "json" not in extract:
        raise FeedParseError("信息源缺少 json 字段映射：请在信息源文件中补上并重新导入")
    return JsonListSpec.model_validate(extract["json"])


def is_hot_list(extract: dict[str, Any] | None) -> bool:
    """Whether a source's stored extraction says it is a hot list (``hot_list: true`` in the sources file)."""
    return bool(extract and extract.get("hot_list"))


def parse_source_document(
    kind: str,
    extract: dict[str, Any] | None,
    fetch: FetchResult,
    following: Sequence[FetchResult] = (),
    *,
    max_entries: int = 500,
    note: str | None = None,
) -> ParsedFeed:
    """The entries of a fetched document, read the way the source's kind says; raise ``FeedParseError``.

    A hot list's entries come with their ``position``: the rank its rank selector or mapping reads,
    else the entry's place in the list; the heat as the list writes it, read as a number.
    """
    if kind == "page":
        pages = [(f.body, f.content_type, f.final_url) for f in (fetch, *following)]
        spec = page_spec(extract)
        parsed = parse_page(pages, spec, max_entries=max_entries, note=note)
        ranks_given = spec.rank is not None
    elif kind == "json":
        if not fetch.body.strip():
            raise FeedParseError("内容为空")
        mapping = json_spec(extract)
        parsed = parse_json_list(fetch.body, mapping, max_entries=max_entries)
        ranks_given = mapping.rank is not None
    else:
        return parse_feed(fetch.body, content_type=fetch.content_type, kind=kind, max_entries=max_entries)
    if is_hot_list(extract):
        place_entries(parsed.entries, ranks_given=ranks_given)
    return parsed


async def fetch_following_pages(
    fetcher: Fetcher, kind: str, extract: dict[str, Any] | None, first: FetchResult, known_sha1: str | None
) -> tuple[list[FetchResult], str | None]:
    """The pages after a changed first page of a ``page`` source, up to its ``max_pages``, and a note if one failed.

    An unchanged first page fetches nothing more: what is new shows on the first page first.
    A later page that fails ends the reading there, as a note; the pages read are kept.
    """
    if kind != "page" or first.not_modified or hashlib.sha1(first.body).hexdigest() == known_sha1:
        return [], None
    try:
        spec = page_spec(extract)
    except Exception:  # the parse step reports a bad configuration
        return [], None
    pages: list[FetchResult] = []
    seen = {first.final_url}
    current = first
    while len(pages) + 1 < spec.max_pages:
        url = safe_link(next_page_url(current.body, current.content_type, current.final_url, spec), None)
        if not url or url in seen:
            break
        seen.add(url)
        try:
            current = await fetcher.fetch(url)
        except FetchError as exc:
            return pages, f"第 {len(pages) + 2} 页抓取失败（{exc.message}），只读了前 {len(pages) + 1} 页"
        if current.not_modified:
            break
        pages.append(current)
    return pages, None
