"""Outages at the edges: a broker that is not there yet, a broker that refuses the login."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from restday.cli import main
from restday.config import load_config
from restday.integrations.mqtt import RECONNECT_MAX_S
from restday.integrations.mqtt.topics import Topics
from tests.conftest import BrokerFactory, Probe, wait_until
from tests.daemon.service_harness import rows
from tests.strava_server import ACTIVITIES_PATH, FakeStrava, summary_activity

BROKER_LATE_S = 60.0  # the broker appears this long after restday (a Pi booting)
FOUND_WITHIN_S = RECONNECT_MAX_S + 5.0  # then restday is online within the longest back-off
WAIT_S = 60.0


def notify_socket(tmp_path: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify"))
    listener.settimeout(WAIT_S)
    return listener


def test_broker_down_at_boot_ready_at_once_then_everything_once_it_appears(
    tmp_path: Path, broker_factory: BrokerFactory
) -> None:
    broker = broker_factory()
    path = tmp_path / "restday.toml"
    path.write_text(f'[storage]\npath = "restday.db"\n[mqtt]\nhost = "{broker.host}"\n'
                    f'port = {broker.port}\nbase_topic = "boot"\n')  # fmt: skip
    topics = Topics.of(load_config(path, explicit=True))
    ready = notify_socket(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTDAY_")}
    env["NOTIFY_SOCKET"] = str(tmp_path / "notify")
    log = (tmp_path / "run.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "restday", "run", "--config", str(path)],
                               stdout=log, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    try:
        started = time.monotonic()
        assert ready.recv(4096) == b"READY=1"  # systemd may start what depends on it
        assert time.monotonic() - started < BROKER_LATE_S
        while time.monotonic() - started < BROKER_LATE_S:
            assert process.poll() is None  # no crash, no restart storm: it waits
            time.sleep(0.5)
        broker.start()
        appeared = time.monotonic()
        probe = Probe(broker.host, broker.port, client_id="boot-probe")
        try:
            probe.subscribe(topics.status)
            assert probe.wait_for(topics.status, timeout_s=WAIT_S).payload == b"online"
            assert time.monotonic() - appeared < FOUND_WITHIN_S
            for topic in (topics.state, topics.diagnostics):
                probe.subscribe(topic)
                probe.wait_for(topic, timeout_s=WAIT_S)
        finally:
            probe.close()
    finally:
        process.terminate()
        process.wait(WAIT_S)
        ready.close()
    text = (tmp_path / "run.log").read_text()
    assert text.count("cannot connect to the broker") == 1  # one warning for the outage


def test_a_wrong_broker_password_is_one_clear_error_and_strava_keeps_syncing(
    tmp_path: Path, broker_factory: BrokerFactory
) -> None:
    broker = broker_factory(users={"restday": "the-right-one"})
    broker.start()
    now = datetime.now(UTC)
    with FakeStrava() as strava:
        for day in range(1, 6):
            strava.add(summary_activity(2_000 + day, now - timedelta(days=day), 6.0))
        path = tmp_path / "restday.toml"
        path.write_text(
            f'[storage]\npath = "restday.db"\n[mqtt]\nhost = "{broker.host}"\n'
            f'port = {broker.port}\nusername = "restday"\npassword = "a-wrong-one"\n'
            f'[strava]\nclient_id = "{strava.client_id}"\n'
            f'client_secret = "{strava.client_secret}"\napi_url = "{strava.url}"\n'
        )
        assert main(["strava", "auth", "--code", strava.code, "--config", str(path)]) == 0
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESTDAY_")}
        with (tmp_path / "run.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "restday", "run", "--config", str(path)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        try:
            db = tmp_path / "restday.db"
            assert wait_until(lambda: rows(db, "activity") == 5, WAIT_S)  # Strava still syncs
            assert strava.count(ACTIVITIES_PATH) >= 1
            assert process.poll() is None  # it keeps running and retrying slowly
        finally:
            process.terminate()
            process.wait(WAIT_S)
    text = (tmp_path / "run.log").read_text()
    refusals = [line for line in text.splitlines() if "refused the login" in line]
    assert len(refusals) == 1, text
    assert "mqtt.password" in refusals[0]
    assert "a-wrong-one" not in text
