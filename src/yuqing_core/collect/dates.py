"""Publication dates as feeds really write them.

feedparser reads zone-less dates as UTC and misreads ``2026/10/03 12:53:46``
and ``2026年10月03日 12:53`` altogether, so raw date strings are parsed here.
A date without a zone is in the source's timezone (Asia/Shanghai unless the
source says otherwise), and ``CST`` on a source whose zone is UTC+8 means
China Standard Time, not US Central.

Example::

    >>> from zoneinfo import ZoneInfo
    >>> parse_feed_date("2026年10月03日 12:53", ZoneInfo("Asia/Shanghai")).isoformat()
    '2026-10-03T12:53:00+08:00'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12, "january": 1, "february": 2, "march": 3, "april": 4, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip

# Zone names seen in feeds. CST is ambiguous and resolved per source.
_ZONE_HOURS = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "BST": 1, "CET": 1, "CEST": 2, "MSK": 3, "IST": 5.5,
    "HKT": 8, "SGT": 8, "AWST": 8, "BJT": 8, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
    "EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AST": -4, "ADT": -3, "AKST": -9, "AKDT": -8, "HST": -10, "NZST": 12, "NZDT": 13,
}  # fmt: skip
_US_CENTRAL_STANDARD = -6
_CHINA_OFFSET = timedelta(hours=8)

_ZONE = r"(?P<zone>[zZ]|[+-]\d{2}:?\d{2}|[+-]\d{2}|(?:UTC|GMT)?[+-]\d{1,2}(?::?\d{2})?|[A-Za-z]{1,5})?"
_TIME = r"(?P<hour>\d{1,2})[:：时](?P<minute>\d{1,2})(?:[:：分](?P<second>\d{1,2})(?:[.,](?P<frac>\d+))?)?秒?分?"

_ISO = re.compile(
    r"^(?P<year>\d{4})-?(?P<month>\d{1,2})-?(?P<day>\d{1,2})"
    r"(?:[Tt\s]+(?P<hour>\d{1,2})(?::?(?P<minute>\d{2}))?(?::?(?P<second>\d{2})(?:[.,](?P<frac>\d+))?)?)?"
    r"\s*" + _ZONE + r"$"
)
_SLASH = re.compile(r"^(?P<year>\d{4})[/.](?P<month>\d{1,2})[/.](?P<day>\d{1,2})(?:\s*[Tt]?\s*" + _TIME + r")?\s*" + _ZONE + r"$")
_CHINESE = re.compile(
    r"^(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]?"
    r"(?:\s*(?:上午|下午(?P<pm>)|晚上(?P<pm2>))?\s*" + _TIME + r")?\s*" + _ZONE + r"$"
)
_RFC822 = re.compile(
    r"^(?:[A-Za-z]{2,9}\.?,?\s*)?(?P<day>\d{1,2})[\s-]+(?P<month>[A-Za-z]{3,9})\.?,?[\s-]+(?P<year>\d{2,4}),?"
    r"(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<frac>\d+))?)?)?\s*" + _ZONE + r"$"
)
# "Sat Oct 03 12:53:46 CST 2026" (asctime / Java Date.toString) and "Oct 3, 2026 12:53".
_ASCTIME = re.compile(
    r"^(?:[A-Za-z]{2,9},?\s+)?(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2}),?\s+"
    r"(?:(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s+" + _ZONE + r"\s*(?P<year>\d{4})"
    r"|(?P<year2>\d{4})(?:\s+(?P<hour2>\d{1,2}):(?P<minute2>\d{2})(?::(?P<second2>\d{2}))?)?\s*(?P<zone2>[A-Za-z]{1,5}|[+-]\d{4})?)$"
)
_EPOCH = re.compile(r"^\d{9,10}(?:\d{3})?(?:\.\d+)?$")
_RELATIVE = re.compile(r"^(?P<n>\d+)\s*(?P<unit>秒|分钟|小时|天)前$")
_DAY_WORD = re.compile(r"^(?P<word>今天|昨天|前天)\s*(?:" + _TIME + r")?$")
# A month and day without a year, as list pages write recent dates: "11月27日 08:30", "11-27 08:30".
_MONTH_DAY = re.compile(r"^(?P<month>\d{1,2})\s*(?:月\s*(?P<day>\d{1,2})\s*[日号]?|-(?P<day2>\d{1,2}))(?:\s*" + _TIME + r")?$")


def is_china_offset(tz: tzinfo) -> bool:
    offset = datetime(2026, 1, 1, tzinfo=tz).utcoffset()
    return offset == _CHINA_OFFSET


def _zone(name: str | None, default_tz: tzinfo) -> tzinfo | None:
    """The tzinfo a zone token means; ``None`` for an unknown token."""
    if not name:
        return default_tz
    token = name.strip()
    upper = token.upper()
    if upper == "CST":
        hours = 8 if is_china_offset(default_tz) else _US_CENTRAL_STANDARD
        return timezone(timedelta(hours=hours))
    if upper in _ZONE_HOURS:
        return timezone(timedelta(hours=_ZONE_HOURS[upper]))
    match = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?", upper)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        hours, minutes = int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes > 59:
            return None
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    return None


def _build(groups: dict[str, str | None], default_tz: tzinfo, *, month: int | None = None, pm: bool = False) -> datetime | None:
    try:
        year_text = groups["year"] or ""
        year = int(year_text or 0)
        if len(year_text) <= 2:  # RFC 822 two-digit years
            year += 2000 if year < 70 else 1900
        hour = int(groups.get("hour") or 0)
        if pm and hour < 12:
            hour += 12
        frac = (groups.get("frac") or "")[:6].ljust(6, "0")
        tz = _zone(groups.get("zone"), default_tz)
        if tz is None:
            return None
        if hour == 24 and not int(groups.get("minute") or 0):  # "24:00" is the end of the day
            base = datetime(year, month or int(groups["month"] or 0), int(groups["day"] or 0), tzinfo=tz)
            return base + timedelta(days=1)
        return datetime(
            year,
            month or int(groups["month"] or 0),
            int(groups["day"] or 0),
            hour,
            int(groups.get("minute") or 0),
            int(groups.get("second") or 0),
            int(frac),
            tzinfo=tz,
        )
    except (TypeError, ValueError, OverflowError):
        return None


def parse_feed_date(raw: str | None, default_tz: tzinfo, *, now: datetime | None = None) -> datetime | None:
    """Parse one raw date string from a feed into an aware datetime, or ``None``.

    ``now`` anchors relative forms such as ``3小时前`` and ``昨天 12:53``.
    """
    if not raw:
        return None
    text = " ".join(raw.replace("\u3000", " ").split())
    if not text or len(text) > 100:
        return None

    for pattern in (_ISO, _SLASH):
        match = pattern.match(text)
        if match:
            return _build(match.groupdict(), default_tz)
    match = _CHINESE.match(text)
    if match:
        groups = match.groupdict()
        return _build(groups, default_tz, pm=groups.get("pm") is not None or groups.get("pm2") is not None)
    match = _RFC822.match(text)
    if match:
        month = _MONTHS.get(match.group("month").lower())
        return _build(match.groupdict(), default_tz, month=month) if month else None
    match = _ASCTIME.match(text)
    if match:
        month = _MONTHS.get(match.group("month").lower())
        if not month:
            return None
        groups = match.groupdict()
        if groups["year2"]:
            groups = {
                "year": groups["year2"], "day": groups["day"], "hour": groups["hour2"],
                "minute": groups["minute2"], "second": groups["second2"], "zone": groups["zone2"],
            }  # fmt: skip
        return _build(groups, default_tz, month=month)
    if _EPOCH.match(text):
        seconds = float(text)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return _parse_relative(text, default_tz, now)


def _parse_relative(text: str, default_tz: tzinfo, now: datetime | None) -> datetime | None:
    if now is None:
        return None
    local_now = now.astimezone(default_tz)
    if text == "刚刚":
        return local_now
    match = _RELATIVE.match(text)
    if match:
        unit = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days"}[match.group("unit")]
        return local_now - timedelta(**{unit: int(match.group("n"))})
    match = _DAY_WORD.match(text)
    if match:
        days_back = {"今天": 0, "昨天": 1, "前天": 2}[match.group("word")]
        day = (local_now - timedelta(days=days_back)).date()
        hour, minute = int(match.group("hour") or 0), int(match.group("minute") or 0)
        if hour > 23 or minute > 59:
            return None
        return datetime(day.year, day.month, day.day, hour, minute, int(match.group("second") or 0), tzinfo=default_tz)
    match = _MONTH_DAY.match(text)
    if match:
        return _month_day(match, local_now, default_tz)
    return None


def _month_day(match: re.Match[str], local_now: datetime, default_tz: tzinfo) -> datetime | None:
    """A date without a year is in the year that puts it no later than a day after ``now`` (Dec 31 read on Jan 1 is last year)."""
    groups = match.groupdict()
    for year in (local_now.year, local_now.year - 1):
        moment = _build({**groups, "year": str(year), "day": groups["day"] or groups["day2"]}, default_tz)
        if moment is None:
            return None
        if moment <= local_now + timedelta(days=1):
            return moment
    return None
