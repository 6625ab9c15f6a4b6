"""The bundled sample county (青禾县, fictional), which ``make demo`` runs (see ``yuqing_core.cli.demo``).

``county.yaml`` holds a dozen sources and a few hundred items dated by day
offset; the feeds are rendered relative to today (Asia/Shanghai) so the
demo always shows the last week, and served on 127.0.0.1 by ``FeedServer``.

It also holds a city hot list (热榜) as it stood at each of its polls over the last days
(``hot_list_polls``): the server shows its latest poll, and ``replay_hot_lists`` stores the
earlier ones as the office's collector would have seen them, so the demo has the ranks a
county story climbed through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select

from yuqing_core.collect.service import ingest_document
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Source
from yuqing_core.demo.feeds import CONTENT_TYPES, FeedEntry, HotListRow, render_feed, render_hot_list
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

    @property
    def hot_topics(self) -> dict[str, str]:
        """Topic id -> title of the entries the hot lists show."""
        return dict(self.data.get("hot_topics") or {})

    def hot_list_polls(self, source: str, today: date) -> list[tuple[datetime, list[HotListRow]]]:
        """When a hot list was polled and what it showed then, oldest first (links relative to the server)."""
        polls = []
        for poll in self.data.get("hot_list_polls") or []:
            if poll["source"] != source:
                continue
            rows = []
            for entry in poll["entries"]:
                topic, heat = str(entry).split(" ", 1)
                rows.append(HotListRow(title=self.hot_topics[topic], link=f"/hot/t/{topic}.html", heat_text=heat))
            polls.append((item_time(poll, today), rows))
        return sorted(polls, key=lambda poll: poll[0])


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
        if source["format"] == "hot-page":
            feeds[source["path"]] = (hot_list_page(county, source["name"], base_url, now), CONTENT_TYPES["hot-page"])
            continue
        entries = sorted(by_source[source["name"]], key=lambda e: e.published, reverse=True)
        body = render_feed(
            source["format"], title=source["name"], site_url=base_url + "/", entries=entries,
            date_style=source["date_style"], now=now,
        )  # fmt: skip
        feeds[source["path"]] = (body, CONTENT_TYPES[source["format"]])
    return feeds


def hot_list_page(county: County, source: str, base_url: str, now: datetime) -> bytes:
    """The hot list as its latest poll up to ``now`` showed it (its first poll, if none has come yet)."""
    polls = county.hot_list_polls(source, now.astimezone(SHANGHAI).date())
    shown = [rows for at, rows in polls if at <= now] or [rows for _at, rows in polls[:1]] or [[]]
    return render_hot_list(source, [replace(row, link=base_url + row.link) for row in shown[-1]])


def replay_hot_lists(db: Database, settings: Settings, county: County, base_url: str, now: datetime | None = None) -> int:
    """Store each hot list's polls before its latest as if collected then (the server shows the latest); the polls replayed.

    The office's collector polls a hot list every few minutes; the demo starts with today's
    collect, so the ranks a county story climbed through yesterday are stored here, each poll at
    its own time, through the same parse-normalize-store path as a fetch (``ingest_document``).
    """
    now = (now or utcnow()).astimezone(SHANGHAI)
    with db.reader() as session:
        ids = dict(session.execute(select(Source.name, Source.id)).all())
    replayed = 0
    for source in county.sources:
        if source["format"] != "hot-page" or source["name"] not in ids:
            continue
        polls = [(at, rows) for at, rows in county.hot_list_polls(source["name"], now.date()) if at <= now]
        for at, rows in polls[:-1]:
            body = render_hot_list(source["name"], [replace(row, link=base_url + row.link) for row in rows])
            ingest_document(
                db, settings, ids[source["name"]], body, content_type=CONTENT_TYPES["hot-page"], clock=_stopped_at(at)
            )
            replayed += 1
    return replayed


def _stopped_at(moment: datetime) -> Callable[[], datetime]:
    """A clock that always says ``moment`` (in UTC): a replayed poll happened then."""
    at = moment.astimezone(UTC)
    return lambda: at


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
    if source["format"] == "hot-page":
        return {"kind": "page", "hot_list": True, "page": source["page"]}
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
