"""Delivering messages once, through real Apprise to a real SMTP server and a real webhook on 127.0.0.1.

Every test runs on SQLite and PostgreSQL. The only fake is ``CrashingSender``,
which stands for a process dying between recording a send and making it.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from receivers import PLAIN_AUTH_WARNING, SmtpReceiver, WebhookReceiver, free_port
from yuqing_core.db import Database
from yuqing_core.db.models import Delivery
from yuqing_core.levels import Level
from yuqing_core.notify import (
    AppriseSender,
    DeliveryReport,
    Message,
    SecretResolver,
    SendError,
    UnitsFile,
    deliver,
    import_units,
    list_deliveries,
    load_units_file,
    mark_interrupted,
    release_held,
    resolve_recipients,
    resolve_uncertain,
    retry_failed,
    send_digests,
    sweep,
)

pytestmark = [
    pytest.mark.filterwarnings(PLAIN_AUTH_WARNING),
    pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning"),
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Characters that must be percent-encoded in a URL, on purpose.
SMTP_PASSWORD = "Zq7#p@ss/w:rd%"
WEBHOOK_TOKEN = "tok-5f1e9a7c3b2d"
SECRET_VALUES = (SMTP_PASSWORD, WEBHOOK_TOKEN, "Zq7%23p%40ss%2Fw%3Ard%25", "Zq7#p@ss")
OFFICE, YJJ, LEADER, TOWN = "县舆情中心", "县应急管理局", "分管副县长", "柳湾镇"


def at(hour: int, minute: int = 0, *, day: int = 27) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def warning(number: int, level: int, *, attachments: tuple[Path, ...] = ()) -> Message:
    name = Level(level).name
    return Message(
        kind="warning",
        key=f"warning:{number}:{name}",
        subject=f"【{name}级预警】柳湾镇化工园区异味 #{number}",
        body=f"青禾县柳湾镇化工园区附近居民反映有刺鼻异味（第 {number} 条），请核实处置。",
        level=level,
        attachments=attachments,
        reference=f"warning:{number}",
    )


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUQING_SECRET_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("SMTP_PASSWORD", "the-plain-variable-loses")  # YUQING_SECRET_ comes first
    monkeypatch.setenv("WEBHOOK_TOKEN", WEBHOOK_TOKEN)


@pytest.fixture
def smtp(secrets_env: None) -> Iterator[SmtpReceiver]:
    with SmtpReceiver(user="office", password=SMTP_PASSWORD) as server:
        yield server


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def units_file(tmp_path: Path, office: str, yjj: str, leader: str, extra: str = "") -> UnitsFile:
    text = f"""\
units:
  - name: {OFFICE}
    kind: office
    targets: ["{office}"]
  - name: {YJJ}
    leader: {LEADER}
    roles: [core_department]
    targets: ["{yjj}"]
  - name: {LEADER}
    kind: leadership
    roles: [county_leadership]
    targets: ["{leader}"]
  - name: {TOWN}
    kind: township
    targets: []
