"""Channels: Apprise URLs as written in the units file, checked, named, and sent through.

Any Apprise URL is a channel: ``mailto://`` (SMTP), ``dingtalk://``,
``wecombot://`` (WeCom), ``feishu://``, ``json://`` / ``form://`` (a
generic webhook), SMS gateways. A target names its secrets as ``${NAME}``
(see ``notify.secrets``); ``check_target`` refuses a target that carries
a password or token literally, or whose placeholder Apprise would drop.

Generic webhooks pass extra query parameters only with a prefix:
``json://host/hook?-token=${WEBHOOK_TOKEN}`` sends ``?token=...``,
``?+X-Token=${WEBHOOK_TOKEN}`` sends a header; a plain ``?token=`` is
ignored by Apprise, so it is refused here rather than failing silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from yuqing_core.notify.secrets import (
    PLACEHOLDER,
    SECRET_PARAMS,
    install_log_redaction,
    placeholder_problems,
    placeholders,
    redact_text,
    silenced_apprise,
)

SEND_TIMEOUT_S = 60.0
TARGET_ID_CHARS = 10


class SendError(RuntimeError):
    """The channel refused or could not be reached: the message is known not to have gone out."""


class DeliveryUncertain(RuntimeError):
    """The channel may or may not have taken the message (a timeout mid-send): never resend by itself."""


class Sender(Protocol):
    """What ``deliver`` sends through: return True when the channel accepted the message, else False or raise."""

    def send(self, url: str, title: str, body: str, attachments: Sequence[Path]) -> bool: ...


# Apprise's SMS gateways: a phone gets a message's short text (``Message.short``) instead of its body.
SMS_SCHEMES = frozenset({
    "46elks", "elks", "bulksms", "bulkvs", "burstsms", "clickatell", "clicksend", "d7sms", "freemobile", "httpsms",
    "kavenegar", "messagebird", "msgbird", "msg91", "nexmo", "plivo", "seven", "sfr", "sinch", "smseagle", "smsmgr",
    "sns", "twilio", "vonage", "voipms",
})  # fmt: skip


def is_sms_target(target: str) -> bool:
    """Whether a target (as written, or filled) is an SMS gateway: ``twilio://…``, ``sns://…`` …"""
    scheme, separator, _ = target.strip().partition("://")
    return bool(separator) and scheme.lower() in SMS_SCHEMES


def target_id(target: str) -> str:
    """A short stable name for a target as written (placeholders, not values), for ledger keys.

    Reordering a unit's targets or rotating a secret keeps the id; editing
    the target itself makes it a new channel.
    """
    return hashlib.sha1(target.strip().encode("utf-8")).hexdigest()[:TARGET_ID_CHARS]


def check_target(target: str) -> list[str]:
    """Everything wrong with a target as written (empty when it can be used)."""
    target = target.strip()
    if not target:
        return ["通知地址不能为空"]
    problems = placeholder_problems(target)
    if problems:
        return problems
    if PLACEHOLDER.fullmatch(target):
        return []  # the whole URL is a secret; it is checked when it is sent
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if not scheme or "://" not in target:
        return [f"不是 Apprise 通知地址：{redact_text(target)[:60]}（应为 mailto://、json://、dingtalk:// 这样的地址）"]
    if not _apprise_knows(scheme):
        return [f"Apprise 不支持 {scheme}:// 这种通知地址"]
    problems += _literal_secrets(parts.netloc, parts.query)
    if not problems:
        problems += _dropped_placeholders(target)
    return problems


LITERAL_SECRET = "含明文{what}；请写成 ${{NAME}} 占位符，把值放在环境变量（YUQING_SECRET_NAME 或 NAME）或 Prefect Secret 块中"


def _literal_secrets(netloc: str, query: str) -> list[str]:
    problems = []
    userinfo, at, _ = netloc.rpartition("@")
    if at and ":" in userinfo and not PLACEHOLDER.fullmatch(userinfo.partition(":")[2]):
        problems.append(LITERAL_SECRET.format(what="密码"))
    for name, value in parse_qsl(query, keep_blank_values=True):
        bare = name.lstrip("+-:").lower()
        if value and not PLACEHOLDER.fullmatch(value) and bare in SECRET_PARAMS:
            problems.append(LITERAL_SECRET.format(what=f"参数 {name}"))
    return problems


def _apprise_knows(scheme: str) -> bool:
    from apprise.manager_plugins import NotificationManager

    return scheme in NotificationManager()


def _dropped_placeholders(target: str) -> list[str]:
    """Placeholders Apprise would parse away: filled with stand-ins, is each still in the parsed URL?"""
    import apprise

    names = placeholders(target)
    if not names:
        return []
    stand_ins = {name: f"yqph{i}x{hashlib.sha1(name.encode()).hexdigest()[:8]}" for i, name in enumerate(names)}
    filled = PLACEHOLDER.sub(lambda m: stand_ins[m.group(1)], target)
    with silenced_apprise():
        plugin = apprise.Apprise.instantiate(filled)
        # A stricter plugin may refuse stand-ins for real tokens: then nothing can be told here.
        rendered = plugin.url(privacy=False) if plugin is not None else None
    if rendered is None:
        return []
    return [
        f"占位符 ${{{name}}} 所在的部分会被 Apprise 忽略（通用 webhook 的查询参数写成 -token=…，请求头写成 +X-Token=…）"
        for name, stand_in in stand_ins.items()
        if stand_in not in rendered
    ]


class AppriseSender:
    """Sends one message to one resolved Apprise URL; failures raise with a redacted reason.

    A new ``Apprise`` object per send, so nothing of one URL outlives its
    send. Apprise's own retries stay off: the ledger decides what is retried.
    """

    def __init__(self, *, timeout_s: float = SEND_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s

    def send(self, url: str, title: str, body: str, attachments: Sequence[Path] = ()) -> bool:
        import apprise

        install_log_redaction()
        missing = [Path(path).name for path in attachments if not Path(path).is_file()]
        if missing:
            raise SendError("附件不存在：" + "、".join(missing))
        notifier = apprise.Apprise()
        if not notifier.add(url):
            raise SendError("Apprise 无法使用该通知地址（地址格式或密钥值不对）")
        attach = apprise.AppriseAttachment([str(path) for path in attachments]) if attachments else None
        with notifier.notify(
            body=body, title=title, body_format=apprise.NotifyFormat.TEXT, attach=attach, timeout=self.timeout_s
        ) as result:
            if result:
                return True
            detail = "；".join(dict.fromkeys(entry.message for entry in result.logs()))
            if result.status == apprise.AppriseResultStatus.TIMEOUT:
                raise DeliveryUncertain(redact_text(f"发送超时（{self.timeout_s:g} 秒），无法确认是否送达 {detail}".strip()))
            raise SendError(redact_text(detail or "通道没有接受这条消息"))
