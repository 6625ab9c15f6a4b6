"""How hot an event is: a 0..100 heat score from its size, spread, speed and freshness."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

# Weights of the four growth terms and the scale that maps their sum onto
# 0..100; chosen so that one post scores about 6, ten posts on five
# sources about 50, fifty on a dozen sources about 70 (see heat_score).
_ITEMS_WEIGHT = 0.8
_SOURCES_WEIGHT = 1.2
_WEIGHTED_SOURCES_WEIGHT = 1.0
_VELOCITY_WEIGHT = 0.8
_SCALE = 8.0
HEAT_HALF_LIFE_H = 24.0
VELOCITY_WINDOW = timedelta(hours=6)


def heat_score(
    item_count: int, source_count: int, weighted_sources: float, velocity_per_h: float, hours_since_last: float
) -> float:
    """The event's heat, 0 (cold or empty) to just under 100.

    ::

        growth = 0.8 ln(items) + 1.2 ln(sources) + 1.0 ln(1 + weighted_sources) + 0.8 ln(1 + velocity_per_h)
        heat   = 100 (1 - exp(-growth / 8)) x 0.5 ^ (hours_since_last / 24)

    ``weighted_sources`` is the sum of the weights of the event's distinct
    sources (1.0 an ordinary source, more for provincial media and
    government sites), ``velocity_per_h`` the items per hour over the last
    six hours (``velocity_per_hour``), ``hours_since_last`` the hours since
    its newest item. Logarithms make doubling matter less the bigger an
    event already is; the saturating map keeps the score under 100; the
    heat halves for every 24 hours without a new item. Increasing in every
    input but the last, decreasing in that one.

    >>> round(heat_score(1, 1, 0.5, 1 / 6, 0.0), 1)
    6.4
    >>> round(heat_score(10, 5, 4.0, 1.5, 0.0), 1)
    53.4
    >>> round(heat_score(10, 5, 4.0, 1.5, 24.0), 1)
    26.7
    >>> round(heat_score(300, 40, 40.0, 30.0, 0.0), 1)
    85.5
    """
    if item_count <= 0:
        return 0.0
    growth = (
        _ITEMS_WEIGHT * math.log(item_count)
        + _SOURCES_WEIGHT * math.log(max(1, source_count))
        + _WEIGHTED_SOURCES_WEIGHT * math.log1p(max(0.0, weighted_sources))
        + _VELOCITY_WEIGHT * math.log1p(max(0.0, velocity_per_h))
    )
    decay: float = 0.5 ** (max(0.0, hours_since_last) / HEAT_HALF_LIFE_H)
    return 100.0 * (1.0 - math.exp(-growth / _SCALE)) * decay


def velocity_per_hour(timestamps: Iterable[datetime], *, now: datetime, window: timedelta = VELOCITY_WINDOW) -> float:
    """Items per hour published in the ``window`` (default six hours) up to and including ``now``.

    >>> from datetime import timezone
    >>> now = datetime(2026, 11, 28, 12, tzinfo=timezone.utc)
    >>> velocity_per_hour([now - timedelta(hours=h) for h in (0, 1, 2, 7)], now=now)
    0.5
    """
    if now.tzinfo is None or window <= timedelta(0):
        raise ValueError("now must be timezone-aware and window positive")
    start = now - window
    recent = sum(1 for timestamp in timestamps if start < timestamp <= now)
    return recent / (window.total_seconds() / 3600)
