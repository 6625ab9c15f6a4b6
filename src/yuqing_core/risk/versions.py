"""Versions of the risk library in the database: import, the active version, export.

The library is versioned as a whole: each import that changes anything
stores the YAML as written, who imported it, when, and what changed against
the version before; the newest version is the active one. Matches and
warnings record the version they came from.
"""

from __future__ import annotations

import getpass
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from yuqing_core.db.database import Database
from yuqing_core.db.models import RiskLibraryVersion, RiskPoint, Rule
from yuqing_core.errors import NotFound
from yuqing_core.risk.library import (
    CompiledLibrary,
    LibrarySpec,
    LoadedLibraryFile,
    diff_libraries,
    library_rules,
    load_library_text,
)
from yuqing_core.timeutil import utcnow


class NoActiveLibrary(NotFound):
    def __init__(self) -> None:
        super().__init__("还没有导入风险库：先运行 `yuqing risk import 风险库.yaml`。")


@dataclass(frozen=True)
class VersionInfo:
    id: int
    version: int
    created_at: datetime
    author: str
    note: str | None
    source_file: str | None
    changes: dict[str, Any]


@dataclass(frozen=True)
class ImportResult:
    version: VersionInfo
    created: bool  # False: the file equals the active version, nothing stored


def default_author() -> str:
    """Who is importing: YUQING_AUTHOR, else the login name."""
    try:
        return os.environ.get("YUQING_AUTHOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _info(row: RiskLibraryVersion) -> VersionInfo:
    return VersionInfo(row.id, row.version, row.created_at, row.author, row.note, row.source_file, row.changes or {})


def import_library(
    db: Database, loaded: LoadedLibraryFile, *, author: str | None = None, note: str | None = None, now: datetime | None = None
) -> ImportResult:
    """Store ``loaded`` as a new version unless it equals the active one (one transaction)."""
    now = now or utcnow()
    with db.writer() as session:
        active = session.scalars(select(RiskLibraryVersion).order_by(RiskLibraryVersion.version.desc()).limit(1)).first()
        if active is not None and active.content_sha1 == loaded.content_sha1:
            return ImportResult(_info(active), created=False)
        previous = load_library_text(active.content, f"版本 {active.version}") if active is not None else None
        version = RiskLibraryVersion(
            version=(session.scalar(select(func.max(RiskLibraryVersion.version))) or 0) + 1,
            created_at=now,
            author=author or default_author(),
            note=note,
            source_file=loaded.path,
            content=loaded.content,
            content_sha1=loaded.content_sha1,
            changes=diff_libraries(previous, loaded.spec),
        )
        session.add(version)
        session.flush()
        points = {}
        for spec in loaded.spec.risk_points:
            point = RiskPoint(
                version_id=version.id, name=spec.name, category=spec.category, units=list(spec.units),
                severity=spec.severity, positive=spec.positive, notes=spec.notes,
            )  # fmt: skip
            session.add(point)
            points[spec.name] = point
        session.flush()
        for entry in library_rules(loaded.spec):
            session.add(
                Rule(
                    version_id=version.id,
                    kind=entry.kind,
                    risk_point_id=points[entry.label].id if entry.kind == "risk" else None,
                    label=entry.label,
                    position=entry.position,
                    expression=entry.expression,
                )
            )
        return ImportResult(_info(version), created=True)


def list_versions(db: Database) -> list[VersionInfo]:
    with db.reader() as session:
        rows = session.scalars(select(RiskLibraryVersion).order_by(RiskLibraryVersion.version.desc()))
        return [_info(row) for row in rows]


def version_content(db: Database, version: int | None = None) -> tuple[VersionInfo, str]:
    """The YAML of a version (default: the active one), exactly as imported."""
    with db.reader() as session:
        query = select(RiskLibraryVersion)
        query = (
            query.where(RiskLibraryVersion.version == version) if version else query.order_by(RiskLibraryVersion.version.desc())
        )
        row = session.scalars(query.limit(1)).first()
        if row is None:
            if version:
                raise NotFound(f"没有第 {version} 版风险库")
            raise NoActiveLibrary()
        return _info(row), row.content


@dataclass(frozen=True)
class ActiveLibrary:
    """The active version, compiled, with rules keyed by their database ids."""

    version: VersionInfo
    spec: LibrarySpec
    compiled: CompiledLibrary
    rule_ids: dict[tuple[str, str, int], int]

    @property
    def version_id(self) -> int:
        return self.version.id


_compiled_cache: dict[tuple[str, int, str], ActiveLibrary] = {}
_cache_lock = threading.Lock()


def active_library(db: Database) -> ActiveLibrary:
    """The newest version, compiled once per process (compiling 10,000 rules takes a while)."""
    return library_version(db)


def library_version(db: Database, version_id: int | None = None) -> ActiveLibrary:
    """A stored version by id (default: the newest), compiled and cached per process.

    A retried stage asks for the version its run started with, so a library
    imported meanwhile does not change what the retry computes.
    """
    with db.reader() as session:
        query = select(RiskLibraryVersion)
        query = (
            query.where(RiskLibraryVersion.id == version_id) if version_id else query.order_by(RiskLibraryVersion.version.desc())
        )
        row = session.scalars(query.limit(1)).first()
        if row is None:
            if version_id:
                raise NotFound(f"没有 id 为 {version_id} 的风险库版本")
            raise NoActiveLibrary()
        key = (db.url, row.id, row.content_sha1)
        with _cache_lock:
            cached = _compiled_cache.get(key)
        if cached is not None:
            return cached
        rule_ids = {(r.kind, r.label, r.position): r.id for r in session.scalars(select(Rule).where(Rule.version_id == row.id))}
        info, content = _info(row), row.content
    spec = load_library_text(content, f"版本 {info.version}")
    loaded = ActiveLibrary(info, spec, CompiledLibrary(spec, keys=rule_ids), rule_ids)
    with _cache_lock:
        _compiled_cache[key] = loaded
    return loaded
