"""Throughput of ``page`` source extraction (``yuqing_core.collect.pages``) beside the raw parser.

Run with ``make bench`` (or ``.venv/bin/python bench/pages.py``). Every line on stdout is one JSON object::

    {"bench": "pages", "metric": "pages_per_s", "value": ..., "anchor": "lxml-raw", "anchor_value": ..., "ratio": ...}

The pages are the real captured list pages in ``tests/data/pages`` (two fund companies'
announcement lists and a news portal's rolling list; see ``SOURCE.md`` there), each with the
selectors a page source would use for it. The subject is ``parse_page``: decoding by our rules,
parsel selectors for the entries and each field (link, title, date, summary), date labels and
brackets removed, links resolved. The anchor does the same selection with lxml used raw: the same
decoded text parsed by ``lxml.html``, the same selectors (CSS translated to XPath once, by
cssselect, outside the timing) run on each entry, the first match's text or attribute taken as
is. ``ratio`` is ours / raw, so 1.0 means the library costs nothing over the parser; the rounds
alternate the two sides (``benchlib.interleave``) and report the median and spread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import html as lxml_html
from parsel.csstranslator import HTMLTranslator

from benchlib import emit, figure_from_rounds, interleave, log
from yuqing_core.collect.pages import PageSpec, is_xpath, parse_page
from yuqing_core.collect.parse import decode_document

BENCH = "pages"
PAGES = Path(__file__).resolve().parents[1] / "tests" / "data" / "pages"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
REPEAT = int(os.environ.get("BENCH_PAGE_REPEAT", "20"))  # each page this many times per run

SPECS: dict[str, PageSpec] = {
    "hrfund_announcement.html": PageSpec(items="div.infor-con li", title="h2 a", link="h2 a::attr(href)", date="i"),
    "dfa66_announcement.html": PageSpec(items="ul.glist > li", link="a::attr(href)", title="a", date="span.t"),
    "netease_rolling_news.html": PageSpec(
        items="//div[@id='instantPanel']//ul[@class='list_txt']/li",
        title="a:not(.cBlue)",
        link="a:not(.cBlue)::attr(href)",
        date="span.cDGray",
        summary="a.cBlue",
    ),
}


def to_xpath(selector: str) -> str:
    """The XPath lxml runs for a selector: as written, or the CSS translated (with ::text and ::attr) by cssselect."""
    return selector if is_xpath(selector) else HTMLTranslator().css_to_xpath(selector, prefix="descendant-or-self::")


def raw_side(pages: list[tuple[bytes, PageSpec]]) -> Callable[[], int]:
    """The anchor: lxml.html and the precompiled selectors, first match as is, per entry."""
    compiled = []
    for body, spec in pages:
        fields = [to_xpath(s) for s in (spec.link, spec.title, spec.date, spec.summary) if s]
        compiled.append((body, to_xpath(spec.items), fields))

    def run() -> int:
        entries = 0
        for body, items, fields in compiled:
            text, _encoding = decode_document(body)
            tree = lxml_html.fromstring(text)
            for node in tree.xpath(items):
                values: list[Any] = []
                for path in fields:
                    found = node.xpath(path)
                    first = found[0] if found else None
                    values.append(first if isinstance(first, str) or first is None else first.text_content())
                entries += 1
        return entries

    return run


def our_side(pages: list[tuple[bytes, PageSpec]]) -> Callable[[], int]:
    def run() -> int:
        return sum(parse_page([(body, "text/html", "http://127.0.0.1/list.html")], spec).entries_total for body, spec in pages)

    return run


def main() -> None:
    pages = [((PAGES / name).read_bytes(), spec) for name, spec in SPECS.items()] * REPEAT
    ours, raw = our_side(pages), raw_side(pages)
    entries = ours()
    assert entries == raw(), "both sides must find the same entries"
    log(f"{len(pages)} pages, {entries} entries per run, {ROUNDS} rounds")
    seconds = interleave({"ours": ours, "raw": raw}, ROUNDS)
    per_s = {side: [len(pages) / s for s in times] for side, times in seconds.items()}
    emit(
        figure_from_rounds(
            BENCH, "pages_per_s", per_s["ours"], "lxml-raw", per_s["raw"],
            pages=len(pages), entries=entries, bytes=sum(len(body) for body, _ in pages),
        )
    )  # fmt: skip
    entries_per_s = {side: [entries / s for s in times] for side, times in seconds.items()}
    emit(figure_from_rounds(BENCH, "entries_per_s", entries_per_s["ours"], "lxml-raw", entries_per_s["raw"], entries=entries))


if __name__ == "__main__":
    main()
