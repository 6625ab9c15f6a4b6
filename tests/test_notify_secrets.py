"""Secrets: ``${NAME}`` from the environment or a Prefect Secret block, masked wherever text goes."""

from __future__ import annotations

import logging
import uuid

import pytest

from yuqing_core.config import get_settings
from yuqing_core.notify import MissingSecret, SecretResolver, check_target, redact, redact_text
from yuqing_core.notify.secrets import install_log_redaction, placeholder_problems, placeholders, remember_secret

pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")


def test_the_environment_is_read_yuqing_prefix_first() -> None:
    environ = {
        "YUQING_SECRET_SMTP_PASSWORD": "env-first-0x1",
        "SMTP_PASSWORD": "env-second-0x2",
        "WEBHOOK_TOKEN": "env-plain-0x3",
        "EMPTY": "",
    }
    resolver = SecretResolver(environ, blocks=None)

    assert resolver.value("SMTP_PASSWORD") == "env-first-0x1"
    assert resolver.value("WEBHOOK_TOKEN") == "env-plain-0x3"
    with pytest.raises(MissingSecret):
        resolver.value("EMPTY")  # an empty variable is no secret


def test_prefect_blocks_are_asked_only_when_the_environment_has_nothing() -> None:
    asked: list[str] = []

    def blocks(name: str) -> str | None:
        asked.append(name)
        return {"dingtalk-token": "block-value-0x4"}.get(name)

    resolver = SecretResolver({"SMTP_PASSWORD": "env-value-0x5"}, blocks=blocks)

    assert resolver.value("SMTP_PASSWORD") == "env-value-0x5"
    assert resolver.value("DINGTALK_TOKEN") == "block-value-0x4"
    assert resolver.value("DINGTALK_TOKEN") == "block-value-0x4"
    assert asked == ["dingtalk-token"]  # once per name and resolver


def test_a_missing_secret_names_the_placeholder_and_where_it_was_looked_for() -> None:
    def broken(name: str) -> str | None:
        raise RuntimeError("could not reach http://admin:hunter2-prefect@prefect.internal/api")

    with pytest.raises(MissingSecret) as missing:
        SecretResolver({}, blocks=None).value("WECOM_KEY")
    with pytest.raises(MissingSecret) as unreachable:
        SecretResolver({}, blocks=broken).value("WECOM_KEY")

    assert str(missing.value) == (
        "缺少密钥 ${WECOM_KEY}：环境变量 YUQING_SECRET_WECOM_KEY 和 WECOM_KEY 均未设置（未启用 Prefect Secret 块查找）"
    )
    assert "Prefect Secret 块 wecom-key 也不可用" in str(unreachable.value)
    assert "RuntimeError" in str(unreachable.value) and "hunter2" not in str(unreachable.value)
    assert unreachable.value.__cause__ is None and unreachable.value.__suppress_context__


def test_values_are_percent_encoded_where_they_land_and_a_whole_url_is_taken_as_is() -> None:
    resolver = SecretResolver({"PW": "a@b/c:d", "WECOM_URL": "wecombot://abc-123/"}, blocks=None)

    assert resolver.fill("mailto://u:${PW}@smtp.example.gov.cn") == "mailto://u:a%40b%2Fc%3Ad@smtp.example.gov.cn"
    assert resolver.fill("${WECOM_URL}") == "wecombot://abc-123/"


def test_placeholders_must_be_well_formed() -> None:
    assert placeholders("a${X}b${Y_2}c${X}") == ["X", "Y_2"]
    assert placeholder_problems("mailto://u:${SMTP_PASSWORD}@h") == []
    assert len(placeholder_problems("${lower} ${1BAD} ${}")) == 3
    assert "缺少右括号" in placeholder_problems("json://h/?-token=${TOKEN")[0]


