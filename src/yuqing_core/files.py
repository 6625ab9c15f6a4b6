"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` under a temporary name in the same folder, then rename it into place.

    A reader sees the old file or the new one, never a partial one, and a
    failed write leaves no temporary file behind. ``durable`` flushes the
    data to disk before the rename (a report must survive a power cut; a
    cache need not). The folder is created if missing; the file is readable
    by all (0644), as a file written with ``open`` under the usual umask.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomically(folder / "a" / "b.txt", b"done", durable=False)
    >>> (folder / "a" / "b.txt").read_bytes()
    b'done'
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
