"""Strava inside the running service: backfill, new runs, shoes, revoked access, recovery."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from restday.cli import main
from restday.clock import FixedClock
from restday.config import Config
from restday.daemon.notifications import REFUEL, REFUEL_AGAIN
from restday.daemon.service import Service
from restday.integrations import homeassistant
from restday.integrations.mqtt.topics import Topics
from tests.broker import Mosquitto
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import MORNING, running, state_of, write_config
from tests.strava_server import FakeStrava, summary_activity, summary_gear

NOON = MORNING.replace(hour=12)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOON)


@pytest.fixture
def strava(clock: FixedClock) -> Iterator[FakeStrava]:
    with FakeStrava(clock=clock) as fake:
        yield fake


def history(strava: FakeStrava) -> None:
    """Eight weeks of 8 km runs, five a week, with cadence and heart rate, up to yesterday."""
    first = NOON - timedelta(days=56)
    for day in range(56):
        start = (first + timedelta(days=day)).replace(hour=7)
        if start.weekday() in (0, 1, 3, 4, 6) and start.date() < NOON.date():
            strava.add(summary_activity(9_000 + day, start, 8.0, hr=145.0, suffer=40,
                                        cadence_per_leg=84.0, gear_id="g1"))  # fmt: skip


def authorise(config: Config, code: str) -> None:
    """`restday strava auth --code CODE`, as a user on a headless host runs it."""
    assert main(["strava", "auth", "--code", code, "--config", str(config.config_path)]) == 0


def a_runner_with_strava(
    tmp_path: Path, broker: Mosquitto, topic_prefix: str, strava: FakeStrava
) -> Config:
    """Eight weeks of runs on Strava, a config pointing at it, and restday authorised."""
    history(strava)
    config = write_config(tmp_path, broker, topic_prefix, strava=strava)
    authorise(config, strava.code)
    return config


def syncs_done(service: Service) -> bool:
    """No Strava sync under way (each runs in a `restday-strava` thread) and every result it
    handed over handled by the worker (the thread first: its result is queued before it ends)."""
    syncing = any(t.name == "restday-strava" for t in threading.enumerate())
    return not syncing and service.worker.drained()


def notes(probe: Probe, topics: Topics) -> list[dict[str, object]]:
    return [json.loads(m.payload) for m in probe.messages(topics.notification)]


def test_first_sync_backfills_quietly_and_a_new_run_is_announced(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str,
    strava: FakeStrava, clock: FixedClock,
) -> None:  # fmt: skip
    strava.set_shoes([summary_gear("g1", "Pegasus 40", 812.0, primary=True)])
    config = a_runner_with_strava(tmp_path, broker, topic_prefix, strava)
    topics = Topics.of(config)
    discovery = homeassistant.discovery_topic(config)
    for topic in (topics.state, topics.notification, discovery):
        probe.subscribe(topic)
    with running(config, clock) as service:
        state = state_of(probe, topics, status="train")  # calibrating until the backfill
        assert state["metrics"]["shoes"] == [{"id": "g1", "name": "Pegasus 40", "km": 812.0}]
        assert wait_until(lambda: b"restday_me_shoe_g1" in probe.messages(discovery)[-1].payload)
        run_end = clock.now() - timedelta(minutes=20)
        start = run_end - timedelta(seconds=8 * 330 + 60)  # 8 km at 5:30 /km, a minute's stop
        strava.add(summary_activity(99_001, start, 8.0, hr=150.0, suffer=45, name="Lunch Run"))
        probe.publish(topics.sync_set, "PRESS")
        post = probe.wait_for(topics.notification)
        while json.loads(post.payload)["event_type"] != "post_run":
            post = probe.wait_for(topics.notification)
        assert service.store.counts().activities == 41
    note = json.loads(post.payload)
    assert note["title"] == "Nice Lunch Run"  # an 8 km run like all the others: train
    assert "8.0 km" in note["message"]
    assert "Refuel within 30–60 min" in note["message"]
    assert note["data"]["load_source"] == "suffer_score"
    kinds = [n["event_type"] for n in notes(probe, topics)]
    assert kinds.count("post_run") == 1  # none for the 40 backfilled runs
    assert kinds.count("shoe") == 1  # 812 km: replace them


def post_run_of(probe: Probe, topics: Topics) -> dict[str, object]:
    """The next post_run notification (other notifications skipped)."""
    while True:
        note: dict[str, object] = json.loads(probe.wait_for(topics.notification).payload)
        if note["event_type"] == "post_run":
            return note


def new_run_announced(
    config: Config, clock: FixedClock, strava: FakeStrava, probe: Probe, stored: int, km: float
) -> str:
    """restday started on `stored` activities, a run that ended 20 min ago synced and
    restday stopped again: the run's post_run message."""
    topics = Topics.of(config)
    with running(config, clock) as service:
        assert wait_until(lambda: service.store.counts().activities == stored)
        start = clock.now() - timedelta(minutes=20, seconds=km * 330 + 60)
        strava.add(summary_activity(99_010 + stored, start, km, hr=150.0, suffer=30))
        probe.publish(topics.sync_set, "PRESS")
        return str(post_run_of(probe, topics)["message"])


def test_refuel_advice_is_given_once_a_day_even_across_a_restart(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str,
    strava: FakeStrava, clock: FixedClock,
) -> None:  # fmt: skip
    config = a_runner_with_strava(tmp_path, broker, topic_prefix, strava)
    probe.subscribe(Topics.of(config).notification)
    first = new_run_announced(config, clock, strava, probe, stored=40, km=8.0)  # at 11:40
    clock.advance(timedelta(hours=3))
    second = new_run_announced(config, clock, strava, probe, stored=41, km=5.0)  # at 14:40
    assert REFUEL in first
    assert REFUEL not in second
    assert REFUEL_AGAIN in second


def test_revoked_access_notifies_once_keeps_mqtt_serving_and_recovers_after_new_auth(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str,
    strava: FakeStrava, clock: FixedClock,
) -> None:  # fmt: skip
    config = a_runner_with_strava(tmp_path, broker, topic_prefix, strava)
    topics = Topics.of(config)
    for topic in (topics.state, topics.notification, topics.pain, topics.diagnostics):
        probe.subscribe(topic)
    with running(config, clock) as service:
        assert wait_until(lambda: service.store.counts().activities == 40)
        strava.revoke()
        clock.advance(timedelta(hours=7))  # the access token expired: a refresh is refused
        for _ in range(3):
            probe.publish(topics.sync_set, "PRESS")
        assert wait_until(lambda: service.worker.diagnostics.strava["auth"] == "required")
        assert wait_until(lambda: syncs_done(service))  # the burst's follow-up sync too
        calls = strava.count()
        probe.publish(topics.sync_set, "PRESS")  # no call to Strava while refused
        probe.publish(topics.pain_set, "2")  # MQTT still serves (handled after the press)
        assert probe.wait_for(topics.pain).payload == b"2"
        assert wait_until(lambda: syncs_done(service))  # the press's sync came and went
        assert strava.count() == calls
        assert service.store.counts().pains == 1
        strava.revoked = False
        authorise(config, strava.new_code())  # the runner signs in again
        strava.add(summary_activity(99_002, clock.now() - timedelta(hours=1), 5.0))
        probe.publish(topics.sync_set, "PRESS")
        assert wait_until(lambda: service.store.counts().activities == 41)
        assert service.worker.diagnostics.strava["auth"] == "ok"
    kinds = [n["event_type"] for n in notes(probe, topics)]
    assert kinds.count("auth_required") == 1
