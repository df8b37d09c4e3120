"""`restday history --summary`: count what the rules did over a run of days (a backtest).

For tuning thresholds: how many days ended at each status, and for each rule on how many days
it fired at each severity and on how many easy/rest/see-a-doctor days it was one of the
findings that decided the status (DESIGN.md §7, `restday.rules.decision.deciding`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from restday.models import Finding, Recommendation, Severity, Status
from restday.rules import RULE_IDS
from restday.rules.decision import deciding
from restday.rules.settings import DecisionConfig


@dataclass(slots=True)
class RuleCount:
    """One rule over the window: days at each severity, and days it decided."""

    fired: Counter[Severity] = field(default_factory=Counter)
    decided: int = 0


@dataclass(slots=True)
class Backtest:
    """The counts of `history --summary`; feed it each evaluated day with `add`."""

    decision: DecisionConfig
    first: date | None = None
    last: date | None = None
    days: int = 0
    by_status: Counter[Status] = field(default_factory=Counter)
    rules: dict[str, RuleCount] = field(default_factory=dict)
    silent: tuple[str, ...] = ()  # rules that could not run (the last day's `silent`)

    @classmethod
    def of(cls, days: Iterable[tuple[date, Recommendation]], decision: DecisionConfig) -> Backtest:
        backtest = cls(decision)
        for day, rec in days:
            backtest.add(day, rec)
        return backtest

    def add(self, day: date, rec: Recommendation) -> None:
        """Count one day. A rule counts once a day, at its most severe finding that day (a rule
        that judges several subjects, such as two shoes, is still one rule firing)."""
        self.first = day if self.first is None else min(self.first, day)
        self.last = day if self.last is None else max(self.last, day)
        self.days += 1
        self.by_status[rec.status] += 1
        self.silent = rec.silent
        for rule, severity in _most_severe(rec.reasons).items():
            self._rule(rule).fired[severity] += 1
        for rule in {f.rule for f in deciding(rec.reasons, rec.status, self.decision)}:
            self._rule(rule).decided += 1

    def _rule(self, rule: str) -> RuleCount:
        count = self.rules.get(rule)
        if count is None:
            count = self.rules[rule] = RuleCount()
        return count

    def ordered_rules(self) -> list[tuple[str, RuleCount]]:
        """The rules that fired, in the catalogue's order (RULES.md), unknown ids last."""
        rank = {rule: i for i, rule in enumerate(RULE_IDS)}
        return sorted(self.rules.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))

    def to_payload(self) -> dict[str, object]:
        """`history --summary --json`: every status (zeros included, so the shares add up to
        the days), and every rule that fired, with a count for every severity."""
        return {
            "days": self.days,
            "by_status": {status.value: self.by_status[status] for status in Status},
            "rules": {
                rule: {
                    "fired": {severity.value: count.fired[severity] for severity in Severity},
                    "decided": count.decided,
                }
                for rule, count in self.ordered_rules()
            },
        }


def _most_severe(findings: Iterable[Finding]) -> dict[str, Severity]:
    top: dict[str, Severity] = {}
    for f in findings:
        seen = top.get(f.rule)
        if seen is None or f.severity.rank > seen.rank:
            top[f.rule] = f.severity
    return top
