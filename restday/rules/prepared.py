"""What every evaluation of one history reads, computed once (`Prepared.of`): the local day and
load of each activity, the daily load with its prefix sums, run km and training sessions per
day. `Context.at(prepared, now)` then evaluates any day by bisection; `restday history`
evaluates ten years this way in one pass (`engine.evaluate_days`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import TypeVar

from restday.models import Activity, History
from restday.rules.load import LoadSource, activity_loads, day_series
from restday.rules.settings import Profile

ACUTE_DAYS = 7
CHRONIC_DAYS = 28  # also the days whose mean load seeds every exponential average
CTL_DAYS = 42  # training-peaks "fitness" time constant
ATL_DAYS = 7  # "fatigue" time constant
NEVER_TRAINING = frozenset({"Walk", "Hike", "Yoga"})  # sport types that never break a rest day
RUN_SESSION = math.inf  # any run is a training session, however short

T = TypeVar("T")
activity_start = attrgetter("start")


def ewma_lambda(days: int) -> float:
    """Williams et al. 2017: λ = 2 / (N + 1)."""
    return 2.0 / (days + 1)


@dataclass(frozen=True, slots=True)
class Prepared:
    """What every evaluation of a history up to `now` reads, computed once: the local day and
    load of each activity, the daily load from the first activity's day to `now`'s, its
    exponential averages as of each day, and per-day running and training figures."""

    now: datetime
    history: History
    profile: Profile
    activities: tuple[Activity, ...]
    activity_days: tuple[date, ...]
    loads: tuple[float, ...]
    load_source: LoadSource
    first_day: date | None
    daily_load: tuple[float, ...]
    prefix: tuple[float, ...]  # prefix[i] = the load of daily_load[:i]
    run_km_by_day: dict[date, float]
    longest_run_by_day: dict[date, float]
    session_minutes: dict[date, float]
    run_minutes_by_day: dict[date, float]
    # Evaluated on many days (`engine.evaluate_days`): a series is then derived from the whole
    # history once (the averages, the training streaks, long_effort's runs) rather than from
    # its window every day. `memo` holds what was derived, by name, either way.
    many_days: bool = field(default=False, compare=False)
    memo: dict[str, object] = field(default_factory=dict, compare=False)

    @classmethod
    def of(
        cls, history: History, now: datetime, profile: Profile, *, many_days: bool = False
    ) -> Prepared:
        tz = profile.timezone
        activities = _until(history.activities, now, key=activity_start)
        activity_days = tuple([a.start.astimezone(tz).date() for a in activities])
        source, loads = activity_loads(activities, profile)
        first_day = activity_days[0] if activity_days else None
        last_day = now.astimezone(tz).date()
        daily, run_km, longest = day_series(activities, activity_days, loads, last_day)
        prefix = [0.0]
        for load in daily:
            prefix.append(prefix[-1] + load)
        sessions: dict[date, float] = {}
        run_minutes: dict[date, float] = {}
        for activity, day in zip(activities, activity_days, strict=True):
            if activity.is_run:
                sessions[day] = RUN_SESSION
                run_minutes[day] = run_minutes.get(day, 0.0) + activity.moving_minutes
            elif activity.sport_type not in NEVER_TRAINING:
                sessions[day] = max(sessions.get(day, 0.0), activity.moving_minutes)
        return cls(
            now=now,
            history=history,
            profile=profile,
            activities=activities,
            activity_days=activity_days,
            loads=tuple(loads),
            load_source=source,
            first_day=first_day,
            daily_load=tuple(daily),
            prefix=tuple(prefix),
            run_km_by_day=run_km,
            longest_run_by_day=longest,
            session_minutes=sessions,
            run_minutes_by_day=run_minutes,
            many_days=many_days,
        )

    def average(self, days: int, upto: int, smoothing: float | None = None) -> float | None:
        """The exponential average of daily_load[:upto] (None for none). Evaluated on many
        days, read from the series of every day's value once the seed is fixed (the same
        arithmetic, done once)."""
        if upto <= 0:
            return None
        if not self.many_days or upto < CHRONIC_DAYS:
            return _ewma(self.daily_load, days, upto, smoothing=smoothing)
        key = f"ewma:{days}:{smoothing}"
        series = self.memo.get(key)
        if not isinstance(series, tuple):
            alpha = ewma_lambda(days) if smoothing is None else smoothing
            series = self.memo[key] = _ewma_series(self.daily_load, alpha)
        value: float = series[upto - CHRONIC_DAYS]
        return value

    def training_streak(self, day: date, min_minutes: float) -> int:
        """Consecutive days with a training session of at least `min_minutes` (a run always)
        ending on `day` (0 when `day` has none), from one pass over the history per value."""
        if self.first_day is None or day < self.first_day:
            return 0
        if not self.many_days:  # one evaluation: walk back from `day` (once: rule and metrics)
            key = f"streak:{day}:{min_minutes}"
            known = self.memo.get(key)
            if isinstance(known, int):
                return known
            minutes, run, back = self.session_minutes, 0, day
            while minutes.get(back, -1.0) >= min_minutes:
                run, back = run + 1, back - timedelta(days=1)
            self.memo[key] = run
            return run
        key = f"streaks:{min_minutes}"
        streaks = self.memo.get(key)
        if not isinstance(streaks, tuple):
            minutes, out, run = self.session_minutes, [], 0
            for i in range(len(self.daily_load)):
                trained = minutes.get(self.first_day + timedelta(days=i), -1.0) >= min_minutes
                run = run + 1 if trained else 0
                out.append(run)
            streaks = self.memo[key] = tuple(out)
        index = (day - self.first_day).days
        found: int = streaks[index] if index < len(streaks) else 0
        return found

    def load_total(self, first: date, last: date) -> float:
        """The load of the days `first` … `last` (0 before the history; last ≤ `now`'s day)."""
        if self.first_day is None:
            return 0.0
        lo = max(0, (first - self.first_day).days)
        hi = (last - self.first_day).days + 1
        return self.prefix[hi] - self.prefix[lo] if hi > lo else 0.0


def _until(items: Sequence[T], now: datetime, *, key: Callable[[T], datetime]) -> tuple[T, ...]:
    """The prefix of a time-sorted sequence with key ≤ now (the tuple itself when all are)."""
    hi = bisect.bisect_right(items, now, key=key)
    return tuple(items[:hi])


def _ewma_series(daily: Sequence[float], alpha: float) -> tuple[float, ...]:
    """The exponential average as of each day from the 28th on (index 0 = day 28), seeded at
    the mean of the first 28 days (what `_ewma` gives for each of those days)."""
    if len(daily) < CHRONIC_DAYS:
        return ()
    value = sum(daily[:CHRONIC_DAYS]) / CHRONIC_DAYS
    out: list[float] = []
    for i, load in enumerate(daily):
        value += alpha * (load - value)
        if i >= CHRONIC_DAYS - 1:
            out.append(value)
    return tuple(out)


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
