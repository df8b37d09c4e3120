"""The Home Assistant package in homeassistant/: a dashboard and two blueprints a user pastes in.

The entity ids they name are checked against the discovery payload restday publishes, so a
renamed entity breaks these tests before it breaks a user's dashboard. Templates render with
Jinja's immutable sandbox (what Home Assistant's templates are built on) and a small model of
the template functions Home Assistant adds (`states`, `state_attr`, `as_timestamp`,
`timestamp_custom`), and the blueprints run through a small model of Home Assistant's
automation engine (state triggers, variables, template and trigger conditions, choose, if,
actions) to see which actions they would call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from restday.config import Config
from restday.daemon.notifications import morning
from restday.integrations.homeassistant import NOTIFICATION_TYPES, discovery_payload
from restday.models import GearId, History, ShoeMetric, Status
from tests.factories import DAY, evaluate_on, night, pain, shoe, steady_runs

PACKAGE = Path(__file__).resolve().parent.parent / "homeassistant"
DASHBOARD = PACKAGE / "dashboard.yaml"
BLUEPRINTS = PACKAGE / "blueprints" / "automation" / "restday"
NOTIFY = BLUEPRINTS / "notify_phone.yaml"
SCENE = BLUEPRINTS / "rest_day_scene.yaml"
REST_DAY = "binary_sensor.restday_me_rest_day_recommended"
STATUS = "sensor.restday_me_status"
PAIN = "number.restday_me_pain"
NOTIFICATION = "event.restday_me_notification"
EXAMPLE_SHOE = ShoeMetric(id=GearId("g12345678"), name="Pegasus 40", km=812.4)  # one pair
# every entity id of restday's (`restday_` after the domain), wherever a template names one
RESTDAY_ENTITY_ID = re.compile(r"\b[a-z_]+\.restday_[a-z0-9_]+")
BUILT_IN_CARDS = {
    *("heading", "tile", "gauge", "markdown", "history-graph", "statistics-graph"),
    *("entities", "entity", "glance", "sensor", "vertical-stack", "grid", "conditional"),
}
# The status as a runner reads it (the sensor keeps restday's enum values), from good to bad:
# each with the tile colour of its severity.
STATUS_WORDS = {
    "train": ("Good to train", "green"),
    "calibrating": ("Learning your baseline", "blue"),
    "easy": ("Keep it easy", "amber"),
    "rest": ("Rest day", "deep-orange"),
    "see_doctor": ("Rest, see a doctor", "red"),
}
# Home Assistant's card header is one line of about 24 px type: on a 390 px phone a title
# longer than this wraps (the old "Sleep, last 6 weeks (restday wants 8 h; …)" took three).
MAX_TITLE_CHARS = 20


@dataclass(frozen=True)
class Input:
    """Home Assistant's `!input name`: the value the user chose for that input."""

    name: str


class BlueprintLoader(yaml.SafeLoader):
    """The safe loader, plus the `!input` tag of Home Assistant blueprints."""


def _input(loader: yaml.SafeLoader, node: yaml.Node) -> Input:
    return Input(str(loader.construct_scalar(cast(yaml.ScalarNode, node))))


BlueprintLoader.add_constructor("!input", _input)


def blueprint(path: Path) -> dict[str, Any]:
    return cast(dict[str, Any], yaml.load(path.read_text(encoding="utf-8"), BlueprintLoader))


def dashboard() -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load(DASHBOARD.read_text(encoding="utf-8")))


def announced() -> dict[str, dict[str, Any]]:
    """Entity id → component, as restday announces athlete `me` with the dashboard's shoe."""
    payload = discovery_payload(Config(athlete={"id": "me"}), [EXAMPLE_SHOE])
    components = cast(dict[str, dict[str, Any]], payload["components"])
    return {str(c["default_entity_id"]): c for c in components.values()}


def walk(value: object, key: str = "") -> Iterator[tuple[str, object]]:
    """Every (key, value) pair below `value`; list items carry their list's key."""
    if isinstance(value, dict):
        for k, item in value.items():
            yield str(k), item
            yield from walk(item, str(k))
    elif isinstance(value, list):
        for item in value:
            yield key, item
            yield from walk(item, key)


