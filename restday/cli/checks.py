"""`restday check-config`: the resolved config (secrets masked), then can restday actually run
with it?

Each check gives one line: what is fine, or what to fix. The broker is really connected to
(a throw-away session); Strava is judged from the token file, without an API call, for each
athlete of a household. Whether a `restday run` holds the store's lock is told, not judged: a
running service is fine. Each Home Assistant entity an input reads (`ha_statestream`) is
listened to for PEEK_S: has mqtt_statestream ever published its state, its unit and its
last_changed (retained, so a fresh subscriber hears them at once)? `athlete_lines` describes a
household's athletes: who, where, which inputs reach them, their Strava application and token.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restday.cli.exit_codes import EXIT_FAILURE, EXIT_OK
from restday.config import AthleteConfig, Config, MqttConfig
from restday.integrations import ha_statestream as ha
from restday.integrations.mqtt.topics import Topics
from restday.integrations.strava import TokenStore
from restday.store import holder, lock_path
from restday.store.folders import why_unwritable

PEEK_S = 1.0  # how long check-config listens to the entities' topics after subscribing
SUBSCRIBED_WITHIN_S = 5.0  # for the broker to connect and acknowledge the subscription
ENTITY_NEEDS = {  # what a reading of each role cannot do without, and the option that sends it
    "scale": (ha.UNIT, ha.LAST_CHANGED),
    "sleep": (ha.UNIT, ha.LAST_CHANGED),
    "HRV": (ha.LAST_CHANGED,),
    "resting HR": (ha.LAST_CHANGED,),
}
OPTION = {ha.UNIT: "publish_attributes", ha.LAST_CHANGED: "publish_timestamps"}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    text: str

    def line(self) -> str:
        return f"  {'ok ' if self.ok else 'FIX'}  {self.name}: {self.text}"


def check_config(config: Config, *, connect: bool) -> int:
    """Print the config, a household's athletes, and each check; exit 1 if one needs fixing."""
    print(f"config file: {config.config_path or 'none found (defaults and environment)'}")
    for key, value in _flatten(config.masked()):
        print(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    print("configuration OK")
    if config.rules.sleep_debt.need_hours is not None:
        print(
            "hint: rules.sleep_debt.need_hours fixes your nightly sleep need; remove it to count "
            "sleep debt against your own usual night (docs/rules.md, sleep_debt)"
        )
    if len(config.athletes) > 1:
        print("athletes:")
        print("\n".join(athlete_lines(config)))
    print("checks:")
    checks = run_checks(config, connect=connect)
    for check in checks:
        print(check.line())
    return EXIT_OK if all(check.ok for check in checks) else EXIT_FAILURE


def _flatten(data: object, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(data, dict):
        out: list[tuple[str, object]] = []
        for key, value in data.items():
            out.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        return [kv for i, x in enumerate(data) for kv in _flatten(x, f"{prefix}[{i}]")]
    return [(prefix, data)]


def run_checks(config: Config, *, connect: bool = True) -> list[Check]:
    checks = [_store(config.store_path()), _service(config.store_path())]
    if connect:
        checks.append(_broker(config))
        if checks[-1].ok:
            checks.extend(_entities(config))
    checks.extend(_strava(config, athlete_id) for athlete_id in config.athlete_ids())
    checks.extend(_topics(config))
    return checks


def _store(path: Path) -> Check:
    why = why_unwritable(path)  # a read-only file system, a folder or file it may not write
    if why is not None:
        return Check("store", False, why)
    return Check("store", True, f"{path}" + ("" if path.exists() else " (created on first use)"))


def _service(path: Path) -> Check:
    """Whether a `restday run` holds the store's lock (one service per store)."""
    try:
        running = holder(path)
    except OSError as exc:
        why = exc.strerror or exc.__class__.__name__
        return Check("service", True, f"cannot tell whether it runs ({lock_path(path)}: {why})")
    if running is None:
        return Check("service", True, "not running")
    pid = "pid unknown" if running.pid is None else f"pid {running.pid}"
    return Check("service", True, f"running ({pid})")


def _broker(config: Config) -> Check:
    from restday.integrations.mqtt import check_broker  # paho only for this check

    problem = check_broker(config.mqtt)
    if problem is not None:
        return Check("mqtt", False, problem)
    who = f"as {config.mqtt.username!r}" if config.mqtt.username else "anonymously"
    return Check("mqtt", True, f"connected to {config.mqtt.host}:{config.mqtt.port} {who}")


def _entities(config: Config) -> list[Check]:
    """Each Home Assistant entity an input reads: what mqtt_statestream published of it."""
    roles = _entity_roles(config)
    if not roles:
        return []
    heard = _listen(config.mqtt, [t for entity in roles for t in ha.subtopics(entity)], PEEK_S)
    if heard is None:
        return [Check("entities", False, "could not subscribe to their topics on the broker")]
    return [_entity(role, entity, heard) for entity, role in roles.items()]


def _entity_roles(config: Config) -> dict[str, str]:
    roles = {s.topic: "scale" for s in config.scale if s.preset == ha.PRESET}
    for sleep in config.sleep:
        if sleep.preset == ha.PRESET:
            roles[sleep.topic] = "sleep"
        if sleep.hrv_topic is not None:
            roles.setdefault(sleep.hrv_topic, "HRV")
        if sleep.resting_hr_topic is not None:
            roles.setdefault(sleep.resting_hr_topic, "resting HR")
    return roles


def _entity(role: str, entity: str, heard: dict[str, tuple[bytes, bool]]) -> Check:
    name = f"{role} {ha.entity_id(entity)}"
    state_topic, *_ = ha.subtopics(entity)
    if state_topic not in heard:
        return Check(
            name,
            False,
            f"nothing published on {state_topic}: is mqtt_statestream on with this entity "
            "included?",
        )
    payload, retained = heard[state_topic]
    state = payload.decode("utf-8", errors="replace").strip()
    text = f"last state {state[:40]} ({'retained' if retained else 'just published'})"
    missing = [p for p in ENTITY_NEEDS[role] if f"{entity}/{p}" not in heard]
    if missing:
        options = " and ".join(f"{OPTION[p]}: true" for p in missing)
        return Check(name, False, f"{text}, but no {' or '.join(missing)}: set {options}")
    return Check(name, True, text)


def _listen(
    mqtt: MqttConfig, topics: Sequence[str], wait_s: float
) -> dict[str, tuple[bytes, bool]] | None:
    """The first message on each of `topics` (payload, retained) within `wait_s` of
    subscribing, in a throw-away session; None if the broker did not take the subscription.
    (Beside `check_broker`, it belongs in mqtt/client.py; it uses only its `new_client`.)"""
    from restday.integrations.mqtt import new_client  # paho only for this check

    heard: dict[str, tuple[bytes, bool]] = {}
    subscribed = threading.Event()
    client = new_client(mqtt, f"{mqtt.client_id}-check", clean_session=True)

    def on_connect(c: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not reason.is_failure:
            c.subscribe([(topic, 1) for topic in topics])

    def on_subscribe(c: Any, userdata: Any, mid: Any, codes: Any, props: Any) -> None:
        subscribed.set()

    def on_message(c: Any, userdata: Any, message: Any) -> None:
        heard.setdefault(message.topic, (bytes(message.payload), bool(message.retain)))

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    try:
        client.connect(mqtt.host, mqtt.port)
    except (OSError, ValueError):
        return None
    client.loop_start()
    try:
        if not subscribed.wait(SUBSCRIBED_WITHIN_S):
            return None
        time.sleep(wait_s)
    finally:
        client.disconnect()
        client.loop_stop()
    return dict(heard)


def _strava(config: Config, athlete_id: str) -> Check:
    one = len(config.athletes) == 1
    name = "strava" if one else f"strava ({athlete_id})"
    strava = config.strava_for(athlete_id)
    if not (strava.client_id and strava.client_secret.get_secret_value()):
        return Check(name, True, "not configured: activities come from `restday import` only")
    path = config.token_path(athlete_id)
    token = TokenStore(path).load()
    if token is None:
        auth = "restday strava auth" if one else f"restday strava auth --athlete {athlete_id}"
        return Check(name, False, f"not authorised yet: run `{auth}`")
    athlete = f" for athlete {token.athlete_id}" if token.athlete_id else ""
    return Check(name, True, f"authorised{athlete} (token in {path})")


def athlete_lines(config: Config) -> list[str]:
    """Each athlete: id, name, time zone; the scales and sleep inputs that reach them; their
    Strava application (own, shared, none) and whether their token file exists."""
    lines: list[str] = []
    for athlete in config.athletes:
        lines.append(f"  {athlete.id} ({athlete.name}), time zone {athlete.timezone}")
        lines.append(f"    scales: {_scales(config, athlete.id)}")
        sleep = [
            f"sleep[{i}] {s.topic!r}"
            for i, s in enumerate(config.sleep)
            if config.sleep_athlete(s) == athlete.id
        ]
        lines.append(f"    sleep: {', '.join(sleep) or 'none'}")
        lines.append(f"    strava: {_app(config, athlete)}")
    return lines


def _scales(config: Config, athlete_id: str) -> str:
    found: list[str] = []
    for i, scale in enumerate(config.scale):
        if athlete_id not in config.scale_athletes(scale):
            continue
        band = scale.assign.bands().get(athlete_id)
        kg = f" ({band.min_kg:g}–{band.max_kg:g} kg of a shared scale)" if band else ""
        found.append(f"scale[{i}] {scale.topic!r}{kg}")
    return ", ".join(found) or "none"


def _app(config: Config, athlete: AthleteConfig) -> str:
    strava = config.strava_for(athlete.id)
    if not (strava.client_id and strava.client_secret.get_secret_value()):
        return "not configured"
    app = "own application" if athlete.strava.configured else "the shared application"
    path = config.token_path(athlete.id)
    token = "token file present" if path.exists() else "no token file yet"
    return f"{app} (client_id {strava.client_id}); {token}: {path}"


def _topics(config: Config) -> list[Check]:
    topics = Topics.of(config)
    own = {topics.pain_set, topics.sync_set, topics.ha_status}
    base = f"{config.mqtt.base_topic}/"
    inputs = [(f"scale[{i}].topic", s.topic) for i, s in enumerate(config.scale)]
    for i, sleep in enumerate(config.sleep):
        inputs.append((f"sleep[{i}].topic", sleep.topic))
        for key in ("hrv_topic", "resting_hr_topic"):
            if (topic := getattr(sleep, key)) is not None:
                inputs.append((f"sleep[{i}].{key}", topic))
    checks: list[Check] = []
    seen: dict[str, str] = {}
    for key, topic in inputs:
        if topic in own or topic.startswith(base):
            checks.append(Check("topics", False, f"{key} {topic!r} is one of restday's own topics"))
        elif topic in seen:
            checks.append(Check("topics", False, f"{key} repeats {seen[topic]} ({topic!r})"))
        seen.setdefault(topic, key)
    if not checks:
        listened = ", ".join(t for _, t in inputs) or "none (pain and sync from Home Assistant)"
        checks.append(Check("topics", True, f"inputs: {listened}"))
    return checks
