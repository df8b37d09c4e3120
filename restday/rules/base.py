"""What every rule shares: its signature and a compact way to build a finding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from restday.models import Finding, Severity
from restday.rules.context import Context

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
    )


def shown(value: float, limit: float) -> str:
    """`value` with one decimal, or more when one decimal would read as the limit itself."""
    for digits in (1, 2):
        if round(value, digits) != round(limit, digits):
            return f"{value:.{digits}f}"
    return f"{value:.3f}"
