"""Home Assistant MQTT device discovery (DESIGN.md §5): the payloads only, no MQTT client here.

One retained, device-based discovery message (Home Assistant ≥ 2024.11) announces every
entity of one athlete on `<discovery_prefix>/device/restday_<a>/config`; an empty retained
payload on that topic removes the device. Each component carries `unique_id`
`restday_<a>_<key>` and `default_entity_id` `<platform>.restday_<a>_<key>` — not `object_id`,
which Home Assistant deprecated in 2025.10 and stops honouring in 2026.4.

A shoe that left `metrics.shoes` is removed from the device by sending its component as
`{"platform": "sensor"}` alone (Home Assistant's documented way to drop one component of a
device); the sender should then send the payload once more without it.

Templates are Home Assistant's Jinja: a value that renders as `None` is Home Assistant's
"unknown" (its `PAYLOAD_NONE`), so null metrics show as unknown rather than as an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from hashlib import sha256
from importlib import metadata

import restday
from restday.config import Config
from restday.integrations.mqtt.topics import Topics  # the one place topic names are spelled
from restday.models import ShoeMetric, Status

# The notification topic's `event_type`s (DESIGN.md §5); Home Assistant's event entity lists them.
NOTIFICATION_TYPES = (
    "post_run",
    "morning",
    "rest_day",
    "hydration",
    "shoe",
    "pain",
    "auth_required",
    "unassigned_weigh_in",
)


APP_NAME = "restday"
MANUFACTURER = "restday"
DEVICE_MODEL = "Recovery coach for runners"
PAYLOAD_ONLINE = "online"
PAYLOAD_OFFLINE = "offline"
PAYLOAD_PRESS = "PRESS"
DISCOVERY_QOS = 1  # Home Assistant subscribes with QoS 1: notifications and commands arrive
PAIN_MIN = 0
PAIN_MAX = 10
PAIN_STEP = 1
STATUS_OPTIONS = tuple(status.value for status in Status)
STRAVA_AUTH_OPTIONS = ("ok", "required", "not_configured")
KM = "km"
KILOGRAMS = "kg"
HOURS = "h"
DAYS = "d"
PERCENT = "%"
MEASUREMENT = "measurement"
# Home Assistant's number mode: a text box, not a slider that one stray tap sets (DESIGN.md §7)
PAIN_MODE = "box"
DIAGNOSTIC = "diagnostic"
SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")  # runs of anything else, underscores too, become one _
SHOE_KEY_HASH_CHARS = 8  # appended when a gear id is not already a clean slug

# The reasons go over whole, as the state payload has them: each keeps its rule, severity,
# message, numbers and citation, and carries its `family` (and `run_day` when carried).
STATE_ATTRIBUTES = (
    "{{ {'status': value_json.status, 'readiness': value_json.readiness,"
    " 'reasons': value_json.reasons, 'stale': value_json.stale,"
    " 'waiting': value_json.waiting, 'evaluated_at': value_json.evaluated_at} | tojson }}"
)
# the store cannot be written (full disk, read-only file system): inputs are held meanwhile
STORE_PROBLEM = "{{ 'OFF' if value_json.store.ok else 'ON' }}"
REJECTED_TOTAL = "{{ value_json.inputs.values() | map(attribute='rejected') | sum }}"
SYNC_ATTRIBUTES = (
    "{{ {'last_error': value_json.strava.last_error,"
    " 'calls_today': value_json.strava.calls_today} | tojson }}"
)

SLEEP_DEBT_ATTRIBUTES = (
    "{{ {'sleep_need_h': value_json.metrics.sleep_need_h,"
    " 'sleep_nights_missing': value_json.metrics.sleep_nights_missing} | tojson }}"
)
# The load's unit is TRIMP with the athlete's max and resting HR configured, else Strava's
# relative effort: an attribute, not a unit, since a unit that changed with the config would
# make Home Assistant flag the sensor's statistics.
LOAD_ATTRIBUTES = "{{ {'load_source': value_json.metrics.load_source} | tojson }}"

DISTANCE_KM: dict[str, object] = {
    "device_class": "distance",
    "unit_of_measurement": KM,
    "state_class": MEASUREMENT,
}


def device_id(config: Config, athlete: str | None = None) -> str:
    """The Home Assistant device of `athlete` (None: the first configured): one per athlete."""
    return f"{APP_NAME}_{athlete or config.athlete.id}"


def discovery_topic(config: Config, athlete: str | None = None) -> str:
    return f"{config.mqtt.discovery_prefix}/device/{device_id(config, athlete)}/config"


def shoe_key(gear_id: str) -> str:
    """The component key of a shoe: stable per gear id, and a valid entity id part."""
    slug = SLUG_UNSAFE.sub("_", gear_id.lower()).strip("_")
    if slug == gear_id:
        return f"shoe_{slug}"
    digest = sha256(gear_id.encode()).hexdigest()[:SHOE_KEY_HASH_CHARS]
    return f"shoe_{slug}_{digest}" if slug else f"shoe_{digest}"


def shoe_template(gear_id: str) -> str:
    """The km of one shoe, picked from `metrics.shoes` by id; None (unknown) when absent."""
    # A JSON string is a Jinja string literal; Jinja would split \u escapes of astral characters.
    literal = json.dumps(gear_id, ensure_ascii=False)
    return (
        f"{{{{ value_json.metrics.shoes | selectattr('id', 'eq', {literal})"
        " | map(attribute='km') | first | default(None) }}"
    )


def discovery_payload(
    config: Config,
    shoes: Sequence[ShoeMetric],
    *,
    removed_shoes: Sequence[str] = (),
    athlete: str | None = None,
) -> dict[str, object]:
    """The device of `athlete` (None: the first configured) and its entities."""
    topics = Topics.of(config)
    t = topics.of_athlete(athlete) if athlete else topics.first
    name = config.athlete_config(t.athlete).name
    prefix = device_id(config, t.athlete)
    components: dict[str, dict[str, object]] = {}

    def add(platform: str, key: str, name: str, **options: object) -> None:
        unique_id = f"{prefix}_{key}"
        components[unique_id] = {
            "platform": platform,
            "unique_id": unique_id,
            "default_entity_id": f"{platform}.{unique_id}",
            "name": name,
            "qos": DISCOVERY_QOS,  # HA passes only availability and topics down from the device
            **options,
        }

    add(
        "binary_sensor",
        "rest_day_recommended",
        "Rest day recommended",
        icon="mdi:sofa",
        state_topic=t.state,
        value_template="{{ 'ON' if value_json.rest_day_recommended else 'OFF' }}",
        json_attributes_topic=t.state,
        json_attributes_template=STATE_ATTRIBUTES,
    )

    def state(key: str, name: str, template: str, icon: str, **options: object) -> None:
        add("sensor", key, name, icon=icon, state_topic=t.state, value_template=template, **options)

    state(
        "readiness",
        "Readiness",
        "{{ value_json.readiness }}",
        "mdi:gauge",
        unit_of_measurement=PERCENT,
        state_class=MEASUREMENT,
    )
    state(
        "status",
        "Status",
        "{{ value_json.status }}",
        "mdi:run",
        device_class="enum",
        options=list(STATUS_OPTIONS),
    )
    state(
        "acwr",
        "Acute:chronic load ratio",
        "{{ value_json.metrics.acwr }}",
        "mdi:scale-balance",
        state_class=MEASUREMENT,
        suggested_display_precision=2,
    )
    state(
        "week_km",
        "Running this week",
        "{{ value_json.metrics.week_km }}",
        "mdi:map-marker-distance",
        **DISTANCE_KM,
        suggested_display_precision=1,
    )
    state(
        "last_sleep_h",
        "Sleep last night",
        "{{ value_json.metrics.last_sleep_h }}",
        "mdi:sleep",
        device_class="duration",
        unit_of_measurement=HOURS,
        state_class=MEASUREMENT,
        suggested_display_precision=1,
    )
    state(
        "sleep_debt",
        "Sleep debt",
        "{{ value_json.metrics.sleep_debt_h }}",
        "mdi:sleep-off",
        device_class="duration",
        unit_of_measurement=HOURS,
        state_class=MEASUREMENT,
        suggested_display_precision=1,
        json_attributes_topic=t.state,
        json_attributes_template=SLEEP_DEBT_ATTRIBUTES,
    )
    state(
        "weight",
        "Weight",
        "{{ value_json.metrics.weight_kg }}",
        "mdi:scale-bathroom",
        device_class="weight",
        unit_of_measurement=KILOGRAMS,
        state_class=MEASUREMENT,
        suggested_display_precision=1,
    )
    state(
        "today_load",
        "Today's load",
        "{{ value_json.metrics.today_load }}",
        "mdi:lightning-bolt",
        state_class=MEASUREMENT,
        suggested_display_precision=0,
        json_attributes_topic=t.state,
        json_attributes_template=LOAD_ATTRIBUTES,
    )
    state(
        "days_since_rest",
        "Days since rest",
        "{{ value_json.metrics.days_since_rest }}",
        "mdi:calendar-clock",
        unit_of_measurement=DAYS,
        state_class=MEASUREMENT,
    )
    for key in sorted({shoe_key(gear_id) for gear_id in removed_shoes}):
        components[f"{prefix}_{key}"] = {"platform": "sensor"}
    for shoe in shoes:
        state(
            shoe_key(shoe.id),
            f"Shoe {shoe.name}",
            shoe_template(shoe.id),
            "mdi:shoe-sneaker",
            **DISTANCE_KM,
            suggested_display_precision=0,
        )
    add(
        "event",
        "notification",
        "Notification",
        icon="mdi:bell-ring",
        state_topic=t.notification,
        event_types=list(NOTIFICATION_TYPES),
    )
    add(
        "number",
        "pain",
        "Pain now",
        icon="mdi:bandage",
        command_topic=t.pain_set,
        state_topic=t.pain,
        min=PAIN_MIN,
        max=PAIN_MAX,
        step=PAIN_STEP,
        mode=PAIN_MODE,
    )
    add(
        "button",
        "sync",
        "Sync Strava now",
        icon="mdi:sync",
        command_topic=t.sync_set,
        payload_press=PAYLOAD_PRESS,
    )
    add(
        "sensor",
        "rejected_inputs",
        "Rejected inputs",
        icon="mdi:alert-circle-outline",
        entity_category=DIAGNOSTIC,
        state_topic=t.diagnostics,
        value_template=REJECTED_TOTAL,
        json_attributes_topic=t.diagnostics,
        json_attributes_template="{{ value_json.inputs | tojson }}",
    )
    add(
        "binary_sensor",
        "store_problem",
        "Store problem",
        icon="mdi:database-alert",
        entity_category=DIAGNOSTIC,
        device_class="problem",
        state_topic=t.diagnostics,
        value_template=STORE_PROBLEM,
        json_attributes_topic=t.diagnostics,
        json_attributes_template="{{ value_json.store | tojson }}",
    )
    add(
        "sensor",
        "strava_auth",
        "Strava authorisation",
        icon="mdi:key-chain",
        entity_category=DIAGNOSTIC,
        state_topic=t.diagnostics,
        value_template="{{ value_json.strava.auth }}",
        device_class="enum",
        options=list(STRAVA_AUTH_OPTIONS),
    )
    add(
        "sensor",
        "last_sync",
        "Last Strava sync",
        icon="mdi:cloud-sync",
        entity_category=DIAGNOSTIC,
        state_topic=t.diagnostics,
        value_template="{{ value_json.strava.last_sync }}",
        device_class="timestamp",
        json_attributes_topic=t.diagnostics,
        json_attributes_template=SYNC_ATTRIBUTES,
    )

    version = restday.__version__
    origin: dict[str, object] = {"name": APP_NAME, "sw_version": version}
    if url := support_url():
        origin["support_url"] = url
    return {
        "device": {
            "identifiers": [prefix],
            "name": f"{APP_NAME} ({name})",
            "manufacturer": MANUFACTURER,
            "model": DEVICE_MODEL,
            "sw_version": version,
        },
        "origin": origin,
        "availability_topic": topics.status,
        "payload_available": PAYLOAD_ONLINE,
        "payload_not_available": PAYLOAD_OFFLINE,
        "qos": DISCOVERY_QOS,
        "components": components,
    }


def discovery_message(
    config: Config,
    shoes: Sequence[ShoeMetric],
    *,
    removed_shoes: Sequence[str] = (),
    athlete: str | None = None,
) -> tuple[str, str]:
    """(topic, JSON text) of the retained discovery message of `athlete`'s device."""
    payload = discovery_payload(config, shoes, removed_shoes=removed_shoes, athlete=athlete)
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return discovery_topic(config, athlete), text


def removal_message(config: Config, athlete: str | None = None) -> tuple[str, str]:
    """(topic, empty payload): published retained, it removes the device from Home Assistant."""
    return discovery_topic(config, athlete), ""


def support_url() -> str | None:
    """The project's home from the installed package's metadata, if it names one."""
    try:
        meta = metadata.metadata(APP_NAME)
    except metadata.PackageNotFoundError:
        return None
    urls = [entry.partition(",")[2] for entry in meta.get_all("Project-URL") or []]
    urls += meta.get_all("Home-page") or []
    return next((str(url).strip() for url in urls if str(url).strip()), None)
