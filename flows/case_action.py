"""The case-action flow: record what a unit or the office did on a supervision case.

For operators who record a unit's answer from the Prefect UI's run form: the
parameters are typed, and the action is one of the case state machine's
(a refused transition fails the run with the reason and the allowed actions)::

    prefect deployment run 'case-action/ui' --param case_number='督〔2026〕17号' --param action=return \\
        --param actor=县应急管理局 --param answer='经核查，异味系企业储罐检修所致，已整改。'
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from prefect import flow
from prefect.states import Completed, State

from tasks.cases import record_action

CaseAction = Literal["dispatch", "ack", "start", "return", "close", "send_back", "reopen", "cancel", "extend", "grant", "refuse"]


@flow(name="case-action", flow_run_name="{action}-{case_number}")
def case_action(
    case_number: str,
    action: CaseAction,
    actor: str,
    note: str | None = None,
    answer: str | None = None,
    until: datetime | None = None,
    expected_version: int | None = None,
) -> State:
    """Apply ``action`` to the case ``case_number`` (e.g. 督〔2026〕17号) on behalf of ``actor``."""
    result = record_action(case_number, action, actor, note, answer, until, expected_version)
    return Completed(message=f"{result['case']}：{result['state']}", data=result)
