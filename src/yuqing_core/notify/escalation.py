"""Escalation (升级) of warnings nobody acknowledges: the duty officer first, then the chain.

A warning goes first to whoever is on duty when it is raised (with its
routing; see ``notify.units``). While it stays ``open`` — not acknowledged,
downgraded or dismissed — step *k* of the units file's ``escalation_chain``
is told once the warning has waited *k* times its level's minutes (the risk
library's ``escalation``)::

    minutes = active_library(db).spec.escalation.by_level()
    for step in escalate_warnings(db, config=units_file, minutes=minutes, units_of=lambda points: [...]):
        print(step.line())

Each step is a message keyed ``warning:<id>:level:<n>:escalate:<step>``
through the send-once ledger (the level in the key: a warning raised from III
to II walks the chain again at II, from the rise), so running the check twice (or retrying it) tells nobody
twice; the ledger is also the record of which steps went out, so no state
is kept elsewhere. A step whose units are all unreachable goes to the
fallback unit. Escalations of II and I are never held by quiet hours; III
and IV wait for the end of quiet hours like their warnings. Escalations are
never collected into digests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from yuqing_core.db.database import Database
from yuqing_core.db.models import EarlyWarning, EarlyWarningAction, Event
from yuqing_core.levels import Level
from yuqing_core.notify.channels import Sender
from yuqing_core.notify.deliver import ESCALATION_KIND, DeliveryReport, Message, deliver
from yuqing_core.notify.ledger import list_deliveries
from yuqing_core.notify.secrets import SecretResolver
from yuqing_core.notify.units import NotifyConfig, UnitsFile, resolve_entries
from yuqing_core.timeutil import format_local, utcnow

OPEN = "open"
LOOKBACK = timedelta(days=7)  # open warnings older than this are the daily report's business, not a pager's
URGENT_LEVEL = Level.II  # escalations of this level or more severe are never held by quiet hours


def escalation_key(warning_id: int, level: int, step: int) -> str:
    """The message key of one escalation step at one level: ``warning:17:level:2:escalate:1``."""
    return f"warning:{warning_id}:level:{level}:escalate:{step}"


def _legacy_escalation_key(warning_id: int, step: int) -> str:
    """The key steps had before the level was part of it (databases written by earlier versions)."""
    return f"warning:{warning_id}:escalate:{step}"


def _aware(value: datetime | str) -> datetime:
    """A timestamp read through ``coalesce`` (SQLite gives text there, PostgreSQL an aware datetime), as aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def steps_due(created_at: datetime, now: datetime, minutes: int, chain_length: int) -> int:
    """How many escalation steps are due: one per ``minutes`` waited, at most the chain's length.

    >>> from datetime import UTC, datetime
    >>> steps_due(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 1, 1, 5, tzinfo=UTC), 30, 3)
    2
    """
    waited = (now - created_at).total_seconds() / 60
    return max(0, min(chain_length, math.floor(waited / minutes)))


@dataclass(frozen=True)
class Escalation:
    """One escalation step this check recorded (or found nobody at all to tell), with what its delivery did."""

    warning_id: int
    event_id: int
    level: int
    step: int
    title: str
    recipients: list[str]
    waited_minutes: int
    report: DeliveryReport

    @property
    def recorded(self) -> bool:
        """Whether this check wrote the step's ledger rows (False: nobody, not even the fallback, could receive it)."""
        return bool(self.report.recorded)

    def line(self) -> str:
        outcome = "" if self.recorded else "（无人可达，兜底单位也无法送达；下次检查再试）"
        return (
            f"预警 {self.warning_id}（{Level(self.level).label}）{self.waited_minutes} 分钟未确认，"
            f"第 {self.step} 级升级至：{'、'.join(self.recipients) or '（无）'}{outcome}"
        )


@dataclass(frozen=True)
class OpenWarning:
    """An open warning as escalation sees it: when it was raised, its event's title and risk points."""

    id: int
    event_id: int
    level: int
    created_at: datetime  # when it reached its level: raised, or first warned
    title: str
    risk_points: list[str]
    raised: bool = False  # its level rose since it was first warned


