"""Home Assistant entities as inputs (`ha_statestream`): what mqtt_statestream publishes, paired
into readings, and the readings as weigh-ins, nights, HRV and resting heart rates."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restday.config import Config, ConfigError, load_config
from restday.integrations.devices import InputRejected
from restday.integrations.ha_readings import (
    parse_ha_hrv,
    parse_ha_resting_hr,
    parse_ha_scale,
    parse_ha_sleep,
)
from restday.integrations.ha_statestream import (
    HRV,
    LAST_CHANGED,
    NEAR_NIGHT,
    PAIRING_WINDOW,
    RESTING_HR,
    STATE,
    UNIT,
    Extra,
    Night,
    Pairing,
    Reading,
    entity_id,
    json_text,
    subtopics,
    with_extras,
)
from restday.integrations.mqtt.topics import Topics
from restday.models import Hours, SleepSession
from tests.factories import TZ

WEIGHT = "homeassistant_statestream/sensor/anna_weight"
OTHER = "homeassistant_statestream/sensor/anna_sleep_duration"
# What Home Assistant publishes for a weigh-in (recorded): the state as text, then the
# timestamps (ISO 8601; quoted by some releases, plain by today's), then the attributes,
# JSON-encoded.
RECORDED_STATE = "61.2"
RECORDED_UNIT = '"kg"'
RECORDED_LAST_CHANGED = '"2026-11-20T06:12:03.123456+00:00"'
WEIGHED_AT = datetime(2026, 11, 20, 6, 12, 3, 123456, tzinfo=UTC)
T0 = datetime(2026, 11, 20, 6, 12, 4, tzinfo=UTC)  # when restday received the state
MS = timedelta(milliseconds=1)


def as_published(
    pairing: Pairing,
    entity: str = WEIGHT,
    state: str = RECORDED_STATE,
    unit: str = RECORDED_UNIT,
    changed: str = RECORDED_LAST_CHANGED,
    *,
    at: datetime = T0,
    retained: bool = False,
) -> list[Reading]:
    """The three messages in Home Assistant's order, milliseconds apart; what they complete."""
    fed = [
        pairing.feed(entity, STATE, state, at, retained),
        pairing.feed(entity, LAST_CHANGED, changed, at + MS, retained),
        pairing.feed(entity, UNIT, unit, at + 2 * MS, retained),
    ]
    return [r for r in fed if r is not None]


def reading(
    state: str, unit: str | None = "kg", changed: str | None = None, **kw: object
) -> Reading:
    """A reading as the pairing makes it, for the parsers."""
    pairing = Pairing([WEIGHT])
    retained = bool(kw.get("retained", False))
    if unit is not None:
        pairing.feed(WEIGHT, UNIT, json.dumps(unit), T0 - timedelta(hours=1), retained)
    pairing.feed(WEIGHT, STATE, state, T0, retained)
    if changed is not None:
        pairing.feed(WEIGHT, LAST_CHANGED, changed, T0 + MS, retained)
    done = pairing.due(T0 + PAIRING_WINDOW + MS)
    assert done is not None
    return done


