"""The bundled sample county (青禾县, fictional), which ``make demo`` runs (see ``yuqing_core.cli.demo``).

``county.yaml`` holds a dozen sources and a few hundred items dated by day
offset; the feeds are rendered relative to today (Asia/Shanghai) so the
demo always shows the last week, and served on 127.0.0.1 by ``FeedServer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from html import escape
from importlib import resources
from typing import Any

import yaml

from yuqing_core.demo.feeds import CONTENT_TYPES, FeedEntry, render_feed
from yuqing_core.demo.server import FeedServer
from yuqing_core.timeutil import SHANGHAI, utcnow


@dataclass(frozen=True)
class County:
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data["county"]["name"])

    @property
    def sources(self) -> list[dict[str, Any]]:
        return list(self.data["sources"])

    @property
    def items(self) -> list[dict[str, Any]]:
        return list(self.data["items"])


def load_county() -> County:
    text = resources.files("yuqing_core.demo").joinpath("county.yaml").read_text(encoding="utf-8")
    return County(yaml.safe_load(text))


def item_time(item: dict[str, Any], today: date) -> datetime:
    hour, minute = (int(part) for part in str(item["time"]).split(":"))
    return datetime.combine(today + timedelta(days=int(item["day"])), time(hour, minute), tzinfo=SHANGHAI)


def reply_time(item: dict[str, Any], today: date) -> datetime | None:
    """When the official reply to a letter (``reply:`` with day, time, text, by) was published, if it has one."""
    return item_time(item["reply"], today) if item.get("reply") else None


def county_feeds(county: County, base_url: str, now: datetime | None = None) -> dict[str, tuple[bytes, str]]:
    """Path -> (body, content type) for every source, with items dated relative to ``now``.

    Items whose time of day has not come yet today are left out, as a live site would.
    """
    now = (now or utcnow()).astimezone(SHANGHAI)
    by_source: dict[str, list[FeedEntry]] = {s["name"]: [] for s in county.sources}
    for item in county.items:
        published = item_time(item, now.date())
        if published > now:
            continue
        link = item.get("link", f"{base_url}/a/{item['id']}.html")
        replied = reply_time(item, now.date())
        answered = replied is not None and replied <= now  # a reply not yet written is not on the board
        by_source[item["source"]].append(
            FeedEntry(
                guid=f"qinghe-{item['id']}",
                title=str(item.get("title") or ""),
                text=str(item["text"]),
                published=published,
                link=link,
                author=item.get("author"),
                reply_text=str(item["reply"]["text"]) if answered else None,
                reply_at=replied if answered else None,
                reply_by=str(item["reply"].get("by") or "") or None if answered else None,
            )
        )
    feeds = {}
    for source in county.sources:
        entries = sorted(by_source[source["name"]], key=lambda e: e.published, reverse=True)
        body = render_feed(
            source["format"], title=source["name"], site_url=base_url + "/", entries=entries,
            date_style=source["date_style"], now=now,
        )  # fmt: skip
        feeds[source["path"]] = (body, CONTENT_TYPES[source["format"]])
    return feeds


def sources_yaml(county: County, base_url: str) -> str:
    """A sources file for the served county, in the format ``yuqing sources import`` reads."""
    declared = [
        {
            "name": s["name"],
            "url": base_url + s["path"],
            **_extraction(s),
            "owner_unit": s.get("owner_unit"),
            "category": s.get("category"),
            "role": s.get("role"),
            "weight": s.get("weight", 1.0),
            "poll_interval": f"{s.get('poll_minutes', 30)}m",
        }
        for s in county.sources
    ]
    return yaml.safe_dump({"sources": declared}, allow_unicode=True, sort_keys=False)


def _extraction(source: dict[str, Any]) -> dict[str, Any]:
    """The kind and selectors (page) or mapping (JSON list) of a served site without a feed; nothing for a feed."""
    if source["format"] == "page":
        return {"kind": "page", "page": source["page"]}
    if source["format"] == "board-json":
        return {"kind": "json", "json": source["json"]}
    return {}


# The forum post whose page the demo serves, so the analyze flow fetches its full text and keeps a
# snapshot; the demo then takes the page down (404), and the next analyze run marks it 原文已删除.
DELETED_POST_ID = "bbs-019"


def article_path(item_id: str) -> str:
    return f"/a/{item_id}.html"


def article_page(county: County, item_id: str) -> bytes:
    """The served page of one item: its text as a bare post page (the demo's other links answer 404)."""
    item = next(i for i in county.items if i["id"] == item_id)
    title = escape(f"{item.get('title') or ''} - {item['source']}")
    return (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><article><p>{escape(str(item['text']))}</p></article></body></html>"
    ).encode()


def serve_county(server: FeedServer, county: County) -> None:
    for path, (body, content_type) in county_feeds(county, server.base_url).items():
        server.add(path, body, content_type=content_type)
    server.add(article_path(DELETED_POST_ID), article_page(county, DELETED_POST_ID), content_type="text/html; charset=utf-8")
