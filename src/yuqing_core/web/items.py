"""The office's item search (a term anywhere in title or text, by source, risk point and dates, newest first)
the sources' health (``yuqing sources list``, troubled sources first), and the reports archive.

A two-character Chinese term (``讨薪``) is a substring match like any other
(``analysis.queries.search_items``: ILIKE on PostgreSQL, with the trigram
indexes of migration 0012 where they exist; LIKE on SQLite). The term is
marked in each result from where it was found, the item's text escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response

from yuqing_core.accounts import record_audit
from yuqing_core.analysis.queries import FoundItem, search_items
from yuqing_core.collect.sources import list_sources, role_label
from yuqing_core.collect.summary import needs_attention, source_state
from yuqing_core.reports.archive import archived_reports, report_file
from yuqing_core.reports.data import day_window
from yuqing_core.risk.versions import NoActiveLibrary, active_library
from yuqing_core.rules import TermHit, marked_segments, snippet_segments
from yuqing_core.web.app import workbench
from yuqing_core.web.auth import client_address
from yuqing_core.web.events import web_link
from yuqing_core.web.office import Office

router = APIRouter()

ITEMS_PER_PAGE = 50


@dataclass(frozen=True)
class SearchResult:
    item: FoundItem
    link: str | None
    title: list[tuple[str, bool]]
    text: list[tuple[str, bool]]


def term_hits(text: str, term: str, field: str) -> list[TermHit]:
    """Where ``term`` occurs in ``text``, ignoring case (as the search did).

    >>> [(h.start, h.end) for h in term_hits("讨薪，又讨薪", "讨薪", "text")]
    [(0, 2), (4, 6)]
    """
    folded, needle = text.casefold(), term.casefold()
    if not needle or len(folded) != len(text):  # a fold that changes lengths would shift the offsets: no marks
        return []
    hits, start = [], folded.find(needle)
    while start >= 0:
        hits.append(TermHit(term, field, start, start + len(needle)))
        start = folded.find(needle, start + len(needle))
    return hits


def search_result(item: FoundItem, term: str) -> SearchResult:
    title_hits, text_hits = term_hits(item.title, term, "title"), term_hits(item.text, term, "text")
    return SearchResult(item, web_link(item.url), marked_segments(item.title, title_hits, "title"),
                        snippet_segments(item.text, text_hits, "text"))  # fmt: skip


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def _risk_points(request: Request) -> list[str]:
    try:
        return [point.name for point in active_library(workbench(request).db).spec.risk_points]
    except NoActiveLibrary:
        return []


@router.get("/items")
def item_search(request: Request, signed: Office, q: str = "", source: str = "", risk_point: str = "", since: str = "",
                until: str = "", page: int = 1) -> Response:  # fmt: skip
    """Items newest first, 50 a page; ``since``/``until`` are local days, both included."""
    wb = workbench(request)
    tz = wb.settings.tz
    page = max(1, page)
    first, last = _day(since), _day(until)
    start = day_window(first, tz)[0] if first else None
    end = day_window(last, tz)[1] if last else None
    found = search_items(wb.db, query=q, source=source or None, risk_point=risk_point or None, since=start, until=end,
                         offset=(page - 1) * ITEMS_PER_PAGE, limit=ITEMS_PER_PAGE + 1)  # fmt: skip
    term = q.strip()
    filters = {"q": q, "source": source, "risk_point": risk_point, "since": since, "until": until}
    kept = {key: value for key, value in filters.items() if value}
    return wb.render(
        request, "office_items.html", results=[search_result(item, term) for item in found[:ITEMS_PER_PAGE]],
        form=filters, page=page, sources=[s.name for s in list_sources(wb.db)], risk_points=_risk_points(request),
        previous=f"/items?{urlencode({**kept, 'page': page - 1})}" if page > 1 else None,
        next=f"/items?{urlencode({**kept, 'page': page + 1})}" if len(found) > ITEMS_PER_PAGE else None,
    )  # fmt: skip


# --- source health -------------------------------------------------------------------------------


@router.get("/sources")
def source_health(request: Request, signed: Office) -> Response:
    """Each source's state, last success, consecutive errors and last error; the troubled ones first."""
    wb = workbench(request)
    sources = sorted(list_sources(wb.db), key=lambda s: (not needs_attention(s), s.name))
    rows = [(s, source_state(s), role_label(s.role, s.role_inferred), needs_attention(s)) for s in sources]
    return wb.render(request, "office_sources.html", rows=rows)


# --- the reports archive -------------------------------------------------------------------------

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@router.get("/reports")
def reports_archive(request: Request, signed: Office) -> Response:
    """The written reports (daily, special, supervision notices …), the newest first, with their HTML and DOCX."""
    wb = workbench(request)
    return wb.render(request, "office_reports.html", reports=archived_reports(wb.settings.effective_reports_dir))


@router.get("/reports/download")
def report_download(request: Request, signed: Office, file: str = "") -> Response:
    """One report file, named relative to the reports folder; anything outside it (or not HTML/DOCX) is 404."""
    wb = workbench(request)
    path = report_file(wb.settings.effective_reports_dir, file)
    if path is None:
        raise HTTPException(status_code=404)
    record_audit(wb.db, account=signed.account, action="report.download", target=file, client=client_address(request))
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix.lower()], filename=path.name,
                        content_disposition_type="attachment", headers={"cache-control": "private, no-store"})  # fmt: skip
