"""No secret in any log line, command output or published payload, at any level."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restday.cli import main
from restday.config import load_config
from restday.integrations.mqtt.topics import Topics
from tests.conftest import BrokerFactory, Probe, wait_until
from tests.strava_server import FakeStrava, summary_activity

MQTT_PASSWORD = "mqtt-pw-7c1e0b"
PROBE_LOGIN = ("probe", "probe-pw-55aa")
RUN_S = 30.0


def test_a_full_run_at_debug_never_shows_a_password_secret_or_token(
    tmp_path: Path,
    broker_factory: BrokerFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broker = broker_factory(users={"restday": MQTT_PASSWORD, PROBE_LOGIN[0]: PROBE_LOGIN[1]})
    broker.start()
    now = datetime.now(UTC)
    with FakeStrava(token_lifetime=timedelta(minutes=1)) as strava:  # a refresh at once
        for day in range(1, 10):
            strava.add(summary_activity(3_000 + day, now - timedelta(days=day), 5.0))
        path = tmp_path / "restday.toml"
        path.write_text(
            f'[storage]\npath = "restday.db"\n[mqtt]\nhost = "{broker.host}"\n'
            f'port = {broker.port}\nusername = "restday"\nbase_topic = "sec"\n'
            f'[strava]\nclient_id = "{strava.client_id}"\napi_url = "{strava.url}"\n'
        )
        monkeypatch.setenv("RESTDAY_MQTT__PASSWORD", MQTT_PASSWORD)
        monkeypatch.setenv("RESTDAY_STRAVA__CLIENT_SECRET", strava.client_secret)
        assert main(["strava", "auth", "--code", strava.code, "-v", "--config", str(path)]) == 0
        assert main(["check-config", "-v", "--config", str(path)]) == 0
        topics = Topics.of(load_config(path, explicit=True))
        probe = Probe(broker.host, broker.port, client_id="watcher", login=PROBE_LOGIN)
        probe.subscribe("#")
        log = tmp_path / "run.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "restday", "run", "-v", "--config", str(path)],
                stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ),
            )  # fmt: skip
        try:
            assert wait_until(lambda: probe.messages(topics.diagnostics), RUN_S)
            syncs = strava.count("/api/v3/athlete/activities")  # before the press: its sync
            probe.publish(topics.sync_set, "PRESS")  # may be over before `publish` returns
            assert wait_until(lambda: strava.count("/api/v3/athlete/activities") > syncs, RUN_S)
        finally:
            process.terminate()
            process.wait(RUN_S)
            probe.close()
        secrets = [MQTT_PASSWORD, strava.client_secret, *strava.issued]
        assert strava.count("/oauth/token") >= 2  # the code, then at least one refresh
    cli = capsys.readouterr()
    text = log.read_text() + cli.out + cli.err
    published = b"\n".join(m.payload for m in probe.messages())
    assert "DEBUG" in text  # the run really logged at DEBUG
    assert json.loads((tmp_path / "strava-token.json").read_text())["refresh_token"] in secrets
    for secret in secrets:
        assert secret not in text, "a secret in the output"
        assert secret.encode() not in published, "a secret in a published payload"
