"""APScheduler jobs: they only enqueue ticks for the worker (DESIGN.md §1), or start a poll.

Per athlete, in the athlete's own time zone:
- the morning report at their `morning_report` time (`Config.morning_report_time`);
- a re-evaluation just after their local midnight, so day-based rules roll over;
- a Strava poll every `strava.poll_minutes` when an application is configured for them.
Service-wide: a housekeeping tick every minute (diagnostics held back by their rate limit).

A single athlete's jobs put the plain `Tick`s, under the plain job ids (`morning_report`,
`day_rollover`, `strava_poll`); a household's put `AthleteTick`s (`tick_for`), under ids that
end in `:<athlete id>` (`athlete_job`).

The polls of the athletes on one Strava application are spread over the interval: athlete i of
n first polls at start + i·poll/n, then every `poll_minutes`, each poll up to `POLL_JITTER_S`
late. That lateness is not carried into the next poll (`_Polls`), so the spread holds day
after day. Morning reports missed while the service was down are caught up at start
(`missed_mornings`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from restday.clock import Clock, SystemClock
from restday.config import Config
from restday.daemon.events import AthleteTick, Event, Tick
from restday.daemon.strava_syncs import strava_app

MISFIRE_GRACE_S = 15 * 60  # a job late by up to this (a busy Pi, a suspend) still runs once
ROLLOVER_SECOND = 30  # re-evaluate at 00:00:30 local, safely after midnight
HOUSEKEEPING_S = 60
POLL_JITTER_S = 60  # Strava polls wander by up to a minute (many restday users, one API)
MORNING_REPORT_JOB = "morning_report"
DAY_ROLLOVER_JOB = "day_rollover"
HOUSEKEEPING_JOB = "housekeeping"
STRAVA_POLL_JOB = "strava_poll"
JOB_OPTIONS: dict[str, object] = {
    "misfire_grace_time": MISFIRE_GRACE_S,
    "coalesce": True,  # a clock jump or a long stall gives one run, not a burst
    "max_instances": 1,
}

Polls = Mapping[str, Callable[[], None]]  # a poll per athlete id


def build_scheduler(
    config: Config,
    put: Callable[[Event], None],
    syncs: Polls | Callable[[], None] | None = None,
    *,
    wall_clock: Clock | None = None,
) -> BackgroundScheduler:
    """A scheduler (not started) whose jobs put ticks on the worker's queue, and poll Strava
    for each athlete in `syncs` (a poll per athlete id; a single callable is the first
    athlete's): the first polls of one application's athletes spread over the interval from
    now, the very first at once. `wall_clock`: the clock APScheduler runs on, the system's
    (tests fix it to read the job times; never a service's test clock: the jobs would start
    in its past)."""
    scheduler = BackgroundScheduler(timezone=config.profile().timezone)
    for athlete_id in config.athlete_ids():
        tz = config.profile(athlete_id).timezone
        report = config.morning_report_time(athlete_id)
        for job, tick, trigger in (
            (
                MORNING_REPORT_JOB,
                Tick.MORNING_REPORT,
                CronTrigger(hour=report.hour, minute=report.minute, timezone=tz),
            ),
            (
                DAY_ROLLOVER_JOB,
                Tick.DAY_ROLLOVER,
                CronTrigger(hour=0, minute=0, second=ROLLOVER_SECOND, timezone=tz),
            ),
        ):
            scheduler.add_job(
                put,
                trigger,
                args=[tick_for(config, tick, athlete_id)],
                id=athlete_job(config, job, athlete_id),
                **JOB_OPTIONS,
            )
    scheduler.add_job(
        put,
        IntervalTrigger(seconds=HOUSEKEEPING_S, timezone=config.profile().timezone),
        args=[Tick.HOUSEKEEPING],
        id=HOUSEKEEPING_JOB,
        **JOB_OPTIONS,
    )
    if syncs is not None:
        polls = syncs if isinstance(syncs, Mapping) else {config.athlete_ids()[0]: syncs}
        _add_polls(scheduler, config, polls, (wall_clock or SystemClock()).now())
    return scheduler


def tick_for(config: Config, tick: Tick, athlete_id: str) -> Tick | AthleteTick:
    """What the athlete's `tick` puts on the queue: the plain tick with a single athlete (as
    before households), an `AthleteTick` in a household."""
    return AthleteTick(tick, athlete_id) if len(config.athletes) > 1 else tick


def athlete_job(config: Config, job: str, athlete_id: str) -> str:
    """The id of the athlete's `job`: the plain one with a single athlete, `<job>:<id>` in a
    household."""
    return f"{job}:{athlete_id}" if len(config.athletes) > 1 else job


def poll_groups(config: Config, athlete_ids: Iterable[str]) -> list[tuple[str, ...]]:
    """The athletes whose polls are spread together: those on one Strava application, in
    the config's order; an athlete without a configured application alone."""
    groups: dict[object, tuple[str, ...]] = {}
    for athlete_id in athlete_ids:
        app = strava_app(config, athlete_id) or athlete_id
        groups[app] = (*groups.get(app, ()), athlete_id)
    return list(groups.values())


