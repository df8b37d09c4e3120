"""Home Assistant entities as inputs (`ha_statestream`) in the service: what mqtt_statestream
publishes, paired, stored once, counted; end to end on a real mosquitto, and `check-config`
telling whether each entity was ever published.

The worker runs on the test's thread in the first tests (as in test_batches.py), with the
receipt times the messages carry; the last ones run the real service on the test's broker."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restday.cli import main
from restday.cli.exit_codes import EXIT_FAILURE
from restday.clock import FixedClock
from restday.config import Config, load_config
from restday.daemon.events import Lifecycle
from restday.daemon.inputs import InputHandler
from restday.daemon.service import Service
from restday.daemon.stored import Stored
from restday.daemon.worker import Worker
from restday.integrations.ha_statestream import subtopics
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.models import BodyMeasurement
from restday.store import Store
from restday.sync import STRAVA_PARSERS
from tests.broker import Mosquitto
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import MORNING, running, state_of

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
MS = timedelta(milliseconds=1)
WEIGHT = "hass/sensor/anna_weight"
NIGHT = "hass/sensor/anna_sleep_duration"
HRV = "hass/sensor/anna_hrv"
RESTING_HR = "hass/sensor/anna_resting_heart_rate"
ENTITIES = f"""
[[scale]]
topic = "{WEIGHT}"
preset = "ha_statestream"
[[sleep]]
topic = "{NIGHT}"
preset = "ha_statestream"
hrv_topic = "{HRV}"
resting_hr_topic = "{RESTING_HR}"
"""


class Recorder:
    """The MQTT link's `publish`, remembered."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 0
    ) -> None:
        self.sent.append((topic, payload.decode() if isinstance(payload, bytes) else payload))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "restday.toml"
    path.write_text(
        '[athlete]\nid = "anna"\ntimezone = "Europe/Berlin"\n[storage]\npath = "restday.db"\n'
        + ENTITIES
    )
    return load_config(path, explicit=True)


@pytest.fixture
def store(config: Config) -> Iterator[Store]:
    with Store.open(config.store_path(), parsers=STRAVA_PARSERS) as opened:
        yield opened


def worker(config: Config, store: Store) -> Worker:
    made = Worker(config, store, Recorder(), FixedClock(NOW), ha_listening_grace_s=0.0)
    made.handle(Lifecycle.CONNECTED)
    return made


def published(
    entity: str,
    state: str,
    unit: str | None,
    changed: datetime | None,
    *,
    at: datetime = NOW,
    retained: bool = False,
) -> list[InboundMessage]:
    """What mqtt_statestream publishes for one state change, as restday receives it: the state,
    its last_changed (ISO 8601), its unit (JSON-encoded), milliseconds apart."""
    state_topic, changed_topic, unit_topic = subtopics(entity)
    parts = [(state_topic, state)]
    if changed is not None:
        parts.append((changed_topic, changed.isoformat()))
    if unit is not None:
        parts.append((unit_topic, json.dumps(unit)))
    return [
        InboundMessage(t, p.encode(), retained, 1, at + i * MS) for i, (t, p) in enumerate(parts)
    ]


def test_a_reading_in_pounds_is_stored_once_in_kg_at_its_last_changed(
    config: Config, store: Store
) -> None:
    w = worker(config, store)
    weighed = NOW - timedelta(minutes=20)
    w.handle_inputs(published(WEIGHT, "134.9", "lb", weighed))
    [weigh_in] = store.history(athlete="anna").body
    assert (weigh_in.time, round(weigh_in.weight_kg, 2)) == (weighed, 61.19)
    assert w.athletes["anna"].last_weight() == weigh_in.weight_kg
    # An attribute changed (its friendly name, say): Home Assistant publishes it all again.
    w.handle_inputs(published(WEIGHT, "134.9", "lb", weighed, at=NOW + timedelta(hours=1)))
    assert store.counts(athlete="anna").weigh_ins == 1
    assert store.counters()["scale"]["duplicates"] == 1


def test_a_retained_replay_after_a_restart_is_stored_once(config: Config, store: Store) -> None:
    weighed = NOW - timedelta(minutes=20)
    worker(config, store).handle_inputs(published(WEIGHT, "61.2", "kg", weighed, retained=True))
    restarted = worker(config, store)  # a new service: nothing paired in memory
    replay = published(WEIGHT, "61.2", "kg", weighed, at=NOW + timedelta(hours=5), retained=True)
    restarted.handle_inputs(replay)
    assert store.counts(athlete="anna").weigh_ins == 1
    assert store.counters()["scale"]["duplicates"] == 1


