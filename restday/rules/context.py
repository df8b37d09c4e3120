"""The evaluated day and the series every rule shares, computed once per evaluation.

`Context.build(history, now, profile)` keeps only what happened up to `now`, works out the
athlete's local calendar days, the load of every activity and the daily load series with its
exponential averages. Rules read from it; none of them recomputes a series.

Its cost does not grow with the number of nights, weigh-ins and pain reports: those are only
scanned inside the last `WINDOW_DAYS` days (older ones are found by bisection when a rule asks
for them), so a long-running service answers each input as fast on day 1,000 as on day 10.
Activities are walked once, with cheap operations, for the load series that spans them all.
`prune` keeps of a history only what evaluations from now on can read (a daemon's memory).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from operator import attrgetter
from typing import Generic, TypeVar

from restday.models import Activity, BodyMeasurement, Gear, History, PainReport, SleepSession
from restday.rules.load import LoadSource, activity_loads, day_series
from restday.rules.settings import Profile, RulesConfig

CALIBRATION_DAYS = 28  # history shorter than this (first activity → today) is calibrating
ACUTE_DAYS = 7
CHRONIC_DAYS = 28
CTL_DAYS = 42  # training-peaks "fitness" time constant
ATL_DAYS = 7  # "fatigue" time constant
DAY_OVER_WITHIN = timedelta(seconds=1)  # evaluating this close to midnight = the day is done
NIGHT_ENDS_BY = time(14, 0)  # sleep that ends after this local time is a nap
# The longest look-back of any sleep or weigh-in rule (hrv's 60-night baseline): only this
# many days of nights and weigh-ins are scanned per evaluation; older ones stay reachable.
WINDOW_DAYS = 60
RECENT_RUN_DAYS = 3  # dehydration_post_run's run started at most this long before today

T = TypeVar("T")
_activity_start = attrgetter("start")
_sleep_end = attrgetter("end")
_body_time = attrgetter("time")
_pain_time = attrgetter("time")


def ewma_lambda(days: int) -> float:
    """Williams et al. 2017: λ = 2 / (N + 1)."""
    return 2.0 / (days + 1)


@dataclass(frozen=True, slots=True)
class Timeline(Generic[T]):
    """A time-sorted tuple and how much of it happened by `now`: slices by bisection."""

    items: tuple[T, ...]
    stop: int  # items[:stop] happened by now
    key: Callable[[T], datetime]

    @classmethod
    def until(
        cls, items: tuple[T, ...], now: datetime, key: Callable[[T], datetime]
    ) -> Timeline[T]:
        return cls(items, bisect.bisect_right(items, now, key=key), key)

    def since(self, moment: datetime) -> tuple[T, ...]:
        """The items from `moment` (included) up to now."""
        lo = bisect.bisect_left(self.items, moment, hi=self.stop, key=self.key)
        return self.items[lo : self.stop]

    def first_since(self, moment: datetime) -> T | None:
        index = bisect.bisect_left(self.items, moment, hi=self.stop, key=self.key)
        return self.items[index] if index < self.stop else None


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
    sleeps: tuple[SleepSession, ...]  # ended in the last WINDOW_DAYS days (`sleeps_since`: any)
    body: tuple[BodyMeasurement, ...]  # of the last WINDOW_DAYS days, and always the latest
    # The last report of each day, back from today for as long as every day has one: all the
    # pain rule reads (today's level and for how many days it has lasted); () without one today.
    pains: tuple[PainReport, ...]
    gear: tuple[Gear, ...]
    first_day: date | None  # local day of the first activity
    daily_load: tuple[float, ...]  # first_day … today, one value a day
    run_km_by_day: dict[date, float]  # of the last WINDOW_DAYS days
    longest_run_by_day: dict[date, float]  # of the last WINDOW_DAYS days
    night_hours: dict[date, float]  # sleep that ended that day 00:00–14:00 local (WINDOW_DAYS)
    acute_load: float | None
    chronic_load: float | None
    ctl_yesterday: float | None
    atl_yesterday: float | None
    # Consecutive days with any activity, back from today (or from yesterday while today has
    # none yet; once today is over without one, it was a rest day and the streak is 0).
    days_since_rest: int
    all_sleeps: Timeline[SleepSession]  # every night up to now, for look-backs past the window
    all_body: Timeline[BodyMeasurement]

    @classmethod
    def build(cls, history: History, now: datetime, profile: Profile) -> Context:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        tz = profile.timezone
        today = now.astimezone(tz).date()

        activities = _until(history.activities, now, key=_activity_start)
        activity_days = tuple([a.start.astimezone(tz).date() for a in activities])
        source, loads = activity_loads(activities, profile)
        first_day = activity_days[0] if activity_days else None
        active_days = frozenset(activity_days)
        window = today - timedelta(days=WINDOW_DAYS - 1)
        daily, run_km, longest = day_series(activities, activity_days, loads, today, window)

        window_start = datetime.combine(window, time(0), tz)
        all_sleeps = Timeline.until(history.sleeps, now, _sleep_end)
        sleeps = all_sleeps.since(window_start)
        nights: dict[date, float] = defaultdict(float)
        for sleep in sleeps:
            local_end = sleep.end.astimezone(tz)
            if local_end.time() <= NIGHT_ENDS_BY:
                nights[local_end.date()] += sleep.hours
        pains_end = bisect.bisect_right(history.pains, now, key=_pain_time)
        all_body = Timeline.until(history.body, now, _body_time)
        body = (
            all_body.since(window_start)
            or all_body.items[max(0, all_body.stop - 1) : all_body.stop]
        )

        return cls(
            now=now,
            tz=tz,
            today=today,
            profile=profile,
            activities=activities,
            activity_days=activity_days,
            active_days=active_days,
            loads=tuple(loads),
            load_source=source,
            sleeps=sleeps,
            body=body,
            pains=tuple(_last_pain_of_each_day(history.pains, pains_end, today, tz)),
            gear=history.gear,
            first_day=first_day,
            daily_load=tuple(daily),
            run_km_by_day=run_km,
            longest_run_by_day=longest,
            night_hours=dict(nights),
            acute_load=_ewma(daily, ACUTE_DAYS, len(daily)),
            chronic_load=_ewma(daily, CHRONIC_DAYS, len(daily)),
            ctl_yesterday=_ewma(daily, CTL_DAYS, len(daily) - 1, smoothing=1.0 / CTL_DAYS),
            atl_yesterday=_ewma(daily, ATL_DAYS, len(daily) - 1, smoothing=1.0 / ATL_DAYS),
            days_since_rest=_streak(active_days, today, _day_is_over(now, today, tz)),
            all_sleeps=all_sleeps,
            all_body=all_body,
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
        return _day_is_over(self.now, self.today, self.tz)

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

    # --- sleep and body ---------------------------------------------------------------------
    def sleeps_since(self, day: date) -> tuple[SleepSession, ...]:
        """Sleep sessions that ended from local midnight of `day` on."""
        return self.all_sleeps.since(self.day_start(day))

    def first_weigh_in(self, day: date) -> BodyMeasurement | None:
        """The first weigh-in of a local day, if any."""
        first = self.all_body.first_since(self.day_start(day))
        return first if first is not None and self.local_date(first.time) == day else None

    def body_since(self, day: date) -> tuple[BodyMeasurement, ...]:
        """Weigh-ins from local midnight of `day` on."""
        return self.all_body.since(self.day_start(day))

    def last_night_hours(self) -> float | None:
        return self.night_hours.get(self.today)


def prune(history: History, now: datetime, profile: Profile, rules: RulesConfig) -> History:
    """What of `history` an evaluation at `now` or later can read, so that a service running
    for years holds a bounded amount: every activity and shoe (the load series spans them all),
    the nights of the last WINDOW_DAYS days, the weigh-ins as far back as a rule looks and the
    latest one, every pain report since yesterday with the last one of each earlier day of an
    unbroken run (and the latest), and everything stamped after `now`. Evaluations at `now` or
    later give what they give on the whole history, also after new inputs are added (one older
    than the kept part is never read by a rule either).
    """
    tz = profile.timezone
    today = now.astimezone(tz).date()
    window_start = datetime.combine(today - timedelta(days=WINDOW_DAYS - 1), time(0), tz)
    pre_run = timedelta(hours=rules.dehydration_post_run.pre_window_h)
    reach = datetime.combine(today - timedelta(days=RECENT_RUN_DAYS), time(0), tz) - pre_run
    body_start = datetime.combine(reach.astimezone(tz).date(), time(0), tz)
    body = history.body
    first = bisect.bisect_left(body, min(window_start, body_start), key=_body_time)
    first = min(first, max(0, bisect.bisect_right(body, now, key=_body_time) - 1))  # the latest
    pains = history.pains
    recent = bisect.bisect_left(pains, datetime.combine(today - timedelta(days=1), time(0), tz),
                                key=_pain_time)  # fmt: skip
    earlier = _last_pain_of_each_day(pains, recent, today - timedelta(days=2), tz)
    if recent and not earlier:
        earlier.append(pains[recent - 1])  # the latest of all: the pain echo's level
    return History(  # (a slice from 0 is the tuple itself: nothing is copied when none goes)
        activities=history.activities,
        sleeps=history.sleeps[bisect.bisect_left(history.sleeps, window_start, key=_sleep_end) :],
        body=body[first:],
        pains=pains if len(earlier) == recent else (*earlier, *pains[recent:]),
        gear=history.gear,
    )


def _days(first: date, last: date) -> Iterator[date]:
    """Every day from `first` to `last`, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _day_is_over(now: datetime, today: date, tz: tzinfo) -> bool:
    next_midnight = datetime.combine(today + timedelta(days=1), time(0), tz)
    return now >= next_midnight - DAY_OVER_WITHIN


