"""Spike detection against a baseline, and the counts that feed it."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from yuqing_core.events import SpikeResult, daily_counts, hourly_counts, spike_test
from yuqing_core.events._spikes import negative_binomial_upper_tail, poisson_upper_tail

SHANGHAI = ZoneInfo("Asia/Shanghai")


def poisson_tail_by_hand(k: int, rate: float) -> float:
    return 1.0 - sum(math.exp(-rate) * rate**i / math.factorial(i) for i in range(k))


@pytest.mark.parametrize(("k", "rate"), [(0, 1.0), (1, 0.5), (3, 0.5), (10, 2.0), (20, 5.0), (7, 7.0)])
def test_poisson_tail_is_the_textbook_sum(k: int, rate: float) -> None:
    assert poisson_upper_tail(k, rate) == pytest.approx(poisson_tail_by_hand(k, rate), rel=1e-9, abs=1e-15)


def test_negative_binomial_tail_matches_scipy_stats_and_tends_to_poisson() -> None:
    from scipy.stats import nbinom

    mean, dispersion = 4.0, 2.5
    p = dispersion / (dispersion + mean)
    for k in (1, 4, 10, 25):
        assert negative_binomial_upper_tail(k, mean, dispersion) == pytest.approx(nbinom.sf(k - 1, dispersion, p), rel=1e-9)
    assert negative_binomial_upper_tail(10, 4.0, 1e7) == pytest.approx(poisson_upper_tail(10, 4.0), rel=1e-4)


def test_textbook_spike() -> None:
    result = spike_test([2] * 14, 10)
    assert result == SpikeResult(True, 10, 2.0, pytest.approx(4.6498e-05, rel=1e-3), 5.0, "poisson")


@pytest.mark.parametrize(
    ("baseline", "current", "spike"),
    [
        ([5] * 14, 7, False),  # within noise
        ([5] * 14, 15, True),
        ([0] * 14, 2, False),  # a silent topic: two mentions are below min_count
        ([0] * 14, 3, False),  # P(X>=3 | 0.5) = 0.014: not below alpha
        ([0] * 14, 4, True),
        ([], 4, True),  # no history: only min_baseline_rate to go on
        ([20, 22, 19, 21, 20, 18, 23, 20, 21, 19, 22, 20, 21, 20], 34, True),
        ([20, 22, 19, 21, 20, 18, 23, 20, 21, 19, 22, 20, 21, 20], 29, False),
    ],
)
def test_spike_decisions(baseline: list[int], current: int, spike: bool) -> None:
    assert spike_test(baseline, current).is_spike is spike


def test_a_past_spike_in_the_baseline_does_not_mask_the_next_one() -> None:
    quiet = [1, 0, 2, 1, 0, 1, 3, 0, 1, 2, 0, 1, 1, 1]
    with_spike = [*quiet[:-2], 40, 1]
    result = spike_test(with_spike, 8)
    assert result.is_spike and result.expected == pytest.approx(np.mean(sorted(with_spike)[:-1]))
    # Two spike days in a row are both left out (generalized ESD, not one at a time).
    two = [3, 2, 4, 3, 50, 45, 3, 2, 4, 3, 2, 3, 4, 3]
    result = spike_test(two, 12)
    assert result.is_spike and result.expected == pytest.approx(3.0)


def test_overdispersed_history_needs_a_bigger_jump() -> None:
    steady = [5] * 14
    erratic = [0, 10, 1, 9, 0, 11, 2, 8, 0, 10, 1, 9, 0, 4]  # same mean, far more spread
    steady_result, erratic_result = spike_test(steady, 14), spike_test(erratic, 14)
    assert steady_result.statistic == "poisson" and erratic_result.statistic == "negative_binomial"
    assert steady_result.is_spike and not erratic_result.is_spike
    assert erratic_result.p_value > steady_result.p_value


def test_sensitivity_is_alpha_and_min_count() -> None:
    baseline = [2] * 14
    assert spike_test(baseline, 7).is_spike  # P(X >= 7 | 2) = 0.0045
    assert not spike_test(baseline, 7, alpha=0.001).is_spike
    assert not spike_test(baseline, 8, alpha=0.001).is_spike  # 0.0011
    assert spike_test(baseline, 9, alpha=0.001).is_spike  # 0.00024
    assert not spike_test([0] * 14, 4, min_count=5).is_spike


def test_false_alarm_rate_on_poisson_noise_is_about_alpha() -> None:
    rng = np.random.default_rng(20261128)
    for rate in (1.0, 5.0, 20.0):
        trials = 3000
        alarms = sum(spike_test(rng.poisson(rate, 14).tolist(), int(rng.poisson(rate))).is_spike for _ in range(trials))
        assert alarms / trials < 0.02, rate


def test_spike_test_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        spike_test([1, -1], 3)
    with pytest.raises(ValueError):
        spike_test([1], 3, alpha=0)
    with pytest.raises(ValueError):
        spike_test([1], -2)


# --- counts -----------------------------------------------------------------------------


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_daily_counts_use_shanghai_days() -> None:
    stamps = [
        at(27, 0, 0),  # first instant of 27 Nov in Shanghai
        datetime(2026, 11, 26, 15, 59, tzinfo=UTC),  # 23:59 on 26 Nov in Shanghai
        at(27, 23, 59),
        at(25, 12),
        at(28, 0, 0),  # at end: excluded
        at(10, 12),  # before the first day: ignored
    ]
    assert daily_counts(stamps, end=at(28, 0), days=3) == [1, 1, 2]
    # "now" in the afternoon: the last day is today so far.
    assert daily_counts([*stamps, at(28, 9)], end=at(28, 15), days=2) == [2, 2]


def test_hourly_counts() -> None:
    stamps = [at(27, 9, 0), at(27, 9, 59), at(27, 10, 30), at(27, 7, 5), datetime(2026, 11, 27, 2, 15, tzinfo=UTC)]
    # 02:15 UTC is 10:15 in Shanghai.
    assert hourly_counts(stamps, end=at(27, 11), hours=4) == [1, 0, 2, 2]
    assert hourly_counts(stamps, end=at(27, 10, 45), hours=2) == [2, 2]


def test_counts_refuse_naive_times() -> None:
    with pytest.raises(ValueError):
        daily_counts([datetime(2026, 11, 27)], end=at(28, 0), days=3)
    with pytest.raises(ValueError):
        hourly_counts([], end=datetime(2026, 11, 27), hours=3)


def test_counts_feed_spike_test() -> None:
    end = at(28, 0)
    quiet = [end - timedelta(days=d, hours=5) for d in range(1, 15) for _ in range(2)]
    burst = [end - timedelta(hours=h) for h in range(1, 13)]
    counts = daily_counts(quiet + burst, end=end, days=15)
    assert counts == [2] * 14 + [12]
    assert spike_test(counts[:-1], counts[-1]).is_spike
