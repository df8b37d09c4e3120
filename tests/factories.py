"""Builders for histories in tests: a day and a few numbers in, domain objects out.

Times are given as local days/hours in `TZ` (Europe/Berlin) and stored in UTC, as the store
does, so the tests exercise the athlete's day boundary.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from restday.models import (
    Activity,
    ActivityId,
    BodyMeasurement,
    Finding,
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
)
from restday.rules.context import Context
from restday.rules.engine import evaluate
from restday.rules.settings import DecisionConfig, Profile, RulesConfig

TZ = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
PROFILE = Profile(timezone=TZ)
DAY = date(2026, 11, 20)  # a Friday: the default evaluated day
RUN_PACE_MIN_PER_KM = 5.5

_ids = itertools.count(1_000_000)


def at(day: date, hour: float = 7.0) -> datetime:
    """Local `hour` (fractions are minutes) of `day` in TZ, as an aware UTC datetime."""
    h = int(hour)
    m = round((hour - h) * 60)
    return datetime.combine(day, time(h, m), tzinfo=TZ).astimezone(UTC)


def end_of(day: date) -> datetime:
    """The last moment of the local day: what `restday status --date` evaluates."""
    return at(day + timedelta(days=1), 0) - timedelta(microseconds=1)


def run(
    day: date,
    km: float,
    *,
    hour: float = 7.0,
    minutes: float | None = None,
    sport: str = "Run",
    hr: float | None = None,
    suffer: float | None = None,
    cadence: float | None = None,  # steps per minute (already doubled)
    gear: str | None = None,
    id: int | None = None,
    workout_type: int | None = None,  # Strava's: 1 marks a race
) -> Activity:
    moving = (minutes if minutes is not None else km * RUN_PACE_MIN_PER_KM) * 60
    return Activity(
        id=ActivityId(id if id is not None else next(_ids)),
        name=f"{sport} {km} km",
        sport_type=sport,
        start=at(day, hour),
        distance_m=Meters(km * 1000),
        moving_time_s=Seconds(moving),
        elapsed_time_s=Seconds(moving + 60),
        average_heartrate=hr,
        suffer_score=suffer,
        cadence_spm=cadence,
        gear_id=GearId(gear) if gear else None,
        workout_type=workout_type,
    )


def workout(day: date, minutes: float, sport: str = "WeightTraining", **kw: float) -> Activity:
    """A non-running session of `minutes` (strength by default)."""
    return run(day, 0.0, minutes=minutes, sport=sport, **kw)  # type: ignore[arg-type]


def night(
    day: date,
    hours: float,
    *,
    end_hour: float = 7.0,
    hrv: float | None = None,
    rhr: float | None = None,
) -> SleepSession:
    """A night of `hours` asleep that ended on the morning of `day`."""
    end = at(day, end_hour)
    return SleepSession(
        start=end - timedelta(hours=hours),
        end=end,
        hours=Hours(hours),
        hrv_ms=hrv,
        resting_hr=rhr,
    )


def weigh(day: date, kg: float, *, hour: float = 7.0) -> BodyMeasurement:
    return BodyMeasurement(time=at(day, hour), weight_kg=Kilograms(kg))


def pain(day: date, level: int, *, hour: float = 8.0) -> PainReport:
    return PainReport(time=at(day, hour), level=level)


def shoe(name: str, km: float, *, id: str = "g1", retired: bool = False) -> Gear:
    return Gear(id=GearId(id), name=name, distance_m=Meters(km * 1000), retired=retired)


def ago(days: int) -> date:
    """`days` days before the default evaluated day."""
    return DAY - timedelta(days=days)


def rank(findings: Sequence[Finding]) -> int:
    """The highest severity rank among the findings, -1 for none."""
    return max((f.severity.rank for f in findings), default=-1)


def only(findings: Sequence[Finding]) -> Finding:
    """The one finding a rule gave."""
    assert len(findings) == 1, findings
    return findings[0]


def days_before(day: date, n: int) -> date:
    return day - timedelta(days=n)


def context(
    history: History, day: date = DAY, *, hour: float | None = None, profile: Profile = PROFILE
) -> Context:
    """The rules' view of `day` (at its end unless an `hour` is given)."""
    now = end_of(day) if hour is None else at(day, hour)
    return Context.build(history, now, profile)


def evaluate_on(
    history: History,
    day: date = DAY,
    *,
    hour: float | None = None,
    profile: Profile = PROFILE,
    rules: RulesConfig | None = None,
    decision: DecisionConfig | None = None,
) -> Recommendation:
    now = end_of(day) if hour is None else at(day, hour)
    return evaluate(history, now, profile, rules, decision)


def steady_runs(last_day: date, weeks: int, km_per_run: float = 8.0) -> list[Activity]:
    """Runs on Mon, Tue, Thu, Fri, Sun for `weeks` weeks ending on `last_day` (a sane base)."""
    out: list[Activity] = []
    for i in range(weeks * 7):
        d = last_day - timedelta(days=i)
        if d.weekday() in (0, 1, 3, 4, 6):
            out.append(run(d, km_per_run))
    return out