def entity_ids(value: object) -> set[str]:
    """The ids under `entity:`/`entities:` keys and every restday id inside any text.

    An id ending in `_` is a prefix a template matches (`sensor.restday_me_shoe_`: every shoe).
    """
    found: set[str] = set()
    for key, item in walk(value):
        if key in ("entity", "entities") and isinstance(item, str):
            found.add(item)
        if isinstance(item, str):
            found.update(RESTDAY_ENTITY_ID.findall(item))
    return found


def covered(ids: set[str], entity_id: str) -> bool:
    """Whether `entity_id` is one of `ids` or starts with one of its prefixes."""
    return entity_id in ids or any(p.endswith("_") and entity_id.startswith(p) for p in ids)


def inputs_used(value: object) -> set[str]:
    return {item.name for _, item in walk(value) if isinstance(item, Input)}


def state_of(history: History) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(json.dumps(evaluate_on(history).to_payload())))


def overreached() -> History:
    return History.of(
        activities=steady_runs(DAY, 8),
        sleeps=[night(DAY, 4.5)],
        pains=[pain(DAY, 6)],
        gear=[shoe("Pegasus 40", 812.4, id="g12345678")],
    )


@dataclass(frozen=True)
class TemplateState:
    """One entity as Home Assistant's templates see it in `states.<domain>`."""

    entity_id: str
    state: str
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.attributes.get("friendly_name", self.entity_id))


class States:
    """Home Assistant's `states`: `states('id')` is a state, `states.sensor` a domain's list."""

    def __init__(self, states: dict[str, dict[str, Any]]) -> None:
        self.states = states

    def __call__(self, entity_id: str) -> str:
        return str(self.states.get(entity_id, {}).get("state", "unknown"))

    def __getattr__(self, domain: str) -> list[TemplateState]:
        return [
            TemplateState(entity_id, str(s["state"]), s.get("attributes", {}))
            for entity_id, s in sorted(self.states.items())
            if entity_id.startswith(f"{domain}.")
        ]


def as_timestamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def timestamp_custom(value: float, format_string: str) -> str:
    # Home Assistant formats in its own time zone; these tests take it to be UTC
    return datetime.fromtimestamp(value, UTC).strftime(format_string)


def render(template: str, states: dict[str, dict[str, Any]], **names: object) -> str:
    """Render like Home Assistant, with `states` and `state_attr()` reading `states`."""

    def state_attr(entity_id: str, name: str) -> object:
        return states.get(entity_id, {}).get("attributes", {}).get(name)

    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    env.filters["timestamp_custom"] = timestamp_custom
    return env.from_string(template).render(
        states=States(states), state_attr=state_attr, as_timestamp=as_timestamp, **names
    )


def rest_day_state(history: History) -> dict[str, Any]:
    """The rest-day binary sensor as Home Assistant holds it, attributes by restday's template."""
    sensor = announced()[REST_DAY]
    text = json.dumps(state_of(history))
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    template = env.from_string(sensor["json_attributes_template"])
    attributes = json.loads(template.render(value=text, value_json=json.loads(text)))
    value = env.from_string(sensor["value_template"]).render(value_json=json.loads(text))
    return {"state": value.lower(), "attributes": attributes}


def cards() -> list[dict[str, Any]]:
    """Every card of the dashboard, those in sections and stacks included."""
    return [item for key, item in walk(dashboard()) if key == "cards" and isinstance(item, dict)]


def markdown(heading: str) -> str:
    return str(next(c["content"] for c in cards() if c.get("title") == heading))


def sections() -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], dashboard()["views"][0]["sections"])


def section_of(entity_id: str) -> int:
    """The index of the first section that shows `entity_id`."""
    return next(i for i, section in enumerate(sections()) if entity_id in entity_ids(section))


