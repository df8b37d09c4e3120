"""Home Assistant entities' readings to domain values: pure parsing, no MQTT and no clock.

ha_statestream.py pairs an entity's messages into a `Reading`; this reads it as devices.py reads
a scale's or a sleep tracker's payload, with the same bounds and the same checks of time
(devices.py's shared reads), and raises `InputRejected` with one line a person can act on:
- the state is a plain-text number; `unavailable` and `unknown` never reach here;
- the unit comes from the entity's `unit_of_measurement`, in Home Assistant's own units
  (HA_KG_PER_UNIT, HA_HOURS_PER_UNIT, HA_MS_PER_UNIT, HA_BPM_UNITS); one restday does not know
  is rejected, naming it; none at all is rejected for a weight or a duration, which cannot be
  guessed, and read as ms or bpm for HRV and resting heart rate;
- the time is the entity's `last_changed`; without one, the time the state was received, or
  `None` for a retained state (its age is unknown).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, tzinfo

from restday.integrations.devices import (  # the presets' own checks, shared (private names)
    KG_PER_LB,
    MAX_HRV_MS,
    MAX_RESTING_HR_BPM,
    MIN_HRV_MS,
    MIN_RESTING_HR_BPM,
    _check_time,
    _converted,
    _timestamp,
    _within,
    check_night,
)
from restday.integrations.ha_statestream import PRESET, Reading
from restday.integrations.payload_json import InputRejected, excerpt
from restday.models import BodyMeasurement, Hours, Kilograms, SleepSession

# Home Assistant's units (homeassistant/const.py `UnitOfMass`, `UnitOfTime`), and "lbs" as some
# integrations write pounds; heart rate has no unit of Home Assistant's own.
HA_KG_PER_UNIT = {
    "kg": 1.0, "g": 1e-3, "mg": 1e-6, "µg": 1e-9, "lb": KG_PER_LB, "lbs": KG_PER_LB,
    "oz": KG_PER_LB / 16, "st": KG_PER_LB * 14,
}  # fmt: skip
HA_HOURS_PER_UNIT = {"h": 1.0, "min": 1 / 60, "s": 1 / 3600, "ms": 1 / 3_600_000, "d": 24.0}
HA_MS_PER_UNIT = {"ms": 1.0, "s": 1000.0, "μs": 1e-3, "µs": 1e-3}
HA_BPM_UNITS = frozenset({"bpm", "beats/min", "count/min", "1/min"})
_HA_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _ha_number(reading: Reading) -> float:
    """The state as a finite number, or rejected naming the entity and what it said."""
    text = reading.value
    if not _HA_NUMBER.fullmatch(text) or not math.isfinite(number := float(text)):
        raise InputRejected(f"state {excerpt(text)} of {reading.name} is not a number")
    return number


def _ha_unit(reading: Reading, units: Mapping[str, float], what: str) -> float:
    """The factor of the reading's unit in `units`, or rejected naming the unit."""
    if reading.unit is None:
        raise InputRejected(
            f"{reading.name} has no unit_of_measurement: set publish_attributes: true in "
            "mqtt_statestream"
        )
    if reading.unit not in units:
        known = ", ".join(units)
        raise InputRejected(
            f"unit {excerpt(reading.unit)} of {reading.name} is not a {what} unit ({known})"
        )
    return units[reading.unit]


def _ha_time(reading: Reading, tz: tzinfo) -> datetime | None:
    """Its last_changed; without one, the time received, or None for a retained state (its
    age is unknown)."""
    if reading.last_changed is None:
        return None if reading.retained else reading.received_at
    when = _timestamp(reading.last_changed, "last_changed", tz)
    _check_time(when, "last_changed", reading.received_at, tz)
    return when


def _ha_raw(reading: Reading) -> str:
    return json.dumps(reading.raw(), ensure_ascii=False)


def parse_ha_scale(reading: Reading, *, tz: tzinfo) -> tuple[BodyMeasurement, str] | None:
    """A weigh-in from a weight entity's reading; None for a retained one without its
    last_changed (its age is unknown)."""
    when = _ha_time(reading, tz)
    weight = _ha_number(reading)
    factor = _ha_unit(reading, HA_KG_PER_UNIT, "weight")
    if when is None:
        return None
    kg = _converted(weight, reading.unit or "kg", factor)
    measurement = BodyMeasurement(time=when, weight_kg=Kilograms(kg), source=PRESET)
    return measurement, _ha_raw(reading)


def parse_ha_sleep(reading: Reading, *, tz: tzinfo) -> tuple[SleepSession, str] | None:
    """A night from a sleep-duration entity's reading: its state the time asleep, its
    last_changed the end; None for a retained one without its last_changed."""
    when = _ha_time(reading, tz)
    hours = _ha_number(reading) * _ha_unit(reading, HA_HOURS_PER_UNIT, "duration")
    if when is None:
        return None
    check_night(None, when, hours, reading.received_at, tz)
    session = SleepSession(end=when, hours=Hours(hours), source=PRESET)
    return session, _ha_raw(reading)


def parse_ha_hrv(reading: Reading, *, tz: tzinfo) -> tuple[float, datetime] | None:
    """A night's HRV (ms, no unit read as ms) and its time; None when retained without
    last_changed."""
    when = _ha_time(reading, tz)
    ms = _ha_number(reading)
    if reading.unit is not None:
        ms *= _ha_unit(reading, HA_MS_PER_UNIT, "HRV")
    _within("HRV", ms, MIN_HRV_MS, MAX_HRV_MS, "ms")
    return None if when is None else (ms, when)


def parse_ha_resting_hr(reading: Reading, *, tz: tzinfo) -> tuple[float, datetime] | None:
    """A resting heart rate (bpm, no unit read as bpm) and its time; None when retained
    without last_changed."""
    when = _ha_time(reading, tz)
    bpm = _ha_number(reading)
    if reading.unit is not None:
        _ha_unit(reading, dict.fromkeys(HA_BPM_UNITS, 1.0), "heart rate")
    _within("resting HR", bpm, MIN_RESTING_HR_BPM, MAX_RESTING_HR_BPM, "bpm")
    return None if when is None else (bpm, when)
