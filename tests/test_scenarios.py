"""Whole histories, every rule at once: sensible training stays quiet, overreaching does not.

False alarms cost a runner's trust faster than misses, so the sensible plan is evaluated on
every day of months of training and must never be told to rest.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from restday.models import Activity, BodyMeasurement, History, SleepSession, Status
from restday.rules.settings import Profile
from tests.factories import DAY, PROFILE, evaluate_on, night, run, weigh, workout

# Share of the week's volume by weekday: Mon, Tue, Thu, Sat easy; Sun the long run.
WEEK_SHARES = {0: 0.18, 1: 0.20, 3: 0.20, 5: 0.12, 6: 0.30}
START_KM = 30.0
BUILD = 1.05  # +5 % a week
DELOAD = 0.70  # every fourth week
FULL_PROFILE = Profile(timezone=PROFILE.timezone, has_scale=True, has_sleep=True)


def week_volumes(weeks: int) -> list[float]:
    """+5 % each build week; every fourth week at 70 % without advancing the build."""
    volumes: list[float] = []
    base = START_KM
    for week in range(weeks):
        if week % 4 == 3:
            volumes.append(base * DELOAD)
        else:
            if week:
                base *= BUILD
            volumes.append(base)
    return volumes


def sensible_plan(
    first_monday: date, weeks: int
) -> tuple[list[Activity], list[SleepSession], list[BodyMeasurement]]:
    activities: list[Activity] = []
    sleeps: list[SleepSession] = []
    body: list[BodyMeasurement] = []
    for week, volume in enumerate(week_volumes(weeks)):
        for weekday in range(7):
            day = first_monday + timedelta(days=7 * week + weekday)
            share = WEEK_SHARES.get(weekday)
            if share:
                activities.append(run(day, round(volume * share, 1), cadence=172.0))
            if weekday in (0, 3):  # strength after the Monday and Thursday runs
                activities.append(workout(day, 35.0))
            sleeps.append(night(day, 8.0 + 0.3 * ((day.toordinal() % 3) - 1)))
            body.append(weigh(day, 70.0 + 0.2 * ((day.toordinal() % 5) - 2), hour=6.5))
    return activities, sleeps, body


def monday_weeks_before(day: date, weeks: int) -> date:
    return day - timedelta(days=day.weekday()) - timedelta(weeks=weeks - 1)


def test_sensible_plan_never_gets_a_rest_day_and_hardly_an_easy_one() -> None:
    weeks = 24
    first = monday_weeks_before(DAY, weeks)
    activities, sleeps, body = sensible_plan(first, weeks)
    history = History.of(activities, sleeps, body)
    statuses: Counter[Status] = Counter()
    fired: Counter[str] = Counter()
    day = first + timedelta(weeks=6)
    while day <= DAY:
        rec = evaluate_on(history, day, profile=FULL_PROFILE)
        statuses[rec.status] += 1
        fired.update(f.rule for f in rec.reasons if f.severity.rank >= 1)
        assert not rec.rest_day_recommended, (day, rec.reasons)
        day += timedelta(days=1)
    days = sum(statuses.values())
    assert statuses[Status.TRAIN] >= 0.9 * days, (statuses, fired)
    assert statuses[Status.EASY] <= 0.1 * days, (statuses, fired)


def test_doubled_week_ending_in_a_long_run_after_seven_days_running_recommends_rest() -> None:
    weeks = 12
    first = monday_weeks_before(DAY - timedelta(days=7), weeks)
    activities, sleeps, body = sensible_plan(first, weeks)
    last_volume = week_volumes(weeks)[-2]  # the last full build week
    longest = max(a.distance_km for a in activities)
    overreach_start = DAY - timedelta(days=6)
    daily = (2 * last_volume - 2.2 * longest) / 6
    for i in range(6):
        activities.append(run(overreach_start + timedelta(days=i), round(daily, 1)))
    activities.append(run(DAY, round(2.2 * longest, 1)))  # 120 % over the longest
    rec = evaluate_on(History.of(activities, sleeps, body), DAY, profile=FULL_PROFILE)
    assert rec.status is Status.REST
    fired = {f.rule: f.severity.value for f in rec.reasons}
    assert fired["run_spike"] == "strong"
    assert fired["no_rest_day"] == "moderate"
    assert fired["weekly_increase"] == "moderate"
    assert rec.metrics.days_since_rest == 7


def test_short_nights_and_a_dehydrating_run_together_recommend_rest() -> None:
    weeks = 10
    first = monday_weeks_before(DAY, weeks)
    activities, sleeps, body = sensible_plan(first, weeks)
    sleeps = [s for s in sleeps if s.end.date() != DAY] + [night(DAY, 5.5)]
    activities.append(run(DAY, 12.0, hour=7.0))  # a Friday run, ending about 08:07
    body += [weigh(DAY, 70.0, hour=6.9), weigh(DAY, 68.4, hour=8.5)]  # 2.3 % lost on the run
    rec = evaluate_on(History.of(activities, sleeps, body), DAY, profile=FULL_PROFILE)
    assert rec.status is Status.REST
    fired = {f.rule for f in rec.reasons if f.severity.value == "moderate"}
    assert {"sleep_short", "dehydration_post_run"} <= fired
