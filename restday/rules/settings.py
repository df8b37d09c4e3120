"""Thresholds of every rule (RULES.md), one frozen model per rule id.

These are plain values the pure rules take as input; `restday.config` embeds them as the
`[rules.<id>]` tables of the config file, so the defaults below are the documented ones.
Every table also takes `enabled = false` to switch its rule off.
"""

from __future__ import annotations

from datetime import tzinfo
from enum import StrEnum
from typing import Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
    need_hours: float = Field(8.0, gt=0, le=24)
    max_debt_hours: float = Field(5.0, gt=0)


class WeeklyIncrease(_Thresholds):
    caution_pct: float = Field(10.0, ge=0)
    high_pct: float = Field(30.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.caution_pct > self.high_pct:
            raise ValueError("caution_pct must not be above high_pct")
        return self


class RunSpike(_Thresholds):
    caution_pct: float = Field(10.0, ge=0)
    high_pct: float = Field(30.0, ge=0)
    very_high_pct: float = Field(100.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.caution_pct <= self.high_pct <= self.very_high_pct:
            raise ValueError("caution_pct ≤ high_pct ≤ very_high_pct is required")
        return self


class Acwr(_Thresholds):
    caution: float = Field(1.3, gt=0)
    high: float = Field(1.5, gt=0)
    low: float = Field(0.8, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.low <= self.caution <= self.high:
            raise ValueError("low ≤ caution ≤ high is required")
        return self


class Tsb(_Thresholds):
    min_tsb_pct: float = Field(-50.0, le=0)


class Monotony(_Thresholds):
    max: float = Field(2.0, gt=0)


class NoRestDay(_Thresholds):
    max_days: int = Field(6, ge=1)


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
    persist_days: int = Field(3, ge=1)

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
