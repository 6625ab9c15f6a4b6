"""Analysts' decisions on warnings: acknowledge, downgrade or dismiss, with a reason, kept forever.

The warning row carries the current status and effective level; every
decision is also appended to ``warning_actions`` (who, when, from which
level to which, why), which is never edited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from yuqing_core.db.database import Database
from yuqing_core.db.models import EarlyWarning, EarlyWarningAction
from yuqing_core.errors import InvalidInput
from yuqing_core.levels import Level
from yuqing_core.timeutil import utcnow

ACTIONS = {"acknowledge": "acknowledged", "downgrade": "downgraded", "dismiss": "dismissed"}
# How the CLI and the web name a warning's status and the entries of its history.
STATUS_LABELS = {"open": "待处理", "acknowledged": "已确认", "downgraded": "已降级", "dismissed": "已排除", "merged": "已并入",
                 "resolved": "已办结"}  # fmt: skip
ACTION_LABELS = {"acknowledge": "确认", "downgrade": "降级", "dismiss": "排除", "raise": "等级上调", "change": "新情况",
                 "resolve": "督办办结", "reopen": "督办重新办理"}  # fmt: skip


class DecisionRefused(InvalidInput):
    """The decision does not fit the warning (unknown id, empty reason, a downgrade that is not one)."""


def decide(
    db: Database,
    warning_id: int,
    action: str,
    *,
    actor: str,
    reason: str,
    to_level: int | None = None,
    now: datetime | None = None,
) -> EarlyWarning:
    """Record ``action`` on a warning. ``to_level`` is required for a downgrade (a less severe level)."""
    if action not in ACTIONS:
        raise DecisionRefused(f"未知操作 {action!r}（可用：acknowledge、downgrade、dismiss）")
    if not reason or not reason.strip():
        raise DecisionRefused("必须写明理由")
    now = now or utcnow()
    with db.writer() as session:
        warning = session.scalar(select(EarlyWarning).where(EarlyWarning.id == warning_id).with_for_update())
        if warning is None:
            raise DecisionRefused(f"没有编号为 {warning_id} 的预警")
        from_level = warning.effective_level
        if action == "downgrade":
            if to_level is None or not from_level < to_level <= 4:
                allowed = "、".join(Level(level).label for level in range(from_level + 1, 5)) or "无（已是最低级）"
                raise DecisionRefused(f"降级后的级别应低于当前的{Level(from_level).label}，可选：{allowed}")
            warning.effective_level = to_level
        warning.status = ACTIONS[action]
        warning.updated_at = now
        session.add(
            EarlyWarningAction(
                warning_id=warning.id,
                action=action,
                actor=actor,
                reason=reason.strip(),
                from_level=from_level,
                to_level=warning.effective_level,
                created_at=now,
            )
        )
        return warning


def history(db: Database, warning_id: int) -> list[EarlyWarningAction]:
    with db.reader() as session:
        return list(
            session.scalars(
                select(EarlyWarningAction).where(EarlyWarningAction.warning_id == warning_id).order_by(EarlyWarningAction.id)
            )
        )