@pytest.mark.prefect
def test_a_prefect_secret_block_is_found_by_its_kebab_name_only_when_enabled(prefect_harness: None, monkeypatch) -> None:
    from prefect.blocks.system import Secret

    name = f"YUQING_TEST_{uuid.uuid4().hex[:8].upper()}"
    Secret(value="block-held-token-1234").save(name.lower().replace("_", "-"), overwrite=True)

    # Off by default: a Secret block is readable by every holder of the Prefect API credential.
    monkeypatch.delenv("YUQING_SECRETS_FROM_PREFECT_BLOCKS", raising=False)
    get_settings.cache_clear()
    with pytest.raises(MissingSecret, match="未启用 Prefect Secret 块查找"):
        SecretResolver({}).value(name)

    monkeypatch.setenv("YUQING_SECRETS_FROM_PREFECT_BLOCKS", "true")
    get_settings.cache_clear()
    try:
        assert SecretResolver({}).value(name) == "block-held-token-1234"
        with pytest.raises(MissingSecret, match=r"\$\{YUQING_TEST_NO_SUCH_BLOCK\}"):
            SecretResolver({}).value("YUQING_TEST_NO_SUCH_BLOCK")
    finally:
        monkeypatch.delenv("YUQING_SECRETS_FROM_PREFECT_BLOCKS")
        get_settings.cache_clear()


# --- redaction ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        (
            "mailto://yjj:${SMTP_PASSWORD}@smtp.example.gov.cn?to=yjj@example.gov.cn&mode=ssl",
            "mailto://yjj:${SMTP_PASSWORD}@smtp.example.gov.cn?to=yjj@example.gov.cn&mode=ssl",
        ),
        ("mailto://yjj:Literal-Pw9@smtp.example.gov.cn", "mailto://yjj:****@smtp.example.gov.cn"),
        ("json://hooks.example.gov.cn/hook?-token=abc123XYZ", "json://hooks.example.gov.cn/hook?-token=****"),
        ("json://hooks.example.gov.cn/hook?+X-Api-Key=abc", "json://hooks.example.gov.cn/hook?+X-Api-Key=****"),
        ("dingtalk://0123456789abcdef0123456789abcdef/", "dingtalk://0...f/"),  # Apprise's privacy rule
        ("wecombot://${WECOM_KEY}", "wecombot://${WECOM_KEY}"),
        ("${WECOM_URL}", "${WECOM_URL}"),
    ],
)
def test_targets_are_shown_with_placeholders_kept_and_literal_secrets_masked(target: str, shown: str) -> None:
    assert redact(target) == shown


def test_values_resolved_in_this_process_are_masked_in_any_text() -> None:
    value = f"v@lue/{uuid.uuid4().hex[:8]}"
    SecretResolver({"ANY_SECRET": value}, blocks=None).value("ANY_SECRET")

    text = f"POST /hook?token={value} failed; url json://h/x?-t=v%40lue%2F{value[6:]} said {value}"

    assert redact_text(text) == "POST /hook?token=**** failed; url json://h/x?-t=**** said ****"
    assert redact_text("smtp://user:pw-not-known@host failed") == "smtp://user:****@host failed"


def test_log_records_of_apprise_and_urllib3_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    secret = f"tok-{uuid.uuid4().hex[:10]}"
    remember_secret(secret)
    caplog.set_level(logging.DEBUG)

    logging.getLogger("apprise").debug("Loaded JSON URL: json://127.0.0.1/hook?-token=%s", secret)
    logging.getLogger("urllib3.connectionpool").debug('http://127.0.0.1:80 "POST /hook?token=%s HTTP/1.1" 200 0', secret)

    assert secret not in caplog.text and caplog.text.count("token=****") == 2


def test_targets_are_checked_for_what_apprise_would_drop_or_refuse() -> None:
    assert check_target("json://hooks.example.gov.cn/hook?+X-Token=${TOKEN}") == []
    assert check_target("json://hooks.example.gov.cn/hook?-token=${TOKEN}") == []
    assert check_target("${WHOLE_URL}") == []
    assert "会被 Apprise 忽略" in check_target("json://hooks.example.gov.cn/hook?token=${TOKEN}")[0]
    assert "明文参数 token" in check_target("json://hooks.example.gov.cn/hook?token=abc")[0]
    assert check_target("  ") == ["通知地址不能为空"]
