"""Strava down, hanging or rate-limited: MQTT keeps its pace, the sync resumes by itself."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from restday.cli import main
from restday.clock import FixedClock
from restday.integrations.mqtt.topics import Topics
from tests.broker import Mosquitto
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import MORNING, running, write_config
from tests.daemon.test_run_process import EXIT_WITHIN_S, restday_run
from tests.strava_server import ACTIVITIES_PATH, FakeStrava, summary_activity

HANG_S = 30.0  # Strava answers nothing for this long (longer than restday's read timeout)
PROMPT_S = 2.0  # a pain report is still echoed within this while Strava hangs
POLL = timedelta(minutes=15)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MORNING)


@pytest.fixture
def strava(clock: FixedClock) -> Iterator[FakeStrava]:
    with FakeStrava(clock=clock) as fake:
        for day in range(1, 6):
            fake.add(
                summary_activity(100 + day, MORNING.astimezone(UTC) - timedelta(days=day), 6.0)
            )
        yield fake


def test_a_hanging_strava_never_slows_the_mqtt_side(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str,
    strava: FakeStrava, clock: FixedClock,
) -> None:  # fmt: skip
    config = write_config(tmp_path, broker, topic_prefix, strava=strava)
    assert main(["strava", "auth", "--code", strava.code, "--config", str(config.config_path)]) == 0
    topics = Topics.of(config)
    probe.subscribe(topics.state)
    probe.subscribe(topics.pain)
    with running(config, clock) as service:
        assert wait_until(lambda: service.store.counts().activities == 5)
        strava.hang_next(3, seconds=HANG_S)
        probe.publish(topics.sync_set, "PRESS")  # the sync now waits on Strava in a job thread
        assert wait_until(lambda: strava.count(ACTIVITIES_PATH) >= 2)
        for level in ("1", "2", "3"):
            started = time.monotonic()
            probe.publish(topics.pain_set, level)
            assert probe.wait_for(topics.pain, level.encode()).payload == level.encode()
            assert time.monotonic() - started < PROMPT_S
        assert service.healthy()


def test_an_hour_of_strava_errors_then_the_sync_resumes(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str,
    strava: FakeStrava, clock: FixedClock,
) -> None:  # fmt: skip
    config = write_config(tmp_path, broker, topic_prefix, strava=strava)
    assert main(["strava", "auth", "--code", strava.code, "--config", str(config.config_path)]) == 0
    with running(config, clock) as service:
        assert wait_until(lambda: service.store.counts().activities == 5)
        sync = service.sync
        assert sync is not None
        strava.fail_next(4, 503)
        for _ in range(4):  # an hour of polls, each answered 503
            clock.advance(POLL)
            sync.poll()
        assert wait_until(lambda: "503" in str(service.worker.diagnostics.payload()["strava"]))
        strava.add(summary_activity(200, clock.now().astimezone(UTC) - timedelta(hours=1), 9.0))
        clock.advance(POLL)
        sync.poll()
        assert wait_until(lambda: service.store.counts().activities == 6)
        diagnostics = service.worker.diagnostics.payload
        assert wait_until(lambda: diagnostics()["strava"]["last_error"] is None)  # type: ignore[index]


def test_sigterm_while_strava_hangs_still_exits_within_five_seconds(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    with FakeStrava() as fake:
        config = write_config(tmp_path, broker, topic_prefix, strava=fake)
        assert (
            main(["strava", "auth", "--code", fake.code, "--config", str(config.config_path)]) == 0
        )
        fake.hang_next(5, seconds=HANG_S)
        topics = Topics.of(config)
        probe.subscribe(topics.status)
        with restday_run(config, tmp_path / "run.log") as process:
            probe.wait_for(topics.status, b"online")
            assert wait_until(lambda: fake.count(ACTIVITIES_PATH) >= 1)  # the sync now hangs
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=HANG_S) == 0
            assert time.monotonic() - started < EXIT_WITHIN_S
