"""`run_spike` (RULES.md v2): a run much longer than the recent longest, today and carried into
the next morning one step lower (a long run keeps its severity that morning)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from restday.models import Finding, Severity
from restday.rules import settings
from restday.rules.base import FLOAT_NOISE, PCT_UNIT, PERCENT, finding, grade, over, shown
from restday.rules.context import Context
from restday.rules.sources import FRANDSEN_2025

CITE_RUN_SPIKE = FRANDSEN_2025
SPIKE_BASELINE_DAYS = 30  # run_spike's baseline: the 30 days before the run's day


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
    graded = grade(
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
