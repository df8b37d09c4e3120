"""The fast evaluation gives exactly what a straightforward one gives, on random histories.

`Context.build` scans nights and weigh-ins only inside the last `WINDOW_DAYS` days, walks pain
reports back one report day at a time, and computes the load series in one pass. The reference
context below is the plain way, kept deliberately simple: every input up to `now`, every night
summed, every pain report read, every activity's load computed one by one; the engine
(`evaluate_context`) then evaluates both. They must give the same recommendation, to the last
bit of every float, for any history, moment, zone and thresholds. `evaluate_days` (one pass
for `restday history`) must give what each day evaluated alone gives.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restday.clock import end_of_day
from restday.models import (
    METERS_PER_KM,
    Activity,
    ActivityId,
    BodyMeasurement,
    Gear,
    GearId,
    History,
    Hours,
    Kilograms,
    Meters,
    PainReport,
    Recommendation,
    Seconds,
    SleepSession,
    SportKind,
)
from restday.rules.context import (
    NIGHT_ENDS_BY,
    PAIN_GUARD_DAYS,
    WINDOW_DAYS,
    Context,
    Timeline,
    prune,
)
from restday.rules.engine import evaluate, evaluate_context, evaluate_days
from restday.rules.load import SPORT_FACTOR, LoadSource, choose_source, trimp
from restday.rules.prepared import (
    ACUTE_DAYS,
    ATL_DAYS,
    CHRONIC_DAYS,
    CTL_DAYS,
    Prepared,
    ewma_lambda,
)
from restday.rules.settings import (
    DehydrationPostRun,
    Hrv,
    Pain,
    Profile,
    RulesConfig,
    Sex,
)

BASE = date(2026, 4, 10)  # after DST changes in Europe, Chile (at midnight) and Lord Howe
SPAN_DAYS = 150  # histories reach this far back: well past the 60-day window
ZONES = ("Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "UTC", "Pacific/Apia")
SPORTS = ("Run", "TrailRun", "Ride", "WeightTraining", "Swim", "Walk", "Yoga")
EXAMPLES = 300
WINDOW = timedelta(days=WINDOW_DAYS)
END_OF_DAY_H = 23.9999999  # `status --date`: the day is over
RUN_HOUR = 7.0
NIGHT_END_HOUR = 6.0
WEIGH_IN_HOURS = (5.5, 6.5, 8.5, 9.5, 13.0, 20.0)  # around the morning session: dehydration
S_PER_M = 0.33  # a 5:30 min/km pace


# --- the reference: everything up to now, read the plain way -------------------------------


def reference_loads(activities: tuple[Activity, ...], profile: Profile) -> list[float]:
    """Each activity's load in the configured unit; a missing value is estimated from the
    earlier activities of its sport (none yet: its factor, × 1.5 for TRIMP)."""
    source = choose_source(profile)
    measured = [
        trimp(a, profile) if source is LoadSource.TRIMP else a.suffer_score for a in activities
    ]
    loads: list[float] = []
    for i, (a, load) in enumerate(zip(activities, measured, strict=True)):
        if load is not None:
            loads.append(float(load))
            continue
        rates = [
            m / e.moving_minutes
            for e, m in zip(activities[:i], measured[:i], strict=True)
            if e.kind is a.kind and m is not None and e.moving_minutes > 0
        ]
        first = 1.5 if source is LoadSource.TRIMP else 1.0
        rate = statistics.median(rates) if rates else SPORT_FACTOR[a.kind] * first
        loads.append(a.moving_minutes * rate)
    return loads


def reference_ewma(
    daily: list[float], days: int, upto: int, smoothing: float | None = None
) -> float | None:
    if upto <= 0:
        return None
    alpha = ewma_lambda(days) if smoothing is None else smoothing
    seed = daily[: min(CHRONIC_DAYS, upto)]
    value = sum(seed) / len(seed)
    for load in daily[:upto]:
        value += alpha * (load - value)
    return value


def reference_context(history: History, now: datetime, profile: Profile) -> Context:
    tz = profile.timezone
    today = now.astimezone(tz).date()
    activities = tuple(a for a in history.activities if a.start <= now)
    days = tuple(a.start.astimezone(tz).date() for a in activities)
    loads = reference_loads(activities, profile)
    first_day = days[0] if days else None
    daily: list[float] = []
    run_km: dict[date, float] = defaultdict(float)
    longest: dict[date, float] = {}
    sessions: dict[date, float] = {}
    run_minutes: dict[date, float] = {}
    if first_day is not None:
        daily = [0.0] * ((today - first_day).days + 1)
    for a, day, load in zip(activities, days, loads, strict=True):
        daily[(day - first_day).days] += load  # type: ignore[operator]
        if a.kind is SportKind.RUN:
            run_km[day] += a.distance_m / METERS_PER_KM
            longest[day] = max(longest.get(day, 0.0), a.distance_m / METERS_PER_KM)
            sessions[day] = math.inf
            run_minutes[day] = run_minutes.get(day, 0.0) + a.moving_minutes
        elif a.sport_type not in ("Walk", "Hike", "Yoga"):
            sessions[day] = max(sessions.get(day, 0.0), a.moving_minutes)
    sleeps = tuple(s for s in history.sleeps if s.end <= now)
    nights: dict[date, float] = defaultdict(float)
    for s in sleeps:
        if s.end.astimezone(tz).time() <= NIGHT_ENDS_BY:
            nights[s.end.astimezone(tz).date()] += s.hours
    body = tuple(b for b in history.body if b.time <= now)
    pains = [p for p in history.pains if p.time <= now]
    last_of_day = {p.time.astimezone(tz).date(): p for p in pains}
    n = len(daily)
    prepared = Prepared(
        now=now,
        history=history,
        profile=profile,
        activities=activities,
        activity_days=days,
        loads=tuple(loads),
        load_source=choose_source(profile),
        first_day=first_day,
        daily_load=tuple(daily),
        prefix=tuple(sum(daily[:i]) for i in range(n + 1)),
        run_km_by_day=dict(run_km),
        longest_run_by_day=longest,
        session_minutes=sessions,
        run_minutes_by_day=run_minutes,
    )
    return Context(
        now=now, tz=tz, today=today, profile=profile, activities=activities,
        activity_days=days, loads=tuple(loads),
        load_source=choose_source(profile), sleeps=sleeps, body=body,
        pains=tuple(sorted(last_of_day.values(), key=attrgetter("time"))),
        pain_levels={
            day: p.level for day, p in last_of_day.items() if (today - day).days < PAIN_GUARD_DAYS
        },
        gear=history.gear,
        first_day=first_day, daily_load=tuple(daily), run_km_by_day=dict(run_km),
        longest_run_by_day=longest, night_hours=dict(nights),
        acute_load=reference_ewma(daily, ACUTE_DAYS, len(daily)),
        chronic_load=reference_ewma(daily, CHRONIC_DAYS, len(daily)),
        ctl_yesterday=reference_ewma(daily, CTL_DAYS, len(daily) - 1, 1.0 / CTL_DAYS),
        atl_yesterday=reference_ewma(daily, ATL_DAYS, len(daily) - 1, 1.0 / ATL_DAYS),
        session_minutes=sessions, prepared=prepared,
        all_sleeps=Timeline(sleeps, len(sleeps), attrgetter("end")),
        all_body=Timeline(body, len(body), attrgetter("time")),
    )  # fmt: skip


def reference_evaluate(
    history: History, now: datetime, profile: Profile, rules: RulesConfig
) -> Recommendation:
    """The engine on the reference context: the rules, the decision and the metrics are the
    engine's own; only the context is built the plain way."""
    return evaluate_context(reference_context(history, now, profile), rules)


