"""Load rules: `weekly_increase`, `run_spike`, `acwr`, `tsb`, `monotony`, `no_rest_day`,
`deload` (RULES.md).

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
from restday.rules.base import finding, over, shown, under
from restday.rules.context import Context

CITE_WEEKLY_INCREASE = (
    "seeds 000/002/003; Nielsen et al., JOSPT 2014;44:739; Buist et al., AJSM 2008;36:33"
)
CITE_RUN_SPIKE = "Frandsen et al., BJSM 2025;59:1203, doi:10.1136/bjsports-2024-109380"
CITE_ACWR = (
    "seed 004; Gabbett, BJSM 2016;50:273; Williams et al., BJSM 2017;51:209; "
    "Impellizzeri et al., Sports Med 2021;51:581"
)
CITE_TSB = "Banister impulse–response model; TrainingPeaks PMC convention"
CITE_MONOTONY = "Foster, MSSE 1998;30:1164"
CITE_NO_REST_DAY = "seeds 000/002"
CITE_DELOAD = "seed 004"

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


def weekly_increase(ctx: Context, t: settings.WeeklyIncrease) -> Sequence[Finding]:
    baseline = baseline_week_km(ctx)
    if not over(baseline, 0):
        return []
    this_week = week_km(ctx)
    pct = (this_week / baseline - 1) * PERCENT
    graded = _graded(pct, ((t.high_pct, Severity.MODERATE), (t.caution_pct, Severity.CAUTION)))
    if graded is None:
        return []
    severity, limit = graded
    message = (
        f"{this_week:.1f} km in the last {WEEK_DAYS} days, {shown(pct, limit, 0)} % more than "
        f"your biggest week of the {INCREASE_BASELINE_DAYS} days before ({baseline:.1f} km; "
        f"over {limit:g} %). The 10 % rule itself did not prevent injuries in a trial (Buist "
        "2008), but runners who added over 30 % got injured more often (Nielsen 2014): "
        "hold this volume for now."
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


def run_spike(ctx: Context, t: settings.RunSpike) -> Sequence[Finding]:
    today_km = ctx.longest_run_by_day.get(ctx.today)
    baseline = ctx.longest_run_between(
        ctx.today - timedelta(days=SPIKE_BASELINE_DAYS), ctx.today - timedelta(days=1)
    )
    if today_km is None or baseline is None or not over(baseline, 0):
        return []
    pct = (today_km / baseline - 1) * PERCENT
    graded = _graded(
        pct,
        (
            (t.very_high_pct, Severity.STRONG),
            (t.high_pct, Severity.MODERATE),
            (t.caution_pct, Severity.CAUTION),
        ),
    )
    if graded is None:
        return []
    severity, limit = graded
    message = (
        f"Today's {today_km:.1f} km run is {shown(pct, limit, 0)} % longer than your longest "
        f"of the {SPIKE_BASELINE_DAYS} days before ({baseline:.1f} km; over {limit:g} %). "
        "Runs more than 10 % longer than the recent longest raise the injury risk: "
        "take it easy while your legs absorb it."
    )
    return [
        finding(
            "run_spike",
            severity,
            message,
            value=pct,
            threshold=limit,
            unit=PCT_UNIT,
            citation=CITE_RUN_SPIKE,
        )
    ]


def acwr(ctx: Context, t: settings.Acwr) -> Sequence[Finding]:
    ratio = ctx.acwr
    if ratio is None:
        return []
    weak = "The ratio is only a weak predictor of injury (Impellizzeri 2021)"
    graded = _graded(ratio, ((t.high, Severity.MODERATE), (t.caution, Severity.CAUTION)))
    if graded is not None:
        severity, limit = graded
        message = (
            f"Acute:chronic load ratio {shown(ratio, limit, 2)} (over {limit:g}): your last "
            f"week's load is above what you are used to. {weak}, but an easier day "
            "lets the rest of you catch up."
        )
    elif under(ratio, t.low):
        severity, limit = Severity.INFO, t.low
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


def tsb(ctx: Context, t: settings.Tsb) -> Sequence[Finding]:
    pct = tsb_pct(ctx)
    if pct is None or not under(pct, t.min_tsb_pct):
        return []
    message = (
        f"Form (fitness minus fatigue) was {shown(pct, t.min_tsb_pct, 0)} % of your fitness "
        f"as of yesterday (under {t.min_tsb_pct:g} %): fatigue is running well ahead of "
        "fitness. Keep today easy."
    )
    return [
        finding(
            "tsb",
            Severity.MODERATE,
            message,
            value=pct,
            threshold=t.min_tsb_pct,
            unit=PCT_UNIT,
            citation=CITE_TSB,
        )
    ]


def monotony(ctx: Context, t: settings.Monotony) -> Sequence[Finding]:
    value = monotony_value(ctx)
    if value is None or not over(value, t.max):
        return []
    message = (
        f"Training monotony {shown(value, t.max, 2)} over the last {WEEK_DAYS} days (over "
        f"{t.max:g}): your days are too alike. Mix easy and hard days and keep a full rest day."
    )
    return [
        finding(
            "monotony",
            Severity.CAUTION,
            message,
            value=value,
            threshold=t.max,
            unit=RATIO_UNIT,
            citation=CITE_MONOTONY,
        )
    ]


def no_rest_day(ctx: Context, t: settings.NoRestDay) -> Sequence[Finding]:
    days = ctx.days_since_rest
    if not days > t.max_days:
        return []
    message = (
        f"{days} days in a row without a rest day (more than {t.max_days}). Muscles, tendons "
        "and bones rebuild on rest days: take at least one full rest day a week."
    )
    return [
        finding(
            "no_rest_day",
            Severity.MODERATE,
            message,
            value=days,
            threshold=t.max_days,
            unit=DAYS_UNIT,
            citation=CITE_NO_REST_DAY,
        )
    ]


def deload(ctx: Context, t: settings.Deload) -> Sequence[Finding]:
    blocks = _week_loads(ctx, t.build_weeks + 1)
    if blocks is None:
        return []
    if not all(over(later, earlier) for later, earlier in itertools.pairwise(blocks)):
        return []
    this_week = blocks[0]
    target = this_week * t.deload_pct / PERCENT
    trend = " → ".join(f"{load:.0f}" for load in reversed(blocks))
    message = (
        f"Your weekly load has risen {t.build_weeks} weeks in a row ({trend}). Plan a lighter "
        f"week next: about {t.deload_pct:g} % of this week's, a load of about {target:.0f}."
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


def _graded(
    value: float, levels: Sequence[tuple[float, Severity]]
) -> tuple[Severity, float] | None:
    """The first (limit, severity) of `levels` (highest limit first) that `value` exceeds."""
    for limit, severity in levels:
        if over(value, limit):
            return severity, limit
    return None