def _add_polls(scheduler: BackgroundScheduler, config: Config, polls: Polls, now: datetime) -> None:
    interval = timedelta(minutes=config.strava.poll_minutes)
    ordered = [athlete_id for athlete_id in config.athlete_ids() if athlete_id in polls]
    for group in poll_groups(config, ordered):
        for index, athlete_id in enumerate(group):
            first = now + interval * index / len(group)  # athlete i of n: i/n of the way
            scheduler.add_job(
                polls[athlete_id],
                _Polls(interval, first, config.profile(athlete_id).timezone),
                id=athlete_job(config, STRAVA_POLL_JOB, athlete_id),
                next_run_time=first,  # an interval job fires at its start only if told to
                **JOB_OPTIONS,
            )


class _Polls(IntervalTrigger):  # type: ignore[misc]  # APScheduler 3.x ships no type hints
    """Polls at `start` + k·`interval`, each up to POLL_JITTER_S late. IntervalTrigger counts
    from the last (late) run, so each lateness adds up: polls spread over the interval would
    wander into each other within days. These stay in their slot."""

    def __init__(self, interval: timedelta, start: datetime, tz: tzinfo) -> None:
        super().__init__(
            seconds=interval.total_seconds(), start_date=start, timezone=tz, jitter=POLL_JITTER_S
        )
        self._start = start
        self._every = interval

    def get_next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        if previous is None:
            first: datetime | None = super().get_next_fire_time(None, now)
            return first
        slot = (previous - self._start) // self._every + 1  # the lateness stays < the interval
        late = timedelta(seconds=random.uniform(0, POLL_JITTER_S))  # noqa: S311 -- not a secret
        return (self._start + slot * self._every + late).astimezone(self.timezone)


def missed_mornings(
    config: Config, now: datetime, sent: Callable[[date, str], bool]
) -> list[Tick | AthleteTick]:
    """The morning reports to catch up at start, one tick each (`tick_for`): every athlete's
    whose report time has passed today in their zone and whose report of that local day has
    not gone out, as `sent(day, athlete_id)` says (the store's `morning:<day>` of theirs)."""
    ticks: list[Tick | AthleteTick] = []
    for athlete_id in config.athlete_ids():
        tz = config.profile(athlete_id).timezone
        report = config.morning_report_time(athlete_id)
        if missed_morning(now, tz, report, already_sent=False):
            today = now.astimezone(tz).date()
            if not sent(today, athlete_id):
                ticks.append(tick_for(config, Tick.MORNING_REPORT, athlete_id))
    return ticks


def missed_morning(now: datetime, tz: tzinfo, report: time, already_sent: bool) -> bool:
    """True when today's report time has passed and today's report has not gone out."""
    return not already_sent and now.astimezone(tz).time() >= report
