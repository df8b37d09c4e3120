"""The service on a real mosquitto: what Home Assistant and a runner see over MQTT."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from restday.clock import FixedClock
from restday.integrations import homeassistant
from restday.integrations.mqtt.topics import Topics
from tests.broker import Mosquitto
from tests.conftest import Probe, another_probe, retained, wait_until
from tests.daemon.service_harness import (
    MORNING,
    running,
    state_of,
    store_activities,
    strava,
    write_config,
)
from tests.factories import DAY, run, steady_runs

FLOOD = 50  # unusable messages in a burst

NIGHT_5_5_H = json.dumps({"start": "2026-11-19T23:30:00", "end": "2026-11-20T05:00:00"})


def base_history() -> list[dict[str, object]]:
    """Eight weeks of steady running up to yesterday, and this morning's usual 8 km run
    (07:00–07:45 local)."""
    return [strava(a) for a in [*steady_runs(DAY - timedelta(days=1), 8), run(DAY, 8.0)]]


def test_discovery_availability_and_state_are_retained_for_a_fresh_subscriber(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    discovery = homeassistant.discovery_topic(config)
    with running(config):
        probe.subscribe(topics.status)
        probe.wait_for(topics.status, b"online")
        for topic in (topics.status, discovery, topics.state, topics.diagnostics):
            assert retained(broker, topic).retained, topic
        device = json.loads(retained(broker, discovery).payload)
        assert device["availability_topic"] == topics.status


def test_short_night_and_dehydrating_run_recommend_rest_and_pain_8_says_see_a_doctor(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, scale="generic", sleep="generic")
    topics = Topics.of(config)
    store_activities(config, base_history())
    probe.subscribe(topics.state)
    probe.subscribe(topics.notification)
    with running(config):
        state_of(probe, topics, status="train")
        probe.publish(f"{topic_prefix}/sleep", NIGHT_5_5_H)
        easy = state_of(probe, topics, status="easy")
        assert [r["rule"] for r in easy["reasons"] if r["severity"] == "moderate"] == [
            "sleep_short"
        ]
        probe.publish(f"{topic_prefix}/scale", '{"weight": 70.0, "timestamp": "2026-11-20T06:54"}')
        probe.publish(f"{topic_prefix}/scale", '{"weight": 68.4, "timestamp": "2026-11-20T08:30"}')
        rest = state_of(probe, topics, status="rest")
        assert rest["rest_day_recommended"] is True
        moderate = {r["rule"] for r in rest["reasons"] if r["severity"] == "moderate"}
        assert {"sleep_short", "dehydration_post_run"} <= moderate
        probe.publish(topics.pain_set, "8")
        doctor = state_of(probe, topics, status="see_doctor")
        assert doctor["readiness"] == 0
    kinds = [json.loads(m.payload)["event_type"] for m in probe.messages(topics.notification)]
    assert kinds.count("rest_day") == 1  # once a day, though rest held for three inputs
    assert {"morning", "hydration", "pain"} <= set(kinds)


def test_bad_inputs_are_counted_and_the_next_valid_one_is_handled(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics = Topics.of(config)
    probe.subscribe(topics.diagnostics)
    probe.subscribe(topics.pain)
    scale = f"{topic_prefix}/scale"
    with running(config) as service:
        probe.wait_for(topics.diagnostics)
        for bad in (b"\xff\xfe", b"{not json", b'{"weight": "heavy"}', b'{"weight": 500}',
                    b"x" * (65 * 1024)):  # fmt: skip
            probe.publish(scale, bad)
        for bad in (b"11", b"-1", b"7.5", b"ouch"):
            probe.publish(topics.pain_set, bad)
        probe.publish(scale, '{"weight": 71.2, "timestamp": "2026-11-20T07:00"}')
        probe.publish(topics.pain_set, "3")
        assert probe.wait_for(topics.pain).payload == b"3"
        assert wait_until(lambda: service.worker.diagnostics.payload()["inputs"] == {
            "scale": {"stored": 1, "duplicates": 0, "rejected": 5},
            "sleep": {"stored": 0, "duplicates": 0, "rejected": 0},
            "pain": {"stored": 1, "duplicates": 0, "rejected": 4},
        })  # fmt: skip
        assert service.healthy()


def test_a_device_flooding_a_topic_with_bad_messages_gives_one_warning_an_hour(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG, logger="restday")
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics, scale, clock = Topics.of(config), f"{topic_prefix}/scale", FixedClock(MORNING)
    probe.subscribe(topics.pain)
    probe.subscribe(topics.state)

    def warnings() -> list[str]:
        return [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING and "rejected" in r.getMessage()]  # fmt: skip

    def handled(level: str) -> None:  # a marker behind the burst: the worker got that far
        probe.publish(topics.pain_set, level)
        probe.wait_for(topics.pain, level.encode())

    with running(config, clock) as service:
        state_of(probe, topics)  # connected and subscribed
        for i in range(FLOOD):  # e.g. a battery report every few seconds on the scale's topic
            probe.publish(scale, f'{{"battery": {i % 100}}}')
        handled("1")
        assert len(warnings()) == 1
        assert "rejected a scale message on " + scale in warnings()[0]
        clock.advance(timedelta(minutes=59))
        probe.publish(scale, '{"battery": 7}')
        handled("2")
        assert len(warnings()) == 1  # still within the hour
        clock.advance(timedelta(minutes=2))
        probe.publish(scale, '{"battery": 8}')
        handled("3")
        assert len(warnings()) == 2
        assert (
            f"({FLOOD} more rejected on this topic since 09:00, logged at DEBUG)" in warnings()[1]
        )
        rejected = service.worker.diagnostics.payload()["inputs"]["scale"]["rejected"]  # type: ignore[index]
        assert rejected == FLOOD + 2  # every one counted


def test_a_broker_that_lost_everything_gets_it_all_back_without_a_restart(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    discovery = homeassistant.discovery_topic(config)
    with running(config) as service:
        probe.subscribe(topics.status)
        probe.wait_for(topics.status, b"online")
        probe.close()
        broker.restart(wipe=True)
        assert wait_until(lambda: service.link.connected and service.link.reconnects >= 1, 30)
        with another_probe(broker, "after-restart") as fresh:
            for topic in (topics.status, discovery, topics.state, topics.diagnostics):
                fresh.subscribe(topic)
                fresh.wait_for(topic)
            fresh.subscribe(topics.pain)
            fresh.publish(topics.pain_set, "2")  # subscriptions are back too
            assert fresh.wait_for(topics.pain).payload == b"2"


def test_inputs_sent_while_restday_was_stopped_are_handled_when_it_starts(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    with running(config):
        probe.subscribe(topics.status)
        probe.wait_for(topics.status, b"online")
    probe.publish(topics.pain_set, "5", qos=1)  # restday is down: the broker keeps it
    probe.subscribe(topics.pain)
    with running(config):
        assert probe.wait_for(topics.pain).payload == b"5"


def test_home_assistant_birth_resends_discovery_once_per_burst(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    discovery = homeassistant.discovery_topic(config)
    probe.subscribe(discovery)
    with running(config) as service:
        probe.wait_for(discovery)  # sent on connect
        for _ in range(5):
            probe.publish(topics.ha_status, "online", qos=0)
        probe.wait_for(discovery)  # re-sent for the birth
        probe.publish(topics.pain_set, "1")  # a marker: the worker handled the burst
        assert wait_until(lambda: service.store.counts().pains == 1)
    assert len(probe.messages(discovery)) == 2
