"""When a message goes out: at once, after quiet hours, or in the digest at the end of its period.

Pure functions of the message's level and kind, the time and the config;
all times are aware, computed on the local wall clock of ``config.tz``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from yuqing_core.notify.units import DigestPolicy, NotifyConfig, QuietHours


@dataclass(frozen=True)
class Plan:
    """``release_at`` None: send now. Otherwise hold until then; ``digest``: as part of a digest."""

    release_at: datetime | None = None
    digest: bool = False


SEND_NOW = Plan()


def in_quiet_hours(moment: datetime, quiet: QuietHours, tz: tzinfo) -> bool:
    """Whether ``moment`` falls in ``[start, end)`` local time; a window may run over midnight."""
    clock = moment.astimezone(tz).time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        return quiet.start <= clock < quiet.end
    return clock >= quiet.start or clock < quiet.end


def next_local(moment: datetime, clock: time, tz: tzinfo) -> datetime:
    """The first time after ``moment`` that the local clock shows ``clock`` (UTC)."""
    local = moment.astimezone(tz)
    candidate = datetime.combine(local.date(), clock, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), clock, tzinfo=tz)
    return candidate.astimezone(UTC)


def digest_period_end(moment: datetime, digest: DigestPolicy, tz: tzinfo) -> datetime:
    """The end of the digest period that ``moment`` falls in (periods count from local midnight)."""
    local = moment.astimezone(tz)
    midnight = datetime.combine(local.date(), time(), tzinfo=tz)
    elapsed = (local - midnight).total_seconds()
    periods = int(elapsed // digest.every) + 1
    return (midnight + timedelta(seconds=periods * digest.every)).astimezone(UTC)


def plan_delivery(level: int | None, kind: str, now: datetime, config: NotifyConfig, *, collect: bool = True) -> Plan:
    """Decide when a message of ``level`` / ``kind`` recorded at ``now`` goes out.

    A digest is released at the end of its period, or, if that falls in
    quiet hours and the level is held, at the end of quiet hours (so a
    night's digests become one morning digest per recipient).
    ``collect=False`` ignores digests (a digest itself is never collected).
    """
    tz, quiet = config.tz, config.quiet_hours
    held_quiet = quiet if quiet is not None and quiet.holds(level, kind) else None
    if collect and config.digest is not None and config.digest.collects(level):
        release = digest_period_end(now, config.digest, tz)
        if held_quiet is not None and in_quiet_hours(release, held_quiet, tz):
            release = next_local(release, held_quiet.end, tz)
        return Plan(release_at=release, digest=True)
    if held_quiet is not None and in_quiet_hours(now, held_quiet, tz):
        return Plan(release_at=next_local(now, held_quiet.end, tz))
    return SEND_NOW
