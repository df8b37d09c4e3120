"""Scale, sleep, pain and sync payloads (PAYLOADS.md "Smart scales", "Sleep trackers")."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restday.integrations.devices import (
    EARLIEST,
    FUTURE_TOLERANCE,
    MAX_PAYLOAD_BYTES,
    MAX_SLEEP_HOURS,
    MAX_WEIGHT_KG,
    MIN_SLEEP_SESSION_MIN,
    MIN_WEIGHT_KG,
    InputRejected,
    decode_json,
    is_press,
    parse_pain,
    parse_scale,
    parse_sleep,
)
from restday.integrations.sleep_as_android import SleepAsAndroid
from restday.models import BodyMeasurement, Hours, Kilograms, SleepSession
from tests.factories import TZ

# PAYLOADS.md, verbatim.
XIAOMI: dict[str, Any] = {
    "weight": 72.35, "weight_unit": "kg", "bmi": 23.1, "basal_metabolism": 1650.2,
    "visceral_fat": 9.5, "lean_body_mass": 55.1, "body_fat": 18.2, "water": 55.4,
    "bone_mass": 3.0, "muscle_mass": 56.0, "protein": 17.9, "body_type": "Balanced",
    "metabolic_age": 31, "impedance": 480, "timestamp": "2024-05-01T07:12:03+00:00",
}  # fmt: skip
OPENSCALE: dict[str, Any] = {"date": 1572082380000, "weight": 80.0}
GENERIC_SCALE: dict[str, Any] = {
    "weight": 72.4, "unit": "kg", "timestamp": "2026-11-20T07:05:00+01:00", "water": 55.1,
}  # fmt: skip
SUMMER_MORNING = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)  # 08:00 in Berlin (CEST, +02:00)
WINTER_MORNING = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)  # 07:30 in Berlin (CET, +01:00)
PRESETS = ("generic", "xiaomi_mi_scale", "openscale")
MAX_REASON_CHARS = 160  # a reason is one line: fixed words plus at most an 80-character excerpt


def payload(obj: object) -> bytes:
    return json.dumps(obj).encode()


def scale(
    obj: object,
    preset: str = "generic",
    *,
    received_at: datetime = WINTER_MORNING,
    retained: bool = False,
) -> BodyMeasurement:
    """The measurement of a payload that must parse."""
    result = parse_scale(preset, payload(obj), received_at=received_at, retained=retained, tz=TZ)
    assert result is not None
    return result[0]


def rejected(call: Any, *args: Any, **kwargs: Any) -> str:
    """The reason a call refuses its input; checks the reason is one short line."""
    with pytest.raises(InputRejected) as info:
        call(*args, **kwargs)
    reason = str(info.value)
    assert reason
    assert "\n" not in reason
    assert len(reason) <= MAX_REASON_CHARS
    return reason


def scale_reason(obj: object, preset: str = "generic", **kw: Any) -> str:
    raw = obj if isinstance(obj, bytes) else payload(obj)
    kw.setdefault("received_at", WINTER_MORNING)
    return rejected(parse_scale, preset, raw, retained=False, tz=TZ, **kw)


def sleep(obj: object, received_at: datetime = WINTER_MORNING) -> SleepSession:
    return parse_sleep(payload(obj), received_at=received_at, tz=TZ)[0]


def sleep_reason(obj: object, received_at: datetime = WINTER_MORNING) -> str:
    raw = obj if isinstance(obj, bytes) else payload(obj)
    return rejected(parse_sleep, raw, received_at=received_at, tz=TZ)


def json_valid(raw: str) -> bool:
    """What the store's CHECK (json_valid(raw)) will say."""
    with sqlite3.connect(":memory:") as conn:
        return bool(conn.execute("SELECT json_valid(?)", (raw,)).fetchone()[0])


# --- scales: the documented shapes -------------------------------------------------------


def test_generic_weigh_in_keeps_weight_water_time_and_raw_text() -> None:
    raw = payload(GENERIC_SCALE)
    result = parse_scale("generic", raw, received_at=WINTER_MORNING, retained=False, tz=TZ)
    assert result is not None
    m, text = result
    assert m == BodyMeasurement(
        time=datetime(2026, 11, 20, 6, 5, tzinfo=UTC), weight_kg=Kilograms(72.4), water_pct=55.1,
        source="generic",
    )  # fmt: skip
    assert text == raw.decode()


def test_generic_weight_alone_is_kilograms_weighed_on_receipt() -> None:
    m = scale({"weight": 70})
    assert m.weight_kg == 70.0
    assert m.time == WINTER_MORNING
    assert m.water_pct is None


def test_generic_pounds_are_converted_to_kilograms() -> None:
    assert scale({"weight": 160, "unit": "lb"}).weight_kg == pytest.approx(72.5747792)