# --- random histories ----------------------------------------------------------------------

offsets = st.integers(-SPAN_DAYS, 2)  # days from BASE: some after `now`, to be left out
recent = st.integers(-12, 1)  # pain reports cluster near the evaluated day: streaks form
hours = st.floats(0, 23.99)
maybe = st.none().__or__


def often(values: st.SearchStrategy[float]) -> st.SearchStrategy[float | None]:
    """Mostly a value, sometimes None (a night the tracker missed)."""
    return st.one_of(st.none(), values, values, values)


activity_rows = st.lists(
    st.tuples(offsets, hours, st.sampled_from(SPORTS), st.integers(0, 42_000),  # m
              st.integers(0, 14_400), maybe(st.floats(90, 185)), maybe(st.floats(0, 300)),  # s
              maybe(st.floats(150, 185))),
    max_size=90,
)  # fmt: skip
night_ends = st.sampled_from([6.5, 7.0, 13.9, 14.0, 15.0, 0.0, 23.5])  # 14:00 ends a night
night_rows = st.lists(
    st.tuples(offsets, night_ends, st.floats(0.5, 11), maybe(st.floats(20, 120)),
              maybe(st.floats(38, 75))),
    max_size=90, unique_by=lambda row: (row[0], row[1]),
)  # fmt: skip
weigh_in_rows = st.lists(st.tuples(offsets, hours, st.floats(60, 64)), max_size=90)
pain_rows = st.lists(st.tuples(recent | offsets, hours, st.integers(0, 10)), max_size=40)
# A routine, day after day up to about `now`, so every rule has something to fire on: the
# day's session at 07:00 (run, strength or none), the night before, weigh-ins, a pain report.
routine_day = (
    st.tuples(st.sampled_from(["Run", "Run", "Run", "WeightTraining", None]),
              st.integers(3_000, 25_000), maybe(st.floats(120, 180)), maybe(st.integers(20, 200)),
              maybe(st.floats(150, 185)),  # cadence
              often(st.floats(4, 10)), often(st.floats(30, 90)), often(st.floats(48, 54)),  # night
              st.lists(st.sampled_from(WEIGH_IN_HOURS), max_size=3, unique=True),
              st.floats(60, 63), maybe(st.integers(0, 10)))
)  # fmt: skip


