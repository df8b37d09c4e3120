"""How findings combine into the day's status and readiness (RULES.md, "Decision")."""

from __future__ import annotations

from collections.abc import Sequence

from restday.models import Finding, Severity, Status
from restday.rules.settings import DecisionConfig

# Readiness is 100 minus these per finding, floored at 0.
READINESS_PENALTY: dict[Severity, int] = {
    Severity.DOCTOR: 100,
    Severity.STRONG: 45,
    Severity.MODERATE: 25,
    Severity.CAUTION: 10,
    Severity.INFO: 0,
}


def decide(findings: Sequence[Finding], config: DecisionConfig, *, calibrating: bool) -> Status:
    """see_doctor > rest > easy > train; `calibrating` stands in for `train` only."""
    severities = [f.severity for f in findings]
    if Severity.DOCTOR in severities:
        return Status.SEE_DOCTOR
    moderates = severities.count(Severity.MODERATE)
    if Severity.STRONG in severities or moderates >= config.moderate_for_rest:
        return Status.REST
    if moderates or Severity.CAUTION in severities:
        return Status.EASY
    return Status.CALIBRATING if calibrating else Status.TRAIN


def readiness(findings: Sequence[Finding]) -> int:
    """0–100: how ready the body looks for a hard session today."""
    return max(0, 100 - sum(READINESS_PENALTY[f.severity] for f in findings))
