"""Load per activity (`restday/rules/load.py`, RULES.md v2 "Load") and the shared day series
(`context.py`)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from restday.models import Activity, History
from restday.rules.context import CALIBRATION_DAYS, Context
from restday.rules.load import LoadSource, activity_loads, choose_source, trimp
from restday.rules.prepared import ewma_lambda
from restday.rules.settings import Profile, Sex
from tests.factories import DAY, PROFILE, TZ, ago, context, run, workout

HR_PROFILE = Profile(timezone=TZ, max_hr=190, resting_hr=50)
HOUR_MIN = 60.0


def loads(activities: list[Activity], profile: Profile = PROFILE) -> list[float]:
    return activity_loads(activities, profile)[1]


# --- which unit (v2: the configuration alone) ---------------------------------------------


def test_max_and_resting_hr_set_make_trimp_the_unit_whatever_the_data() -> None:
    assert choose_source(HR_PROFILE) is LoadSource.TRIMP
    no_hr = [run(ago(1), 8, suffer=40), run(DAY, 8)]
    assert activity_loads(no_hr, HR_PROFILE)[0] is LoadSource.TRIMP


def test_without_max_and_resting_hr_the_unit_is_relative_effort_whatever_the_data() -> None:
    assert choose_source(PROFILE) is LoadSource.SUFFER_SCORE
    assert choose_source(Profile(timezone=TZ, max_hr=190)) is LoadSource.SUFFER_SCORE
    assert choose_source(Profile(timezone=TZ, resting_hr=50)) is LoadSource.SUFFER_SCORE
    with_hr = [run(ago(1), 8, hr=150), run(DAY, 8, hr=150)]
    assert activity_loads(with_hr, PROFILE)[0] is LoadSource.SUFFER_SCORE


def test_max_hr_not_above_resting_hr_does_not_claim_trimp() -> None:
    runs = [run(ago(1), 8, hr=150), run(DAY, 8, hr=150)]
    broken = Profile(timezone=TZ, max_hr=50, resting_hr=50)
    source, values = activity_loads(runs, broken)
    assert source is LoadSource.SUFFER_SCORE
    assert values == pytest.approx([8 * 5.5, 8 * 5.5])  # no value: minutes × the run factor


def test_no_activities_have_the_configured_unit() -> None:
    assert activity_loads([], HR_PROFILE) == (LoadSource.TRIMP, [])
    assert activity_loads([], PROFILE) == (LoadSource.SUFFER_SCORE, [])


def test_the_unit_never_switches_when_half_the_activities_gain_heart_rate() -> None:
    # v1 switched from minutes to TRIMP the day most activities had HR: every load jumped.
    before = [run(ago(20 - i), 8) for i in range(10)]
    after = [run(ago(10 - i), 8, hr=150) for i in range(11)]
    old_source, old = activity_loads(before, HR_PROFILE)
    new_source, new = activity_loads([*before, *after], HR_PROFILE)
    assert old_source is new_source is LoadSource.TRIMP
    assert new[: len(before)] == old == pytest.approx([8 * 5.5 * 1.5] * 10)


def test_the_unit_never_switches_when_relative_effort_appears() -> None:
    before = [run(ago(20 - i), 8) for i in range(10)]
    after = [run(ago(10 - i), 8, suffer=80) for i in range(11)]
    old_source, old = activity_loads(before, PROFILE)
    new_source, new = activity_loads([*before, *after], PROFILE)
    assert old_source is new_source is LoadSource.SUFFER_SCORE
    assert new[: len(before)] == old == pytest.approx([8 * 5.5] * 10)


# --- the numbers --------------------------------------------------------------------------


def test_without_values_yet_minutes_are_scaled_by_how_hard_the_sport_is_on_the_legs() -> None:
    sessions = [
        workout(DAY, HOUR_MIN, sport="Run"),
        workout(DAY, HOUR_MIN, sport="Hike"),
        workout(DAY, HOUR_MIN, sport="Ride"),
        workout(DAY, HOUR_MIN, sport="Swim"),
        workout(DAY, HOUR_MIN, sport="WeightTraining"),
        workout(DAY, HOUR_MIN, sport="Yoga"),
    ]
    assert loads(sessions) == pytest.approx([60, 48, 30, 36, 18, 30])


def test_trimp_is_banister_with_the_male_weighting_by_default() -> None:
    # 60 min at HR 155 with 50–190: heart-rate reserve 0.75.
    hour = run(DAY, 10, minutes=HOUR_MIN, hr=155)
    expected = HOUR_MIN * 0.75 * 0.64 * math.exp(1.92 * 0.75)
    assert trimp(hour, HR_PROFILE) == pytest.approx(expected)
    assert loads([hour], HR_PROFILE) == pytest.approx([expected])


def test_trimp_uses_the_female_weighting_for_women() -> None:
    hour = run(DAY, 10, minutes=HOUR_MIN, hr=155)
    female = HR_PROFILE.model_copy(update={"sex": Sex.FEMALE})
    assert trimp(hour, female) == pytest.approx(HOUR_MIN * 0.75 * 0.86 * math.exp(1.67 * 0.75))


def test_heart_rate_outside_resting_to_max_is_clamped() -> None:
    above = run(DAY, 10, minutes=HOUR_MIN, hr=200)
    below = run(DAY, 10, minutes=HOUR_MIN, hr=40)
    assert trimp(above, HR_PROFILE) == pytest.approx(HOUR_MIN * 0.64 * math.exp(1.92))
    assert trimp(below, HR_PROFILE) == 0.0


def test_harder_heart_rate_means_more_trimp() -> None:
    easy = trimp(run(DAY, 10, minutes=HOUR_MIN, hr=140), HR_PROFILE)
    hard = trimp(run(DAY, 10, minutes=HOUR_MIN, hr=170), HR_PROFILE)
    assert easy is not None
    assert hard is not None
    assert hard > easy


def test_a_run_without_suffer_score_is_estimated_from_the_median_rate_of_runs() -> None:
    measured = [
        run(ago(3), 5, minutes=30, suffer=30),  # 1 a minute
        run(ago(2), 5, minutes=30, suffer=60),  # 2 a minute
        run(ago(1), 5, minutes=30, suffer=90),  # 3 a minute
    ]
    missing = run(DAY, 8, minutes=40)
    source, values = activity_loads([*measured, missing], PROFILE)
    assert source is LoadSource.SUFFER_SCORE
    assert values == pytest.approx([30, 60, 90, 40 * 2.0])


def test_a_sport_with_no_earlier_measured_session_gets_its_own_factor() -> None:
    # v1 borrowed the runs' rate, scaled by the sport's factor.
    measured = [run(ago(2), 5, minutes=30, suffer=60), run(ago(1), 5, minutes=30, suffer=60)]
    ride = workout(DAY, HOUR_MIN, sport="Ride")
    assert loads([*measured, ride])[-1] == pytest.approx(HOUR_MIN * 0.5)


def test_a_first_estimate_in_trimp_is_one_and_a_half_times_the_factor_a_minute() -> None:
    sessions = [workout(DAY, HOUR_MIN, sport="Run"), workout(DAY, HOUR_MIN, sport="Ride")]
    assert loads(sessions, HR_PROFILE) == pytest.approx([HOUR_MIN * 1.5, HOUR_MIN * 0.5 * 1.5])


def test_an_estimate_reads_only_earlier_activities() -> None:
    missing = run(ago(3), 5, minutes=30)
    later = [run(ago(2), 5, minutes=30, suffer=90), run(ago(1), 5, minutes=30, suffer=90)]
    assert loads([missing, *later])[0] == pytest.approx(30 * 1.0)  # the factor: none earlier


def test_an_estimate_is_not_a_value_for_later_estimates() -> None:
    activities = [
        run(ago(4), 5, minutes=30, suffer=60),  # 2 a minute
        run(ago(3), 5, minutes=30),  # estimated at 2 a minute
        run(ago(2), 5, minutes=30, suffer=30),  # 1 a minute
        run(DAY, 5, minutes=30),  # the median of 2 and 1, not of 2, 2 and 1
    ]
    assert loads(activities) == pytest.approx([60, 60, 30, 45])


def test_an_estimate_reads_the_same_sport_kind() -> None:
    trail = run(ago(2), 5, minutes=30, sport="TrailRun", suffer=90)  # 3 a minute
    ride = workout(ago(1), 30, sport="Ride", suffer=15)  # 0.5 a minute
    road = run(DAY, 5, minutes=20)
    assert loads([trail, ride, road])[-1] == pytest.approx(20 * 3.0)


def test_a_session_lacking_heart_rate_is_estimated_from_its_own_sport() -> None:
    rides = [
        workout(ago(2), HOUR_MIN, sport="Ride", hr=130),
        workout(ago(1), HOUR_MIN, sport="Ride", hr=130),
    ]
    runs = [run(ago(2), 10, minutes=HOUR_MIN, hr=160), run(ago(1), 10, minutes=HOUR_MIN, hr=160)]
    no_hr_ride = workout(DAY, 2 * HOUR_MIN, sport="Ride")
    values = loads([*rides, *runs, no_hr_ride], HR_PROFILE)
    ride_trimp = trimp(rides[0], HR_PROFILE)
    assert ride_trimp is not None
    assert values[-1] == pytest.approx(2 * ride_trimp)


# --- the local day ------------------------------------------------------------------------


def test_a_run_at_half_past_midnight_local_counts_for_that_day() -> None:
    # 00:30 in Berlin is 23:30 UTC on the day before.
    late = run(DAY, 10, hour=0.5)
    assert late.start.date() == ago(1)
    ctx = context(History.of([late]))
    assert ctx.run_km_by_day == {DAY: 10.0}
    assert ctx.longest_run_by_day == {DAY: 10.0}
    assert ctx.load_on(DAY) == pytest.approx(10 * 5.5)
    assert ctx.load_on(ago(1)) == 0.0
    assert ctx.rest_streak(30) == 1


def test_the_day_boundary_holds_on_the_night_the_clocks_go_back() -> None:
    change = date(2026, 10, 25)  # CEST → CET at 03:00
    early = run(change, 10, hour=0.5)  # 22:30 UTC the day before
    ctx = context(History.of([early]), change)
    assert ctx.run_km_by_day == {change: 10.0}
    assert ctx.day_start(change) < early.start < ctx.day_start(change + timedelta(days=1))


def test_activities_after_now_are_not_seen() -> None:
    history = History.of([run(ago(1), 8), run(DAY, 12, hour=18)])
    morning = context(history, hour=9)
    assert morning.today == DAY
    assert morning.run_km_by_day == {ago(1): 8.0}
    assert morning.rest_streak(30) == 1  # counted from yesterday: today has nothing yet
    assert context(history).run_km_by_day == {ago(1): 8.0, DAY: 12.0}


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Context.build(History(), datetime(2026, 11, 20, 12), PROFILE)  # noqa: DTZ001


def test_history_is_calibrating_until_its_28th_day() -> None:
    first = ago(CALIBRATION_DAYS - 1)
    history = History.of([run(first, 5)])
    assert context(History()).history_days == 0
    assert context(history, ago(1)).calibrating
    assert context(history).history_days == CALIBRATION_DAYS
    assert not context(history).calibrating


def test_daily_loads_before_the_history_are_zero() -> None:
    ctx = context(History.of([run(ago(1), 8), run(DAY, 4), run(DAY, 6, hour=18)]))
    assert ctx.loads_between(ago(3), DAY) == pytest.approx([0, 0, 8 * 5.5, 10 * 5.5])


# --- exponential averages ----------------------------------------------------------------


def test_a_short_steady_history_gives_a_ratio_of_one_not_an_inflated_one() -> None:
    ctx = context(History.of([run(ago(i), 8) for i in range(10)]))
    assert ctx.acute_load == pytest.approx(8 * 5.5)
    assert ctx.chronic_load == pytest.approx(8 * 5.5)
    assert ctx.acwr == pytest.approx(1.0)


def test_averages_start_at_the_mean_of_the_history_then_follow_the_days() -> None:
    ctx = context(History.of([run(ago(1), 0, minutes=60)]))  # 60 yesterday, 0 today
    seed = 30.0
    acute = seed + ewma_lambda(7) * (60 - seed)
    acute += ewma_lambda(7) * (0 - acute)
    chronic = seed + ewma_lambda(28) * (60 - seed)
    chronic += ewma_lambda(28) * (0 - chronic)
    assert ctx.acute_load == pytest.approx(acute)
    assert ctx.chronic_load == pytest.approx(chronic)


def test_the_seed_is_the_first_28_days_only() -> None:
    # 28 days of 44 then a week off: the seed stays 44 whatever came later.
    history = History.of([run(ago(i), 8) for i in range(7, 35)])
    ctx = context(history)
    assert ctx.chronic_load is not None
    expected = 8 * 5.5 * (1 - ewma_lambda(28)) ** 7
    assert ctx.chronic_load == pytest.approx(expected)


def test_fitness_and_fatigue_are_as_of_yesterday() -> None:
    ctx = context(History.of([run(ago(2), 0, minutes=60)]))
    # Daily 60, 0 before today (and 0 today): the seed is 30, not 20.
    ctl = 30 + (60 - 30) / 42
    ctl += (0 - ctl) / 42
    atl = 30 + (60 - 30) / 7
    atl += (0 - atl) / 7
    assert ctx.ctl_yesterday == pytest.approx(ctl)
    assert ctx.atl_yesterday == pytest.approx(atl)


def test_a_first_day_has_no_fitness_yet() -> None:
    ctx = context(History.of([run(DAY, 8)]))
    assert ctx.ctl_yesterday is None
    assert ctx.atl_yesterday is None
    assert ctx.acute_load == pytest.approx(8 * 5.5)


def test_nothing_at_all_has_no_averages() -> None:
    ctx = context(History())
    assert (ctx.acute_load, ctx.chronic_load, ctx.acwr) == (None, None, None)


@pytest.mark.parametrize("history_days", [2, 10, CALIBRATION_DAYS - 1, CALIBRATION_DAYS, 40])
def test_todays_run_does_not_change_yesterdays_fitness_and_fatigue(history_days: int) -> None:
    # A bug seeded the averages with today's load while the history was under 28 days.
    base = [run(ago(i), 8) for i in range(1, history_days)]
    without = context(History.of(base))
    with_run = context(History.of([*base, run(DAY, 30)]))
    assert with_run.ctl_yesterday == without.ctl_yesterday
    assert with_run.atl_yesterday == without.atl_yesterday
    assert with_run.acute_load is not None
    assert without.acute_load is not None
    assert with_run.acute_load > without.acute_load


# --- training days in a row (`rest_streak`, the metrics' `days_since_rest`) -------------


def test_days_in_a_row_are_counted_back_from_today() -> None:
    history = History.of([run(ago(5), 5), run(ago(2), 5), run(ago(1), 5), run(DAY, 5)])
    assert context(history).rest_streak(30) == 3


def test_two_sessions_on_one_day_count_as_one_day() -> None:
    history = History.of([run(ago(1), 5), run(DAY, 5), workout(DAY, 30)])
    assert context(history).rest_streak(30) == 2


def test_without_an_activity_today_the_streak_is_counted_from_yesterday() -> None:
    history = History.of([run(ago(i), 5) for i in range(1, 8)])
    assert context(history, hour=12).rest_streak(30) == 7


def test_once_today_is_over_without_activity_it_was_a_rest_day() -> None:
    history = History.of([run(ago(i), 5) for i in range(1, 8)])
    assert context(history).rest_streak(30) == 0  # the end of the day: `status --date`
    assert context(history, hour=23.5).rest_streak(30) == 7  # a late run may still come


def test_a_rest_day_yesterday_and_none_today_is_zero() -> None:
    assert context(History.of([run(ago(2), 5), run(ago(3), 5)])).rest_streak(30) == 0
    assert context(History()).rest_streak(30) == 0


def test_a_walk_is_not_a_training_session() -> None:
    # v1 counted a 20-minute walk: it broke no rest day.
    history = History.of([run(ago(1), 5), workout(DAY, 30, sport="Walk")])
    assert context(history).rest_streak(30) == 0  # today, over, was the rest day
    assert context(history, hour=12).rest_streak(30) == 1  # counted from yesterday


def test_a_session_counts_from_the_given_minutes() -> None:
    history = History.of([run(ago(1), 5), workout(DAY, 25)])
    assert context(history).rest_streak(30) == 0
    assert context(history).rest_streak(25) == 2


DAYS_BACK = 14


@settings(max_examples=60, deadline=None)
@given(
    active=st.sets(st.integers(0, DAYS_BACK - 1), max_size=DAYS_BACK),
    removed=st.integers(0, DAYS_BACK - 1),
)
def test_adding_a_rest_day_never_lengthens_the_streak(active: set[int], removed: int) -> None:
    # Runs at 00:30, 10:30 or 20:30 local, so some fall on the day before in UTC.
    runs = [run(ago(i), 5, hour=0.5 + (i % 3) * 10) for i in sorted(active)]
    before = context(History.of(runs)).rest_streak(30)
    kept = [r for r in runs if r.start.astimezone(TZ).date() != ago(removed)]
    after = context(History.of(kept)).rest_streak(30)
    assert after <= before
    assert after <= len(active - {removed})
    if removed in active and removed < before + (0 if 0 in active else 1):
        assert after < before  # the rest day broke the streak
