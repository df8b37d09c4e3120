"""A household on a real mosquitto: two runners, one shared scale, one service (DESIGN.md §7)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from restday.clock import FixedClock
from restday.config import Config, load_config
from restday.integrations import homeassistant
from restday.integrations.mqtt.topics import AthleteTopics, Topics
from restday.integrations.strava import Token, TokenStore
from restday.store import Store
from restday.sync import ingest_activities
from tests.broker import Mosquitto
from tests.conftest import Probe, retained, wait_until
from tests.daemon.service_harness import MORNING, rows, running, strava, write_config
from tests.factories import DAY, steady_runs
from tests.strava_server import ATHLETE_ID, FakeStrava, summary_activity
from tests.test_store_upgrade_5 import schema_4_store

ANNA_KG = 58.4  # in anna's band only
BEN_KG = 79.1  # in ben's band only
NOBODYS_KG = 67.0  # between the bands
BEN_ON_STRAVA = 5001  # Ben's Strava athlete id (Anna's is the fake's own)


def household(
    folder: Path, broker: Mosquitto, prefix: str, *, strava: FakeStrava | None = None
) -> Config:
    """Anna and Ben share a scale (bands 52–64 and 70–88 kg); each has a sleep tracker; and
    with `strava`, both sync from one app (a fake Strava)."""
    text = f"""
