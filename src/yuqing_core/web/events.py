"""The office's event pages: the day's events, risk first, and one event with why it is judged as it is.

The event page shows what ``yuqing events show`` prints -- the score with its
named parts, the 快速回应 timing, every item with its stance and its matched
terms, the merge history -- plus the spread by source and by hour as inline
SVG (``reports.charts``; no script). A large event's timeline comes 100 items a page,
the first published first; its charts count every item (``event_spread``). Matched terms are marked from the stored
offsets: the item's text is escaped like any other, only the marks are ours.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from yuqing_core.analysis.merging import (
    EventNotFound,
    describe_history,
    describe_separation,
    merge_history,
    resolve_event_id,
    separations_of,
)
from yuqing_core.analysis.queries import (
    ExplainedItem,
    event_item_ids,
    event_spread,
    explain_items,
    get_event,
    list_events,
)
from yuqing_core.cases.assessments import (
    EDITABLE_STATES,
    MEETING_KINDS,
    PART_LABELS,
    PARTS,
    event_facts,
    list_assessments,
    list_meetings,
    suggested_parts,
)
from yuqing_core.cases.assessments import STATE_LABELS as ASSESSMENT_STATES
from yuqing_core.levels import Level
from yuqing_core.reports.charts import hour_chart, source_chart
from yuqing_core.reports.data import counts_of, day_window, hour_counts
from yuqing_core.risk.explain import judgement_of
from yuqing_core.risk.stance import STANCE_LABELS, explain_stance
from yuqing_core.rules import TermHit, marked_segments, snippet_segments
from yuqing_core.timeutil import utcnow
from yuqing_core.web.app import workbench
from yuqing_core.web.assessments import DONE
from yuqing_core.web.office import Office

router = APIRouter()

MAX_EVENTS_PER_DAY = 200
# The timeline shows this many items a page: an event may hold thousands (the charts still count them all).
TIMELINE_PER_PAGE = 100


@dataclass(frozen=True)
class TimelineEntry:
    item: ExplainedItem
    link: str | None  # the item's address, when it is a web address
    stance: str
    stance_detail: str
    title: list[tuple[str, bool]]  # runs of the title, marked where a term matched
    text: list[tuple[str, bool]]  # the text around its matches
    matched: list[tuple[str, str]]  # (risk point, its matched terms)


def web_link(url: str | None) -> str | None:
    """Only http(s) addresses become links (never ``javascript:`` or ``data:``).

    >>> web_link("https://bbs.example.org/t/1"), web_link("javascript:alert(1)"), web_link(None)
    ('https://bbs.example.org/t/1', None, None)
    """
    return url if url and url.lower().startswith(("http://", "https://")) else None


def timeline_entry(item: ExplainedItem) -> TimelineEntry:
    hits = [TermHit(h["term"], h["field"], h["start"], h["end"]) for _, _, found in item.matches for h in found]
    matched = [(label, "、".join(sorted({h["term"] for h in found}))) for kind, label, found in item.matches if kind == "risk"]
    return TimelineEntry(
        item, web_link(item.url), STANCE_LABELS.get(item.stance or "", "未判定"), explain_stance(item.stance, item.stance_reason),
        marked_segments(item.title, hits, "title"), snippet_segments(item.text, hits, "text"), matched,
    )  # fmt: skip


def _event_url(event_id: int) -> str:
    return f"/events/{event_id}"


@router.get("/events")
def events_of_day(request: Request, signed: Office, day: str = "") -> Response:
    """The day's events (last seen that local day; today by default), the highest risk score first."""
    wb = workbench(request)
    today = utcnow().astimezone(wb.settings.tz).date()
    try:
        chosen = date.fromisoformat(day) if day else today
    except ValueError:
        chosen = today
    start, end = day_window(chosen, wb.settings.tz)
    events = list_events(wb.db, since=start, until=end, limit=MAX_EVENTS_PER_DAY)
    rows = [(event, Level.label_of(event.level, "未达预警")) for event in events]
    return wb.render(request, "office_events.html", rows=rows, day=chosen, today=today)


@router.get("/events/{event_id}")
def event_page(request: Request, event_id: int, signed: Office, page: int = 1) -> Response:
    """One event, its timeline 100 items a page (``?page=``); an event merged into another sends the browser to
    the survivor."""
    wb = workbench(request)
    try:
        live = resolve_event_id(wb.db, event_id)
    except EventNotFound:
        raise HTTPException(status_code=404) from None
    if live != event_id:
        return RedirectResponse(f"{_event_url(live)}?merged_from={event_id}", status_code=303)
    event = get_event(wb.db, live)
    if event is None:
        raise HTTPException(status_code=404)
    tz = wb.settings.tz
    page = max(1, page)
    ids = event_item_ids(wb.db, live, offset=(page - 1) * TIMELINE_PER_PAGE, limit=TIMELINE_PER_PAGE + 1)
    items = explain_items(wb.db, ids[:TIMELINE_PER_PAGE])
    spread = event_spread(wb.db, live)
    judgement = judgement_of(event)
    charts: dict[str, Markup] = {
        "source": source_chart(counts_of(Counter(source for source, _ in spread), len(spread))).svg(),
        "hour": hour_chart(hour_counts((published for _, published in spread), tz), tz=tz).svg(),
    }
    merged_from = request.query_params.get("merged_from", "")
    assessments = list_assessments(wb.db, live)
    editable = next((row for row in assessments if row.state in EDITABLE_STATES), None)
    facts = event_facts(event, tz)
    context: dict[str, Any] = {
        "event": event, "judgement": judgement, "response_lines": judgement.response_lines(tz),
        "timeline": [timeline_entry(item) for item in items], "charts": charts,
        "hot_words": [word for word, _weight in event.hot_words],
        "merges": [describe_history(entry, tz) for entry in merge_history(wb.db, live)],
        "separations": [describe_separation(*s) for s in separations_of(wb.db, live)],
        "merged_from": int(merged_from) if merged_from.isdigit() else None,
        "page": page, "first_number": (page - 1) * TIMELINE_PER_PAGE + 1, "total": len(spread),
        "assessments": assessments, "editable": editable, "facts": facts,
        "form": {name: getattr(editable, name) for name in PARTS} if editable else suggested_parts(facts),
        "part_labels": PART_LABELS, "assessment_states": ASSESSMENT_STATES, "meetings": list_meetings(wb.db, live),
        "meeting_kinds": MEETING_KINDS, "assessment_done": DONE.get(request.query_params.get("assessment", "")),
        "assessment_error": request.query_params.get("assessment_error", "")[:300],
        "previous": f"{_event_url(live)}?page={page - 1}" if page > 1 else None,
        "next": f"{_event_url(live)}?page={page + 1}" if len(ids) > TIMELINE_PER_PAGE else None,
    }  # fmt: skip
    return wb.render(request, "office_event.html", **context)
