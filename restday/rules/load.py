"""Training load per activity, in one unit for the whole history (RULES.md v2, "Load").

The unit is chosen by the configuration alone, never by the data (v1 switched from minutes to
TRIMP the day most activities had HR, and every load in the history jumped): Banister TRIMP
from average heart rate when the athlete's max and resting HR are set, else Strava's relative
effort (`suffer_score`). An activity lacking the value is estimated as its moving minutes × the
median value per minute of its sport kind over the athlete's *earlier* activities that have it
(none yet: the sport's factor per minute, × 1.5 for TRIMP). An activity's load therefore never
changes when later activities arrive, and an athlete without HR or relative effort simply gets
factor-weighted minutes.

`day_series` sums the loads into one value a day, for the exponential averages.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from restday.models import METERS_PER_KM, Activity, SportKind
from restday.rules.settings import Profile, Sex


class LoadSource(StrEnum):
    TRIMP = "trimp"
    SUFFER_SCORE = "suffer_score"


SPORT_FACTOR: dict[SportKind, float] = {
    SportKind.RUN: 1.0,
    SportKind.FOOT: 0.8,
    SportKind.RIDE: 0.5,
    SportKind.SWIM: 0.6,
    SportKind.STRENGTH: 0.3,
    SportKind.OTHER: 0.5,
}
TRIMP_PER_FACTOR_MINUTE = 1.5  # a first estimate of TRIMP per minute, before any HR is known

# Banister's TRIMP weighting: k · e^(b · HRr), by sex; unset sex uses the original (male) one.
_TRIMP_CONSTANTS: dict[Sex | None, tuple[float, float]] = {
    Sex.MALE: (0.64, 1.92),
    Sex.FEMALE: (0.86, 1.67),
    None: (0.64, 1.92),
}


def trimp(activity: Activity, profile: Profile) -> float | None:
    """Banister TRIMP: minutes × HRr × k·e^(b·HRr), or None without heart rate."""
    hr, max_hr, rest_hr = activity.average_heartrate, profile.max_hr, profile.resting_hr
    if hr is None or max_hr is None or rest_hr is None or max_hr <= rest_hr:
        return None
    reserve = min(1.0, max(0.0, (hr - rest_hr) / (max_hr - rest_hr)))
    k, b = _TRIMP_CONSTANTS[profile.sex]
    return activity.moving_minutes * reserve * k * math.exp(b * reserve)


def choose_source(profile: Profile) -> LoadSource:
    """The load unit, from the configuration alone: TRIMP with max and resting HR set."""
    max_hr, rest_hr = profile.max_hr, profile.resting_hr
    if max_hr is not None and rest_hr is not None and max_hr > rest_hr:
        return LoadSource.TRIMP
    return LoadSource.SUFFER_SCORE


def activity_loads(
    activities: Sequence[Activity], profile: Profile
) -> tuple[LoadSource, list[float]]:
    """The configured unit and the load of each activity in it (same order as given, which
    is oldest first: an estimate only reads earlier activities)."""
    source = choose_source(profile)
    measured = (
        _trimps(activities, profile)
        if source is LoadSource.TRIMP
        else [a.suffer_score for a in activities]
    )
    first_rate = TRIMP_PER_FACTOR_MINUTE if source is LoadSource.TRIMP else 1.0
    rates: dict[SportKind, list[float]] = {}  # per minute, sorted, of earlier measured ones
    # Rates are only kept while an activity without a value is still to come.
    last_missing = max((i for i, load in enumerate(measured) if load is None), default=-1)
    loads: list[float] = []
    for i, (activity, load) in enumerate(zip(activities, measured, strict=True)):
        minutes = activity.moving_minutes
        if load is not None:
            loads.append(float(load))
            if minutes > 0 and i < last_missing:
                bisect.insort(rates.setdefault(activity.kind, []), load / minutes)
            continue
        earlier = rates.get(activity.kind)
        if earlier:
            loads.append(minutes * _median(earlier))
        else:
            loads.append(minutes * (SPORT_FACTOR[activity.kind] * first_rate))
    return source, loads


def _median(ordered: list[float]) -> float:
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _trimps(activities: Sequence[Activity], profile: Profile) -> list[float | None]:
    """`trimp` of each activity: the same arithmetic in one tight loop, as it runs over the
    whole history at every evaluation."""
    max_hr, rest_hr = profile.max_hr, profile.resting_hr
    if max_hr is None or rest_hr is None or max_hr <= rest_hr:
        return [None] * len(activities)
    k, b = _TRIMP_CONSTANTS[profile.sex]
    span = max_hr - rest_hr
    exp = math.exp
    out: list[float | None] = []
    for activity in activities:
        hr = activity.average_heartrate
        if hr is None:
            out.append(None)
            continue
        reserve = (hr - rest_hr) / span  # min(1.0, max(0.0, …)) as `trimp`, without calls
        reserve = reserve if reserve > 0.0 else 0.0
        reserve = reserve if reserve < 1.0 else 1.0
        out.append(activity.moving_time_s / 60.0 * reserve * k * exp(b * reserve))
    return out


def day_series(
    activities: Sequence[Activity],
    activity_days: Sequence[date],
    loads: Sequence[float],
    today: date,
) -> tuple[list[float], dict[date, float], dict[date, float]]:
    """Load per day (the first activity's day … today), run km and the longest run per day."""
    if not activity_days:
        return [], {}, {}
    first = activity_days[0].toordinal()
    daily = [0.0] * (today.toordinal() - first + 1)
    for day, load in zip(activity_days, loads, strict=True):
        daily[day.toordinal() - first] += load
    run_km: dict[date, float] = {}
    longest: dict[date, float] = {}
    run = SportKind.RUN
    for activity, day in zip(activities, activity_days, strict=True):
        if activity.kind is run:
            distance = activity.distance_m / METERS_PER_KM
            run_km[day] = run_km.get(day, 0.0) + distance
            longest[day] = max(longest.get(day, 0.0), distance)
    return daily, run_km, longest
