"""The low-base guard and the recovery cap on the load family (RULES.md v2, "the usual week").

Ratios of small numbers are noise (Impellizzeri et al. 2021): after a break, 5 → 15 km a week
is a ratio of 3 and no danger. While the last 7 days' load is below the athlete's usual week,
the load family gives at most `caution`, and says why. The guard is off for 28 days after a day
of pain at the rest level: a comeback from injury that ramps too fast is what the load rules
are for. While a `long_effort` recovery runs, the load family gives at most `caution` too: the
race already counted once, and its jump in the averages is the same load.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from datetime import timedelta

from restday.models import Finding, Severity
from restday.rules.context import Context
from restday.rules.families import Family
from restday.rules.settings import RulesConfig

USUAL_WEEK_YEAR_DAYS = 365  # weeks ending in the 365 days before the last 7 …
USUAL_WEEK_MIN_WEEKS = 90  # … at least 90 of them, else the usual week is unknown
WEEK_DAYS = 7


def usual_week_load(ctx: Context) -> float | None:
    """The median of every complete 7-day load total that ends within the 365 days before the
    last 7 and lies wholly after the first activity (zero weeks included); None with fewer
    than 90 of them."""
    if ctx.first_day is None:
        return None
    prefix = ctx.prepared.prefix
    today = (ctx.today - ctx.first_day).days  # index of today in the daily series
    last = today - WEEK_DAYS  # the latest week ends the day before the last 7
    first = max(WEEK_DAYS - 1, last - USUAL_WEEK_YEAR_DAYS + 1)
    if last - first + 1 < USUAL_WEEK_MIN_WEEKS:
        return None
    return statistics.median([prefix[i + 1] - prefix[i - 6] for i in range(first, last + 1)])


def last_week_load(ctx: Context) -> float:
    return ctx.load_total(ctx.today - timedelta(days=WEEK_DAYS - 1), ctx.today)


def cap_load_family(
    findings: Sequence[Finding], ctx: Context, rules: RulesConfig, usual: float | None
) -> list[Finding]:
    """The findings with the load family held at `caution` where the guard or a recovery
    says so; a held finding's message says why."""
    load = [f for f in findings if f.family == Family.LOAD and f.severity.rank > _CAP.rank]
    if not load:
        return list(findings)
    recovery = next((f for f in findings if f.rule == "long_effort" and f.run_day), None)
    if recovery is not None and recovery.run_day is not None:
        why = (
            f" Held at caution: this is the load of your long effort of "
            f"{recovery.run_day:%A %d %B}, already counted in your recovery."
        )
    elif usual is not None and _low_base(ctx, rules, usual):
        why = (
            f" Held at caution: your last 7 days' load ({last_week_load(ctx):.0f}) is below "
            f"your usual week ({usual:.0f}), so the ratio is high because your recent base is "
            "low (coming back from a break), not because the week is big; ratios of small "
            "numbers are noise (Impellizzeri 2021)."
        )
    else:
        return list(findings)
    return [
        dataclasses.replace(f, severity=_CAP, message=f.message + why) if f in load else f
        for f in findings
    ]


_CAP = Severity.CAUTION


def _low_base(ctx: Context, rules: RulesConfig, usual: float) -> bool:
    pained = any(level >= rules.pain.rest_min for level in ctx.pain_levels.values())
    return not pained and usual - last_week_load(ctx) > 0
