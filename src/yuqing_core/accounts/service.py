"""Accounts of the web workbench: roles, units, argon2 password hashes, sign-in.

Roles: the office's analysts (``analyst``), duty officers (``duty``) and
head (``head``); unit members (``unit``), each bound to one unit of the
``units`` table; leaders (``leader``), who only read. Accounts are disabled,
never deleted, so the audit log always names one.

Example::

    account, password = add_account(db, "zhangsan", role="unit", unit="县应急管理局", display_name="张三")
    signed_in = authenticate(db, settings, "zhangsan", password, client="10.0.0.7")
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Account, LoginFailure, Unit, WebSession
from yuqing_core.errors import InvalidInput, NotFound, UserError
from yuqing_core.timeutil import utcnow

ROLE_LABELS = {
    "analyst": "分析员",
    "duty": "值班员",
    "head": "中心主任",
    "unit": "单位经办人",
    "leader": "领导",
}
OFFICE_ROLES = ("analyst", "duty", "head")
MIN_PASSWORD_CHARS = 10
# Longer "passwords" are refused unhashed: hashing megabytes per request would be a cheap way to load the server.
MAX_PASSWORD_CHARS = 1024
GENERATED_PASSWORD_BYTES = 12  # 16 URL-safe characters
# Units that handle cases get a member account from ``bootstrap_unit_accounts``; duty posts and the office do not.
CASE_UNIT_KINDS = ("township", "department", "leadership")

#: The hasher for new hashes; a stored hash made with other parameters is replaced at the next sign-in.
password_hasher = PasswordHasher()


class AccountNotFound(NotFound):
    pass


class LoginRefused(UserError):
    """A sign-in that did not succeed; the message is what the person at the login page reads."""


class LoginThrottled(LoginRefused):
    """Too many recent failures for this name or address: wait before trying again."""


@dataclass(frozen=True)
class BootstrapSummary:
    created: list[tuple[Account, str]] = field(default_factory=list)  # (account, its generated password)
    existing: list[str] = field(default_factory=list)  # units that already have a member account
    missing: list[str] = field(default_factory=list)  # units of the file not in the units table


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(f"密码至少需要 {MIN_PASSWORD_CHARS} 个字符")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidInput(f"密码不能超过 {MAX_PASSWORD_CHARS} 个字符")


def _check_role(role: str, unit: str | None) -> None:
    if role not in ROLE_LABELS:
        raise InvalidInput(f"未知角色 {role!r}（可用：{'、'.join(f'{k}（{v}）' for k, v in ROLE_LABELS.items())}）")
    if role == "unit" and not unit:
        raise InvalidInput("单位经办人账号须指定所属单位（--unit）")
    if role != "unit" and unit:
        raise InvalidInput("只有单位经办人（unit）账号可以绑定单位")


def actor_label(account: Account) -> str:
    """How the account appears in case histories: ``张三（县应急管理局）``, ``李四（分析员）``."""
    return f"{account.display_name}（{account.unit if account.role == 'unit' else ROLE_LABELS[account.role]}）"


def add_account(
    db: Database,
    name: str,
    *,
    role: str,
    unit: str | None = None,
    display_name: str | None = None,
    password: str | None = None,
    now: datetime | None = None,
) -> tuple[Account, str]:
    """Create an account; returns it with its password (generated when none is given)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("账号名不能为空，且不超过 100 个字符")
    _check_role(role, unit)
    if password is None:
        password = generate_password()
    _check_password(password)
    now = now or utcnow()
    with db.writer() as session:
        if unit is not None and session.scalar(select(Unit.id).where(Unit.name == unit)) is None:
            raise InvalidInput(f"单位表中没有「{unit}」：请先用 `yuqing units import` 导入单位")
        if session.scalar(select(Account.id).where(Account.name == name)) is not None:
            raise InvalidInput(f"账号 {name} 已存在")
        account = Account(
            name=name, display_name=display_name or name, role=role, unit=unit, password_hash=password_hasher.hash(password),
            disabled=False, created_at=now, updated_at=now, password_changed_at=now,
        )  # fmt: skip
        session.add(account)
        session.flush()
    return account, password


def get_account(db: Database, name: str) -> Account:
    with db.reader() as session:
        account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise AccountNotFound(f"没有账号 {name}")
    return account


def list_accounts(db: Database) -> list[Account]:
    with db.reader() as session:
        return list(session.scalars(select(Account).order_by(Account.role, Account.unit, Account.name)))