def _streak(active: frozenset[date], today: date, day_is_over: bool) -> int:
    """`Context.days_since_rest`, walked once per evaluation."""
    if today not in active and day_is_over:
        return 0
    day = today if today in active else today - timedelta(days=1)
    streak = 0
    one = timedelta(days=1)
    while day in active:
        streak += 1
        day -= one
    return streak


def _until(items: Sequence[T], now: datetime, *, key: Callable[[T], datetime]) -> tuple[T, ...]:
    """The prefix of a time-sorted sequence with key ≤ now (the tuple itself when all are)."""
    hi = bisect.bisect_right(items, now, key=key)
    return tuple(items[:hi])


def _last_pain_of_each_day(
    pains: tuple[PainReport, ...], end: int, day: date, tz: tzinfo
) -> list[PainReport]:
    """The last report of `day` among pains[:end], of the day before, … until a day without
    one (oldest first). One bisection a day: the cost follows how long the pain has lasted,
    not how many reports there are."""
    out: list[PainReport] = []
    while end > 0 and pains[end - 1].time.astimezone(tz).date() == day:
        out.append(pains[end - 1])
        midnight = datetime.combine(day, time(0), tz)
        end = bisect.bisect_left(pains, midnight, hi=end, key=_pain_time)
        day -= timedelta(days=1)
    out.reverse()
    return out


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
