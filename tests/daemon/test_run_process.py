"""`restday run` as systemd runs it: a process that stops cleanly, or dies and leaves its will."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from restday.cli import main
from restday.config import Config
from restday.integrations.mqtt.topics import Topics
from tests.broker import Mosquitto
from tests.conftest import Probe, another_probe, retained
from tests.daemon.service_harness import write_config
from tests.strava_server import FakeStrava, summary_activity

EXIT_WITHIN_S = 5.0  # the promise: SIGTERM to exit 0 in under 5 s


@contextmanager
def restday_run(
    config: Config, log: Path, *, preexec: Callable[[], None] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`restday run` as systemd starts it (`preexec` runs in the child before exec)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTDAY_")}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "restday", "run", "--config", str(config.config_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=preexec,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigterm_publishes_offline_and_exits_0_quickly(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    probe.subscribe(topics.status)
    with restday_run(config, tmp_path / "run.log") as process:
        probe.wait_for(topics.status, b"online")
        probe.subscribe(topics.state)
        probe.wait_for(topics.state)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=EXIT_WITHIN_S + 5) == 0
        assert time.monotonic() - started < EXIT_WITHIN_S
    probe.wait_for(topics.status, b"offline")
    status = retained(broker, topics.status)
    assert (status.payload, status.retained) == (b"offline", True)
    log = (tmp_path / "run.log").read_text()
    assert "received SIGTERM" in log
    assert "Traceback" not in log


def test_sigkill_leaves_the_last_will_and_a_restart_restores_the_state(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix)
    topics = Topics.of(config)
    probe.subscribe(topics.status)
    probe.subscribe(topics.pain)
    with restday_run(config, tmp_path / "run.log") as process:
        probe.wait_for(topics.status, b"online")
        probe.publish(topics.pain_set, "6")
        assert probe.wait_for(topics.pain).payload == b"6"
        process.kill()
        process.wait()
    probe.wait_for(topics.status, b"offline")  # the broker published the will
    broker.restart(wipe=True)  # and then lost every retained message
    with another_probe(broker, "after-kill") as fresh:
        fresh.subscribe(topics.state)
        with restday_run(config, tmp_path / "run2.log"):
            state = json.loads(fresh.wait_for(topics.state).payload)
        assert state["status"] == "rest"  # pain 6 today, rebuilt from the store
        assert state["reasons"][0]["rule"] == "pain"


def test_a_new_strava_run_becomes_a_post_run_notification_and_a_new_state(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    now = datetime.now(UTC)
    with FakeStrava() as strava:
        for day in range(1, 30, 2):  # a run every other day for four weeks
            strava.add(summary_activity(7_000 + day, now - timedelta(days=day), 6.0, suffer=30))
        config = write_config(tmp_path, broker, topic_prefix, strava=strava)
        code = ["strava", "auth", "--code", strava.code, "--config", str(config.config_path)]
        assert main(code) == 0
        topics = Topics.of(config)
        probe.subscribe(topics.state)
        probe.subscribe(topics.notification)
        with restday_run(config, tmp_path / "run.log"):
            while json.loads(probe.wait_for(topics.state).payload)["metrics"]["week_km"] == 0:
                pass  # until the first sync (a backfill) is in
            ended = now - timedelta(minutes=10)
            strava.add(summary_activity(8_000, ended - timedelta(seconds=10 * 330 + 60), 10.0,
                                        suffer=60, name="Evening Run"))  # fmt: skip
            probe.publish(topics.sync_set, "PRESS")
            note = json.loads(probe.wait_for(topics.notification).payload)
            while note["event_type"] != "post_run":
                note = json.loads(probe.wait_for(topics.notification).payload)
            state = json.loads(probe.wait_for(topics.state).payload)
            while (
                state["metrics"]["longest_run_30d_km"] != 10.0
                and state["metrics"]["today_run_km"] < 10.0
            ):  # states of the button press come first
                state = json.loads(probe.wait_for(topics.state).payload)
    assert note["data"]["status"] == "easy"  # 10 km after 6 km runs: run_spike, +67 %
    assert note["title"] == "Evening Run: keep it easy today"  # no "Nice …" then
    assert note["message"].startswith("10.0 km logged. Keep it easy today: ")
    assert note["data"]["distance_km"] == 10.0
    assert strava.client_secret not in (tmp_path / "run.log").read_text()