def shown_when(entity_id: str, state: str) -> list[dict[str, Any]]:
    """The cards a conditional card shows only while `entity_id` is in `state`."""
    return [
        c["card"]
        for c in cards()
        if c["type"] == "conditional"
        and c["conditions"] == [{"condition": "state", "entity": entity_id, "state": state}]
    ]


def alerts(text: str) -> list[tuple[str, str, str]]:
    """(alert type, title, text) of every `<ha-alert>` in a rendered markdown card."""
    pattern = r'<ha-alert alert-type="([a-z]+)" title="([^"]*)">(.*?)</ha-alert>'
    return re.findall(pattern, text)


# --- the files ------------------------------------------------------------------------------


def test_the_package_is_a_dashboard_and_two_blueprints_all_well_formed_yaml() -> None:
    files = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.yaml"))
    assert files == [
        "blueprints/automation/restday/notify_phone.yaml",
        "blueprints/automation/restday/rest_day_scene.yaml",
        "dashboard.yaml",
    ]
    assert dashboard()["views"]
    assert all(blueprint(path) for path in (NOTIFY, SCENE))


def test_the_dashboard_needs_no_custom_cards() -> None:
    types = {str(card["type"]) for card in cards()}
    assert types <= BUILT_IN_CARDS
    assert {"gauge", "markdown", "history-graph", "statistics-graph", "entities"} <= types


def test_every_entity_on_the_dashboard_is_one_restday_announces() -> None:
    shown = entity_ids(dashboard())
    assert {i for i in shown if not i.endswith("_")} - announced().keys() == set()
    for prefix in (i for i in shown if i.endswith("_")):  # each template's prefix finds one
        assert any(entity_id.startswith(prefix) for entity_id in announced()), prefix


def test_the_dashboard_shows_every_entity_restday_announces() -> None:
    shown = entity_ids(dashboard())
    assert {i for i in announced() if not covered(shown, i)} == set()


def test_the_new_sensors_sit_beside_what_a_runner_reads_them_with() -> None:
    sleep = section_of("sensor.restday_me_last_sleep_h")
    assert section_of("sensor.restday_me_sleep_debt") == sleep
    assert section_of("sensor.restday_me_weight") == sleep
    assert section_of("sensor.restday_me_today_load") == section_of("sensor.restday_me_week_km")
    assert section_of("sensor.restday_me_acwr") == section_of("sensor.restday_me_week_km")


@pytest.mark.parametrize("path", [NOTIFY, SCENE], ids=lambda p: p.stem)
def test_a_blueprint_has_a_name_the_automation_domain_and_inputs(path: Path) -> None:
    meta = blueprint(path)["blueprint"]
    assert isinstance(meta["name"], str)
    assert meta["name"].startswith("restday")
    assert meta["domain"] == "automation"
    assert all("name" in spec and "selector" in spec for spec in meta["input"].values())


@pytest.mark.parametrize("path", [NOTIFY, SCENE], ids=lambda p: p.stem)
def test_every_input_a_blueprint_uses_is_declared_and_every_one_declared_is_used(
    path: Path,
) -> None:
    document = blueprint(path)
    declared = set(document["blueprint"]["input"])
    body = {key: value for key, value in document.items() if key != "blueprint"}
    assert inputs_used(body) == declared


@pytest.mark.parametrize("path", [NOTIFY, SCENE], ids=lambda p: p.stem)
def test_blueprint_defaults_pick_restdays_entities_for_athlete_me(path: Path) -> None:
    defaults = [spec.get("default") for spec in blueprint(path)["blueprint"]["input"].values()]
    entities = {d for d in defaults if isinstance(d, str) and "." in d}
    assert entities
    assert entities <= announced().keys()


def test_the_notification_blueprint_offers_exactly_restdays_event_types_all_ticked() -> None:
    spec = blueprint(NOTIFY)["blueprint"]["input"]["event_types"]
    offered = [option["value"] for option in spec["selector"]["select"]["options"]]
    assert sorted(offered) == sorted(NOTIFICATION_TYPES)
    assert len(offered) == len(set(offered))
    assert sorted(spec["default"]) == sorted(NOTIFICATION_TYPES)
    assert sorted(announced()[NOTIFICATION]["event_types"]) == sorted(NOTIFICATION_TYPES)


