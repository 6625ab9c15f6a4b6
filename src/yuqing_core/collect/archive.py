"""Backfill from a JSON Lines archive: ``yuqing import FILE.jsonl --source NAME``.

One JSON object per line with the fields ``title``, ``text`` (or
``summary``), ``url``, ``published``, ``guid`` and optionally ``author``.
``title`` may be empty (social posts have none); ``url`` and ``guid`` are
optional. Lines go through the same normalize-and-store path as feeds and
the same exactly-once rule, so importing a file twice stores nothing new.

The file is checked in full before anything is written: a bad line is
reported with its line number and field, and nothing is imported.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from yuqing_core.collect.dates import parse_feed_date
from yuqing_core.collect.normalize import normalize_entries
from yuqing_core.collect.parse import RawEntry
from yuqing_core.collect.store import insert_items
from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Source
from yuqing_core.timeutil import utcnow
from yuqing_core.yamlfile import ConfigFileError, Problem

TEXT_FIELDS = ("title", "text", "summary", "url", "published", "guid", "author")
BATCH_LINES = 2000
MAX_PROBLEMS_REPORTED = 50
_TAG_LIKE_START = "<"


@dataclass
class ArchiveImportSummary:
    source: str
    source_created: bool
    lines: int
    items_new: int
    items_existing: int
    dates_fallback: int

    def line(self) -> str:
        created = "（新建信息源，类型 archive）" if self.source_created else ""
        return (
            f"{self.source}{created}：读取 {self.lines} 行，新增 {self.items_new} 条，"
            f"已存在 {self.items_existing} 条，无日期按导入时间 {self.dates_fallback} 条"
        )


def _entry_from_line(obj: Any, path: str, number: int, tz: ZoneInfo, now: datetime) -> tuple[RawEntry | None, list[Problem]]:
    problems = []
    if not isinstance(obj, dict):
        return None, [Problem(path, number, None, "", "每行应为一个 JSON 对象")]
    values: dict[str, str | None] = {}
    for name in TEXT_FIELDS:
        value = obj.get(name)
        if (value is not None and not isinstance(value, (str, int, float))) or isinstance(value, bool):
            problems.append(Problem(path, number, None, name, "应为文本"))
            continue
        values[name] = str(value).strip() if value is not None and str(value).strip() else None
    if problems:
        return None, problems
    body = values["text"] or values["summary"] or ""
    if not (values["title"] or body or values["url"]):
        return None, [Problem(path, number, None, "", "title、text/summary、url 至少要有一项")]
    if values["published"] and parse_feed_date(values["published"], tz, now=now) is None:
        return None, [Problem(path, number, None, "published", f"无法识别的时间 {values['published']!r}")]
    entry = RawEntry(
        guid=values["guid"],
        link=values["url"],
        title=values["title"] or "",
        body=body,
        body_is_html=_TAG_LIKE_START in body,
        author=values["author"],
        date_raw=values["published"],
    )
    return entry, []


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("r", encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line


def _entries(path: Path, tz: ZoneInfo, now: datetime) -> Iterator[tuple[int, RawEntry | None, list[Problem]]]:
    try:
        for number, line in _read_lines(path):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, [Problem(str(path), number, exc.colno, "", f"JSON 格式错误：{exc.msg}")]
                continue
            entry, problems = _entry_from_line(obj, str(path), number, tz, now)
            yield number, entry, problems
    except UnicodeDecodeError as exc:
        raise ConfigFileError([Problem(str(path), None, None, "", f"不是 UTF-8 编码（第 {exc.start} 字节附近）")]) from exc


def check_archive(path: Path, tz: ZoneInfo, now: datetime) -> tuple[int, Counter[str]]:
    """Validate every line; return the line count and how often each guid occurs."""
    if not path.is_file():
        raise ConfigFileError([Problem(str(path), None, None, "", "文件不存在")])
    problems: list[Problem] = []
    guids: Counter[str] = Counter()
    lines = 0
    for _number, entry, line_problems in _entries(path, tz, now):
        lines += 1
        problems.extend(line_problems)
        if entry is not None and entry.guid:
            guids[entry.guid] += 1
    if problems:
        shown = problems[:MAX_PROBLEMS_REPORTED]
        if len(problems) > len(shown):
            shown.append(Problem(str(path), None, None, "", f"……另有 {len(problems) - len(shown)} 处问题未列出"))
        raise ConfigFileError(shown)
    return lines, guids


def import_archive(
    db: Database, settings: Settings, path: Path | str, source_name: str, *, now: datetime | None = None
) -> ArchiveImportSummary:
    """Import a JSON Lines archive into ``source_name`` (created as kind archive if missing), all or nothing."""
    path = Path(path)
    now = now or utcnow()
    with db.reader() as session:
        existing = session.scalar(select(Source).where(Source.name == source_name))
    tz = ZoneInfo(existing.timezone if existing else settings.timezone)
    lines, guids = check_archive(path, tz, now)
    repeated_guids = {guid for guid, count in guids.items() if count > 1}

    items_new = items_seen = fallback = 0
    with db.writer() as session:
        source = session.scalar(select(Source).where(Source.name == source_name))
        created = source is None
        if source is None:
            source = Source(
                name=source_name, url=None, kind="archive", weight=1.0, poll_interval_s=86400,
                timezone=settings.timezone, enabled=True, consecutive_errors=0, redirect_count=0,
                created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(source)
            session.flush()
        batch: list[RawEntry] = []

        def flush_batch() -> None:
            nonlocal items_new, items_seen, fallback
            records = normalize_entries(
                batch,
                base_url=None,
                source_tz=ZoneInfo(source.timezone),
                fetched_at=now,
                max_text_chars=settings.fetch_max_field_chars,
                future_tolerance=timedelta(seconds=settings.collect_future_tolerance_s),
                repeated_guids=repeated_guids,
            )
            items_seen += len(records)
            fallback += sum(1 for r in records if r.published_fallback)
            items_new += len(insert_items(session, source.id, records, now))
            batch.clear()

        for _number, entry, _problems in _entries(path, tz, now):
            assert entry is not None  # checked above
            batch.append(entry)
            if len(batch) >= BATCH_LINES:
                flush_batch()
        if batch:
            flush_batch()
        source.last_success_at = now
        source.last_status = "ok"
        source.updated_at = now
        if items_new:
            source.last_new_item_at = now
    return ArchiveImportSummary(
        source=source_name,
        source_created=created,
        lines=lines,
        items_new=items_new,
        items_existing=items_seen - items_new,
        dates_fallback=fallback,
    )