def reason(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    """Why `call` refuses its reading; one short line."""
    with pytest.raises(InputRejected) as info:
        call(*args, **kwargs)
    text = str(info.value)
    assert "\n" not in text
    assert len(text) <= 160
    return text


# --- the recorded messages ----------------------------------------------------------------


def test_the_recorded_messages_give_61_2_kg_at_last_changed() -> None:
    [paired] = as_published(Pairing([WEIGHT]))
    assert (paired.value, paired.unit) == ("61.2", "kg")
    parsed = parse_ha_scale(paired, tz=TZ)
    assert parsed is not None
    weigh_in, raw = parsed
    assert (weigh_in.weight_kg, weigh_in.time, weigh_in.source) == (
        61.2,
        WEIGHED_AT,
        "ha_statestream",
    )
    assert json.loads(raw) == {
        "entity": "sensor.anna_weight",
        "state": "61.2",
        "unit_of_measurement": "kg",
        "last_changed": "2026-11-20T06:12:03.123456+00:00",
    }


def test_last_changed_is_read_quoted_or_plain() -> None:
    plain = as_published(Pairing([WEIGHT]), changed="2026-11-20T06:12:03.123456+00:00")
    quoted = as_published(Pairing([WEIGHT]))
    times = [parse_ha_scale(r, tz=TZ) for r in (*plain, *quoted)]
    assert [t[0].time for t in times if t is not None] == [WEIGHED_AT, WEIGHED_AT]


def test_the_pairing_completes_on_the_last_companion_whatever_their_order() -> None:
    pairing = Pairing([WEIGHT])
    assert pairing.feed(WEIGHT, STATE, "61.2", T0, False) is None
    assert pairing.feed(WEIGHT, UNIT, '"kg"', T0 + MS, False) is None
    assert pairing.waiting
    done = pairing.feed(WEIGHT, LAST_CHANGED, RECORDED_LAST_CHANGED, T0 + 2 * MS, False)
    assert done is not None
    assert done.last_changed == "2026-11-20T06:12:03.123456+00:00"
    assert not pairing.waiting


# --- units --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "unit", "kg"),
    [("134.9", "lb", 61.19), ("134.9", "lbs", 61.19), ("61200", "g", 61.2), ("9.5", "st", 60.33)],
)
def test_the_unit_comes_from_the_entity(state: str, unit: str, kg: float) -> None:
    [paired] = as_published(Pairing([WEIGHT]), state=state, unit=json.dumps(unit))
    parsed = parse_ha_scale(paired, tz=TZ)
    assert parsed is not None
    assert round(parsed[0].weight_kg, 2) == kg


def test_a_unit_home_assistant_can_send_that_restday_does_not_know_is_rejected_by_name() -> None:
    [body_fat] = as_published(Pairing([WEIGHT]), state="21.4", unit='"%"')
    why = reason(parse_ha_scale, body_fat, tz=TZ)
    assert 'unit "%" of sensor.anna_weight is not a weight unit' in why
    [bmi] = as_published(Pairing([WEIGHT]), state="21.4", unit=json.dumps("kg/m²"))
    assert "kg/m" in reason(parse_ha_scale, bmi, tz=TZ)


def test_a_weight_without_any_unit_is_rejected_saying_what_to_turn_on() -> None:
    why = reason(parse_ha_scale, reading("61.2", unit=None, changed=RECORDED_LAST_CHANGED), tz=TZ)
    assert "publish_attributes: true" in why


def test_a_weight_in_pounds_outside_the_bounds_shows_both_units() -> None:
    why = reason(parse_ha_scale, reading("700", unit="lb", changed=RECORDED_LAST_CHANGED), tz=TZ)
    assert "700.0 lb = 317.51 kg is outside 20–300 kg" in why


# --- states that are not readings, and bad ones -------------------------------------------


@pytest.mark.parametrize("state", ["heavy", "61,2", "nan", "inf", "1e999", "0x3d"])
def test_a_state_that_is_not_a_number_is_rejected_naming_it(state: str) -> None:
    [paired] = as_published(Pairing([WEIGHT]), state=state)
    why = reason(parse_ha_scale, paired, tz=TZ)
    assert "of sensor.anna_weight is not a number" in why


@pytest.mark.parametrize("state", ["unavailable", "unknown", ""])
def test_unavailable_and_unknown_are_not_readings(state: str) -> None:
    pairing = Pairing([WEIGHT])
    assert as_published(pairing, state=state) == []
    assert not pairing.waiting
    assert pairing.due(T0 + timedelta(minutes=1)) is None


def test_a_value_back_from_unavailable_unchanged_is_the_same_reading_not_a_new_one() -> None:
    pairing = Pairing([WEIGHT])
    [first] = as_published(pairing)
    assert not first.repeat
    later = T0 + timedelta(hours=2)
    assert as_published(pairing, state="unavailable", at=later) == []
    [back] = as_published(pairing, changed='"2026-11-20T08:12:05+00:00"', at=later + MS * 10)
    assert back.repeat  # Home Assistant restarted: the same 61.2 with a new last_changed
    [changed] = as_published(pairing, state="60.9", at=later + timedelta(days=1))
    assert not changed.repeat


