"""`long_effort` (RULES.md v2, new): rest and then easy days after a marathon, a race or an
unusually long run (restday/rules/efforts.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from restday.models import Activity, Finding, History, Severity, Status
from restday.rules import RULE_IDS, efforts
from restday.rules.settings import LongEffort, RulesConfig
from tests.factories import DAY, context, evaluate_on, only, run, steady_runs

RACE_DAY = DAY - timedelta(days=10)  # the long effort; days after it are evaluated
STRAVA_RACE = 1
BASE_KM = 8.0  # steady runs before the effort: 8 km, five days a week
RACE_HOUR = 9.0
STRONG, MODERATE = Severity.STRONG, Severity.MODERATE


def after(n: int) -> date:
    return RACE_DAY + timedelta(days=n)


def before(n: int) -> date:
    return RACE_DAY - timedelta(days=n)


def history_with(
    effort: Sequence[Activity], longest_km: float | None = 30.0, longest_day: int = 21
) -> History:
    """Eight weeks of 8-km runs up to the day before the effort, a longest run of `longest_km`
    `longest_day` days before it (none: None), and the effort's activities."""
    base = steady_runs(before(1), 8, BASE_KM)
    longest = [] if longest_km is None else [run(before(longest_day), longest_km, hour=17)]
    return History.of([*base, *longest, *effort])


def long_effort(history: History, n: int, t: LongEffort | None = None) -> Sequence[Finding]:
    """long_effort at the end of the `n`th day after the effort."""
    return efforts.long_effort(context(history, after(n)), t or LongEffort())


def severities(history: History, days: int = 9, t: LongEffort | None = None) -> list[str]:
    """long_effort's severity on days 1 … `days` after the effort ("" for none)."""
    out = []
    for n in range(1, days + 1):
        findings = long_effort(history, n, t)
        assert len(findings) <= 1, findings
        out.append(findings[0].severity.value if findings else "")
    return out


def recovery(rest: int, easy_until: int, days: int = 9) -> list[str]:
    """Rest on days 1 … `rest`, easy until day `easy_until`, then nothing."""
    return [
        "strong" if n <= rest else "moderate" if n <= easy_until else "" for n in range(1, days + 1)
    ]


MARATHON = history_with([run(RACE_DAY, 42.2, hour=RACE_HOUR)])


def test_a_marathon_after_a_longest_run_of_30_km_is_rest_then_easy_until_day_5() -> None:
    # v1 said `train` the day after a 42.4 km marathon. ⌊42.2 ÷ 8 + 0.5⌋ = 5.
    assert severities(MARATHON) == recovery(rest=1, easy_until=5)


def test_the_first_morning_after_a_marathon_says_rest_and_names_the_run() -> None:
    f = only(long_effort(MARATHON, 1))
    assert f.rule == "long_effort"
    assert f.family == "session"
    assert f.severity is STRONG
    assert f.run_day == RACE_DAY
    assert (f.value, f.unit) == (42.2, "km")
    assert f.threshold == LongEffort().min_km  # over 1.1 × the 60-day longest
    assert f.message.startswith("Yesterday's 42.2 km (marathon): rest today, day 1")
    assert f"easy running until {after(5):%A}" in f.message
    assert f.citation == efforts.CITE_LONG_EFFORT


def test_an_easy_day_of_the_recovery_names_the_run_and_its_last_easy_day() -> None:
    f = only(long_effort(MARATHON, 3))
    assert (f.severity, f.run_day) == (MODERATE, RACE_DAY)
    assert f"{RACE_DAY:%A}'s 42.2 km" in f.message
    assert f"day 3 of your recovery, keep it easy until {after(5):%A}" in f.message
    assert "keep it easy today" in only(long_effort(MARATHON, 5)).message


def test_the_runs_own_day_gets_no_long_effort_finding() -> None:
    assert long_effort(MARATHON, 0) == []
    assert efforts.long_effort(context(MARATHON, RACE_DAY, hour=20), LongEffort()) == []


def test_a_recovery_holds_from_the_first_morning() -> None:
    ctx = context(MARATHON, after(1), hour=6)
    assert only(efforts.long_effort(ctx, LongEffort())).severity is STRONG


def test_a_habitual_45_km_is_rest_on_day_1_and_easy_until_day_3() -> None:
    # 45 km is not over 1.1 × the 44 km of two weeks before: a habitual distance, (a) alone.
    history = history_with([run(RACE_DAY, 45.0, hour=RACE_HOUR)], longest_km=44.0, longest_day=14)
    assert severities(history) == recovery(rest=1, easy_until=3)
    f = only(long_effort(history, 1))
    assert (f.threshold, f.run_day) == (LongEffort().marathon_km, RACE_DAY)


