"""Load rules: `weekly_increase`, `run_spike`, `acwr`, `tsb`, `monotony`, `no_rest_day`,
`deload` (RULES.md)."""

from __future__ import annotations

from collections.abc import Sequence

from restday.models import Finding
from restday.rules import settings
from restday.rules.context import Context


def tsb_pct(ctx: Context) -> float | None:
    """Training stress balance as of yesterday, in % of CTL (None without load)."""
    raise NotImplementedError


def monotony_value(ctx: Context) -> float | None:
    """Foster's monotony of the last 7 days' loads (None when it is undefined)."""
    raise NotImplementedError


def weekly_increase(ctx: Context, t: settings.WeeklyIncrease) -> Sequence[Finding]:
    raise NotImplementedError


def run_spike(ctx: Context, t: settings.RunSpike) -> Sequence[Finding]:
    raise NotImplementedError


def acwr(ctx: Context, t: settings.Acwr) -> Sequence[Finding]:
    raise NotImplementedError


def tsb(ctx: Context, t: settings.Tsb) -> Sequence[Finding]:
    raise NotImplementedError


def monotony(ctx: Context, t: settings.Monotony) -> Sequence[Finding]:
    raise NotImplementedError


def no_rest_day(ctx: Context, t: settings.NoRestDay) -> Sequence[Finding]:
    raise NotImplementedError


def deload(ctx: Context, t: settings.Deload) -> Sequence[Finding]:
    raise NotImplementedError
