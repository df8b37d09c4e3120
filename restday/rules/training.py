"""Load rules: `weekly_increase`, `acwr`, `tsb`, `monotony`, `no_rest_day`, `deload` (RULES.md
v2); `run_spike` is in `spike.py`.

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
from datetime import timedelta

from restday.models import Finding, Severity
from restday.rules import settings
from restday.rules.base import PCT_UNIT, PERCENT, finding, grade, over, shown, under
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
CITE_ACWR = cite(POST_RUN_ACHES, GABBETT_2016, WILLIAMS_2017, IMPELLIZZERI_2021, FRANDSEN_2025)
CITE_TSB = "Banister impulse–response model; TrainingPeaks PMC convention"
CITE_MONOTONY = "Foster, MSSE 1998;30:1164"
CITE_NO_REST_DAY = cite(LEGS_ACHING + " (a full rest day a week)", SORE_LEGS)
CITE_DELOAD = POST_RUN_ACHES + " (deload every fourth week)"

WEEK_DAYS = 7  # "the last 7 days": today-6 … today
INCREASE_BASELINE_DAYS = 28  # weekly_increase's baseline: the 28 days before the last 7
MONOTONY_CAP = 10.0  # monotony of identical daily loads (SD 0), and the most ever shown

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
    graded = grade(
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


def acwr(ctx: Context, thresholds: settings.Acwr) -> Sequence[Finding]:
    ratio = ctx.acwr
    if ratio is None:
        return []
    weak = (
        "The ratio is a weak predictor of injury (Impellizzeri 2021), and in 5,205 runners "
        "week-to-week spikes were not linked to injuries while single-run spikes were "
        "(Frandsen 2025)"
    )
    graded = grade(
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