def test_generic_timestamp_without_zone_is_local_in_winter() -> None:
    m = scale({"weight": 70, "timestamp": "2026-11-20T07:15:00"})
    assert m.time == datetime(2026, 11, 20, 6, 15, tzinfo=UTC)


def test_generic_timestamp_without_zone_is_local_in_summer() -> None:
    m = scale({"weight": 70, "timestamp": "2024-05-01T07:15:00"}, received_at=SUMMER_MORNING)
    assert m.time == datetime(2024, 5, 1, 5, 15, tzinfo=UTC)


def test_generic_timestamp_with_zone_keeps_its_zone() -> None:
    m = scale({"weight": 70, "timestamp": "2026-11-20T05:00:00Z"})
    assert m.time == datetime(2026, 11, 20, 5, 0, tzinfo=UTC)


def test_xiaomi_documented_payload_gives_weight_water_and_source() -> None:
    result = parse_scale(
        "xiaomi_mi_scale", payload(XIAOMI), received_at=SUMMER_MORNING, retained=True, tz=TZ
    )
    assert result is not None
    m, text = result
    assert (m.weight_kg, m.water_pct, m.source) == (72.35, 55.4, "xiaomi_mi_scale")
    assert json.loads(text) == XIAOMI


def test_xiaomi_plus_zero_stamp_is_berlin_wall_clock_in_summer() -> None:
    m = scale(XIAOMI, "xiaomi_mi_scale", received_at=SUMMER_MORNING)
    assert m.time == datetime(2024, 5, 1, 5, 12, 3, tzinfo=UTC)


def test_xiaomi_plus_zero_stamp_is_berlin_wall_clock_in_winter() -> None:
    winter = {**XIAOMI, "timestamp": "2024-01-15T07:12:03+00:00"}
    m = scale(winter, "xiaomi_mi_scale", received_at=datetime(2024, 1, 15, 7, tzinfo=UTC))
    assert m.time == datetime(2024, 1, 15, 6, 12, 3, tzinfo=UTC)


def test_xiaomi_weighing_without_impedance_has_no_water() -> None:
    plain = {k: XIAOMI[k] for k in ("weight", "weight_unit", "bmi", "basal_metabolism",
                                    "visceral_fat", "timestamp")}  # fmt: skip
    m = scale(plain, "xiaomi_mi_scale", received_at=SUMMER_MORNING)
    assert (m.weight_kg, m.water_pct) == (72.35, None)


@pytest.mark.parametrize(
    ("weight", "unit", "kg"), [(159.5, "lbs", 72.3480), (144.7, "jin", 72.35), (72.35, "kg", 72.35)]
)
def test_xiaomi_units_are_converted_to_kilograms(weight: float, unit: str, kg: float) -> None:
    m = scale({**XIAOMI, "weight": weight, "weight_unit": unit}, "xiaomi_mi_scale",
              received_at=SUMMER_MORNING)  # fmt: skip
    assert m.weight_kg == pytest.approx(kg, abs=1e-3)


def test_openscale_epoch_milliseconds_are_utc() -> None:
    m = scale(OPENSCALE, "openscale")
    assert (m.time, m.weight_kg, m.source) == (
        datetime(2019, 10, 26, 9, 33, tzinfo=UTC),
        80.0,
        "openscale",
    )


def test_openscale_sync_2_text_date_and_zero_water_as_not_measured() -> None:
    v2 = {"id": 3, "userId": 1, "date": "2019-10-26T11:33+0200", "weight": 80.0,
          "body_fat": 0.0, "water": 0.0, "muscle": 0.0, "username": "me", "values": []}  # fmt: skip
    m = scale(v2, "openscale")
    assert (m.time, m.weight_kg, m.water_pct) == (
        datetime(2019, 10, 26, 9, 33, tzinfo=UTC),
        80.0,
        None,
    )


@pytest.mark.parametrize("message", [{"date": 1572082380000}, True, {"dateTime": "2019-10-26"}])
def test_openscale_delete_and_clear_are_refused_with_a_reason(message: object) -> None:
    assert "delete/clear" in scale_reason(message, "openscale")


@pytest.mark.parametrize(
    ("preset", "obj"),
    [("generic", {"weight": 70}), ("xiaomi_mi_scale", {"weight": 70, "weight_unit": "kg"}),
     ("openscale", {"weight": 70})],
)  # fmt: skip
def test_retained_weigh_in_without_time_is_ignored(preset: str, obj: object) -> None:
    raw = payload(obj)
    assert parse_scale(preset, raw, received_at=WINTER_MORNING, retained=True, tz=TZ) is None
    fresh = parse_scale(preset, raw, received_at=WINTER_MORNING, retained=False, tz=TZ)
    assert fresh is not None
    assert fresh[0].time == WINTER_MORNING


