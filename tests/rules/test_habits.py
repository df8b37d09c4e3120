"""The pain and habit rules: `pain`, `shoe_mileage`, `cadence`, `strength` (RULES.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restday.models import Activity, Finding, Gear, History, PainReport, Severity
from restday.rules import habits
from restday.rules.settings import Cadence, Pain, ShoeMileage, Strength
from tests.factories import DAY, ago, context, only, pain, run, shoe, workout

PAIN = Pain()
SHOES = ShoeMileage()
CADENCE = Cadence()
STRENGTH = Strength()


def pain_findings(*reports: PainReport, hour: float | None = None, t: Pain = PAIN) -> list[Finding]:
    history = History.of(pains=list(reports))
    return list(habits.pain(context(history, hour=hour), t))


# --- pain: today's level ------------------------------------------------------------------


def test_no_pain_report_is_silent() -> None:
    assert pain_findings() == []


def test_pain_zero_is_silent() -> None:
    assert pain_findings(pain(DAY, 0)) == []


@pytest.mark.parametrize("level", [1, 3])
def test_green_zone_pain_is_info_saying_an_easy_run_is_fine(level: int) -> None:
    f = only(pain_findings(pain(DAY, level)))
    assert f.severity is Severity.INFO
    assert f.rule == "pain"
    assert f.family == "pain"
    assert f.value == level
    assert f.threshold == PAIN.rest_min
    assert f.unit == "/10"
    assert f"{level}/10" in f.message
    assert "easy run" in f.message
    # v2: the article is named, never an internal seed number.
    assert '"Should You Go Running With Sore Legs?"' in f.citation
    assert "seed" not in f.citation.lower()


@pytest.mark.parametrize("level", [4, 5, 7])
def test_pain_of_four_to_seven_is_a_strong_reason_to_rest(level: int) -> None:
    f = only(pain_findings(pain(DAY, level)))
    assert f.severity is Severity.STRONG
    assert f.value == level
    assert f.threshold == PAIN.rest_min
    assert "rest day" in f.message
    assert f"{level}/10" in f.message


@pytest.mark.parametrize("level", [8, 10])
def test_pain_of_eight_or_more_means_see_a_doctor(level: int) -> None:
    f = only(pain_findings(pain(DAY, level)))
    assert f.severity is Severity.DOCTOR
    assert f.value == level
    assert f.threshold == PAIN.doctor_min
    assert "doctor" in f.message


def test_pain_reported_at_half_past_midnight_counts_for_that_local_day() -> None:
    # 00:30 in Berlin is still the previous day in UTC.
    f = only(pain_findings(pain(DAY, 5, hour=0.5)))
    assert f.severity is Severity.STRONG


def test_the_latest_report_of_today_decides_when_pain_eases() -> None:
    f = only(pain_findings(pain(DAY, 6, hour=8), pain(DAY, 2, hour=18)))
    assert f.severity is Severity.INFO
    assert f.value == 2


def test_the_latest_report_of_today_decides_when_pain_gets_worse() -> None:
    f = only(pain_findings(pain(DAY, 2, hour=8), pain(DAY, 6, hour=18)))
    assert f.severity is Severity.STRONG
    assert f.value == 6


def test_pain_down_to_zero_later_today_is_silent() -> None:
    assert pain_findings(pain(DAY, 6, hour=8), pain(DAY, 0, hour=18)) == []


def test_a_report_after_the_evaluated_moment_is_not_seen() -> None:
    f = only(pain_findings(pain(DAY, 3, hour=8), pain(DAY, 9, hour=18), hour=12))
    assert f.severity is Severity.INFO


def test_configured_rest_minimum_moves_the_green_zone() -> None:
    f = only(pain_findings(pain(DAY, 5), t=Pain(rest_min=6)))
    assert f.severity is Severity.INFO
    assert f.threshold == 6


# --- pain: carried while unreported (v2) ----------------------------------------------------


def test_yesterdays_pain_at_the_rest_level_is_a_moderate_today_without_a_report() -> None:
    # v1 cleared pain 5 the moment a day went unreported.
    f = only(pain_findings(pain(ago(1), 6, hour=23.5)))
    assert f.severity is Severity.MODERATE
    assert (f.value, f.threshold) == (6, PAIN.rest_min)
    assert "yesterday" in f.message
    assert "Report today's pain" in f.message


def test_yesterdays_pain_of_eight_is_strong_today_without_a_report() -> None:
    f = only(pain_findings(pain(ago(1), 8)))
    assert f.severity is Severity.STRONG
    assert (f.value, f.threshold) == (8, PAIN.doctor_min)
    assert "doctor" in f.message


def test_pain_two_days_ago_is_still_carried_but_three_days_ago_is_not() -> None:
    f = only(pain_findings(pain(ago(2), 5)))
    assert f.severity is Severity.MODERATE
    assert f"on {ago(2):%A}" in f.message
    assert pain_findings(pain(ago(3), 5)) == []


def test_green_zone_pain_yesterday_is_not_carried() -> None:
    assert pain_findings(pain(ago(1), 3)) == []


def test_a_report_today_replaces_the_carried_one() -> None:
    assert only(pain_findings(pain(ago(1), 6), pain(DAY, 2))).severity is Severity.INFO
    assert pain_findings(pain(ago(1), 6), pain(DAY, 0)) == []


def test_this_morning_before_a_report_yesterdays_pain_is_carried() -> None:
    reports = (pain(ago(1), 6), pain(DAY, 2, hour=9))
    assert only(pain_findings(*reports, hour=8)).severity is Severity.MODERATE
    assert only(pain_findings(*reports, hour=10)).severity is Severity.INFO


def test_a_persisting_pain_unreported_today_is_strong() -> None:
    # Four report days at 5 (a doctor's case yesterday), nothing yet today: one step lower.
    reports = [pain(ago(d), 5) for d in range(1, 5)]
    f = only(pain_findings(*reports))
    assert f.severity is Severity.STRONG
    assert f.threshold == PAIN.rest_min


# --- pain: persistence ----------------------------------------------------------------------


def test_pain_at_the_rest_level_on_three_report_days_is_still_rest() -> None:
    # v1 sent a runner sore for three days after a marathon to a doctor on day 3.
    f = only(pain_findings(pain(ago(2), 5), pain(ago(1), 4), pain(DAY, 5)))
    assert f.severity is Severity.STRONG


def test_pain_at_the_rest_level_on_more_than_three_report_days_means_see_a_doctor() -> None:
    f = only(pain_findings(pain(ago(3), 4), pain(ago(2), 5), pain(ago(1), 4), pain(DAY, 5)))
    assert f.severity is Severity.DOCTOR
    assert (f.value, f.threshold) == (5, PAIN.rest_min)
    assert "more than 3 report days in a row" in f.message


def test_two_days_of_pain_is_still_rest_not_doctor() -> None:
    f = only(pain_findings(pain(ago(1), 6), pain(DAY, 6)))
    assert f.severity is Severity.STRONG


def test_a_day_without_a_report_neither_breaks_nor_extends_the_streak() -> None:
    # v1 ended the streak at a day without a report.
    gap = (pain(ago(4), 6), pain(ago(3), 6), pain(ago(1), 6), pain(DAY, 6))  # 4 report days
    assert only(pain_findings(*gap)).severity is Severity.DOCTOR
    three = (pain(ago(4), 6), pain(ago(2), 6), pain(DAY, 6))  # 3 report days over 5 days
    assert only(pain_findings(*three)).severity is Severity.STRONG


def test_a_day_that_ended_in_the_green_zone_ends_the_pain_streak() -> None:
    reports = [
        pain(ago(3), 6),
        pain(ago(2), 6),
        pain(ago(1), 6, hour=8),
        pain(ago(1), 2, hour=20),
        pain(DAY, 6),
    ]
    assert only(pain_findings(*reports)).severity is Severity.STRONG


def test_a_day_that_ended_in_pain_continues_the_streak() -> None:
    reports = [
        pain(ago(3), 6),
        pain(ago(2), 6),
        pain(ago(1), 2, hour=8),
        pain(ago(1), 6, hour=20),
        pain(DAY, 6),
    ]
    assert only(pain_findings(*reports)).severity is Severity.DOCTOR


def test_pain_streak_uses_local_days_around_midnight() -> None:
    # Each 00:30 report is the day before in UTC; in Berlin they are four days in a row, the
    # last of them today.
    reports = [pain(ago(d), 5, hour=0.5) for d in range(4)]
    assert only(pain_findings(*reports)).severity is Severity.DOCTOR


def test_pain_that_eased_today_is_not_a_doctor_visit_despite_earlier_days() -> None:
    reports = [pain(ago(d), 6) for d in range(1, 6)]
    f = only(pain_findings(*reports, pain(DAY, 2)))
    assert f.severity is Severity.INFO


def test_configured_persist_days_shortens_the_streak() -> None:
    reports = (pain(ago(2), 5), pain(ago(1), 5), pain(DAY, 5))
    assert only(pain_findings(*reports)).severity is Severity.STRONG
    assert only(pain_findings(*reports, t=Pain(persist_days=2))).severity is Severity.DOCTOR


@given(
    earlier=st.lists(st.integers(0, 10), max_size=6),
    today=st.integers(0, 9),
)
def test_more_pain_today_never_gives_a_milder_finding(earlier: list[int], today: int) -> None:
    days_back = len(earlier)
    reports = [pain(ago(days_back - i), level) for i, level in enumerate(earlier)]
    lower = pain_findings(*reports, pain(DAY, today))
    higher = pain_findings(*reports, pain(DAY, today + 1))
    assert len(lower) <= 1
    assert len(higher) == 1
    assert higher[0].value == today + 1
    if lower:
        assert lower[0].severity.rank <= higher[0].severity.rank


# --- shoes ------------------------------------------------------------------------------------


def shoe_findings(*gear: Gear, t: ShoeMileage = SHOES) -> list[Finding]:
    history = History.of(gear=list(gear))
    return list(habits.shoe_mileage(context(history), t))


def test_no_shoes_is_silent() -> None:
    assert shoe_findings() == []


@pytest.mark.parametrize("km", [479.0, 480.0])
def test_shoes_up_to_the_warning_distance_are_silent(km: float) -> None:
    assert shoe_findings(shoe("Pegasus 40", km)) == []


@pytest.mark.parametrize("km", [481.0, 800.0])
def test_shoes_past_the_warning_distance_suggest_planning_a_new_pair(km: float) -> None:
    f = only(shoe_findings(shoe("Pegasus 40", km)))
    assert f.severity is Severity.INFO
    assert f.rule == "shoe_mileage"
    assert f.value == km
    assert f.threshold == SHOES.warn_km
    assert f.unit == "km"
    assert "Pegasus 40" in f.message
    assert "plan a new pair" in f.message.lower()


def test_shoes_past_the_replacement_distance_say_replace_them() -> None:
    f = only(shoe_findings(shoe("Pegasus 40", 801.0)))
    assert f.severity is Severity.INFO
    assert f.value == 801.0
    assert f.threshold == SHOES.replace_km
    assert "replace" in f.message.lower()


def test_retired_shoes_are_ignored() -> None:
    assert shoe_findings(shoe("Old pair", 1200.0, retired=True)) == []


def test_each_worn_pair_gets_its_own_finding() -> None:
    findings = shoe_findings(
        shoe("Old", 900.0, id="g1"), shoe("Mid", 500.0, id="g2"), shoe("New", 100.0, id="g3")
    )
    assert [(f.threshold, f.value) for f in findings] == [(800.0, 900.0), (480.0, 500.0)]
    assert "Old" in findings[0].message
    assert "Mid" in findings[1].message


def test_configured_shoe_distances_are_used() -> None:
    f = only(shoe_findings(shoe("Racer", 350.0), t=ShoeMileage(warn_km=250, replace_km=300)))
    assert f.threshold == 300.0


@given(st.lists(st.tuples(st.floats(0, 2000), st.booleans()), max_size=5))
def test_one_finding_per_active_pair_past_the_warning(pairs: list[tuple[float, bool]]) -> None:
    gear = [shoe(f"s{i}", km, id=f"g{i}", retired=r) for i, (km, r) in enumerate(pairs)]
    findings = shoe_findings(*gear)
    worn = [km for km, retired in pairs if not retired and km > SHOES.warn_km]
    assert len(findings) == len(worn)
    for f in findings:
        assert f.threshold is not None
        assert f.value is not None
        assert f.value >= f.threshold


# --- cadence ----------------------------------------------------------------------------------


def test_cadence_is_the_mean_of_this_weeks_runs_that_recorded_it() -> None:
    ctx = context(
        History.of(
            activities=[
                run(ago(6), 8, cadence=160.0),
                run(ago(3), 8, cadence=170.0),
                run(ago(1), 8),  # no cadence recorded
                run(DAY, 8, cadence=0.0),  # watch sent zero: no cadence
            ]
        )
    )
    assert habits.cadence_7d(ctx) == pytest.approx(165.0)


def test_cadence_of_runs_before_the_last_7_days_or_of_rides_is_ignored() -> None:
    ctx = context(
        History.of(
            activities=[
                run(ago(7), 8, cadence=150.0),
                run(DAY, 30, sport="Ride", cadence=90.0),
                run(DAY, 8, cadence=172.0),
            ]
        )
    )
    assert habits.cadence_7d(ctx) == pytest.approx(172.0)


def test_cadence_week_starts_at_local_midnight_six_days_ago() -> None:
    # 00:30 local six days ago is still seven days ago in UTC, but inside the local week;
    # 23:30 local seven days ago is outside it.
    ctx = context(
        History.of(
            activities=[
                run(ago(6), 8, hour=0.5, cadence=150.0),
                run(ago(7), 8, hour=23.5, cadence=190.0),
            ]
        )
    )
    assert habits.cadence_7d(ctx) == pytest.approx(150.0)


def test_no_cadence_recorded_is_silent() -> None:
    ctx = context(History.of(activities=[run(DAY, 8)]))
    assert habits.cadence_7d(ctx) is None
    assert habits.cadence(ctx, CADENCE) == []


@pytest.mark.parametrize("spm", [165.0, 166.0])
def test_cadence_at_or_above_165_is_silent(spm: float) -> None:
    ctx = context(History.of(activities=[run(DAY, 8, cadence=spm)]))
    assert habits.cadence(ctx, CADENCE) == []


def test_cadence_below_165_suggests_quicker_shorter_steps() -> None:
    ctx = context(History.of(activities=[run(ago(2), 8, cadence=150.0), run(DAY, 8, cadence=150)]))
    f = only(list(habits.cadence(ctx, CADENCE)))
    assert f.severity is Severity.INFO
    assert f.rule == "cadence"
    assert f.value == 150.0
    assert f.threshold == 165.0
    assert f.unit == "spm"
    assert "150" in f.message
    assert "158–165" in f.message  # +5–10 % of 150
    assert "Heiderscheit" in f.citation


def test_one_quick_run_can_lift_the_weekly_cadence_mean() -> None:
    ctx = context(History.of(activities=[run(ago(2), 8, cadence=160.0), run(DAY, 8, cadence=170)]))
    assert habits.cadence(ctx, CADENCE) == []


@given(st.lists(st.floats(120, 210), min_size=1, max_size=7))
def test_cadence_fires_exactly_when_the_weekly_mean_is_low(spms: list[float]) -> None:
    runs = [run(ago(i), 8, cadence=spm) for i, spm in enumerate(spms)]
    ctx = context(History.of(activities=runs))
    mean = habits.cadence_7d(ctx)
    assert mean is not None
    assert min(spms) - 1e-9 <= mean <= max(spms) + 1e-9
    assert bool(habits.cadence(ctx, CADENCE)) == (mean < CADENCE.min_spm)


# --- strength ---------------------------------------------------------------------------------


def strength_findings(*activities: Activity, t: Strength = STRENGTH) -> list[Finding]:
    history = History.of(activities=list(activities))
    return list(habits.strength(context(history), t))


def test_strength_sessions_count_weights_and_crossfit_of_the_last_7_days() -> None:
    ctx = context(
        History.of(
            activities=[
                workout(ago(7), 40),  # eight days including today: outside
                workout(ago(6), 40),
                workout(ago(3), 40, sport="Crossfit"),
                workout(ago(2), 60, sport="Yoga"),
                run(DAY, 8),
            ]
        )
    )
    assert habits.strength_sessions_7d(ctx) == 2


def test_no_runs_this_week_means_no_strength_reminder() -> None:
    assert strength_findings(run(ago(7), 10), workout(DAY, 45, sport="Walk")) == []


@pytest.mark.parametrize("sessions", [0, 1])
def test_a_runner_with_fewer_than_two_strength_sessions_gets_a_reminder(sessions: int) -> None:
    activities = [run(ago(1), 8), *(workout(ago(2 + i), 40) for i in range(sessions))]
    f = only(strength_findings(*activities))
    assert f.severity is Severity.INFO
    assert f.rule == "strength"
    assert f.value == sessions
    assert f.threshold == 2
    assert f.unit == "sessions"
    assert f"{sessions} strength" in f.message
    assert "Lauersen" in f.citation


@pytest.mark.parametrize("sessions", [2, 3])
def test_two_or_more_strength_sessions_are_enough(sessions: int) -> None:
    activities = [run(ago(1), 8), *(workout(ago(2 + i), 40) for i in range(sessions))]
    assert strength_findings(*activities) == []


def test_a_run_at_half_past_midnight_six_days_ago_still_counts_as_this_week() -> None:
    assert len(strength_findings(run(ago(6), 8, hour=0.5))) == 1
    assert strength_findings(run(ago(7), 8, hour=23.5)) == []


def test_zero_required_strength_sessions_never_reminds() -> None:
    assert strength_findings(run(DAY, 8), t=Strength(min_sessions=0)) == []
