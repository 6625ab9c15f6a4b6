"""Spike detection: is this period's count unusually high against the same thing's own history?

The statistic (``spike_test``)
------------------------------
``baseline`` holds the counts of the previous periods at the same
granularity (e.g. the last 14 days, each a whole Asia/Shanghai day), and
``current`` the count of the period under test. The question is one-sided:
how likely is a count of at least ``current`` if nothing unusual happened?

1. **Past spikes out.** A baseline may itself contain spikes (last
   week's incident). The largest counts, at most a quarter of the
   periods, are dropped if they are spikes against the smaller counts at
   level ``outlier_alpha`` (default 0.001, with the tail of step 3; the
   search is Rosner's generalized ESD procedure, so two spike days in a
   row do not hide each other). A clean baseline almost never loses a value
   this way, so the false-alarm rate stays at ``alpha``; a plain trimmed
   mean (always dropping the top 10%) measured about twice ``alpha`` on
   simulated Poisson counts.
2. **Expected rate.** ``λ`` is the mean of what is left, raised to at least
   ``min_baseline_rate`` (default 0.5 per period), so a topic that was
   silent for two weeks does not turn every single mention into a "spike"
   of infinite ratio.
3. **Tail probability.** If the remaining baseline varies no more than a
   Poisson count would (sample variance ≤ mean, or fewer than
   ``MIN_PERIODS_FOR_DISPERSION`` = 7 periods to tell), the p-value is the
   Poisson upper tail ``P(X ≥ current | λ)``. If it varies more
   (overdispersion, usual for online chatter: weekdays differ, news
   cycles), the counts are modelled as negative binomial with mean ``λ``
   and the method-of-moments dispersion ``r = m² / (variance − m)`` (``m``
   the sample mean), and the p-value is that distribution's upper tail.
   Overdispersed histories thus need a larger jump to count as a spike,
   instead of firing every other day.
4. **Decision.** ``is_spike = p_value < alpha and current >= min_count``.

Sensitivity: ``alpha`` and ``min_count`` (default 3: at least three
items, however quiet the history). Simulated with 14-period baselines, the
default ``alpha=0.01`` raised false alarms in 0.8-1.0% of periods on
Poisson counts (rates 1-20), and in about 4% on strongly overdispersed
counts (negative binomial, r = 2-3), whose dispersion fourteen periods pin
down only roughly. Lower ``alpha`` or raise ``min_count`` for fewer,
surer alarms.

Tail probabilities use ``scipy.special`` (SciPy is already installed as a
dependency of datasketch): ``gammainc(k, λ)`` is ``P(X ≥ k)`` for Poisson
``X``, ``betainc(k, r, 1 - p)`` the same for the negative binomial.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from scipy.special import betainc, gammainc

from yuqing_core.timeutil import SHANGHAI

MIN_PERIODS_FOR_DISPERSION = 7

STATISTIC_POISSON = "poisson"
STATISTIC_NEGATIVE_BINOMIAL = "negative_binomial"


@dataclass(frozen=True, slots=True)
class SpikeResult:
    """The outcome of ``spike_test``.

    ``expected`` is the rate λ the current count was compared with,
    ``ratio`` is ``current / expected``, ``statistic`` names the tail used
    (``'poisson'`` or ``'negative_binomial'``).
    """

    is_spike: bool
    current: int
    expected: float
    p_value: float
    ratio: float
    statistic: str


def poisson_upper_tail(current: int, rate: float) -> float:
    """``P(X >= current)`` for ``X ~ Poisson(rate)``.

    >>> round(poisson_upper_tail(10, 2.0), 7)
    4.65e-05
    """
    if current <= 0:
        return 1.0
    return float(gammainc(current, rate))


def negative_binomial_upper_tail(current: int, mean: float, dispersion: float) -> float:
    """``P(X >= current)`` for a negative binomial with this mean and dispersion ``r`` (variance ``mean + mean²/r``)."""
    if current <= 0:
        return 1.0
    p = dispersion / (dispersion + mean)
    return float(betainc(current, dispersion, 1.0 - p))


def _upper_tail(current: int, baseline: Sequence[int], min_baseline_rate: float) -> tuple[float, float, str]:
    """``(p_value, rate, statistic)`` of ``current`` against ``baseline`` (steps 2 and 3)."""
    mean = sum(baseline) / len(baseline) if baseline else 0.0
    rate = max(mean, min_baseline_rate)
    if len(baseline) >= MIN_PERIODS_FOR_DISPERSION and mean > 0:
        variance = sum((count - mean) ** 2 for count in baseline) / (len(baseline) - 1)
        if variance > mean:
            dispersion = mean * mean / (variance - mean)
            return negative_binomial_upper_tail(current, rate, dispersion), rate, STATISTIC_NEGATIVE_BINOMIAL
    return poisson_upper_tail(current, rate), rate, STATISTIC_POISSON


def _without_past_spikes(baseline: Sequence[int], outlier_alpha: float, min_baseline_rate: float) -> list[int]:
    """The baseline without its past spikes (step 1), found like Rosner's generalized ESD test.

    For ``i = 1 .. n // 4`` the ``i``-th largest count is tested against the
    counts below it; the ``k`` largest are dropped for the largest ``i = k``
    that tests significant. Testing each against the counts *below* it
    keeps two spike days in a row from hiding each other.
    """
    ordered = sorted(baseline)
    dropped = 0
    for i in range(1, len(ordered) // 4 + 1):
        rest = ordered[: len(ordered) - i]
        p_value, _, _ = _upper_tail(ordered[len(ordered) - i], rest, min_baseline_rate)
        if p_value < outlier_alpha:
            dropped = i
    return ordered[: len(ordered) - dropped]


def spike_test(
    baseline: Sequence[int],
    current: int,
    *,
    alpha: float = 0.01,
    min_count: int = 3,
    min_baseline_rate: float = 0.5,
    outlier_alpha: float = 0.001,
) -> SpikeResult:
    """Is ``current`` a spike against ``baseline``? See the module docstring for the statistic.

    >>> spike_test([2] * 14, 10).is_spike
    True
    >>> spike_test([5] * 14, 7).is_spike
    False
    >>> r = spike_test([0] * 14, 2)       # silent topic, two mentions: below min_count
    >>> r.is_spike, r.expected
    (False, 0.5)
    >>> spike_test([1, 0, 2, 1, 0, 1, 3, 0, 1, 2, 0, 1, 40, 1], 8).expected   # last week's 40 left out
    1.0
    """
    if current < 0 or any(count < 0 for count in baseline):
        raise ValueError("counts must not be negative")
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be in (0, 1)")
    if not 0.0 <= outlier_alpha < 1.0:
        raise ValueError("outlier_alpha must be in [0, 1)")
    kept = _without_past_spikes(baseline, outlier_alpha, min_baseline_rate)
    p_value, rate, statistic = _upper_tail(current, kept, min_baseline_rate)
    return SpikeResult(
        is_spike=p_value < alpha and current >= min_count,
        current=current,
        expected=rate,
        p_value=p_value,
        ratio=current / rate,
        statistic=statistic,
    )


def _check_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")


def daily_counts(timestamps: Iterable[datetime], *, end: datetime, days: int, tz: tzinfo = SHANGHAI) -> list[int]:
    """Counts per calendar day in ``tz`` for the ``days`` days up to ``end`` (exclusive), oldest first.

    The last element is the day in which the instant just before ``end``
    falls: pass local midnight to get whole days (the usual morning run
    testing yesterday), or "now" to get today so far. Timestamps at or
    after ``end``, or before the first day, are ignored. Use ``counts[:-1]``
    as the baseline and ``counts[-1]`` as the current count.

    >>> from datetime import datetime, timezone
    >>> end = datetime(2026, 11, 28, tzinfo=SHANGHAI)
    >>> seen = [datetime(2026, 11, 27, 23, 30, tzinfo=SHANGHAI), datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc)]
    >>> daily_counts(seen, end=end, days=3)   # 26 Nov 16:00 UTC is 27 Nov 00:00 in Shanghai
    [0, 0, 2]
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    _check_aware(end, "end")
    last_day = (end - timedelta(microseconds=1)).astimezone(tz).date()
    counts = [0] * days
    for timestamp in timestamps:
        _check_aware(timestamp, "timestamps")
        if timestamp >= end:
            continue
        age = (last_day - timestamp.astimezone(tz).date()).days
        if 0 <= age < days:
            counts[days - 1 - age] += 1
    return counts