# --- the 2 s window -----------------------------------------------------------------------


def test_a_state_without_companions_within_2_s_takes_the_last_retained_unit_and_no_time() -> None:
    pairing = Pairing([WEIGHT, OTHER])
    pairing.feed(WEIGHT, UNIT, '"lb"', T0 - timedelta(days=3), True)  # the broker's replay
    pairing.feed(WEIGHT, STATE, "134.9", T0, False)
    assert pairing.due(T0 + PAIRING_WINDOW) is None  # 2 s are not over yet
    done = pairing.due(T0 + PAIRING_WINDOW + MS)
    assert done is not None
    assert (done.value, done.unit, done.last_changed) == ("134.9", "lb", None)
    parsed = parse_ha_scale(done, tz=TZ)
    assert parsed is not None
    assert parsed[0].time == T0  # the time received
    assert round(parsed[0].weight_kg, 2) == 61.19


def test_a_companion_later_than_2_s_belongs_to_no_state() -> None:
    pairing = Pairing([WEIGHT])
    pairing.feed(WEIGHT, UNIT, '"kg"', T0 - timedelta(days=1), True)
    pairing.feed(WEIGHT, STATE, "61.2", T0, False)
    late = pairing.feed(
        WEIGHT, LAST_CHANGED, RECORDED_LAST_CHANGED, T0 + timedelta(seconds=3), False
    )
    assert late is not None  # the state, read as it was 2 s after it came
    assert (late.unit, late.last_changed) == ("kg", None)
    assert not pairing.waiting


def test_a_live_state_does_not_take_the_companions_of_the_reading_before() -> None:
    pairing = Pairing([WEIGHT])
    as_published(pairing)
    pairing.feed(WEIGHT, STATE, "60.8", T0 + timedelta(days=1), False)
    assert pairing.waiting  # it waits for its own last_changed and unit


def test_a_newer_state_before_the_companions_reads_the_older_one_as_it_is() -> None:
    pairing = Pairing([WEIGHT])
    pairing.feed(WEIGHT, UNIT, '"kg"', T0 - timedelta(days=1), True)
    pairing.feed(WEIGHT, STATE, "61.2", T0, False)
    older = pairing.feed(WEIGHT, STATE, "61.4", T0 + MS, False)
    assert older is not None
    assert (older.value, older.last_changed) == ("61.2", None)
    assert pairing.waiting  # 61.4 waits for its own


def test_another_entity_s_message_or_a_tick_reads_what_waited_too_long() -> None:
    pairing = Pairing([WEIGHT, OTHER])
    pairing.feed(WEIGHT, STATE, "61.2", T0, False)
    later = T0 + timedelta(seconds=5)
    assert pairing.feed(OTHER, STATE, "7.5", later, False) is None
    assert [r.entity for r in pairing.due_all(later)] == [WEIGHT]  # OTHER's is still young
    assert pairing.waiting


# --- retained replays ---------------------------------------------------------------------


def test_a_retained_replay_pairs_to_the_same_last_changed_as_the_reading() -> None:
    live = as_published(Pairing([WEIGHT]))
    replay = as_published(Pairing([WEIGHT]), at=T0 + timedelta(days=2), retained=True)
    assert [r.last_changed for r in replay] == [r.last_changed for r in live]
    assert [r.retained for r in replay] == [True]


def test_a_retained_state_takes_the_retained_companions_replayed_just_before_it() -> None:
    pairing = Pairing([WEIGHT])
    at = T0 + timedelta(days=2)
    pairing.feed(WEIGHT, LAST_CHANGED, RECORDED_LAST_CHANGED, at, True)
    pairing.feed(WEIGHT, UNIT, RECORDED_UNIT, at + MS, True)
    done = pairing.feed(WEIGHT, STATE, RECORDED_STATE, at + 2 * MS, True)
    assert done is not None
    assert (done.unit, done.last_changed) == ("kg", "2026-11-20T06:12:03.123456+00:00")


