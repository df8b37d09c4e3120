"""Sleep rules: `sleep_short`, `sleep_debt`, `hrv`, `resting_hr`."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from restday.models import Finding, History, Severity, SleepSession, Status
from restday.rules import settings, sleep
from tests.factories import DAY, context, days_before, evaluate_on, night

GOOD_NIGHT_H = 8.0  # enough sleep: no sleep rule fires on it


def rank(findings: Sequence[Finding]) -> int:
    """The highest severity rank among the findings, -1 for none."""
    return max((f.severity.rank for f in findings), default=-1)


def only(findings: Sequence[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def short(*nights: SleepSession, hour: float | None = None) -> Sequence[Finding]:
    return sleep.sleep_short(context(History.of(sleeps=nights), hour=hour), settings.SleepShort())


# --- sleep_short ------------------------------------------------------------------------


def test_five_and_a_half_hours_sleep_is_a_moderate_reason_to_go_easy() -> None:
    f = only(short(night(DAY, 5.5)))
    assert f.rule == "sleep_short"
    assert f.severity is Severity.MODERATE
    assert (f.value, f.threshold, f.unit) == (5.5, 6.0, "h")
    assert "5.5 h" in f.message
    assert "under 6 h" in f.message
    assert f.citation == sleep.CITE_SLEEP_SHORT


def test_four_and_a_half_hours_sleep_is_a_strong_reason_to_rest() -> None:
    f = only(short(night(DAY, 4.5)))
    assert f.severity is Severity.STRONG
    assert (f.value, f.threshold) == (4.5, 5.0)
    assert "under 5 h" in f.message


def test_exactly_six_hours_sleep_is_enough() -> None:
    assert short(night(DAY, 6.0)) == []


def test_seven_hours_sleep_is_enough() -> None:
    assert short(night(DAY, 7.0)) == []


def test_exactly_five_hours_sleep_is_moderate_not_strong() -> None:
    f = only(short(night(DAY, 5.0)))
    assert f.severity is Severity.MODERATE
    assert f.threshold == 6.0


def test_no_sleep_recorded_last_night_is_silent() -> None:
    assert short() == []
    assert short(night(DAY - timedelta(days=1), 3.0)) == []


def test_night_ending_at_six_local_counts_for_today() -> None:
    assert only(short(night(DAY, 4.0, end_hour=6.0))).severity is Severity.STRONG


def test_sleep_ending_half_past_midnight_local_counts_for_today() -> None:
    # 00:30 in Berlin is 23:30 UTC on the previous day.
    session = night(DAY, 4.0, end_hour=0.5)
    assert session.end.date() == DAY - timedelta(days=1)
    assert only(short(session)).severity is Severity.STRONG


def test_an_afternoon_nap_is_not_last_night() -> None:
    assert short(night(DAY, 4.0, end_hour=15.0)) == []
    assert only(short(night(DAY, 5.5), night(DAY, 2.0, end_hour=15.0))).value == 5.5


def test_a_split_night_counts_whole() -> None:
    f = only(short(night(DAY, 3.0, end_hour=2.0), night(DAY, 2.5, end_hour=7.0)))
    assert f.severity is Severity.MODERATE
    assert f.value == 5.5


def test_a_night_not_yet_over_is_not_counted() -> None:
    assert short(night(DAY, 4.0, end_hour=7.0), hour=6.0) == []


def test_message_does_not_round_a_short_night_up_to_the_limit() -> None:
    f = only(short(night(DAY, 5.96)))
    assert "5.96 h" in f.message


def test_sleep_short_thresholds_are_configurable() -> None:
    ctx = context(History.of(sleeps=[night(DAY, 6.5)]))
    f = only(sleep.sleep_short(ctx, settings.SleepShort(min_hours=7.0, rest_hours=5.0)))
    assert (f.severity, f.threshold) == (Severity.MODERATE, 7.0)


@given(
    st.floats(min_value=0.5, max_value=12.0),
    st.floats(min_value=0.0, max_value=6.0),
)
def test_more_sleep_last_night_never_adds_a_sleep_short_finding(hours: float, more: float) -> None:
    assert rank(short(night(DAY, hours + more))) <= rank(short(night(DAY, hours)))


# --- sleep_debt ---------------------------------------------------------------------------


def nights(hours: Sequence[float | None]) -> History:
    """hours[0] is last night, hours[1] the night before, …; None is an untracked night."""
    return History.of(
        sleeps=[night(days_before(DAY, i), h) for i, h in enumerate(hours) if h is not None]
    )


def debt_findings(hours: Sequence[float | None]) -> Sequence[Finding]:
    return sleep.sleep_debt(context(nights(hours)), settings.SleepDebt())


def test_two_weeks_of_seven_and_a_half_hours_is_a_sleep_debt() -> None:
    f = only(debt_findings([7.5] * 14))
    assert f.rule == "sleep_debt"
    assert f.severity is Severity.MODERATE
    assert (f.value, f.threshold, f.unit) == (7.0, 5.0, "h")
    assert "last 14 nights" in f.message
    assert f.citation == sleep.CITE_SLEEP_DEBT


def test_sleep_debt_of_exactly_five_hours_is_tolerated() -> None:
    assert sleep.debt(context(nights([7.5] * 10 + [8.0] * 4)), 8.0) == (5.0, 0)
    assert debt_findings([7.5] * 10 + [8.0] * 4) == []


def test_sleep_debt_just_over_five_hours_fires() -> None:
    assert only(debt_findings([7.5] * 11 + [8.0] * 3)).value == 5.5


def test_sleep_debt_under_five_hours_is_tolerated() -> None:
    assert debt_findings([7.5] * 9 + [8.0] * 5) == []


def test_untracked_nights_are_skipped_and_named() -> None:
    hours: list[float | None] = [7.0] * 10 + [None] * 4
    assert sleep.debt(context(nights(hours)), 8.0) == (10.0, 4)
    assert "10 tracked nights of the last 14" in only(debt_findings(hours)).message


def test_no_sleep_data_has_no_debt_and_is_silent() -> None:
    assert sleep.debt(context(History()), 8.0) == (None, 14)
    assert debt_findings([]) == []


def test_nights_older_than_two_weeks_do_not_count() -> None:
    assert sleep.debt(context(nights([8.0] * 14 + [0.5])), 8.0) == (0.0, 0)


def test_long_nights_do_not_pay_back_short_ones() -> None:
    assert only(debt_findings([6.5] * 7 + [10.0] * 7)).value == 10.5


def test_afternoon_naps_do_not_pay_back_sleep_debt() -> None:
    history = History.of(
        sleeps=[night(days_before(DAY, i), 7.0) for i in range(14)]
        + [night(days_before(DAY, i), 2.0, end_hour=16.0) for i in range(14)]
    )
    assert sleep.debt(context(history), 8.0) == (14.0, 0)


@given(
    st.lists(st.none() | st.floats(min_value=0.0, max_value=12.0), min_size=14, max_size=14),
    st.integers(min_value=0, max_value=13),
    st.floats(min_value=0.0, max_value=6.0),
)
def test_more_sleep_on_any_night_never_raises_the_debt(
    hours: list[float | None], which: int, more: float
) -> None:
    slept = hours[which]
    assume(slept is not None)
    assert slept is not None
    before, _ = sleep.debt(context(nights(hours)), 8.0)
    more_sleep = list(hours)
    more_sleep[which] = slept + more
    after, _ = sleep.debt(context(nights(more_sleep)), 8.0)
    assert before is not None
    assert after is not None
    assert after <= before


# --- hrv ----------------------------------------------------------------------------------


def hrv_history(baseline_ms: Sequence[float], week_ms: Sequence[float]) -> History:
    """week_ms for the nights up to today (last is today), baseline_ms for the nights before."""
    week_days = [days_before(DAY, i) for i in reversed(range(len(week_ms)))]
    base_days = [days_before(DAY, 7 + i) for i in reversed(range(len(baseline_ms)))]
    return History.of(
        sleeps=[
            night(day, GOOD_NIGHT_H, hrv=ms)
            for day, ms in zip(base_days + week_days, [*baseline_ms, *week_ms], strict=True)
        ]
    )


def hrv_findings(history: History, min_nights: int = 14) -> Sequence[Finding]:
    return sleep.hrv(context(history), settings.Hrv(min_nights=min_nights))


ALTERNATING_53 = [45.0 if i % 2 else 55.0 for i in range(53)]


def test_a_week_of_low_hrv_is_a_moderate_reason() -> None:
    f = only(hrv_findings(hrv_history(ALTERNATING_53, [40.0] * 7)))
    logs = [math.log(ms) for ms in [*ALTERNATING_53, *[40.0] * 7]]
    limit = statistics.mean(logs) - 0.5 * statistics.stdev(logs)
    assert f.rule == "hrv"
    assert f.severity is Severity.MODERATE
    assert f.value == pytest.approx(math.log(40.0), abs=0.005)
    assert f.threshold == pytest.approx(limit, abs=0.005)
    assert f.unit == "ln ms"
    assert f.citation == sleep.CITE_HRV


def test_perfectly_steady_hrv_sits_at_the_limit_and_is_silent() -> None:
    # SD 0: the week's mean equals mean − 0.5 SD exactly.
    assert hrv_findings(hrv_history([50.0] * 53, [50.0] * 7)) == []


def test_a_hair_below_a_steady_baseline_fires() -> None:
    assert only(hrv_findings(hrv_history([50.0] * 53, [49.0] * 7))).severity is Severity.MODERATE


def test_hrv_within_half_an_sd_of_normal_is_silent() -> None:
    assert hrv_findings(hrv_history(ALTERNATING_53, [49.0] * 7)) == []


def test_high_hrv_is_silent() -> None:
    assert hrv_findings(hrv_history(ALTERNATING_53, [70.0] * 7)) == []


def test_hrv_needs_fourteen_nights_of_baseline() -> None:
    baseline = [55.0, 65.0, 55.0, 65.0, 55.0, 65.0, 60.0]
    assert only(hrv_findings(hrv_history(baseline, [40.0] * 7))).severity is Severity.MODERATE
    assert hrv_findings(hrv_history(baseline[1:], [40.0] * 7)) == []


def test_hrv_needs_three_nights_this_week() -> None:
    assert only(hrv_findings(hrv_history(ALTERNATING_53, [40.0] * 3)))
    history = hrv_history(ALTERNATING_53 + [50.0] * 5, [40.0] * 2)
    assert hrv_findings(history) == []


def test_hrv_of_afternoon_naps_is_ignored() -> None:
    history = hrv_history(ALTERNATING_53, [50.0] * 7)
    naps = [night(days_before(DAY, i), 1.0, end_hour=15.0, hrv=20.0) for i in range(7)]
    assert hrv_findings(History.of(sleeps=[*history.sleeps, *naps])) == []


def test_hrv_of_a_split_night_is_averaged() -> None:
    # 30 and 70 ms average to 50 ms: a normal night after 59 nights of 50 ms.
    steady = [night(days_before(DAY, i), GOOD_NIGHT_H, hrv=50.0) for i in range(1, 60)]
    split = [
        night(DAY, 3.0, end_hour=2.0, hrv=30.0),
        night(DAY, 4.0, end_hour=7.0, hrv=70.0),
    ]
    assert hrv_findings(History.of(sleeps=[*steady, *split])) == []
    # 30 and 50 ms average to 40 ms: a low night, though its second part was normal.
    low = [night(DAY, 3.0, end_hour=2.0, hrv=30.0), night(DAY, 4.0, end_hour=7.0, hrv=50.0)]
    assert only(hrv_findings(History.of(sleeps=[*steady, *low])))


def test_no_hrv_data_is_silent() -> None:
    assert hrv_findings(nights([GOOD_NIGHT_H] * 60)) == []


# --- resting_hr ---------------------------------------------------------------------------


def rhr_history(baseline: Sequence[float], yesterday: float | None, today: float | None) -> History:
    """baseline for the nights today-2, today-3, …; then yesterday's and today's resting HR."""
    sleeps = [night(days_before(DAY, 2 + i), GOOD_NIGHT_H, rhr=b) for i, b in enumerate(baseline)]
    for back, bpm in ((1, yesterday), (0, today)):
        if bpm is not None:
            sleeps.append(night(days_before(DAY, back), GOOD_NIGHT_H, rhr=bpm))
    return History.of(sleeps=sleeps)


def rhr_findings(history: History) -> Sequence[Finding]:
    return sleep.resting_hr(context(history), settings.RestingHr())


STEADY_50 = [50.0] * 30


def test_resting_hr_up_two_mornings_running_is_a_caution() -> None:
    f = only(rhr_findings(rhr_history(STEADY_50, 56.0, 56.0)))
    assert f.rule == "resting_hr"
    assert f.severity is Severity.CAUTION
    assert (f.value, f.threshold, f.unit) == (6.0, 5.0, "bpm")
    assert f.citation == sleep.CITE_RESTING_HR


def test_resting_hr_exactly_five_above_is_silent() -> None:
    assert rhr_findings(rhr_history(STEADY_50, 56.0, 55.0)) == []
    assert rhr_findings(rhr_history(STEADY_50, 55.0, 56.0)) == []


def test_resting_hr_four_above_is_silent() -> None:
    assert rhr_findings(rhr_history(STEADY_50, 54.0, 54.0)) == []


def test_one_high_morning_is_not_enough() -> None:
    assert rhr_findings(rhr_history(STEADY_50, 50.0, 60.0)) == []
    assert rhr_findings(rhr_history(STEADY_50, None, 60.0)) == []
    assert rhr_findings(rhr_history(STEADY_50, 60.0, None)) == []


def test_a_noisy_baseline_needs_more_than_one_sd() -> None:
    noisy = [42.0, 58.0] * 15  # mean 50, SD about 8.1 bpm
    sd = statistics.stdev(noisy)
    assert rhr_findings(rhr_history(noisy, 57.0, 57.0)) == []
    f = only(rhr_findings(rhr_history(noisy, 59.0, 59.0)))
    assert f.threshold == pytest.approx(sd, abs=0.005)


def test_resting_hr_needs_seven_baseline_nights() -> None:
    assert only(rhr_findings(rhr_history([50.0] * 7, 60.0, 60.0)))
    assert rhr_findings(rhr_history([50.0] * 6, 60.0, 60.0)) == []


def test_resting_hr_baseline_is_the_thirty_days_before_yesterday() -> None:
    # Seven nights, but 31–37 days before yesterday: outside the baseline window.
    old = [night(days_before(DAY, 32 + i), GOOD_NIGHT_H, rhr=50.0) for i in range(7)]
    recent = rhr_history([], 60.0, 60.0)
    assert rhr_findings(History.of(sleeps=[*old, *recent.sleeps])) == []
    inside = [night(days_before(DAY, 25 + i), GOOD_NIGHT_H, rhr=50.0) for i in range(7)]
    assert only(rhr_findings(History.of(sleeps=[*inside, *recent.sleeps])))


def test_resting_hr_of_an_afternoon_nap_is_ignored() -> None:
    history = rhr_history(STEADY_50, 60.0, None)
    nap = night(DAY, 1.0, end_hour=15.0, rhr=60.0)
    assert rhr_findings(History.of(sleeps=[*history.sleeps, nap])) == []


# --- through the engine -------------------------------------------------------------------


def status_and_reasons(history: History) -> tuple[Status, dict[str, Severity]]:
    rec = evaluate_on(history)
    return rec.status, {f.rule: f.severity for f in rec.reasons}


def test_five_and_a_half_hours_sleep_alone_makes_an_easy_day() -> None:
    status, reasons = status_and_reasons(History.of(sleeps=[night(DAY, 5.5)]))
    assert status is Status.EASY
    assert reasons["sleep_short"] is Severity.MODERATE


def test_four_and_a_half_hours_sleep_alone_makes_a_rest_day() -> None:
    rec = evaluate_on(History.of(sleeps=[night(DAY, 4.5)]))
    assert rec.status is Status.REST
    assert rec.rest_day_recommended
    assert rec.reasons[0].rule == "sleep_short"


def test_sleep_debt_reaches_the_reasons_and_metrics() -> None:
    rec = evaluate_on(nights([6.5] * 12))
    assert rec.status is Status.EASY
    assert "sleep_debt" in [f.rule for f in rec.reasons]
    assert rec.metrics.sleep_debt_h == 18.0
    assert rec.metrics.sleep_nights_missing == 2


def test_low_hrv_reaches_the_reasons() -> None:
    status, reasons = status_and_reasons(hrv_history(ALTERNATING_53, [40.0] * 7))
    assert status is Status.EASY
    assert reasons["hrv"] is Severity.MODERATE


def test_high_resting_hr_reaches_the_reasons() -> None:
    status, reasons = status_and_reasons(rhr_history(STEADY_50, 60.0, 60.0))
    assert status is Status.EASY
    assert reasons["resting_hr"] is Severity.CAUTION
