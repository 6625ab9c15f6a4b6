"""The sample county's items as the events stage sees them, with their ``story`` labels (the true incidents).

The items the analysis would group (relevant to the county, not excluded by
the demo risk library), each with the topic keys and word counts the
analyze stage gives it: the same inputs as ``analysis.grouping`` builds
from the database, without a database. Used by the grouping tests and by
``bench/quality.py`` to score grouping against the stories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from yuqing_core.demo import County, item_time
from yuqing_core.events import GroupItem, count_words
from yuqing_core.risk.library import CompiledLibrary, grouping_keys
from yuqing_core.rules import MatchText

# A fixed day, so the demo's relative dates give the same times in every run.
DEMO_TODAY = date(2026, 11, 28)


@dataclass(frozen=True)
class StoryItem:
    key: str  # the item's id in county.yaml
    story: str | None
    item: GroupItem


def county_group_items(county: County, library: CompiledLibrary, today: date = DEMO_TODAY) -> list[StoryItem]:
    """The county's relevant, not excluded items, in ``(published_at, id)`` order, numbered from 1 in file order."""
    entries = county.items
    documents = [MatchText(title=e.get("title") or "", text=e.get("text") or "", source=e["source"]) for e in entries]
    verdicts = library.judge_many(documents)
    kept = [
        (number, e, v) for number, (e, v) in enumerate(zip(entries, verdicts, strict=True), 1) if v.relevant and not v.excluded
    ]
    # Word counts as the match step stores them: title and text, the library's terms kept whole.
    counts = count_words([f"{e.get('title') or ''} {e.get('text') or ''}" for _, e, _ in kept], library.ruleset.terms)
    found = []
    for (number, entry, verdict), counted in zip(kept, counts, strict=True):
        places = {
            hit.term
            for key, match in verdict.matches
            if library.meta[key].kind == "region"
            for hit in match.hits
            if hit.term in library.specific_places
        }
        item = GroupItem(
            item_id=number,
            published_at=item_time(entry, today),
            url=entry.get("link"),
            title=entry.get("title") or "",
            text=entry.get("text") or "",
            source=entry["source"],
            topic_keys=grouping_keys(verdict.risk_points, places, library.spec),
            word_counts=counted["words"],
        )
        found.append(StoryItem(entry["id"], entry.get("story"), item))
    found.sort(key=lambda s: (s.item.published_at, s.item.item_id))
    return found
