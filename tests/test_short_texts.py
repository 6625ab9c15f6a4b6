"""Texts for phones: a warning in at most 70 characters saying where to read more; SMS channels get it alone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from yuqing_core.analysis.notices import WARNING_SMS_LIMIT, warning_sms
from yuqing_core.analysis.warn import RaisedWarning
from yuqing_core.db import Database
from yuqing_core.notify import Message, deliver, import_units, load_units_file
from yuqing_core.notify.channels import is_sms_target
from yuqing_core.notify.secrets import SecretResolver
from yuqing_core.office import Office

LONG_TITLE = "白沙镇东坪村一早全是刺鼻气味，是不是化工园区又泄漏了？家里老人孩子都说头晕嗓子疼，村里好多人已经去医院" * 3
OFFICE = Office(name="青禾县网络舆情应急监控中心", county="青禾县", workbench_url="https://yuqing.example.gov.cn")


def raised(title: str = LONG_TITLE, **changes: Any) -> RaisedWarning:
    return RaisedWarning(id=17, event_id=108, level=2, score=81.5, title=title, risk_points=["化工园区异味泄漏"], **changes)


def test_a_warning_sms_fits_in_70_characters_and_says_where_the_rest_is() -> None:
    for warning in (raised(), raised("东坪村异味"), raised(kind="level", previous_level=3), raised(kind="change")):
        for office in (OFFICE, None):
            text = warning_sms(warning, office)
            assert len(text) <= WARNING_SMS_LIMIT, text
            assert "II级" in text and ("https://yuqing.example.gov.cn/events/108" in text if office else "预警17" in text)
    assert warning_sms(raised("东坪村异味"), None) == "【II级预警】东坪村异味。详见工作台预警17（事件108）"


def test_sms_gateways_are_told_apart_from_other_channels() -> None:
    assert is_sms_target("twilio://AC123:${TWILIO_TOKEN}@15551230000/15551239999")
    assert is_sms_target("SNS://key/${AWS_SECRET}/us-east-1/+8613800000000")
    assert not is_sms_target("mailto://user:${SMTP_PASSWORD}@smtp.example.gov.cn")
    assert not is_sms_target("json://127.0.0.1:9/hook")


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, list[Path]]] = []

    def send(self, url: str, title: str, body: str, attachments: Any) -> bool:
        self.sent.append((url, title, body, list(attachments)))
        return True


def test_an_sms_channel_gets_the_short_text_alone(sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_TOKEN", "t0ken")
    path = tmp_path / "units.yaml"
    path.write_text(
        "units:\n"
        "  - name: 县委宣传部\n"
        '    targets: ["json://127.0.0.1:9/hook", "twilio://AC123:${TWILIO_TOKEN}@15551230000/15551239999"]\n'
        "routing: {I: [县委宣传部], II: [县委宣传部], III: [县委宣传部], IV: [县委宣传部]}\n",
        encoding="utf-8",
    )
    config = load_units_file(path)
    import_units(sqlite_db, config)
    attachment = tmp_path / "日报.docx"
    attachment.write_bytes(b"docx")
    message = Message(kind="daily_report", key="daily-report:2026-11-28", subject="青禾县舆情日报", body="全文正文" * 100,
                      attachments=(attachment,), short="【舆情日报】青禾县11月28日……全文：青舆日〔2026〕332号")  # fmt: skip
    sender = RecordingSender()
    now = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
    deliver(sqlite_db, message, ["县委宣传部"], config=config, now=now, sender=sender, secrets=SecretResolver(blocks=None))
    by_scheme = {url.split("://")[0]: (title, body, files) for url, title, body, files in sender.sent}
    assert by_scheme["twilio"] == ("", message.short, [])
    assert by_scheme["json"] == (message.subject, message.body, [attachment])
