"""Evidence snapshots (快照): a kept copy of a relevant item's page, to prove what was said after deletion.

The copy is two files in the snapshot folder (``Settings.effective_snapshots_dir``), named by the
SHA-256 of the HTML as received: ``ab/abcdef….html.gz`` (the page) and ``ab/abcdef….txt.gz`` (its
extracted main text). Identical pages are kept once, however many items or fetches name them.
The database keeps only what a row in ``page_snapshots`` says: when, from where, the HTTP status,
sizes and the path. Files are written to a temporary name and renamed, so a crash never leaves a
half-written copy under a real name.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select

from yuqing_core.db.database import Database
from yuqing_core.db.models import PageSnapshot
from yuqing_core.files import write_atomically

log = logging.getLogger(__name__)

HTML_SUFFIX = ".html.gz"
TEXT_SUFFIX = ".txt.gz"


@dataclass(frozen=True)
class StoredCopy:
    """Where a page's copy is, relative to the snapshot folder, and its hash."""

    content_hash: str
    path: str


def content_hash(html: bytes) -> str:
    """SHA-256 of the page as received, in hex: the copy's name and its proof of integrity."""
    return hashlib.sha256(html).hexdigest()


def store_copy(folder: Path, html: bytes, text: str) -> StoredCopy:
    """Keep ``html`` and its extracted ``text`` under their hash (once: an existing copy is left as is)."""
    digest = content_hash(html)
    relative = f"{digest[:2]}/{digest}{HTML_SUFFIX}"
    target = folder / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # The text first: a page file present means its text file is too.
        write_atomically(target.with_name(digest + TEXT_SUFFIX), gzip.compress(text.encode("utf-8"), mtime=0), durable=False)
        write_atomically(target, gzip.compress(html, mtime=0), durable=False)
    return StoredCopy(digest, relative)


def read_copy(folder: Path, path: str) -> tuple[bytes, str]:
    """The kept HTML and text of a snapshot, by its stored path."""
    html_file = folder / path
    text_file = html_file.with_name(html_file.name.removesuffix(HTML_SUFFIX) + TEXT_SUFFIX)
    return gzip.decompress(html_file.read_bytes()), gzip.decompress(text_file.read_bytes()).decode("utf-8")


def prune_snapshots(db: Database, folder: Path, *, retention_days: int, now: datetime) -> int:
    """Remove the snapshots fetched more than ``retention_days`` ago, and the files no snapshot names any more.

    Returns how many snapshot records were removed. Rows go first, then files: a crash in between
    leaves files no row names, which the next prune removes.
    """
    cutoff = now - timedelta(days=retention_days)
    with db.writer() as session:
        old = session.execute(delete(PageSnapshot).where(PageSnapshot.fetched_at < cutoff).returning(PageSnapshot.path)).all()
    if not old:
        return 0
    paths = {row.path for row in old}
    with db.reader() as session:
        still_named = set(session.scalars(select(PageSnapshot.path).where(PageSnapshot.path.in_(paths))))
    for path in paths - still_named:
        html_file = folder / path
        html_file.unlink(missing_ok=True)
        html_file.with_name(html_file.name.removesuffix(HTML_SUFFIX) + TEXT_SUFFIX).unlink(missing_ok=True)
    log.info("removed %d snapshots older than %d days", len(old), retention_days)
    return len(old)
