"""How findings combine into the day's status and readiness (RULES.md v2, "Decision").

Rules that read the same signal form a family, and a family counts once, with its most
severe finding: `acwr` and `tsb` (two views of the same two averages) never make two moderates.
"""

from __future__ import annotations

from collections.abc import Sequence

from restday.models import Finding, Severity, Status
from restday.rules.settings import DecisionConfig

# Readiness is 100 minus one of these per family (for its most severe finding), floored at 0.
READINESS_PENALTY: dict[Severity, int] = {
    Severity.DOCTOR: 100,
    Severity.STRONG: 45,
    Severity.MODERATE: 25,
    Severity.CAUTION: 10,
    Severity.INFO: 0,
}


def family_tops(findings: Sequence[Finding]) -> dict[str, Finding]:
    """Each family's most severe finding (the first listed among equals)."""
    tops: dict[str, Finding] = {}
    for f in findings:
        top = tops.get(f.family)
        if top is None or f.severity.rank > top.severity.rank:
            tops[f.family] = f
    return tops


def _count_at_least(tops: dict[str, Finding], severity: Severity) -> int:
    return sum(1 for f in tops.values() if f.severity.rank >= severity.rank)


def decide(findings: Sequence[Finding], config: DecisionConfig, *, calibrating: bool) -> Status:
    """see_doctor > rest > easy > train; `calibrating` stands in for `train` only."""
    tops = family_tops(findings)
    if _count_at_least(tops, Severity.DOCTOR):
        return Status.SEE_DOCTOR
    moderate = _count_at_least(tops, Severity.MODERATE)
    if _count_at_least(tops, Severity.STRONG) or moderate >= config.moderate_for_rest:
        return Status.REST
    if moderate or _count_at_least(tops, Severity.CAUTION) >= config.caution_for_easy:
        return Status.EASY
    return Status.CALIBRATING if calibrating else Status.TRAIN


def deciding(findings: Sequence[Finding], status: Status, config: DecisionConfig) -> list[Finding]:
    """The findings that decided a day that is not `train`: each its family's most severe, in a
    family that counted toward `status` (`history --summary`'s "decided")."""
    tops = family_tops(findings)
    if status is Status.SEE_DOCTOR:
        return [f for f in tops.values() if f.severity is Severity.DOCTOR]
    if status is Status.REST:
        moderate = [f for f in tops.values() if f.severity.rank >= Severity.MODERATE.rank]
        strong = [f for f in moderate if f.severity.rank >= Severity.STRONG.rank]
        return moderate if len(moderate) >= config.moderate_for_rest else strong
    if status is Status.EASY:
        moderate = [f for f in tops.values() if f.severity is Severity.MODERATE]
        caution = [f for f in tops.values() if f.severity.rank >= Severity.CAUTION.rank]
        return caution if len(caution) >= config.caution_for_easy else moderate
    return []


def readiness(findings: Sequence[Finding]) -> int:
    """0–100: how ready the body looks for a hard session today."""
    penalty = sum(READINESS_PENALTY[f.severity] for f in family_tops(findings).values())
    return max(0, 100 - penalty)
