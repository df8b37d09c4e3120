"""Thresholds of every rule (RULES.md), one frozen model per rule id.

These are plain values the pure rules take as input; `restday.config` embeds them as the
`[rules.<id>]` tables of the config file, so the defaults below are the documented ones.
Every table also takes `enabled = false` to switch its rule off.
"""

from __future__ import annotations

import logging
from datetime import tzinfo
from enum import StrEnum
from typing import Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

log = logging.getLogger(__name__)

PAIN_MAX_PERSIST_DAYS = 14  # the pain rule looks back at most this many report days (+1)


def _drop_v1_key(data: Any, rule: str, key: str, replacement: str) -> Any:
    """A key that v2 removed: still loads (an upgrade must not stop the service), with one
    warning naming what replaced it."""
    if isinstance(data, dict) and key in data:
        data = {k: v for k, v in data.items() if k != key}
        log.warning(
            "rules.%s.%s is no longer used by the rules' version 2 (docs/rules.md) and is "
            "ignored: use %s instead",
            rule,
            key,
            replacement,
        )
    return data


def _fit_unset_levels(model: type[BaseModel], data: Any, levels: tuple[str, ...]) -> Any:
    """Default levels moved to fit the ones a user set (lowest first in `levels`), so a v1
    config that set, say, `acwr.caution = 1.2` keeps loading under v2's new `info` level."""
    if not isinstance(data, dict) or not any(level in data for level in levels):
        return data
    data = dict(data)
    defaults = {level: model.model_fields[level].default for level in levels}
    set_values = [(i, data[level]) for i, level in enumerate(levels) if level in data]
    for i, level in enumerate(levels):
        if level in data:
            continue
        below = [v for j, v in set_values if j < i and isinstance(v, int | float)]
        above = [v for j, v in set_values if j > i and isinstance(v, int | float)]
        value = defaults[level]
        if below:
            value = max(value, *below)
        if above:
            value = min(value, *above)
        data[level] = value
    return data


class _Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True


class SleepShort(_Thresholds):
    min_hours: float = Field(6.0, gt=0, le=24)
    rest_hours: float = Field(5.0, gt=0, le=24)

    @model_validator(mode="after")
    def _rest_below_min(self) -> Self:
        if self.rest_hours > self.min_hours:
            raise ValueError("rest_hours must not be above min_hours")
        return self