[[athlete]]
id = "anna"
name = "Anna"
timezone = "Europe/Berlin"
[[athlete]]
id = "ben"
name = "Ben"
timezone = "Europe/Berlin"
[storage]
path = "restday.db"
[mqtt]
host = "{broker.host}"
port = {broker.port}
client_id = "restday-{prefix.replace("/", "-")}"
base_topic = "{prefix}/restday"
discovery_prefix = "{prefix}/ha"
[[scale]]
topic = "{prefix}/scale"
[scale.assign]
anna = [52, 64]
ben = [70, 88]
[[sleep]]
topic = "{prefix}/sleep/anna"
athlete = "anna"
[[sleep]]
topic = "{prefix}/sleep/ben"
athlete = "ben"
"""
    if strava is not None:
        text += (
            f'[strava]\nclient_id = "{strava.client_id}"\n'
            f'client_secret = "{strava.client_secret}"\napi_url = "{strava.url}"\n'
        )
    path = folder / "restday.toml"
    path.write_text(text)
    return load_config(path, explicit=True)


def weigh_in(kg: float, local_time: str) -> str:
    return json.dumps({"weight": kg, "timestamp": f"{DAY.isoformat()}T{local_time}"})


def state(probe: Probe, topics: AthleteTopics, **metrics: object) -> dict[str, Any]:
    """The next state of one athlete whose metrics have the given values."""
    while True:
        payload: dict[str, Any] = json.loads(probe.wait_for(topics.state).payload)
        if all(payload["metrics"].get(k) == v for k, v in metrics.items()):
            return payload


def online(probe: Probe, topics: Topics) -> None:
    """Wait until the service is up and subscribed (it connects in the background)."""
    probe.subscribe(topics.status)
    probe.wait_for(topics.status, b"online")


def notes(probe: Probe, topics: AthleteTopics, kind: str) -> list[dict[str, Any]]:
    found = [json.loads(m.payload) for m in probe.messages(topics.notification)]
    return [n for n in found if n["event_type"] == kind]


def with_history(config: Config) -> None:
    """Eight weeks of steady running for each, so both start out good to train."""
    history = [strava(a) for a in steady_runs(DAY - timedelta(days=1), 8)]
    with Store.open(config.store_path(), athlete="anna") as store:
        ingest_activities(store, history, athlete="anna")
        ingest_activities(store, [{**a, "id": int(str(a["id"])) + 10**9} for a in history],
                          athlete="ben")  # fmt: skip


def test_a_shared_scale_gives_each_weigh_in_to_the_athlete_whose_band_holds_it(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = household(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    anna, ben = topics.of_athlete("anna"), topics.of_athlete("ben")
    probe.subscribe(anna.state)
    probe.subscribe(ben.state)
    with running(config):
        online(probe, topics)
        probe.publish(f"{topic_prefix}/scale", weigh_in(ANNA_KG, "06:50"), qos=1)
        probe.publish(f"{topic_prefix}/scale", weigh_in(BEN_KG, "07:05"), qos=1)
        assert state(probe, anna, weight_kg=ANNA_KG)["metrics"]["weight_kg"] == ANNA_KG
        assert state(probe, ben, weight_kg=BEN_KG)["metrics"]["weight_kg"] == BEN_KG
    with Store.open(config.store_path(), athlete="anna", read_only=True) as store:
        assert [m.weight_kg for m in store.history(athlete="anna").body] == [ANNA_KG]
        assert [m.weight_kg for m in store.history(athlete="ben").body] == [BEN_KG]


def test_a_weigh_in_that_fits_nobody_is_held_announced_and_assigned_by_command_after_a_restart(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = household(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    anna, ben = topics.of_athlete("anna"), topics.of_athlete("ben")
    for t in (anna, ben):
        probe.subscribe(t.notification)
        probe.subscribe(t.diagnostics)
    probe.subscribe(ben.state)
    with running(config) as service:
        online(probe, topics)
        probe.publish(f"{topic_prefix}/scale", weigh_in(NOBODYS_KG, "07:12"), qos=1)
        assert wait_until(lambda: notes(probe, anna, "unassigned_weigh_in") != [])
        assert wait_until(lambda: notes(probe, ben, "unassigned_weigh_in") != [])
        note = notes(probe, ben, "unassigned_weigh_in")[0]
        assert note["data"]["weight_kg"] == NOBODYS_KG
        assert note["data"]["candidates"] == []
        assert ben.assign_set in note["message"]
        diagnostics = service.worker.athletes["ben"].diagnostics.payload()
        assert diagnostics["inputs"]["scale"]["unassigned"] == 1  # type: ignore[index]
        assert service.worker.athletes["ben"].history.body == ()
    assert rows(config.store_path(), "unassigned") == 1  # kept across the restart
    with running(config, FixedClock(MORNING + timedelta(minutes=5))):
        online(probe, topics)
        probe.publish(ben.assign_set, note["data"]["time"], qos=1)
        assert state(probe, ben, weight_kg=NOBODYS_KG)["metrics"]["weight_kg"] == NOBODYS_KG
    assert rows(config.store_path(), "unassigned") == 0
    announced = [n for t in (anna, ben) for n in notes(probe, t, "unassigned_weigh_in")]
    assert len(announced) == 2  # once to each, not again after the restart


def test_one_athletes_pain_never_touches_the_others_status(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = household(tmp_path, broker, topic_prefix)
    with_history(config)
    topics = Topics.of(config)
    anna, ben = topics.of_athlete("anna"), topics.of_athlete("ben")
    with running(config) as service:
        online(probe, topics)
        probe.publish(anna.pain_set, "8", qos=1)
        assert wait_until(lambda: json.loads(retained(broker, anna.state).payload)["status"]
                          == "see_doctor")  # fmt: skip
        ben_state = json.loads(retained(broker, ben.state).payload)
        assert ben_state["status"] == "train"
        assert service.worker.athletes["ben"].history.pains == ()


def test_each_athlete_is_a_home_assistant_device_of_their_own(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = household(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    with running(config):
        online(probe, topics)
        for athlete, name in (("anna", "Anna"), ("ben", "Ben")):
            discovery = homeassistant.discovery_topic(config, athlete)
            assert wait_until(lambda t=discovery: retained(broker, t).payload != b"")  # type: ignore[misc]
            device = json.loads(retained(broker, discovery).payload)
            assert device["device"]["name"] == f"restday ({name})"
            assert device["device"]["identifiers"] == [f"restday_{athlete}"]
            assert device["availability_topic"] == topics.status  # one service, one status
            own = topics.of_athlete(athlete)
            states = {c.get("state_topic") for c in device["components"].values()}
            assert own.state in states
            assert not any(
                f"/{other}/" in str(s) for s in states for other in {"anna", "ben"} - {athlete}
            )


def test_a_single_runners_store_from_before_households_keeps_serving_their_history(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")  # today's README
    schema_4_store(config.store_path())  # as restday wrote it before households
    topics = Topics.of(config)
    probe.subscribe(topics.state)
    with running(config) as service:
        shown = state(probe, topics.first, weight_kg=70.4)
        assert shown["metrics"]["weight_kg"] == 70.4  # the old store's weigh-in
        assert [a.id for a in service.worker.athlete.history.activities] == [1000]
        assert service.worker.athlete.history.pains != ()


def test_each_runners_strava_run_reaches_only_their_own_state_and_notifications(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    with FakeStrava(clock=FixedClock(MORNING)) as fake:
        config = household(tmp_path, broker, topic_prefix, strava=fake)
        with_history(config)  # so a sync asks for what is new: news, not a backfill
        topics = Topics.of(config)
        anna, ben = topics.of_athlete("anna"), topics.of_athlete("ben")
        for athlete, strava_id in (("anna", ATHLETE_ID), ("ben", BEN_ON_STRAVA)):
            grant = Token.from_json(fake.grant(athlete=strava_id))
            TokenStore(config.token_path(athlete)).save(grant)
        this_morning = MORNING - timedelta(hours=2)  # 07:00, ended well within six hours
        fake.add(summary_activity(1, this_morning, 10.0))  # anna's
        fake.add_for(BEN_ON_STRAVA, summary_activity(2, this_morning - timedelta(days=1), 6.0))
        for t in (anna, ben):
            probe.subscribe(t.notification)
        with running(config, FixedClock(MORNING)) as service:
            online(probe, topics)
            probe.publish(ben.sync_set, "PRESS", qos=1)  # his first poll is spread later

            def ids(athlete: str) -> set[int]:
                return {int(a.id) for a in service.worker.athletes[athlete].history.activities}

            assert wait_until(lambda: 1 in ids("anna") and 2 in ids("ben"))
            assert wait_until(lambda: notes(probe, anna, "post_run") != [])
            assert 2 not in ids("anna")
            assert 1 not in ids("ben")
        assert notes(probe, ben, "post_run") == []  # his run was yesterday's, and not hers
