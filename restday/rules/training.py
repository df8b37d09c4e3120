"""Load rules: `weekly_increase`, `run_spike`, `acwr`, `tsb`, `monotony`, `no_rest_day`,
`deload` (RULES.md v2).

"The last 7 days" are today-6 … today in the athlete's zone; a 7-day block `k` back is the
7 days ending `7·k` days before today. A value must pass its threshold by more than float
noise (`base.FLOAT_NOISE`), so 44 km after a 40 km week is exactly 10 % and does not pass a 10 %
threshold.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from restday.models import Finding, Severity
from restday.rules import settings
from restday.rules.base import FLOAT_NOISE, finding, over, shown, under
from restday.rules.context import Context
from restday.rules.sources import (
    BUIST_2008,
    FRANDSEN_2025,
    GABBETT_2016,
    IMPELLIZZERI_2021,
    LEGS_ACHING,
    NIELSEN_2014,
    POST_RUN_ACHES,
    RUN_WITH_SORE_LEGS,
    SORE_LEGS,
    WILLIAMS_2017,
    cite,
)

CITE_WEEKLY_INCREASE = cite(
    LEGS_ACHING, SORE_LEGS, RUN_WITH_SORE_LEGS, NIELSEN_2014, BUIST_2008, FRANDSEN_2025
)
CITE_RUN_SPIKE = FRANDSEN_2025
CITE_ACWR = cite(POST_RUN_ACHES, GABBETT_2016, WILLIAMS_2017, IMPELLIZZERI_2021, FRANDSEN_2025)
CITE_TSB = "Banister impulse–response model; TrainingPeaks PMC convention"
CITE_MONOTONY = "Foster, MSSE 1998;30:1164"
CITE_NO_REST_DAY = cite(LEGS_ACHING + " (a full rest day a week)", SORE_LEGS)
CITE_DELOAD = POST_RUN_ACHES + " (deload every fourth week)"

WEEK_DAYS = 7  # "the last 7 days": today-6 … today
INCREASE_BASELINE_DAYS = 28  # weekly_increase's baseline: the 28 days before the last 7
SPIKE_BASELINE_DAYS = 30  # run_spike's baseline: the 30 days before today
MONOTONY_CAP = 10.0  # monotony of identical daily loads (SD 0), and the most ever shown
PERCENT = 100.0

PCT_UNIT = "%"
RATIO_UNIT = "ratio"
DAYS_UNIT = "days"
LOAD_UNIT = "load"


# --- values shared with the metrics -------------------------------------------------------


def tsb_pct(ctx: Context) -> float | None:
    """Training stress balance as of yesterday, in % of CTL (None without load)."""
    ctl, atl = ctx.ctl_yesterday, ctx.atl_yesterday
    if ctl is None or atl is None or ctl <= 0:
        return None
    return (ctl - atl) / ctl * PERCENT


def monotony_value(ctx: Context) -> float | None:
    """Foster's monotony of the last 7 days' loads (None when it is undefined).

    Mean ÷ population SD of the daily loads today-6 … today, rest days 0; None when all
    are 0; `MONOTONY_CAP` when every day has the same load (SD 0) and at most that otherwise.
    """
    loads = ctx.loads_between(ctx.today - timedelta(days=WEEK_DAYS - 1), ctx.today)
    mean = statistics.fmean(loads)
    if not over(mean, 0):
        return None
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in loads) / len(loads))  # population SD
    if not over(sd, 0):
        return MONOTONY_CAP
    return min(mean / sd, MONOTONY_CAP)


def week_km(ctx: Context) -> float:
    """Run km of the last 7 days."""
    return ctx.run_km_between(ctx.today - timedelta(days=WEEK_DAYS - 1), ctx.today)


def baseline_week_km(ctx: Context) -> float:
    """The highest run km of any 7 consecutive days wholly inside today-34 … today-7."""
    last = ctx.today - timedelta(days=WEEK_DAYS)
    first = last - timedelta(days=INCREASE_BASELINE_DAYS - 1)
    daily = [
        ctx.run_km_by_day.get(first + timedelta(days=i), 0.0) for i in range(INCREASE_BASELINE_DAYS)
    ]
    window = sum(daily[:WEEK_DAYS])
    best = window
    for i in range(WEEK_DAYS, INCREASE_BASELINE_DAYS):  # slide the 7-day window a day at a time
        window += daily[i] - daily[i - WEEK_DAYS]
        best = max(best, window)
    return best


# --- rules ----------------------------------------------------------------------------------


def weekly_increase(ctx: Context, thresholds: settings.WeeklyIncrease) -> Sequence[Finding]:
    baseline = baseline_week_km(ctx)
    if not over(baseline, 0):
        return []
    this_week = week_km(ctx)
    pct = (this_week / baseline - 1) * PERCENT
    graded = _graded(
        pct,
        (
            (thresholds.high_pct, Severity.MODERATE),
            (thresholds.caution_pct, Severity.CAUTION),
            (thresholds.info_pct, Severity.INFO),
        ),
    )
    if graded is None:
        return []
    severity, limit = graded
    added = this_week - baseline
    small = under(added, thresholds.min_increase_km)
    if small:
        severity = Severity.INFO
    message = (
        f"{this_week:.1f} km in the last {WEEK_DAYS} days, {shown(pct, limit, 0)} % more than "
        f"your biggest week of the {INCREASE_BASELINE_DAYS} days before ({baseline:.1f} km; "
        f"over {limit:g} %). "
    )
    if small:
        message += (
            f"That is only {added:.1f} km more (under {thresholds.min_increase_km:g} km): on a "
            "small base a percentage grows fast. Nothing to change if you feel fresh."
        )
    elif severity is Severity.INFO:
        message += (
            "The 10 % rule is a convention the evidence does not support: it did not prevent "
            "injuries in a trial (Buist 2008), and week-to-week changes were not linked to "
            "injury in 5,205 runners (Frandsen 2025). Nothing to change if you feel fresh."
        )
    else:
        message += (
            "Novice runners who added over 30 % in two weeks got more distance-related "
            "injuries (Nielsen 2014; not significant): hold this volume for a week or two "
            "before adding more."
        )
    return [
        finding(
            "weekly_increase",
            severity,
            message,
            value=pct,
            threshold=limit,
            unit=PCT_UNIT,
            citation=CITE_WEEKLY_INCREASE,
        )
    ]


@dataclass(frozen=True, slots=True)
class Spike:
    """A day's longest run against the longest of the 30 days before it."""

    day: date
    km: float
    minutes: float
    baseline_km: float
    pct: float
    severity: Severity
    limit: float


