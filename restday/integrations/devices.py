"""Scale, sleep, pain and sync payloads to domain objects: pure parsing, no MQTT and no clock.

Shapes are those of PAYLOADS.md ("Smart scales", "Sleep trackers") and DESIGN.md §4–§5. Every
function takes the receipt time (`received_at`, aware UTC) and, where local times occur, the
athlete's zone. A payload that cannot be used raises `InputRejected` with one line a person can
act on; nothing else escapes for any bytes (payload_json.py reads the JSON strictly: size,
UTF-8, depth, digits, duplicate keys). Quirks handled here and nowhere else:
- xiaomi_mi_scale writes local wall-clock time with a literal `+00:00`: the offset is dropped
  and the time read in the athlete's zone (a bridge container left on UTC is then off by the
  zone's offset; set TZ for the bridge).
- openScale sync 1.x sends `date` as epoch milliseconds; 2.x sends `"yyyy-MM-dd'T'HH:mmZ"` text
  and `water` 0 when not measured (read as absent). Delete and clear messages are rejected, not
  ignored: restday keeps the weigh-in, and the log and the rejected count should say so.
- An empty scale payload (how MQTT clears a retained message) and a retained weigh-in without
  a time (its age is unknown) are ignored: `None`.
- Home Assistant entities (`ha_statestream`): ha_readings.py, with these bounds and checks.

Bounds of every value read (a value outside is rejected, the bound named in the reason; keys a
preset does not read, such as the xiaomi bridge's `body_fat` or `impedance`, are kept in the
raw text only and never used):
- weight MIN_WEIGHT_KG–MAX_WEIGHT_KG (after converting lb or jin), water MIN_WATER_PCT–
  MAX_WATER_PCT of body weight;
- a night MIN_SLEEP_SESSION_MIN (minutes) to MAX_SLEEP_HOURS, its HRV (rMSSD) MIN_HRV_MS–
  MAX_HRV_MS, its resting heart rate MIN_RESTING_HR_BPM–MAX_RESTING_HR_BPM;
- pain MIN_PAIN–MAX_PAIN, whole levels;
- every time from EARLIEST to FUTURE_TOLERANCE after its receipt (a time that has no UTC
  equivalent, as 9999-12-31T23:30 in Berlin, is in the future; openScale's epoch values the
  same, and an epoch in seconds where milliseconds are due is named as such).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal

from restday.integrations.payload_json import EXCERPT_CHARS as EXCERPT_CHARS
from restday.integrations.payload_json import MAX_JSON_DEPTH as MAX_JSON_DEPTH
from restday.integrations.payload_json import MAX_JSON_INT_DIGITS as MAX_JSON_INT_DIGITS
from restday.integrations.payload_json import MAX_PAYLOAD_BYTES as MAX_PAYLOAD_BYTES
from restday.integrations.payload_json import InputRejected as InputRejected
from restday.integrations.payload_json import decode_json as decode_json
from restday.integrations.payload_json import excerpt as excerpt
from restday.integrations.payload_json import json_object as json_object
from restday.integrations.payload_json import kind_of as kind_of
from restday.integrations.payload_json import parse_json, payload_text
from restday.models import MIN_SLEEP_SESSION_MIN as MIN_SLEEP_SESSION_MIN  # the store's too
from restday.models import BodyMeasurement, Hours, Kilograms, PainReport, SleepSession

MIN_WEIGHT_KG = 20.0
MAX_WEIGHT_KG = 300.0
# Body water in % of body weight: adults measure about 45–65 %; the xiaomi bridge clamps its
# estimate to 35–75 %. Outside 20–80 % the reading is broken (or not a percentage).
MIN_WATER_PCT = 20.0
MAX_WATER_PCT = 80.0
MAX_SLEEP_HOURS = 20.0
# Nightly rMSSD in ms: resting adults span about 10–200 ms; under 5 or over 300 is an artefact
# (a lost beat, a unit mix-up), not a night to compare the athlete's trend with.
MIN_HRV_MS = 5.0
MAX_HRV_MS = 300.0
# Resting heart rate in beats per minute: endurance athletes reach the 30s; the athlete's
# `resting_hr` setting has the same floor (config/sections.py).
MIN_RESTING_HR_BPM = 25.0
MAX_RESTING_HR_BPM = 150.0
MIN_PAIN = 0  # pain levels, whole numbers
MAX_PAIN = 10
KG_PER_LB = 0.45359237
KG_PER_JIN = 0.5
FUTURE_TOLERANCE = timedelta(minutes=5)  # later than received_at + this is "in the future"
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # a Pi without RTC may stamp 1970
DURATION_SLACK = timedelta(minutes=1)  # duration_hours may exceed end − start by rounding
HOUR = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EARLIEST_EPOCH_MS = (EARLIEST - EPOCH) // timedelta(milliseconds=1)
LAST_EPOCH_MS = (datetime.max.replace(tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1)
PRESS = b"PRESS"  # the Home Assistant button's payload_press

_KG_PER_UNIT = {"kg": 1.0, "lb": KG_PER_LB, "lbs": KG_PER_LB, "jin": KG_PER_JIN}
_PAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_DIGITS = re.compile(r"-?[0-9]+")


# --- shared reads -------------------------------------------------------------------------


def _number(obj: Mapping[str, object], key: str) -> float | None:
    """A finite JSON number (not a boolean), or None if absent or null."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputRejected(f"{key} must be a number, got {kind_of(value)} {excerpt(value)}")
    number = float(value)  # an integer has at most MAX_JSON_INT_DIGITS: no OverflowError
    if not math.isfinite(number):  # 1e400 is read as inf
        raise InputRejected(f"{key} must be a finite number, got {excerpt(value)}")
    return number


