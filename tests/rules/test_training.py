"""Load rules: `weekly_increase`, `acwr`, `tsb`, `monotony`, `no_rest_day`, `deload`
(restday/rules/training.py, RULES.md v2); `run_spike` has tests/rules/test_run_spike.py."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from restday.models import Activity, Finding, History, Severity, Status
from restday.rules import RULE_IDS, settings, training
from restday.rules.context import Context
from restday.rules.settings import RulesConfig
from tests.factories import DAY, ago, context, evaluate_on, only, rank, run, steady_runs, workout

RUN_MIN_PER_KM = 5.5  # the factories' pace: a run's load in minutes is km × 5.5
STEADY_KM = 8.0  # steady_runs: 5 runs a week, so any 7 days hold 40 km
STEADY_WEEK_KM = 40.0


def with_loads(
    ctx: Context,
    *,
    acute: float | None = None,
    chronic: float | None = None,
    ctl: float | None = None,
    atl: float | None = None,
) -> Context:
    """The same day with the exponential averages set, for exact threshold tests."""
    return dataclasses.replace(
        ctx, acute_load=acute, chronic_load=chronic, ctl_yesterday=ctl, atl_yesterday=atl
    )


def daily_loads(*loads: float) -> Context:
    """A context whose last len(loads) days (ending today) have exactly these loads."""
    first = ago(len(loads) - 1)
    return dataclasses.replace(context(History()), first_day=first, daily_load=tuple(loads))


# --- weekly_increase -----------------------------------------------------------------------


def base_weeks(weeks: int = 5) -> list[Activity]:
    """40 km in any 7 days, ending a week ago."""
    return steady_runs(ago(7), weeks, STEADY_KM)


def this_week(*kms: float) -> list[Activity]:
    """Runs on the last days of the week, one a day, the last one today."""
    return [run(ago(len(kms) - 1 - i), km) for i, km in enumerate(kms)]


def increase(
    activities: list[Activity], t: settings.WeeklyIncrease | None = None
) -> Sequence[Finding]:
    ctx = context(History.of(activities))
    return training.weekly_increase(ctx, t or settings.WeeklyIncrease())


def test_ten_percent_more_than_the_biggest_recent_week_is_fine() -> None:
    assert increase([*base_weeks(), *this_week(11, 11, 11, 11)]) == []


def test_eleven_percent_more_is_only_a_note() -> None:
    f = only(increase([*base_weeks(), *this_week(11.1, 11.1, 11.1, 11.1)]))
    assert f.rule == "weekly_increase"
    assert f.severity is Severity.INFO
    assert (f.value, f.threshold, f.unit) == (11.0, 10.0, "%")
    assert "44.4 km" in f.message
    assert "40.0 km" in f.message
    assert "11 %" in f.message
    assert f.citation == training.CITE_WEEKLY_INCREASE


def test_a_note_above_ten_percent_says_the_evidence_does_not_back_the_rule() -> None:
    f = only(increase([*base_weeks(), *this_week(12.5, 12.5, 12.5, 12.5)]))  # +25 %, +10 km
    assert (f.severity, f.value, f.threshold) == (Severity.INFO, 25.0, 10.0)
    assert "convention" in f.message
    assert "Buist" in f.message
    assert "Frandsen" in f.message


def test_exactly_thirty_percent_more_is_a_note_not_a_caution() -> None:
    f = only(increase([*base_weeks(), *this_week(13, 13, 13, 13)]))
    assert (f.severity, f.value, f.threshold) == (Severity.INFO, 30.0, 10.0)


def test_thirty_one_percent_more_is_a_caution() -> None:
    f = only(increase([*base_weeks(), *this_week(13.1, 13.1, 13.1, 13.1)]))
    assert f.severity is Severity.CAUTION
    assert (f.value, f.threshold) == (31.0, 30.0)
    assert "Nielsen" in f.message
    assert "52.4 km" in f.message


def test_exactly_sixty_percent_more_is_a_caution_not_moderate() -> None:
    f = only(increase([*base_weeks(), *this_week(16, 16, 16, 16)]))
    assert (f.severity, f.value, f.threshold) == (Severity.CAUTION, 60.0, 30.0)


def test_sixty_one_percent_more_is_a_moderate_reason_to_go_easy() -> None:
    f = only(increase([*base_weeks(), *this_week(16.1, 16.1, 16.1, 16.1)]))
    assert (f.severity, f.value, f.threshold) == (Severity.MODERATE, 61.0, 60.0)


def small_base() -> list[Activity]:
    """10 km in the biggest 7 days of the baseline."""
    return [run(ago(10), 5), run(ago(8), 5)]


def test_an_increase_of_under_8_km_is_only_a_note_however_big_in_percent() -> None:
    f = only(increase([*small_base(), *this_week(8.9, 9.0)]))  # 17.9 km: +79 %, 7.9 km more
    assert (f.severity, f.value) == (Severity.INFO, 79.0)
    assert "only 7.9 km more" in f.message


def test_an_increase_of_exactly_8_km_is_graded_by_its_percentage() -> None:
    f = only(increase([*small_base(), *this_week(9.0, 9.0)]))  # 18 km: +80 %, 8 km more
    assert (f.severity, f.value) == (Severity.MODERATE, 80.0)


def test_the_smallest_increase_that_counts_is_configurable() -> None:
    history = [*small_base(), *this_week(8.9, 9.0)]
    t = settings.WeeklyIncrease(min_increase_km=5)
    assert only(increase(history, t)).severity is Severity.MODERATE


def test_the_percentages_are_configurable() -> None:
    t = settings.WeeklyIncrease(info_pct=5, caution_pct=8, high_pct=20, min_increase_km=0)
    assert only(increase([*base_weeks(), *this_week(11, 11, 11, 11)], t)).severity is (
        Severity.CAUTION
    )
    assert only(increase([*base_weeks(), *this_week(12.1, 12.1, 12.1, 12.1)], t)).severity is (
        Severity.MODERATE
    )


def test_returning_to_volume_after_a_lighter_week_is_not_an_increase() -> None:
    lighter = [run(ago(d), 5.6) for d in (13, 12, 10, 9, 7)]  # 28 km, a week ago
    history = [*steady_runs(ago(14), 4, STEADY_KM), *lighter, *this_week(10.5, 10.5, 10.5, 10.5)]
    assert increase(history) == []  # 42 km after 40, 28: +5 % on the biggest week


def test_the_baseline_is_the_biggest_of_the_four_weeks_before() -> None:
    history = [*steady_runs(ago(7), 3, STEADY_KM), *steady_runs(ago(28), 1, 12.0)]
    f = only(increase([*history, *this_week(17, 17, 17, 17)]))  # 68 km
    assert "60.0 km" in f.message  # 5 × 12 km, four weeks back
    assert f.value == pytest.approx(68 / 60 * 100 - 100, abs=0.01)


def test_the_baseline_is_the_best_seven_consecutive_days_not_a_calendar_week() -> None:
    # 20 km 15 and 10 days ago: 40 km within 7 consecutive days (16 … 10 days ago), though no
    # 7-day block counted back from today holds both.
    history = [run(ago(15), 20), run(ago(10), 20), *this_week(11, 11, 11, 11)]
    assert increase(history) == []  # 44 km: +10 % on 40 km, not +120 % on 20 km


def test_a_week_34_days_back_still_counts_but_35_does_not() -> None:
    assert only(increase([run(ago(34), 25), run(DAY, 30)])).value == 20.0
    assert increase([run(ago(35), 25), run(DAY, 30)]) == []


def test_the_last_seven_days_start_six_days_ago_at_local_midnight() -> None:
    # 00:30 Berlin six days ago is still the day before in UTC: it counts for this week,
    # 23:30 seven days ago does not (that run is in the baseline).
    base = [run(ago(20), 20)]
    counted = only(increase([*base, run(ago(6), 12, hour=0.5), run(DAY, 11)]))
    assert counted.value == 15.0  # 23 km over 20 km
    assert increase([*base, run(ago(7), 12, hour=23.5), run(DAY, 11)]) == []


def test_no_runs_before_this_week_is_silent() -> None:
    assert increase(this_week(20, 20, 20, 20)) == []
    assert increase([]) == []


def test_rides_and_walks_are_not_running_volume() -> None:
    rides = [workout(ago(d), 240, sport="Ride") for d in range(6)]
    assert increase([*base_weeks(), *this_week(10, 10, 10, 10), *rides]) == []


@hyp_settings(max_examples=40, deadline=None)
@given(
    kms=st.lists(st.floats(0, 30), min_size=35, max_size=35),
    extra_day=st.integers(7, 34),
    extra_km=st.floats(0.1, 30),
)
def test_more_running_in_the_baseline_never_makes_this_week_look_worse(
    kms: list[float], extra_day: int, extra_km: float
) -> None:
    # Some running in the baseline already: with none at all the rule has nothing to compare.
    runs = [run(ago(d), round(km, 1)) for d, km in enumerate(kms) if round(km, 1) > 0]
    runs.append(run(ago(20), 5, hour=12))
    before = increase(runs)
    after = increase([*runs, run(ago(extra_day), round(extra_km, 1), hour=18)])
    assert rank(after) <= rank(before)


# --- acwr ----------------------------------------------------------------------------------


def ratio(acute: float, chronic: float = 1.0) -> Sequence[Finding]:
    ctx = with_loads(context(History.of([run(DAY, 8)])), acute=acute, chronic=chronic)
    return training.acwr(ctx, settings.Acwr())


@pytest.mark.parametrize("acute", [0.8, 1.0, 1.3])
def test_a_ratio_from_0_8_to_1_3_is_fine(acute: float) -> None:
    assert ratio(acute) == []


def test_a_ratio_over_1_3_is_a_note() -> None:
    f = only(ratio(1.31))
    assert f.rule == "acwr"
    assert f.severity is Severity.INFO
    assert (f.value, f.threshold, f.unit) == (1.31, 1.3, "ratio")
    assert "1.31" in f.message
    assert "weak predictor" in f.message
    assert "Impellizzeri" in f.message
    assert "Frandsen" in f.message
    assert f.citation == training.CITE_ACWR


def test_a_ratio_of_exactly_1_5_is_a_note_not_a_caution() -> None:
    f = only(ratio(1.5))
    assert (f.severity, f.threshold) == (Severity.INFO, 1.3)


def test_a_ratio_over_1_5_is_a_caution() -> None:
    f = only(ratio(1.51))
    assert (f.severity, f.threshold) == (Severity.CAUTION, 1.5)


def test_a_ratio_of_exactly_2_is_a_caution_not_moderate() -> None:
    f = only(ratio(2.0))
    assert (f.severity, f.threshold) == (Severity.CAUTION, 1.5)


def test_a_ratio_over_2_is_a_moderate_reason_to_go_easy() -> None:
    f = only(ratio(2.01))
    assert (f.severity, f.value, f.threshold) == (Severity.MODERATE, 2.01, 2.0)
    assert "easier day" in f.message


def test_a_ratio_under_0_8_is_a_note_about_detraining() -> None:
    f = only(ratio(0.79))
    assert f.severity is Severity.INFO
    assert f.threshold == 0.8
    assert "less than usual" in f.message
    assert "weak predictor" in f.message


def test_the_ratio_levels_are_configurable() -> None:
    ctx = with_loads(context(History.of([run(DAY, 8)])), acute=1.45, chronic=1.0)
    t = settings.Acwr(info=1.2, caution=1.3, high=1.4)
    assert only(training.acwr(ctx, t)).severity is Severity.MODERATE


def test_no_load_at_all_is_silent() -> None:
    assert training.acwr(context(History()), settings.Acwr()) == []
    assert ratio(1.0, chronic=0.0) == []


def test_a_steady_base_gives_no_ratio_finding() -> None:
    ctx = context(History.of(steady_runs(DAY, 8)))
    assert training.acwr(ctx, settings.Acwr()) == []


def test_a_week_at_three_and_a_half_times_the_usual_load_is_a_caution() -> None:
    # v1 made this a moderate (over 1.5); v2 keeps moderate for an extreme ratio (over 2).
    history = [*steady_runs(ago(7), 8), *[run(ago(d), 20) for d in range(7)]]
    f = only(training.acwr(context(History.of(history)), settings.Acwr()))
    assert (f.severity, f.value) == (Severity.CAUTION, 1.59)


def test_three_days_at_seven_times_the_usual_load_are_moderate() -> None:
    history = [*steady_runs(ago(3), 8), *[run(ago(d), 40) for d in range(3)]]
    f = only(training.acwr(context(History.of(history)), settings.Acwr()))
    assert f.severity is Severity.MODERATE
    assert f.value is not None
    assert f.value > 2.0


def test_two_weeks_off_after_a_base_is_a_detraining_note() -> None:
    ctx = context(History.of(steady_runs(ago(14), 8)))
    assert only(training.acwr(ctx, settings.Acwr())).severity is Severity.INFO


# --- tsb -----------------------------------------------------------------------------------


def form(ctl: float | None, atl: float | None) -> Context:
    return with_loads(context(History.of([run(DAY, 8)])), ctl=ctl, atl=atl)


def test_tsb_is_fitness_minus_fatigue_in_percent_of_fitness() -> None:
    assert training.tsb_pct(form(50, 75)) == -50.0
    assert training.tsb_pct(form(50, 40)) == 20.0


def test_tsb_is_undefined_without_fitness() -> None:
    assert training.tsb_pct(form(None, None)) is None
    assert training.tsb_pct(form(0, 10)) is None
    assert training.tsb_pct(form(-1, 10)) is None


def test_tsb_of_minus_52_percent_is_fine() -> None:
    # v1 made anything under -50 % a moderate.
    assert training.tsb(form(50, 76), settings.Tsb()) == []


def test_tsb_of_exactly_minus_60_percent_is_fine() -> None:
    assert training.tsb(form(50, 80), settings.Tsb()) == []


def test_tsb_under_minus_60_percent_is_a_caution() -> None:
    f = only(training.tsb(form(50, 81), settings.Tsb()))
    assert f.rule == "tsb"
    assert f.severity is Severity.CAUTION
    assert (f.value, f.threshold, f.unit) == (-62.0, -60.0, "%")
    assert "-62 %" in f.message
    assert f.citation == training.CITE_TSB


def test_the_tsb_limit_is_configurable() -> None:
    f = only(training.tsb(form(50, 76), settings.Tsb(min_tsb_pct=-50)))
    assert (f.severity, f.threshold) == (Severity.CAUTION, -50.0)


def test_tsb_without_load_is_silent() -> None:
    assert training.tsb(context(History()), settings.Tsb()) == []
    assert training.tsb(context(History.of([run(DAY, 30)])), settings.Tsb()) == []


def test_a_hard_block_after_a_base_drives_tsb_down_to_a_caution() -> None:
    history = [*steady_runs(ago(8), 8), *[run(ago(d), 20) for d in range(1, 8)]]
    f = only(training.tsb(context(History.of(history)), settings.Tsb()))
    assert f.severity is Severity.CAUTION
    assert f.value is not None
    assert f.value < -60


def test_todays_run_does_not_change_tsb() -> None:
    base = steady_runs(ago(1), 6)
    assert training.tsb_pct(context(History.of([*base, run(DAY, 40)]))) == training.tsb_pct(
        context(History.of(base))
    )


# --- monotony ------------------------------------------------------------------------------


def test_the_same_load_every_day_is_capped_monotony_and_a_caution() -> None:
    ctx = daily_loads(*[60.0] * 7)
    assert training.monotony_value(ctx) == training.MONOTONY_CAP
    f = only(training.monotony(ctx, settings.Monotony()))
    assert f.rule == "monotony"
    assert f.severity is Severity.CAUTION
    assert (f.value, f.threshold, f.unit) == (10.0, 2.0, "ratio")
    assert f.citation == training.CITE_MONOTONY


def test_five_equal_runs_and_two_rest_days_are_varied_enough() -> None:
    ctx = daily_loads(44, 44, 0, 44, 44, 0, 44)
    assert training.monotony_value(ctx) == pytest.approx(5 / math.sqrt(10))
    assert training.monotony(ctx, settings.Monotony()) == []


def test_six_equal_runs_and_one_rest_day_are_too_monotonous() -> None:
    ctx = daily_loads(44, 44, 44, 0, 44, 44, 44)
    assert training.monotony_value(ctx) == pytest.approx(math.sqrt(6))
    assert only(training.monotony(ctx, settings.Monotony())).value == 2.45


def test_monotony_at_its_threshold_is_fine_and_just_over_is_not() -> None:
    ctx = daily_loads(30, 60, 0, 45, 50, 0, 90)
    value = training.monotony_value(ctx)
    assert value is not None
    assert training.monotony(ctx, settings.Monotony(max=value)) == []
    assert only(training.monotony(ctx, settings.Monotony(max=value - 0.01)))


def test_nearly_identical_loads_are_capped_too() -> None:
    value = training.monotony_value(daily_loads(60, 60, 60, 60, 60, 60, 60.0001))
    assert value == training.MONOTONY_CAP


def test_a_week_without_load_has_no_monotony() -> None:
    ctx = daily_loads(60, 0, 0, 0, 0, 0, 0, 0)
    assert training.monotony_value(ctx) is None
    assert training.monotony(ctx, settings.Monotony()) == []
    assert training.monotony_value(context(History())) is None


def test_monotony_looks_at_the_last_seven_local_days() -> None:
    week = [run(ago(d), 8) for d in range(1, 6)]
    inside = context(History.of([*week, run(ago(6), 8, hour=0.5), run(DAY, 8)]))
    outside = context(History.of([*week, run(ago(7), 8, hour=23.5), run(DAY, 8)]))
    assert training.monotony_value(inside) == training.MONOTONY_CAP
    assert training.monotony_value(outside) == pytest.approx(math.sqrt(6))


# --- no_rest_day ---------------------------------------------------------------------------


def streak(days: int, *, from_day: int = 0, hour: float | None = None) -> Sequence[Finding]:
    """Runs on `days` consecutive days ending `from_day` days ago, evaluated at `hour` today."""
    runs = [run(ago(d), 5, hour=6) for d in range(from_day, from_day + days)]
    return training.no_rest_day(context(History.of(runs), hour=hour), settings.NoRestDay())


def rest_day_findings(activities: list[Activity], hour: float | None = None) -> Sequence[Finding]:
    ctx = context(History.of(activities), hour=hour)
    return training.no_rest_day(ctx, settings.NoRestDay())


def test_seven_days_in_a_row_is_a_moderate_reason_to_rest() -> None:
    f = only(streak(7))
    assert f.rule == "no_rest_day"
    assert f.severity is Severity.MODERATE
    assert (f.value, f.threshold, f.unit) == (7, 6, "days")
    assert f.message.startswith("7 days in a row with a training session")
    assert "a walk is fine" in f.message
    assert f.citation == training.CITE_NO_REST_DAY


def test_six_days_in_a_row_is_fine() -> None:
    assert streak(6) == []


@pytest.mark.parametrize("days", [8, 9, 15])
def test_the_days_after_the_seventh_in_a_row_are_a_caution(days: int) -> None:
    # v1 gave a moderate (an easy day) on every one of them: 23 easy days in a row for one athlete.
    f = only(streak(days))
    assert (f.severity, f.value, f.threshold) == (Severity.CAUTION, days, 6)
    assert f.message.startswith(f"{days} days in a row")


def test_seven_days_up_to_yesterday_count_this_morning() -> None:
    assert only(streak(7, from_day=1, hour=8)).value == 7


def test_a_day_that_ended_without_a_training_session_was_the_rest_day() -> None:
    assert streak(7, from_day=1) == []  # evaluated at the end of today, as `status --date` does


def test_a_rest_day_yesterday_resets_the_streak() -> None:
    runs = [run(DAY, 5), *[run(ago(d), 5) for d in range(2, 12)]]
    assert rest_day_findings(runs) == []


def test_no_activities_is_silent() -> None:
    assert rest_day_findings([]) == []


def test_a_session_just_after_local_midnight_is_no_rest_day() -> None:
    runs = [*[run(ago(d), 5) for d in range(1, 7)], workout(DAY, 30, hour=0.5)]
    assert only(rest_day_findings(runs)).severity is Severity.MODERATE


@pytest.mark.parametrize("sport", ["Walk", "Hike", "Yoga"])
def test_a_walk_hike_or_yoga_of_any_length_does_not_break_a_rest_day(sport: str) -> None:
    # v1 counted a 20-minute walk as training.
    six_days = [run(ago(d), 5) for d in range(1, 7)]
    assert rest_day_findings([*six_days, workout(DAY, 120, sport=sport)]) == []
    mid_streak = [
        *(run(ago(d), 5) for d in (0, 1, 2, *range(4, 10))),
        workout(ago(3), 90, sport=sport),
    ]
    assert rest_day_findings(mid_streak) == []  # three days in a row, then the rest day


def test_a_strength_session_of_30_minutes_is_training() -> None:
    six_days = [run(ago(d), 5) for d in range(1, 7)]
    assert only(rest_day_findings([*six_days, workout(DAY, 30)])).value == 7
    mid_streak = [*(run(ago(d), 5) for d in (0, 1, 2, *range(4, 10))), workout(ago(3), 30)]
    assert only(rest_day_findings(mid_streak)).value == 10


@pytest.mark.parametrize("sport", ["WeightTraining", "Ride", "Swim", "Rowing"])
def test_a_session_other_than_a_run_under_30_minutes_is_not_training(sport: str) -> None:
    six_days = [run(ago(d), 5) for d in range(1, 7)]
    assert rest_day_findings([*six_days, workout(DAY, 29, sport=sport)]) == []
    assert only(rest_day_findings([*six_days, workout(DAY, 30, sport=sport)])).value == 7


def test_a_run_of_any_length_is_training() -> None:
    six_days = [run(ago(d), 5) for d in range(1, 7)]
    assert only(rest_day_findings([*six_days, run(DAY, 1.5, minutes=10)])).value == 7


def test_two_short_sessions_on_a_day_are_not_one_long_one() -> None:
    six_days = [run(ago(d), 5) for d in range(1, 7)]
    short = [workout(DAY, 20, hour=8), workout(DAY, 20, hour=18)]
    assert rest_day_findings([*six_days, *short]) == []


def test_the_minutes_that_make_a_training_session_are_configurable() -> None:
    six_days = [run(ago(d), 5) for d in range(1, 7)]
    ctx = context(History.of([*six_days, workout(DAY, 20, sport="Ride")]))
    assert training.no_rest_day(ctx, settings.NoRestDay()) == []
    assert only(training.no_rest_day(ctx, settings.NoRestDay(min_minutes=15))).value == 7


def test_the_streak_is_the_days_since_rest_of_the_metrics() -> None:
    activities = [*(run(ago(d), 5) for d in range(1, 9)), workout(DAY, 60, sport="Walk")]
    rec = evaluate_on(History.of(activities), hour=12)
    assert rec.metrics.days_since_rest == 8
    assert rec.metrics.days_since_rest == context(History.of(activities), hour=12).rest_streak(30)


# --- deload --------------------------------------------------------------------------------


def weekly_blocks(*minutes: float) -> list[Activity]:
    """One run a day, each 7-day block (oldest first, the last ending today) at its load."""
    out = []
    for block, total in enumerate(reversed(minutes)):
        for day in range(7):
            out.append(run(ago(block * 7 + day), 0, minutes=total / 7))
    return out


def deload(*minutes: float, t: settings.Deload | None = None) -> Sequence[Finding]:
    ctx = context(History.of(weekly_blocks(*minutes)))
    return training.deload(ctx, t or settings.Deload())


def test_three_weeks_of_rising_load_suggest_a_lighter_fourth() -> None:
    f = only(deload(200, 210, 220, 230))
    assert f.rule == "deload"
    assert f.severity is Severity.INFO
    assert (f.value, f.threshold, f.unit) == (230.0, 161.0, "load")
    assert "70 %" in f.message
    assert "161" in f.message
    assert f.citation == training.CITE_DELOAD


def test_a_week_no_higher_than_the_one_before_breaks_the_build() -> None:
    assert deload(200, 210, 210, 230) == []
    assert deload(200, 210, 230, 220) == []


def test_deload_needs_four_weeks_of_history() -> None:
    assert deload(210, 220, 230) == []


def test_deload_follows_its_settings() -> None:
    two = settings.Deload(build_weeks=2, deload_pct=60)
    assert only(deload(300, 210, 220, 230, t=two)).threshold == 138.0
    assert deload(200, 210, 220, 230, t=settings.Deload(build_weeks=4)) == []


# --- the whole picture, through the engine -----------------------------------------------

MY_RULES = ("weekly_increase", "run_spike", "acwr", "tsb", "monotony", "no_rest_day", "deload")
ONLY_MINE = RulesConfig.model_validate(
    {rule: {"enabled": False} for rule in RULE_IDS if rule not in MY_RULES}
)
# A sensible plan: five runs a week, the Sunday long run about 30 % of the week.
PLAN_SHARES = {0: 0.17, 1: 0.18, 3: 0.20, 5: 0.15, 6: 0.30}  # weekday → share of the week
PLAN_FIRST_WEEK_KM = 30.0
PLAN_GROWTH = 1.05  # +5 % a week
PLAN_DELOAD_EVERY = 4  # every fourth week is lighter …
PLAN_DELOAD_SHARE = 0.70  # … at 70 % of the week before
PLAN_WEEKS = 18
EVALUATED_DAYS = 12 * 7
HANDFUL = 5  # caution days a sensible plan may see in 12 weeks
LAST_SUNDAY = DAY + timedelta(days=6 - DAY.weekday())


def plan_weeks(weeks: int, *, grow_through_deloads: bool = False) -> list[float]:
    """Km per week: +5 % a week, every fourth week 70 % of the week before.

    After a lighter week the build resumes 5 % above the last build week; with
    `grow_through_deloads` the 5 % compounds through the lighter week too, so the week after
    it is 10.25 % above the last build week.
    """
    out: list[float] = []
    build = PLAN_FIRST_WEEK_KM
    for week in range(weeks):
        deload_week = week % PLAN_DELOAD_EVERY == PLAN_DELOAD_EVERY - 1
        if week and (grow_through_deloads or not deload_week):
            build *= PLAN_GROWTH
        out.append(build * PLAN_DELOAD_SHARE if deload_week else build)
    return out


def sensible_plan(
    weeks: int, last_sunday: date = LAST_SUNDAY, *, grow_through_deloads: bool = False
) -> list[Activity]:
    monday = last_sunday - timedelta(days=7 * weeks - 1)
    volumes = plan_weeks(weeks, grow_through_deloads=grow_through_deloads)
    return [
        run(monday + timedelta(days=7 * week + weekday), round(volume * share, 1))
        for week, volume in enumerate(volumes)
        for weekday, share in PLAN_SHARES.items()
    ]


def caution_days_over_12_weeks(history: History) -> list[date]:
    """Easy days; fails on any moderate or stronger finding of the load rules."""
    caution_days = []
    for back in range(EVALUATED_DAYS):
        day = LAST_SUNDAY - timedelta(days=back)
        rec = evaluate_on(history, day, rules=ONLY_MINE)
        loud = [f for f in rec.reasons if f.severity.rank >= Severity.MODERATE.rank]
        assert loud == [], (day, loud)
        assert rec.status in (Status.TRAIN, Status.EASY)
        if rec.status is Status.EASY:
            caution_days.append(day)
    return caution_days


def test_a_sensible_plan_never_gets_more_than_a_caution_from_the_load_rules() -> None:
    caution_days = caution_days_over_12_weeks(History.of(sensible_plan(PLAN_WEEKS)))
    assert len(caution_days) <= HANDFUL, caution_days


def test_whole_catalogue_a_five_percent_plan_with_lighter_fourth_weeks_never_rests() -> None:
    """Issue 10: +5 % a week, every fourth week lighter: no rest day in 12 weeks, and at most
    2 easy days in the last 28."""
    history = History.of(sensible_plan(PLAN_WEEKS))
    statuses = {}
    for back in range(EVALUATED_DAYS):
        day = LAST_SUNDAY - timedelta(days=back)
        rec = evaluate_on(history, day)
        assert not rec.rest_day_recommended, (day, rec.reasons)
        statuses[day] = rec.status
    last_28 = [day for day, status in statuses.items() if day > LAST_SUNDAY - timedelta(days=28)]
    easy = [day for day in last_28 if statuses[day] is Status.EASY]
    assert len(last_28) == 28
    assert len(easy) <= 2, easy


def test_a_plan_growing_through_its_lighter_weeks_is_never_told_to_go_easy() -> None:
    history = History.of(sensible_plan(PLAN_WEEKS, grow_through_deloads=True))
    caution_days = caution_days_over_12_weeks(history)
    assert caution_days == []
    # The week after each lighter week is +10.25 % on the last build week: weekly_increase
    # notes it (v1: a caution, an easy day) from its Sunday until that week is inside the
    # baseline, 7 days later.
    sundays_after_deload = [
        LAST_SUNDAY - timedelta(days=7 * weeks_back) for weeks_back in (1, 5, 9)
    ]
    after_deload = {sunday + timedelta(days=d) for sunday in sundays_after_deload for d in range(7)}
    noted = set()
    for back in range(EVALUATED_DAYS):
        day = LAST_SUNDAY - timedelta(days=back)
        for f in evaluate_on(history, day, rules=ONLY_MINE).reasons:
            if f.rule == "weekly_increase":
                assert f.severity is Severity.INFO, (day, f)
                noted.add(day)
    assert noted
    assert noted <= after_deload, sorted(noted - after_deload)


def test_a_sensible_plan_is_told_when_to_deload_and_its_lighter_week_stays_train() -> None:
    history = History.of(sensible_plan(PLAN_WEEKS))
    # The Sunday closing the third build week, before the lighter fourth.
    end_of_build = LAST_SUNDAY - timedelta(days=7 * 3)
    assert plan_weeks(PLAN_WEEKS)[-3] < plan_weeks(PLAN_WEEKS)[-4]
    rules = [f.rule for f in evaluate_on(history, end_of_build, rules=ONLY_MINE).reasons]
    assert rules == ["deload"]
    # In the lighter week the ratio drops under 0.8: a note, never a warning.
    lighter_week = [end_of_build + timedelta(days=d) for d in range(1, 8)]
    notes = [evaluate_on(history, day, rules=ONLY_MINE) for day in lighter_week]
    assert all(rec.status is Status.TRAIN for rec in notes)
    assert any(f.rule == "acwr" for rec in notes for f in rec.reasons)


def test_doubling_the_week_into_a_double_long_run_without_rest_means_rest() -> None:
    base_weeks = PLAN_WEEKS - 3  # ends on a build week
    last_base_sunday = LAST_SUNDAY - timedelta(days=7)
    base = sensible_plan(base_weeks, last_base_sunday)
    week_km = sum(a.distance_km for a in base[-len(PLAN_SHARES) :])
    longest = max(a.distance_km for a in base[-len(PLAN_SHARES) :])
    long_run = 2 * longest
    daily = (2 * week_km - long_run) / 6
    big_week = [run(LAST_SUNDAY - timedelta(days=d), daily) for d in range(1, 7)]
    history = History.of([*base, *big_week, run(LAST_SUNDAY, long_run)])

    rec = evaluate_on(history, LAST_SUNDAY, rules=ONLY_MINE)
    assert rec.status is Status.REST
    assert rec.rest_day_recommended
    severities = {f.rule: f.severity for f in rec.reasons}
    assert severities["weekly_increase"] is Severity.MODERATE
    assert severities["run_spike"] is Severity.MODERATE  # exactly double: not "strong"
    # Saturday and Sunday of the plan, then seven days: the 9th day in a row (v1: moderate).
    assert severities["no_rest_day"] is Severity.CAUTION
    assert rec.metrics.days_since_rest == 9