def open_warnings(db: Database, now: datetime, lookback: timedelta = LOOKBACK) -> list[OpenWarning]:
    """Open warnings that reached their level in ``lookback`` before ``now``, one per event (one warning per incident).

    A warning whose level rose (a ``raise`` in its history) waits from the rise: the chain is
    timed by the new level from the moment it was reached, not from the first, lower warning.
    """
    rises = (
        select(EarlyWarningAction.warning_id, func.max(EarlyWarningAction.created_at).label("raised_at"))
        .where(EarlyWarningAction.action == "raise")
        .group_by(EarlyWarningAction.warning_id)
        .subquery()
    )
    since = func.coalesce(rises.c.raised_at, EarlyWarning.created_at)
    query = (
        select(
            EarlyWarning.id,
            EarlyWarning.event_id,
            EarlyWarning.level,
            since.label("since"),
            Event.title,
            Event.risk_points,
            rises.c.raised_at,
        )
        .join(Event, Event.id == EarlyWarning.event_id)
        .outerjoin(rises, rises.c.warning_id == EarlyWarning.id)
        .where(EarlyWarning.status == OPEN, since >= now - lookback, since <= now)
        .order_by(EarlyWarning.event_id, EarlyWarning.level, EarlyWarning.id)
    )
    with db.reader() as session:
        rows = session.execute(query).all()
    by_event: dict[int, OpenWarning] = {}
    for row in rows:
        created = _aware(row.since)
        by_event.setdefault(
            row.event_id,
            OpenWarning(
                row.id, row.event_id, row.level, created, row.title or "", list(row.risk_points or []),
                raised=row.raised_at is not None,
            ),
        )  # fmt: skip
    return list(by_event.values())


def escalate_warnings(
    db: Database,
    *,
    config: NotifyConfig | UnitsFile,
    minutes: Mapping[int, int | None],
    units_of: Callable[[Iterable[str]], list[str]] = lambda points: [],
    now: datetime | None = None,
    sender: Sender | None = None,
    secrets: SecretResolver | None = None,
) -> list[Escalation]:
    """Send every escalation step that is due at ``now`` and not yet in the ledger; return those this call recorded.

    A step another run recorded a moment ago is not returned (so it is
    announced once); a step that reached nobody at all is, on every check.

    ``minutes``: per level (1..4) the wait before each step, None for none.
    ``units_of``: the responsible units of risk points (for ``risk_point_units``
    and ``leaders`` in the chain). Only open warnings escalate.
    """
    now = (now or utcnow()).astimezone(UTC)
    chain = config.escalation_chain
    if not chain:
        return []
    source: Database | UnitsFile = config if isinstance(config, UnitsFile) else db
    done: list[Escalation] = []
    for warning in open_warnings(db, now):
        wait = minutes.get(warning.level)
        if wait is None:
            continue
        concerned = units_of(warning.risk_points)
        for step in range(1, steps_due(warning.created_at, now, wait, len(chain)) + 1):
            keys = [escalation_key(warning.id, warning.level, step)]
            if not warning.raised:
                keys.append(_legacy_escalation_key(warning.id, step))
            if any(list_deliveries(db, message_key=key, limit=1) for key in keys):
                continue  # recorded by an earlier check: the ledger and ``sweep`` take it from here
            recipients = resolve_entries(source, chain[step - 1], concerned)
            message = _message(warning, step, wait * step, config)
            report = deliver(
                db, message, recipients, config=config, now=now, sender=sender, secrets=secrets, fallback=True,
                unheld=warning.level <= URGENT_LEVEL,
            )  # fmt: skip
            done.append(
                Escalation(warning.id, warning.event_id, warning.level, step, warning.title, recipients, wait * step, report)
            )
    return done


def _message(warning: OpenWarning, step: int, waited: int, config: NotifyConfig) -> Message:
    label = Level(warning.level).label
    body = (
        f"{label}预警“{warning.title}”自 {format_local(warning.created_at, config.tz)} 发出，已 {waited} 分钟无人确认，"
        f"按值班升级规定第 {step} 级报送。\n风险点：{'、'.join(warning.risk_points) or '无'}。\n"
        f"事件编号 {warning.event_id}，预警编号 {warning.id}。确认：yuqing warnings ack {warning.id} --reason 已处置"
    )
    return Message(
        kind=ESCALATION_KIND,
        key=escalation_key(warning.id, warning.level, step),
        subject=f"【预警升级·第{step}级】【{label}预警】{warning.title}"[:300],
        body=body,
        level=warning.level,
        reference=f"warning:{warning.id}",
    )


__all__ = ["Escalation", "OpenWarning", "escalate_warnings", "escalation_key", "open_warnings", "steps_due"]
