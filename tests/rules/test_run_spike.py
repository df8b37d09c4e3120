"""`run_spike` (RULES.md v2): a run much longer than the recent longest, on its day and, one
step lower, the next morning (restday/rules/spike.py)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from restday.models import Activity, Finding, History, Severity, Status
from restday.rules import RULE_IDS, settings
from restday.rules import spike as spike_rule
from restday.rules.settings import RulesConfig
from tests.factories import (
    DAY,
    ago,
    context,
    evaluate_on,
    night,
    only,
    rank,
    run,
    steady_runs,
    workout,
)

MORNING = 8.0  # an evaluation hour before today's run (the factories' runs start at 07:00 …)
LATE_RUN = 18.0  # … so today's runs here start in the evening


# --- the run's own day ---------------------------------------------------------------------


def spike(today_km: float | None, *, baseline_day: int = 30) -> Sequence[Finding]:
    activities = [run(ago(baseline_day), 10), run(ago(2), 6)]
    if today_km is not None:
        activities.append(run(DAY, today_km))
    return spike_rule.run_spike(context(History.of(activities)), settings.RunSpike())


@pytest.mark.parametrize(
    ("today_km", "severity", "threshold"),
    [
        (11.5, Severity.CAUTION, 10.0),
        (13.0, Severity.CAUTION, 10.0),  # exactly 30 %: not yet moderate
        (13.5, Severity.MODERATE, 30.0),
        (20.0, Severity.MODERATE, 30.0),  # exactly double: not yet strong
        (20.5, Severity.STRONG, 100.0),
    ],
)
def test_a_run_longer_than_the_recent_longest_is_graded_by_how_much(
    today_km: float, severity: Severity, threshold: float
) -> None:
    f = only(spike(today_km))
    assert f.rule == "run_spike"
    assert f.family == "session"
    assert f.severity is severity
    assert f.threshold == threshold
    assert f.value == pytest.approx(today_km * 10 - 100)
    assert f.unit == "%"
    assert f"{today_km:.1f} km" in f.message
    assert "10.0 km" in f.message
    assert f.message.startswith("Today's")
    assert f.run_day is None  # today's own run
    assert f.citation == spike_rule.CITE_RUN_SPIKE


def test_ten_percent_longer_than_the_recent_longest_is_fine() -> None:
    assert spike(11.0) == []
    assert spike(9.0) == []


def test_a_longest_run_31_days_ago_is_not_the_baseline() -> None:
    assert only(spike(13.0, baseline_day=30)).severity is Severity.CAUTION
    assert only(spike(13.0, baseline_day=31)).severity is Severity.STRONG  # vs the 6 km


def test_no_run_today_or_no_run_before_is_silent() -> None:
    assert spike(None) == []
    lone = context(History.of([run(DAY, 25)]))
    assert spike_rule.run_spike(lone, settings.RunSpike()) == []


def test_before_todays_run_there_is_no_spike_yet() -> None:
    history = History.of([run(ago(10), 10), run(DAY, 25, hour=LATE_RUN)])
    assert spike_rule.run_spike(context(history, hour=12), settings.RunSpike()) == []
    assert only(spike_rule.run_spike(context(history), settings.RunSpike())).value == 150.0


def test_the_longest_run_of_today_counts_not_the_total() -> None:
    history = History.of([run(ago(10), 10), run(DAY, 7), run(DAY, 7, hour=LATE_RUN)])
    assert spike_rule.run_spike(context(history), settings.RunSpike()) == []


def test_a_run_at_half_past_midnight_local_is_todays_run() -> None:
    history = History.of([run(ago(10), 10), run(DAY, 15, hour=0.5)])
    assert only(spike_rule.run_spike(context(history), settings.RunSpike())).value == 50.0


def test_a_long_ride_is_not_a_run_spike() -> None:
    history = History.of([run(ago(10), 10), workout(DAY, 300, sport="Ride")])
    assert spike_rule.run_spike(context(history), settings.RunSpike()) == []


@hyp_settings(max_examples=60, deadline=None)
@given(
    baseline=st.floats(1, 40),
    today=st.floats(0.1, 80),
    shorter_by=st.floats(0, 1),
)
def test_a_shorter_run_today_never_raises_the_spike(
    baseline: float, today: float, shorter_by: float
) -> None:
    def severity(km: float) -> int:
        history = History.of([run(ago(12), round(baseline, 1)), run(DAY, round(km, 1))])
        return rank(spike_rule.run_spike(context(history), settings.RunSpike()))

    assert severity(today * (1 - shorter_by)) <= severity(today)


# --- carried into the next morning (v2) ----------------------------------------------------


def carried(
    *runs: Activity,
    baseline_km: float = 10.0,
    hour: float | None = MORNING,
    t: settings.RunSpike | None = None,
) -> Sequence[Finding]:
    """run_spike today (this morning by default), after a longest run of `baseline_km` 20
    days ago and the given runs."""
    history = History.of([run(ago(20), baseline_km), *runs])
    return spike_rule.run_spike(context(history, hour=hour), t or settings.RunSpike())


def test_yesterdays_moderate_spike_is_a_caution_this_morning() -> None:
    # v1 showed the spike only on the day already run, never in the next morning's report.
    f = only(carried(run(ago(1), 13.5)))  # +35 %, 74 min
    assert f.severity is Severity.CAUTION
    assert (f.value, f.threshold) == (35.0, 30.0)
    assert f.run_day == ago(1)
    assert f.message.startswith("Yesterday's 13.5 km run")
    assert "10.0 km" in f.message


def test_yesterdays_strong_spike_of_a_short_run_is_moderate_this_morning() -> None:
    f = only(carried(run(ago(1), 12.0), baseline_km=5.0))  # 2.4×, 66 min
    assert (f.severity, f.value, f.threshold) == (Severity.MODERATE, 140.0, 100.0)
    assert f.run_day == ago(1)
    assert "2.4×" in f.message


def test_yesterdays_caution_spike_is_silent_this_morning() -> None:
    assert carried(run(ago(1), 11.5)) == []  # +15 %: a caution yesterday


def test_a_carried_spike_holds_for_the_whole_next_day() -> None:
    f = only(carried(run(ago(1), 13.5), hour=None))  # at the end of the day, no run today
    assert (f.severity, f.run_day) == (Severity.CAUTION, ago(1))


def test_a_run_of_15_km_keeps_its_severity_the_next_day() -> None:
    f = only(carried(run(ago(1), 15.0), baseline_km=7.0))  # +114 %, 82.5 min
    assert (f.severity, f.run_day) == (Severity.STRONG, ago(1))


def test_a_run_just_under_15_km_and_90_minutes_is_carried_one_step_lower() -> None:
    f = only(carried(run(ago(1), 14.9), baseline_km=7.0))  # +113 %, 82 min
    assert (f.severity, f.run_day) == (Severity.MODERATE, ago(1))


def test_a_run_of_90_minutes_keeps_its_severity_the_next_day() -> None:
    f = only(carried(run(ago(1), 13.0, minutes=90), baseline_km=6.0))
    assert (f.severity, f.run_day) == (Severity.STRONG, ago(1))
    g = only(carried(run(ago(1), 13.0, minutes=89), baseline_km=6.0))
    assert (g.severity, g.run_day) == (Severity.MODERATE, ago(1))


def test_a_long_run_keeps_a_caution_the_next_day_too() -> None:
    f = only(carried(run(ago(1), 17.0), baseline_km=15.0))  # +13 %, 17 km
    assert (f.severity, f.run_day) == (Severity.CAUTION, ago(1))


def test_the_long_run_limits_are_configurable() -> None:
    t = settings.RunSpike(keep_km=12, keep_minutes=200)
    f = only(carried(run(ago(1), 12.0), baseline_km=5.0, t=t))
    assert f.severity is Severity.STRONG


def test_a_spike_two_days_ago_is_not_carried_by_default() -> None:
    assert carried(run(ago(2), 25.0)) == []


def test_with_no_carry_days_a_spike_counts_on_its_own_day_only() -> None:
    t = settings.RunSpike(carry_days=0)
    assert carried(run(ago(1), 25.0), t=t) == []
    assert only(carried(run(DAY, 25.0), hour=None, t=t)).run_day is None


def test_with_two_carry_days_the_second_morning_is_one_step_lower_even_after_a_long_run() -> None:
    t = settings.RunSpike(carry_days=2)
    f = only(carried(run(ago(2), 25.0), t=t))  # strong, 25 km: kept on day 1 only
    assert (f.severity, f.run_day) == (Severity.MODERATE, ago(2))
    assert f.message.startswith(f"{ago(2):%A}'s 25.0 km run")


def test_a_carried_spike_outranks_a_milder_one_today() -> None:
    # Yesterday 25 km (strong, kept); today 28 km is +12 % on it: a caution of its own.
    f = only(carried(run(ago(1), 25.0), run(DAY, 28.0, hour=LATE_RUN), hour=None))
    assert (f.severity, f.run_day) == (Severity.STRONG, ago(1))


def test_a_spike_today_outranks_a_milder_carried_one() -> None:
    # Yesterday 13.5 km (moderate, a caution today); today 30 km is 2.2× it: strong.
    f = only(carried(run(ago(1), 13.5), run(DAY, 30.0, hour=LATE_RUN), hour=None))
    assert (f.severity, f.run_day) == (Severity.STRONG, None)


def test_at_equal_severity_todays_spike_is_the_one_shown() -> None:
    # Yesterday 13.5 km (moderate, a caution today); today 15 km is +11 % on it: a caution.
    f = only(carried(run(ago(1), 13.5), run(DAY, 15.0, hour=LATE_RUN), hour=None))
    assert (f.severity, f.run_day, f.value) == (Severity.CAUTION, None, 11.11)


SPIKE_AND_SLEEP = RulesConfig.model_validate(
    {rule: {"enabled": False} for rule in RULE_IDS if rule not in ("run_spike", "sleep_short")}
)


def test_a_short_night_the_morning_after_a_spike_is_a_rest_day() -> None:
    runs = [*steady_runs(ago(2), 6, km_per_run=5.0), run(ago(1), 12.0)]  # 2.4× the longest
    rec = evaluate_on(History.of(runs, [night(DAY, 5.5)]), hour=MORNING, rules=SPIKE_AND_SLEEP)
    assert {(f.rule, f.severity) for f in rec.reasons} == {
        ("run_spike", Severity.MODERATE),
        ("sleep_short", Severity.MODERATE),
    }
    assert rec.status is Status.REST
    reasons = rec.to_payload()["reasons"]
    assert isinstance(reasons, list)
    assert [r["run_day"] for r in reasons if r["rule"] == "run_spike"] == [ago(1).isoformat()]
