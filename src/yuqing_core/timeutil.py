"""Time helpers: store UTC, show Asia/Shanghai (or the configured zone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from typing import Annotated, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

from yuqing_core.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")


def known_zone(name: str) -> str:
    """``name`` if it is an IANA zone this machine knows; a ValueError users can act on otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"未知时区 {name!r}（应为 Asia/Shanghai 这样的 IANA 时区名）") from exc
    return name


# A configuration field holding a zone name, checked when the configuration is read.
ZoneName = Annotated[str, AfterValidator(known_zone)]


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_aware(value: datetime, default_tz: tzinfo = UTC) -> datetime:
    """Attach ``default_tz`` to a naive datetime; leave aware ones alone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=default_tz)


def to_local(value: datetime, tz: tzinfo = SHANGHAI) -> datetime:
    return ensure_aware(value).astimezone(tz)


def format_local(value: datetime | None, tz: tzinfo = SHANGHAI, *, seconds: bool = False) -> str:
    """``2026-11-28 09:30`` in ``tz``; ``-`` for None."""
    if value is None:
        return "-"
    return to_local(value, tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


@overload
def isoformat_local(value: datetime, tz: tzinfo = ...) -> str: ...
@overload
def isoformat_local(value: datetime | None, tz: tzinfo = ...) -> str | None: ...
def isoformat_local(value: datetime | None, tz: tzinfo = SHANGHAI) -> str | None:
    """ISO 8601 with the local offset, e.g. ``2026-11-28T09:30:00+08:00``."""
    if value is None:
        return None
    return to_local(value, tz).isoformat(timespec="seconds")


def parse_user_datetime(text: str, tz: tzinfo = SHANGHAI) -> datetime:
    """Read a date or datetime typed by a user; zone-less means ``tz``.

    >>> parse_user_datetime("2026-11-27").isoformat()
    '2026-11-27T00:00:00+08:00'
    """
    text = text.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text), time())
        except ValueError as exc:
            raise InvalidInput(f"无法识别的时间：{text!r}（应为 2026-11-27 或 2026-11-27T08:00 这样的格式）") from exc
    return ensure_aware(parsed, tz)
