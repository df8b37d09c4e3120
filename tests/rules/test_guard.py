"""The usual week, the low-base guard and the recovery cap on the load family (RULES.md v2,
"the usual week"; restday/rules/guard.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from restday.models import Activity, Finding, History, Severity, Status
from restday.rules import RULE_IDS, guard
from restday.rules.base import finding
from restday.rules.families import Family
from restday.rules.settings import RulesConfig
from tests.factories import DAY, ago, context, evaluate_on, pain, run, steady_runs

LOAD_PER_KM = 5.5  # without heart rate or relative effort, a run's load is its minutes
STEADY_WEEK_LOAD = 5 * 8 * LOAD_PER_KM  # steady_runs: five 8-km runs in any 7 days
LOAD_FAMILY = ("acwr", "tsb", "weekly_increase", "monotony", "deload")


def daily_runs(first: int, last: int = 0, km: float = 8.0) -> list[Activity]:
    """A run of `km` every day from `first` days ago to `last` days ago."""
    return [run(ago(d), km) for d in range(last, first + 1)]


# --- the usual week ------------------------------------------------------------------------


def test_the_usual_week_needs_90_weekly_totals() -> None:
    # First activity 102 days ago: weeks ending 96 … 7 days ago, 90 of them.
    assert guard.usual_week_load(context(History.of(daily_runs(101)))) is None
    assert guard.usual_week_load(context(History.of(daily_runs(102)))) == 7 * 8 * LOAD_PER_KM


def test_without_activities_there_is_no_usual_week() -> None:
    assert guard.usual_week_load(context(History())) is None
    assert evaluate_on(History()).metrics.usual_week_load is None


def test_the_usual_week_is_the_median_weekly_load() -> None:
    ctx = context(History.of(steady_runs(DAY, 30)))
    assert guard.usual_week_load(ctx) == STEADY_WEEK_LOAD
    assert evaluate_on(History.of(steady_runs(DAY, 30))).metrics.usual_week_load == (
        STEADY_WEEK_LOAD
    )


def test_the_usual_week_counts_weeks_without_running() -> None:
    # 40 days of running, then 90 days off: most weeks weigh nothing.
    ctx = context(History.of(daily_runs(130, 91)))
    assert guard.usual_week_load(ctx) == 0.0


def test_the_usual_week_looks_back_a_year_before_the_last_7_days() -> None:
    # 16 km a day until 380 days ago, 8 km a day since: the year before the last 7 days
    # (weeks ending 371 … 7 days ago) is all 8-km days.
    history = History.of([*daily_runs(800, 380, km=16.0), *daily_runs(379)])
    assert guard.usual_week_load(context(history)) == 7 * 8 * LOAD_PER_KM
    # 200 days ago, most of the year before was 16-km days.
    assert guard.usual_week_load(context(history, ago(200))) == 7 * 16 * LOAD_PER_KM


# --- the low-base guard: back from a break --------------------------------------------------

COMEBACK = ago(13)  # two weeks back at it: 5 km in the first, 15 km in the second


def comeback(*, weeks_of_base: int = 40) -> list[Activity]:
    """A steady 40 km a week, eight weeks off, then 5 km in a week and 15 km the next."""
    base = steady_runs(COMEBACK - timedelta(days=57), weeks_of_base)
    return [
        *base,
        run(COMEBACK + timedelta(days=3), 5),
        *(run(ago(d), 5) for d in (5, 3, 0)),
    ]


def load_findings(rec_reasons: tuple[Finding, ...]) -> list[Finding]:
    return [f for f in rec_reasons if f.family == Family.LOAD]


def test_after_a_long_break_5_then_15_km_a_week_never_gives_a_rest_day() -> None:
    """The issue's example: a ratio of 3 on a small base is noise, not a big week."""
    history = History.of(comeback())
    for day in (COMEBACK + timedelta(days=d) for d in range(14)):
        rec = evaluate_on(history, day)
        assert not rec.rest_day_recommended, (day, rec.reasons)
        assert rec.status is Status.TRAIN, (day, rec.reasons)
        for f in load_findings(rec.reasons):
            assert f.severity.rank <= Severity.CAUTION.rank, (day, f)


def test_a_load_finding_held_by_the_guard_says_the_base_is_low() -> None:
    rec = evaluate_on(History.of(comeback()))
    usual = rec.metrics.usual_week_load
    assert usual == STEADY_WEEK_LOAD
    fired = {f.rule: f for f in rec.reasons}
    increase = fired["weekly_increase"]  # 15 km after 5: +200 %, 10 km more
    assert (increase.severity, increase.value) == (Severity.CAUTION, 200.0)
    assert "Held at caution" in increase.message
    assert f"your usual week ({usual:.0f})" in increase.message
    assert "coming back from a break" in increase.message
    assert "Impellizzeri" in increase.message


def test_a_finding_already_at_caution_is_not_rewritten_by_the_guard() -> None:
    rec = evaluate_on(History.of(comeback()), ago(4))
    acwr = [f for f in rec.reasons if f.rule == "acwr"]
    assert [f.severity for f in acwr] == [Severity.CAUTION]
    assert "Held at caution" not in acwr[0].message


def test_without_a_usual_week_the_same_comeback_is_an_easy_day() -> None:
    # Three weeks of base: 91 days of history, fewer than 90 weekly totals, so no guard.
    history = History.of(comeback(weeks_of_base=3))
    rec = evaluate_on(history)
    assert rec.metrics.usual_week_load is None
    assert {f.rule: f.severity for f in load_findings(rec.reasons)}["weekly_increase"] is (
        Severity.MODERATE
    )
    assert rec.status is Status.EASY