def test_retained_weigh_in_with_time_is_kept() -> None:
    assert scale(GENERIC_SCALE, retained=True).time == datetime(2026, 11, 20, 6, 5, tzinfo=UTC)


@pytest.mark.parametrize("preset", PRESETS)
def test_empty_payload_that_clears_a_retained_message_is_ignored(preset: str) -> None:
    for empty in (b"", b"  \n"):
        assert parse_scale(preset, empty, received_at=WINTER_MORNING, retained=True, tz=TZ) is None


def test_unknown_preset_is_a_programming_error_not_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown scale preset") as info:
        parse_scale("withings", b'{"weight": 70}', received_at=WINTER_MORNING, retained=False,
                    tz=TZ)  # fmt: skip
    assert not isinstance(info.value, InputRejected)


# --- scales: limits and bad input --------------------------------------------------------


@pytest.mark.parametrize("kg", [MIN_WEIGHT_KG, 72.4, MAX_WEIGHT_KG])
def test_weights_within_20_to_300_kg_are_accepted(kg: float) -> None:
    assert scale({"weight": kg}).weight_kg == kg


@pytest.mark.parametrize(
    ("obj", "words"),
    [
        ({"weight": 412.0}, "weight 412.0 kg is outside 20–300 kg"),
        ({"weight": 19.99}, "weight 19.99 kg is outside 20–300 kg"),
        ({"weight": 300.01}, "outside 20–300 kg"),
        ({"weight": 700, "unit": "lb"}, "weight 700.0 lb = 317.51 kg is outside 20–300 kg"),
        ({"weight": 0}, "outside 20–300 kg"),
        ({"weight": -70}, "outside 20–300 kg"),
        ({"weight": "72.4"}, 'weight must be a number, got text "72.4"'),
        ({"weight": True}, "weight must be a number, got true/false"),
        ({"weight": [70]}, "weight must be a number, got a list"),
        ({"weight": None}, "weight is missing"),
        ({"water": 55}, "weight is missing"),
        ({"weight": 10**400}, "a number of 401 digits is over the 100-digit limit"),
        (b'{"weight": 1e999}', "weight must be a finite number"),
        (b'{"weight": NaN}', "NaN is not a JSON number"),
        (b'{"weight": -Infinity}', "-Infinity is not a JSON number"),
        ({"weight": 70, "unit": "stone"}, 'unit "stone" is not one of kg, lb, lbs, jin'),
        ({"weight": 70, "unit": False}, "unit false is not one of"),
        ({"weight": 70, "water": 120}, "water 120.0 % is outside 20–80 %"),
        ({"weight": 70, "water": -1}, "water -1.0 % is outside 20–80 %"),
        ({"weight": 70, "timestamp": 1700000000}, "timestamp must be ISO 8601 text"),
        ({"weight": 70, "timestamp": "yesterday"}, 'timestamp "yesterday" is not an ISO 8601'),
        ({"weight": 70, "timestamp": "1970-01-01T00:00:00Z"}, "is before 2000"),
        ({"weight": 70, "timestamp": "0001-01-01T00:00:00+05:00"}, "is before 2000"),
        ({"weight": 70, "timestamp": "2026-11-21T07:00:00"}, "is in the future"),
        ([{"weight": 70}], "expected a JSON object, got a list"),
        ("70", 'expected a JSON object, got text "70"'),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"{weight: 70}", "not valid JSON: Expecting property name enclosed in double quotes"),
        (b"weight=70", "not valid JSON: Expecting value (line 1 column 1)"),
        (b'{"weight": 70} {}', "not valid JSON: Extra data"),
        (b"[" * 100 + b"]" * 100, "nested more than 64 levels"),
        (b"[" * 5000 + b"]" * 5000, "nested more than 64 levels"),
    ],
)
def test_bad_weigh_in_is_refused_with_a_reason(obj: object, words: str) -> None:
    assert words in scale_reason(obj)


def test_weigh_in_over_64_kib_is_refused_before_reading_it() -> None:
    big = b'{"weight": 70, "x": "' + b"a" * MAX_PAYLOAD_BYTES + b'"}'
    reason = scale_reason(big)
    assert reason == f"payload of {len(big):,} bytes is over the 64 KiB limit"


def test_reason_quotes_at_most_80_characters_of_a_hostile_value() -> None:
    reason = scale_reason({"weight": "x" * 10_000})
    assert "x" * 61 not in reason
    assert "weight must be a number" in reason


def test_unset_pi_clock_refuses_a_weigh_in_stamped_on_receipt() -> None:
    reason = scale_reason({"weight": 70}, received_at=datetime(1970, 1, 1, 0, 1, tzinfo=UTC))
    assert "before 2000" in reason


