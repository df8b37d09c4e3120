"""The families of RULES.md v2: rules that read the same signal count once in the decision."""

from __future__ import annotations

from enum import StrEnum


class Family(StrEnum):
    LOAD = "load"
    SESSION = "session"
    SLEEP = "sleep"
    RECOVERY = "recovery"
    BODY = "body"
    PAIN = "pain"
    HABITS = "habits"


FAMILY_OF: dict[str, Family] = {
    "acwr": Family.LOAD,
    "tsb": Family.LOAD,
    "weekly_increase": Family.LOAD,
    "monotony": Family.LOAD,
    "deload": Family.LOAD,
    "run_spike": Family.SESSION,
    "long_effort": Family.SESSION,
    "sleep_short": Family.SLEEP,
    "sleep_debt": Family.SLEEP,
    "hrv": Family.RECOVERY,
    "resting_hr": Family.RECOVERY,
    "dehydration_post_run": Family.BODY,
    "weight_drop_morning": Family.BODY,
    "pain": Family.PAIN,
    "no_rest_day": Family.HABITS,
    "shoe_mileage": Family.HABITS,
    "cadence": Family.HABITS,
    "strength": Family.HABITS,
}


def family_of(rule: str) -> str:
    """The family of a rule id ("" for an id RULES.md does not list)."""
    family = FAMILY_OF.get(rule)
    return "" if family is None else family.value
