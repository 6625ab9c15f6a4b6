"""One risk score per event (risk/scoring.py), against expectations worked out by hand from the table of parts.

    severity    8 x severity (0..4), +5 for sensitive words
    volume      min(20, 5 log2(1 + problem items))
    spread      min(10, 4 log2(sources of problem items))
    velocity    min(8, 3 x problem items per hour in 6 h), +4 for a spike when spread, at most 10
    authority   8 x min(1, highest weight among problem items)
    stance_mix  harm 5, rumour 4, complaint 2, question 1 (cap 15) minus the strongest official answer
                (resolution 30, debunk 15, response 8) and 1 per relayed answer (cap 4)
    response    on time -4, late +4, pending 0, overdue: up one level (at least 10)

Each part is rounded to 2 places; the total is their sum between 0 and 100; no risk point or no
problem item totals 0. Levels: IV from 40, III from 55, II from 70, I from 85.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing_core.risk.library import WarningLevels
from yuqing_core.risk.response import ResponseSpec, WeekdayCalendar
from yuqing_core.risk.scoring import DEFAULT_THRESHOLDS, PART_LABELS, EventFacts, ScoredItem, level_for, score_event

PARTS = ["severity", "volume", "spread", "velocity", "authority", "stance_mix", "response"]
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
LATER = T0 + timedelta(days=3)  # nothing recent: velocity 0


def item(
    stance: str | None, *, source: str = "论坛", role: str = "public", weight: float = 0.4, minutes: float = 0
) -> ScoredItem:
    return ScoredItem(T0 + timedelta(minutes=minutes), source, role, stance, weight)


def score(*items: ScoredItem, severity: int = 3, now: datetime = LATER, **facts: object):
    return score_event(
        EventFacts(severity, "讨薪", tuple(items), **facts),  # type: ignore[arg-type]
        now=now,
        calendar=WeekdayCalendar(),
    )


def points(*items: ScoredItem, **kwargs: object) -> dict[str, float]:
    return score(*items, **kwargs).points()  # type: ignore[arg-type]


# --- the parts -----------------------------------------------------------------------------------


def test_the_parts_are_named_labelled_and_explained_in_order() -> None:
    result = score(item("complaint"))
    assert [p.name for p in result.parts] == PARTS
    assert [p.label for p in result.parts] == [PART_LABELS[name] for name in PARTS]
    assert PART_LABELS["stance_mix"] == "立场构成" and PART_LABELS["response"] == "回应状态"
    assert all(p.detail for p in result.parts)
    assert result.parts_json()[0] == {
        "name": "severity",
        "label": "风险点严重程度",
        "points": 24.0,
        "detail": "风险点“讨薪”严重程度 3（重大）×8",
    }


def test_one_complaint_on_one_forum_is_not_an_incident() -> None:
    result = score(item("complaint"))
    # 24 + 5 + 0 (one source) + 0 + 3.2 + 2
    assert result.points() == {**dict.fromkeys(PARTS, 0.0), "severity": 24, "volume": 5, "authority": 3.2, "stance_mix": 2}
    assert (result.total, result.level) == (34.2, None)


def test_a_lone_harm_report_with_sensitive_words_on_a_grave_point_is_level_iv() -> None:
    result = score(item("harm_report"), severity=4, sensitive_words=("中毒",))
    # 32 + 5 + 5 + 0 + 3.2 + 5
    assert (result.total, result.level) == (50.2, 4)
    assert "出现敏感词 中毒 +5" in result.parts[0].detail


@pytest.mark.parametrize(("problems", "volume"), [(0, 0), (1, 5), (3, 10), (7, 15), (15, 20), (500, 20)])
def test_volume_counts_problem_items_on_a_log_scale(problems: int, volume: float) -> None:
    items = [item("complaint", minutes=i) for i in range(problems)] + [item("positive"), item("debunk", role="media")]
    assert points(*items, severity=3)["volume"] == volume if problems else score(*items).total == 0


@pytest.mark.parametrize(("sources", "spread"), [(1, 0), (2, 4), (4, 8), (6, 10), (40, 10)])
def test_spread_is_zero_for_one_source_and_grows_with_sources(sources: int, spread: float) -> None:
    assert points(*(item("complaint", source=f"s{i}") for i in range(sources)))["spread"] == spread


def test_velocity_counts_the_last_six_hours_and_a_spike_only_once_spread() -> None:
    recent = [item("complaint", source=f"s{i % 2}", minutes=i) for i in range(6)]
    now = T0 + timedelta(hours=1)
    assert points(*recent, now=now)["velocity"] == 3  # 6 items / 6 h = 1 an hour, x 3
    assert points(*recent, now=now, spike=True)["velocity"] == 7
    assert points(item("complaint"), now=now, spike=True)["velocity"] == 0.5  # a lone post does not ride its topic's spike
    many = [item("complaint", source=f"s{i % 2}", minutes=i) for i in range(60)]
    assert points(*many, now=now, spike=True)["velocity"] == 10


def test_authority_weighs_the_problem_items_not_the_official_replies() -> None:
    forum = item("complaint", weight=0.4)
    reply = item("official_response", source="县政府网", role="official", weight=1.0, minutes=30)
    paper = item("complaint", source="云江日报", role="media", weight=1.5)
    assert points(forum)["authority"] == 3.2
    assert points(forum, reply)["authority"] == 3.2  # the government's answer does not make the problem graver
    assert points(forum, paper)["authority"] == 8


def test_official_answers_lower_the_stance_mix_the_strongest_one_counting() -> None:
    complaints = [item("complaint", minutes=i) for i in range(3)]

    def official(stance: str, minutes: float = 60) -> ScoredItem:
        return item(stance, source="县政府网", role="official", weight=1.0, minutes=minutes)

    assert points(*complaints)["stance_mix"] == 6
    assert points(*complaints, official("official_response"))["stance_mix"] == -2
    assert points(*complaints, official("debunk"))["stance_mix"] == -9
    # A resolution lowers markedly, and what was said before it no longer raises.
    resolved = points(*complaints, official("official_response"), official("resolution", 90))
    assert resolved["stance_mix"] == -30
    # Complaints after the resolution still count.
    assert points(*complaints, official("resolution"), item("complaint", minutes=120))["stance_mix"] == -28
    relayed = [item("official_response", source=f"m{i}", role="media", weight=1.0) for i in range(6)]
    assert points(*complaints, *relayed)["stance_mix"] == 2  # 6 - at most 4 for relayed answers


def test_a_resolution_by_an_official_source_takes_a_warned_event_below_every_level() -> None:
    complaints = [item("complaint", source=f"s{i % 4}", weight=1.0, minutes=i) for i in range(9)]
    warned = score(*complaints)
    assert warned.level is not None
    solved = score(*complaints, item("resolution", source="县政府网", role="official", weight=1.0, minutes=120))
    assert solved.level is None and solved.total < warned.total - 25


def test_positive_coverage_and_official_notices_are_not_risk() -> None:
    assert score(item("positive"), item("positive", role="media")).total == 0
    meeting = item("other", source="县政府网", role="official", weight=1.0)  # 召开…部署会
    reply = item("official_response", source="县政府网", role="official", weight=1.0)
    assert score(meeting).total == 0 and score(meeting, reply).total == 0
    assert score(item("complaint"), item("positive", minutes=5)).points()["volume"] == 5


def test_without_a_risk_point_the_total_is_zero_and_never_warned() -> None:
    result = score(*(item("harm_report", source=f"s{i}") for i in range(30)), severity=0)
    assert (result.total, result.level) == (0, None)
    assert result.points()["volume"] == 20  # the parts are still worked out, for the record


# --- response ------------------------------------------------------------------------------------


def test_an_on_time_answer_lowers_a_late_one_raises() -> None:
    complaints = [item("complaint", source=f"s{i % 4}", weight=1.0, minutes=i) for i in range(9)]
    on_time = score(*complaints, item("official_response", source="县政府网", role="official", minutes=60))
    assert on_time.response.status == "on_time" and on_time.points()["response"] == -4
    late = score(*complaints, item("official_response", source="县政府网", role="official", minutes=60 * 30))
    assert late.response.status == "late" and late.points()["response"] == 4
    assert "超时" in late.parts[-1].detail


def test_overdue_raises_the_level_by_one_and_says_so() -> None:
    complaints = [item("complaint", source=f"s{i % 4}", weight=1.0, minutes=i) for i in range(9)]
    pending = score(*complaints, now=T0 + timedelta(hours=1))
    overdue = score(*complaints, now=T0 + timedelta(days=10))
    assert pending.response.status == "pending" and pending.points()["response"] == 0
    assert overdue.response.status == "overdue"
    assert pending.level is not None and overdue.level == pending.level - 1
    assert overdue.points()["response"] >= 10
    assert any(reason.startswith("超过回应时限") and reason.endswith("未见官方回应，等级上调") for reason in overdue.reasons)


def test_targets_come_from_the_library() -> None:
    complaints = [item("complaint", source=f"s{i % 4}", weight=1.0, minutes=i) for i in range(9)]
    answer = item("official_response", source="县政府网", role="official", minutes=60 * 3)  # 3 working hours later
    strict = ResponseSpec.model_validate({"target_hours": {"I": 1, "II": 1, "III": 1, "IV": 1}})
    result = score_event(
        EventFacts(3, "讨薪", (*complaints, answer)), now=LATER, calendar=WeekdayCalendar(), response_spec=strict
    )
    assert result.response.status == "late" and result.response.target_work_h == 1


@given(
    severity=st.integers(-2, 6),
    stances=st.lists(
        st.sampled_from(
            [
                "complaint",
                "question",
                "rumour",
                "harm_report",
                "official_response",
                "debunk",
                "resolution",
                "positive",
                "other",
                None,
            ]
        ),
        max_size=30,
    ),
    roles=st.lists(st.sampled_from(["official", "media", "public", None]), min_size=30, max_size=30),
    weight=st.floats(0.01, 3),
    spike=st.booleans(),
    hours=st.floats(0, 400),
)
def test_the_total_is_between_0_and_100_and_the_sum_of_its_parts(
    severity: int, stances: list[str | None], roles: list[str | None], weight: float, spike: bool, hours: float
) -> None:
    items = [ScoredItem(T0 + timedelta(minutes=7 * i), f"s{i % 5}", roles[i], s, weight) for i, s in enumerate(stances)]
    result = score_event(
        EventFacts(severity, "x", tuple(items), spike=spike), now=T0 + timedelta(hours=hours), calendar=WeekdayCalendar()
    )
    assert 0 <= result.total <= 100
    if result.total not in (0, 100):
        assert result.total == pytest.approx(sum(result.points().values()), abs=0.011)
    assert (result.level is None) == (level_for(result.total) is None or result.total == 0)


# --- levels ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "level"),
    [(0, None), (39.99, None), (40, 4), (54.99, 4), (55, 3), (69.99, 3), (70, 2), (84.99, 2), (85, 1), (100, 1)],
)
def test_default_levels_start_at_40_55_70_and_85(total: float, level: int | None) -> None:
    assert level_for(total) == level
    assert level_for(total, DEFAULT_THRESHOLDS) == level


def test_the_library_default_thresholds_are_the_scoring_defaults() -> None:
    assert WarningLevels().by_level() == DEFAULT_THRESHOLDS == {4: 40, 3: 55, 2: 70, 1: 85}


def test_a_library_may_set_its_own_thresholds() -> None:
    stricter = WarningLevels(IV=25, III=40, II=60, I=75).by_level()
    assert [level_for(total, stricter) for total in (24.99, 25, 39.99, 40, 60, 75, 100)] == [None, 4, 4, 3, 2, 1, 1]
    lone = [item("complaint")]  # 34.2
    result = score_event(EventFacts(3, "讨薪", tuple(lone)), now=LATER, thresholds=stricter, calendar=WeekdayCalendar())
    assert (result.total, result.level) == (34.2, 4)
