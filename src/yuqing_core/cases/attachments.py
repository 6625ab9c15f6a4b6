"""Files a unit hands in with its answer to a case: checked by content, kept outside any web root.

Only documents and images are accepted, recognised by their first bytes,
not by their names: PDF, PNG, JPEG, Word (.docx) and Excel (.xlsx) -- zip
files holding the member that makes them one -- and plain UTF-8 text. The
name's extension must agree with the content, so a program renamed to
``.pdf`` is refused. Files are stored under ``attachments_dir``
(default ``<home>/attachments``) by a random name, one folder per case.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath

from sqlalchemy import delete, select

from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Account, CaseAttachment
from yuqing_core.errors import InvalidInput
from yuqing_core.timeutil import utcnow

MAX_FILENAME_CHARS = 200


@dataclass(frozen=True)
class FileKind:
    label: str
    content_type: str
    extensions: tuple[str, ...]


KINDS = {
    "pdf": FileKind("PDF", "application/pdf", (".pdf",)),
    "png": FileKind("PNG 图片", "image/png", (".png",)),
    "jpeg": FileKind("JPEG 图片", "image/jpeg", (".jpg", ".jpeg")),
    "docx": FileKind("Word 文档", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xlsx": FileKind("Excel 表格", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "text": FileKind("纯文本", "text/plain; charset=utf-8", (".txt",)),
}
ACCEPTED_TEXT = "PDF、PNG、JPEG、Word（.docx）、Excel（.xlsx）和 UTF-8 纯文本（.txt）"
# The member whose presence makes an Office Open XML zip a document of that kind.
_OOXML_MEMBERS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}


class AttachmentRefused(InvalidInput):
    """The file may not be attached; the message says which file and why."""


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    kind: str
    content: bytes

    @property
    def content_type(self) -> str:
        return KINDS[self.kind].content_type


def clean_filename(name: str) -> str:
    """The last part of a browser-given name, without control characters, at most 200 characters.

    >>> clean_filename("C:\\\\Users\\\\a\\\\报告.pdf"), clean_filename("../../etc/passwd\\x00.txt")
    ('报告.pdf', 'passwd.txt')
    """
    base = PurePosixPath(PureWindowsPath(name).name).name
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    if len(base) > MAX_FILENAME_CHARS:
        stem, dot, extension = base.rpartition(".")
        base = (stem[: MAX_FILENAME_CHARS - len(extension) - 1] + dot + extension) if dot else base[:MAX_FILENAME_CHARS]
    return base or "附件"


def sniff(content: bytes) -> str | None:
    """The accepted kind the content is, by its first bytes (and a zip's members); None if none of them.

    >>> sniff(b"%PDF-1.7 ..."), sniff(b"MZ\\x90\\x00"), sniff("说明".encode())
    ('pdf', None, 'text')
    """
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())  # reads the directory only, inflates nothing
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        for kind, member in _OOXML_MEMBERS.items():
            if member in names and "[Content_Types].xml" in names:
                return kind
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text):
        return None
    return "text"


def check_attachment(filename: str, content: bytes, *, max_bytes: int) -> CheckedFile:
    """The file, if it may be attached; ``AttachmentRefused`` with a message for the person uploading otherwise."""
    name = clean_filename(filename)
    if len(content) > max_bytes:
        raise AttachmentRefused(f"「{name}」超过大小上限 {_size_text(max_bytes)}，请压缩或拆分后再上传。")
    if not content:
        raise AttachmentRefused(f"「{name}」是空文件。")
    extension = os.path.splitext(name)[1].lower()
    claimed = next((key for key, kind in KINDS.items() if extension in kind.extensions), None)
    if claimed is None:
        raise AttachmentRefused(f"不接受「{name}」这类文件：只接受 {ACCEPTED_TEXT}。")
    actual = sniff(content)
    if actual != claimed:
        raise AttachmentRefused(
            f"「{name}」的内容不是{KINDS[claimed].label}（文件内容与扩展名不符），未上传：只接受 {ACCEPTED_TEXT}。"
        )
    return CheckedFile(name, actual, content)


def _size_text(size: int) -> str:
    """A size as people read it.

    >>> _size_text(10 * 1024 * 1024), _size_text(1500)
    ('10 MiB', '1500 字节')
    """
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    return f"{size} 字节"


def attachment_path(settings: Settings, row: CaseAttachment) -> Path:
    return settings.effective_attachments_dir / str(row.case_id) / row.stored_name


def store_attachments(
    db: Database, settings: Settings, *, case_id: int, account: Account, files: list[CheckedFile], now: datetime | None = None
) -> list[CaseAttachment]:
    """Write the files and their rows; on any failure nothing of them stays."""
    now = now or utcnow()
    rows = [
        CaseAttachment(
            case_id=case_id,
            stored_name=uuid.uuid4().hex,
            filename=f.filename,
            content_type=f.content_type,
            size_bytes=len(f.content),
            sha256=hashlib.sha256(f.content).hexdigest(),
            uploaded_at=now,
            account_id=account.id,
        )
        for f in files
    ]
    written: list[Path] = []
    try:
        for row, checked in zip(rows, files, strict=True):
            path = attachment_path(settings, row)
            write_whole(path, checked.content)
            written.append(path)
        with db.writer() as session:
            session.add_all(rows)
            session.flush()
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return rows


def write_whole(path: Path, content: bytes) -> None:
    """Write the file under a temporary name and rename it: a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(content)
    partial.replace(path)


def remove_attachments(db: Database, settings: Settings, rows: list[CaseAttachment]) -> None:
    """Take back stored attachments (their answer was not accepted)."""
    if not rows:
        return
    with db.writer() as session:
        session.execute(delete(CaseAttachment).where(CaseAttachment.id.in_([row.id for row in rows])))
    for row in rows:
        attachment_path(settings, row).unlink(missing_ok=True)


def case_attachments(db: Database, case_id: int) -> list[tuple[CaseAttachment, str]]:
    """The case's attachments, oldest first, each with its uploader's display name."""
    with db.reader() as session:
        found = session.execute(
            select(CaseAttachment, Account.display_name)
            .join(Account, Account.id == CaseAttachment.account_id)
            .where(CaseAttachment.case_id == case_id)
            .order_by(CaseAttachment.id)
        ).all()
    return [(row, name) for row, name in found]


def get_attachment(db: Database, case_id: int, attachment_id: int) -> CaseAttachment | None:
    """The attachment, if it belongs to that case."""
    with db.reader() as session:
        return session.scalar(select(CaseAttachment).where(CaseAttachment.id == attachment_id, CaseAttachment.case_id == case_id))
