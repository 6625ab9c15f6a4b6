"""The leaders' page (phone first, read-only): the day's and the week's figures, open warnings, incidents and their
response timing, cases by unit, the trend chart of the daily report, and the open cases.

Leaders and the office see it (``desk.leader``); a unit gets 404. ``?day=2026-11-27`` shows an earlier day, with
the same figures as that day's 舆情日报.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from yuqing_core.accounts import SignedIn
from yuqing_core.accounts.access import may_use, open_cases_overview
from yuqing_core.reports import charts
from yuqing_core.reports.dashboard import leader_dashboard
from yuqing_core.timeutil import utcnow
from yuqing_core.web.app import workbench
from yuqing_core.web.auth import signed_in
from yuqing_core.web.views import desk_rows

router = APIRouter()


def _chosen_day(text: str | None, today: date) -> date:
    """The day asked for, if it is a date not after today; otherwise today."""
    try:
        day = date.fromisoformat(text.strip()) if text else today
    except ValueError:
        return today
    return min(day, today)


@router.get("/leader")
def leader_dashboard_page(request: Request, signed: Annotated[SignedIn, Depends(signed_in)], day: str | None = None) -> Response:
    wb = workbench(request)
    if not may_use(signed.account, "desk.leader"):
        raise HTTPException(status_code=404)
    now = utcnow()
    today = now.astimezone(wb.settings.tz).date()
    chosen = _chosen_day(day, today)
    board = leader_dashboard(wb.db, wb.settings, chosen, now=now)
    rows = desk_rows(wb.policy, open_cases_overview(wb.db, signed.account), now, wb.settings.tz)
    return wb.render(
        request, "leader.html", board=board, rows=rows, is_today=chosen == today,
        previous_day=chosen - timedelta(days=1), next_day=chosen + timedelta(days=1) if chosen < today else None,
        trend_svg=charts.trend_chart(board.trend).svg(),
    )  # fmt: skip
