"""Home Assistant discovery: every entity a runner sees, and templates that work on real payloads.

Templates are rendered with Jinja's immutable sandbox (what Home Assistant's template engine
is built on) against the JSON that restday actually publishes, parsed like Home Assistant's
`value_json`. Undefined names fail loudly here, where Home Assistant would only log them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

import restday
from restday.config import Config
from restday.integrations.homeassistant import (
    discovery_message,
    discovery_payload,
    discovery_topic,
    removal_message,
    shoe_key,
    shoe_template,
)
from restday.models import GearId, History, ShoeMetric, Status
from restday.rules.families import family_of
from tests.factories import DAY, evaluate_on, night, pain, shoe, steady_runs, weigh

CONFIG = Config(
    athlete={"id": "me", "name": "Me"},
    mqtt={"base_topic": "restday", "discovery_prefix": "homeassistant"},
)
PEGASUS = ShoeMetric(id=GearId("g123"), name="Pegasus 40", km=812.4)
VAPORFLY = ShoeMetric(id=GearId("g456"), name="Vaporfly", km=150.0)
MAX_DISCOVERY_BYTES = 20 * 1024
MANY_SHOES = 10
# Home Assistant's valid_entity_id: no leading, trailing or double underscores
ENTITY_ID = re.compile(r"(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)")
DIAGNOSTICS: dict[str, object] = {
    "version": "0.1.0",
    "uptime_s": 5120,
    "inputs": {
        "scale": {"stored": 412, "duplicates": 30, "rejected": 2},
        "sleep": {"stored": 96, "duplicates": 0, "rejected": 0},
        "pain": {"stored": 7, "duplicates": 0, "rejected": 1},
    },
    "activities": 1310,
    "strava": {
        "auth": "required",
        "last_sync": "2026-11-22T06:15:00+01:00",
        "last_error": "rate limited until 10:45",
        "calls_today": 41,
    },
    "mqtt": {"reconnects": 1},
    "store": {"ok": True, "error": None, "held": 0},
}

# key, platform, the topic it reads (state_topic) or None
ENTITIES = [
    ("rest_day_recommended", "binary_sensor", "restday/me/state"),
    ("readiness", "sensor", "restday/me/state"),
    ("status", "sensor", "restday/me/state"),
    ("acwr", "sensor", "restday/me/state"),
    ("week_km", "sensor", "restday/me/state"),
    ("last_sleep_h", "sensor", "restday/me/state"),
    ("days_since_rest", "sensor", "restday/me/state"),
    ("sleep_debt", "sensor", "restday/me/state"),
    ("weight", "sensor", "restday/me/state"),
    ("today_load", "sensor", "restday/me/state"),
    ("notification", "event", "restday/me/notification"),
    ("pain", "number", "restday/me/pain"),
    ("sync", "button", None),
    ("rejected_inputs", "sensor", "restday/me/diagnostics"),
    ("store_problem", "binary_sensor", "restday/me/diagnostics"),
    ("strava_auth", "sensor", "restday/me/diagnostics"),
    ("last_sync", "sensor", "restday/me/diagnostics"),
]
DIAGNOSTIC_KEYS = ("rejected_inputs", "store_problem", "strava_auth", "last_sync")

# Home Assistant's rules for a sensor's device class, unit and state class, as its sensor
# platform checks them (homeassistant/components/sensor/const.py: DEVICE_CLASS_UNITS and
# DEVICE_CLASS_STATE_CLASSES; the device class table of
# https://developers.home-assistant.io/docs/core/entity/sensor). A unit or state class not
# listed for the device class makes Home Assistant log a warning for the entity (and, for
# the state class, keep no statistics). Only the device classes restday uses are copied.
HA_DEVICE_CLASS_UNITS: dict[str, set[str]] = {
    "distance": {"mm", "cm", "m", "km", "in", "ft", "yd", "mi"},  # UnitOfLength
    "duration": {"d", "h", "min", "s", "ms"},
    "weight": {"µg", "mg", "g", "kg", "oz", "lb", "st"},  # UnitOfMass
}
HA_STATE_CLASSES = {"measurement", "total", "total_increasing"}
HA_DEVICE_CLASS_STATE_CLASSES: dict[str, set[str]] = {
    "distance": HA_STATE_CLASSES,
    "duration": HA_STATE_CLASSES,
    "weight": HA_STATE_CLASSES,
    "enum": set(),  # text states: no statistics
    "timestamp": set(),
}


def components(
    shoes: list[ShoeMetric] | None = None, removed: tuple[str, ...] = ()
) -> dict[str, dict[str, object]]:
    payload = discovery_payload(
        CONFIG, [PEGASUS] if shoes is None else shoes, removed_shoes=removed
    )
    return cast(dict[str, dict[str, object]], payload["components"])


def component(key: str, shoes: list[ShoeMetric] | None = None) -> dict[str, object]:
    return components(shoes)[f"restday_me_{key}"]


def render(template: object, payload: object) -> str:
    """Render like Home Assistant: `value` is the raw text, `value_json` its parsed JSON."""
    text = json.dumps(payload)
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    return env.from_string(str(template)).render(value=text, value_json=json.loads(text))


def state_of(history: History) -> dict[str, object]:
    """The state payload as it travels: the recommendation's JSON, parsed back."""
    return cast(dict[str, object], json.loads(json.dumps(evaluate_on(history).to_payload())))


