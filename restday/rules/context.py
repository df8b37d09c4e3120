"""The evaluated day and the series every rule shares, computed once per evaluation.

`Context.build(history, now, profile)` keeps only what happened up to `now`, works out the
athlete's local calendar days, the load of every activity and the daily load series with its
exponential averages. Rules read from it; none of them recomputes a series.

Its cost does not grow with the number of nights, weigh-ins and pain reports: those are only
scanned inside the last `WINDOW_DAYS` days (older ones are found by bisection when a rule asks
for them), so a long-running service answers each input as fast on day 1,000 as on day 10.
Activities are walked once, with cheap operations, for the load series that spans them all.
`prune` keeps of a history only what evaluations from now on can read (a daemon's memory).

The per-history work (local days, loads, the daily series) is `prepared.Prepared`'s, done
once: `Context.build` prepares and evaluates one moment, `Context.at(prepared, now)` any moment
of a prepared history, so that `restday history` evaluates ten years in one pass.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from operator import attrgetter
from typing import Generic, TypeVar

from restday.models import Activity, BodyMeasurement, Gear, History, PainReport, SleepSession
from restday.rules.load import LoadSource
from restday.rules.prepared import (
    ACUTE_DAYS,
    ATL_DAYS,
    CHRONIC_DAYS,
    CTL_DAYS,
    Prepared,
    activity_start,
)
from restday.rules.settings import PAIN_MAX_PERSIST_DAYS, Profile, RulesConfig

CALIBRATION_DAYS = 28  # history shorter than this (first activity → today) is calibrating
DAY_OVER_WITHIN = timedelta(seconds=1)  # evaluating this close to midnight = the day is done
NIGHT_ENDS_BY = time(14, 0)  # sleep that ends after this local time is a nap
# The longest look-back of any sleep or weigh-in rule (hrv's 60-night baseline): only this
# many days of nights and weigh-ins are scanned per evaluation; older ones stay reachable.
WINDOW_DAYS = 60
RECENT_RUN_DAYS = 3  # dehydration_post_run's run started at most this long before today
PAIN_REPORT_DAYS = PAIN_MAX_PERSIST_DAYS + 1  # report days the pain rule may look back at
PAIN_GUARD_DAYS = 28  # the low-base guard is off this long after a day of pain ≥ rest_min

T = TypeVar("T")
_sleep_end = attrgetter("end")
_body_time = attrgetter("time")
_pain_time = attrgetter("time")


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
    loads: tuple[float, ...]  # load of each activity, in `load_source`
    load_source: LoadSource
    sleeps: tuple[SleepSession, ...]  # ended in the last WINDOW_DAYS days (`sleeps_since`: any)
    body: tuple[BodyMeasurement, ...]  # of the last WINDOW_DAYS days, and always the latest
    # The last report of each of the latest report days (days without a report skipped), up
    # to PAIN_REPORT_DAYS of them, oldest first: today's level, the carried one and the streak.
    pains: tuple[PainReport, ...]
    pain_levels: dict[date, int]  # the last report's level of each of the last PAIN_GUARD_DAYS
    gear: tuple[Gear, ...]
    first_day: date | None  # local day of the first activity
    daily_load: tuple[float, ...]  # first_day … today, one value a day
    run_km_by_day: dict[date, float]  # every day's (rules read only up to today)
    longest_run_by_day: dict[date, float]
    night_hours: dict[date, float]  # sleep that ended that day 00:00–14:00 local (WINDOW_DAYS)
    acute_load: float | None
    chronic_load: float | None
    ctl_yesterday: float | None
    atl_yesterday: float | None
    # Per day, the longest training session's moving minutes (a run: infinite; walks, hikes
    # and yoga are never training): `rest_streak` reads it.
    session_minutes: dict[date, float]
    prepared: Prepared
    all_sleeps: Timeline[SleepSession]  # every night up to now, for look-backs past the window
    all_body: Timeline[BodyMeasurement]

    @classmethod
    def build(cls, history: History, now: datetime, profile: Profile) -> Context:
        """The evaluation at `now` of what happened by then."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return cls.at(Prepared.of(history, now, profile), now)

    @classmethod
    def at(cls, prepared: Prepared, now: datetime) -> Context:
        """The evaluation at `now` (at most `prepared.now`) from a prepared history."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        history, profile = prepared.history, prepared.profile
        tz = profile.timezone
        today = now.astimezone(tz).date()
        stop = bisect.bisect_right(prepared.activities, now, key=activity_start)
        window = today - timedelta(days=WINDOW_DAYS - 1)
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
        index = -1 if prepared.first_day is None else (today - prepared.first_day).days
        return cls(
            now=now,
            tz=tz,
            today=today,
            profile=profile,
            activities=prepared.activities[:stop],
            activity_days=prepared.activity_days[:stop],
            loads=prepared.loads[:stop],
            load_source=prepared.load_source,
            sleeps=sleeps,
            body=body,
            pains=tuple(_last_report_of_report_days(history.pains, pains_end, tz)),
            pain_levels=_pain_levels(history.pains, pains_end, today, tz),
            gear=history.gear,
            first_day=prepared.first_day,
            daily_load=prepared.daily_load,
            run_km_by_day=prepared.run_km_by_day,
            longest_run_by_day=prepared.longest_run_by_day,
            night_hours=dict(nights),
            acute_load=prepared.average(ACUTE_DAYS, index + 1),
            chronic_load=prepared.average(CHRONIC_DAYS, index + 1),
            ctl_yesterday=prepared.average(CTL_DAYS, index, 1.0 / CTL_DAYS),
            atl_yesterday=prepared.average(ATL_DAYS, index, 1.0 / ATL_DAYS),
            session_minutes=prepared.session_minutes,
            prepared=prepared,
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

    def load_total(self, first: date, last: date) -> float:
        """The load of the days `first` … `last` (both included, at most today)."""
        return self.prepared.load_total(first, min(last, self.today))

    def rest_streak(self, min_minutes: float) -> int:
        """Consecutive days with a training session (any run, or another activity of at least
        `min_minutes` but a walk, hike or yoga), back from today — or from yesterday while today
        has none yet; once today is over without one, it was the rest day and the streak is 0.
        """
        streak = self.prepared.training_streak(self.today, min_minutes)
        if streak or self.day_is_over:
            return streak
        return self.prepared.training_streak(self.today - timedelta(days=1), min_minutes)

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

    def activity_days_between(self, first: date, last: date) -> tuple[date, ...]:
        """The local days of `activities_between(first, last)`, in the same order."""
        lo = bisect.bisect_left(self.activity_days, first)
        hi = bisect.bisect_right(self.activity_days, last)
        return self.activity_days[lo:hi]

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
    latest one, every pain report of the last PAIN_GUARD_DAYS days with the last one of each of
    the PAIN_REPORT_DAYS report days before, and everything stamped after `now`. Evaluations at
    `now` or later give what they give on the whole history, also after new inputs are added (one
    older than the kept part is never read by a rule either).
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
    guard_start = datetime.combine(today - timedelta(days=PAIN_GUARD_DAYS - 1), time(0), tz)
    recent = bisect.bisect_left(pains, guard_start, key=_pain_time)
    earlier = _last_report_of_report_days(pains, recent, tz)
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


def _last_report_of_report_days(
    pains: tuple[PainReport, ...], end: int, tz: tzinfo, days: int = PAIN_REPORT_DAYS
) -> list[PainReport]:
    """The last report of each of the latest `days` days with a report among pains[:end]
    (oldest first). One bisection a day: the cost follows `days`, not the number of reports."""
    out: list[PainReport] = []
    while end > 0 and len(out) < days:
        latest = pains[end - 1]
        out.append(latest)
        midnight = datetime.combine(latest.time.astimezone(tz).date(), time(0), tz)
        end = bisect.bisect_left(pains, midnight, hi=end, key=_pain_time)
    out.reverse()
    return out


def _pain_levels(
    pains: tuple[PainReport, ...], end: int, today: date, tz: tzinfo
) -> dict[date, int]:
    """The level of the last report of each of the last PAIN_GUARD_DAYS days that have one.
    One bisection a day, like `_last_report_of_report_days`: a day of many reports costs no
    more than a day of one."""
    first = today - timedelta(days=PAIN_GUARD_DAYS - 1)
    levels: dict[date, int] = {}
    while end > 0:
        latest = pains[end - 1]
        day = latest.time.astimezone(tz).date()
        if day < first:
            break
        levels[day] = latest.level
        end = bisect.bisect_left(pains, datetime.combine(day, time(0), tz), hi=end, key=_pain_time)
    return levels