def spike_on(ctx: Context, day: date, thresholds: settings.RunSpike) -> Spike | None:
    """The spike of `day`'s longest run, if it passes a threshold."""
    km = ctx.longest_run_by_day.get(day)
    baseline = ctx.longest_run_between(day - timedelta(days=SPIKE_BASELINE_DAYS), day - _ONE_DAY)
    if km is None or baseline is None or not over(baseline, 0):
        return None
    pct = (km / baseline - 1) * PERCENT
    graded = _graded(
        pct,
        (
            (thresholds.very_high_pct, Severity.STRONG),
            (thresholds.high_pct, Severity.MODERATE),
            (thresholds.caution_pct, Severity.CAUTION),
        ),
    )
    if graded is None:
        return None
    runs = [a for a in ctx.activities_between(day, day) if a.is_run]
    longest = max(runs, key=lambda a: a.distance_m)
    return Spike(day, km, longest.moving_minutes, baseline, pct, *graded)


def run_spike(ctx: Context, thresholds: settings.RunSpike) -> Sequence[Finding]:
    """Today's spike, and those of the `carry_days` days before one step lower (a long run
    keeps its severity on the next day): the most severe counts, today's first among equals."""
    best: tuple[Spike, Severity] | None = None
    for back in range(thresholds.carry_days + 1):
        spike = spike_on(ctx, ctx.today - timedelta(days=back), thresholds)
        if spike is None:
            continue
        severity = spike.severity
        long_run = (
            spike.km >= thresholds.keep_km - FLOAT_NOISE or spike.minutes >= thresholds.keep_minutes
        )
        if back and not (back == 1 and long_run):
            carried = lower(severity)
            if carried is None:  # a caution carried is silent
                continue
            severity = carried
        if best is None or severity.rank > best[1].rank:
            best = (spike, severity)
    if best is None:
        return []
    spike, severity = best
    when = _run_day_words(ctx, spike.day)
    times = spike.km / spike.baseline_km
    message = (
        f"{when} {spike.km:.1f} km run was {shown(spike.pct, spike.limit, 0)} % longer "
        f"({times:.1f}×) than your longest of the {SPIKE_BASELINE_DAYS} days before "
        f"({spike.baseline_km:.1f} km; over {spike.limit:g} %). In 5,205 runners, single runs "
        "over 10 % longer than the recent longest raised the injury risk (Frandsen 2025): "
        + (
            "take it easy while your legs absorb it."
            if spike.day == ctx.today
            else "give your legs an easier day to absorb it."
        )
    )
    return [
        finding(
            "run_spike",
            severity,
            message,
            value=spike.pct,
            threshold=spike.limit,
            unit=PCT_UNIT,
            citation=CITE_RUN_SPIKE,
            run_day=None if spike.day == ctx.today else spike.day,
        )
    ]