def test_timestamp_up_to_five_minutes_ahead_of_receipt_is_clock_skew() -> None:
    ahead = WINTER_MORNING + FUTURE_TOLERANCE
    assert scale({"weight": 70, "timestamp": ahead.isoformat()}).time == ahead
    later = ahead + timedelta(seconds=1)
    assert "in the future" in scale_reason({"weight": 70, "timestamp": later.isoformat()})


def test_first_moment_of_2000_is_accepted_and_the_one_before_refused() -> None:
    assert scale({"weight": 70, "timestamp": EARLIEST.isoformat()}).time == EARLIEST
    before = (EARLIEST - timedelta(seconds=1)).isoformat()
    assert "before 2000" in scale_reason({"weight": 70, "timestamp": before})


def test_decode_json_reads_strict_json_only() -> None:
    assert decode_json(b' {"a": [1, 2.5, null]} ') == {"a": [1, 2.5, None]}
    assert "not valid JSON: Expecting value (line 1 column 1)" in rejected(decode_json, b"")
    assert "NaN" in rejected(decode_json, b"NaN")


# --- generic sleep -----------------------------------------------------------------------


def test_generic_night_from_local_start_and_end() -> None:
    s = sleep({"start": "2026-11-19T23:00:00", "end": "2026-11-20T06:30:00"})
    assert s == SleepSession(
        end=datetime(2026, 11, 20, 5, 30, tzinfo=UTC), hours=Hours(7.5),
        start=datetime(2026, 11, 19, 22, 0, tzinfo=UTC), source="generic",
    )  # fmt: skip


def test_generic_night_from_end_and_duration_with_hrv_and_resting_hr() -> None:
    raw = payload({"end": "2026-11-20T06:30:00+01:00", "duration_hours": 5.5, "hrv_ms": 48.0,
                   "resting_hr": 52})  # fmt: skip
    s, text = parse_sleep(raw, received_at=WINTER_MORNING, tz=TZ)
    assert (s.end, s.hours, s.start, s.hrv_ms, s.resting_hr) == (
        datetime(2026, 11, 20, 5, 30, tzinfo=UTC),
        5.5,
        None,
        48.0,
        52.0,
    )
    assert text == raw.decode()


def test_night_across_the_spring_clock_change_counts_real_hours() -> None:
    s = sleep({"start": "2026-03-28T23:00:00", "end": "2026-03-29T07:00:00"},
              received_at=datetime(2026, 3, 29, 6, tzinfo=UTC))  # fmt: skip
    assert s.hours == 7.0


def test_duration_is_time_asleep_within_time_in_bed() -> None:
    s = sleep({"start": "2026-11-19T23:00:00", "end": "2026-11-20T06:30:00",
               "duration_hours": 6.8})  # fmt: skip
    assert (s.hours, s.start) == (6.8, datetime(2026, 11, 19, 22, 0, tzinfo=UTC))


def test_twenty_hours_of_sleep_is_the_most_accepted() -> None:
    assert sleep({"end": "2026-11-20T06:00:00", "duration_hours": MAX_SLEEP_HOURS}).hours == 20.0
    reason = sleep_reason({"end": "2026-11-20T06:00:00", "duration_hours": 20.01})
    assert "sleep of 20.01 h is over the 20 h limit" in reason


@pytest.mark.parametrize(
    ("obj", "words"),
    [
        ({"start": "2026-11-19T09:00:00", "end": "2026-11-20T06:00:00"}, "21.0 h is over the 20"),
        ({"end": "2026-11-20T06:00:00", "duration_hours": 0}, "sleep of 0.0 h is not above 0 h"),
        ({"end": "2026-11-20T06:00:00", "duration_hours": -2}, "not above 0 h"),
        ({"start": "2026-11-20T06:00:00", "end": "2026-11-20T06:00:00"}, "not above 0 h"),
        ({"start": "2026-11-20T06:00:00", "end": "2026-11-20T05:00:00"}, "start is after its end"),
        ({"end": "2026-11-20T08:00:00", "duration_hours": 7},
         "sleep end 2026-11-20T08:00+01:00 is in the future"),
        ({"end": "1970-01-01T06:00:00Z", "duration_hours": 7}, "before 2000"),
        ({"start": "1999-12-31T23:00:00Z", "end": "2000-01-01T06:00:00Z"}, "sleep start"),
        ({"start": "2026-11-19T23:00:00", "end": "2026-11-20T05:00:00", "duration_hours": 7},
         "duration_hours 7.0 is longer than start to end"),
        ({"start": "2026-11-19T23:00:00"}, "end is missing"),
        ({"end": "2026-11-20T06:00:00"}, "needs start or duration_hours"),
        ({"end": 1763617200, "duration_hours": 7}, "end must be ISO 8601 text"),
        ({"end": "2026-11-20T06:00:00", "duration_hours": True}, "got true/false"),
        ({"end": "2026-11-20T06:00:00", "duration_hours": "7"}, "duration_hours must be a number"),
        ({"end": "2026-11-20T06:00:00", "duration_hours": 7, "resting_hr": 151},
         "resting_hr 151.0 bpm is outside 25–150 bpm"),
        ({"end": "2026-11-20T06:00:00", "duration_hours": 7, "resting_hr": 24.9},
         "resting_hr 24.9 bpm is outside 25–150 bpm"),
        ({"end": "2026-11-20T06:00:00", "duration_hours": 7, "hrv_ms": 0},
         "hrv_ms 0.0 ms is outside 5–300 ms"),
        ([7], "expected a JSON object"),
        (b"\xc3\x28", "not UTF-8 text"),
        (b"", "not valid JSON"),
    ],
)  # fmt: skip
def test_bad_night_is_refused_with_a_reason(obj: object, words: str) -> None:
    assert words in sleep_reason(obj)