def moment(tz: ZoneInfo, day_offset: int, hour: float) -> datetime:
    local = datetime.combine(BASE + timedelta(days=day_offset), time(0), tz)
    return local.astimezone(UTC) + timedelta(hours=hour)


Row = tuple[int, float, str, int, int, float | None, float | None, float | None]


def activity(tz: ZoneInfo, i: int, row: Row) -> Activity:
    off, hour, sport, meters, seconds, hr, suffer, cadence = row
    return Activity(
        id=ActivityId(i + 1), name=sport, sport_type=sport, start=moment(tz, off, hour),
        distance_m=Meters(meters), moving_time_s=Seconds(seconds),
        elapsed_time_s=Seconds(seconds + 30), average_heartrate=hr, suffer_score=suffer,
        cadence_spm=cadence,
    )  # fmt: skip


@st.composite
def cases(draw: st.DrawFn) -> tuple[History, datetime, Profile, RulesConfig]:
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    acts = [activity(tz, i, row) for i, row in enumerate(draw(activity_rows))]
    nights = [  # other hours than the routine's: no two sessions end at once
        SleepSession(end=moment(tz, off, h), hours=Hours(slept), hrv_ms=hrv, resting_hr=rhr)
        for off, h, slept, hrv, rhr in draw(night_rows)
    ]
    body = [
        BodyMeasurement(time=moment(tz, off, h), weight_kg=Kilograms(kg))
        for off, h, kg in draw(weigh_in_rows)
    ]
    pains = [PainReport(time=moment(tz, off, h), level=lvl) for off, h, lvl in draw(pain_rows)]
    gear = [Gear(id=GearId("g1"), name="Shoes", distance_m=Meters(draw(st.floats(0, 900_000))))]
    today = draw(st.integers(-SPAN_DAYS // 2, 0))
    now = moment(tz, today, draw(hours | st.just(END_OF_DAY_H)))
    length = draw(st.integers(0, SPAN_DAYS))  # drawn first: long routines are common too
    routine = draw(st.lists(routine_day, min_size=length, max_size=length))
    last = today + draw(st.integers(0, 1))  # a day after now sometimes: left out
    tired = len(routine) - draw(st.integers(0, 10))  # the last days: lower HRV, higher RHR
    hrv_drop, rhr_rise = draw(st.floats(0.4, 1.0)), draw(st.floats(0, 20))
    for n, (sport, m, hr, suffer, cadence, slept, hrv, rhr, weigh_ins, kg, level) in enumerate(
        routine
    ):
        off = last - len(routine) + 1 + n
        if sport is not None:
            row = (off, RUN_HOUR, sport, m, int(m * S_PER_M), hr, suffer, cadence)
            acts.append(activity(tz, len(acts), row))
        if slept is not None:
            end = moment(tz, off, NIGHT_END_HOUR)
            if n >= tired:
                hrv, rhr = hrv and hrv * hrv_drop, rhr and rhr + rhr_rise
            nights.append(SleepSession(end=end, hours=Hours(slept), hrv_ms=hrv, resting_hr=rhr))
        body += [BodyMeasurement(moment(tz, off, h), Kilograms(kg - h / 10)) for h in weigh_ins]
        if level is not None:
            pains.append(PainReport(time=moment(tz, off, RUN_HOUR), level=level))
    profile = Profile(
        timezone=tz,
        max_hr=draw(maybe(st.integers(170, 200))),
        resting_hr=draw(maybe(st.integers(40, 60))),
        sex=draw(maybe(st.sampled_from(list(Sex)))),
        has_scale=True,
        has_sleep=True,
    )
    rules = RulesConfig(
        # A look-back that reaches past the window: found by bisection, not lost.
        dehydration_post_run=DehydrationPostRun(pre_window_h=draw(st.sampled_from([12.0, 2400.0]))),
        hrv=Hrv(min_nights=draw(st.integers(3, 20))),
        pain=Pain(rest_min=draw(st.integers(1, 4)), persist_days=draw(st.integers(1, 4))),
    )
    return History.of(acts, nights, body, pains, gear), now, profile, rules


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_evaluation_equals_the_straightforward_one_on_any_history(
    case: tuple[History, datetime, Profile, RulesConfig],
) -> None:
    history, now, profile, rules = case
    expected = reference_evaluate(history, now, profile, rules)
    assert evaluate(history, now, profile, rules) == expected


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(0, SPAN_DAYS))
def test_context_series_and_look_backs_equal_the_straightforward_ones(
    case: tuple[History, datetime, Profile, RulesConfig], back: int
) -> None:
    history, now, profile, _ = case
    fast, plain = Context.build(history, now, profile), reference_context(history, now, profile)
    for name in ("activities", "activity_days", "loads", "load_source", "first_day",
                 "daily_load", "acute_load", "chronic_load", "ctl_yesterday", "atl_yesterday",
                 "session_minutes", "run_km_by_day", "longest_run_by_day",
                 "pain_levels"):  # fmt: skip
        assert getattr(fast, name) == getattr(plain, name), name
    for minutes in (0.0, 30.0, 90.0):
        assert fast.rest_streak(minutes) == plain.rest_streak(minutes)
    window = {d: v for d, v in plain.night_hours.items() if fast.today - d < WINDOW}
    assert fast.night_hours == window
    day = fast.today - timedelta(days=back)  # any day, also far past the window
    assert fast.sleeps_since(day) == plain.sleeps_since(day)
    assert fast.body_since(day) == plain.body_since(day)
    assert fast.first_weigh_in(day) == plain.first_weigh_in(day)
    assert fast.body[-1:] == plain.body[-1:]  # the latest weigh-in, even one long ago


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(0, 40))
def test_a_history_evaluated_in_one_pass_equals_each_day_evaluated_alone(
    case: tuple[History, datetime, Profile, RulesConfig], days: int
) -> None:
    """`restday history`'s one pass gives, day by day, what `status --date D` gives."""
    history, now, profile, rules = case
    today = now.astimezone(profile.timezone).date()
    first = today - timedelta(days=days)
    for day, rec in evaluate_days(history, first, today, now, profile, rules):
        moment_ = now if day == today else end_of_day(day, profile.timezone)
        assert rec == evaluate(history, moment_, profile, rules), day