def test_a_retained_state_without_its_last_changed_is_ignored_its_age_unknown() -> None:
    pairing = Pairing([WEIGHT])
    pairing.feed(WEIGHT, UNIT, RECORDED_UNIT, T0, True)
    pairing.feed(WEIGHT, STATE, RECORDED_STATE, T0 + MS, True)
    done = pairing.due(T0 + timedelta(seconds=3))
    assert done is not None
    assert parse_ha_scale(done, tz=TZ) is None


def test_what_was_paired_is_undone_with_a_snapshot() -> None:
    pairing = Pairing([WEIGHT])
    saved = pairing.snapshot()
    pairing.feed(WEIGHT, STATE, RECORDED_STATE, T0, False)
    pairing.restore(saved)
    assert not pairing.waiting
    assert pairing.feed(WEIGHT, UNIT, RECORDED_UNIT, T0 + MS, False) is None


# --- nights, HRV and resting heart rate ---------------------------------------------------

NIGHT_END = "2026-11-20T05:40:00+00:00"


@pytest.mark.parametrize(("state", "unit"), [("7.5", "h"), ("450", "min"), ("27000", "s")])
def test_a_sleep_duration_is_the_night_ending_at_last_changed(state: str, unit: str) -> None:
    parsed = parse_ha_sleep(reading(state, unit=unit, changed=NIGHT_END), tz=TZ)
    assert parsed is not None
    night, _ = parsed
    assert (night.hours, night.end, night.start) == (7.5, datetime.fromisoformat(NIGHT_END), None)


@pytest.mark.parametrize(
    ("state", "unit", "words"),
    [("21", "h", "over the 20 h limit"), ("10", "min", "under the 15 min"), ("7", "w", '"w"')],
)
def test_a_night_out_of_bounds_or_in_weeks_is_rejected(state: str, unit: str, words: str) -> None:
    assert words in reason(parse_ha_sleep, reading(state, unit=unit, changed=NIGHT_END), tz=TZ)


def test_hrv_and_resting_hr_are_bounded_and_default_to_ms_and_bpm() -> None:
    assert parse_ha_hrv(reading("48", unit=None, changed=NIGHT_END), tz=TZ) == (
        48.0,
        datetime.fromisoformat(NIGHT_END),
    )
    hrv_in_s = parse_ha_hrv(reading("0.052", unit="s", changed=NIGHT_END), tz=TZ)
    assert hrv_in_s is not None
    assert round(hrv_in_s[0], 6) == 52.0
    assert "outside 5–300 ms" in reason(parse_ha_hrv, reading("400", "ms", NIGHT_END), tz=TZ)
    rhr = parse_ha_resting_hr(reading("47", unit="bpm", changed=NIGHT_END), tz=TZ)
    assert rhr is not None
    assert rhr[0] == 47.0
    assert "outside 25–150 bpm" in reason(
        parse_ha_resting_hr, reading("9", "bpm", NIGHT_END), tz=TZ
    )
    assert '"kg"' in reason(parse_ha_resting_hr, reading("47", "kg", NIGHT_END), tz=TZ)


def extra(value: float, hours_from_end: float, received_minutes: float = 0) -> Extra:
    end = datetime.fromisoformat(NIGHT_END)
    at = T0 + timedelta(minutes=received_minutes)
    return Extra(value, end + timedelta(hours=hours_from_end), at, {"state": str(value)})


def test_a_night_takes_the_hrv_and_resting_hr_near_it_and_keeps_them_in_its_raw() -> None:
    session = SleepSession(end=datetime.fromisoformat(NIGHT_END), hours=Hours(7.5))
    night = Night(session, '{"state": "7.5"}', T0)
    near = with_extras(night, {HRV: extra(48, 0.0), RESTING_HR: extra(47, 1.5)})
    assert (near[0].hrv_ms, near[0].resting_hr) == (48, 47)
    assert json.loads(near[1]) == {
        "night": {"state": "7.5"},
        "hrv": {"state": "48"},
        "resting_hr": {"state": "47"},
    }
    far = with_extras(night, {HRV: extra(48, -24.0), RESTING_HR: extra(47, 3.01)})
    assert far == (session, '{"state": "7.5"}')  # yesterday's, and one past NEAR_NIGHT
    assert abs(extra(47, 3.01).time - session.end) > NEAR_NIGHT


