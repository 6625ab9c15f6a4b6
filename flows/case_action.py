"""The case-action flow: record what a unit or the office did on a supervision case.

For operators who record a unit's answer from the Prefect UI's run form: the
parameters are typed, and the action is one of the case state machine's
(a refused transition fails the run with the reason and the allowed actions)::

    prefect deployment run 'case-action/ui' --param case_number='督〔2026〕17号' --param action=return \\
        --param unit=县应急管理局 --param answer='经核查，异味系企业储罐检修所致，已整改。'

Who acted is not a parameter anyone can type. The audit row records the
Prefect API account the worker authenticates with (the user part of
``PREFECT_API_AUTH_STRING``), on behalf of ``unit``, with the flow run's id
in its details: ``Prefect 账号 yuqing（代 县应急管理局）``; a worker without
a credential is recorded as ``Prefect（未认证）``. Everyone who holds that
credential shares the account, so the row tells which run did it, not which
person pressed Run; per-person accounts come with the web workbench.

``unit`` is whom the action is taken for: required for the unit actions
(ack, start, return, extend), and it must be the case's lead unit or a
co-unit; empty (or the office's own name, ``YUQING_OFFICE_NAME``) for the
office's actions (dispatch, close, send_back, reopen, cancel, grant, refuse).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from prefect import flow
from prefect.runtime import flow_run
from prefect.settings import get_current_settings
from prefect.states import Completed, Failed, State

from tasks.cases import record_action
from yuqing_core.cases import UNIT_ACTIONS
from yuqing_core.config import get_settings
from yuqing_core.office import load_office

CaseAction = Literal["dispatch", "ack", "start", "return", "close", "send_back", "reopen", "cancel", "extend", "grant", "refuse"]
UNAUTHENTICATED = "Prefect（未认证）"


def prefect_account() -> str | None:
    """The account of this process's Prefect API credential (``user`` of ``user:password``), or None without one."""
    credential = get_current_settings().api.auth_string
    value = credential.get_secret_value() if credential is not None else ""
    return value.partition(":")[0] or None


def recorded_actor(account: str | None, unit: str | None) -> str:
    """What the audit row says did it.

    >>> recorded_actor("yuqing", "县应急管理局")
    'Prefect 账号 yuqing（代 县应急管理局）'
    >>> recorded_actor(None, None)
    'Prefect（未认证）'
    """
    who = f"Prefect 账号 {account}" if account else UNAUTHENTICATED
    return who + (f"（代 {unit}）" if unit else "")


@flow(name="case-action", flow_run_name="{action}-{case_number}")
def case_action(
    case_number: str,
    action: CaseAction,
    unit: str | None = None,
    note: str | None = None,
    answer: str | None = None,
    until: datetime | None = None,
    expected_version: int | None = None,
) -> State:
    """Apply ``action`` to the case ``case_number`` (e.g. 督〔2026〕17号) for ``unit`` (empty: the office)."""
    acting_for = (unit or "").strip() or None
    if acting_for == load_office(get_settings()).name:
        acting_for = None
    if action in UNIT_ACTIONS and acting_for is None:
        return Failed(message=f"「{action}」是单位的操作：请在 unit 中填写牵头或配合单位的名称")
    actor = recorded_actor(prefect_account(), acting_for)
    result = record_action(
        case_number, action, actor, note, answer, until, expected_version,
        on_behalf_of=acting_for, details={"flow_run_id": str(flow_run.get_id())},
    )  # fmt: skip
    return Completed(message=f"{result['case']}：{result['state']}", data=result)
