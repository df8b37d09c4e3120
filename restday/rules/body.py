"""Body-weight rules: `dehydration_post_run`, `weight_drop_morning` (RULES.md)."""

from __future__ import annotations

from collections.abc import Sequence

from restday.models import Finding
from restday.rules import settings
from restday.rules.context import Context


def latest_weight(ctx: Context) -> float | None:
    """The latest weigh-in up to now, in kg (the metrics' `weight_kg`)."""
    raise NotImplementedError


def dehydration_post_run(ctx: Context, t: settings.DehydrationPostRun) -> Sequence[Finding]:
    raise NotImplementedError


def weight_drop_morning(ctx: Context, t: settings.WeightDropMorning) -> Sequence[Finding]:
    raise NotImplementedError
