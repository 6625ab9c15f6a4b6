"""Signed-in browsers (server-side sessions) and the audit log of what accounts change.

The browser holds a random token; the database holds only its SHA-256, the
account, a CSRF token for the session's forms, and two times: a session
ends when unused for ``web_session_idle_s`` or ``web_session_max_s`` after
sign-in, whichever comes first.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from yuqing_core.config import Settings
from yuqing_core.db.database import Database
from yuqing_core.db.models import Account, AuditEntry, WebSession
from yuqing_core.timeutil import utcnow

TOKEN_BYTES = 32
# last_seen_at is written at most this often, so reading pages does not write on every request.
TOUCH_EVERY_S = 60


@dataclass(frozen=True)
class SignedIn:
    account: Account
    session_id: int
    csrf_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Database, account: Account, *, client: str | None, now: datetime | None = None) -> tuple[str, SignedIn]:
    """A new session for ``account``; returns the token for the cookie (stored nowhere) and the session."""
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = WebSession(token_hash=token_hash(token), account_id=account.id, csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
                     created_at=now, last_seen_at=now, client=(client or "")[:64] or None)  # fmt: skip
    with db.writer() as session:
        session.add(row)
        session.flush()
    return token, SignedIn(account, row.id, row.csrf_token)


def resolve_session(db: Database, settings: Settings, token: str | None, *, now: datetime | None = None) -> SignedIn | None:
    """The live session of ``token``; None (and the row deleted) when unknown, expired, or its account disabled."""
    if not token:
        return None
    now = now or utcnow()
    with db.reader() as session:
        found = session.execute(
            select(WebSession, Account)
            .join(Account, Account.id == WebSession.account_id)
            .where(WebSession.token_hash == token_hash(token))
        ).first()
    if found is None:
        return None
    row, account = found
    idle_end = row.last_seen_at + timedelta(seconds=settings.web_session_idle_s)
    absolute_end = row.created_at + timedelta(seconds=settings.web_session_max_s)
    if account.disabled or now >= idle_end or now >= absolute_end:
        with db.writer() as session:
            session.execute(delete(WebSession).where(WebSession.id == row.id))
        return None
    if (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
        with db.writer() as session:
            stored = session.get(WebSession, row.id)
            if stored is not None:
                stored.last_seen_at = now
    return SignedIn(account, row.id, row.csrf_token)


def end_session(db: Database, token: str) -> None:
    with db.writer() as session:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


def csrf_matches(signed_in: SignedIn, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(signed_in.csrf_token.encode(), (submitted or "").encode())


def record_audit(
    db: Database,
    *,
    account: Account | None,
    action: str,
    target: str | None = None,
    client: str | None = None,
    details: dict[str, Any] | None = None,
    actor_name: str | None = None,
    now: datetime | None = None,
) -> None:
    """One audit row: the account's stored id and name (``actor_name`` only when no account acts: the command line)."""
    name = account.name if account is not None else actor_name
    if not name:
        raise ValueError("an audit row needs an account or, for the command line, the operator's name")
    with db.writer() as session:
        session.add(AuditEntry(at=now or utcnow(), account_id=account.id if account else None, account_name=name[:200],
                               action=action, target=(target or None) and target[:200], client=(client or "")[:64] or None,
                               details=details or {}))  # fmt: skip


def audit_entries(db: Database, *, limit: int = 100) -> list[AuditEntry]:
    with db.reader() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