def test_a_ten_minute_session_is_rejected_and_fifteen_minutes_is_the_shortest_kept() -> None:
    assert MIN_SLEEP_SESSION_MIN == 15
    assert sleep({"start": "2026-11-20T06:00:00", "end": "2026-11-20T06:15:00"}).hours == 0.25
    reason = sleep_reason({"start": "2026-11-20T06:00:00", "end": "2026-11-20T06:10:00"})
    assert reason == "sleep of 10 min is under the 15 min minimum"
    reason = sleep_reason({"end": "2026-11-20T06:00:00", "duration_hours": 0.2499})
    assert reason == "sleep of 14.9 min is under the 15 min minimum"  # not rounded up to 15


def test_time_asleep_not_time_in_bed_must_reach_fifteen_minutes() -> None:
    reason = sleep_reason({"start": "2026-11-20T05:00:00", "end": "2026-11-20T06:00:00",
                           "duration_hours": 0.1})  # fmt: skip
    assert reason == "sleep of 6 min is under the 15 min minimum"


def test_night_over_64_kib_is_refused() -> None:
    assert "over the 64 KiB limit" in sleep_reason(b" " * (MAX_PAYLOAD_BYTES + 1))


# --- Sleep as Android --------------------------------------------------------------------

NIGHT_START = datetime(2026, 11, 19, 22, 30, tzinfo=UTC)


def event(name: str, **values: str) -> bytes:
    return payload({"event": f"sleep_tracking_{name}" if "_" not in name else name, **values})


def feed_night(
    tracker: SleepAsAndroid, steps: list[tuple[str, float]]
) -> list[tuple[SleepSession, str] | None]:
    """Feed events received `hours` after NIGHT_START."""
    return [tracker.feed(event(name), NIGHT_START + timedelta(hours=h)) for name, h in steps]


def test_sleep_as_android_night_is_start_to_stop_minus_the_pause() -> None:
    results = feed_night(SleepAsAndroid(), [("started", 0), ("paused", 3.5), ("resumed", 4),
                                            ("stopped", 8)])  # fmt: skip
    assert results[:3] == [None, None, None]
    night = results[3]
    assert night is not None
    session, raw = night
    assert session == SleepSession(
        end=NIGHT_START + timedelta(hours=8), hours=Hours(7.5), start=NIGHT_START,
        source="sleep_as_android",
    )  # fmt: skip
    assert json.loads(raw) == {"events": [
        {"event": "sleep_tracking_started", "received_at": "2026-11-19T22:30:00+00:00"},
        {"event": "sleep_tracking_paused", "received_at": "2026-11-20T02:00:00+00:00"},
        {"event": "sleep_tracking_resumed", "received_at": "2026-11-20T02:30:00+00:00"},
        {"event": "sleep_tracking_stopped", "received_at": "2026-11-20T06:30:00+00:00"},
    ]}  # fmt: skip
    assert json_valid(raw)


def test_pause_still_open_at_the_stop_is_subtracted_up_to_the_stop() -> None:
    night = feed_night(SleepAsAndroid(), [("started", 0), ("paused", 6), ("stopped", 8)])[-1]
    assert night is not None
    assert night[0].hours == 6.0


