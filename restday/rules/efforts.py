"""`long_effort` (RULES.md v2): the recovery after a marathon, a race or an unusually long run.

The run's own day is left to `run_spike`; from the next day on, the effort asks for rest and
then easy days. Runs of one day less than 30 minutes apart count as one (a marathon recorded
in two parts, a stop at the car).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from restday.models import Activity, Finding, Severity
from restday.rules import settings
from restday.rules.base import FLOAT_NOISE, finding, over
from restday.rules.context import Context
from restday.rules.sources import BERNAT_ADELL_2021, LEGS_ACHING, LEGS_HURT, TAKAYAMA_2017, cite

CITE_LONG_EFFORT = cite(
    TAKAYAMA_2017, BERNAT_ADELL_2021, LEGS_ACHING + " (DOMS 24–72 h)", LEGS_HURT
)

STRAVA_RACE = 1  # Strava's `workout_type` of a run marked as a race
ONE_RUN_GAP = timedelta(minutes=30)  # runs of a day closer than this are one run
BASELINE_DAYS = 60  # (b) compares with the longest run of the 60 days before
LONGER_THAN = 1.1  # (b): over 1.1 × that longest run (or moving time)
ULTRA_KM = 70.0  # from this distance, two rest days
KM_PER_EASY_DAY = 8.0  # easy until day ⌊km ÷ 8 + 0.5⌋
HABITUAL_EASY_UNTIL = 3  # (a) alone, a habitual long distance: rest on day 1, easy until day 3
KM_UNIT = "km"


@dataclass(frozen=True, slots=True)
class Run:
    """One run as the body felt it: runs of a day less than 30 min apart, merged."""

    day: date
    km: float
    minutes: float
    race: bool


@dataclass(frozen=True, slots=True)
class Recovery:
    run: Run
    rest_until: int  # days after the run that call for rest (0: none)
    easy_until: int  # … and for easy running after that
    threshold: float  # the distance that made it a long effort
    why: str


def merged_runs(activities: Sequence[Activity], days: Sequence[date]) -> list[Run]:
    """The runs among `activities` (with their local `days`), merged within a day."""
    out: list[Run] = []
    last_end = None
    for activity, day in zip(activities, days, strict=True):
        if not activity.is_run:
            continue
        race = activity.workout_type == STRAVA_RACE
        km, minutes = activity.distance_km, activity.moving_minutes
        close = last_end is not None and activity.start - last_end < ONE_RUN_GAP
        if out and close and out[-1].day == day and last_end is not None:
            prev = out[-1]
            out[-1] = Run(day, prev.km + km, prev.minutes + minutes, prev.race or race)
            last_end = max(last_end, activity.end)
            continue
        out.append(Run(day, km, minutes, race))
        last_end = activity.end
    return out


def recovery(
    run: Run, longest_km: float, longest_minutes: float, thresholds: settings.LongEffort
) -> Recovery | None:
    """The recovery a run calls for, given the longest distance and moving time of the runs of
    the 60 days before it (None: none)."""
    marathon = run.km >= thresholds.marathon_km - FLOAT_NOISE
    by_distance = run.km >= thresholds.min_km - FLOAT_NOISE and over(
        run.km, LONGER_THAN * longest_km
    )
    by_time = run.minutes >= thresholds.min_hours * 60 - FLOAT_NOISE and over(
        run.minutes, LONGER_THAN * longest_minutes
    )
    race = run.race and run.km >= thresholds.race_min_km - FLOAT_NOISE
    easy_days = math.floor(run.km / KM_PER_EASY_DAY + 0.5)
    if by_distance or by_time or (race and run.km >= thresholds.min_km - FLOAT_NOISE):
        why = "race" if run.race else ("marathon" if marathon else "longest run in 60 days")
        rest = 2 if run.km >= ULTRA_KM - FLOAT_NOISE else 1
        threshold = thresholds.min_km if by_distance or race else thresholds.marathon_km
        return Recovery(run, rest, min(max(easy_days, 2), thresholds.max_days), threshold, why)
    if marathon:
        return Recovery(
            run,
            1,
            min(HABITUAL_EASY_UNTIL, thresholds.max_days),
            thresholds.marathon_km,
            "marathon",
        )
    if race:
        return Recovery(
            run, 0, min(max(easy_days, 1), thresholds.max_days), thresholds.race_min_km, "race"
        )
    return None


@dataclass(frozen=True, slots=True)
class RunHistory:
    """Every merged run of a history, oldest first, with the longest distance and moving time
    of the runs of the 60 days before each (computed once per history)."""

    runs: tuple[Run, ...]
    days: tuple[date, ...]
    longest_km: tuple[float, ...]
    longest_minutes: tuple[float, ...]

    @classmethod
    def of(cls, ctx: Context, first: date) -> RunHistory:
        """The runs from `first` − 60 days to yesterday; with a history evaluated on many
        days, all of them, once."""
        prepared = ctx.prepared
        if not prepared.many_days:
            lo, last = first - timedelta(days=BASELINE_DAYS), ctx.today - timedelta(days=1)
            activities = ctx.activities_between(lo, last)
            return cls.of_runs(merged_runs(activities, ctx.activity_days_between(lo, last)))
        cached = prepared.memo.get(_MEMO_KEY)
        if not isinstance(cached, RunHistory):
            runs = merged_runs(prepared.activities, prepared.activity_days)
            cached = prepared.memo[_MEMO_KEY] = cls.of_runs(runs)
        return cached

    @classmethod
    def of_runs(cls, runs: Sequence[Run]) -> RunHistory:
        days = tuple(r.day for r in runs)
        longest_km, longest_minutes = [], []
        for i, run in enumerate(runs):
            lo = bisect.bisect_left(days, run.day - timedelta(days=BASELINE_DAYS), hi=i)
            hi = bisect.bisect_left(days, run.day, hi=i)
            longest_km.append(max((r.km for r in runs[lo:hi]), default=0.0))
            longest_minutes.append(max((r.minutes for r in runs[lo:hi]), default=0.0))
        return cls(tuple(runs), days, tuple(longest_km), tuple(longest_minutes))


_MEMO_KEY = "long_effort.runs"


def recoveries(ctx: Context, thresholds: settings.LongEffort) -> list[Recovery]:
    """The long efforts of the last `max_days` days before today, oldest first."""
    first = ctx.today - timedelta(days=thresholds.max_days)
    if not _any_candidate(ctx, first, thresholds):
        return []
    history = RunHistory.of(ctx, first)
    lo = bisect.bisect_left(history.days, first)
    hi = bisect.bisect_left(history.days, ctx.today)
    out = []
    for i in range(lo, hi):
        found = recovery(
            history.runs[i], history.longest_km[i], history.longest_minutes[i], thresholds
        )
        if found is not None:
            out.append(found)
    return out


def _any_candidate(ctx: Context, first: date, thresholds: settings.LongEffort) -> bool:
    """Whether a day from `first` to yesterday has runs long enough (in all) to be one."""
    min_km = min(thresholds.marathon_km, thresholds.min_km, thresholds.race_min_km) - FLOAT_NOISE
    min_minutes = thresholds.min_hours * 60 - FLOAT_NOISE
    km, minutes = ctx.run_km_by_day, ctx.prepared.run_minutes_by_day
    for back in range(1, (ctx.today - first).days + 1):
        day = ctx.today - timedelta(days=back)
        if km.get(day, 0.0) >= min_km or minutes.get(day, 0.0) >= min_minutes:
            return True
    return False


def long_effort(ctx: Context, thresholds: settings.LongEffort) -> Sequence[Finding]:
    """Rest, then easy days, after a long effort; the most severe of several (latest first)."""
    best: tuple[Recovery, Severity, int] | None = None
    for rec in reversed(recoveries(ctx, thresholds)):
        day = (ctx.today - rec.run.day).days
        if day <= rec.rest_until:
            severity = Severity.STRONG
        elif day <= rec.easy_until:
            severity = Severity.MODERATE
        else:
            continue
        if best is None or severity.rank > best[1].rank:
            best = (rec, severity, day)
    if best is None:
        return []
    rec, severity, day = best
    return [
        finding(
            "long_effort",
            severity,
            _message(ctx, rec, severity, day),
            value=rec.run.km,
            threshold=rec.threshold,
            unit=KM_UNIT,
            citation=CITE_LONG_EFFORT,
            run_day=rec.run.day,
        )
    ]


def _message(ctx: Context, rec: Recovery, severity: Severity, day: int) -> str:
    last_easy = rec.run.day + timedelta(days=rec.easy_until)
    when = "Yesterday's" if day == 1 else f"{rec.run.day:%A}'s"
    what = f"{when} {rec.run.km:.1f} km ({rec.why})"
    if severity is Severity.STRONG:
        then = (
            f" Then easy running until {last_easy:%A}." if rec.easy_until > rec.rest_until else ""
        )
        head = f"{what}: rest today, day {day} of your recovery.{then}"
    else:
        until = "today" if last_easy == ctx.today else f"until {last_easy:%A}"
        head = f"{what}: day {day} of your recovery, keep it easy {until}."
    return (
        f"{head} After a marathon, muscle soreness rose until day 3 and was gone by days 4–7, "
        "and muscle-damage markers took about six days to settle (Takayama 2017; "
        "Bernat-Adell 2021): hard sessions can wait."
    )