def acwr(ctx: Context, thresholds: settings.Acwr) -> Sequence[Finding]:
    ratio = ctx.acwr
    if ratio is None:
        return []
    weak = (
        "The ratio is a weak predictor of injury (Impellizzeri 2021), and in 5,205 runners "
        "week-to-week spikes were not linked to injuries while single-run spikes were "
        "(Frandsen 2025)"
    )
    graded = _graded(
        ratio,
        (
            (thresholds.high, Severity.MODERATE),
            (thresholds.caution, Severity.CAUTION),
            (thresholds.info, Severity.INFO),
        ),
    )
    if graded is not None:
        severity, limit = graded
        advice = {
            Severity.MODERATE: "a load this far above your usual is worth an easier day.",
            Severity.CAUTION: "keep an eye on how your legs feel.",
            Severity.INFO: "nothing to change if you feel fresh.",
        }[severity]
        message = (
            f"Acute:chronic load ratio {shown(ratio, limit, 2)} (over {limit:g}): your last "
            f"week's load is above what you are used to. {weak}: {advice}"
        )
    elif under(ratio, thresholds.low):
        severity, limit = Severity.INFO, thresholds.low
        message = (
            f"Acute:chronic load ratio {shown(ratio, limit, 2)} (under {limit:g}): you have "
            f"trained less than usual lately. {weak}; build back up gradually rather than "
            "jumping straight back to your old volume."
        )
    else:
        return []
    return [
        finding(
            "acwr",
            severity,
            message,
            value=ratio,
            threshold=limit,
            unit=RATIO_UNIT,
            citation=CITE_ACWR,
        )
    ]


def tsb(ctx: Context, thresholds: settings.Tsb) -> Sequence[Finding]:
    pct = tsb_pct(ctx)
    if pct is None or not under(pct, thresholds.min_tsb_pct):
        return []
    message = (
        f"Form (fitness minus fatigue) was {shown(pct, thresholds.min_tsb_pct, 0)} % of your "
        f"fitness as of yesterday (under {thresholds.min_tsb_pct:g} %): fatigue is running well "
        "ahead of fitness. Keep the hard sessions for when it has caught up."
    )
    return [
        finding(
            "tsb",
            Severity.CAUTION,
            message,
            value=pct,
            threshold=thresholds.min_tsb_pct,
            unit=PCT_UNIT,
            citation=CITE_TSB,
        )
    ]