def hourly_counts(timestamps: Iterable[datetime], *, end: datetime, hours: int, tz: tzinfo = SHANGHAI) -> list[int]:
    """Counts per clock hour in ``tz`` for the ``hours`` hours up to ``end`` (exclusive), oldest first.

    As ``daily_counts``, with hours: the last element is the hour in which
    the instant just before ``end`` falls. For the same-granularity
    baseline of an hourly check use e.g. ``hours=24 * 14 + 1``. Hours are
    whole hours of elapsed time, so a zone with a daylight-saving jump still
    gets equal bins (Asia/Shanghai has none).
    """
    if hours < 1:
        raise ValueError("hours must be at least 1")
    _check_aware(end, "end")
    last_hour = _hour_start(end - timedelta(microseconds=1), tz)
    counts = [0] * hours
    for timestamp in timestamps:
        _check_aware(timestamp, "timestamps")
        if timestamp >= end:
            continue
        age = int((last_hour - _hour_start(timestamp, tz)).total_seconds() // 3600)
        if 0 <= age < hours:
            counts[hours - 1 - age] += 1
    return counts


def _hour_start(value: datetime, tz: tzinfo) -> datetime:
    """The start of the local clock hour, in UTC (so differences are elapsed time)."""
    local = value.astimezone(tz)
    # Flooring in local time respects zones whose offset is not a whole
    # number of hours (e.g. +05:30).
    start = local - timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)
    return start.astimezone(UTC)
