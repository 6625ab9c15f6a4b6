"""The case state machine: states, actions, and which action may follow which state.

::

    listed 列单 --dispatch--> dispatched 派单 --ack--> acknowledged 签收 --start--> handling 办单
    handling --return--> returned 交单 --close--> closed 办结 --reopen--> reopened 重新办理 --start--> handling
    returned --send_back--> sent_back 退回 --start--> handling
    any open state --cancel(reason)--> cancelled 撤销

Extensions do not change the state: ``extend`` asks for a later deadline
(only before the current one), ``grant`` or ``refuse`` decides it.
"""

from __future__ import annotations

from dataclasses import dataclass

from yuqing_core.errors import InvalidInput

STATE_LABELS = {
    "listed": "列单",
    "dispatched": "派单",
    "acknowledged": "签收",
    "handling": "办单",
    "returned": "交单",
    "sent_back": "退回",
    "closed": "办结",
    "reopened": "重新办理",
    "cancelled": "撤销",
}
OPEN_STATES = ("dispatched", "acknowledged", "handling", "sent_back", "reopened")  # the unit owes an answer
TERMINAL_STATES = ("closed", "cancelled")


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: the state stays (extensions)
    needs_note: bool = False


ACTIONS = {
    a.name: a
    for a in (
        Action("dispatch", "派单", ("listed",), "dispatched"),
        Action("ack", "签收", ("dispatched",), "acknowledged"),
        Action("start", "开始办理", ("acknowledged", "sent_back", "reopened"), "handling"),
        Action("return", "交单", ("handling",), "returned", needs_note=True),
        Action("close", "办结", ("returned",), "closed"),
        Action("send_back", "退回", ("returned",), "sent_back", needs_note=True),
        Action("reopen", "重新办理", ("closed",), "reopened", needs_note=True),
        Action("cancel", "撤销", ("listed", *OPEN_STATES, "returned"), "cancelled", needs_note=True),
        Action("extend", "申请延期", OPEN_STATES, None, needs_note=True),
        Action("grant", "批准延期", OPEN_STATES, None),
        Action("refuse", "不予延期", OPEN_STATES, None, needs_note=True),
    )
}


class TransitionRefused(InvalidInput):
    """The action does not fit the case's state (or its pending extension); the message names what does."""


def allowed_actions(state: str) -> list[Action]:
    return [action for action in ACTIONS.values() if state in action.sources]


def describe_allowed(state: str) -> str:
    actions = allowed_actions(state)
    if not actions:
        return "无（已结束）"
    return "、".join(f"{a.label}（{a.name}）" for a in actions)


def check(number: str, state: str, action_name: str) -> Action:
    """The action, if it may follow ``state``; ``TransitionRefused`` naming the allowed ones otherwise."""
    action = ACTIONS.get(action_name)
    if action is None:
        raise TransitionRefused(f"未知操作 {action_name!r}（可用：{'、'.join(ACTIONS)}）")
    if state not in action.sources:
        raise TransitionRefused(
            f"{number} 当前状态为「{STATE_LABELS[state]}」，不能「{action.label}」；可执行：{describe_allowed(state)}"
        )
    return action