# --- the dashboard as a runner reads it ----------------------------------------------------


def test_the_status_is_in_plain_words_for_every_value_coloured_by_severity() -> None:
    assert set(STATUS_WORDS) == {status.value for status in Status}
    for value, (words, colour) in STATUS_WORDS.items():
        [tile] = shown_when(STATUS, value)
        assert (tile["type"], tile["entity"]) == ("tile", STATUS)
        assert (tile["name"], tile["color"], tile["hide_state"]) == (words, colour, True)
    names = [card["name"] for value in STATUS_WORDS for card in shown_when(STATUS, value)]
    assert len(set(names)) == len(names)


def test_the_status_says_when_restday_is_offline_or_has_not_spoken_yet() -> None:
    [offline] = shown_when(STATUS, "unavailable")
    assert offline["name"] == "restday is offline"
    [waiting] = shown_when(STATUS, "unknown")
    assert waiting["name"] == "No recommendation yet"


def test_the_rest_day_tile_says_rest_or_train_in_words_not_on_or_off() -> None:
    [rest] = shown_when(REST_DAY, "on")
    [train] = shown_when(REST_DAY, "off")
    assert (rest["name"], train["name"]) == ("Rest today", "Train today")
    assert (rest["hide_state"], train["hide_state"]) == (True, True)


def test_readiness_zero_points_into_the_red_band_of_the_gauge() -> None:
    [gauge] = [c for c in cards() if c["type"] == "gauge"]
    assert gauge["entity"] == "sensor.restday_me_readiness"
    assert (gauge["min"], gauge["max"], gauge["needle"]) == (0, 100, True)
    bands = sorted((s["from"], s["color"]) for s in gauge["segments"])
    assert bands[0] == (0, "#db4437")  # red from 0: with the needle, 0 looks the worst
    assert [colour for _, colour in bands] == ["#db4437", "#ffa600", "#43a047"]


def test_the_pain_input_is_a_named_box_in_the_first_section() -> None:
    assert announced()[PAIN]["mode"] == "box"
    assert section_of(PAIN) == 0
    [row] = [
        row
        for card in sections()[0]["cards"]
        if card["type"] == "entities"
        for row in card["entities"]
        if row["entity"] == PAIN
    ]
    assert row["name"].startswith("Pain")


def test_the_reasons_card_shows_each_reason_as_an_alert_of_its_severity() -> None:
    sensor = rest_day_state(overreached())
    reasons = sensor["attributes"]["reasons"]
    assert {r["rule"] for r in reasons} >= {"pain", "sleep_short", "shoe_mileage"}
    shown = alerts(render(markdown("Reasons"), {REST_DAY: sensor}))
    assert [message for _, _, message in shown] == [r["message"] for r in reasons]
    assert ("error", "Strong sign") in {(kind, title) for kind, title, _ in shown}


def test_a_doctor_reason_does_not_look_like_an_info_one() -> None:
    sensor = rest_day_state(overreached())
    doctor = {"rule": "pain", "severity": "doctor", "message": "Pain 8/10: see a doctor."}
    info = {"rule": "sleep_short", "severity": "info", "message": "Slept 6.5 h & more."}
    sensor["attributes"] = {**sensor["attributes"], "reasons": [doctor, info]}
    shown = alerts(render(markdown("Reasons"), {REST_DAY: sensor}))
    assert shown == [
        ("error", "See a doctor", "Pain 8/10: see a doctor."),
        ("info", "Good to know", "Slept 6.5 h &amp; more."),  # messages are escaped
    ]


def test_the_reasons_card_says_so_when_nothing_is_wrong_and_names_missing_inputs() -> None:
    calm = rest_day_state(History.of(activities=steady_runs(DAY, 8)))
    calm["attributes"] = {**calm["attributes"], "reasons": [], "stale": ["no weigh-in for 3 days"]}
    shown = render(markdown("Reasons"), {REST_DAY: calm})
    assert shown.strip().splitlines() == [
        "No warning signs today.",
        "",
        "_Missing or old: no weigh-in for 3 days._",
    ]


