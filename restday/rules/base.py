"""What every rule shares: its signature and a compact way to build a finding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from restday.models import Finding, Severity
from restday.rules.context import Context
from restday.rules.families import family_of

PERCENT = 100.0
PCT_UNIT = "%"
FLOAT_NOISE = 1e-9  # differences this small are rounding, not an excess over a threshold
SHOWN_MAX_DECIMALS = 6  # messages never show more decimals than this

# A rule: (the evaluated day, its thresholds model) → the findings that fired (maybe none).
RuleFn = Callable[[Context, Any], Sequence[Finding]]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule of RULES.md: its id (config table, payload `rule`), function and role."""

    id: str
    fn: RuleFn
    needs_history: bool = False  # a load rule: waits while the history is calibrating


def finding(
    rule: str,
    severity: Severity,
    message: str,
    *,
    value: float | None,
    threshold: float | None,
    unit: str,
    citation: str,
    subject: str | None = None,
    run_day: date | None = None,
) -> Finding:
    """A finding with its numbers rounded for people (2 decimals at most)."""
    return Finding(
        rule=rule,
        severity=severity,
        message=message,
        value=None if value is None else round(value, 2),
        threshold=None if threshold is None else round(threshold, 2),
        unit=unit,
        citation=citation,
        subject=subject,
        family=family_of(rule),
        run_day=run_day,
    )


def over(value: float, limit: float) -> bool:
    """Strictly beyond a maximum, ignoring float noise (44 km over 40 km is exactly +10 %)."""
    return value - limit > FLOAT_NOISE


def under(value: float, limit: float) -> bool:
    """Strictly below a minimum, ignoring float noise."""
    return limit - value > FLOAT_NOISE


def shown(value: float, limit: float, digits: int = 1) -> str:
    """`value` to `digits` decimals, or more when that would read as the limit itself."""
    for places in range(digits, SHOWN_MAX_DECIMALS):
        if round(value, places) != round(limit, places):
            return f"{value:.{places}f}"
    return f"{value:.{SHOWN_MAX_DECIMALS}f}"


def grade(value: float, levels: Sequence[tuple[float, Severity]]) -> tuple[Severity, float] | None:
    """The first (limit, severity) of `levels` (highest limit first) that `value` exceeds."""
    for limit, severity in levels:
        if over(value, limit):
            return severity, limit
    return None
