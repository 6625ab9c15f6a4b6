"""Delivering messages once: warnings, reports, case reminders — any ``Message`` — to units' channels.

Example::

    config = load_units_file("config/units.yaml")
    import_units(db, config)
    message = Message(kind="warning", key="warning:17:III", subject="【III级预警】…", body="…", level=3)
    recipients = resolve_recipients(db, message.level, ["县应急管理局"], config=config)
    report = deliver(db, message, recipients, config=config)
    print("\\n".join(report.lines()))
    sweep(db, config=config)        # every run: release held messages, send digests, retry failures

How a send stays single (see ``notify.ledger`` for the statuses):

1. For every recipient unit and each of its targets, a ledger row keyed
   ``"{message.key}|{unit}|{target id}"`` is inserted with ``ON CONFLICT DO
   NOTHING`` and committed before anything is sent.
2. A row that was already there is not sent again: ``sent``/``digested`` are
   reported as already sent; ``held`` waits for its release; ``uncertain``
   is reported again; ``pending`` means another run is sending it now, or,
   once older than ``sending.in_flight``, that a run died between record
   and send: it becomes ``uncertain`` and is never resent automatically.
3. ``failed`` rows are retried (attempts + 1, up to ``sending.max_attempts``;
   held instead if quiet hours apply now): a failure is a channel's refusal,
   an unreachable server or a missing secret, so the message is known not
   to have gone out. A send that times out is not a failure but ``uncertain``.
4. The send itself runs outside any transaction, with the target's
   placeholders resolved just for it; the row is then marked ``sent`` or
   ``failed`` (error text redacted).

Quiet hours and digests (``notify.schedule``): a message the config holds
is recorded ``held`` with its release time and not sent; ``release_held``
sends those whose time has come. Low-level warnings are recorded ``held``
as digest members; ``send_digests`` combines the due members of one
recipient channel into one digest row (its own ledger key, so the digest
too is sent once), marks them ``digested`` in the same transaction, then
sends it. ``sweep`` does all of this plus the retries; a flow calls it on
every run.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

import yuqing_core.notify.ledger as ledger
from yuqing_core.db.database import Database
from yuqing_core.db.models import Delivery, Unit
from yuqing_core.errors import InvalidInput
from yuqing_core.levels import Level
from yuqing_core.notify.channels import AppriseSender, DeliveryUncertain, Sender, SendError, is_sms_target, target_id
from yuqing_core.notify.ledger import (
    DIGESTED,
    FAILED,
    HELD,
    MAX_MESSAGE_KEY_CHARS,
    PENDING,
    SENT,
    UNCERTAIN,
    Envelope,
    envelope,
    ledger_key,
    split_key,
)
from yuqing_core.notify.schedule import plan_delivery
from yuqing_core.notify.secrets import MissingSecret, SecretResolver, install_log_redaction, redact, redact_text
from yuqing_core.notify.units import NotifyConfig
from yuqing_core.timeutil import format_local, utcnow

logger = logging.getLogger("yuqing_core.notify")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_KIND_CHARS = 40  # deliveries.kind
DIGEST_KIND = "digest"
ESCALATION_KIND = "warning_escalation"
NEVER_COLLECTED = (DIGEST_KIND, ESCALATION_KIND)  # kinds that never go into a digest, whatever their level
NOT_ACCEPTED = "通道没有接受这条消息"
FALLBACK_NOTE = "转兜底单位（原接收单位均无法送达）"
_STATUS_WORDS = {SENT: "已发送", FAILED: "发送失败", UNCERTAIN: "状态不明"}


@dataclass(frozen=True)
class Message:
    """Anything to tell units: a warning, a daily report, a case reminder.

    ``key`` names the message for send-once: the same key is never sent
    twice to the same channel (``"warning:17:III"``, ``"daily-report:2026-11-27"``,
    ``"case-reminder:督〔2026〕17号:2026-12-01"``). ``level`` (1 = I ... 4 = IV)
    is for warnings: routing, quiet hours and digests use it.
    """

    kind: str
    key: str
    subject: str
    body: str
    attachments: tuple[Path, ...] = ()
    level: int | None = None
    reference: str | None = None  # kept with each ledger row: a warning id, a report path ...
    short: str = ""  # for SMS channels (channels.is_sms_target): sent alone, without title or attachments

    def __post_init__(self) -> None:
        if not _KIND.match(self.kind) or len(self.kind) > MAX_KIND_CHARS:
            raise InvalidInput(f"消息类型应为小写字母、数字和下划线：{self.kind!r}")
        if not self.key or ledger.KEY_SEPARATOR in self.key or len(self.key) > MAX_MESSAGE_KEY_CHARS:
            raise InvalidInput(f"消息键不能为空、不能含 |、不超过 {MAX_MESSAGE_KEY_CHARS} 个字符：{self.key!r}")
        if self.level is not None and self.level not in tuple(Level):
            raise InvalidInput(f"预警级别应为 1..4（I..IV）：{self.level!r}")
        object.__setattr__(self, "attachments", tuple(Path(path) for path in self.attachments))


@dataclass(frozen=True)
class DeliveryOutcome:
    """One ledger row as a run met it."""

    key: str
    recipient: str
    channel: str  # the target as written, secrets masked
    error: str | None = None
    release_at: datetime | None = None
    attempts: int = 0

    @classmethod
    def of(cls, row: Delivery, *, error: str | None = None) -> DeliveryOutcome:
        return cls(
            key=row.key,
            recipient=row.recipient,
            channel=row.channel,
            error=error if error is not None else row.error,
            release_at=envelope(row).release_at if row.status == HELD else None,
            attempts=row.attempts,
        )


class DeliveryFailed(Exception):
    """Some sends of a task failed: ``summary`` says which in one line, ``lines`` is the whole report.

    Raised by the delivery tasks after every recipient was tried, so the task (and its flow)
    ends Failed; a retry sends only the failed rows again (the ledger keeps the sent ones sent).
    """

    def __init__(self, summary: str, lines: list[str], retryable: bool = True) -> None:
        super().__init__(summary, lines, retryable)
        self.summary = summary
        self.lines = lines
        self.retryable = retryable  # some sends failed outright: another attempt may get them through

    @classmethod
    def of(cls, report: DeliveryReport, *, unreachable_counts: bool = True) -> DeliveryFailed | None:
        """The failure of ``report`` (None if everything arrived or waits on purpose)."""
        if not unreachable_counts and report.unreachable:
            report = replace(report, unreachable=[])
        summary = report.failure_summary()
        return cls(summary, report.lines(), retryable=bool(report._still_failed())) if summary else None

    def __str__(self) -> str:
        return self.summary


@dataclass
class DeliveryReport:
    """What a run did, per ledger row; ``lines()`` says it in Chinese for people and artifacts."""

    sent: list[DeliveryOutcome] = field(default_factory=list)
    skipped_already_sent: list[DeliveryOutcome] = field(default_factory=list)
    uncertain: list[DeliveryOutcome] = field(default_factory=list)
    failed: list[DeliveryOutcome] = field(default_factory=list)
    held: list[DeliveryOutcome] = field(default_factory=list)
    in_progress: list[DeliveryOutcome] = field(default_factory=list)  # another run is sending it right now
    unreachable: list[DeliveryOutcome] = field(default_factory=list)  # unknown or disabled unit, no channel
    fallback: list[DeliveryOutcome] = field(default_factory=list)  # nobody reachable: sent to the fallback unit instead
    recorded: list[str] = field(default_factory=list)  # ledger keys this run inserted (it owns their first send)

    def _still_failed(self) -> list[DeliveryOutcome]:
        """Failed rows, each once (its last error), leaving out those a later step of the same run got through.

        A report that joins a delivery with the sweep after it (which retries failures at once) meets a
        failed row twice; it is one row that did not arrive, or none if the retry sent it.
        """
        arrived = {row.key for row in self.sent}
        last: dict[str, DeliveryOutcome] = {}
        for row in self.failed:
            if row.key not in arrived:
                last.pop(row.key, None)
                last[row.key] = row
        return list(last.values())

    @property
    def ok(self) -> bool:
        """Nothing failed, nothing uncertain, everyone reachable."""
        return not (self._still_failed() or self.uncertain or self.unreachable)

    @property
    def total(self) -> int:
        """Ledger rows met, each once (the fallback rows stand in for unreachable ones and are not counted again)."""
        keys = {row.key for name, rows in vars(self).items() if name not in ("recorded", "fallback") for row in rows}
        return len(keys)

    def failure_summary(self) -> str | None:
        """One plain line when anything did not arrive (``送达失败 3 条（共 4 条）：…``), else None.

        Failed and unreachable rows did not arrive; uncertain rows may have, and are counted apart.
        """
        if self.ok:
            return None
        failed = [f"{row.recipient}（{row.error or row.channel}）" for row in self._still_failed() + self.unreachable]
        line = f"送达失败 {len(failed)} 条（共 {self.total} 条）" + ("：" + "；".join(failed) if failed else "")
        if self.uncertain:
            line += f"；状态不明 {len(self.uncertain)} 条：" + "；".join(row.recipient for row in self.uncertain)
        return line

    def extend(self, other: DeliveryReport) -> DeliveryReport:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))
        return self

    def table(self) -> list[dict[str, str]]:
        """One row per ledger row met, for a Prefect table artifact (secrets already masked)."""
        groups = [
            ("已发送", self.sent), ("此前已发送", self.skipped_already_sent), ("暂缓", self.held),
            ("发送中", self.in_progress), ("发送失败", self.failed), ("状态不明", self.uncertain),
            ("无法送达", self.unreachable), ("转兜底", self.fallback),
        ]  # fmt: skip
        return [
            {"状态": label, "单位": row.recipient, "渠道": row.channel, "说明": row.error or ""}
            for label, rows in groups
            for row in rows
        ]

    def lines(self, config: NotifyConfig | None = None) -> list[str]:
        """A summary line, then one line per problem and per release time (times in ``config``'s zone)."""
        zone = (config or NotifyConfig()).tz
        counts = [
            ("已发送", self.sent),
            ("此前已发送、跳过", self.skipped_already_sent),
            ("暂缓", self.held),
            ("发送中", self.in_progress),
            ("发送失败", self.failed),
            ("状态不明", self.uncertain),
            ("无法送达", self.unreachable),
            ("转兜底", self.fallback),
        ]
        out = ["通知：" + "，".join(f"{label} {len(rows)} 条" for label, rows in counts if rows or label == "已发送")]
        for row in self.failed:
            out.append(f"发送失败（第 {row.attempts} 次尝试）：{row.recipient} {row.channel}：{row.error}")
        for row in self.uncertain:
            out.append(
                f"状态不明（可能已送达，不会自动重发；核实后用 resolve_uncertain 标记）：{row.recipient} {row.channel}"
                + (f"：{row.error}" if row.error else "")
            )
        for row in self.unreachable:
            out.append(f"无法送达：{row.recipient}（{row.error}）")
        for row in self.fallback:
            out.append(f"已转兜底单位 {row.recipient}（{row.error}）")
        for row in self.in_progress:
            out.append(f"另一进程正在发送：{row.recipient} {row.channel}")
        releases: dict[datetime | None, list[str]] = defaultdict(list)
        for row in self.held:
            releases[row.release_at].append(row.recipient)
        for release_at, recipients in releases.items():
            out.append(f"暂缓至 {format_local(release_at, zone)}：" + "、".join(dict.fromkeys(recipients)))
        return out


# --- deliver ---------------------------------------------------------------------------------


@dataclass
class _Run:
    """One call's collaborators: where to send, how to resolve secrets, what was done."""

    db: Database
    config: NotifyConfig
    now: datetime
    sender: Sender
    secrets: SecretResolver
    report: DeliveryReport = field(default_factory=DeliveryReport)


def _run(db: Database, config: NotifyConfig, now: datetime | None, sender: Sender | None, secrets: SecretResolver | None) -> _Run:
    install_log_redaction()
    now = now or utcnow()
    if now.tzinfo is None:
        raise InvalidInput(f"now 必须带时区：{now!r}")
    now = now.astimezone(UTC)
    return _Run(db, config, now, sender or AppriseSender(), secrets or SecretResolver())


def deliver(
    db: Database,
    message: Message,
    recipients: Iterable[str],
    *,
    config: NotifyConfig,
    now: datetime | None = None,
    sender: Sender | None = None,
    secrets: SecretResolver | None = None,
    on_duty: Iterable[str] = (),
    fallback: bool = False,
    unheld: bool = False,
) -> DeliveryReport:
    """Send ``message`` once to every channel of every recipient unit (see the module doc for how).

    ``on_duty``: who is on duty now (``config.on_duty(now)``); they come
    first, and quiet hours never hold their copy. ``fallback``: if no
    recipient is reachable, send to ``config.fallback`` instead, the ledger
    row noting why (never drop a warning silently). ``unheld``: quiet hours
    hold no copy of this message (an urgent escalation).
    """
    run = _run(db, config, now, sender, secrets)
    awake = list(dict.fromkeys(on_duty))
    recipients = list(dict.fromkeys([*awake, *recipients]))
    units = _units(db, [*recipients, *([config.fallback] if fallback and config.fallback else [])])
    wanted: dict[str, str] = {}  # ledger key -> target as written
    reasons: list[str] = []
    for name in recipients:
        reason = _unreachable(units.get(name))
        if reason:
            run.report.unreachable.append(DeliveryOutcome(key="", recipient=name, channel="", error=reason))
            reasons.append(f"{name}：{reason}")
            continue
        for target in units[name].targets:
            wanted.setdefault(ledger_key(message.key, name, target_id(target)), target)
    note = None
    if fallback and not wanted:
        note = _fall_back(run, message, units, reasons, wanted)
    collect = message.kind not in NEVER_COLLECTED
    plans = {
        False: plan_delivery(message.level, message.kind, run.now, config, collect=collect),
        True: plan_delivery(message.level, message.kind, run.now, _without_quiet_hours(config), collect=collect),
    }
    if unheld:
        plans[False] = plans[True]
    envelopes = {
        is_awake: Envelope(
            body=message.body,
            short=message.short,
            level=message.level,
            attachments=[str(path) for path in message.attachments],
            reference=message.reference,
            release_at=plan.release_at,
            digest=plan.digest,
            claimed_at=None if plan.release_at is not None else run.now,
            note=note,
            unheld=is_awake or unheld,
        )
        for is_awake, plan in plans.items()
    }
    to_send: list[Delivery] = []
    with db.writer() as session:
        new = ledger.record(
            session,
            [
                {
                    "key": key, "kind": message.kind, "subject": message.subject, "recipient": split_key(key)[1],
                    "channel": redact(target), "status": HELD if held else PENDING, "attempts": 0 if held else 1,
                    "error": None, "envelope": envelopes[is_awake].dumps(), "created_at": run.now, "sent_at": None,
                }
                for key, target in wanted.items()
                for is_awake in [split_key(key)[1] in awake]
                for held in [plans[is_awake].release_at is not None]
            ],
        )  # fmt: skip
        rows = ledger.rows_by_key(session, wanted)
        run.report.recorded.extend(key for key in wanted if key in new)
        for key in wanted:
            row = rows[key]
            if key not in new:
                _met_again(session, run, row, to_send)
            elif row.status == HELD:
                run.report.held.append(DeliveryOutcome.of(row))
            else:
                to_send.append(row)
    for row in to_send:
        _send(run, row, wanted[row.key])
    return run.report


def _without_quiet_hours(config: NotifyConfig) -> NotifyConfig:
    return config.model_copy(update={"quiet_hours": None}) if config.quiet_hours is not None else config


def _fall_back(run: _Run, message: Message, units: dict[str, Unit], reasons: list[str], wanted: dict[str, str]) -> str | None:
    """Add the fallback unit's channels to ``wanted``; the note saying why, or None if there is no usable fallback."""
    name = run.config.fallback
    why = "；".join(reasons) if reasons else "路由没有接收单位"
    if name is None:
        logger.warning("通知无人可达，且未配置兜底单位（fallback）：%s（%s）", message.subject, why)
        return None
    reason = _unreachable(units.get(name))
    if reason:
        run.report.unreachable.append(DeliveryOutcome(key="", recipient=name, channel="", error=f"兜底单位{reason}"))
        logger.warning("通知无人可达，兜底单位 %s 也无法送达（%s）：%s（%s）", name, reason, message.subject, why)
        return None
    for target in units[name].targets:
        wanted.setdefault(ledger_key(message.key, name, target_id(target)), target)
    note = f"{FALLBACK_NOTE}：{why}"
    run.report.fallback.append(DeliveryOutcome(key=message.key, recipient=name, channel="", error=note))
    logger.warning("通知无人可达，转兜底单位 %s：%s（%s）", name, message.subject, why)
    return note


def _met_again(session: Session, run: _Run, row: Delivery, to_send: list[Delivery]) -> None:
    """A row this message already had: decide by its status (never a second send of a sent row)."""
    report = run.report
    if row.status in (SENT, DIGESTED):
        report.skipped_already_sent.append(DeliveryOutcome.of(row))
    elif row.status == HELD:
        waiting = envelope(row)
        due = not waiting.digest and waiting.release_at is not None and waiting.release_at <= run.now
        if due and ledger.claim(session, row, HELD, run.now):
            to_send.append(row)  # its quiet hours are over and release_held has not run yet
        else:
            report.held.append(DeliveryOutcome.of(row))
    elif row.status == UNCERTAIN:
        report.uncertain.append(DeliveryOutcome.of(row))
    elif row.status == PENDING:
        claimed_at = envelope(row).claimed_at or row.created_at
        if (run.now - claimed_at).total_seconds() >= run.config.sending.in_flight and ledger.transition(
            session, row, PENDING, status=UNCERTAIN, error=ledger.INTERRUPTED
        ):
            logger.warning("通知状态不明（记录后未确认发出）：%s → %s %s", row.subject, row.recipient, row.channel)
            report.uncertain.append(DeliveryOutcome.of(row))
        else:
            report.in_progress.append(DeliveryOutcome.of(row))
    elif row.status == FAILED:
        _retry(session, run, row, to_send)


def _retry(session: Session, run: _Run, row: Delivery, to_send: list[Delivery]) -> None:
    """A failed row: claimed for another attempt now, or held if quiet hours (or a digest) say so now."""
    report = run.report
    if row.attempts >= run.config.sending.max_attempts:
        report.failed.append(DeliveryOutcome.of(row, error=f"已尝试 {row.attempts} 次，不再自动重试：{row.error}"))
        return
    carried = envelope(row)
    config = _without_quiet_hours(run.config) if carried.unheld else run.config
    plan = plan_delivery(carried.level, row.kind, run.now, config, collect=row.kind not in NEVER_COLLECTED)
    if plan.release_at is not None:
        waiting = replace(carried, release_at=plan.release_at, digest=plan.digest, claimed_at=None)
        if ledger.transition(session, row, FAILED, status=HELD, envelope=waiting):
            report.held.append(DeliveryOutcome.of(row))
    elif ledger.claim(session, row, FAILED, run.now):
        to_send.append(row)
    else:
        report.in_progress.append(DeliveryOutcome.of(row))


def _send(run: _Run, row: Delivery, target: str | None) -> None:
    """Send one claimed (``pending``) row and record the outcome; the resolved URL lives only here."""
    carried = envelope(row)
    status, error = SENT, None
    try:
        if target is None:
            raise SendError("该通知渠道已不在单位配置中（单位被停用或地址被修改）")
        url = run.secrets.fill(target)
        if carried.short and is_sms_target(target):  # a phone: the short text alone (no title, nothing attached)
            accepted = run.sender.send(url, "", carried.short, [])
        else:
            accepted = run.sender.send(url, row.subject, carried.body, [Path(path) for path in carried.attachments])
        if not accepted:
            raise SendError(NOT_ACCEPTED)
    except DeliveryUncertain as exc:
        status, error = UNCERTAIN, redact_text(str(exc))
    except (SendError, MissingSecret) as exc:
        status, error = FAILED, redact_text(str(exc))
    except Exception as exc:
        status, error = FAILED, redact_text(f"{type(exc).__name__}: {exc}")
    with run.db.writer() as session:
        ledger.transition(
            session, row, (PENDING, UNCERTAIN), status=status, error=error, sent_at=run.now if status == SENT else None
        )
    {SENT: run.report.sent, FAILED: run.report.failed, UNCERTAIN: run.report.uncertain}[status].append(DeliveryOutcome.of(row))
    log = logger.info if status == SENT else logger.warning
    log(
        "通知%s：%s → %s %s%s",
        _STATUS_WORDS[status],
        row.subject,
        row.recipient,
        row.channel,
        f"：{error}" if error else "",
    )


def _units(db: Database, names: Iterable[str]) -> dict[str, Unit]:
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    with db.reader() as session:
        return {unit.name: unit for unit in session.scalars(select(Unit).where(Unit.name.in_(names)))}


def _unreachable(unit: Unit | None) -> str | None:
    if unit is None:
        return "单位未配置（不在单位表中）"
    if not unit.enabled:
        return "单位已停用"
    if not unit.targets:
        return "单位没有通知渠道"
    return None


def _target_of(units: dict[str, Unit], row: Delivery) -> str | None:
    """The target as written that a row was keyed on, if its unit (enabled) still has it."""
    unit = units.get(row.recipient)
    if unit is None or not unit.enabled:
        return None
    wanted = split_key(row.key)[2]
    return next((target for target in unit.targets if target_id(target) == wanted), None)


def _send_claimed(run: _Run, rows: Sequence[Delivery]) -> None:
    units = _units(run.db, (row.recipient for row in rows))
    for row in rows:
        _send(run, row, _target_of(units, row))


# --- later: releases, digests, retries ------------------------------------------------------------


def release_held(
    db: Database,
    now: datetime | None = None,
    *,
    config: NotifyConfig | None = None,
    sender: Sender | None = None,
    secrets: SecretResolver | None = None,
) -> DeliveryReport:
    """Send the messages held for quiet hours whose release time has come (digest members wait for ``send_digests``)."""
    run = _run(db, config or NotifyConfig(), now, sender, secrets)
    with db.writer() as session:
        claimed = [row for row in ledger.held_rows(session, run.now, digest=False) if ledger.claim(session, row, HELD, run.now)]
    _send_claimed(run, claimed)
    return run.report


def send_digests(
    db: Database,
    now: datetime | None = None,
    *,
    config: NotifyConfig,
    sender: Sender | None = None,
    secrets: SecretResolver | None = None,
) -> DeliveryReport:
    """Combine the due digest members of each recipient channel into one message each, and send them once.

    The digest row (key ``"digest:{release}:{first member id}|{unit}|{target}"``)
    is inserted and its members marked ``digested`` in one transaction, so a
    member is in exactly one digest; the digest row then goes the way of
    any row (sent, failed and retried, or uncertain).
    """
    run = _run(db, config, now, sender, secrets)
    claimed: list[Delivery] = []
    with db.writer() as session:
        groups: dict[tuple[str, str, datetime], list[Delivery]] = defaultdict(list)
        for row in ledger.held_rows(session, run.now, digest=True):
            release_at = envelope(row).release_at
            if release_at is not None:  # always: held_rows gives rows whose release time has come
                groups[(row.recipient, split_key(row.key)[2], release_at)].append(row)
        for (recipient, target, release_at), members in groups.items():
            digest_row = _record_digest(session, run, recipient, target, release_at, members)
            if digest_row is not None:
                claimed.append(digest_row)
    _send_claimed(run, claimed)
    return run.report


class _MemberTaken(Exception):
    """A digest member changed status under us (another run): give up this digest for now."""


def _record_digest(
    session: Session, run: _Run, recipient: str, target: str, release_at: datetime, members: list[Delivery]
) -> Delivery | None:
    """Insert one digest row and mark its members ``digested``, all or nothing; None if another run did."""
    carried = [envelope(member) for member in members]
    message_key = f"{DIGEST_KIND}:{format_local(release_at, run.config.tz).replace(' ', 'T')}:{members[0].id}"
    key = ledger_key(message_key, recipient, target)
    subject, body = compose_digest([(m.subject, e) for m, e in zip(members, carried, strict=True)], release_at, run.config)
    levels = [e.level for e in carried if e.level is not None]
    digest = Envelope(
        body=body,
        level=min(levels) if levels else None,
        attachments=list(dict.fromkeys(path for e in carried for path in e.attachments)),
        claimed_at=run.now,
        members=[member.id for member in members],
    )
    row = {
        "key": key, "kind": DIGEST_KIND, "subject": subject, "recipient": recipient, "channel": members[0].channel,
        "status": PENDING, "attempts": 1, "error": None, "envelope": digest.dumps(), "created_at": run.now,
        "sent_at": None,
    }  # fmt: skip
    try:
        with session.begin_nested():
            if not ledger.record(session, [row]):
                return None  # another run made this digest a moment ago
            for member, member_envelope in zip(members, carried, strict=True):
                via = replace(member_envelope, via=key)
                if not ledger.transition(session, member, HELD, status=DIGESTED, envelope=via):
                    raise _MemberTaken
    except _MemberTaken:
        return None  # the savepoint is rolled back; what is left is for the next run
    return ledger.rows_by_key(session, [key])[key]


def compose_digest(members: Sequence[tuple[str, Envelope]], release_at: datetime, config: NotifyConfig) -> tuple[str, str]:
    """The subject and body of one digest: each member's subject and body, numbered, oldest first."""
    every = config.digest.every if config.digest else 0
    period = f"{every // 3600} 小时" if every % 3600 == 0 else f"{every // 60} 分钟"
    subject = f"【舆情预警汇总】{len(members)} 条（截至 {format_local(release_at, config.tz)}）"
    parts = [f"以下 {len(members)} 条较低级别预警按周期" + (f"（每 {period}）" if every else "") + "汇总发送："]
    for number, (title, carried) in enumerate(members, 1):
        label = Level.label_of(carried.level)
        parts.append(f"{number}. {label}{title}\n{carried.body}".rstrip())
    return subject, "\n\n".join(parts)


def retry_failed(
    db: Database,
    now: datetime | None = None,
    *,
    config: NotifyConfig,
    sender: Sender | None = None,
    secrets: SecretResolver | None = None,
) -> DeliveryReport:
    """Send again every ``failed`` row with attempts left, from what the ledger carries (quiet hours apply)."""
    run = _run(db, config, now, sender, secrets)
    claimed: list[Delivery] = []
    with db.writer() as session:
        for row in ledger.failed_rows(session, config.sending.max_attempts):
            _retry(session, run, row, claimed)
    _send_claimed(run, claimed)
    return run.report


def mark_interrupted(db: Database, now: datetime | None = None, *, config: NotifyConfig) -> DeliveryReport:
    """Turn ``pending`` rows older than ``sending.in_flight`` into ``uncertain`` and report them."""
    run = _run(db, config, now, None, None)
    with db.writer() as session:
        for row in ledger.interrupted_rows(session, run.now, config.sending.in_flight):
            if ledger.transition(session, row, PENDING, status=UNCERTAIN, error=ledger.INTERRUPTED):
                run.report.uncertain.append(DeliveryOutcome.of(row))
    return run.report


def sweep(
    db: Database,
    now: datetime | None = None,
    *,
    config: NotifyConfig,
    sender: Sender | None = None,
    secrets: SecretResolver | None = None,
) -> DeliveryReport:
    """What a notify flow runs every time: report interrupted sends, release held ones, send digests, retry failures."""
    secrets = secrets or SecretResolver()
    now = now or utcnow()
    report = mark_interrupted(db, now, config=config)
    report.extend(release_held(db, now, config=config, sender=sender, secrets=secrets))
    report.extend(send_digests(db, now, config=config, sender=sender, secrets=secrets))
    report.extend(retry_failed(db, now, config=config, sender=sender, secrets=secrets))
    return report