def test_a_state_whose_companions_stay_away_is_read_when_a_later_message_shows_2_s_passed(
    config: Config, store: Store
) -> None:
    w = worker(config, store)
    w.handle_inputs(published(WEIGHT, "61.2", "lb", None, at=NOW - timedelta(days=2))[1:])
    [state] = published(WEIGHT, "134.9", None, None)  # publish_timestamps and attributes off?
    w.handle_inputs([state])
    assert store.counts(athlete="anna").weigh_ins == 0  # waiting for its companions
    [later] = published(NIGHT, "unknown", None, None, at=NOW + timedelta(seconds=3))
    w.handle_inputs([later])
    [weigh_in] = store.history(athlete="anna").body
    assert weigh_in.time == NOW  # the time received
    assert round(weigh_in.weight_kg, 2) == 61.19  # the last unit known: lb


def test_a_lone_state_is_stored_on_the_idle_worker_once_2_s_passed_with_no_other_message(
    config: Config, store: Store
) -> None:
    clock = FixedClock(NOW)
    w = Worker(config, store, Recorder(), clock, ha_listening_grace_s=0.0)
    w.handle(Lifecycle.CONNECTED)
    w.handle_inputs(published(WEIGHT, "61.2", "lb", None, at=NOW - timedelta(days=2))[1:])
    w.handle_inputs(published(WEIGHT, "134.9", None, None)[:1])  # timestamps off in HA
    w.idle()
    assert store.counts(athlete="anna").weigh_ins == 0  # still waiting for its companions
    clock.advance(timedelta(seconds=3))
    w.idle()  # what the worker does every second when nothing comes
    [weigh_in] = store.history(athlete="anna").body
    assert (weigh_in.time, round(weigh_in.weight_kg, 2)) == (NOW, 61.19)
    assert w.athletes["anna"].last_weight() == weigh_in.weight_kg  # and in the state


def test_a_tick_can_read_what_waited_too_long(config: Config, store: Store) -> None:
    handler = InputHandler(config, store, Topics.of(config))
    [state] = published(WEIGHT, "61.2", None, None)
    with store.batch():
        assert handler.handle(state, alone=False) == "ignored"
    handler.committed()
    with store.batch():
        assert handler.expire(NOW + timedelta(seconds=1)) == []
        [refused] = handler.expire(NOW + timedelta(seconds=3))
    handler.committed()
    assert refused == "rejected"  # no unit ever came: kg or lb cannot be guessed
    assert store.counters()["scale"]["rejected"] == 1


def test_what_was_paired_in_a_transaction_undone_is_forgotten(config: Config, store: Store) -> None:
    handler = InputHandler(config, store, Topics.of(config))
    state, changed, unit = published(WEIGHT, "61.2", "kg", NOW - timedelta(minutes=5))
    with store.batch():
        handler.handle(state, alone=False)
    handler.undone()  # the store could not take it: held.py takes the state again later
    with store.batch():
        assert handler.handle(changed, alone=False) == "ignored"
        assert handler.handle(unit, alone=False) == "ignored"
    handler.committed()
    with store.batch():
        outcomes = [handler.handle(m, alone=False) for m in (state, changed, unit)]
    handler.committed()
    assert outcomes[:2] == ["ignored", "ignored"]
    assert isinstance(outcomes[2], Stored)
    assert isinstance(outcomes[2].item, BodyMeasurement)


def test_an_unknown_unit_and_a_state_that_is_no_number_are_counted_and_kept_aside(
    config: Config, store: Store
) -> None:
    w = worker(config, store)
    w.handle_inputs(published(WEIGHT, "21.4", "%", NOW - timedelta(minutes=9)))
    w.handle_inputs(published(WEIGHT, "heavy", "kg", NOW - timedelta(minutes=8)))
    w.handle_inputs(published(WEIGHT, "unavailable", "kg", NOW - timedelta(minutes=7)))
    assert store.counters()["scale"]["rejected"] == 2  # unavailable is not counted
    with closing(sqlite3.connect(config.store_path())) as conn:  # what a user can look up
        rows = conn.execute("SELECT raw, reason FROM unparsed").fetchall()
    reasons = [reason for _, reason in rows]
    assert f"{WEIGHT}/state at " in reasons[0]
    assert 'unit "%" of sensor.anna_weight is not a weight unit' in reasons[0]
    assert 'state "heavy" of sensor.anna_weight is not a number' in reasons[1]
    assert json.loads(rows[0][0])["unit_of_measurement"] == "%"


def test_a_night_takes_its_hrv_and_resting_hr_from_their_entities_when_near(
    config: Config, store: Store
) -> None:
    w = worker(config, store)
    woke = NOW - timedelta(hours=2)
    w.handle_inputs(published(HRV, "48", "ms", woke - timedelta(minutes=1)))
    w.handle_inputs(published(NIGHT, "450", "min", woke, at=NOW + timedelta(seconds=5)))
    [night] = store.history(athlete="anna").sleeps
    assert (night.hours, night.end, night.hrv_ms, night.resting_hr) == (7.5, woke, 48.0, None)
    # The resting heart rate comes a poll later: the night is stored again with it.
    later = NOW + timedelta(minutes=30)
    w.handle_inputs(published(RESTING_HR, "47", "bpm", woke + timedelta(minutes=30), at=later))
    [night] = store.history(athlete="anna").sleeps
    assert (night.hrv_ms, night.resting_hr) == (48.0, 47.0)
    assert w.athletes["anna"].history.sleeps[-1].resting_hr == 47.0  # and in the history
    # Tomorrow's HRV is not last night's.
    tomorrow = NOW + timedelta(days=1)
    w.handle_inputs(published(HRV, "55", "ms", tomorrow, at=tomorrow))
    assert store.history(athlete="anna").sleeps[-1].hrv_ms == 48.0