def test_what_was_received_last_wins_between_a_night_s_own_hrv_and_an_entity_s() -> None:
    own = SleepSession(end=datetime.fromisoformat(NIGHT_END), hours=Hours(7.5), hrv_ms=60.0)
    night = Night(own, '{"end": "…", "duration_hours": 7.5, "hrv_ms": 60}', T0)
    assert with_extras(night, {HRV: extra(48, 0.0, received_minutes=-5)})[0].hrv_ms == 60.0
    assert with_extras(night, {HRV: extra(48, 0.0, received_minutes=5)})[0].hrv_ms == 48.0


# --- topics and config --------------------------------------------------------------------


def test_helpers_name_entities_and_decode_attributes() -> None:
    assert entity_id(WEIGHT) == "sensor.anna_weight"
    assert subtopics("a/sensor/x") == (
        "a/sensor/x/state",
        "a/sensor/x/last_changed",
        "a/sensor/x/unit_of_measurement",
    )
    assert [json_text(t) for t in ('"kg"', "kg", "null", "", '"µg"', "3")] == [
        "kg", "kg", None, None, "µg", "3",
    ]  # fmt: skip


def config_of(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "restday.toml"
    path.write_text('[athlete]\nid = "anna"\ntimezone = "Europe/Berlin"\n' + text)
    return load_config(path, explicit=True)


def test_restday_subscribes_to_each_entity_s_three_topics_a_night_s_hrv_and_hr_first(
    tmp_path: Path,
) -> None:
    config = config_of(
        tmp_path,
        f'[[scale]]\ntopic = "{WEIGHT}"\npreset = "ha_statestream"\n'
        f'[[sleep]]\ntopic = "{OTHER}"\npreset = "ha_statestream"\n'
        'hrv_topic = "hass/sensor/anna_hrv"\nresting_hr_topic = "hass/sensor/anna_rhr"\n'
        '[[sleep]]\ntopic = "SleepAsAndroid/phone"\npreset = "sleep_as_android"\n'
        'hrv_topic = "hass/sensor/ben_hrv"\n',
    )
    topics = Topics.of(config)
    inputs = [t for t in topics.subscriptions if t.startswith(("homeassistant_", "hass", "Sleep"))]
    assert inputs == [
        *subtopics(WEIGHT),
        *subtopics("hass/sensor/anna_hrv"),
        *subtopics("hass/sensor/anna_rhr"),
        *subtopics(OTHER),
        *subtopics("hass/sensor/ben_hrv"),
        "SleepAsAndroid/phone",
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            f'[[scale]]\ntopic = "{WEIGHT}/state"\npreset = "ha_statestream"\n',
            "scale[0].topic: must be the entity's base topic, without /state",
        ),
        (
            '[[scale]]\ntopic = "sensor/anna_weight"\npreset = "ha_statestream"\n',
            "scale[0].topic: must be a Home Assistant entity's topic <base_topic>/<domain>/",
        ),
        (
            f'[[sleep]]\ntopic = "{OTHER}"\npreset = "ha_statestream"\nhrv_topic = "{OTHER}"\n',
            "sleep[0].hrv_topic: must not be the same topic as topic",
        ),
        (
            '[[sleep]]\ntopic = "sleep/anna"\nresting_hr_topic = "h/sensor/r/last_changed"\n',
            "sleep[0].resting_hr_topic: must be the entity's base topic, without /last_changed",
        ),
    ],
)
def test_entity_topics_are_base_topics_named_once(tmp_path: Path, text: str, error: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_of(tmp_path, text)
    assert any(e.startswith(error) for e in caught.value.errors), caught.value.errors
