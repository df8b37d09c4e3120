"""Sleep rules: `sleep_short`, `sleep_debt`, `hrv`, `resting_hr` (RULES.md)."""

from __future__ import annotations

from collections.abc import Sequence

from restday.models import Finding
from restday.rules import settings
from restday.rules.context import Context


def debt(ctx: Context, need_hours: float) -> tuple[float | None, int]:
    """Sleep debt over the last 14 nights and how many of them had no sleep recorded."""
    raise NotImplementedError


def sleep_short(ctx: Context, t: settings.SleepShort) -> Sequence[Finding]:
    raise NotImplementedError


def sleep_debt(ctx: Context, t: settings.SleepDebt) -> Sequence[Finding]:
    raise NotImplementedError


def hrv(ctx: Context, t: settings.Hrv) -> Sequence[Finding]:
    raise NotImplementedError


def resting_hr(ctx: Context, t: settings.RestingHr) -> Sequence[Finding]:
    raise NotImplementedError