def disable_account(db: Database, name: str, *, now: datetime | None = None) -> Account:
    """Disable the account and end its sessions; it can no longer sign in."""
    with db.writer() as session:
        account = session.scalar(select(Account).where(Account.name == name))
        if account is None:
            raise AccountNotFound(f"没有账号 {name}")
        account.disabled = True
        account.updated_at = now or utcnow()
        session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    return account


def reset_password(db: Database, name: str, password: str | None = None, *, now: datetime | None = None) -> tuple[Account, str]:
    """Give the account a new password (generated when none is given) and end all its sessions."""
    if password is None:
        password = generate_password()
    _check_password(password)
    now = now or utcnow()
    with db.writer() as session:
        account = session.scalar(select(Account).where(Account.name == name))
        if account is None:
            raise AccountNotFound(f"没有账号 {name}")
        account.password_hash = password_hasher.hash(password)
        account.password_changed_at = account.updated_at = now
        session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    return account, password


def bootstrap_unit_accounts(db: Database, units: list[tuple[str, str]], *, now: datetime | None = None) -> BootstrapSummary:
    """One unit-member account (login name = the unit's name) for each ``(name, kind)`` that handles cases and has none."""
    summary = BootstrapSummary()
    with db.reader() as session:
        known = set(session.scalars(select(Unit.name)))
        covered = set(session.scalars(select(Account.unit).where(Account.role == "unit")))
        taken = set(session.scalars(select(Account.name)))
    for name, kind in units:
        if kind not in CASE_UNIT_KINDS:
            continue
        if name not in known:
            summary.missing.append(name)
        elif name in covered or name in taken:
            summary.existing.append(name)
        else:
            summary.created.append(add_account(db, name, role="unit", unit=name, display_name="经办人", now=now))
    return summary


# --- sign-in ------------------------------------------------------------------------------------

# Verifying against this when the name is unknown makes "no such account" cost as long as "wrong password".
_DUMMY_HASH = password_hasher.hash(secrets.token_urlsafe(16))


def _wait_text(seconds: float) -> str:
    minutes = max(1, int(seconds // 60) + (1 if seconds % 60 else 0))
    return f"{minutes} 分钟"


def check_login_allowed(db: Database, settings: Settings, name: str, client: str, *, now: datetime | None = None) -> None:
    """``LoginThrottled`` while the name or the client address has too many recent failures."""
    now = now or utcnow()
    since = now - timedelta(seconds=settings.web_login_window_s)
    limits = (
        (LoginFailure.name == name, settings.web_login_max_failures),
        (LoginFailure.client == client, settings.web_login_max_failures_per_client),
    )
    with db.reader() as session:
        for condition, limit in limits:
            times = list(
                session.scalars(
                    select(LoginFailure.at)
                    .where(condition, LoginFailure.at > since)
                    .order_by(LoginFailure.at.desc())
                    .limit(limit)
                )
            )
            if len(times) >= limit:
                # The wait ends when the oldest of the last ``limit`` failures leaves the window.
                wait = times[-1] + timedelta(seconds=settings.web_login_window_s) - now
                raise LoginThrottled(f"登录失败次数过多，请 {_wait_text(wait.total_seconds())}后再试。")


def authenticate(
    db: Database, settings: Settings, name: str, password: str, *, client: str, now: datetime | None = None
) -> Account:
    """The account, if ``password`` is its password and it may sign in; ``LoginRefused`` otherwise (failures are counted)."""
    now = now or utcnow()
    name = name.strip()
    check_login_allowed(db, settings, name, client, now=now)
    with db.reader() as session:
        account = session.scalar(select(Account).where(Account.name == name))
    verified = False
    if len(password) <= MAX_PASSWORD_CHARS:
        try:
            password_hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
            verified = account is not None
        except (VerificationError, InvalidHashError):
            pass
    if not verified or account is None:
        with db.writer() as session:
            # Failures older than the window count no more: forget them as new ones come.
            session.execute(delete(LoginFailure).where(LoginFailure.at <= now - timedelta(seconds=settings.web_login_window_s)))
            session.add(LoginFailure(at=now, name=name[:100], client=client[:64]))
        raise LoginRefused("账号或密码不正确。")
    if account.disabled:
        raise LoginRefused("该账号已停用，请联系舆情中心。")
    with db.writer() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.name == name))
        if password_hasher.check_needs_rehash(account.password_hash):
            stored = session.get(Account, account.id)
            if stored is not None:
                stored.password_hash = password_hasher.hash(password)
                account = stored
    return account
