"""Body-weight rules: `dehydration_post_run`, `weight_drop_morning`, and the latest weight."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restday.models import Activity, BodyMeasurement, Finding, History, Severity, Status
from restday.rules import body, settings
from tests.factories import DAY, context, days_before, evaluate_on, only, rank, run, weigh

YESTERDAY = DAY - timedelta(days=1)
RUN_KM = 10.0  # a 10 km run at 07:00 lasts 56 min (5:30 /km, plus a minute stopped)


# --- latest weight ------------------------------------------------------------------------


def test_latest_weight_is_the_last_weigh_in() -> None:
    history = History.of(body=[weigh(YESTERDAY, 71.0), weigh(DAY, 70.2, hour=8.0)])
    assert body.latest_weight(context(history)) == 70.2


def test_latest_weight_ignores_weigh_ins_after_now() -> None:
    history = History.of(body=[weigh(YESTERDAY, 71.0), weigh(DAY, 70.2, hour=8.0)])
    assert body.latest_weight(context(history, hour=7.5)) == 71.0


def test_no_weigh_in_has_no_weight() -> None:
    assert body.latest_weight(context(History())) is None


# --- dehydration_post_run -----------------------------------------------------------------


def fluid_case(
    pre: float | None,
    post: float | None,
    *,
    pre_hour: float = 6.5,
    post_hour: float = 8.5,
    activity: Activity | None = None,
    hour: float | None = None,
    extra: Sequence[BodyMeasurement] = (),
) -> Sequence[Finding]:
    """A 10 km run today at 07:00 (ends 07:56), weighed at pre_hour and post_hour."""
    weigh_ins = [*extra]
    if pre is not None:
        weigh_ins.append(weigh(DAY, pre, hour=pre_hour))
    if post is not None:
        weigh_ins.append(weigh(DAY, post, hour=post_hour))
    history = History.of(activities=[activity or run(DAY, RUN_KM)], body=weigh_ins)
    return body.dehydration_post_run(context(history, hour=hour), settings.DehydrationPostRun())


def test_fluid_litres_are_one_and_a_quarter_to_one_and_a_half_per_kg() -> None:
    assert body.fluid_litres(1.0) == (1.25, 1.5)
    assert body.fluid_litres(2.0) == (2.5, 3.0)
    assert body.fluid_litres(0.0) == (0.0, 0.0)
    assert body.fluid_litres(-0.5) == (0.0, 0.0)


def test_losing_over_two_percent_on_a_run_is_a_moderate_reason() -> None:
    f = only(fluid_case(75.0, 73.4))
    assert f.rule == "dehydration_post_run"
    assert f.severity is Severity.MODERATE
    assert f.value == pytest.approx(2.13, abs=0.01)
    assert (f.threshold, f.unit) == (2.0, "%")
    assert "dehydrated" in f.message
    assert "2.0–2.4 L" in f.message  # 1.6 kg × 1.25–1.5 L
    assert "electrolytes" in f.message
    assert f.citation == body.CITE_DEHYDRATION


def test_losing_exactly_two_percent_gives_advice_only() -> None:
    f = only(fluid_case(75.0, 73.5))
    assert f.severity is Severity.INFO
    assert (f.value, f.threshold) == (2.0, 2.0)
    assert "1.9–2.2 L" in f.message  # 1.5 kg × 1.25–1.5 L


def test_losing_one_percent_gives_drinking_advice() -> None:
    f = only(fluid_case(75.0, 74.25))
    assert f.severity is Severity.INFO
    assert f.value == 1.0
    assert "drink 0.9–1.1 L over the next hours, with electrolytes" in f.message


def test_no_loss_or_a_gain_after_a_run_is_silent() -> None:
    assert fluid_case(75.0, 75.0) == []
    assert fluid_case(75.0, 75.4) == []


def test_without_a_weigh_in_before_or_after_the_run_it_is_silent() -> None:
    assert fluid_case(75.0, None) == []
    assert fluid_case(None, 73.0) == []
    assert fluid_case(None, None) == []


def test_without_a_run_it_is_silent() -> None:
    history = History.of(body=[weigh(DAY, 75.0, hour=6.5), weigh(DAY, 73.0, hour=8.5)])
    assert body.dehydration_post_run(context(history), settings.DehydrationPostRun()) == []


def test_a_ride_is_not_a_run() -> None:
    assert fluid_case(75.0, 73.0, activity=run(DAY, 30.0, minutes=55, sport="Ride")) == []


def test_pre_weigh_in_up_to_twelve_hours_before_the_start_counts() -> None:
    at_limit = [weigh(YESTERDAY, 75.0, hour=19.0)]  # 12 h before the 07:00 start
    assert only(fluid_case(None, 73.0, extra=at_limit)).severity is Severity.MODERATE
    too_early = [weigh(YESTERDAY, 75.0, hour=18.5)]
    assert fluid_case(None, 73.0, extra=too_early) == []


def test_post_weigh_in_up_to_three_hours_after_the_end_counts() -> None:
    end = 7.0 + 56 / 60  # 07:56
    assert only(fluid_case(75.0, 73.0, post_hour=end + 3.0)).severity is Severity.MODERATE
    assert fluid_case(75.0, 73.0, post_hour=end + 3.25) == []


def test_weigh_in_during_the_run_does_not_count() -> None:
    assert fluid_case(75.0, 73.0, post_hour=7.5) == []


def test_the_last_weigh_in_before_and_the_first_after_are_compared() -> None:
    extra = [weigh(YESTERDAY, 77.0, hour=21.0), weigh(DAY, 70.0, hour=10.0)]
    # Without the closest pair, 77 → 70 kg would be a 9 % loss.
    assert only(fluid_case(75.0, 74.25, extra=extra)).value == 1.0


def test_the_post_run_weigh_in_must_have_happened_by_now() -> None:
    assert fluid_case(75.0, 73.0, hour=8.25) == []


def test_a_run_that_ended_over_a_day_ago_is_not_judged() -> None:
    history = History.of(
        activities=[run(YESTERDAY, RUN_KM)],
        body=[weigh(YESTERDAY, 75.0, hour=6.5), weigh(YESTERDAY, 73.0, hour=8.5)],
    )
    assert body.dehydration_post_run(context(history), settings.DehydrationPostRun()) == []
    f = only(body.dehydration_post_run(context(history, hour=7.0), settings.DehydrationPostRun()))
    assert f.severity is Severity.MODERATE


def test_last_evenings_run_is_judged_the_next_morning() -> None:
    history = History.of(
        activities=[run(YESTERDAY, RUN_KM, hour=19.0)],
        body=[weigh(YESTERDAY, 75.0, hour=18.5), weigh(YESTERDAY, 73.0, hour=20.5)],
    )
    ctx = context(history, hour=9.0)
    assert only(body.dehydration_post_run(ctx, settings.DehydrationPostRun())).value == 2.67


def test_only_the_latest_run_is_judged() -> None:
    history = History.of(
        activities=[run(DAY, RUN_KM), run(DAY, 5.0, hour=17.0)],
        body=[weigh(DAY, 75.0, hour=6.5), weigh(DAY, 73.0, hour=8.5)],
    )
    # The evening run has a weigh-in before it (08:30) but none after.
    assert body.dehydration_post_run(context(history), settings.DehydrationPostRun()) == []
    f = only(body.dehydration_post_run(context(history, hour=12.0), settings.DehydrationPostRun()))
    assert f.severity is Severity.MODERATE


@given(
    st.floats(min_value=60.0, max_value=80.0),
    st.floats(min_value=0.0, max_value=5.0),
)
def test_a_heavier_post_run_weigh_in_never_raises_the_severity(post: float, more: float) -> None:
    assert rank(fluid_case(75.0, post + more)) <= rank(fluid_case(75.0, post))


# --- weight_drop_morning ------------------------------------------------------------------


def mornings(previous: Sequence[float], today: float | None, *, hour: float = 7.0) -> History:
    """previous[0] is yesterday morning's weight, previous[1] the day before's, …"""
    weigh_ins = [weigh(days_before(DAY, 1 + i), kg) for i, kg in enumerate(previous)]
    if today is not None:
        weigh_ins.append(weigh(DAY, today, hour=hour))
    return History.of(body=weigh_ins)


def drop(history: History) -> Sequence[Finding]:
    return body.weight_drop_morning(context(history), settings.WeightDropMorning())


USUAL_75 = [75.0] * 5


def test_a_morning_weight_two_percent_down_is_a_moderate_reason() -> None:
    f = only(drop(mornings(USUAL_75, 73.4)))
    assert f.rule == "weight_drop_morning"
    assert f.severity is Severity.MODERATE
    assert f.value == pytest.approx(2.13, abs=0.01)
    assert (f.threshold, f.unit) == (2.0, "%")
    assert "fluid" in f.message
    assert "75.0 kg" in f.message
    assert f.citation == body.CITE_WEIGHT_DROP


def test_a_morning_weight_exactly_two_percent_down_is_a_caution() -> None:
    f = only(drop(mornings(USUAL_75, 73.5)))
    assert (f.severity, f.value, f.threshold) == (Severity.CAUTION, 2.0, 1.0)


def test_a_morning_weight_between_one_and_two_percent_down_is_a_caution() -> None:
    f = only(drop(mornings(USUAL_75, 74.0)))
    assert f.severity is Severity.CAUTION
    assert f.value == pytest.approx(1.33, abs=0.01)


def test_a_morning_weight_exactly_one_percent_down_is_normal() -> None:
    assert drop(mornings(USUAL_75, 74.25)) == []


def test_exactly_one_percent_stays_normal_despite_float_rounding() -> None:
    # (70 − 69.3) / 70 · 100 is 1.0000000000000042 in floating point: still exactly 1 %.
    assert drop(mornings([70.0] * 5, 69.3)) == []


def test_a_small_drop_or_a_gain_is_silent() -> None:
    assert drop(mornings(USUAL_75, 74.5)) == []
    assert drop(mornings(USUAL_75, 76.0)) == []


def test_no_weigh_in_this_morning_is_silent() -> None:
    assert drop(mornings(USUAL_75, None)) == []


def test_an_afternoon_weigh_in_is_not_a_morning_one() -> None:
    assert drop(mornings(USUAL_75, 73.0, hour=12.5)) == []
    assert only(drop(mornings(USUAL_75, 73.0, hour=11.5))).severity is Severity.MODERATE


def test_a_weigh_in_at_half_past_midnight_local_counts_for_today() -> None:
    history = mornings(USUAL_75, 73.0, hour=0.5)
    assert history.body[-1].time.date() == YESTERDAY  # 23:30 UTC
    assert only(drop(history)).severity is Severity.MODERATE


def test_the_first_weigh_in_of_the_morning_is_the_one_that_counts() -> None:
    history = mornings(USUAL_75, 75.0)
    later = weigh(DAY, 73.0, hour=9.0)
    assert drop(History.of(body=[*history.body, later])) == []


def test_at_least_three_previous_mornings_are_needed() -> None:
    assert only(drop(mornings([75.0] * 3, 73.0)))
    assert drop(mornings([75.0] * 2, 73.0)) == []


def test_days_whose_first_weigh_in_was_in_the_afternoon_are_not_mornings() -> None:
    afternoons = [weigh(days_before(DAY, 3 + i), 80.0, hour=18.0) for i in range(5)]
    history = mornings([75.0] * 2, 73.0)
    assert drop(History.of(body=[*history.body, *afternoons])) == []


def test_mornings_older_than_two_weeks_do_not_count() -> None:
    old = [weigh(days_before(DAY, 15 + i), 75.0) for i in range(5)]
    history = mornings([75.0] * 2, 73.0)
    assert drop(History.of(body=[*history.body, *old])) == []


def test_only_the_latest_seven_mornings_make_the_usual_weight() -> None:
    # Latest seven: 75 ×4, 76 ×3 → median 75; all fourteen would give a median of 78.
    f = only(drop(mornings([75.0] * 4 + [76.0] * 3 + [80.0] * 7, 74.0)))
    assert f.severity is Severity.CAUTION
    assert f.value == pytest.approx(1.33, abs=0.01)


def test_one_odd_morning_does_not_move_the_usual_weight() -> None:
    # The mean of these mornings is 78 kg (4.5 % above today); the median is 75 kg.
    assert drop(mornings([75.0, 75.0, 90.0, 75.0, 75.0], 74.5)) == []


@given(
    st.floats(min_value=65.0, max_value=80.0),
    st.floats(min_value=0.0, max_value=5.0),
)
def test_a_heavier_morning_weight_never_raises_the_severity(today: float, more: float) -> None:
    assert rank(drop(mornings(USUAL_75, today + more))) <= rank(drop(mornings(USUAL_75, today)))


# --- through the engine -------------------------------------------------------------------


def test_dehydration_after_a_run_reaches_the_reasons() -> None:
    history = History.of(
        activities=[run(DAY, RUN_KM)],
        body=[weigh(DAY, 75.0, hour=6.5), weigh(DAY, 73.0, hour=8.5)],
    )
    rec = evaluate_on(history, hour=12.0)
    assert rec.status is Status.EASY
    assert "dehydration_post_run" in [f.rule for f in rec.reasons]
    assert rec.metrics.weight_kg == 73.0


def test_a_small_post_run_loss_is_advice_that_keeps_training_on() -> None:
    history = History.of(
        activities=[run(DAY, RUN_KM)],
        body=[weigh(DAY, 75.0, hour=6.5), weigh(DAY, 74.25, hour=8.5)],
    )
    rec = evaluate_on(history, hour=12.0)
    assert rec.status is Status.CALIBRATING  # one day of history; no warning
    assert ("dehydration_post_run", Severity.INFO) in [(f.rule, f.severity) for f in rec.reasons]


def test_a_slightly_lighter_morning_alone_is_shown_but_changes_no_status() -> None:
    # A caution on its own (v2): shown with its advice, the day is not made easy.
    rec = evaluate_on(mornings(USUAL_75, 74.0), hour=9.0)  # 1.3 % under the usual
    assert [(f.rule, f.severity) for f in rec.reasons] == [
        ("weight_drop_morning", Severity.CAUTION)
    ]
    assert rec.status is Status.CALIBRATING  # no runs yet: calibrating, not easy


def test_a_lighter_morning_reaches_the_reasons() -> None:
    rec = evaluate_on(mornings(USUAL_75, 73.0), hour=9.0)
    assert rec.status is Status.EASY
    assert "weight_drop_morning" in [f.rule for f in rec.reasons]