@pytest.mark.parametrize("days_ago", [0, 10, 27])
def test_the_guard_is_off_within_28_days_of_pain_at_the_rest_level(days_ago: int) -> None:
    # A comeback from injury that ramps too fast is what the load rules are for.
    history = History.of(comeback(), pains=[pain(ago(days_ago), 4, hour=6)])
    rec = evaluate_on(history, rules=ONLY_LOAD)
    increase = {f.rule: f for f in rec.reasons}["weekly_increase"]
    assert increase.severity is Severity.MODERATE
    assert "Held at caution" not in increase.message
    assert rec.status is Status.EASY


@pytest.mark.parametrize("days_ago", [29, 40])
def test_the_guard_is_back_once_the_pain_is_over_28_days_old(days_ago: int) -> None:
    history = History.of(comeback(), pains=[pain(ago(days_ago), 6)])
    rec = evaluate_on(history, rules=ONLY_LOAD)
    assert {f.rule: f.severity for f in rec.reasons}["weekly_increase"] is Severity.CAUTION
    assert rec.status is Status.TRAIN


def test_pain_below_the_rest_level_leaves_the_guard_on() -> None:
    history = History.of(comeback(), pains=[pain(ago(10), 3)])
    rec = evaluate_on(history, rules=ONLY_LOAD)
    assert {f.rule: f.severity for f in rec.reasons}["weekly_increase"] is Severity.CAUTION


def test_the_pain_level_that_turns_the_guard_off_is_pains_rest_minimum() -> None:
    rules = RulesConfig.model_validate(
        {
            **{r: {"enabled": False} for r in RULE_IDS if r not in LOAD_FAMILY},
            "pain": {"rest_min": 3},
        }
    )
    history = History.of(comeback(), pains=[pain(ago(10), 3)])
    rec = evaluate_on(history, rules=rules)
    assert {f.rule: f.severity for f in rec.reasons}["weekly_increase"] is Severity.MODERATE


def test_the_guard_holds_only_the_load_family() -> None:
    ctx = context(History.of(comeback()))
    usual = guard.usual_week_load(ctx)
    findings = [
        made("acwr", Severity.MODERATE),
        made("tsb", Severity.CAUTION),
        made("run_spike", Severity.STRONG),
        made("sleep_short", Severity.MODERATE),
        made("no_rest_day", Severity.MODERATE),
    ]
    held = guard.cap_load_family(findings, ctx, RulesConfig(), usual)
    assert [(f.rule, f.severity) for f in held] == [
        ("acwr", Severity.CAUTION),
        ("tsb", Severity.CAUTION),
        ("run_spike", Severity.STRONG),
        ("sleep_short", Severity.MODERATE),
        ("no_rest_day", Severity.MODERATE),
    ]
    assert held[1] == findings[1]  # a caution stays as it was


def test_at_or_above_the_usual_week_the_guard_holds_nothing() -> None:
    ctx = context(History.of(steady_runs(DAY, 30)))  # the last 7 days are the usual week
    usual = guard.usual_week_load(ctx)
    assert usual == guard.last_week_load(ctx)
    findings = [made("acwr", Severity.MODERATE)]
    assert guard.cap_load_family(findings, ctx, RulesConfig(), usual) == findings
    assert guard.cap_load_family(findings, ctx, RulesConfig(), None) == findings


# --- the cap during a long_effort recovery -------------------------------------------------

RACE_DAY = ago(3)


def marathon_history() -> History:
    """20 weeks of 40 km, a longest run of 30 km 40 days before, and a marathon 3 days ago
    instead of that day's 8 km: its week is +85 % on the baseline."""
    base = [a for a in steady_runs(DAY, 20) if context(History()).local_date(a.start) != RACE_DAY]
    return History.of([*base, run(RACE_DAY - timedelta(days=40), 30), run(RACE_DAY, 42.2)])


def test_during_a_recovery_the_load_family_gives_at_most_a_caution() -> None:
    history = marathon_history()
    rec = evaluate_on(history)  # day 3 of the recovery: an easy day
    fired = {f.rule: f for f in rec.reasons}
    assert fired["long_effort"].severity is Severity.MODERATE
    increase = fired["weekly_increase"]
    assert increase.severity is Severity.CAUTION
    assert f"long effort of {RACE_DAY:%A %d %B}" in increase.message
    assert "already counted in your recovery" in increase.message
    # Without the cap, a moderate load family and a moderate session family: a rest day.
    assert rec.status is Status.EASY


def test_on_the_race_day_itself_the_load_family_is_not_held() -> None:
    rec = evaluate_on(marathon_history(), RACE_DAY)
    assert {f.rule: f.severity for f in rec.reasons}["weekly_increase"] is Severity.MODERATE


def test_with_long_effort_off_nothing_holds_the_load_family() -> None:
    rules = RulesConfig.model_validate({"long_effort": {"enabled": False}})
    rec = evaluate_on(marathon_history(), rules=rules)
    assert {f.rule: f.severity for f in rec.reasons}["weekly_increase"] is Severity.MODERATE


ONLY_LOAD = RulesConfig.model_validate(
    {rule: {"enabled": False} for rule in RULE_IDS if rule not in LOAD_FAMILY}
)


def made(rule: str, severity: Severity) -> Finding:
    return finding(rule, severity, "m.", value=None, threshold=None, unit="", citation="")
