"""Scoring events and grading warnings (预警分级).

An event's score (0..100) adds six documented components:

=============  ==========================================================  =========
component      rule                                                        range
=============  ==========================================================  =========
severity       10 x the highest base severity among the (non-positive)     0..40
               risk points the event touches (1 一般 .. 4 特别重大)
authority      10 x the highest source weight among its sources, capped    0..10
               at 1.0 (provincial media, government sites carry more)
volume         5 x log2(1 + items), capped at 15, plus                     0..20
               2.5 x log2(1 + distinct sources), capped at 5
velocity       4 x items per hour over the last 6 hours, capped at 10       0..10
spike          10 if the event or one of its risk points spikes against     0 or 10
               its own 14-day baseline (``events.spike_test``)
sensitive      10 if its items use words of the library's sensitive         0 or 10
               lexicon (死亡, 中毒, 维权, 堵路 ...)
=============  ==========================================================  =========

Levels (defaults; each library may set its own ``warning_levels``):
IV 一般 (blue) from 40, III 较大 (yellow) from 55, II 重大 (orange) from
70, I 特别重大 (red) from 85. An event that touches no risk point, or only
positive-coverage ones, scores 0 on severity and is never warned.

For example, one forum post (weight 0.5, older than six hours) about a
severity-3 risk point scores 30 + 5 + 5 + 2.5 = 42.5: level IV; the same
post about a severity-2 point (32.5) is recorded but not warned. Thirty posts over eight sources in
a day, provincial media among them, spiking and mentioning 中毒, score about
30 + 10 + 15 + 5 + 5 + 10 + 10 = 85: level I.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_THRESHOLDS = {4: 40.0, 3: 55.0, 2: 70.0, 1: 85.0}


@dataclass(frozen=True)
class EventFacts:
    severity: int  # 0 when no non-positive risk point is touched
    authority: float
    item_count: int
    source_count: int
    velocity_per_h: float
    spike: bool
    sensitive: bool


@dataclass(frozen=True)
class Score:
    total: float
    components: dict[str, float]


def score_event(facts: EventFacts) -> Score:
    """The event's score and how it was made up (kept with every warning)."""
    components = {
        "severity": 10.0 * max(0, min(4, facts.severity)),
        "authority": 10.0 * min(1.0, max(0.0, facts.authority)),
        "volume": min(15.0, 5.0 * math.log2(1 + max(0, facts.item_count)))
        + min(5.0, 2.5 * math.log2(1 + max(0, facts.source_count))),
        "velocity": min(10.0, 4.0 * max(0.0, facts.velocity_per_h)),
        "spike": 10.0 if facts.spike else 0.0,
        "sensitive": 10.0 if facts.sensitive else 0.0,
    }
    components = {name: round(value, 2) for name, value in components.items()}
    total = round(min(100.0, sum(components.values())), 2) if facts.severity > 0 else 0.0
    return Score(total, components)


def level_for(score: float, thresholds: dict[int, float] | None = None) -> int | None:
    """The most severe level whose threshold the score reaches (1 = I ... 4 = IV), or None.

    >>> level_for(42.5), level_for(72), level_for(37.5)
    (4, 2, None)
    """
    thresholds = thresholds or DEFAULT_THRESHOLDS
    for level in (1, 2, 3, 4):
        if score >= thresholds[level]:
            return level
    return None