def test_sleep_phases_and_alarms_do_not_change_the_night() -> None:
    tracker = SleepAsAndroid()
    tracker.feed(event("started"), NIGHT_START)
    for name, values in [
        ("deep_sleep", {}),
        ("rem", {}),
        ("sleep_tracking_resumed", {}),
        ("alarm_alert_start", {"value1": "1700550000000", "value2": "Morning"}),
    ]:
        assert tracker.feed(event(name, **values), NIGHT_START + timedelta(hours=2)) is None
    night = tracker.feed(event("stopped"), NIGHT_START + timedelta(hours=7))
    assert night is not None
    assert night[0].hours == 7.0
    assert len(json.loads(night[1])["events"]) == 3  # started, the stray resume, stopped


def test_second_start_restarts_the_night() -> None:
    night = feed_night(SleepAsAndroid(), [("started", 0), ("paused", 0.5), ("started", 1.5),
                                          ("stopped", 8)])[-1]  # fmt: skip
    assert night is not None
    assert (night[0].start, night[0].hours) == (NIGHT_START + timedelta(hours=1.5), 6.5)


def test_stop_without_start_gives_nothing_and_is_flagged() -> None:
    tracker = SleepAsAndroid()
    assert tracker.feed(event("stopped"), NIGHT_START) is None
    assert tracker.orphan_stop
    assert tracker.feed(event("started"), NIGHT_START) is None
    assert not tracker.orphan_stop
    assert tracker.tracking


def test_night_in_progress_survives_a_restart() -> None:
    before = SleepAsAndroid()
    feed_night(before, [("started", 0), ("paused", 2)])
    after = SleepAsAndroid.from_json(before.to_json())
    assert after.tracking
    night = feed_night(after, [("resumed", 3), ("stopped", 8)])[-1]
    assert night is not None
    assert (night[0].start, night[0].hours) == (NIGHT_START, 7.0)


def test_idle_tracker_survives_a_restart_idle() -> None:
    restored = SleepAsAndroid.from_json(SleepAsAndroid().to_json())
    assert not restored.tracking
    assert restored.feed(event("stopped"), NIGHT_START) is None
    assert restored.orphan_stop


@pytest.mark.parametrize(
    "text",
    ["", "garbage", "{}", '"ab"', "[[1, 2]]", "[null]", '[["sleep_tracking_started"]]',
     '[["sleep_tracking_started", "2026-11-19T22:30:00"]]',  # no zone
     '[["sleep_tracking_paused", "2026-11-19T22:30:00+00:00"]]',  # no start
     '[["sleep_tracking_started", "2026-11-19T22:30:00+00:00"], [["x"], "2026-11-19T23:00:00Z"]]',
     '[["sleep_tracking_started", "2026-11-19T22:30:00+00:00"],'
     ' ["deep_sleep", "2026-11-19T23:00:00Z"]]',  # not a tracking event
     "[" * 5000 + "]" * 5000],
)  # fmt: skip
def test_unreadable_saved_state_gives_a_fresh_tracker(text: str) -> None:
    tracker = SleepAsAndroid.from_json(text)
    assert not tracker.tracking
    assert tracker.feed(event("stopped"), NIGHT_START) is None


def test_night_over_20_hours_is_refused_and_the_tracker_starts_over() -> None:
    tracker = SleepAsAndroid()
    feed_night(tracker, [("started", 0)])
    reason = rejected(tracker.feed, event("stopped"), NIGHT_START + timedelta(hours=21))
    assert "sleep of 21.0 h is over the 20 h limit" in reason
    assert not tracker.tracking


def test_tracking_stopped_after_ten_minutes_is_rejected_and_the_tracker_starts_over() -> None:
    tracker = SleepAsAndroid()
    feed_night(tracker, [("started", 0)])
    reason = rejected(tracker.feed, event("stopped"), NIGHT_START + timedelta(minutes=10))
    assert reason == "sleep of 10 min is under the 15 min minimum"
    assert not tracker.tracking


def test_a_tracked_night_minus_its_pauses_must_reach_fifteen_minutes() -> None:
    steps = [("started", 0), ("paused", 0.1), ("resumed", 1), ("stopped", 1.1)]
    reason = rejected(lambda: feed_night(SleepAsAndroid(), steps))
    assert reason == "sleep of 12 min is under the 15 min minimum"


def test_stop_received_before_the_start_is_refused() -> None:
    tracker = SleepAsAndroid()
    feed_night(tracker, [("started", 0)])
    assert "after its end" in rejected(tracker.feed, event("stopped"), NIGHT_START - timedelta(1))


def test_night_tracked_while_the_clock_was_unset_is_refused() -> None:
    tracker = SleepAsAndroid()
    tracker.feed(event("started"), datetime(1970, 1, 1, 0, 0, tzinfo=UTC))
    reason = rejected(tracker.feed, event("stopped"), datetime(1970, 1, 1, 7, 0, tzinfo=UTC))
    assert "before 2000" in reason