routing:
  IV: [{OFFICE}]
  III: [{OFFICE}, risk_point_units]
  II: [{OFFICE}, risk_point_units, role:county_leadership]
  I: [{OFFICE}, risk_point_units, role:county_leadership]
  daily_report: [{OFFICE}, role:county_leadership]
  case_reminder: [risk_point_units]
{extra}
"""
    path = tmp_path / "units.yaml"
    path.write_text(text, encoding="utf-8")
    return load_units_file(path)


def office_url(smtp: SmtpReceiver, port: int | None = None) -> str:
    url = smtp.url(password="${SMTP_PASSWORD}", to="office@example.gov.cn")
    return url if port is None else url.replace(f":{smtp.port}?", f":{port}?")


def yjj_url(hook: WebhookReceiver) -> str:
    return hook.url("/yjj") + "?-token=${WEBHOOK_TOKEN}"


def leader_url(smtp: SmtpReceiver) -> str:
    return smtp.url(password="${SMTP_PASSWORD}", to="leader@example.gov.cn")


@pytest.fixture
def setup(db: Database, tmp_path: Path, smtp: SmtpReceiver, hook: WebhookReceiver) -> Callable[..., UnitsFile]:
    """Import a units file whose channels are the local receivers; returns the config."""

    def make(extra: str = "", *, office: str | None = None, yjj: str | None = None) -> UnitsFile:
        spec = units_file(tmp_path, office or office_url(smtp), yjj or yjj_url(hook), leader_url(smtp), extra)
        import_units(db, spec)
        return spec

    return make


def send(
    db: Database, config: UnitsFile, message: Message, recipients: list[str], now: datetime, **kwargs: Any
) -> DeliveryReport:
    return deliver(db, message, recipients, config=config, now=now, secrets=SecretResolver(blocks=None), **kwargs)


def ledger(db: Database) -> list[Delivery]:
    with db.reader() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


class SimulatedCrash(BaseException):
    """The process dying mid-send: not an error a sender reports, so nothing catches it."""


class CrashingSender:
    def send(self, url: str, title: str, body: str, attachments: Any) -> bool:
        raise SimulatedCrash


# --- sending -------------------------------------------------------------------------------------


def test_a_warning_reaches_mail_and_webhook_with_chinese_text_and_an_attachment(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver, hook: WebhookReceiver, tmp_path: Path
) -> None:
    config = setup()
    attachment = tmp_path / "舆情专报.txt"
    attachment.write_bytes("专报正文：化工园区异味".encode())
    message = warning(17, 3, attachments=(attachment,))
    recipients = resolve_recipients(db, message.level, [YJJ], config=config)

    report = send(db, config, message, recipients, at(10))

    assert recipients == [OFFICE, YJJ]
    assert [o.recipient for o in report.sent] == [OFFICE, YJJ] and report.ok
    mail = smtp.wait_for(1)[0]
    assert mail.subject == "【III级预警】柳湾镇化工园区异味 #17"
    assert "刺鼻异味" in mail.text and mail.rcpt_tos == ("office@example.gov.cn",)
    assert mail.attachments == {"舆情专报.txt": "专报正文：化工园区异味".encode()}
    assert not smtp.failed_logins  # the password came from YUQING_SECRET_SMTP_PASSWORD, special characters and all
    post = hook.wait_for(1)[0]
    assert post.path == "/yjj" and post.query == {"token": [WEBHOOK_TOKEN]}
    assert post.json["title"] == message.subject and "刺鼻异味" in post.json["message"]
    assert base64.b64decode(post.json["attachments"][0]["base64"]) == attachment.read_bytes()
    rows = ledger(db)
    assert [(r.recipient, r.status, r.attempts, r.kind) for r in rows] == [
        (OFFICE, "sent", 1, "warning"),
        (YJJ, "sent", 1, "warning"),
    ]
    assert all(r.sent_at == at(10) and r.key.startswith("warning:17:III|") for r in rows)
    assert rows[1].channel == f"json://127.0.0.1:{hook.port}/yjj?-token=${{WEBHOOK_TOKEN}}"


def test_other_kinds_of_message_go_the_same_way(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver, hook: WebhookReceiver
) -> None:
    config = setup()
    daily = Message(
        kind="daily_report",
        key="daily-report:2026-11-27",
        subject="青禾县舆情日报（11月27日）",
        body="昨日共监测信息 132 条。",
    )
    reminder = Message(
        kind="case_reminder",
        key="case-reminder:督〔2026〕17号:2026-12-01",
        subject="督办件催办：督〔2026〕17号",
        body="请于 12月1日 前反馈。",
    )

    send(db, config, daily, resolve_recipients(db, "daily_report", config=config), at(8))
    send(db, config, reminder, resolve_recipients(db, "case_reminder", [YJJ], config=config), at(9))

    assert sorted(m.rcpt_tos[0] for m in smtp.wait_for(2)) == ["leader@example.gov.cn", "office@example.gov.cn"]
    assert hook.wait_for(1)[0].json["title"] == "督办件催办：督〔2026〕17号"
    assert {r.key.split("|")[0] for r in ledger(db)} == {
        "daily-report:2026-11-27",
        "case-reminder:督〔2026〕17号:2026-12-01",
    }


def test_the_same_message_twice_is_sent_once(db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver) -> None:
    config = setup()

    first = send(db, config, warning(1, 3), [OFFICE], at(10))
    second = send(db, config, warning(1, 3), [OFFICE], at(10, 5))

    assert len(first.sent) == 1 and len(second.skipped_already_sent) == 1 and not second.sent
    assert second.lines()[0] == "通知：已发送 0 条，此前已发送、跳过 1 条"
    assert [(row["状态"], row["单位"]) for row in second.table()] == [("此前已发送", OFFICE)]
    assert len(smtp.wait_for(1)) == 1 and [r.attempts for r in ledger(db)] == [1]


def test_a_message_key_must_be_usable_in_the_ledger() -> None:
    with pytest.raises(ValueError, match=re.escape("不能含 |")):
        Message(kind="warning", key="warning:1|x", subject="s", body="b")
    with pytest.raises(ValueError, match="消息类型"):
        Message(kind="Daily Report", key="k", subject="s", body="b")
    assert Message(kind="daily_report", key="k", subject="s", body="b", attachments=["a.docx"]).attachments == (Path("a.docx"),)  # type: ignore[arg-type]


def test_units_that_cannot_be_reached_are_reported(db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver) -> None:
    config = setup()

    report = send(db, config, warning(2, 3), [OFFICE, TOWN, "县水利局"], at(10))

    assert [o.recipient for o in report.sent] == [OFFICE]
    assert [(o.recipient, o.error) for o in report.unreachable] == [
        (TOWN, "单位没有通知渠道"), ("县水利局", "单位未配置（不在单位表中）"),
    ]  # fmt: skip
    assert not report.ok and "无法送达：县水利局（单位未配置（不在单位表中））" in report.lines()


# --- crashes, failures, retries --------------------------------------------------------------------


def test_a_crash_between_record_and_send_is_reported_never_resent(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver
) -> None:
    config = setup()
    with pytest.raises(SimulatedCrash):
        send(db, config, warning(3, 3), [OFFICE], at(10), sender=CrashingSender())
    assert [r.status for r in ledger(db)] == ["pending"]

    soon = send(db, config, warning(3, 3), [OFFICE], at(10, 1))  # within sending.in_flight: maybe still sending
    later = send(db, config, warning(3, 3), [OFFICE], at(10, 15))
    again = send(db, config, warning(3, 3), [OFFICE], at(11))

    assert len(soon.in_progress) == 1 and not soon.sent
    assert len(later.uncertain) == 1 and not later.sent and "可能已送达" in later.uncertain[0].error  # type: ignore[operator]
    assert len(again.uncertain) == 1 and not again.sent
    assert any("状态不明" in line for line in later.lines())
    assert smtp.messages == [] and [r.status for r in ledger(db)] == ["uncertain"]

    # An operator checked with the office: it never arrived. Then it goes, once.
    resolve_uncertain(db, ledger(db)[0].key, delivered=False, now=at(11, 30))
    resent = send(db, config, warning(3, 3), [OFFICE], at(11, 31))
    assert len(resent.sent) == 1 and len(smtp.wait_for(1)) == 1
    assert [(r.status, r.attempts) for r in ledger(db)] == [("sent", 2)]


def test_sweep_reports_an_interrupted_send_that_no_one_retries(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver
) -> None:
    config = setup()
    with pytest.raises(SimulatedCrash):
        send(db, config, warning(4, 3), [OFFICE, YJJ], at(10), sender=CrashingSender())

    early = mark_interrupted(db, at(10, 5), config=config)
    report = sweep(db, at(10, 20), config=config, secrets=SecretResolver(blocks=None))

    assert early.uncertain == []
    assert [o.recipient for o in report.uncertain] == [OFFICE, YJJ]  # the crash stopped before YJJ was sent, too
    assert smtp.messages == [] and {r.status for r in ledger(db)} == {"uncertain"}


def test_a_failed_send_is_recorded_redacted_and_retried_once(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver, hook: WebhookReceiver
) -> None:
    port = free_port()
    config = setup(office=office_url(smtp, port))

    failed = send(db, config, warning(5, 3), [OFFICE], at(10))

    assert len(failed.failed) == 1 and not failed.sent
    row = ledger(db)[0]
    assert (row.status, row.attempts, row.sent_at) == ("failed", 1, None)
    assert "127.0.0.1" in row.error and not any(secret in row.error for secret in SECRET_VALUES)  # type: ignore[operator]
    assert any(
        line.startswith("发送失败（第 1 次尝试）：县舆情中心 mailto://office:${SMTP_PASSWORD}@") for line in failed.lines()
    )

    with SmtpReceiver(port=port, user="office", password=SMTP_PASSWORD) as back_up:
        retried = retry_failed(db, at(10, 10), config=config, secrets=SecretResolver(blocks=None))
        later = send(db, config, warning(5, 3), [OFFICE], at(10, 20))
        assert len(back_up.wait_for(1)) == 1

    assert len(retried.sent) == 1 and len(later.skipped_already_sent) == 1
    assert [(r.status, r.attempts, r.error) for r in ledger(db)] == [("sent", 2, None)]


def test_a_refused_webhook_fails_and_the_next_delivery_retries_it(
    db: Database, setup: Callable[..., UnitsFile], hook: WebhookReceiver
) -> None:
    config = setup()
    hook.status = 500

    refused = send(db, config, warning(6, 3), [YJJ], at(10))
    hook.status = 200
    retried = send(db, config, warning(6, 3), [YJJ], at(10, 5))
    after = send(db, config, warning(6, 3), [YJJ], at(10, 6))

    assert len(refused.failed) == 1 and len(hook.refused) == 1
    assert len(retried.sent) == 1 and len(after.skipped_already_sent) == 1 and len(hook.wait_for(1)) == 1


def test_failures_stop_being_retried_after_max_attempts(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver
) -> None:
    config = setup("sending: {max_attempts: 2}", office=office_url(smtp, free_port()))

    send(db, config, warning(7, 3), [OFFICE], at(10))
    second = retry_failed(db, at(10, 10), config=config, secrets=SecretResolver(blocks=None))
    third = retry_failed(db, at(10, 20), config=config, secrets=SecretResolver(blocks=None))
    redelivered = send(db, config, warning(7, 3), [OFFICE], at(10, 30))

    assert len(second.failed) == 1 and third.failed == [] and third.sent == []
    assert "不再自动重试" in redelivered.failed[0].error  # type: ignore[operator]
    assert [(r.status, r.attempts) for r in ledger(db)] == [("failed", 2)]


def test_a_missing_secret_fails_naming_the_placeholder_then_goes_once_it_is_set(
    db: Database, setup: Callable[..., UnitsFile], hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = setup()
    monkeypatch.delenv("WEBHOOK_TOKEN")

    missing = send(db, config, warning(8, 3), [YJJ], at(10))
    monkeypatch.setenv("YUQING_SECRET_WEBHOOK_TOKEN", "rotated-token-value")
    fixed = send(db, config, warning(8, 3), [YJJ], at(10, 5))

    assert missing.failed[0].error.startswith("缺少密钥 ${WEBHOOK_TOKEN}：环境变量 YUQING_SECRET_WEBHOOK_TOKEN")  # type: ignore[union-attr]
    assert hook.refused == [] and len(fixed.sent) == 1
    assert hook.wait_for(1)[0].query == {"token": ["rotated-token-value"]}


# --- quiet hours and digests -----------------------------------------------------------------------

QUIET = 'quiet_hours: {start: "22:00", end: "07:00", hold_below: II}'
DIGEST = "digest: {below: III, every: 2h}"


def test_quiet_hours_hold_low_levels_until_they_end(db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver) -> None:
    config = setup(QUIET)

    night = send(db, config, warning(10, 4), [OFFICE], at(23))
    severe = send(db, config, warning(11, 2), [OFFICE], at(23, 5))
    too_early = release_held(db, at(6, 59, day=28), secrets=SecretResolver(blocks=None))
    morning = release_held(db, at(7, 0, day=28), secrets=SecretResolver(blocks=None))
    later = release_held(db, at(7, 30, day=28), secrets=SecretResolver(blocks=None))
    redelivered = send(db, config, warning(10, 4), [OFFICE], at(8, day=28))

    assert len(night.held) == 1 and night.held[0].release_at == at(7, day=28)
    assert "暂缓至 2026-11-28 07:00：县舆情中心" in night.lines()
    assert len(severe.sent) == 1
    assert too_early.sent == [] and len(morning.sent) == 1 and later.sent == []
    assert len(redelivered.skipped_already_sent) == 1
    assert [m.subject for m in smtp.wait_for(2)] == [
        "【II级预警】柳湾镇化工园区异味 #11",
        "【IV级预警】柳湾镇化工园区异味 #10",
    ]


def test_a_failure_retried_in_quiet_hours_waits_for_their_end(
    db: Database, setup: Callable[..., UnitsFile], hook: WebhookReceiver
) -> None:
    config = setup(QUIET)
    hook.status = 503
    send(db, config, warning(12, 4), [YJJ], at(21, 50))
    hook.status = 200

    night = sweep(db, at(23, 0), config=config, secrets=SecretResolver(blocks=None))
    assert night.sent == [] and night.held[0].release_at == at(7, day=28) and hook.posts == []
    morning = sweep(db, at(7, 0, day=28), config=config, secrets=SecretResolver(blocks=None))

    assert len(morning.sent) == 1 and len(hook.wait_for(1)) == 1
    assert [(r.status, r.attempts) for r in ledger(db)] == [("sent", 2)]


def test_a_digest_combines_low_level_warnings_per_recipient_channel(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver, hook: WebhookReceiver
) -> None:
    config = setup(DIGEST)
    held = [
        send(db, config, warning(n, 4), [OFFICE, YJJ], when) for n, when in ((20, at(8, 10)), (21, at(8, 40)), (22, at(9, 50)))
    ]
    at_once = send(db, config, warning(23, 3), [OFFICE], at(9, 55))
    next_period = send(db, config, warning(24, 4), [OFFICE], at(10, 5))

    before = send_digests(db, at(9, 59), config=config, secrets=SecretResolver(blocks=None))
    due = send_digests(db, at(10, 0), config=config, secrets=SecretResolver(blocks=None))
    again = send_digests(db, at(10, 30), config=config, secrets=SecretResolver(blocks=None))

    assert all(len(r.held) == 2 and r.held[0].release_at == at(10) for r in held)
    assert len(at_once.sent) == 1 and next_period.held[0].release_at == at(12)
    assert before.sent == [] and again.sent == []
    assert sorted(o.recipient for o in due.sent) == sorted([OFFICE, YJJ])
    mails = smtp.wait_for(2)
    digest_mail = next(m for m in mails if m.subject.startswith("【舆情预警汇总】"))
    assert digest_mail.subject == "【舆情预警汇总】3 条（截至 2026-11-27 10:00）"
    assert all(f"#{n}" in digest_mail.text for n in (20, 21, 22)) and "#24" not in digest_mail.text
    assert len(hook.wait_for(1)) == 1 and "#22" in hook.posts[0].json["message"]
    statuses = {(r.key.split("|")[0], r.recipient): r.status for r in ledger(db)}
    assert statuses[("warning:20:IV", OFFICE)] == "digested" and statuses[("warning:24:IV", OFFICE)] == "held"
    digest_rows = list_deliveries(db, status="sent", recipient=OFFICE)
    assert [r.kind for r in digest_rows] == ["digest", "warning"]


def test_the_digests_of_a_night_go_out_as_one_when_quiet_hours_end(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver
) -> None:
    config = setup(f"{QUIET}\n{DIGEST}")

    send(db, config, warning(30, 4), [OFFICE], at(23, 10))
    send(db, config, warning(31, 4), [OFFICE], at(1, 30, day=28))
    night = sweep(db, at(4, 0, day=28), config=config, secrets=SecretResolver(blocks=None))
    morning = sweep(db, at(7, 0, day=28), config=config, secrets=SecretResolver(blocks=None))

    assert night.sent == [] and len(morning.sent) == 1
    mail = smtp.wait_for(1)[0]
    assert mail.subject == "【舆情预警汇总】2 条（截至 2026-11-28 07:00）" and "#30" in mail.text and "#31" in mail.text


# --- concurrency ---------------------------------------------------------------------------------------


def in_threads(count: int, work: Callable[[], DeliveryReport]) -> list[DeliveryReport]:
    barrier = threading.Barrier(count)
    reports: list[DeliveryReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            reports.append(work())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return reports


def test_two_deliveries_of_one_message_at_once_send_it_once(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver, hook: WebhookReceiver
) -> None:
    config = setup()

    reports = in_threads(4, lambda: send(db, config, warning(40, 3), [OFFICE, YJJ], at(10)))

    assert sum(len(r.sent) for r in reports) == 2
    # The others found the rows claimed (still sending) or already sent: never failed, never uncertain.
    assert all(len(r.in_progress) + len(r.skipped_already_sent) == 2 for r in reports if not r.sent)
    assert len(smtp.wait_for(1)) == 1 and len(hook.wait_for(1)) == 1
    assert [r.status for r in ledger(db)] == ["sent", "sent"]


def test_two_digest_runs_at_once_send_each_digest_once(db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver) -> None:
    config = setup(DIGEST)
    for n in range(50, 55):
        send(db, config, warning(n, 4), [OFFICE, LEADER], at(8, n - 40))

    reports = in_threads(3, lambda: send_digests(db, at(10), config=config, secrets=SecretResolver(blocks=None)))

    assert sum(len(r.sent) for r in reports) == 2
    assert sorted(m.rcpt_tos[0] for m in smtp.wait_for(2)) == ["leader@example.gov.cn", "office@example.gov.cn"]
    assert {r.status for r in ledger(db) if r.kind == "warning"} == {"digested"}


# --- secrets never leak -----------------------------------------------------------------------------


def test_no_secret_value_in_ledger_logs_reports_or_errors(
    db: Database,
    setup: Callable[..., UnitsFile],
    smtp: SmtpReceiver,
    hook: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("apprise", "urllib3.connectionpool", "yuqing_core.notify"):
        caplog.set_level(logging.DEBUG, logger=name)
    closed = office_url(smtp, free_port())
    config = setup(office=closed)
    texts: list[str] = []

    texts += send(db, config, warning(60, 2), [OFFICE, YJJ, LEADER], at(10)).lines()  # SMTP down, webhook, SMTP up
    hook.status = 403
    texts += send(db, config, warning(61, 3), [YJJ], at(10, 1)).lines()  # webhook refuses
    with pytest.raises(SendError) as refused:
        AppriseSender().send(SecretResolver(blocks=None).fill(closed), "标题", "正文", ())
    texts.append(str(refused.value))

    assert hook.posts[0].query == {"token": [WEBHOOK_TOKEN]} and not smtp.failed_logins  # the secrets were used
    assert len(smtp.wait_for(1)) == 1 and any("127.0.0.1" in r.getMessage() for r in caplog.records)  # and logged about
    assert {r.status for r in ledger(db)} == {"sent", "failed"}
    texts += [str(value) for row in ledger(db) for value in (row.key, row.channel, row.error, row.envelope, row.subject)]
    texts += [record.getMessage() for record in caplog.records] + [caplog.text]
    leaks = [(secret, text) for text in texts for secret in SECRET_VALUES if secret in text]
    assert leaks == []


def test_a_whole_url_secret_is_masked_in_every_form_in_debug_logs(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver, hook: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A webhook kept whole in one secret: Apprise rewrites it and urllib3 logs it in pieces; no piece gets out."""
    import io
    from urllib.parse import quote

    path_token, query_token = "Tk9xQ2vR7sLm4pZw", "qT3-8f1e0c7b6a5d"
    whole = hook.url(f"/yjj/{path_token}") + f"?-token={query_token}"
    monkeypatch.setenv("YJJ_HOOK_URL", whole)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)  # a handler the process configured, on the root logger
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        config = setup(yjj="${YJJ_HOOK_URL}")
        send(db, config, warning(70, 3), [YJJ], at(10))  # delivered
        hook.status = 500
        refused = send(db, config, warning(71, 3), [YJJ], at(10, 1))  # refused
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert hook.posts and hook.posts[0].path.endswith(path_token) and refused.failed
    logged = buffer.getvalue()
    assert "127.0.0.1" in logged and ("apprise" in logged or "urllib3" in logged)  # the libraries did log, at DEBUG
    forms = {whole, path_token, query_token, quote(whole, safe=""), quote(whole), quote(quote(whole, safe=""), safe="")}
    texts = [logged] + refused.lines() + [str(row.channel) + str(row.error) for row in ledger(db)]
    assert [(form, text) for text in texts for form in forms if form in text] == []


def test_failure_summary_counts_what_did_not_arrive(
    db: Database, setup: Callable[..., UnitsFile], smtp: SmtpReceiver, hook: WebhookReceiver
) -> None:
    from yuqing_core.notify import DeliveryFailed

    config = setup(office=office_url(smtp, free_port()))  # the office's mail server is down
    hook.status = 500  # and the webhook refuses
    report = send(db, config, warning(80, 2), [OFFICE, YJJ, LEADER], at(10))
    assert len(report.sent) == 1 and len(smtp.wait_for(1)) == 1  # the leader still got it
    summary = report.failure_summary()
    assert summary is not None and summary.startswith("送达失败 2 条（共 3 条）：") and OFFICE in summary and YJJ in summary
    failure = DeliveryFailed.of(report)
    assert failure is not None and failure.retryable and str(failure) == summary
    import pickle

    assert str(pickle.loads(pickle.dumps(failure))) == summary
    hook.status = 200
    assert DeliveryFailed.of(send(db, config, warning(81, 4), [YJJ], at(10, 5))) is None
