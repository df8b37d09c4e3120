"""Sleep rules: `sleep_short`, `sleep_debt`, `hrv`, `resting_hr` (RULES.md).

A night belongs to the local day on which it ended, if it ended by 14:00 local (later sleep
is a nap); a day with several such sessions (a split night) counts them all.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from restday.models import Finding, Severity, SleepSession
from restday.rules import settings
from restday.rules.base import finding, over, shown, under
from restday.rules.context import NIGHT_ENDS_BY, Context
from restday.rules.sources import LEGS_HURT, POST_RUN_ACHES, WATSON_2015, cite

CITE_SLEEP_SHORT = cite(POST_RUN_ACHES, "Van Dongen et al., Sleep 2003;26:117")
CITE_SLEEP_DEBT = cite(LEGS_HURT + " (7–9 h)", WATSON_2015)
CITE_HRV = "Kiviniemi et al., EJAP 2007;101:743; Plews et al., Sports Med 2013"
CITE_RESTING_HR = "Buchheit, Front Physiol 2014;5:73"

DEBT_NIGHTS = 7  # sleep_debt sums the nights today-6 … today that have sleep …
DEBT_MIN_NIGHTS = 4  # … when at least this many have
NEED_NIGHTS = 60  # the athlete's own need: the median night of the last 60 …
NEED_MIN_NIGHTS = 14  # … once at least this many are known
NEED_MAX_H = 9.0  # the own need is capped here (7–9 h: the article and Watson 2015)
ADULT_MIN_H = 7.0  # adults need 7 h or more (Watson 2015); the need until the own is known

HRV_WEEK_DAYS = 7  # the recent window: today-6 … today
HRV_BASELINE_DAYS = 60  # the baseline window: today-59 … today (includes the recent one)
HRV_MIN_WEEK_NIGHTS = 3  # nights with HRV needed in the recent window
HRV_SD_FACTOR = 0.5  # fires below baseline mean − 0.5 SD (Plews et al. 2013)

RHR_BASELINE_DAYS = 30  # the 30 days before yesterday: today-31 … today-2
RHR_BASELINE_LAST_DAY = 2  # days before today of the baseline's last night
RHR_MIN_BASELINE_NIGHTS = 7  # nights needed for a mean and SD worth comparing to

HOURS_UNIT = "h"
HRV_UNIT = "ln ms"
BPM_UNIT = "bpm"


def usual_sleep(ctx: Context) -> float | None:
    """The median night of the last 60 (None with fewer than 14 nights of sleep)."""
    first = ctx.today - timedelta(days=NEED_NIGHTS - 1)
    nights = [hours for day, hours in ctx.night_hours.items() if day >= first]
    return statistics.median(nights) if len(nights) >= NEED_MIN_NIGHTS else None


def need(ctx: Context, need_hours: float | None) -> float:
    """Hours a night the athlete needs: `need_hours` if set, else their own usual night
    (capped at 9 h; under 7 h it is their usual night itself), else 7 h until that is known."""
    if need_hours is not None:
        return need_hours
    usual = usual_sleep(ctx)
    return ADULT_MIN_H if usual is None else min(usual, NEED_MAX_H)


def debt(ctx: Context, need_hours: float) -> tuple[float | None, int]:
    """Net sleep debt over the last 7 nights and how many of them had no sleep recorded.

    Σ (need − slept) over the nights today-6 … today that have data, so a long night repays a
    short one; None with fewer than 4 such nights.
    """
    total = 0.0
    missing = 0
    for back in range(DEBT_NIGHTS):
        hours = ctx.night_hours.get(ctx.today - timedelta(days=back))
        if hours is None:
            missing += 1
        else:
            total += need_hours - hours
    if DEBT_NIGHTS - missing < DEBT_MIN_NIGHTS:
        return None, missing
    return total, missing


def sleep_short(ctx: Context, thresholds: settings.SleepShort) -> Sequence[Finding]:
    hours = ctx.last_night_hours()
    if hours is None:
        return []
    if under(hours, thresholds.rest_hours):
        severity, limit = Severity.STRONG, thresholds.rest_hours
        advice = "Take a rest day and get to bed early tonight."
    elif under(hours, thresholds.min_hours):
        severity, limit = Severity.MODERATE, thresholds.min_hours
        advice = "Short sleep slows muscle repair: keep today easy."
    else:
        return []
    message = f"Slept {shown(hours, limit)} h last night (under {limit:g} h). {advice}"
    return [
        finding(
            "sleep_short",
            severity,
            message,
            value=hours,
            threshold=limit,
            unit=HOURS_UNIT,
            citation=CITE_SLEEP_SHORT,
        )
    ]


def sleep_debt(ctx: Context, thresholds: settings.SleepDebt) -> Sequence[Finding]:
    out: list[Finding] = []
    hours = need(ctx, thresholds.need_hours)
    usual = usual_sleep(ctx) if thresholds.need_hours is None else None
    if usual is not None and under(usual, ADULT_MIN_H):
        message = (
            f"You usually sleep {usual:.1f} h a night (the median of your last {NEED_NIGHTS} "
            f"days); adults need {ADULT_MIN_H:g} h or more. Going to bed a little earlier is "
            "the cheapest recovery there is. (Your debt is counted against your usual night.)"
        )
        out.append(
            finding(
                "sleep_debt",
                Severity.INFO,
                message,
                value=usual,
                threshold=ADULT_MIN_H,
                unit=HOURS_UNIT,
                citation=CITE_SLEEP_DEBT,
            )
        )
    total, missing = debt(ctx, hours)
    if total is None:
        return out
    if over(total, thresholds.moderate_hours):
        severity, limit = Severity.MODERATE, thresholds.moderate_hours
        advice = "Sleep is when muscles repair: keep today easy and get to bed early."
    elif over(total, thresholds.caution_hours):
        severity, limit = Severity.CAUTION, thresholds.caution_hours
        advice = "Aim for a longer night or two before your next hard session."
    else:
        return out
    nights = (
        f"the last {DEBT_NIGHTS} nights"
        if missing == 0
        else f"the {DEBT_NIGHTS - missing} tracked nights of the last {DEBT_NIGHTS}"
    )
    basis = "you set" if thresholds.need_hours is not None else "your usual night"
    message = (
        f"You are {shown(total, limit)} h short of sleep over {nights}, counting "
        f"{hours:.1f} h a night ({basis}; over {limit:g} h). {advice}"
    )
    out.insert(
        0,
        finding(
            "sleep_debt",
            severity,
            message,
            value=total,
            threshold=limit,
            unit=HOURS_UNIT,
            citation=CITE_SLEEP_DEBT,
        ),
    )
    return out


def hrv(ctx: Context, thresholds: settings.Hrv) -> Sequence[Finding]:
    nightly = {
        day: math.log(ms)
        for day, ms in nightly_means(ctx, lambda s: s.hrv_ms, HRV_BASELINE_DAYS).items()
        if ms > 0
    }
    baseline = _window(nightly, ctx.today, HRV_BASELINE_DAYS)
    week = _window(nightly, ctx.today, HRV_WEEK_DAYS)
    if len(baseline) < thresholds.min_nights or len(week) < HRV_MIN_WEEK_NIGHTS:
        return []
    week_mean = statistics.mean(week)
    base_mean = statistics.mean(baseline)
    limit = base_mean - HRV_SD_FACTOR * statistics.stdev(baseline)
    if not week_mean < limit:
        return []
    message = (
        f"Heart-rate variability is down: {len(week)}-night average ln rMSSD "
        f"{week_mean:.2f} (about {math.exp(week_mean):.0f} ms), under your limit of "
        f"{limit:.2f} from the last {HRV_BASELINE_DAYS} days (about {math.exp(base_mean):.0f} ms "
        "usual). Your body may not have recovered: keep today easy."
    )
    return [
        finding(
            "hrv",
            Severity.MODERATE,
            message,
            value=week_mean,
            threshold=limit,
            unit=HRV_UNIT,
            citation=CITE_HRV,
        )
    ]


def resting_hr(ctx: Context, thresholds: settings.RestingHr) -> Sequence[Finding]:
    nightly = nightly_means(ctx, lambda s: s.resting_hr, RHR_BASELINE_DAYS + 2)
    today_bpm = nightly.get(ctx.today)
    yesterday_bpm = nightly.get(ctx.today - timedelta(days=1))
    first = ctx.today - timedelta(days=RHR_BASELINE_LAST_DAY + RHR_BASELINE_DAYS - 1)
    last = ctx.today - timedelta(days=RHR_BASELINE_LAST_DAY)
    baseline = [bpm for day, bpm in nightly.items() if first <= day <= last]
    if today_bpm is None or yesterday_bpm is None or len(baseline) < RHR_MIN_BASELINE_NIGHTS:
        return []
    mean = statistics.mean(baseline)
    margin = max(statistics.stdev(baseline), thresholds.min_bpm)
    if not (today_bpm - mean > margin and yesterday_bpm - mean > margin):
        return []
    message = (
        f"Resting heart rate {today_bpm:.0f} bpm, {today_bpm - mean:.1f} bpm above your "
        f"{RHR_BASELINE_DAYS}-day average of {mean:.0f} bpm (more than {margin:.1f} bpm), "
        "for two mornings running. Fatigue or an oncoming illness often shows here first: "
        "go easy."
    )
    return [
        finding(
            "resting_hr",
            Severity.CAUTION,
            message,
            value=today_bpm - mean,
            threshold=margin,
            unit=BPM_UNIT,
            citation=CITE_RESTING_HR,
        )
    ]


def nightly_means(
    ctx: Context, value: Callable[[SleepSession], float | None], days: int
) -> dict[date, float]:
    """Per local night of the last `days` (sessions that ended that day by 14:00), the mean of
    a session value."""
    values: dict[date, list[float]] = defaultdict(list)
    for session in ctx.sleeps_since(ctx.today - timedelta(days=days - 1)):
        measured = value(session)
        local_end = ctx.local_datetime(session.end)
        if measured is not None and local_end.time() <= NIGHT_ENDS_BY:
            values[local_end.date()].append(measured)
    # One value is its own mean (statistics.mean's exact arithmetic would return it unchanged).
    return {day: vs[0] if len(vs) == 1 else statistics.mean(vs) for day, vs in values.items()}


def _window(nightly: dict[date, float], today: date, days: int) -> list[float]:
    """The nightly values of the `days` days ending today (today included)."""
    first = today - timedelta(days=days - 1)
    return [v for day, v in nightly.items() if first <= day <= today]