@pytest.mark.parametrize(
    ("raw", "words"),
    [(b"sleep_tracking_started", "not valid JSON"), (b'{"event": 5}', "event must be text"),
     (b"[]", "expected a JSON object"), (b"{}", "event must be text, got null")],
)  # fmt: skip
def test_bad_sleep_as_android_message_is_refused(raw: bytes, words: str) -> None:
    assert words in rejected(SleepAsAndroid().feed, raw, NIGHT_START)


# --- pain and sync -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "level"),
    [(b"7", 7), (b"7.0", 7), (b" 3 ", 3), (b"0", 0), (b"10", 10), (b"10.00\n", 10), (b"+2", 2)],
)
def test_pain_level_from_the_number_entity(text: bytes, level: int) -> None:
    report, raw = parse_pain(text, received_at=WINTER_MORNING)
    assert (report.level, report.time) == (level, WINTER_MORNING)
    assert raw == str(level)
    assert json.loads(raw) == level


@pytest.mark.parametrize(
    ("text", "words"),
    [(b"11", "pain 11 is outside 0–10"), (b"-1", "pain -1 is outside 0–10"),
     (b"10.5", "outside 0–10"), (b"7.5", "pain 7.5 is not a whole number"),
     (b"abc", 'pain must be a number 0–10, got "abc"'), (b"", "pain must be a number"),
     (b"1e1", "pain must be a number"), (b"NaN", "pain must be a number"),
     (b"\xd9\xa7", "pain must be a number"),  # an Arabic-Indic seven: not an ASCII number
     (b"\xff", "not UTF-8 text"), (b"9" * 10_000, "is outside 0–10"),
     (b"1" * (MAX_PAYLOAD_BYTES + 1), "over the 64 KiB limit")],
)  # fmt: skip
def test_bad_pain_level_is_refused_with_a_reason(text: bytes, words: str) -> None:
    assert words in rejected(parse_pain, text, received_at=WINTER_MORNING)


@pytest.mark.parametrize(
    ("raw", "pressed"),
    [(b"PRESS", True), (b" PRESS\n", True), (b"press", False), (b"", False),
     (b"PRESSED", False), (b'"PRESS"', False)],
)  # fmt: skip
def test_sync_button_press(raw: bytes, pressed: bool) -> None:
    assert is_press(raw) is pressed


# --- properties: any bytes give a valid value or a reason --------------------------------

RECEIVED = WINTER_MORNING
STOPPED = json.dumps({"event": "sleep_tracking_stopped"}).encode()
EVENTS = ["sleep_tracking_started", "sleep_tracking_paused", "sleep_tracking_resumed",
          "sleep_tracking_stopped", "alarm_alert_start", "deep_sleep"]  # fmt: skip

times = st.datetimes(
    min_value=datetime(1960, 1, 1),  # noqa: DTZ001 (hypothesis takes naive bounds)
    max_value=datetime(2030, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from([None, UTC, TZ, timezone(timedelta(hours=-5))]),
)
near_times = st.datetimes(
    min_value=datetime(2026, 11, 18),  # noqa: DTZ001
    max_value=datetime(2026, 11, 21),  # noqa: DTZ001
    timezones=st.sampled_from([None, UTC, TZ]),
)
values = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.integers(min_value=10**400),
    st.floats(), st.floats(min_value=0, max_value=400), st.text(max_size=8),
    st.sampled_from(["kg", "lb", "lbs", "jin", "stone"]),
    times.map(lambda d: d.isoformat()), near_times.map(lambda d: d.isoformat()),
    st.integers(0, 2_000_000_000_000), st.lists(st.integers(), max_size=2),
)  # fmt: skip


SCALE_KEYS = ["weight", "unit", "weight_unit", "water", "timestamp", "date", "dateTime"]
SLEEP_KEYS = ["start", "end", "duration_hours", "hrv_ms", "resting_hr"]
near_text = near_times.map(lambda d: d.isoformat())
units = st.sampled_from(["kg", "lb", "lbs", "jin", "stone"])
scale_objects = st.fixed_dictionaries(
    {"weight": st.floats(min_value=5, max_value=800)},
    optional={"unit": units, "weight_unit": units, "water": st.floats(min_value=-5, max_value=110),
              "timestamp": near_text,
              "date": st.integers(946_684_800_000, 1_800_000_000_000) | near_text},
)  # fmt: skip
night_text = st.datetimes(
    min_value=datetime(2026, 11, 19, 12),  # noqa: DTZ001
    max_value=datetime(2026, 11, 20, 8),  # noqa: DTZ001
    timezones=st.sampled_from([None, UTC, TZ]),
).map(lambda d: d.isoformat())
sleep_extras = {
    "hrv_ms": st.floats(min_value=-1, max_value=200),
    "resting_hr": st.floats(min_value=0, max_value=200),
}
hours = st.floats(min_value=-1, max_value=25)
sleep_objects = st.one_of(
    st.fixed_dictionaries({"start": night_text, "end": night_text}, optional=sleep_extras),
    st.fixed_dictionaries({"end": night_text, "duration_hours": hours},
                          optional={"start": night_text, **sleep_extras}),
)  # fmt: skip


