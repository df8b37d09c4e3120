"""Properties of the v2 rules that must hold for any history (hypothesis).

- a walk (or hike, or yoga) never lengthens the streak of training days;
- more sleep on a night never adds a sleep finding nor raises the sleep family, as long as
  the need it is counted against stays the same (a set `need_hours`, or an own need that the
  longer night did not move: the own need is a median, and a longer night can lift it —
  tests/rules/test_sleep.py shows that case);
- carrying a spike into the next morning never makes the spike day itself milder;
- an activity added later never changes the load of an earlier activity or day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from restday.models import Activity, Finding, History
from restday.rules import RULE_IDS, sleep, spike
from restday.rules.load import activity_loads
from restday.rules.settings import Profile, RulesConfig, RunSpike, SleepDebt
from tests.factories import DAY, PROFILE, TZ, ago, context, evaluate_on, night, rank, run, workout

HR_PROFILE = Profile(timezone=TZ, max_hr=190, resting_hr=50)
DAYS_BACK = 14
EXAMPLES = 80


# --- a walk never raises days_since_rest ---------------------------------------------------

SPORTS = ("Run", "WeightTraining", "Ride", "Swim", "Walk", "Hike", "Yoga")
NEVER_TRAINING = ("Walk", "Hike", "Yoga")
HOURS = (0.5, 7.0, 12.0, 18.0, 23.5)  # some fall on the day before in UTC


@st.composite
def sessions(draw: st.DrawFn) -> Activity:
    sport = draw(st.sampled_from(SPORTS))
    day = ago(draw(st.integers(0, DAYS_BACK - 1)))
    hour = draw(st.sampled_from(HOURS))
    minutes = draw(st.integers(5, 120))
    if sport == "Run":
        return run(day, minutes / 5.5, minutes=minutes, hour=hour)
    return workout(day, minutes, sport=sport, hour=hour)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    activities=st.lists(sessions(), max_size=20),
    walk_day=st.integers(0, DAYS_BACK - 1),
    walk_sport=st.sampled_from(NEVER_TRAINING),
    walk_minutes=st.integers(5, 300),
    walk_hour=st.sampled_from(HOURS),
    evaluated_hour=st.none() | st.sampled_from((6.0, 12.0, 23.9)),
)
def test_adding_a_walk_never_raises_days_since_rest(
    activities: list[Activity],
    walk_day: int,
    walk_sport: str,
    walk_minutes: int,
    walk_hour: float,
    evaluated_hour: float | None,
) -> None:
    walk = workout(ago(walk_day), walk_minutes, sport=walk_sport, hour=walk_hour)
    rules = RulesConfig.model_validate(
        {rule: {"enabled": False} for rule in RULE_IDS if rule != "no_rest_day"}
    )
    before = evaluate_on(History.of(activities), hour=evaluated_hour, rules=rules)
    after = evaluate_on(History.of([*activities, walk]), hour=evaluated_hour, rules=rules)
    assert after.metrics.days_since_rest <= before.metrics.days_since_rest
    assert rank(after.reasons) <= rank(before.reasons)


# --- more sleep never adds a sleep finding --------------------------------------------------

SLEEP_RULES = RulesConfig.model_validate(
    {rule: {"enabled": False} for rule in RULE_IDS if rule not in ("sleep_short", "sleep_debt")}
)
night_hours = st.floats(3.0, 11.0).map(lambda h: round(h, 2))


def sleep_severities(nights: Sequence[float | None], rules: RulesConfig) -> dict[str, int]:
    """The highest severity rank of each sleep rule (-1 for none) and of the family."""
    history = History.of(sleeps=[night(ago(i), h) for i, h in enumerate(nights) if h is not None])
    reasons = evaluate_on(history, rules=rules).reasons
    out = {
        rule: rank([f for f in reasons if f.rule == rule]) for rule in ("sleep_short", "sleep_debt")
    }
    out["family"] = rank([f for f in reasons if f.family == "sleep"])
    return out


def own_need(nights: Sequence[float | None]) -> float:
    history = History.of(sleeps=[night(ago(i), h) for i, h in enumerate(nights) if h is not None])
    return sleep.need(context(history), None)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    nights=st.lists(st.none() | night_hours, min_size=7, max_size=60),
    which=st.integers(0, 59),
    more=st.floats(0.01, 5.0).map(lambda h: round(h, 2)),
    need_hours=st.sampled_from((6.5, 7.5, 8.0, 9.0)),
)
def test_more_sleep_on_any_night_never_adds_a_sleep_finding_against_a_set_need(
    nights: list[float | None], which: int, more: float, need_hours: float
) -> None:
    which %= len(nights)
    nights[which] = slept = nights[which] or 7.0  # a tracked night
    longer = [*nights[:which], slept + more, *nights[which + 1 :]]
    rules = SLEEP_RULES.model_copy(update={"sleep_debt": SleepDebt(need_hours=need_hours)})
    before, after = sleep_severities(nights, rules), sleep_severities(longer, rules)
    for key, level in after.items():
        assert level <= before[key], (key, before, after)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    nights=st.lists(st.none() | night_hours, min_size=7, max_size=60),
    which=st.integers(0, 59),
    more=st.floats(0.01, 5.0).map(lambda h: round(h, 2)),
)
def test_more_sleep_on_any_night_never_adds_a_sleep_finding_while_the_own_need_holds(
    nights: list[float | None], which: int, more: float
) -> None:
    which %= len(nights)
    nights[which] = slept = nights[which] or 7.0  # a tracked night
    longer = [*nights[:which], slept + more, *nights[which + 1 :]]
    if own_need(longer) != own_need(nights):
        return  # a lifted own need: see this module's docstring
    before, after = sleep_severities(nights, SLEEP_RULES), sleep_severities(longer, SLEEP_RULES)
    for key, level in after.items():
        assert level <= before[key], (key, before, after)


# --- carrying a spike never makes the spike day milder --------------------------------------

CARRY_0, CARRY_1 = RunSpike(carry_days=0), RunSpike(carry_days=1)
run_km = st.none() | st.floats(1.0, 45.0).map(lambda km: round(km, 1))


def spike_day_findings(
    earlier: Sequence[float | None], today_km: float, t: RunSpike
) -> Sequence[Finding]:
    """run_spike at the end of a day with a run of `today_km`; earlier[i] is the run of i + 1
    days before (None: no run)."""
    runs = [run(ago(i + 1), km) for i, km in enumerate(earlier) if km is not None]
    history = History.of([*runs, run(DAY, today_km, hour=18)])
    return spike.run_spike(context(history), t)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    earlier=st.lists(run_km, min_size=1, max_size=40),
    today_km=st.floats(1.0, 60.0).map(lambda km: round(km, 1)),
)
def test_carrying_spikes_never_makes_the_spike_day_itself_milder(
    earlier: list[float | None], today_km: float
) -> None:
    own = spike_day_findings(earlier, today_km, CARRY_0)
    shown = spike_day_findings(earlier, today_km, CARRY_1)
    assert rank(shown) >= rank(own)
    if shown and shown[0].run_day is None:
        assert list(shown) == list(own)  # the spike day's own finding, unchanged
    elif shown:
        # Yesterday's spike, carried, is more severe (RULES.md: the most severe wins).
        assert shown[0].run_day == ago(1)
        assert shown[0].severity.rank > rank(own)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    earlier=st.lists(run_km, min_size=1, max_size=40),
    today_km=st.floats(1.0, 60.0).map(lambda km: round(km, 1)),
)
def test_after_a_day_without_a_run_the_spike_days_finding_is_the_same_with_or_without_carry(
    earlier: list[float | None], today_km: float
) -> None:
    earlier[0] = None  # no run yesterday: nothing to carry
    assert spike_day_findings(earlier, today_km, CARRY_1) == spike_day_findings(
        earlier, today_km, CARRY_0
    )


# --- a later activity never changes earlier loads -------------------------------------------


@st.composite
def measured_sessions(draw: st.DrawFn, day: date | None = None) -> Activity:
    """A session of any sport, with or without heart rate and relative effort."""
    sport = draw(
        st.sampled_from(("Run", "TrailRun", "Ride", "Swim", "WeightTraining", "Walk", "Yoga"))
    )
    when = day or ago(draw(st.integers(1, 60)))
    minutes = draw(st.integers(0, 180))
    hr = draw(st.none() | st.integers(60, 200).map(float))
    suffer = draw(st.none() | st.integers(0, 300).map(float))
    hour = draw(st.sampled_from(HOURS))
    km = minutes / 5.5 if sport in ("Run", "TrailRun") else 0.0
    return run(when, km, minutes=minutes, sport=sport, hr=hr, suffer=suffer, hour=hour)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    activities=st.lists(measured_sessions(), min_size=1, max_size=25),
    later=measured_sessions(day=DAY),
    profile=st.sampled_from((PROFILE, HR_PROFILE)),
)
def test_adding_a_later_activity_never_changes_earlier_loads(
    activities: list[Activity], later: Activity, profile: Profile
) -> None:
    old = History.of(activities)
    new = History.of([*activities, later])
    assert new.activities[-1] == later  # today, after every earlier one
    source, old_loads = activity_loads(old.activities, profile)
    new_source, new_loads = activity_loads(new.activities, profile)
    assert new_source is source
    assert new_loads[: len(old_loads)] == old_loads
    # The daily series up to yesterday, and the averages as of yesterday, are unchanged too.
    before, after = context(old, profile=profile), context(new, profile=profile)
    assert after.daily_load[:-1] == before.daily_load[:-1]
    assert after.ctl_yesterday == before.ctl_yesterday
    assert after.atl_yesterday == before.atl_yesterday
    assert after.load_on(DAY) >= before.load_on(DAY)