def overreached() -> History:
    """A steady base, a 4.5 h night and pain 6/10 today: a rest day, with shoes on record."""
    return History.of(
        activities=steady_runs(DAY, 8),
        sleeps=[night(DAY, 4.5)],
        pains=[pain(DAY, 6)],
        gear=[shoe("Pegasus 40", 812.4, id="g123"), shoe("Vaporfly", 150.0, id="g456")],
    )


def all_keys(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_keys(item)


def test_the_discovery_topic_is_the_device_topic_of_this_athlete() -> None:
    config = Config(athlete={"id": "anna"}, mqtt={"discovery_prefix": "ha"})
    assert discovery_topic(config) == "ha/device/restday_anna/config"
    assert discovery_message(config, [])[0] == "ha/device/restday_anna/config"


@pytest.mark.parametrize(("key", "platform", "state_topic"), ENTITIES)
def test_every_entity_a_runner_sees_is_announced_with_stable_ids(
    key: str, platform: str, state_topic: str | None
) -> None:
    found = component(key)
    assert found["platform"] == platform
    assert found["unique_id"] == f"restday_me_{key}"
    assert found["default_entity_id"] == f"{platform}.restday_me_{key}"
    assert isinstance(found["name"], str)
    assert found["name"]
    assert found.get("state_topic") == state_topic


def test_the_rest_day_switch_gets_the_entity_id_automations_rely_on() -> None:
    found = component("rest_day_recommended")
    assert found["default_entity_id"] == "binary_sensor.restday_me_rest_day_recommended"


def test_every_entity_subscribes_and_commands_at_qos_1_not_only_the_device() -> None:
    # Home Assistant passes only availability and topics down from the device level: without
    # `qos` on each component, the pain slider and the sync button would be sent at QoS 0.
    components = cast(
        dict[str, dict[str, object]], discovery_payload(CONFIG, [PEGASUS])["components"]
    )
    assert components
    assert {key: c.get("qos") for key, c in components.items()} == dict.fromkeys(components, 1)


def test_no_component_uses_the_deprecated_object_id() -> None:
    payload = discovery_payload(CONFIG, [PEGASUS, VAPORFLY], removed_shoes=["g9"])
    keys = set(all_keys(payload))
    assert "object_id" not in keys
    assert "obj_id" not in keys
    assert "default_entity_id" in keys


def test_entity_ids_are_unique_and_valid_for_home_assistant() -> None:
    found = components([PEGASUS, VAPORFLY])
    entity_ids = [str(c["default_entity_id"]) for c in found.values()]
    assert len(set(entity_ids)) == len(entity_ids)
    assert all(ENTITY_ID.fullmatch(entity_id) for entity_id in entity_ids)
    assert all(c["unique_id"] == key for key, c in found.items())


def test_the_device_names_the_athlete_and_goes_unavailable_with_restday() -> None:
    payload = discovery_payload(Config(athlete={"id": "anna", "name": "Anna"}), [])
    assert payload["device"] == {
        "identifiers": ["restday_anna"],
        "name": "restday (Anna)",
        "manufacturer": "restday",
        "model": "Recovery coach for runners",
        "sw_version": restday.__version__,
    }
    origin = cast(dict[str, object], payload["origin"])
    assert origin["name"] == "restday"
    assert origin["sw_version"] == restday.__version__
    assert payload["availability_topic"] == "restday/status"
    assert (payload["payload_available"], payload["payload_not_available"]) == ("online", "offline")


def test_each_shoe_gets_a_distance_sensor_whose_id_survives_a_rename() -> None:
    found = components([PEGASUS, VAPORFLY])
    pegasus = found["restday_me_shoe_g123"]
    assert pegasus["default_entity_id"] == "sensor.restday_me_shoe_g123"
    assert (pegasus["device_class"], pegasus["unit_of_measurement"]) == ("distance", "km")
    assert pegasus["name"] == "Shoe Pegasus 40"
    assert "restday_me_shoe_g456" in found
    renamed = components([ShoeMetric(id=GearId("g123"), name="Old faithful", km=900.0)])
    assert renamed["restday_me_shoe_g123"]["unique_id"] == pegasus["unique_id"]


def test_a_retired_shoe_is_removed_by_its_platform_alone() -> None:
    found = components([VAPORFLY], removed=("g123",))
    assert found["restday_me_shoe_g123"] == {"platform": "sensor"}
    assert found["restday_me_shoe_g456"]["platform"] == "sensor"
    assert "unique_id" in found["restday_me_shoe_g456"]


def test_a_shoe_still_in_use_is_never_removed() -> None:
    found = components([PEGASUS], removed=("g123",))
    assert found["restday_me_shoe_g123"]["unique_id"] == "restday_me_shoe_g123"


def test_the_state_templates_read_a_real_rest_day() -> None:
    state = state_of(overreached())
    metrics = cast(dict[str, object], state["metrics"])
    assert state["status"] == "rest"
    assert render(component("rest_day_recommended")["value_template"], state) == "ON"
    assert render(component("readiness")["value_template"], state) == str(state["readiness"])
    assert render(component("status")["value_template"], state) == "rest"
    for key in ("acwr", "week_km", "last_sleep_h", "days_since_rest"):
        assert render(component(key)["value_template"], state) == str(metrics[key])
    assert render(component("last_sleep_h")["value_template"], state) == "4.5"


def test_a_training_day_turns_the_rest_day_switch_off() -> None:
    state = state_of(History.of(activities=steady_runs(DAY, 8)))
    assert state["status"] == "train"
    assert render(component("rest_day_recommended")["value_template"], state) == "OFF"


def test_the_reasons_reach_home_assistant_as_attributes() -> None:
    state = state_of(overreached())
    found = component("rest_day_recommended")
    assert found["json_attributes_topic"] == "restday/me/state"
    attributes = json.loads(render(found["json_attributes_template"], state))
    assert attributes["reasons"] == state["reasons"]
    assert {r["rule"] for r in attributes["reasons"]} >= {"pain", "sleep_short"}
    for reason in attributes["reasons"]:  # each with its family, the v1 keys all kept
        assert reason["family"] == family_of(reason["rule"]) != ""
        assert {"rule", "severity", "message", "value", "threshold", "unit", "citation"} <= set(
            reason
        )
    assert (attributes["status"], attributes["readiness"]) == ("rest", state["readiness"])


def test_missing_numbers_render_as_none_which_home_assistant_shows_as_unknown() -> None:
    state = state_of(History())
    for key in ("acwr", "last_sleep_h", "sleep_debt", "weight"):
        assert render(component(key)["value_template"], state) == "None", key


def test_sleep_debt_weight_and_todays_load_read_the_metrics() -> None:
    short_nights = History.of(
        activities=overreached().activities,
        sleeps=[night(DAY - timedelta(days=i), 6.0) for i in range(14)],
        body=[weigh(DAY, 70.14)],
    )
    state = state_of(short_nights)
    metrics = cast(dict[str, object], state["metrics"])
    assert isinstance(metrics["sleep_debt_h"], float)
    assert render(component("sleep_debt")["value_template"], state) == str(metrics["sleep_debt_h"])
    assert render(component("weight")["value_template"], state) == "70.1"
    assert metrics["today_load"]  # a run on the evaluated day
    assert render(component("today_load")["value_template"], state) == str(metrics["today_load"])
    debt = json.loads(render(component("sleep_debt")["json_attributes_template"], state))
    assert debt == {
        "sleep_need_h": metrics["sleep_need_h"],
        "sleep_nights_missing": metrics["sleep_nights_missing"],
    }
    load = json.loads(render(component("today_load")["json_attributes_template"], state))
    assert load == {"load_source": metrics["load_source"]}


def test_a_day_without_training_has_a_load_of_zero_not_unknown() -> None:
    assert render(component("today_load")["value_template"], state_of(History())) == "0.0"


def test_the_new_sensors_have_units_and_classes_home_assistant_expects() -> None:
    assert {k: component("sleep_debt").get(k) for k in ("device_class", "unit_of_measurement")} == {
        "device_class": "duration",
        "unit_of_measurement": "h",
    }
    assert {k: component("weight").get(k) for k in ("device_class", "unit_of_measurement")} == {
        "device_class": "weight",
        "unit_of_measurement": "kg",
    }
    load = component("today_load")
    # no device class fits a training load, and its unit follows the load's source
    assert "device_class" not in load
    assert "unit_of_measurement" not in load
    assert all(component(k)["state_class"] == "measurement" for k in ("sleep_debt", "weight"))
    assert load["state_class"] == "measurement"


def test_every_sensor_is_a_combination_home_assistant_accepts_without_warnings() -> None:
    sensors = [c for c in components([PEGASUS, VAPORFLY]).values() if c["platform"] == "sensor"]
    assert len(sensors) > 10
    for sensor in sensors:
        device_class = sensor.get("device_class")
        unit = sensor.get("unit_of_measurement")
        state_class = sensor.get("state_class")
        if device_class in HA_DEVICE_CLASS_UNITS:
            assert unit in HA_DEVICE_CLASS_UNITS[str(device_class)], sensor["unique_id"]
        if device_class is not None:
            assert str(device_class) in HA_DEVICE_CLASS_STATE_CLASSES, sensor["unique_id"]
            allowed = HA_DEVICE_CLASS_STATE_CLASSES[str(device_class)]
            assert state_class is None or state_class in allowed, sensor["unique_id"]
        else:
            assert state_class is None or state_class in HA_STATE_CLASSES
        # Home Assistant's MQTT sensor schema: `options` only for an enum, and then neither a
        # state class nor a unit (homeassistant/components/mqtt/sensor.py)
        if "options" in sensor:
            assert device_class == "enum"
            assert state_class is None
            assert unit is None


def test_each_shoe_sensor_shows_its_own_shoes_km() -> None:
    state = state_of(overreached())
    shoes = [PEGASUS, VAPORFLY]
    assert render(component("shoe_g123", shoes)["value_template"], state) == "812.4"
    assert render(component("shoe_g456", shoes)["value_template"], state) == "150.0"


def test_a_shoe_missing_from_the_state_is_unknown_not_an_error() -> None:
    state = state_of(History.of(activities=steady_runs(DAY, 8)))
    assert render(component("shoe_g123")["value_template"], state) == "None"


def test_the_status_options_cover_every_status_restday_publishes() -> None:
    options = cast(list[str], component("status")["options"])
    assert component("status")["device_class"] == "enum"
    for status in Status:
        assert render(component("status")["value_template"], {"status": status.value}) in options


def test_diagnostics_count_rejected_inputs_with_the_count_per_kind() -> None:
    found = component("rejected_inputs")
    assert found["entity_category"] == "diagnostic"
    assert render(found["value_template"], DIAGNOSTICS) == "3"
    attributes = json.loads(render(found["json_attributes_template"], DIAGNOSTICS))
    assert attributes["scale"]["rejected"] == 2
    assert attributes["pain"]["rejected"] == 1


def test_a_store_that_cannot_be_written_turns_the_problem_sensor_on_with_the_cause() -> None:
    found = component("store_problem")
    assert (found["device_class"], found["entity_category"]) == ("problem", "diagnostic")
    assert render(found["value_template"], DIAGNOSTICS) == "OFF"
    error = "cannot write the store /var/lib/restday/restday.db: database or disk is full"
    failing = {**DIAGNOSTICS, "store": {"ok": False, "error": error, "held": 3}}
    assert render(found["value_template"], failing) == "ON"
    attributes = json.loads(render(found["json_attributes_template"], failing))
    assert attributes == {"ok": False, "error": error, "held": 3}


def test_diagnostics_show_strava_authorisation_and_last_sync() -> None:
    auth = component("strava_auth")
    assert render(auth["value_template"], DIAGNOSTICS) == "required"
    assert auth["options"] == ["ok", "required", "not_configured"]
    synced = component("last_sync")
    assert synced["device_class"] == "timestamp"
    assert render(synced["value_template"], DIAGNOSTICS) == "2026-11-22T06:15:00+01:00"
    attributes = json.loads(render(synced["json_attributes_template"], DIAGNOSTICS))
    assert attributes == {"last_error": "rate limited until 10:45", "calls_today": 41}
    assert all(component(key)["entity_category"] == "diagnostic" for key in DIAGNOSTIC_KEYS)


def test_never_synced_is_unknown() -> None:
    never = {**DIAGNOSTICS, "strava": {"auth": "not_configured", "last_sync": None}}
    assert render(component("last_sync")["value_template"], never) == "None"


def test_notifications_arrive_as_events_of_all_eight_types() -> None:
    found = component("notification")
    assert sorted(cast(list[str], found["event_types"])) == sorted(
        [
            "post_run",
            "rest_day",
            "hydration",
            "shoe",
            "pain",
            "auth_required",
            "morning",
            "unassigned_weigh_in",
        ]
    )


def test_pain_is_a_zero_to_ten_box_not_a_slider_and_sync_a_button() -> None:
    box = component("pain")
    assert box["command_topic"] == "restday/me/pain/set"
    assert (box["min"], box["max"], box["step"]) == (0, 10, 1)
    assert box["mode"] == "box"  # typed, then Enter: one stray tap on a slider set pain 8
    button = component("sync")
    assert (button["command_topic"], button["payload_press"]) == ("restday/me/sync/set", "PRESS")


def test_the_message_is_compact_json_under_20_kib_with_ten_shoes() -> None:
    shoes = [
        ShoeMetric(id=GearId(f"g{i:08d}"), name=f"Shoe number {i}", km=500.0) for i in range(10)
    ]
    topic, text = discovery_message(CONFIG, shoes, removed_shoes=["g99999999"])
    assert topic == "homeassistant/device/restday_me/config"
    assert len(text.encode()) < MAX_DISCOVERY_BYTES
    parsed = json.loads(text)
    assert parsed == json.loads(json.dumps(parsed))
    assert sum(key.startswith("restday_me_shoe_") for key in parsed["components"]) == MANY_SHOES + 1


def test_an_empty_retained_payload_removes_the_device() -> None:
    assert removal_message(CONFIG) == ("homeassistant/device/restday_me/config", "")


@given(gear_id=st.text(min_size=1, max_size=30), other=st.text(min_size=1, max_size=30))
def test_any_gear_id_gets_a_valid_key_and_a_template_that_finds_it(
    gear_id: str, other: str
) -> None:
    key = shoe_key(gear_id)
    assert ENTITY_ID.fullmatch(f"sensor.restday_me_{key}")
    assert key == shoe_key(gear_id)
    if other != gear_id:
        assert shoe_key(other) != key
    shoes = [{"id": other, "name": "b", "km": 1.5}, {"id": gear_id, "name": "a", "km": 7.0}]
    expected = "1.5" if other == gear_id else "7.0"
    assert render(shoe_template(gear_id), {"metrics": {"shoes": shoes}}) == expected
