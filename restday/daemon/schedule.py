"""APScheduler jobs: they only enqueue ticks for the worker (DESIGN.md §1).

- the morning report at `schedule.morning_report` in the athlete's time zone;
- a re-evaluation just after local midnight, so day-based rules roll over;
- a housekeeping tick every minute (diagnostics held back by their rate limit).
A morning report missed while the service was down is caught up at start (`missed_morning`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, tzinfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from restday.config import Config
from restday.daemon.events import Event, Tick

MISFIRE_GRACE_S = 15 * 60  # a job late by up to this (a busy Pi, a suspend) still runs once
ROLLOVER_SECOND = 30  # re-evaluate at 00:00:30 local, safely after midnight
HOUSEKEEPING_S = 60
POLL_JITTER_S = 60  # Strava polls wander by up to a minute (many restday users, one API)
STRAVA_POLL_JOB = "strava_poll"


def build_scheduler(
    config: Config, put: Callable[[Event], None], sync: Callable[[], None] | None = None
) -> BackgroundScheduler:
    """A scheduler (not started) whose jobs put ticks on the worker's queue, and, with Strava
    configured, poll Strava every `strava.poll_minutes` (with jitter; the first poll at once)."""
    tz = config.profile().timezone
    report = config.morning_report_time()
    scheduler = BackgroundScheduler(timezone=tz)
    options = {
        "misfire_grace_time": MISFIRE_GRACE_S,
        "coalesce": True,  # a clock jump or a long stall gives one run, not a burst
        "max_instances": 1,
    }
    scheduler.add_job(
        put,
        CronTrigger(hour=report.hour, minute=report.minute, timezone=tz),
        args=[Tick.MORNING_REPORT],
        id="morning_report",
        **options,
    )
    scheduler.add_job(
        put,
        CronTrigger(hour=0, minute=0, second=ROLLOVER_SECOND, timezone=tz),
        args=[Tick.DAY_ROLLOVER],
        id="day_rollover",
        **options,
    )
    scheduler.add_job(
        put,
        IntervalTrigger(seconds=HOUSEKEEPING_S, timezone=tz),
        args=[Tick.HOUSEKEEPING],
        id="housekeeping",
        **options,
    )
    if sync is not None:
        scheduler.add_job(
            sync,
            IntervalTrigger(minutes=config.strava.poll_minutes, jitter=POLL_JITTER_S, timezone=tz),
            id=STRAVA_POLL_JOB,
            next_run_time=datetime.now(tz),  # an interval job fires at start only if told to
            **options,
        )
    return scheduler


def missed_morning(now: datetime, tz: tzinfo, report: time, already_sent: bool) -> bool:
    """True when today's report time has passed and today's report has not gone out."""
    return not already_sent and now.astimezone(tz).time() >= report
