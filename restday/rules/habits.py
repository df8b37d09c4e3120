"""Pain and habit rules: `pain`, `shoe_mileage`, `cadence`, `strength` (RULES.md)."""

from __future__ import annotations

from collections.abc import Sequence

from restday.models import Finding
from restday.rules import settings
from restday.rules.context import Context


def cadence_7d(ctx: Context) -> float | None:
    """Mean steps per minute of the runs of the last 7 days that recorded cadence."""
    raise NotImplementedError


def strength_sessions_7d(ctx: Context) -> int:
    """Strength sessions in the last 7 days (today included)."""
    raise NotImplementedError


def pain(ctx: Context, t: settings.Pain) -> Sequence[Finding]:
    raise NotImplementedError


def shoe_mileage(ctx: Context, t: settings.ShoeMileage) -> Sequence[Finding]:
    raise NotImplementedError


def cadence(ctx: Context, t: settings.Cadence) -> Sequence[Finding]:
    raise NotImplementedError


def strength(ctx: Context, t: settings.Strength) -> Sequence[Finding]:
    raise NotImplementedError