# --- end to end, on a real mosquitto --------------------------------------------------------


def write_config(folder: Path, broker: Mosquitto, prefix: str, inputs: str) -> Config:
    path = folder / "restday.toml"
    path.write_text(
        f'[athlete]\nid = "anna"\nname = "Anna"\ntimezone = "Europe/Berlin"\n'
        f'[storage]\npath = "restday.db"\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n'
        f'client_id = "restday-{prefix.replace("/", "-")}"\n'
        f'base_topic = "{prefix}/restday"\ndiscovery_prefix = "{prefix}/ha"\n{inputs}'
    )
    return load_config(path, explicit=True)


def publish_as_home_assistant(
    probe: Probe, entity: str, state: str, unit: str, changed: datetime
) -> None:
    """mqtt_statestream's order, retained, QoS 1: state, last_changed, then the attributes."""
    state_topic, changed_topic, unit_topic = subtopics(entity)
    probe.publish(state_topic, state, retain=True)
    probe.publish(f"{entity}/last_updated", changed.isoformat(), retain=True)
    probe.publish(changed_topic, changed.isoformat(), retain=True)
    probe.publish(unit_topic, json.dumps(unit), retain=True)
    probe.publish(f"{entity}/friendly_name", json.dumps("Anna weight"), retain=True)


def weighs(probe: Probe, topics: Topics, kg: float) -> None:
    """The next state that shows the athlete weighing `kg` (published after the first ones,
    which may come before the input)."""
    while (weight := state_of(probe, topics)["metrics"]["weight_kg"]) != kg:
        assert weight is None or weight != kg


def test_a_weight_home_assistant_published_reaches_the_athlete_s_state_once(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    entity = f"{topic_prefix}/hass/sensor/anna_weight"
    config = write_config(
        tmp_path,
        broker,
        topic_prefix,
        f'[[scale]]\ntopic = "{entity}"\npreset = "ha_statestream"\n',
    )
    topics = Topics.of(config)
    weighed = MORNING - timedelta(hours=2)
    publish_as_home_assistant(probe, entity, "61.2", "kg", weighed)  # before restday runs
    probe.subscribe(topics.state)
    with running(config) as service:
        weighs(probe, topics, 61.2)  # from the broker's replay
        publish_as_home_assistant(probe, entity, "134", "lb", weighed + timedelta(minutes=1))
        weighs(probe, topics, 60.8)
        assert service.worker.athlete.last_weight() == pytest.approx(60.781, abs=0.001)
    with running(config) as service:  # restarted: the retained replay again, stored once
        counted = {"stored": 2, "duplicates": 1, "rejected": 0}
        assert wait_until(lambda: scale_inputs(service) == counted), scale_inputs(service)


def scale_inputs(service: Service) -> object:
    """The diagnostics' counts of scale inputs."""
    inputs = service.worker.diagnostics.payload()["inputs"]
    return inputs.get("scale") if isinstance(inputs, dict) else None


def test_check_config_tells_which_entities_home_assistant_has_published(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    weight, night, hrv = (f"{topic_prefix}/hass/sensor/{n}" for n in ("anna_weight", "s", "hrv"))
    config = write_config(
        tmp_path,
        broker,
        topic_prefix,
        f'[[scale]]\ntopic = "{weight}"\npreset = "ha_statestream"\n'
        f'[[sleep]]\ntopic = "{night}"\npreset = "ha_statestream"\nhrv_topic = "{hrv}"\n',
    )
    publish_as_home_assistant(probe, weight, "61.2", "kg", MORNING)
    probe.publish(f"{night}/state", "7.5", retain=True)  # publish_attributes off: no unit
    probe.publish(f"{night}/last_changed", MORNING.isoformat(), retain=True)
    assert main(["check-config", "--config", str(config.config_path)]) == EXIT_FAILURE
    out = capsys.readouterr().out
    assert "  ok   scale sensor.anna_weight: last state 61.2 (retained)\n" in out
    assert (
        "  FIX  sleep sensor.s: last state 7.5 (retained), but no unit_of_measurement: "
        "set publish_attributes: true\n"
    ) in out
    assert (
        f"  FIX  HRV sensor.hrv: nothing published on {hrv}/state: is mqtt_statestream on "
        "with this entity included?\n"
    ) in out
    assert "ok   mqtt: connected" in out