def json_bytes(
    shaped: st.SearchStrategy[dict[str, Any]], keys: list[str]
) -> st.SearchStrategy[bytes]:
    """Payloads of the documented shape near its limits, or its keys with odd values."""
    odd = st.dictionaries(st.sampled_from(keys) | st.text(max_size=4), values, max_size=6)
    return st.one_of(shaped, odd).map(lambda v: json.dumps(v).encode())


def check_scale(result: tuple[BodyMeasurement, str] | None, raw: bytes) -> None:
    if result is None:
        return
    m, text = result
    assert MIN_WEIGHT_KG <= m.weight_kg <= MAX_WEIGHT_KG
    assert m.water_pct is None or 0 <= m.water_pct <= 100
    assert m.time.utcoffset() == timedelta(0)
    assert EARLIEST <= m.time <= RECEIVED + FUTURE_TOLERANCE
    assert text == raw.decode()
    assert json_valid(text)


def check_sleep(session: SleepSession, raw: str, received_at: datetime = RECEIVED) -> None:
    assert MIN_SLEEP_SESSION_MIN / 60 <= session.hours <= MAX_SLEEP_HOURS
    assert EARLIEST <= session.end <= received_at + FUTURE_TOLERANCE
    assert session.start is None or EARLIEST <= session.start <= session.end
    assert json_valid(raw)


def each_parser(raw: bytes) -> None:
    """Every parser on one payload: a valid value or InputRejected, nothing else."""
    for preset in PRESETS:
        for retained in (False, True):
            with contextlib.suppress(InputRejected):
                check_scale(parse_scale(preset, raw, received_at=RECEIVED, retained=retained,
                                        tz=TZ), raw)  # fmt: skip
    with contextlib.suppress(InputRejected):
        check_sleep(*parse_sleep(raw, received_at=RECEIVED, tz=TZ))
    try:
        report, text = parse_pain(raw, received_at=RECEIVED)
        assert 0 <= report.level <= 10
        assert json.loads(text) == report.level
    except InputRejected:
        pass
    assert is_press(raw) in (True, False)


@given(st.binary(max_size=300))
def test_any_bytes_give_a_valid_value_or_a_reason(raw: bytes) -> None:
    each_parser(raw)


@given(json_bytes(scale_objects, SCALE_KEYS))
def test_any_scale_like_json_gives_a_valid_weigh_in_or_a_reason(raw: bytes) -> None:
    each_parser(raw)


@given(json_bytes(sleep_objects, SLEEP_KEYS))
def test_any_sleep_like_json_gives_a_valid_night_or_a_reason(raw: bytes) -> None:
    each_parser(raw)


SAA_MESSAGES = [json.dumps({"event": e}).encode() for e in EVENTS]
SAA_JUNK = [
    b"",
    b"null",
    b'{"event": 5}',
    b"\xff",
    b'{"event": "alarm_alert_start", "value1": "1"}',
]


def outcome(tracker: SleepAsAndroid, raw: bytes, now: datetime) -> object:
    """What feeding one message gives: a night, None, or the reason it was refused."""
    try:
        return tracker.feed(raw, now)
    except InputRejected as exc:
        return str(exc)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(SAA_MESSAGES[:4] * 3 + SAA_MESSAGES + SAA_JUNK),
            st.sampled_from([0.25, 1, 3.5, 7, 12, -1]) | st.floats(min_value=-3, max_value=12),
        ),
        max_size=12,
    )
)
def test_any_event_sequence_gives_valid_nights_or_reasons_restart_or_not(
    steps: list[tuple[bytes, float]],
) -> None:
    steady, restarted, now = SleepAsAndroid(), SleepAsAndroid(), NIGHT_START
    for raw, gap_hours in steps:
        now += timedelta(hours=gap_hours)
        restarted = SleepAsAndroid.from_json(restarted.to_json())  # a restart before each one
        result = outcome(steady, raw, now)
        assert outcome(restarted, raw, now) == result
        assert restarted.tracking == steady.tracking
        if isinstance(result, str) and raw == STOPPED:
            assert not steady.tracking  # a refused night does not linger
        if isinstance(result, tuple):
            session, text = result
            check_sleep(session, text, received_at=now)
            assert (session.end, session.source) == (now, "sleep_as_android")
            assert session.start is not None
            assert session.hours <= (session.end - session.start) / timedelta(hours=1)
