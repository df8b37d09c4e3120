"""Body-weight rules: `dehydration_post_run`, `weight_drop_morning` (RULES.md).

Both compare weigh-ins of the same scale over a short time, so a change of a kilo or two is
mostly water, not fat or muscle.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, time, timedelta

from restday.models import Activity, Finding, Severity
from restday.rules import settings
from restday.rules.base import PCT_UNIT, PERCENT, finding, over, shown
from restday.rules.context import Context
from restday.rules.sources import LEGS_ACHING, LEGS_HURT, SORE_LEGS, cite

CITE_DEHYDRATION = cite(LEGS_ACHING, LEGS_HURT, SORE_LEGS, "Sawka et al. (ACSM), MSSE 2007;39:377")
CITE_WEIGHT_DROP = "Cheuvront et al., IJSNEM 2004;14:532; Cheuvront & Sawka 2005 (WUT)"


RECENT_RUN_H = 24.0  # dehydration_post_run looks at the latest run that ended this long ago
# Rehydration after exercise: 1.25–1.5 L of fluid per kg of body weight lost (Sawka 2007).
FLUID_L_PER_KG_LOW = 1.25
FLUID_L_PER_KG_HIGH = 1.5

LONGEST_ACTIVITY_DAYS = 2  # a run that ends in the window started at most this long before it
MORNING_ENDS = time(12, 0)  # the day's first weigh-in counts as a morning one before this
MORNING_LOOKBACK_DAYS = 14  # previous mornings come from the 14 days before today
MORNING_BASELINE_MAX = 7  # at most the latest 7 of them
MORNING_BASELINE_MIN = 3  # and at least 3, or the rule stays silent


def latest_weight(ctx: Context) -> float | None:
    """The latest weigh-in up to now, in kg (the metrics' `weight_kg`)."""
    return float(ctx.body[-1].weight_kg) if ctx.body else None


def fluid_litres(loss_kg: float) -> tuple[float, float]:
    """Litres to drink after losing `loss_kg` of body weight: (low, high) of the advice."""
    loss = max(0.0, loss_kg)
    return loss * FLUID_L_PER_KG_LOW, loss * FLUID_L_PER_KG_HIGH


def fluid_advice(loss_kg: float) -> str:
    """'drink 1.1–1.4 L over the next hours, with electrolytes' for a loss of `loss_kg`."""
    low, high = fluid_litres(loss_kg)
    amount = f"{low:.1f}–{high:.1f}" if f"{low:.1f}" != f"{high:.1f}" else f"about {high:.1f}"
    return f"drink {amount} L over the next hours, with electrolytes"


def weights_around(
    ctx: Context, activity: Activity, thresholds: settings.DehydrationPostRun
) -> tuple[float | None, float | None]:
    """The last weigh-in up to `pre_window_h` before a run's start, the first up to
    `post_window_h` after its end (kg; None where there is none)."""
    pre_window = timedelta(hours=thresholds.pre_window_h)
    post_window = timedelta(hours=thresholds.post_window_h)
    nearby = ctx.body_since(ctx.local_date(activity.start - pre_window))
    before = [b for b in nearby if activity.start - pre_window <= b.time <= activity.start]
    after = [b for b in nearby if activity.end <= b.time <= activity.end + post_window]
    return (
        float(before[-1].weight_kg) if before else None,
        float(after[0].weight_kg) if after else None,
    )


def dehydration_post_run(
    ctx: Context, thresholds: settings.DehydrationPostRun
) -> Sequence[Finding]:
    activity = _latest_recent_run(ctx)
    if activity is None:
        return []
    pre, post = weights_around(ctx, activity, thresholds)
    if pre is None or post is None:
        return []
    loss_kg = pre - post
    loss_pct = loss_kg / pre * PERCENT
    if not loss_pct > 0:
        return []
    lost = (
        f"You lost {loss_kg:.2g} kg ({shown(loss_pct, thresholds.max_loss_pct)} % of your weight) "
        f"on your {activity.distance_km:.1f} km run"
    )
    if over(loss_pct, thresholds.max_loss_pct):
        severity = Severity.MODERATE
        message = (
            f"{lost}, over {thresholds.max_loss_pct:g} %: you are likely dehydrated. "
            f"{_sentence(fluid_advice(loss_kg))}, and go easy until you have."
        )
    else:
        severity = Severity.INFO
        message = f"{lost}: {fluid_advice(loss_kg)}."
    return [
        finding(
            "dehydration_post_run",
            severity,
            message,
            value=loss_pct,
            threshold=thresholds.max_loss_pct,
            unit=PCT_UNIT,
            citation=CITE_DEHYDRATION,
            subject=str(activity.id),  # the run: its notification goes out once
        )
    ]


def weight_drop_morning(ctx: Context, thresholds: settings.WeightDropMorning) -> Sequence[Finding]:
    mornings = morning_weights(ctx)
    today_kg = mornings.get(ctx.today)
    if today_kg is None:
        return []
    first = ctx.today - timedelta(days=MORNING_LOOKBACK_DAYS)
    previous = sorted((day, kg) for day, kg in mornings.items() if first <= day < ctx.today)[
        -MORNING_BASELINE_MAX:
    ]
    if len(previous) < MORNING_BASELINE_MIN:
        return []
    usual = statistics.median(kg for _, kg in previous)
    drop_pct = (usual - today_kg) / usual * PERCENT
    if over(drop_pct, thresholds.high_pct):
        severity, limit = Severity.MODERATE, thresholds.high_pct
    elif over(drop_pct, thresholds.caution_pct):
        severity, limit = Severity.CAUTION, thresholds.caution_pct
    else:
        return []
    message = (
        f"This morning you weigh {today_kg:.1f} kg, {shown(drop_pct, limit)} % under your "
        f"usual {usual:.1f} kg (median of the last {len(previous)} mornings; over "
        f"{limit:g} %). That is likely fluid loss: drink and weigh yourself again "
        "before a hard session."
    )
    return [
        finding(
            "weight_drop_morning",
            severity,
            message,
            value=drop_pct,
            threshold=limit,
            unit=PCT_UNIT,
            citation=CITE_WEIGHT_DROP,
        )
    ]


def morning_weights(ctx: Context) -> dict[date, float]:
    """Per local day of the last 14 and today, the kg of its first weigh-in if before noon."""
    out: dict[date, float] = {}
    for back in range(MORNING_LOOKBACK_DAYS, -1, -1):
        day = ctx.today - timedelta(days=back)
        first = ctx.first_weigh_in(day)  # found by bisection: many readings a day cost nothing
        if first is not None and ctx.local_datetime(first.time).time() < MORNING_ENDS:
            out[day] = float(first.weight_kg)
    return out


def _latest_recent_run(ctx: Context) -> Activity | None:
    """The run that ended last within the past 24 h (and not after now)."""
    since = ctx.now - timedelta(hours=RECENT_RUN_H)
    recent = ctx.activities_between(
        ctx.local_date(since) - timedelta(days=LONGEST_ACTIVITY_DAYS), ctx.today
    )
    runs = [a for a in recent if a.is_run and since <= a.end <= ctx.now]
    return max(runs, key=lambda a: a.end, default=None)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
