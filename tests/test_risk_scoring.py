"""Scoring events and grading warnings (risk/scoring.py), against expectations worked out by hand.

Each component follows the table in the module's docstring:

    severity   10 x severity (0..4)                     authority  10 x min(1, weight)
    volume     min(15, 5 log2(1 + items)) + min(5, 2.5 log2(1 + sources))
    velocity   min(10, 4 x items per hour)              spike, sensitive  10 each or 0

Every component is rounded to 2 places, the total is the sum of the rounded
components, and an event with no severity totals 0. Levels: IV from 40,
III from 55, II from 70, I from 85.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing_core.risk.library import WarningLevels
from yuqing_core.risk.scoring import DEFAULT_THRESHOLDS, EventFacts, level_for, score_event

COMPONENTS = ["severity", "authority", "volume", "velocity", "spike", "sensitive"]


def facts(
    severity: int = 3,
    authority: float = 0.0,
    item_count: int = 0,
    source_count: int = 0,
    velocity_per_h: float = 0.0,
    spike: bool = False,
    sensitive: bool = False,
) -> EventFacts:
    return EventFacts(severity, authority, item_count, source_count, velocity_per_h, spike, sensitive)


def components(**overrides: object) -> dict[str, float]:
    return score_event(facts(**overrides)).components  # type: ignore[arg-type]


# --- the docstring's worked examples -----------------------------------------------------------


def test_one_forum_post_about_a_severity_3_point_is_level_iv() -> None:
    score = score_event(facts(severity=3, authority=0.5, item_count=1, source_count=1))
    # 30 + 5 + (5 x log2 2 = 5) + (2.5 x log2 2 = 2.5)
    assert score.components == {"severity": 30, "authority": 5, "volume": 7.5, "velocity": 0, "spike": 0, "sensitive": 0}
    assert score.total == 42.5
    assert level_for(score.total) == 4


def test_the_same_post_about_a_severity_2_point_is_not_warned() -> None:
    score = score_event(facts(severity=2, authority=0.5, item_count=1, source_count=1))
    assert score.total == 32.5  # 20 + 5 + 5 + 2.5
    assert level_for(score.total) is None


def test_a_spreading_spiking_sensitive_story_is_level_i() -> None:
    # Thirty posts over eight sources in a day (7.5 in the last six hours), provincial media (1.5) among them.
    score = score_event(
        facts(severity=3, authority=1.5, item_count=30, source_count=8, velocity_per_h=1.25, spike=True, sensitive=True)
    )
    # volume: 5 x log2 31 = 24.8 -> 15, 2.5 x log2 9 = 7.9 -> 5
    assert score.components == {"severity": 30, "authority": 10, "volume": 20, "velocity": 5, "spike": 10, "sensitive": 10}
    assert score.total == 85
    assert level_for(score.total) == 1


# --- each component ------------------------------------------------------------------------------


def test_components_are_the_six_documented_ones_in_order() -> None:
    assert list(components()) == COMPONENTS


@pytest.mark.parametrize(("severity", "points"), [(1, 10), (2, 20), (3, 30), (4, 40), (5, 40), (0, 0), (-1, 0)])
def test_severity_is_ten_per_grade_up_to_four(severity: int, points: float) -> None:
    assert components(severity=severity)["severity"] == points


@pytest.mark.parametrize(("weight", "points"), [(0.0, 0), (0.25, 2.5), (0.5, 5), (1.0, 10), (1.5, 10), (-0.5, 0)])
def test_authority_is_ten_times_the_weight_capped_at_one(weight: float, points: float) -> None:
    assert components(authority=weight)["authority"] == points


@pytest.mark.parametrize(
    ("items", "sources", "points"),
    [
        (0, 0, 0),
        (1, 1, 7.5),  # 5 + 2.5
        (3, 1, 12.5),  # 5 x log2 4 = 10, + 2.5
        (7, 3, 20),  # 5 x log2 8 = 15, 2.5 x log2 4 = 5: both at their caps exactly
        (1000, 1000, 20),  # capped at 15 + 5
        (15, 0, 15),
        (0, 3, 5),
        (2, 2, 11.89),  # 7.9248... + 3.9624... = 11.887..., rounded once, not 7.92 + 3.96
        (-3, -1, 0),
    ],
)
def test_volume_counts_items_and_sources_on_a_log_scale(items: int, sources: int, points: float) -> None:
    assert components(item_count=items, source_count=sources)["volume"] == points


@pytest.mark.parametrize(("per_hour", "points"), [(0, 0), (0.5, 2), (1 / 6, 0.67), (2.5, 10), (40, 10), (-2, 0)])
def test_velocity_is_four_per_item_an_hour_capped_at_ten(per_hour: float, points: float) -> None:
    assert components(velocity_per_h=per_hour)["velocity"] == points


def test_a_spike_and_sensitive_words_add_ten_each() -> None:
    assert (components()["spike"], components(spike=True)["spike"]) == (0, 10)
    assert (components()["sensitive"], components(sensitive=True)["sensitive"]) == (0, 10)
    assert score_event(facts(severity=1, spike=True, sensitive=True)).total == 30  # 10 + 10 + 10


# --- the total -------------------------------------------------------------------------------------


def test_the_total_adds_the_rounded_components() -> None:
    score = score_event(facts(severity=1, item_count=2, source_count=2, velocity_per_h=1 / 6))
    assert score.components == {"severity": 10, "authority": 0, "volume": 11.89, "velocity": 0.67, "spike": 0, "sensitive": 0}
    assert score.total == 22.56


def test_everything_at_its_cap_is_one_hundred() -> None:
    score = score_event(
        facts(severity=9, authority=3, item_count=10**6, source_count=10**4, velocity_per_h=99, spike=True, sensitive=True)
    )
    assert score.components == {"severity": 40, "authority": 10, "volume": 20, "velocity": 10, "spike": 10, "sensitive": 10}
    assert score.total == 100


@pytest.mark.parametrize("severity", [0, -1])
def test_without_a_risk_point_the_total_is_zero_and_never_warned(severity: int) -> None:
    everything = facts(
        severity=severity, authority=1, item_count=500, source_count=50, velocity_per_h=9, spike=True, sensitive=True
    )
    score = score_event(everything)
    assert score.total == 0
    # The components are still worked out, for the record.
    assert score.components == {"severity": 0, "authority": 10, "volume": 20, "velocity": 10, "spike": 10, "sensitive": 10}
    assert level_for(score.total) is None


@given(
    severity=st.integers(-2, 6),
    authority=st.floats(-1, 3, allow_nan=False),
    item_count=st.integers(-5, 10**6),
    source_count=st.integers(-5, 10**4),
    velocity_per_h=st.floats(-1, 100, allow_nan=False),
    spike=st.booleans(),
    sensitive=st.booleans(),
)
def test_the_total_is_between_0_and_100_and_the_sum_of_its_parts(**values: object) -> None:
    score = score_event(facts(**values))  # type: ignore[arg-type]
    assert 0 <= score.total <= 100
    assert all(0 <= points <= cap for points, cap in zip(score.components.values(), [40, 10, 20, 10, 10, 10], strict=True))
    expected = round(sum(score.components.values()), 2) if values["severity"] > 0 else 0  # type: ignore[operator]
    assert score.total == expected


# --- levels ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0, None),
        (39.99, None),
        (40, 4),
        (54.99, 4),
        (55, 3),
        (69.99, 3),
        (70, 2),
        (84.99, 2),
        (85, 1),
        (100, 1),
    ],
)
def test_default_levels_start_at_40_55_70_and_85(score: float, level: int | None) -> None:
    assert level_for(score) == level
    assert level_for(score, DEFAULT_THRESHOLDS) == level


def test_the_library_default_thresholds_are_the_scoring_defaults() -> None:
    assert WarningLevels().by_level() == DEFAULT_THRESHOLDS == {4: 40, 3: 55, 2: 70, 1: 85}


def test_a_library_may_set_its_own_thresholds() -> None:
    stricter = WarningLevels(IV=25, III=40, II=60, I=75).by_level()
    assert [level_for(score, stricter) for score in (24.99, 25, 39.99, 40, 60, 75, 100)] == [None, 4, 4, 3, 2, 1, 1]
    # The same event, graded by the defaults and by the library's own levels.
    score = score_event(facts(severity=3, authority=0.5, item_count=1, source_count=1)).total  # 42.5
    assert (level_for(score), level_for(score, stricter)) == (4, 3)