class SleepDebt(_Thresholds):
    # Unset: the athlete's own need, the median of the last 60 nights (RULES.md v2).
    need_hours: float | None = Field(None, gt=0, le=24)
    caution_hours: float = Field(4.0, gt=0)
    moderate_hours: float = Field(7.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _v1_keys(cls, data: Any) -> Any:
        return _drop_v1_key(
            data,
            "sleep_debt",
            "max_debt_hours",
            "caution_hours and moderate_hours (a 7-night debt against your own need)",
        )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.caution_hours > self.moderate_hours:
            raise ValueError("caution_hours must not be above moderate_hours")
        return self


class WeeklyIncrease(_Thresholds):
    info_pct: float = Field(10.0, ge=0)
    caution_pct: float = Field(30.0, ge=0)
    high_pct: float = Field(60.0, ge=0)
    min_increase_km: float = Field(8.0, ge=0)  # a smaller increase in km is at most info

    @model_validator(mode="before")
    @classmethod
    def _fit_defaults(cls, data: Any) -> Any:
        return _fit_unset_levels(cls, data, ("info_pct", "caution_pct", "high_pct"))

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.info_pct <= self.caution_pct <= self.high_pct:
            raise ValueError("info_pct ≤ caution_pct ≤ high_pct is required")
        return self


class RunSpike(_Thresholds):
    caution_pct: float = Field(10.0, ge=0)
    high_pct: float = Field(30.0, ge=0)
    very_high_pct: float = Field(100.0, ge=0)
    carry_days: int = Field(1, ge=0, le=7)  # a spike still counts this many mornings after
    keep_km: float = Field(15.0, gt=0)  # a run this long keeps its severity the next day …
    keep_minutes: float = Field(90.0, gt=0)  # … as does one this long

    @model_validator(mode="before")
    @classmethod
    def _fit_defaults(cls, data: Any) -> Any:
        return _fit_unset_levels(cls, data, ("caution_pct", "high_pct", "very_high_pct"))

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.caution_pct <= self.high_pct <= self.very_high_pct:
            raise ValueError("caution_pct ≤ high_pct ≤ very_high_pct is required")
        return self


class LongEffort(_Thresholds):
    marathon_km: float = Field(40.0, gt=0)
    min_km: float = Field(30.0, gt=0)
    min_hours: float = Field(2.5, gt=0)
    race_min_km: float = Field(15.0, gt=0)
    max_days: int = Field(7, ge=2, le=14)


class Acwr(_Thresholds):
    info: float = Field(1.3, gt=0)
    caution: float = Field(1.5, gt=0)
    high: float = Field(2.0, gt=0)
    low: float = Field(0.8, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _fit_defaults(cls, data: Any) -> Any:
        return _fit_unset_levels(cls, data, ("low", "info", "caution", "high"))

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.low <= self.info <= self.caution <= self.high:
            raise ValueError("low ≤ info ≤ caution ≤ high is required")
        return self


class Tsb(_Thresholds):
    min_tsb_pct: float = Field(-60.0, le=0)


class Monotony(_Thresholds):
    max: float = Field(2.0, gt=0)


class NoRestDay(_Thresholds):
    max_days: int = Field(6, ge=1)
    min_minutes: float = Field(30.0, ge=0)  # other than runs, a session counts from this long


class DehydrationPostRun(_Thresholds):
    max_loss_pct: float = Field(2.0, gt=0)
    pre_window_h: float = Field(12.0, gt=0)
    post_window_h: float = Field(3.0, gt=0)


class WeightDropMorning(_Thresholds):
    caution_pct: float = Field(1.0, gt=0)
    high_pct: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.caution_pct > self.high_pct:
            raise ValueError("caution_pct must not be above high_pct")
        return self


class Pain(_Thresholds):
    rest_min: int = Field(4, ge=1, le=10)
    doctor_min: int = Field(8, ge=1, le=10)
    persist_days: int = Field(3, ge=1, le=PAIN_MAX_PERSIST_DAYS)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.rest_min > self.doctor_min:
            raise ValueError("rest_min must not be above doctor_min")
        return self


class ShoeMileage(_Thresholds):
    warn_km: float = Field(480.0, gt=0)
    replace_km: float = Field(800.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.warn_km > self.replace_km:
            raise ValueError("warn_km must not be above replace_km")
        return self


class Cadence(_Thresholds):
    min_spm: float = Field(165.0, gt=0)


class Strength(_Thresholds):
    min_sessions: int = Field(2, ge=0)


class Deload(_Thresholds):
    build_weeks: int = Field(3, ge=2)
    deload_pct: float = Field(70.0, gt=0, le=100)


class Hrv(_Thresholds):
    min_nights: int = Field(14, ge=3)


class RestingHr(_Thresholds):
    min_bpm: float = Field(5.0, gt=0)


class RulesConfig(BaseModel):
    """The `[rules.<id>]` tables: one per rule id of RULES.md."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sleep_short: SleepShort = SleepShort()
    sleep_debt: SleepDebt = SleepDebt()
    weekly_increase: WeeklyIncrease = WeeklyIncrease()
    run_spike: RunSpike = RunSpike()
    long_effort: LongEffort = LongEffort()
    acwr: Acwr = Acwr()
    tsb: Tsb = Tsb()
    monotony: Monotony = Monotony()
    no_rest_day: NoRestDay = NoRestDay()
    dehydration_post_run: DehydrationPostRun = DehydrationPostRun()
    weight_drop_morning: WeightDropMorning = WeightDropMorning()
    pain: Pain = Pain()
    shoe_mileage: ShoeMileage = ShoeMileage()
    cadence: Cadence = Cadence()
    strength: Strength = Strength()
    deload: Deload = Deload()
    hrv: Hrv = Hrv()
    resting_hr: RestingHr = RestingHr()


class DecisionConfig(BaseModel):
    """`[decision]`: how findings combine into the day's status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    moderate_for_rest: int = Field(2, ge=1)  # families with a moderate finding → rest
    caution_for_easy: int = Field(2, ge=1)  # families with a caution (or more) → easy


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Profile(BaseModel):
    """What the engine needs to know about the athlete and the configured inputs."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    timezone: tzinfo = ZoneInfo("UTC")
    max_hr: int | None = None
    resting_hr: int | None = None
    sex: Sex | None = None
    has_scale: bool = False
    has_sleep: bool = False
