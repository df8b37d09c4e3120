"""The pure rules engine: history + now + thresholds in, findings and a recommendation out.

Nothing here does I/O or reads the clock; `engine.evaluate` is the one entry point.
"""

from __future__ import annotations

from restday.rules import body, efforts, habits, sleep, spike, training
from restday.rules.base import RuleSpec

# Every rule of RULES.md, in the order its findings are listed at equal severity.
RULES: tuple[RuleSpec, ...] = (
    RuleSpec("pain", habits.pain),
    RuleSpec("sleep_short", sleep.sleep_short),
    RuleSpec("sleep_debt", sleep.sleep_debt),
    RuleSpec("weekly_increase", training.weekly_increase, needs_history=True),
    RuleSpec("run_spike", spike.run_spike, needs_history=True),
    RuleSpec("long_effort", efforts.long_effort),  # a marathon in week one needs its recovery
    RuleSpec("acwr", training.acwr, needs_history=True),
    RuleSpec("tsb", training.tsb, needs_history=True),
    RuleSpec("monotony", training.monotony, needs_history=True),
    RuleSpec("no_rest_day", training.no_rest_day),
    RuleSpec("dehydration_post_run", body.dehydration_post_run),
    RuleSpec("weight_drop_morning", body.weight_drop_morning),
    RuleSpec("hrv", sleep.hrv),
    RuleSpec("resting_hr", sleep.resting_hr),
    RuleSpec("shoe_mileage", habits.shoe_mileage),
    RuleSpec("cadence", habits.cadence),
    RuleSpec("strength", habits.strength),
    RuleSpec("deload", training.deload, needs_history=True),
)

RULE_IDS: tuple[str, ...] = tuple(spec.id for spec in RULES)