def test_a_long_history_is_not_scanned_for_nights_weigh_ins_and_pain() -> None:
    """10,000 days of inputs: the context holds only the window, and pain's last 15 report
    days (a day without a report skipped)."""
    tz = ZoneInfo("Europe/Berlin")
    back = range(10_000)
    history = History.of(
        sleeps=[SleepSession(end=moment(tz, -n, 6), hours=Hours(7)) for n in back],
        body=[BodyMeasurement(time=moment(tz, -n, 7), weight_kg=Kilograms(70)) for n in back],
        pains=[PainReport(time=moment(tz, -n, h), level=3) for n in back if n != 5 for h in (8, 9)],
    )
    ctx = Context.build(history, moment(tz, 0, 12), Profile(timezone=tz))
    assert len(ctx.sleeps) == len(ctx.body) == WINDOW_DAYS
    report_days = [n for n in range(15, -1, -1) if n != 5]
    assert [p.time for p in ctx.pains] == [moment(tz, -n, 9) for n in report_days]
    assert len(ctx.sleeps_since(BASE - timedelta(days=9_999))) == len(back)  # still reachable


def test_pain_reported_since_the_very_first_report_counts_every_day() -> None:
    tz = ZoneInfo("Europe/Berlin")
    pains = [PainReport(time=moment(tz, -n, 8), level=5) for n in range(3)]
    ctx = Context.build(History.of(pains=pains), moment(tz, 0, 12), Profile(timezone=tz))
    assert ctx.pains == tuple(reversed(pains))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.floats(0, 80), st.integers(0, 10), st.integers(-100, 0))