def test_exactly_40_km_is_a_marathon_and_39_9_km_is_not() -> None:
    forty = history_with([run(RACE_DAY, 40.0, hour=RACE_HOUR)], longest_km=39.0)
    assert severities(forty) == recovery(rest=1, easy_until=3)
    under = history_with([run(RACE_DAY, 39.9, hour=RACE_HOUR)], longest_km=39.0)
    assert severities(under) == recovery(rest=0, easy_until=0)


def test_a_half_marathon_race_is_easy_until_day_3_and_no_rest() -> None:
    # ⌊21.1 ÷ 8 + 0.5⌋ = 3
    race = run(RACE_DAY, 21.1, hour=RACE_HOUR, workout_type=STRAVA_RACE)
    history = history_with([race], longest_km=18.0)
    assert severities(history) == recovery(rest=0, easy_until=3)
    f = only(long_effort(history, 1))
    assert (f.threshold, f.run_day) == (LongEffort().race_min_km, RACE_DAY)
    assert "(race)" in f.message


def test_the_same_half_marathon_not_marked_as_a_race_is_no_long_effort() -> None:
    history = history_with([run(RACE_DAY, 21.1, hour=RACE_HOUR)], longest_km=18.0)
    assert severities(history) == recovery(rest=0, easy_until=0)


@pytest.mark.parametrize(
    ("km", "easy_until"),
    [(14.9, 0), (15.0, 2), (10.0, 0)],  # ⌊15 ÷ 8 + 0.5⌋ = 2
)
def test_a_race_counts_from_15_km(km: float, easy_until: int) -> None:
    race = run(RACE_DAY, km, hour=RACE_HOUR, workout_type=STRAVA_RACE)
    assert severities(history_with([race], longest_km=18.0)) == recovery(0, easy_until)


def test_a_race_of_30_km_or_more_is_rest_on_day_1_even_when_not_the_longest() -> None:
    race = run(RACE_DAY, 30.0, hour=RACE_HOUR, workout_type=STRAVA_RACE)
    history = history_with([race], longest_km=35.0)
    assert severities(history) == recovery(rest=1, easy_until=4)  # ⌊30 ÷ 8 + 0.5⌋ = 4


def test_75_km_is_rest_on_days_1_and_2_then_easy_until_the_seventh() -> None:
    history = history_with([run(RACE_DAY, 75.0, hour=6)])
    assert severities(history) == recovery(rest=2, easy_until=7)  # ⌊9.9⌋ = 9, at most 7


def test_two_rest_days_start_at_70_km() -> None:
    seventy = history_with([run(RACE_DAY, 70.0, hour=6)])
    assert severities(seventy)[:3] == ["strong", "strong", "moderate"]
    under = history_with([run(RACE_DAY, 69.9, hour=6)])
    assert severities(under)[:3] == ["strong", "moderate", "moderate"]


def test_the_most_recovery_days_are_configurable() -> None:
    history = history_with([run(RACE_DAY, 75.0, hour=6)])
    t = LongEffort(max_days=4)
    assert severities(history, t=t) == recovery(rest=2, easy_until=4)


def test_a_run_over_30_km_and_over_the_60_day_longest_is_a_long_effort() -> None:
    thirty = history_with([run(RACE_DAY, 30.0, hour=RACE_HOUR, minutes=140)], longest_km=20.0)
    assert severities(thirty) == recovery(rest=1, easy_until=4)
    # Not over 1.1 × a 28 km longest (30.8 km), nor 2.5 hours: an ordinary long run.
    usual = history_with([run(RACE_DAY, 30.0, hour=RACE_HOUR, minutes=140)], longest_km=28.0)
    assert severities(usual) == recovery(rest=0, easy_until=0)


def test_a_run_just_under_30_km_and_2_5_hours_is_no_long_effort() -> None:
    history = history_with([run(RACE_DAY, 29.9, hour=RACE_HOUR, minutes=140)], longest_km=20.0)
    assert severities(history) == recovery(rest=0, easy_until=0)


def test_two_and_a_half_hours_over_the_60_day_longest_time_is_a_long_effort() -> None:
    # 25 km in 155 min after 20 km in 110 min: at least 2.5 h and over 1.1 × 110 min.
    history = history_with([run(RACE_DAY, 25.0, hour=RACE_HOUR, minutes=155)], longest_km=20.0)
    assert severities(history) == recovery(rest=1, easy_until=3)  # ⌊25 ÷ 8 + 0.5⌋ = 3
    assert "longest run in 60 days" in only(long_effort(history, 1)).message