def _need(obj: Mapping[str, object], key: str) -> float:
    number = _number(obj, key)
    if number is None:
        raise InputRejected(f"{key} is missing")
    return number


def _within(key: str, value: float, low: float, high: float, unit: str) -> float:
    if not low <= value <= high:
        raise InputRejected(f"{key} {round(value, 2)} {unit} is outside {low:g}–{high:g} {unit}")
    return value


def _too_early(what: str, shown: str) -> InputRejected:
    return InputRejected(f"{what} {shown} is before {EARLIEST.year}: is the clock set?")


def _too_late(what: str, shown: str) -> InputRejected:
    return InputRejected(f"{what} {shown} is in the future")


def _timestamp(value: object, key: str, tz: tzinfo, *, wall_clock: bool = False) -> datetime:
    """An ISO 8601 text as UTC; without a zone (or with `wall_clock`) it is local in `tz`."""
    if not isinstance(value, str):
        raise InputRejected(f"{key} must be ISO 8601 text, got {kind_of(value)} {excerpt(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputRejected(f"{key} {excerpt(value)} is not an ISO 8601 time") from None
    if wall_clock or parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # within hours of year 1 or 9999: no such time in UTC
        early = parsed.year < EARLIEST.year
        raise (_too_early if early else _too_late)(key, excerpt(value)) from None


def _shown(when: datetime, tz: tzinfo) -> str:
    """A time as the athlete reads it; in UTC when the local time would leave years 1–9999."""
    try:
        return when.astimezone(tz).isoformat(timespec="minutes")
    except OverflowError:
        return when.isoformat(timespec="minutes")


def _check_time(when: datetime, what: str, received_at: datetime, tz: tzinfo) -> None:
    """Refuse a time before 2000 or later than the receipt time allows."""
    if when < EARLIEST:
        raise _too_early(what, _shown(when, tz))
    if when > received_at + FUTURE_TOLERANCE:
        raise _too_late(what, _shown(when, tz))


# --- scales -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Weighing:
    kg: float
    water_pct: float | None
    when: datetime | None  # None: the payload carries no time


def _weight_kg(obj: Mapping[str, object], unit_key: str | None) -> float:
    """The weight in kg, converted from `obj[unit_key]` (default kg; no key: always kg)."""
    weight = _need(obj, "weight")
    unit = "kg" if unit_key is None or obj.get(unit_key) is None else obj[unit_key]
    if not isinstance(unit, str) or unit not in _KG_PER_UNIT:
        raise InputRejected(f"{unit_key} {excerpt(unit)} is not one of kg, lb, lbs, jin")
    return _converted(weight, unit, _KG_PER_UNIT[unit])


def _converted(weight: float, unit: str, kg_per_unit: float) -> float:
    """`weight` in `unit` as kg, within MIN_WEIGHT_KG–MAX_WEIGHT_KG (the reason shows both)."""
    kg = weight * kg_per_unit
    if unit != "kg" and not MIN_WEIGHT_KG <= kg <= MAX_WEIGHT_KG:
        shown = f"{round(weight, 2)} {unit} = {round(kg, 2)} kg"
        raise InputRejected(f"weight {shown} is outside {MIN_WEIGHT_KG:g}–{MAX_WEIGHT_KG:g} kg")
    return _within("weight", kg, MIN_WEIGHT_KG, MAX_WEIGHT_KG, "kg")


def _water(obj: Mapping[str, object], *, zero_is_absent: bool = False) -> float | None:
    water = _number(obj, "water")
    if water is None or (zero_is_absent and water == 0):
        return None
    return _within("water", water, MIN_WATER_PCT, MAX_WATER_PCT, "%")


def _generic_scale(data: object, tz: tzinfo) -> _Weighing:
    obj = json_object(data)
    stamp = obj.get("timestamp")
    when = None if stamp is None else _timestamp(stamp, "timestamp", tz)
    return _Weighing(_weight_kg(obj, "unit"), _water(obj), when)


def _xiaomi_scale(data: object, tz: tzinfo) -> _Weighing:
    obj = json_object(data)
    stamp = obj.get("timestamp")
    when = None if stamp is None else _timestamp(stamp, "timestamp", tz, wall_clock=True)
    return _Weighing(_weight_kg(obj, "weight_unit"), _water(obj), when)


def _openscale(data: object, tz: tzinfo) -> _Weighing:
    if data is True or (
        isinstance(data, dict)
        and data.get("weight") is None
        and ("date" in data or "dateTime" in data)
    ):
        raise InputRejected("openScale delete/clear messages are not supported")
    obj = json_object(data)
    date = obj.get("date")
    when: datetime | None = None
    if isinstance(date, str) and _DIGITS.fullmatch(date):  # ISO 8601 would read a year 1572
        raise InputRejected(f"date {excerpt(date)} is in quotes: epoch ms must be a JSON number")
    if isinstance(date, str):
        when = _timestamp(date, "date", tz)
    elif date is not None:
        when = _epoch_ms(obj, "date")
    water = _water(obj, zero_is_absent=True)  # openScale sync 2.x sends 0 for "not measured"
    return _Weighing(_weight_kg(obj, None), water, when)


def _epoch_ms(obj: Mapping[str, object], key: str) -> datetime:
    """Epoch milliseconds as UTC; before 2000 (in seconds, perhaps) or past 9999 refused."""
    ms = _need(obj, key)
    shown = excerpt(obj[key])
    if ms < EARLIEST_EPOCH_MS and EARLIEST_EPOCH_MS <= ms * 1000 <= LAST_EPOCH_MS:
        raise InputRejected(f"{key} {shown} looks like epoch seconds; milliseconds are expected")
    if ms < EARLIEST_EPOCH_MS:
        raise _too_early(key, f"{shown} ms")
    try:
        return EPOCH + timedelta(milliseconds=ms)
    except OverflowError:  # after 9999
        raise _too_late(key, f"{shown} ms") from None


_SCALE_PRESETS: dict[str, Callable[[object, tzinfo], _Weighing]] = {
    "generic": _generic_scale,
    "xiaomi_mi_scale": _xiaomi_scale,
    "openscale": _openscale,
}


def parse_scale(
    preset: str, payload: bytes, *, received_at: datetime, retained: bool, tz: tzinfo
) -> tuple[BodyMeasurement, str] | None:
    """A weigh-in and its raw JSON text; None when deliberately ignored (see the module doc).

    An unknown `preset` is a programming error (config validates it): plain `ValueError`.
    """
    name = str(preset)
    if name not in _SCALE_PRESETS:
        raise ValueError(f"unknown scale preset {name!r}")
    text = payload_text(payload)
    if not text.strip():  # how MQTT clears a retained message: nothing to store
        return None
    weighing = _SCALE_PRESETS[name](parse_json(text), tz)
    if weighing.when is None and retained:
        return None
    when = received_at if weighing.when is None else weighing.when
    _check_time(when, "weigh-in time", received_at, tz)
    measurement = BodyMeasurement(
        time=when, weight_kg=Kilograms(weighing.kg), water_pct=weighing.water_pct, source=name
    )
    return measurement, text


# --- sleep --------------------------------------------------------------------------------


def check_night(
    start: datetime | None, end: datetime, hours: float, received_at: datetime, tz: tzinfo
) -> None:
    """Refuse a night that cannot be real: times before 2000 or ahead, or a length out of range
    (not above 0 h, over MAX_SLEEP_HOURS, under MIN_SLEEP_SESSION_MIN)."""
    if start is not None and start > end:
        raise InputRejected("sleep start is after its end")
    _check_time(end, "sleep end", received_at, tz)
    if start is not None:
        _check_time(start, "sleep start", received_at, tz)
    if hours <= 0:
        raise InputRejected(f"sleep of {round(hours, 2)} h is not above 0 h")
    if hours > MAX_SLEEP_HOURS:
        raise InputRejected(f"sleep of {round(hours, 2)} h is over the {MAX_SLEEP_HOURS:g} h limit")
    if hours * 60 < MIN_SLEEP_SESSION_MIN:
        shown = math.floor(hours * 600) / 10  # 14.99 min shows as 14.9, not 15
        raise InputRejected(
            f"sleep of {shown:g} min is under the {MIN_SLEEP_SESSION_MIN} min minimum"
        )


def parse_sleep(payload: bytes, *, received_at: datetime, tz: tzinfo) -> tuple[SleepSession, str]:
    """A night from the generic shape, `{"start", "end"}` or `{"end", "duration_hours"}`.

    With both `start` and `duration_hours`, the duration is the time asleep: it may be shorter
    than the time in bed, not longer.
    """
    text = payload_text(payload)
    obj = json_object(parse_json(text))
    if obj.get("end") is None:
        raise InputRejected("end is missing")
    end = _timestamp(obj["end"], "end", tz)
    start = None if obj.get("start") is None else _timestamp(obj["start"], "start", tz)
    duration = _number(obj, "duration_hours")
    if duration is not None:
        hours = duration
    elif start is not None:
        hours = (end - start) / HOUR
    else:
        raise InputRejected("needs start or duration_hours besides end")
    check_night(start, end, hours, received_at, tz)
    if start is not None and timedelta(hours=hours) > end - start + DURATION_SLACK:
        raise InputRejected(f"duration_hours {round(hours, 2)} is longer than start to end")
    hrv = _number(obj, "hrv_ms")
    if hrv is not None:
        _within("hrv_ms", hrv, MIN_HRV_MS, MAX_HRV_MS, "ms")
    rhr = _number(obj, "resting_hr")
    if rhr is not None:
        _within("resting_hr", rhr, MIN_RESTING_HR_BPM, MAX_RESTING_HR_BPM, "bpm")
    session = SleepSession(
        end=end, hours=Hours(hours), start=start, hrv_ms=hrv, resting_hr=rhr, source="generic"
    )
    return session, text


# --- Home Assistant commands --------------------------------------------------------------


def parse_pain(payload: bytes, *, received_at: datetime) -> tuple[PainReport, str]:
    """Pain right now from the number entity: a whole number 0–10 as text (`7`, `7.0`)."""
    text = payload_text(payload).strip()
    if not _PAIN_NUMBER.fullmatch(text):
        raise InputRejected(f"pain must be a number 0–10, got {excerpt(text)}")
    number = Decimal(text)
    shown = text if len(text) <= EXCERPT_CHARS else excerpt(text)
    if not MIN_PAIN <= number <= MAX_PAIN:
        raise InputRejected(f"pain {shown} is outside {MIN_PAIN}–{MAX_PAIN}")
    if number != number.to_integral_value():
        raise InputRejected(f"pain {shown} is not a whole number {MIN_PAIN}–{MAX_PAIN}")
    _check_time(received_at, "pain report", received_at, UTC)
    level = int(number)
    return PainReport(time=received_at, level=level), str(level)


def is_press(payload: bytes) -> bool:
    """True for the sync button's `PRESS` (surrounding whitespace aside)."""
    return payload.strip() == PRESS
