"""The evaluated day and the series every rule shares, computed once per evaluation.

`Context.build(history, now, profile)` keeps only what happened up to `now`, works out the
athlete's local calendar days, the load of every activity and the daily load series with its
exponential averages. Rules read from it; none of them recomputes a series.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TypeVar

from restday.models import (
    METERS_PER_KM,
    Activity,
    BodyMeasurement,
    Gear,
    History,
    PainReport,
    SleepSession,
    SportKind,
)
from restday.rules.load import LoadSource, activity_loads
from restday.rules.settings import Profile

CALIBRATION_DAYS = 28  # history shorter than this (first activity → today) is calibrating
ACUTE_DAYS = 7
CHRONIC_DAYS = 28
CTL_DAYS = 42  # training-peaks "fitness" time constant
ATL_DAYS = 7  # "fatigue" time constant
DAY_OVER_WITHIN = timedelta(seconds=1)  # evaluating this close to midnight = the day is done
NIGHT_ENDS_BY = time(14, 0)  # sleep that ends after this local time is a nap

T = TypeVar("T")


def ewma_lambda(days: int) -> float:
    """Williams et al. 2017: λ = 2 / (N + 1)."""
    return 2.0 / (days + 1)


@dataclass(frozen=True, slots=True)
class Context:
    """One evaluation: `today` in the athlete's zone, and the history up to `now`."""

    now: datetime
    tz: tzinfo
    today: date
    profile: Profile
    activities: tuple[Activity, ...]
    activity_days: tuple[date, ...]  # local day of each activity's start
    active_days: frozenset[date]  # the days with any activity
    loads: tuple[float, ...]  # load of each activity, in `load_source`
    load_source: LoadSource
    sleeps: tuple[SleepSession, ...]
    body: tuple[BodyMeasurement, ...]
    pains: tuple[PainReport, ...]
    gear: tuple[Gear, ...]
    first_day: date | None  # local day of the first activity
    daily_load: tuple[float, ...]  # first_day … today, one value a day
    run_km_by_day: dict[date, float]
    longest_run_by_day: dict[date, float]
    night_hours: dict[date, float]  # sleep that ended that day 00:00–14:00 local
    acute_load: float | None
    chronic_load: float | None
    ctl_yesterday: float | None
    atl_yesterday: float | None

    @classmethod
    def build(cls, history: History, now: datetime, profile: Profile) -> Context:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        tz = profile.timezone
        today = now.astimezone(tz).date()

        activities = _until(history.activities, now, key=lambda a: a.start)
        activity_days = tuple(a.start.astimezone(tz).date() for a in activities)
        source, loads = activity_loads(activities, profile)
        first_day = activity_days[0] if activity_days else None

        daily: list[float] = []
        if first_day is not None:
            daily = [0.0] * ((today - first_day).days + 1)
            for day, load in zip(activity_days, loads, strict=True):
                daily[(day - first_day).days] += load

        run_km: dict[date, float] = defaultdict(float)
        longest: dict[date, float] = {}
        for activity, day in zip(activities, activity_days, strict=True):
            if activity.kind is SportKind.RUN:
                distance = activity.distance_m / METERS_PER_KM
                run_km[day] += distance
                longest[day] = max(longest.get(day, 0.0), distance)

        sleeps = _until(history.sleeps, now, key=lambda s: s.end)
        nights: dict[date, float] = defaultdict(float)
        for sleep in sleeps:
            local_end = sleep.end.astimezone(tz)
            if local_end.time() <= NIGHT_ENDS_BY:
                nights[local_end.date()] += sleep.hours

        acute = _ewma(daily, ACUTE_DAYS, len(daily))
        chronic = _ewma(daily, CHRONIC_DAYS, len(daily))
        ctl = _ewma(daily, CTL_DAYS, len(daily) - 1, smoothing=1.0 / CTL_DAYS)
        atl = _ewma(daily, ATL_DAYS, len(daily) - 1, smoothing=1.0 / ATL_DAYS)

        return cls(
            now=now,
            tz=tz,
            today=today,
            profile=profile,
            activities=activities,
            activity_days=activity_days,
            active_days=frozenset(activity_days),
            loads=tuple(loads),
            load_source=source,
            sleeps=sleeps,
            body=_until(history.body, now, key=lambda b: b.time),
            pains=_until(history.pains, now, key=lambda p: p.time),
            gear=history.gear,
            first_day=first_day,
            daily_load=tuple(daily),
            run_km_by_day=dict(run_km),
            longest_run_by_day=longest,
            night_hours=dict(nights),
            acute_load=acute,
            chronic_load=chronic,
            ctl_yesterday=ctl,
            atl_yesterday=atl,
        )

    # --- days -------------------------------------------------------------------------
    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def local_datetime(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def day_start(self, day: date) -> datetime:
        """Local midnight at the start of `day`, as an aware datetime."""
        return datetime.combine(day, time(0), tzinfo=self.tz)

    @property
    def day_is_over(self) -> bool:
        """True when `now` is the last second of the local day (`restday status --date`)."""
        next_midnight = self.day_start(self.today + timedelta(days=1))
        return self.now >= next_midnight - DAY_OVER_WITHIN

    @property
    def history_days(self) -> int:
        """Days from the first activity to today, both included (0 without activities)."""
        return 0 if self.first_day is None else (self.today - self.first_day).days + 1

    @property
    def calibrating(self) -> bool:
        return self.history_days < CALIBRATION_DAYS

    # --- load ---------------------------------------------------------------------------
    def load_on(self, day: date) -> float:
        if self.first_day is None or day < self.first_day or day > self.today:
            return 0.0
        return self.daily_load[(day - self.first_day).days]

    def loads_between(self, first: date, last: date) -> list[float]:
        """Daily loads from `first` to `last` inclusive (0 for days before the history)."""
        return [self.load_on(first + timedelta(days=i)) for i in range((last - first).days + 1)]

    @property
    def acwr(self) -> float | None:
        if self.acute_load is None or not self.chronic_load:
            return None
        return self.acute_load / self.chronic_load

    # --- running --------------------------------------------------------------------------
    def run_km_between(self, first: date, last: date) -> float:
        return sum(self.run_km_by_day.get(day, 0.0) for day in _days(first, last))

    def longest_run_between(self, first: date, last: date) -> float | None:
        runs = [
            self.longest_run_by_day[d] for d in _days(first, last) if d in self.longest_run_by_day
        ]
        return max(runs) if runs else None

    def activities_between(self, first: date, last: date) -> list[Activity]:
        lo = bisect.bisect_left(self.activity_days, first)
        hi = bisect.bisect_right(self.activity_days, last)
        return list(self.activities[lo:hi])

    @property
    def days_since_rest(self) -> int:
        """Consecutive days with any activity, back from today (or from yesterday while today
        has none yet; once today is over without one, it was a rest day and the streak is 0)."""
        active = self.active_days
        if self.today not in active and self.day_is_over:
            return 0
        day = self.today if self.today in active else self.today - timedelta(days=1)
        streak = 0
        while day in active:
            streak += 1
            day -= timedelta(days=1)
        return streak

    # --- sleep and body ---------------------------------------------------------------------
    def sleeps_since(self, day: date) -> tuple[SleepSession, ...]:
        """Sleep sessions that ended from local midnight of `day` on."""
        lo = bisect.bisect_left(self.sleeps, self.day_start(day), key=lambda s: s.end)
        return self.sleeps[lo:]

    def first_weigh_in(self, day: date) -> BodyMeasurement | None:
        """The first weigh-in of a local day, if any."""
        index = bisect.bisect_left(self.body, self.day_start(day), key=lambda b: b.time)
        if index < len(self.body) and self.local_date(self.body[index].time) == day:
            return self.body[index]
        return None

    def body_since(self, day: date) -> tuple[BodyMeasurement, ...]:
        """Weigh-ins from local midnight of `day` on."""
        lo = bisect.bisect_left(self.body, self.day_start(day), key=lambda b: b.time)
        return self.body[lo:]

    def last_night_hours(self) -> float | None:
        return self.night_hours.get(self.today)


def _days(first: date, last: date) -> Iterator[date]:
    """Every day from `first` to `last`, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _until(items: Sequence[T], now: datetime, *, key: Callable[[T], datetime]) -> tuple[T, ...]:
    """The prefix of a time-sorted sequence with key ≤ now."""
    hi = bisect.bisect_right(items, now, key=key)
    return tuple(items[:hi])


def _ewma(
    daily: Sequence[float], days: int, upto: int, *, smoothing: float | None = None
) -> float | None:
    """Exponential average of daily[0:upto], started at the mean of its first 28 days.

    The seed comes from the averaged days only, so a value "as of yesterday" never looks at
    today's load while the history is shorter than 28 days.
    """
    if upto <= 0:
        return None
    alpha = ewma_lambda(days) if smoothing is None else smoothing
    seed_days = daily[: min(CHRONIC_DAYS, upto)]
    value = sum(seed_days) / len(seed_days)
    for load in daily[:upto]:
        value += alpha * (load - value)
    return value