def test_a_longest_run_61_days_before_is_not_the_baseline() -> None:
    within = history_with([run(RACE_DAY, 42.2, hour=RACE_HOUR)], longest_km=40.0, longest_day=60)
    assert severities(within) == recovery(rest=1, easy_until=3)  # habitual: (a) alone
    beyond = history_with([run(RACE_DAY, 42.2, hour=RACE_HOUR)], longest_km=40.0, longest_day=61)
    assert severities(beyond) == recovery(rest=1, easy_until=5)  # over the 60-day longest


def test_two_runs_of_a_day_20_minutes_apart_count_as_one() -> None:
    first = run(RACE_DAY, 25.0, hour=7.0)  # 137.5 min moving, ends 09:18:30
    second = run(RACE_DAY, 17.2, hour=9.65)  # starts 09:39, 20.5 min later
    assert severities(history_with([first, second])) == recovery(rest=1, easy_until=5)
    assert only(long_effort(history_with([first, second]), 1)).value == 42.2


def test_two_runs_of_a_day_40_minutes_apart_are_two_runs() -> None:
    first = run(RACE_DAY, 25.0, hour=7.0)
    second = run(RACE_DAY, 17.2, hour=10.0)  # 41.5 min after the first ended
    assert severities(history_with([first, second])) == recovery(rest=0, easy_until=0)


def test_the_most_severe_of_several_long_efforts_counts() -> None:
    ultra = run(RACE_DAY, 75.0, hour=6)  # rest on days 1–2
    half = run(after(1), 21.1, hour=RACE_HOUR, workout_type=STRAVA_RACE)  # easy days 1–3
    history = history_with([ultra, half])
    f = only(long_effort(history, 2))  # the ultra's day 2, the race's day 1
    assert (f.severity, f.run_day) == (STRONG, RACE_DAY)


def test_among_equally_severe_long_efforts_the_latest_is_shown() -> None:
    ultra = run(RACE_DAY, 75.0, hour=6)
    half = run(after(1), 21.1, hour=RACE_HOUR, workout_type=STRAVA_RACE)
    f = only(long_effort(history_with([ultra, half]), 3))  # both ask for an easy day
    assert (f.severity, f.run_day) == (MODERATE, after(1))


def test_a_first_run_ever_of_30_km_needs_its_recovery() -> None:
    # No earlier run: whatever history exists is the baseline.
    history = History.of([run(RACE_DAY, 30.0, hour=RACE_HOUR)])
    assert severities(history) == recovery(rest=1, easy_until=4)


# --- through the engine -------------------------------------------------------------------

LOAD_RULES = ("weekly_increase", "run_spike", "acwr", "tsb", "monotony", "deload")
EFFORT_AND_LOAD = RulesConfig.model_validate(
    {rule: {"enabled": False} for rule in RULE_IDS if rule not in ("long_effort", *LOAD_RULES)}
)


def test_long_effort_does_not_wait_while_calibrating() -> None:
    # A marathon in the second week of history: the load rules wait, the recovery does not.
    runs = [run(before(d), 8) for d in (9, 7, 5, 3)]
    history = History.of([*runs, run(RACE_DAY, 42.2, hour=RACE_HOUR)])
    rest = evaluate_on(history, after(1), rules=EFFORT_AND_LOAD)
    assert rest.waiting == LOAD_RULES
    assert [(f.rule, f.severity) for f in rest.reasons] == [("long_effort", STRONG)]
    assert rest.status is Status.REST
    easy = evaluate_on(history, after(2), rules=EFFORT_AND_LOAD)
    assert easy.status is Status.EASY
    assert evaluate_on(history, after(6), rules=EFFORT_AND_LOAD).status is Status.CALIBRATING


def test_whole_catalogue_the_day_after_a_marathon_is_a_rest_day() -> None:
    rec = evaluate_on(MARATHON, after(1))
    assert rec.status is Status.REST
    payload = rec.to_payload()["reasons"]
    assert isinstance(payload, list)
    effort = [r for r in payload if r["rule"] == "long_effort"]
    assert effort == [
        {
            "rule": "long_effort",
            "family": "session",
            "severity": "strong",
            "message": effort[0]["message"],
            "value": 42.2,
            "threshold": 30.0,
            "unit": "km",
            "citation": efforts.CITE_LONG_EFFORT,
            "run_day": RACE_DAY.isoformat(),
        }
    ]