def test_with_restday_offline_the_reasons_card_gives_no_all_clear() -> None:
    offline = {"state": "unavailable", "attributes": {"friendly_name": "restday (Me) Rest day"}}
    shown = render(markdown("Reasons"), {REST_DAY: offline})
    assert "No warning signs" not in shown
    [(kind, title, text)] = alerts(shown)
    assert (kind, title) == ("warning", "restday is offline")
    assert "no current recommendation" in text


def test_before_restday_publishes_the_reasons_card_says_there_is_no_recommendation() -> None:
    for states in ({}, {REST_DAY: {"state": "unknown", "attributes": {}}}):
        shown = render(markdown("Reasons"), states)
        assert "No warning signs" not in shown
        assert shown.strip().startswith("No recommendation yet")


def test_the_last_notification_card_shows_restdays_title_message_and_time() -> None:
    report = morning(evaluate_on(overreached()), DAY)
    attributes = json.loads(report.to_json())
    shown = render(markdown("Last notification"), {NOTIFICATION: event_state(attributes)})
    assert shown.strip().splitlines() == [
        f"**{report.title}**",
        "",
        report.message,
        "",
        "_Fri 20 Nov, 06:30_",
    ]


def test_after_a_restart_the_last_notification_is_still_shown_from_the_attributes() -> None:
    restored = {**event_state(note("rest_day", "Rest today", "Pain 6/10.")), "state": "unknown"}
    shown = render(markdown("Last notification"), {NOTIFICATION: restored})
    assert shown.strip().splitlines() == ["**Rest today**", "", "Pain 6/10."]


def test_the_last_notification_card_without_one_says_so_or_that_restday_is_offline() -> None:
    assert render(markdown("Last notification"), {}).strip() == "No notification yet."
    offline = {NOTIFICATION: {"state": "unavailable", "attributes": {}}}
    assert "restday is offline" in render(markdown("Last notification"), offline)


def shoes_card() -> str:
    [card] = [c for c in cards() if c["type"] == "markdown" and "restday_me_shoe_" in c["content"]]
    return str(card["content"])


def test_the_shoes_card_lists_every_pair_by_itself_and_says_how_to_add_one() -> None:
    states = {
        "sensor.restday_me_shoe_g1": {
            "state": "812.4",
            "attributes": {"friendly_name": "restday (Me) Shoe Pegasus 40"},
        },
        "sensor.restday_me_shoe_g2": {
            "state": "150.0",
            "attributes": {"friendly_name": "restday (Me) Shoe Vaporfly"},
        },
        "sensor.restday_me_shoe_g3": {"state": "unknown", "attributes": {}},
        "sensor.restday_me_week_km": {"state": "42.0", "attributes": {}},
        "sensor.restday_anna_shoe_g4": {"state": "9.0", "attributes": {}},
    }
    lines = render(shoes_card(), states).strip().splitlines()
    assert lines[:3] == [
        "- **Pegasus 40**: 812 km",
        "- **Vaporfly**: 150 km",
        "- **sensor.restday_me_shoe_g3**: unknown",
    ]
    assert "Strava" in " ".join(lines[3:])  # where a new pair comes from
    assert render(shoes_card(), {}).strip().startswith("No shoes yet.")


def test_the_statistics_graphs_have_short_titles_and_say_why_they_may_be_empty() -> None:
    for section in sections():
        graphs = [c for c in section["cards"] if c["type"] == "statistics-graph"]
        if not graphs:
            continue
        assert all(len(g["title"]) <= MAX_TITLE_CHARS for g in graphs), graphs
        note = " ".join(c["content"] for c in section["cards"] if c["type"] == "markdown")
        assert "No statistics found" in note
        assert "hour" in note
    assert any(c["type"] == "statistics-graph" for c in cards())


def test_the_history_graphs_leave_out_the_flat_days_since_rest() -> None:
    graphs = [c for c in cards() if c["type"] == "history-graph"]
    assert graphs
    for graph in graphs:
        assert len(graph["title"]) <= MAX_TITLE_CHARS
        shown = {e["entity"] for e in graph["entities"]}
        assert "sensor.restday_me_days_since_rest" not in shown


