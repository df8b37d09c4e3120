"""Poison payloads: whatever bytes arrive, every parser of every preset returns a value or
raises `InputRejected` with a reason, never another exception (issue 12, "nothing jams").

`POISONS` pairs each exception type Python's own parsers raise with payloads that raise it in
plain Python (`test_each_poison_raises_its_exception_in_plain_python` proves they still do, so
the catalogue cannot go stale), and each must be rejected with a stated reason. The hypothesis
strategies mix the same poisons into every key of every preset, in zones east and west of UTC.
`test_the_property_finds_the_escape_once_a_guard_is_removed` removes one guard at a time and
checks that the same strategies then find the exception: a check that cannot fail proves
nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from restday.integrations import devices, payload_json, sleep_as_android
from restday.integrations.devices import (
    EARLIEST,
    EPOCH,
    FUTURE_TOLERANCE,
    HOUR,
    KG_PER_LB,
    MAX_HRV_MS,
    MAX_JSON_INT_DIGITS,
    MAX_PAYLOAD_BYTES,
    MAX_RESTING_HR_BPM,
    MAX_SLEEP_HOURS,
    MAX_WATER_PCT,
    MAX_WEIGHT_KG,
    MIN_HRV_MS,
    MIN_RESTING_HR_BPM,
    MIN_SLEEP_SESSION_MIN,
    MIN_WATER_PCT,
    MIN_WEIGHT_KG,
    InputRejected,
    decode_json,
    is_press,
    parse_pain,
    parse_scale,
    parse_sleep,
)
from restday.integrations.sleep_as_android import SleepAsAndroid
from restday.models import Hours, SleepSession

RECEIVED = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")  # east of UTC, with summer time
NEW_YORK = ZoneInfo("America/New_York")  # west of UTC
ZONES: tuple[tzinfo, ...] = (BERLIN, NEW_YORK, ZoneInfo("Pacific/Kiritimati"))  # +1/2, −5/4, +14
PRESETS = ("generic", "xiaomi_mi_scale", "openscale")
MAX_REASON_CHARS = 160  # one line: fixed words plus at most a 60-character excerpt
NIGHT_START = RECEIVED - timedelta(hours=8)
STARTED = b'{"event": "sleep_tracking_started"}'
STOPPED = b'{"event": "sleep_tracking_stopped"}'
DEEP = 30_000  # levels: past Python's recursion limit, inside the 64 KiB limit


def obj_of(raw: bytes) -> Any:
    return json.loads(raw)


# --- what must hold of every outcome -------------------------------------------------------


def check_reason(exc: InputRejected) -> str:
    """A reason a person can read in a log: one short line of UTF-8 text."""
    reason = str(exc)
    assert reason
    assert "\n" not in reason
    assert len(reason) <= MAX_REASON_CHARS
    reason.encode("utf-8")  # a lone surrogate from the payload would fail the log file
    return reason


def rejected(call: Callable[[bytes], object], raw: bytes) -> str:
    with pytest.raises(InputRejected) as info:
        call(raw)
    return check_reason(info.value)


def check_night(session: SleepSession, received_at: datetime = RECEIVED) -> None:
    assert MIN_SLEEP_SESSION_MIN / 60 <= session.hours <= MAX_SLEEP_HOURS
    assert EARLIEST <= session.end <= received_at + FUTURE_TOLERANCE
    assert session.start is None or EARLIEST <= session.start <= session.end
    assert session.hrv_ms is None or MIN_HRV_MS <= session.hrv_ms <= MAX_HRV_MS
    assert session.resting_hr is None or (
        MIN_RESTING_HR_BPM <= session.resting_hr <= MAX_RESTING_HR_BPM
    )


def either(call: Callable[[], object]) -> object:
    """What a parser gives: its value, or the reason it refused; nothing else may escape."""
    try:
        return call()
    except InputRejected as exc:
        return check_reason(exc)


def every_parser(raw: bytes) -> None:
    """Every parse function of every preset, in zones east and west of UTC, on one payload."""
    for tz in ZONES:
        for preset in PRESETS:
            for retained in (False, True):
                weighed = either(partial(parse_scale, preset, raw, received_at=RECEIVED,
                                         retained=retained, tz=tz))  # fmt: skip
                if isinstance(weighed, tuple):
                    m = weighed[0]
                    assert MIN_WEIGHT_KG <= m.weight_kg <= MAX_WEIGHT_KG
                    assert m.water_pct is None or MIN_WATER_PCT <= m.water_pct <= MAX_WATER_PCT
                    assert EARLIEST <= m.time <= RECEIVED + FUTURE_TOLERANCE
                    assert weighed[1] == raw.decode()
        night = either(partial(parse_sleep, raw, received_at=RECEIVED, tz=tz))
        if isinstance(night, tuple):
            check_night(night[0])
    pain = either(lambda: parse_pain(raw, received_at=RECEIVED))
    if isinstance(pain, tuple):
        assert 0 <= pain[0].level <= 10
    assert devices.is_press(raw) in (True, False)  # through the module: see GUARDS
    either(lambda: decode_json(raw))
    tracking = SleepAsAndroid()
    tracking.feed(STARTED, NIGHT_START)
    for tracker in (SleepAsAndroid(), tracking):
        fed = either(partial(tracker.feed, raw, RECEIVED))
        if isinstance(fed, tuple):
            check_night(fed[0])
    restored = SleepAsAndroid.from_json(raw.decode("utf-8", errors="replace"))
    assert SleepAsAndroid.from_json(restored.to_json()).night == restored.night


# --- the catalogue: payloads that raise each exception in plain Python ---------------------


@dataclass(frozen=True)
class Poison:
    name: str
    exception: type[BaseException]
    raw: bytes
    plain: Callable[[bytes], object]  # what naive Python does with it, and fails
    parse: Callable[[bytes], object]  # the parser it is meant for
    words: str  # in the reason it gives


def scale(preset: str = "generic", tz: tzinfo = BERLIN) -> Callable[[bytes], object]:
    return lambda raw: parse_scale(preset, raw, received_at=RECEIVED, retained=False, tz=tz)


def sleep(tz: tzinfo = BERLIN) -> Callable[[bytes], object]:
    return lambda raw: parse_sleep(raw, received_at=RECEIVED, tz=tz)


def pain(raw: bytes) -> object:
    return parse_pain(raw, received_at=RECEIVED)


def saa(raw: bytes) -> object:
    return SleepAsAndroid().feed(raw, RECEIVED)


def stamp(raw: bytes, key: str = "timestamp") -> datetime:
    return datetime.fromisoformat(obj_of(raw)[key])


def epoch(raw: bytes) -> datetime:
    return EPOCH + timedelta(milliseconds=obj_of(raw)["date"])


def nested(levels: int, inner: bytes = b"1") -> bytes:
    return b"[" * levels + inner + b"]" * levels


NINES = b"9" * 5000
UNITS = {"kg": 1.0, "lb": KG_PER_LB}
Y9999 = b'{"weight": 70, "timestamp": "9999-12-31T23:30:00+00:00"}'
MAX_MS = b'{"weight": 70, "date": 253402300799000}'
NIGHT_9999 = b'{"start": "0001-01-01T00:00:00+00:00", "end": "9999-12-31T23:59:00+00:00"}'
SAME = b'{"start": "2026-11-20T06:00:00", "end": "2026-11-20T06:00:00", "duration_hours": 7}'

POISONS = [
    # OverflowError: datetime arithmetic past year 9999 or before year 1, floats past 1e308
    Poison("a timestamp that overflows local time", OverflowError, Y9999,
           lambda r: stamp(r).astimezone(BERLIN), scale(), "is in the future"),
    Poison("a xiaomi wall-clock time west of UTC past 9999", OverflowError,
           b'{"weight": 70, "timestamp": "9999-12-31T23:30:00+00:00"}',
           lambda r: stamp(r).replace(tzinfo=NEW_YORK).astimezone(UTC),
           scale("xiaomi_mi_scale", NEW_YORK), "is in the future"),
    Poison("openScale's last millisecond of 9999 in Berlin", OverflowError, MAX_MS,
           lambda r: epoch(r).astimezone(BERLIN), scale("openscale"), "is in the future"),
    Poison("openScale milliseconds past 9999", OverflowError,
           b'{"weight": 70, "date": 100000000000000000}', epoch, scale("openscale"),
           "date 100000000000000000 ms is in the future"),
    Poison("a negative epoch before year 1", OverflowError,
           b'{"weight": 70, "date": -100000000000000000}', epoch, scale("openscale"),
           "ms is before 2000"),
    Poison("year 1 minus Berlin's offset", OverflowError,
           b'{"weight": 70, "timestamp": "0001-01-01T00:30:00"}',
           lambda r: stamp(r).replace(tzinfo=BERLIN).astimezone(UTC), scale(),
           "is before 2000: is the clock set?"),
    Poison("year 1 shown in New York", OverflowError,
           b'{"weight": 70, "timestamp": "0001-01-01T00:00:00Z"}',
           lambda r: stamp(r).astimezone(NEW_YORK), scale(tz=NEW_YORK), "is before 2000"),
    Poison("a night from year 1 to 9999", OverflowError, NIGHT_9999,
           lambda r: stamp(r, "end").astimezone(BERLIN), sleep(), "sleep end"),
    Poison("a float that overflows to infinity", OverflowError, b'{"weight": 1e400}',
           lambda r: int(obj_of(r)["weight"]), scale(), "weight must be a finite number"),
    Poison("Infinity", OverflowError, b'{"weight": Infinity}',
           lambda r: int(obj_of(r)["weight"]), scale(), "Infinity is not a JSON number"),
    # ValueError: the int digit limit, not JSON, NaN, text that is not a number or a time
    Poison("an integer of 5,000 digits", ValueError, b'{"weight": ' + NINES + b"}",
           obj_of, scale(), "a number of 5,000 digits is over the 100-digit limit"),
    Poison("an event of 5,000 digits", ValueError, b'{"event": ' + NINES + b"}",
           obj_of, saa, "a number of 5,000 digits"),
    Poison("a night of 5,000 digits", ValueError,
           b'{"end": "2026-11-20T06:00:00", "duration_hours": -' + NINES + b"}",
           obj_of, sleep(), "digits is over the 100-digit limit"),
    Poison("not JSON", ValueError, b"{weight: 70}", obj_of, scale(), "not valid JSON"),
    Poison("NaN", ValueError, b'{"weight": NaN}', lambda r: int(obj_of(r)["weight"]),
           scale(), "NaN is not a JSON number"),
    Poison("not an ISO 8601 time", ValueError, b'{"weight": 70, "timestamp": "yesterday"}',
           stamp, scale(), "is not an ISO 8601 time"),
    Poison("text where a number is due", ValueError, b'{"weight": "72.4 kg"}',
           lambda r: float(obj_of(r)["weight"]), scale(), "weight must be a number, got text"),
    Poison("a fraction of pain", ValueError, b"7.5", lambda r: int(r), pain,
           "pain 7.5 is not a whole number 0–10"),
    # RecursionError: nesting past Python's recursion limit, inside 64 KiB
    Poison("lists nested 30,000 deep", RecursionError, nested(DEEP), obj_of, scale(),
           "nested more than 64 levels"),
    Poison("objects nested 10,000 deep", RecursionError,
           b'{"a":' * 10_000 + b"1" + b"}" * 10_000, obj_of, sleep(), "nested more than 64"),
    Poison("an event nested 30,000 deep", RecursionError, nested(DEEP, STARTED), obj_of, saa,
           "nested more than 64 levels"),
    # UnicodeDecodeError: bytes that are not UTF-8
    Poison("a byte-order mark of UTF-16", UnicodeDecodeError, b"\xff\xfe{}", bytes.decode,
           scale(), "not UTF-8 text"),
    Poison("a truncated character", UnicodeDecodeError, b'{"weight": 70, "n": "caf\xc3"}',
           bytes.decode, scale("xiaomi_mi_scale"), "not UTF-8 text"),
    Poison("an encoded surrogate", UnicodeDecodeError, b'{"end": "\xed\xa0\x80"}',
           bytes.decode, sleep(), "not UTF-8 text"),
    Poison("an overlong slash", UnicodeDecodeError, b'{"event": "\xc0\xaf"}', bytes.decode,
           saa, "not UTF-8 text"),
    Poison("pain that is not UTF-8", UnicodeDecodeError, b"\xff", bytes.decode, pain,
           "not UTF-8 text"),
    # UnicodeEncodeError: a lone surrogate escape decodes to text that cannot be written
    Poison("a unit that is a lone surrogate", UnicodeEncodeError,
           b'{"weight": 70, "unit": "\\ud800"}', lambda r: obj_of(r)["unit"].encode(),
           scale(), 'unit "\\ud800" is not one of kg, lb, lbs, jin'),
    Poison("a time ending in a lone surrogate", UnicodeEncodeError,
           b'{"end": "2026-11-20T06:00:00\\udfff", "duration_hours": 7}',
           lambda r: obj_of(r)["end"].encode(), sleep(), "is not an ISO 8601 time"),
    # TypeError: a value of the wrong JSON type
    Poison("a list where a number is due", TypeError, b'{"weight": [70]}',
           lambda r: float(obj_of(r)["weight"]), scale(), "weight must be a number, got a list"),
    Poison("a list as the unit", TypeError, b'{"weight": 70, "unit": ["kg"]}',
           lambda r: obj_of(r)["unit"] in UNITS, scale(), "unit [\"kg\"] is not one of"),
    Poison("a number as the time", TypeError, b'{"weight": 70, "timestamp": 1700000000}',
           stamp, scale(), "timestamp must be ISO 8601 text, got a number"),
    Poison("true/false as the end", TypeError, b'{"end": true, "duration_hours": 7}',
           lambda r: stamp(r, "end"), sleep(), "end must be ISO 8601 text, got true/false"),
    Poison("a null weight", TypeError, b'{"weight": null}',
           lambda r: obj_of(r)["weight"] * 1.0, scale(), "weight is missing"),
    Poison("an object as the sleep's length", TypeError,
           b'{"end": "2026-11-20T06:00:00", "duration_hours": {"h": 7}}',
           lambda r: timedelta(hours=obj_of(r)["duration_hours"]), sleep(),
           "duration_hours must be a number, got an object"),
    # KeyError: a key that is missing or not one we know
    Poison("an unknown unit", KeyError, b'{"weight": 70, "unit": "stone"}',
           lambda r: UNITS[obj_of(r)["unit"]], scale(), 'unit "stone" is not one of'),
    Poison("no weight", KeyError, b'{"water": 55}', lambda r: obj_of(r)["weight"], scale(),
           "weight is missing"),
    Poison("no end", KeyError, b'{"start": "2026-11-19T23:00:00"}',
           lambda r: obj_of(r)["end"], sleep(), "end is missing"),
    Poison("no event", KeyError, b"{}", lambda r: obj_of(r)["event"], saa,
           "event must be text, got null"),
    Poison("an openScale delete", KeyError, b'{"date": 1572082380000}',
           lambda r: obj_of(r)["weight"], scale("openscale"), "delete/clear"),
    # AttributeError: not an object, or not text
    Poison("a list, not an object", AttributeError, b'[{"weight": 70}]',
           lambda r: obj_of(r).get("weight"), scale(), "expected a JSON object, got a list"),
    Poison("text, not an object", AttributeError, b'"70"', lambda r: obj_of(r).get("weight"),
           scale("xiaomi_mi_scale"), 'expected a JSON object, got text "70"'),
    Poison("null, not an object", AttributeError, b"null", lambda r: obj_of(r).get("end"),
           sleep(), "expected a JSON object, got null"),
    Poison("openScale's clear", AttributeError, b"true", lambda r: obj_of(r).get("date"),
           scale("openscale"), "delete/clear"),
    Poison("a number as the event", AttributeError, b'{"event": 5}',
           lambda r: obj_of(r)["event"].startswith("sleep"), saa, "event must be text"),
    # IndexError: nothing where something is indexed
    Poison("empty pain", IndexError, b"", lambda r: r.decode().strip()[0], pain,
           "pain must be a number 0–10"),
    Poison("blank pain", IndexError, b" \n", lambda r: r.split()[0], pain,
           "pain must be a number 0–10"),
    Poison("an empty list", IndexError, b"[]", lambda r: obj_of(r)[0], scale("openscale"),
           "expected a JSON object, got a list"),
    # ZeroDivisionError: a zero where a ratio divides
    Poison("a night of no time in bed", ZeroDivisionError, SAME,
           lambda r: obj_of(r)["duration_hours"] / ((stamp(r, "end") - stamp(r, "start")) / HOUR),
           sleep(), "duration_hours 7.0 is longer than start to end"),
    Poison("a night of zero hours", ZeroDivisionError,
           b'{"end": "2026-11-20T06:00:00", "duration_hours": 0}',
           lambda r: 60 / obj_of(r)["duration_hours"], sleep(), "sleep of 0.0 h is not above 0 h"),
    Poison("a weight of zero", ZeroDivisionError, b'{"weight": -0.0}',
           lambda r: 1 / obj_of(r)["weight"], scale(), "outside 20–300 kg"),
    # decimal.InvalidOperation (an ArithmeticError): pain as a decimal that is not a number
    Poison("pain as words", InvalidOperation, b"abc", lambda r: Decimal(r.decode()), pain,
           'pain must be a number 0–10, got "abc"'),
    Poison("pain as NaN", InvalidOperation, b"NaN", lambda r: Decimal(r.decode()) <= 10, pain,
           "pain must be a number 0–10"),
]  # fmt: skip
EXCEPTION_TYPES = sorted({p.exception.__name__ for p in POISONS})


def test_the_catalogue_covers_every_exception_python_parsers_raise() -> None:
    assert EXCEPTION_TYPES == [
        "AttributeError", "IndexError", "InvalidOperation", "KeyError", "OverflowError",
        "RecursionError", "TypeError", "UnicodeDecodeError", "UnicodeEncodeError", "ValueError",
        "ZeroDivisionError",
    ]  # fmt: skip
    assert all(len(p.raw) <= MAX_PAYLOAD_BYTES for p in POISONS)  # each reaches the parser


@pytest.mark.parametrize("poison", POISONS, ids=lambda p: p.name)
def test_each_poison_raises_its_exception_in_plain_python(poison: Poison) -> None:
    with pytest.raises(poison.exception):
        poison.plain(poison.raw)


@pytest.mark.parametrize("poison", POISONS, ids=lambda p: p.name)
def test_each_poison_is_rejected_with_a_reason(poison: Poison) -> None:
    assert poison.words in rejected(poison.parse, poison.raw)


@pytest.mark.parametrize("poison", POISONS, ids=lambda p: p.name)
def test_no_parser_lets_a_poison_through(poison: Poison) -> None:
    every_parser(poison.raw)


# --- the headline cases, by name ----------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "shown"),
    [("generic", "9999-12-31T23:30+00:00"),  # in UTC: Berlin's 00:30 would be in year 10000
     ("xiaomi_mi_scale", "9999-12-31T23:30+01:00")],  # Berlin's wall clock, as the bridge means
)  # fmt: skip
def test_a_timestamp_that_overflows_local_time_is_rejected(preset: str, shown: str) -> None:
    assert rejected(scale(preset), Y9999) == f"weigh-in time {shown} is in the future"


def test_an_openscale_date_that_overflows_local_time_is_rejected() -> None:
    assert rejected(scale("openscale"), MAX_MS) == (
        "weigh-in time 9999-12-31T23:59+00:00 is in the future"  # shown in UTC: Berlin has none
    )


def test_a_five_thousand_digit_integer_is_rejected_in_every_key() -> None:
    for key in ("weight", "water", "date", "duration_hours", "hrv_ms", "resting_hr", "x"):
        raw = b'{"weight": 70, "end": "2026-11-20T06:00:00", "' + key.encode() + b'": ' + NINES
        reason = rejected(decode_json, raw + b"}")
        assert reason == "a number of 5,000 digits is over the 100-digit limit"
    digits = b"9" * MAX_JSON_INT_DIGITS
    assert decode_json(b"[" + digits + b", -" + digits + b"]") == [int(digits), -int(digits)]


def test_a_duplicate_key_is_rejected_naming_the_key() -> None:
    reason = rejected(scale(), b'{"weight": 70, "weight": 90}')
    assert reason == 'the key "weight" appears twice in one object'
    # the same key spelled with an escape, and a duplicate inside a nested object
    assert '"weight" appears twice' in rejected(scale(), b'{"weight": 70, "w\\u0065ight": 90}')
    assert '"a" appears twice' in rejected(sleep(), b'{"x": {"a": 1, "a": 2}, "end": "t"}')
    assert '"event" appears twice' in rejected(
        saa, b'{"event": "sleep_tracking_started", "event": "sleep_tracking_stopped"}'
    )


def test_a_key_that_only_differs_in_case_is_not_a_duplicate() -> None:
    result = scale()(b'{"weight": 70, "Weight": 90}')
    assert isinstance(result, tuple)
    assert result[0].weight_kg == 70


def test_json_nested_past_the_recursion_limit_is_rejected() -> None:
    for raw in (nested(DEEP), nested(65), b'{"a":' * 10_000 + b"1" + b"}" * 10_000):
        assert "JSON nested more than 64 levels deep" in rejected(decode_json, raw)
    assert decode_json(nested(63)) is not None


def test_a_sleep_of_1e_320_hours_is_rejected_as_under_fifteen_minutes() -> None:
    raw = b'{"end": "2026-11-20T06:00:00", "duration_hours": 1e-320}'
    assert rejected(sleep(), raw) == "sleep of 0 min is under the 15 min minimum"


def test_year_one_minus_an_offset_is_before_2000_not_an_overflow() -> None:
    for stamp_text, tz in [("0001-01-01T00:30:00", BERLIN), ("0001-01-01T00:00:00Z", NEW_YORK),
                           ("0001-01-01T01:00:00+05:00", UTC)]:  # fmt: skip
        raw = json.dumps({"weight": 70, "timestamp": stamp_text}).encode()
        assert "is before 2000: is the clock set?" in rejected(scale(tz=tz), raw)


@pytest.mark.parametrize(
    ("date", "words"),
    [(1572082380, "date 1572082380 looks like epoch seconds; milliseconds are expected"),
     (-1, "date -1 ms is before 2000: is the clock set?"),
     (0, "date 0 ms is before 2000"), (946684799999, "date 946684799999 ms is before 2000"),
     (True, "date must be a number, got true/false"),
     ("1572082380000", 'date "1572082380000" is in quotes: epoch ms must be a JSON number')],
)  # fmt: skip
def test_an_openscale_epoch_out_of_range_is_rejected_with_what_is_wrong(
    date: object, words: str
) -> None:
    raw = json.dumps({"weight": 70, "date": date}).encode()
    assert words in rejected(scale("openscale"), raw)


def test_the_first_millisecond_of_2000_is_an_openscale_date() -> None:
    raw = json.dumps({"weight": 70, "date": devices.EARLIEST_EPOCH_MS}).encode()
    result = scale("openscale")(raw)
    assert isinstance(result, tuple)
    assert result[0].time == EARLIEST


@pytest.mark.parametrize("key", ["weight", "water", "duration_hours", "hrv_ms", "resting_hr"])
@pytest.mark.parametrize("value", [True, False, "72", "", [], {}])
def test_booleans_and_text_where_numbers_are_due_are_rejected(key: str, value: object) -> None:
    raw = json.dumps({"weight": 70, "end": "2026-11-20T06:00:00", "duration_hours": 7,
                      key: value}).encode()  # fmt: skip
    parse = sleep() if key in ("duration_hours", "hrv_ms", "resting_hr") else scale()
    assert f"{key} must be a number, got " in rejected(parse, raw)


# --- bounds -------------------------------------------------------------------------------

NIGHT = {"end": "2026-11-20T06:00:00", "duration_hours": 7}


@pytest.mark.parametrize(
    ("key", "low", "high", "unit"),
    [("hrv_ms", MIN_HRV_MS, MAX_HRV_MS, "ms"),
     ("resting_hr", MIN_RESTING_HR_BPM, MAX_RESTING_HR_BPM, "bpm")],
)  # fmt: skip
def test_a_night_s_hrv_and_resting_hr_are_kept_within_their_bounds_only(
    key: str, low: float, high: float, unit: str
) -> None:
    for value in (low, high):
        night = parse_sleep(json.dumps({**NIGHT, key: value}).encode(), received_at=RECEIVED,
                            tz=BERLIN)[0]  # fmt: skip
        assert getattr(night, key) == value
    for value in (low - 0.1, high + 0.1, 0.0, -low):
        reason = rejected(sleep(), json.dumps({**NIGHT, key: value}).encode())
        assert reason == f"{key} {round(value, 2)} {unit} is outside {low:g}–{high:g} {unit}"


def test_the_bounds_are_the_documented_ones() -> None:
    assert (MIN_HRV_MS, MAX_HRV_MS) == (5, 300)
    assert (MIN_RESTING_HR_BPM, MAX_RESTING_HR_BPM) == (25, 150)
    assert (MIN_WATER_PCT, MAX_WATER_PCT) == (20, 80)
    assert (MIN_WEIGHT_KG, MAX_WEIGHT_KG) == (20, 300)
    assert (MIN_SLEEP_SESSION_MIN, MAX_SLEEP_HOURS) == (15, 20)


@pytest.mark.parametrize("preset", PRESETS)
def test_water_is_kept_within_20_to_80_percent(preset: str) -> None:
    for water in (MIN_WATER_PCT, MAX_WATER_PCT):
        result = scale(preset)(json.dumps({"weight": 70, "water": water}).encode())
        assert isinstance(result, tuple)
        assert result[0].water_pct == water
    for water in (19.9, 80.1, -1.0):
        reason = rejected(scale(preset), json.dumps({"weight": 70, "water": water}).encode())
        assert reason == f"water {water} % is outside 20–80 %"


def test_openscale_water_of_zero_is_not_measured_and_elsewhere_out_of_bounds() -> None:
    result = scale("openscale")(b'{"weight": 70, "water": 0}')
    assert isinstance(result, tuple)
    assert result[0].water_pct is None
    assert "water 0.0 % is outside 20–80 %" in rejected(scale(), b'{"weight": 70, "water": 0}')


# --- Sleep as Android, pain and the sync button -------------------------------------------


@pytest.mark.parametrize(
    "state",
    ['[["sleep_tracking_started", "0001-01-01T00:00:00+05:00"]]',  # no time in UTC: overflow
     '[["sleep_tracking_started", "9999-12-31T23:59:00-05:00"]]',
     '[["sleep_tracking_started", ' + "9" * 5000 + "]]", "[" * DEEP + "]" * DEEP,
     '[["sleep_tracking_started", "2026-11-19T22:30:00+00:00", "x"]]', '[["\\ud800", "x"]]',
     "\ufffd", '{"sleep_tracking_started": 1}'],
)  # fmt: skip
def test_a_sleep_as_android_state_that_cannot_be_read_gives_a_fresh_tracker(state: str) -> None:
    tracker = SleepAsAndroid.from_json(state)
    assert not tracker.tracking
    assert tracker.feed(STOPPED, RECEIVED) is None


def test_a_night_resumed_from_a_state_of_year_one_is_rejected_as_before_2000() -> None:
    tracker = SleepAsAndroid.from_json('[["sleep_tracking_started", "0001-01-01T00:00:00Z"]]')
    assert tracker.tracking
    assert "sleep start 0001-01-01T00:00+00:00 is before 2000" in rejected(
        lambda raw: tracker.feed(raw, RECEIVED), STOPPED
    )
    assert not tracker.tracking


def test_a_saved_state_pausing_from_year_one_to_9999_is_rejected_not_an_overflow() -> None:
    first, last = '"0001-01-01T00:00:00+00:00"', '"9999-12-31T00:00:00+00:00"'
    pauses = [f'["sleep_tracking_paused", {first}], ["sleep_tracking_resumed", {last}]'] * 300
    state = f'[["sleep_tracking_started", {first}], {", ".join(pauses)}]'
    pause = datetime.fromisoformat(json.loads(last)) - datetime.fromisoformat(json.loads(first))
    with pytest.raises(OverflowError):  # what a timedelta sum of those pauses would do
        sum((pause for _ in range(300)), timedelta())
    tracker = SleepAsAndroid.from_json(state)
    assert len(tracker.night) == 601
    assert "before 2000" in rejected(lambda raw: tracker.feed(raw, RECEIVED), STOPPED)


@pytest.mark.parametrize(
    "raw",
    [b'{"event": "sleep_tracking_stopped", "value1": ' + NINES + b"}",
     b'{"event": "sleep_tracking_stopped", "event": "sleep_tracking_stopped"}',
     b'{"event": NaN}', b'{"event": ["sleep_tracking_stopped"]}', nested(DEEP, STOPPED)],
)  # fmt: skip
def test_a_hostile_stop_leaves_the_night_running(raw: bytes) -> None:
    tracker = SleepAsAndroid()
    tracker.feed(STARTED, NIGHT_START)
    rejected(lambda r: tracker.feed(r, RECEIVED), raw)
    assert tracker.tracking
    night = tracker.feed(STOPPED, RECEIVED)
    assert night is not None
    assert night[0].hours == Hours(8)


@pytest.mark.parametrize(
    ("raw", "words"),
    [(b"9" * 60_000, "is outside 0–10"), (b"sNaN", "pain must be a number"),
     (b"1e999999999", "pain must be a number"), (b"-0", None), (b"+10.000", None)],
)  # fmt: skip
def test_pain_poison_gives_a_level_or_a_reason(raw: bytes, words: str | None) -> None:
    if words is None:
        assert 0 <= parse_pain(raw, received_at=RECEIVED)[0].level <= 10
    else:
        assert words in rejected(pain, raw)


@pytest.mark.parametrize(
    "raw", [b"", b"\xff", NINES, b"PRESS\xff", nested(DEEP), b"\x00PRESS", b" \t\r\n"]
)
def test_the_sync_button_only_ever_answers_true_or_false(raw: bytes) -> None:
    assert is_press(raw) is False


# --- properties ---------------------------------------------------------------------------

LOCAL = "2026-11-20T06:00:00"
RECEIVED_MS = (RECEIVED - timedelta(hours=1) - EPOCH) // timedelta(milliseconds=1)
# Valid payloads of each preset, a raw JSON value per key, for the poisons to spoil
SCALE_BASES: list[dict[str, str]] = [
    {"weight": "72.4", "unit": '"lb"', "timestamp": f'"{LOCAL}"', "water": "55.1"},
    {"weight": "72.35", "weight_unit": '"kg"', "timestamp": f'"{LOCAL}+00:00"', "water": "55.4"},
    {"date": str(RECEIVED_MS), "weight": "80.0", "water": "0"},
]
NIGHT_BASES: list[dict[str, str]] = [
    {"end": f'"{LOCAL}"', "duration_hours": "7.5", "hrv_ms": "48", "resting_hr": "52"},
    {"start": '"2026-11-19T23:00:00"', "end": f'"{LOCAL}"', "duration_hours": "6.5"},
]
EVENT_BASES: list[dict[str, str]] = [
    {"event": '"sleep_tracking_stopped"'},
    {"event": '"sleep_tracking_started"', "value1": '"1700550000000"'},
]
ALL_BASES = SCALE_BASES + NIGHT_BASES + EVENT_BASES
KEYS = sorted({k for base in ALL_BASES for k in base} | {"dateTime", "value2"})
NUMBER_KEYS = {"weight", "water", "date", "duration_hours", "hrv_ms", "resting_hr"}
TIME_KEYS = {"timestamp", "start", "end", "date"}
WRONG_TYPES = ["true", "false", "null", "[]", "{}", "[70]", '{"h": 7}', '""', '"72.4"', '"kg"']
# epochs: the last millisecond of 9999 and past it, before year 1, in seconds, negative
EPOCHS = ["253402300799000", "253402300800000", "-62135596800001", "100000000000000000",
          "-100000000000000000", "1572082380", "1572082380.5", "-1", "1e300"]  # fmt: skip
NUMBERS = [
    NINES.decode(), "-" + "9" * 4301, "1" + "0" * 400, "9" * (MAX_JSON_INT_DIGITS + 1),
    "1e400", "-1e400", "1e-320", "-0.0", "0", "NaN", "Infinity", "-Infinity", *EPOCHS,
    # just inside and just outside each bound
    "19.99", "20", "300", "300.01", "4.9", "5", "300.1", "24.9", "25", "150", "150.1", "80",
    "80.01", "0.25", "0.2499", "20.0", "20.01",
]  # fmt: skip
TIMES = [f'"{LOCAL}"', '"2026-11-19T23:00:00"',  # the bases' own: a night with no time in bed
         '"9999-12-31T23:30:00+00:00"', '"9999-12-31T23:59:59.999999"',
         '"9999-12-31T20:00-05:00"', '"0001-01-01T00:00:00"', '"0001-01-01T00:00:00Z"',
         '"0001-01-01T00:30:00+05:00"', '"yesterday"', '"2026-11-20T06:00:00\\udfff"',
         '"1572082380000"', '"20261120"']  # fmt: skip
UNIT_TOKENS = ['"stone"', '"st"', '"KG"', '"lbs"', '"jin"', '"kg "', '"\\ud800"']
TEXTS = [*UNIT_TOKENS, '"\\u0000"', '"sleep_tracking_stopped"', '"sleep_tracking_paused"',
         '"SLEEP_TRACKING_STARTED"']  # fmt: skip
OFFSETS = ["", "Z", "+00:00", "+01:00", "-05:00", "+14:00", "-12:00", "+23:59", "-23:59"]


def far_time(naive: datetime, offset: str) -> str:
    return json.dumps(naive.isoformat() + offset)


far_times = st.builds(
    far_time,
    st.datetimes(max_value=datetime(1, 1, 1, 23)) | st.datetimes(min_value=datetime(9999, 12, 31))  # noqa: DTZ001
    | st.datetimes(min_value=datetime(1999, 12, 31), max_value=datetime(2000, 1, 1, 2))  # noqa: DTZ001
    | st.datetimes(min_value=datetime(2026, 11, 19), max_value=datetime(2026, 11, 21)),  # noqa: DTZ001
    st.sampled_from(OFFSETS),
)  # fmt: skip
wrong_types = st.sampled_from(WRONG_TYPES)
numbers = st.one_of(
    wrong_types, wrong_types, st.sampled_from(NUMBERS),
    st.integers(MAX_JSON_INT_DIGITS - 2, 4400).map(lambda n: "9" * n),
    st.integers(-(10**20), 10**20).map(str), st.floats(allow_nan=False).map(repr),
)  # fmt: skip
times = st.one_of(wrong_types, far_times, st.sampled_from(TIMES))
texts = st.one_of(wrong_types, st.sampled_from(TEXTS), st.text(max_size=12).map(json.dumps))


OWN_VALUES = {"date": st.sampled_from(EPOCHS), "unit": st.sampled_from(UNIT_TOKENS),
              "weight_unit": st.sampled_from(UNIT_TOKENS)}  # fmt: skip


def values_for(key: str) -> st.SearchStrategy[str]:
    """Hostile raw JSON for a key: of the wrong type, or of its type and out of range."""
    kinds = [s for keys, s in ((NUMBER_KEYS, numbers), (TIME_KEYS, times)) if key in keys]
    if key in OWN_VALUES:
        kinds += [OWN_VALUES[key]] * 2
    return st.one_of(*kinds) if kinds else texts


VALUES = {key: values_for(key) for key in KEYS}


def as_object(pairs: list[tuple[str, str]]) -> bytes:
    """An object from raw JSON values, a key possibly twice (json.dumps cannot write that)."""
    return ("{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}").encode()


@st.composite
def spoiled(draw: st.DrawFn, bases: list[dict[str, str]]) -> bytes:
    """A valid payload of a preset with one to three keys poisoned, now and then one twice."""
    base = dict(draw(st.sampled_from(bases)))
    own = st.sampled_from(sorted(base))  # mostly a key this preset reads
    keys = st.one_of(own, own, own, st.sampled_from(KEYS), st.text(max_size=3))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(keys)
        if draw(st.integers(0, 2)) == 0:  # a sibling's value: a night with start = end, say
            base[key] = draw(st.sampled_from(sorted(base.values())))
        else:
            base[key] = draw(VALUES.get(key, texts))
    pairs = list(base.items())
    if draw(st.integers(0, 19)) == 0:
        pairs.append(draw(st.sampled_from(pairs)))
    return as_object(pairs)


BAD_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xfe\xff"]


@st.composite
def wrapped(draw: st.DrawFn, inner: st.SearchStrategy[bytes]) -> bytes:
    """A payload as it is, nested, or with bytes that are not UTF-8 put in."""
    raw = draw(inner)
    how = draw(st.sampled_from(["as is", "as is", "as is", "nested", "not UTF-8"]))
    if how == "nested":
        levels = draw(st.sampled_from([1, 63, 64, 65, 1000, DEEP]))
        left, right = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        return left * levels + raw + right * levels
    if how == "not UTF-8":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from(BAD_UTF8)) + raw[at:]
    return raw


PAIN_TEXT = [b"NaN", b"sNaN", b"Infinity", b"1e999999999", b"", b"  ", b"7.5", b"+-1",
             "\u0667".encode(), b"10.0000000001", b"-0", b"0" * 60_000 + b"7"]  # fmt: skip
weigh_ins = wrapped(spoiled(SCALE_BASES))
nights = wrapped(spoiled(NIGHT_BASES))
saa_events = wrapped(spoiled(EVENT_BASES))
catalogue = st.sampled_from([p.raw for p in POISONS])
anything = wrapped(
    catalogue | catalogue | spoiled(ALL_BASES) | st.sampled_from(PAIN_TEXT)
    | st.integers(MAX_JSON_INT_DIGITS, 65_000).map(lambda n: b"9" * n) | st.binary(max_size=64)
)  # fmt: skip
EXAMPLES = 1000  # per property: a few seconds each
PROPERTY = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
SEQUENCES = settings(PROPERTY, max_examples=EXAMPLES // 4)  # a night's events each


@PROPERTY
@given(weigh_ins)
def test_poisoned_weigh_ins_give_every_parser_a_value_or_a_reason(raw: bytes) -> None:
    every_parser(raw)


@PROPERTY
@given(nights)
def test_poisoned_nights_give_every_parser_a_value_or_a_reason(raw: bytes) -> None:
    every_parser(raw)


@PROPERTY
@given(saa_events)
def test_poisoned_sleep_events_give_every_parser_a_value_or_a_reason(raw: bytes) -> None:
    every_parser(raw)


@PROPERTY
@given(anything)
def test_any_poisoned_bytes_give_every_parser_a_value_or_a_reason(raw: bytes) -> None:
    every_parser(raw)


events = st.sampled_from([STARTED, STOPPED, b'{"event": "sleep_tracking_paused"}',
                          b'{"event": "sleep_tracking_resumed"}'])  # fmt: skip


@SEQUENCES
@given(st.lists(st.tuples(events | saa_events, st.floats(min_value=-2, max_value=12)),
                max_size=10))  # fmt: skip
def test_poisoned_event_sequences_give_nights_or_reasons_restart_or_not(
    steps: list[tuple[bytes, float]],
) -> None:
    steady, restarted, now = SleepAsAndroid(), SleepAsAndroid(), NIGHT_START
    for raw, gap_hours in steps:
        now += timedelta(hours=gap_hours)
        restarted = SleepAsAndroid.from_json(restarted.to_json())
        result = either(partial(steady.feed, raw, now))
        assert either(partial(restarted.feed, raw, now)) == result
        if isinstance(result, tuple):
            check_night(result[0], received_at=now)


saved_events = st.sampled_from([json.dumps(n) for n in
                                (sleep_as_android.SAA_STARTED, sleep_as_android.SAA_PAUSED,
                                 sleep_as_android.SAA_STOPPED)]) | texts | numbers  # fmt: skip


@SEQUENCES
@given(st.lists(st.tuples(saved_events, times | numbers), max_size=4), st.booleans())
def test_any_saved_tracker_state_gives_a_tracker(pairs: list[tuple[str, str]], deep: bool) -> None:
    state = "[" + ", ".join(f"[{event}, {when}]" for event, when in pairs) + "]"
    tracker = SleepAsAndroid.from_json("[" * DEEP + state + "]" * DEEP if deep else state)
    either(lambda: tracker.feed(STOPPED, RECEIVED))


# --- a check that cannot fail proves nothing: remove each guard, the property must fail -----


def _naive_parse_json(text: str) -> object:  # no RecursionError caught
    hooks = payload_json
    return json.loads(text, parse_constant=hooks._no_constant, parse_int=hooks._integer,
                      object_pairs_hook=hooks._unique_keys)  # fmt: skip


def _naive_timestamp(value: object, key: str, tz: tzinfo, *, wall_clock: bool = False) -> datetime:
    if not isinstance(value, str):
        raise InputRejected("not text")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InputRejected("not ISO 8601") from None
    local = wall_clock or parsed.tzinfo is None
    return (parsed.replace(tzinfo=tz) if local else parsed).astimezone(UTC)


def _naive_number(obj: dict[str, object], key: str) -> float | None:
    value = obj.get(key)
    return None if value is None else float(value)  # type: ignore[arg-type]


def _naive_weight(obj: dict[str, object], unit_key: str | None) -> float:
    unit = "kg" if unit_key is None or obj.get(unit_key) is None else obj[unit_key]
    return devices._need(obj, "weight") * devices._KG_PER_UNIT[unit]  # type: ignore[index]


def _efficiency_first(start: datetime | None, end: datetime, hours: float, *args: Any) -> None:
    if start is not None:
        hours / ((end - start) / HOUR)  # time asleep ÷ time in bed, before the checks
    _check_night(start, end, hours, *args)


_check_night = devices.check_night
# (what is removed, where, its naive stand-in, the exception the property must then find)
GUARDS: list[tuple[str, list[tuple[object, str]], object, type[BaseException]]] = [
    ("the 100-digit limit", [(payload_json, "_integer")], int, ValueError),
    ("the recursion catch", [(devices, "parse_json"), (payload_json, "parse_json")],
     _naive_parse_json, RecursionError),
    ("the UTF-8 check", [(devices, "payload_text"), (payload_json, "payload_text")],
     lambda raw: raw.decode(), UnicodeDecodeError),
    ("the overflow-safe local display", [(devices, "_shown")],
     lambda when, tz: when.astimezone(tz).isoformat(), OverflowError),
    ("the overflow-safe UTC conversion", [(devices, "_timestamp")], _naive_timestamp,
     OverflowError),
    ("the epoch range", [(devices, "_epoch_ms")],
     lambda obj, key: EPOCH + timedelta(milliseconds=devices._need(obj, key)), OverflowError),
    ("the number type check", [(devices, "_number")], _naive_number, TypeError),
    ("the number type check (text)", [(devices, "_number")], _naive_number, ValueError),
    ("the object check", [(devices, "json_object"), (sleep_as_android, "json_object")],
     lambda data: data, AttributeError),
    ("the unit check", [(devices, "_weight_kg")], _naive_weight, KeyError),
    ("the pain number pattern", [(devices, "_PAIN_NUMBER")], re.compile(r".*", re.DOTALL),
     InvalidOperation),
    ("is_press reading the payload whole", [(devices, "is_press")],
     lambda raw: raw.split()[0] == devices.PRESS, IndexError),
    ("the sleep checks before any ratio", [(devices, "check_night")], _efficiency_first,
     ZeroDivisionError),
]  # fmt: skip
PROPERTIES = {"any bytes": anything, "weigh-ins": weigh_ins, "nights": nights,
              "sleep events": saa_events}  # fmt: skip
SEARCH = settings(max_examples=EXAMPLES, database=None, phases=[Phase.generate], deadline=None,
                  derandomize=True, suppress_health_check=list(HealthCheck))  # fmt: skip


def escapes(raw: bytes, exception: type[BaseException]) -> bool:
    """Whether `exception` escapes a parser on this payload (another escape: keep looking)."""
    try:
        every_parser(raw)
    except exception:
        return True
    except Exception:
        return False
    return False


def first_escape(exception: type[BaseException]) -> str | None:
    """Which property's search, with that property's own budget, finds the exception."""
    for name, strategy in PROPERTIES.items():
        try:
            find(strategy, lambda raw: escapes(raw, exception), settings=SEARCH)
        except NoSuchExample:
            continue
        return name
    return None


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # 60 kB reprs
@pytest.mark.parametrize(
    ("guard", "where", "naive", "exception"), GUARDS, ids=[g[0] for g in GUARDS]
)
def test_the_property_finds_the_escape_once_a_guard_is_removed(
    guard: str,
    where: list[tuple[object, str]],
    naive: object,
    exception: type[BaseException],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for module, name in where:
        monkeypatch.setattr(module, name, naive)
    assert first_escape(exception) is not None, f"no property notices {guard} gone"