def monotony(ctx: Context, thresholds: settings.Monotony) -> Sequence[Finding]:
    value = monotony_value(ctx)
    if value is None or not over(value, thresholds.max):
        return []
    message = (
        f"Training monotony {shown(value, thresholds.max, 2)} over the last {WEEK_DAYS} days "
        f"(over {thresholds.max:g}): your days are too alike. Mix easy and hard days and keep a "
        "full rest day."
    )
    return [
        finding(
            "monotony",
            Severity.CAUTION,
            message,
            value=value,
            threshold=thresholds.max,
            unit=RATIO_UNIT,
            citation=CITE_MONOTONY,
        )
    ]


def no_rest_day(ctx: Context, thresholds: settings.NoRestDay) -> Sequence[Finding]:
    """Moderate on the day the streak of training days first exceeds `max_days`, caution on
    its later days (walks, hikes, yoga and short sessions never break a rest day)."""
    days = ctx.rest_streak(thresholds.min_minutes)
    if not days > thresholds.max_days:
        return []
    first = days == thresholds.max_days + 1
    message = (
        f"{days} days in a row with a training session (more than {thresholds.max_days}). Muscles, "
        "tendons and bones rebuild on rest days: take at least one full rest day a week"
        + (" — a walk is fine." if first else ".")
    )
    return [
        finding(
            "no_rest_day",
            Severity.MODERATE if first else Severity.CAUTION,
            message,
            value=days,
            threshold=thresholds.max_days,
            unit=DAYS_UNIT,
            citation=CITE_NO_REST_DAY,
        )
    ]


def deload(ctx: Context, thresholds: settings.Deload) -> Sequence[Finding]:
    blocks = _week_loads(ctx, thresholds.build_weeks + 1)
    if blocks is None:
        return []
    if not all(over(later, earlier) for later, earlier in itertools.pairwise(blocks)):
        return []
    this_week = blocks[0]
    target = this_week * thresholds.deload_pct / PERCENT
    trend = " → ".join(f"{load:.0f}" for load in reversed(blocks))
    message = (
        f"Your weekly load has risen {thresholds.build_weeks} weeks in a row ({trend}). Plan a "
        f"lighter week next: about {thresholds.deload_pct:g} % of this week's, a load of about "
        f"{target:.0f}."
    )
    return [
        finding(
            "deload",
            Severity.INFO,
            message,
            value=this_week,
            threshold=target,
            unit=LOAD_UNIT,
            citation=CITE_DELOAD,
        )
    ]


# --- helpers ------------------------------------------------------------------------------


def _week_loads(ctx: Context, blocks: int) -> list[float] | None:
    """Load of the 7-day blocks ending today, 7 days ago, …, newest first.

    None unless all `blocks` lie wholly inside the history.
    """
    first_needed = ctx.today - timedelta(days=WEEK_DAYS * blocks - 1)
    if ctx.first_day is None or first_needed < ctx.first_day:
        return None
    out = []
    for k in range(blocks):
        last = ctx.today - timedelta(days=WEEK_DAYS * k)
        out.append(sum(ctx.loads_between(last - timedelta(days=WEEK_DAYS - 1), last)))
    return out


_ONE_DAY = timedelta(days=1)
_LOWER: dict[Severity, Severity] = {  # one step lower; a caution carried is silent
    Severity.DOCTOR: Severity.STRONG,
    Severity.STRONG: Severity.MODERATE,
    Severity.MODERATE: Severity.CAUTION,
}


def lower(severity: Severity) -> Severity | None:
    """One step lower (strong → moderate → caution → None: silent)."""
    return _LOWER.get(severity)


def _run_day_words(ctx: Context, day: date) -> str:
    back = (ctx.today - day).days
    if back == 0:
        return "Today's"
    if back == 1:
        return "Yesterday's"
    return f"{day:%A}'s"


def _graded(
    value: float, levels: Sequence[tuple[float, Severity]]
) -> tuple[Severity, float] | None:
    """The first (limit, severity) of `levels` (highest limit first) that `value` exceeds."""
    for limit, severity in levels:
        if over(value, limit):
            return severity, limit
    return None