# --- the blueprints, run -----------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    action: str
    target: object
    data: object


def event_state(
    payload: dict[str, Any], at: str = "2026-11-20T06:30:00.000+00:00"
) -> dict[str, Any]:
    """An MQTT event entity after `payload`: `event_type` and the other keys as attributes."""
    return {"state": at, "attributes": {"event_types": list(NOTIFICATION_TYPES), **payload}}


def as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


class Automation:
    """One automation made from a blueprint, with the user's inputs."""

    def __init__(self, path: Path, **inputs: object) -> None:
        self.document = blueprint(path)
        specs = self.document["blueprint"]["input"]
        self.inputs = {name: inputs.get(name, spec.get("default")) for name, spec in specs.items()}
        assert all(value is not None for value in self.inputs.values()), "an input is missing"
        self.calls: list[Call] = []

    def value(self, value: object, names: dict[str, object]) -> Any:
        if isinstance(value, Input):
            return self.inputs[value.name]
        if isinstance(value, dict):
            return {k: self.value(v, names) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, names) for v in value]
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            text = render(value, {}, **names)
            return {"True": True, "False": False}.get(text, text)
        return value

    def change(self, entity_id: str, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        """A state change of `entity_id`: run the automation if one of its triggers fires."""
        for trigger in self.document["triggers"]:
            if self.fires(trigger, entity_id, old, new):
                names: dict[str, object] = {
                    "trigger": {"id": trigger.get("id"), "from_state": old, "to_state": new}
                }
                for name, value in self.document.get("variables", {}).items():
                    names[name] = self.value(value, names)
                if self.holds(self.document.get("conditions", []), names):
                    self.run(self.document["actions"], names)

    def fires(self, trigger: dict[str, Any], entity_id: str, old: Any, new: Any) -> bool:
        """Home Assistant's state trigger: `attribute`, `to`, `from`, `not_from`, `not_to`."""
        assert trigger["trigger"] == "state"
        before, after = (old or {}).get("state"), new["state"]
        if "attribute" in trigger:
            before = (old or {}).get("attributes", {}).get(trigger["attribute"])
            after = new.get("attributes", {}).get(trigger["attribute"])
        filters = {"to", "from", "not_from", "not_to"} & trigger.keys()
        return (
            entity_id in as_list(self.value(trigger["entity_id"], {}))
            and ("to" not in trigger or after in as_list(trigger["to"]))
            and ("from" not in trigger or before in as_list(trigger["from"]))
            and before not in as_list(trigger.get("not_from", []))
            and after not in as_list(trigger.get("not_to", []))
            and not (filters and before == after)
        )

    def holds(self, conditions: list[dict[str, Any]], names: dict[str, Any]) -> bool:
        for condition in conditions:
            if condition["condition"] == "template":
                met = self.value(condition["value_template"], names) is True
            else:
                assert condition["condition"] == "trigger", f"not modelled: {condition}"
                met = names["trigger"]["id"] in as_list(condition["id"])
            if not met:
                return False
        return True

    def run(self, steps: list[dict[str, Any]], names: dict[str, Any]) -> None:
        for step in steps:
            if "choose" in step:
                options = [o for o in step["choose"] if self.holds(o["conditions"], names)]
                self.run(options[0]["sequence"] if options else step.get("default", []), names)
            elif "if" in step:
                met = self.holds(step["if"], names)
                self.run(step["then"] if met else step.get("else", []), names)
            else:
                assert "action" in step, f"not modelled: {step}"
                parts = (self.value(step.get(key), names) for key in ("action", "target", "data"))
                self.calls.append(Call(*parts))


def note(kind: str, title: str = "t", message: str = "m") -> dict[str, str]:
    return {"event_type": kind, "title": title, "message": message}


def test_a_chosen_notification_reaches_the_phone_with_restdays_title_and_message() -> None:
    phone = Automation(NOTIFY, notify_action="notify.mobile_app_pixel_8")
    report = morning(evaluate_on(overreached()), DAY)
    phone.change(NOTIFICATION, {"state": "unknown"}, event_state(json.loads(report.to_json())))
    assert [(c.action, c.data) for c in phone.calls] == [
        (
            "notify.mobile_app_pixel_8",
            {"title": report.title, "message": report.message, "data": {"group": "restday"}},
        )
    ]


@pytest.mark.parametrize("typed", ["mobile_app_pixel_8", " notify.mobile_app_pixel_8 "])
def test_the_notify_prefix_and_stray_spaces_are_optional(typed: str) -> None:
    phone = Automation(NOTIFY, notify_action=typed)
    phone.change(NOTIFICATION, {"state": "unknown"}, event_state(note("shoe")))
    assert [c.action for c in phone.calls] == ["notify.mobile_app_pixel_8"]


def test_two_notifications_of_the_same_kind_in_a_row_both_reach_the_phone() -> None:
    phone = Automation(NOTIFY, notify_action="notify.mobile_app_pixel_8")
    first = event_state(note("pain", message="one"), at="t1")
    second = event_state(note("pain", message="two"), at="t2")
    phone.change(NOTIFICATION, {"state": "unknown"}, first)
    phone.change(NOTIFICATION, first, second)
    assert [cast(dict[str, str], c.data)["message"] for c in phone.calls] == ["one", "two"]


def test_unticked_kinds_stay_off_the_phone() -> None:
    phone = Automation(NOTIFY, notify_action="notify.mobile_app_x", event_types=["rest_day"])
    for kind in NOTIFICATION_TYPES:
        phone.change(NOTIFICATION, {"state": "t0"}, event_state(note(kind, title=kind), at=kind))
    assert [cast(dict[str, str], c.data)["title"] for c in phone.calls] == ["rest_day"]


@pytest.mark.parametrize("old", [None, {"state": "unavailable"}])
def test_a_restart_does_not_resend_the_last_notification(old: dict[str, Any] | None) -> None:
    phone = Automation(NOTIFY, notify_action="notify.mobile_app_x")
    phone.change(NOTIFICATION, old, event_state(note("morning")))
    phone.change(NOTIFICATION, {"state": "t1"}, {"state": "unavailable", "attributes": {}})
    assert phone.calls == []


SWITCH, RELAX, TRAIN = "input_boolean.rest_day", "scene.relax", "scene.training"


def scene_automation() -> Automation:
    return Automation(
        SCENE, rest_day_switches=[SWITCH], rest_day_scene=[RELAX], training_scene=[TRAIN]
    )


def test_a_rest_day_turns_the_switch_and_the_scene_on_and_its_end_turns_them_back() -> None:
    home = scene_automation()
    home.change(REST_DAY, {"state": "off"}, {"state": "on"})
    home.change(REST_DAY, {"state": "on"}, {"state": "off"})
    assert [(c.action, c.target) for c in home.calls] == [
        ("input_boolean.turn_on", {"entity_id": [SWITCH]}),
        ("scene.turn_on", {"entity_id": [RELAX]}),
        ("input_boolean.turn_off", {"entity_id": [SWITCH]}),
        ("scene.turn_on", {"entity_id": [TRAIN]}),
    ]


@pytest.mark.parametrize("old", [None, {"state": "unknown"}, {"state": "unavailable"}])
def test_a_restart_on_a_rest_day_keeps_the_switch_on_without_replaying_the_scene(
    old: dict[str, Any] | None,
) -> None:
    home = scene_automation()
    home.change(REST_DAY, old, {"state": "on"})
    assert [(c.action, c.target) for c in home.calls] == [
        ("input_boolean.turn_on", {"entity_id": [SWITCH]})
    ]


def test_with_nothing_chosen_the_scene_blueprint_calls_nothing() -> None:
    home = Automation(SCENE)
    home.change(REST_DAY, {"state": "off"}, {"state": "on"})
    home.change(REST_DAY, {"state": "on"}, {"state": "off"})
    assert home.calls == []
