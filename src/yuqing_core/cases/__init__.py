"""Supervision cases (督办件): a unit verifies and resolves a matter by a Chinese working-day deadline.

``service`` opens cases and applies actions (state machine in ``states``,
audit trail, optimistic locking); ``calendar`` counts working days (public
holidays and make-up working days from ``chinesecalendar``); ``tracking``
sends reminders, overdue notices and reprimand listings once each;
``metrics`` feeds the daily report.
"""

from yuqing_core.cases.config import CasePolicy, load_policy
from yuqing_core.cases.service import (
    UNIT_ACTIONS,
    ActionNotPermitted,
    CaseConflict,
    CaseNotFound,
    Origin,
    act,
    check_unit_may_act,
    event_of_case,
    get_case,
    history,
    list_cases,
    one_plus_three,
    open_case,
    origin_of,
    record_decision,
)
from yuqing_core.cases.states import ACTIONS, STATE_LABELS, TransitionRefused, allowed_actions

__all__ = [
    "ACTIONS",
    "STATE_LABELS",
    "UNIT_ACTIONS",
    "ActionNotPermitted",
    "CaseConflict",
    "CaseNotFound",
    "CasePolicy",
    "Origin",
    "TransitionRefused",
    "act",
    "allowed_actions",
    "check_unit_may_act",
    "event_of_case",
    "get_case",
    "history",
    "list_cases",
    "load_policy",
    "one_plus_three",
    "open_case",
    "origin_of",
    "record_decision",
]
