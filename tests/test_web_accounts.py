"""Accounts of the web workbench from the command line and the core: add, disable, reset, list, bootstrap;
passwords only as argon2 hashes, rehashed at sign-in when the parameters change; the audit names the operator."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select, text

from yuqing_core.accounts import (
    LoginRefused,
    actor_label,
    add_account,
    authenticate,
    get_account,
    start_session,
)
from yuqing_core.accounts import service as accounts_service
from yuqing_core.cli import main
from yuqing_core.db.models import AuditEntry, WebSession
from yuqing_core.errors import InvalidInput
from yuqing_core.notify import import_units
from yuqing_core.notify.units import UnitSpec

UNITS_FILE = """\
units:
  - name: 县舆情中心
    kind: office
  - name: 分管副县长
    kind: leadership
  - name: 县应急管理局
    kind: department
    leader: 分管副县长
  - name: 柳湾镇
    kind: township
  - name: 白班值班员
    kind: duty
routing:
  IV: [县舆情中心]
  III: [县舆情中心]
  II: [县舆情中心]
  I: [县舆情中心]
"""
PASSWORD = "correct horse battery"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def units(db) -> None:
    import_units(db, [UnitSpec(name="县应急管理局"), UnitSpec(name="柳湾镇", kind="township")])


def test_add_with_a_prompt_stdin_or_generated_password_and_list(runner, env_settings, db, units) -> None:
    prompted = runner.invoke(main, ["users", "add", "zhangsan", "--role", "unit", "--unit", "县应急管理局", "--display-name", "张三"],
                             input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    assert "已创建账号 zhangsan（单位经办人，县应急管理局）" in prompted.output and PASSWORD not in prompted.output
    piped = runner.invoke(main, ["users", "add", "lisi", "--role", "analyst", "--password-stdin"], input=PASSWORD + "\n")
    assert piped.exit_code == 0, piped.output
    generated = runner.invoke(main, ["users", "add", "wangwu", "--role", "leader", "--generate"])
    assert generated.exit_code == 0
    password = generated.output.split("初始密码（只显示这一次）：")[1].strip()
    assert authenticate(db, env_settings, "wangwu", password, client="t").name == "wangwu"
    assert authenticate(db, env_settings, "zhangsan", PASSWORD, client="t").unit == "县应急管理局"

    listed = runner.invoke(main, ["users", "list"])
    assert "zhangsan" in listed.output and "单位经办人" in listed.output and "$argon2" not in listed.output
    rows = runner.invoke(main, ["users", "list", "--format", "jsonl"]).output.splitlines()
    assert len(rows) == 3 and all("password" not in row for row in rows)
    assert actor_label(get_account(db, "zhangsan")) == "张三（县应急管理局）"
    assert actor_label(get_account(db, "lisi")) == "lisi（分析员）"


def test_add_refuses_what_cannot_be_an_account(runner, env_settings, db, units) -> None:
    cases = {
        ("x", "--role", "unit"): "须指定所属单位",
        ("x", "--role", "unit", "--unit", "不存在的局"): "单位表中没有「不存在的局」",
        ("x", "--role", "analyst", "--unit", "柳湾镇"): "只有单位经办人",
    }
    for args, message in cases.items():
        refused = runner.invoke(main, ["users", "add", *args, "--generate"])
        assert refused.exit_code == 1 and message in refused.output, refused.output
    short = runner.invoke(main, ["users", "add", "x", "--role", "head", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "至少需要 10 个字符" in short.output
    runner.invoke(main, ["users", "add", "x", "--role", "head", "--generate"])
    twice = runner.invoke(main, ["users", "add", "x", "--role", "head", "--generate"])
    assert twice.exit_code == 1 and "账号 x 已存在" in twice.output


def test_password_is_stored_only_as_an_argon2_hash(db, units) -> None:
    add_account(db, "zhangsan", role="unit", unit="柳湾镇", password=PASSWORD)
    with db.engine.connect() as connection:
        dumped = " ".join(str(v) for row in connection.execute(text("SELECT * FROM accounts")) for v in row)
    assert PASSWORD not in dumped and "$argon2id$" in dumped


def test_disable_and_reset_end_sessions_and_change_sign_in(runner, env_settings, db, units) -> None:
    account, _ = add_account(db, "zhangsan", role="unit", unit="柳湾镇", password=PASSWORD)
    start_session(db, account, client="t")
    reset = runner.invoke(main, ["users", "reset", "zhangsan", "--generate"])
    assert reset.exit_code == 0 and "会话已全部结束" in reset.output
    new_password = reset.output.split("新密码（只显示这一次）：")[1].strip()
    with db.reader() as session:
        assert session.scalars(select(WebSession)).all() == []
    with pytest.raises(LoginRefused, match="账号或密码不正确"):
        authenticate(db, env_settings, "zhangsan", PASSWORD, client="t")
    start_session(db, authenticate(db, env_settings, "zhangsan", new_password, client="t"), client="t")

    disabled = runner.invoke(main, ["users", "disable", "zhangsan"])
    assert disabled.exit_code == 0 and "已停用" in disabled.output
    with db.reader() as session:
        assert session.scalars(select(WebSession)).all() == []
    with pytest.raises(LoginRefused, match="已停用"):
        authenticate(db, env_settings, "zhangsan", new_password, client="t")
    missing = runner.invoke(main, ["users", "disable", "nobody"])
    assert missing.exit_code == 1 and "没有账号 nobody" in missing.output

    with db.reader() as session:
        audit = [
            (e.action, e.target, e.account_id, e.account_name.startswith("命令行:")) for e in session.scalars(select(AuditEntry))
        ]
    assert audit == [("account.reset", "zhangsan", None, True), ("account.disable", "zhangsan", None, True)]


def test_bootstrap_creates_one_account_per_case_unit_once(runner, env_settings, db, tmp_path, monkeypatch) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(UNITS_FILE, encoding="utf-8")
    assert runner.invoke(main, ["users", "bootstrap"]).output.strip() == "Error: 请先设置 YUQING_UNITS_FILE（单位文件）"
    monkeypatch.setenv("YUQING_UNITS_FILE", str(path))
    from yuqing_core.config import get_settings

    get_settings.cache_clear()
    import_units(db, [UnitSpec(name="县舆情中心", kind="office"), UnitSpec(name="分管副县长", kind="leadership"),
                      UnitSpec(name="县应急管理局"), UnitSpec(name="白班值班员", kind="duty")])  # fmt: skip
    add_account(db, "yjj", role="unit", unit="县应急管理局", password=PASSWORD)
    first = runner.invoke(main, ["users", "bootstrap"])
    assert first.exit_code == 0, first.output
    lines = [line for line in first.output.splitlines() if "初始密码" in line]
    assert len(lines) == 1 and lines[0].startswith("分管副县长\t账号 分管副县长\t初始密码 ")
    assert "已有账号，未创建：县应急管理局" in first.output and "单位表中没有（请先 yuqing units import）：柳湾镇" in first.output
    password = lines[0].rsplit(" ", 1)[1]
    assert authenticate(db, env_settings, "分管副县长", password, client="t").unit == "分管副县长"
    again = runner.invoke(main, ["users", "bootstrap"])
    assert "没有需要创建的单位账号" in again.output and "初始密码" not in again.output


def test_sign_in_rehashes_a_password_hashed_with_old_parameters(db, env_settings, units, monkeypatch) -> None:
    monkeypatch.setattr(accounts_service, "password_hasher", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    add_account(db, "zhangsan", role="unit", unit="柳湾镇", password=PASSWORD)
    old = get_account(db, "zhangsan").password_hash
    assert "m=8192,t=1" in old
    monkeypatch.setattr(accounts_service, "password_hasher", PasswordHasher())
    authenticate(db, env_settings, "zhangsan", PASSWORD, client="t")
    new = get_account(db, "zhangsan").password_hash
    assert new != old and "m=8192,t=1" not in new
    assert authenticate(db, env_settings, "zhangsan", PASSWORD, client="t").password_hash == new  # no rehash when current


def test_account_names_are_checked(db) -> None:
    with pytest.raises(InvalidInput, match="账号名不能为空"):
        add_account(db, "  ", role="head")
    with pytest.raises(InvalidInput, match="未知角色"):
        add_account(db, "x", role="admin")


def test_the_units_file_of_these_tests_is_valid(tmp_path: Path) -> None:
    from yuqing_core.notify import load_units_file

    path = tmp_path / "u.yaml"
    path.write_text(UNITS_FILE, encoding="utf-8")
    assert [u.kind for u in load_units_file(path).units] == ["office", "leadership", "department", "township", "duty"]