def test_a_pruned_history_evaluates_the_same_from_then_on(
    case: tuple[History, datetime, Profile, RulesConfig], later_h: float, level: int, back: int
) -> None:
    """What `prune` drops is never read again, even after a new input arrives."""
    history, now, profile, rules = case
    later = now + timedelta(hours=later_h)
    new_pain = PainReport(time=later, level=level)
    new_weigh_in = BodyMeasurement(time=later + timedelta(days=back), weight_kg=Kilograms(61))
    kept = prune(history, now, profile, rules)
    full = History.of(history.activities, history.sleeps, [*history.body, new_weigh_in],
                      [*history.pains, new_pain], history.gear)  # fmt: skip
    pruned = History.of(kept.activities, kept.sleeps, [*kept.body, new_weigh_in],
                        [*kept.pains, new_pain], kept.gear)  # fmt: skip
    assert evaluate(pruned, later, profile, rules) == evaluate(full, later, profile, rules)
    assert evaluate(kept, now, profile, rules) == evaluate(history, now, profile, rules)
    assert kept.pains[-1:] == history.pains[-1:]  # the pain echo's level


def test_pruning_a_long_history_keeps_only_the_window() -> None:
    tz = ZoneInfo("Europe/Berlin")
    back = range(10_000)
    history = History.of(
        sleeps=[SleepSession(end=moment(tz, -n, 6), hours=Hours(7)) for n in back],
        body=[BodyMeasurement(time=moment(tz, -n, 7), weight_kg=Kilograms(70)) for n in back],
        pains=[PainReport(time=moment(tz, -n, 8), level=3) for n in back if n != 5],
    )
    kept = prune(history, moment(tz, 0, 12), Profile(timezone=tz), RulesConfig())
    assert len(kept.sleeps) == WINDOW_DAYS
    assert len(kept.body) == WINDOW_DAYS
    # The last 28 days, and the last report of each of the 15 report days before them.
    assert [p.time for p in kept.pains] == [moment(tz, -n, 8) for n in range(42, -1, -1) if n != 5]
