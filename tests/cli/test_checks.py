"""`restday check-config` tries what it can: the broker, the Strava token, the topics."""

from __future__ import annotations

from pathlib import Path

import pytest

from restday.cli import main
from restday.cli.exit_codes import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK
from tests.broker import Mosquitto
from tests.conftest import BrokerFactory

PASSWORD = "correct-horse-battery"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "restday.toml"
    path.write_text('[storage]\npath = "restday.db"\n' + text)
    return path


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check-config", "--config", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_reachable_broker_and_no_strava_pass(
    tmp_path: Path, broker: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n')
    code, out = check(path, capsys)
    assert code == EXIT_OK, out
    assert f"ok   mqtt: connected to {broker.host}:{broker.port} anonymously" in out
    assert "ok   strava: not configured" in out


def test_a_wrong_password_is_one_line_saying_what_to_fix_without_the_password(
    tmp_path: Path, broker_factory: BrokerFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    broker = broker_factory(users={"restday": PASSWORD})
    broker.start()
    path = write(
        tmp_path,
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\n'
        'username = "restday"\npassword = "wrong-password-value"\n',
    )
    code, out = check(path, capsys)
    assert code == EXIT_FAILURE
    [line] = [line for line in out.splitlines() if "mqtt:" in line]
    assert line.startswith("  FIX  mqtt: the broker refused the login")
    assert "mqtt.username" in line
    assert "wrong-password-value" not in out


def test_an_unreachable_broker_names_host_and_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, '[mqtt]\nhost = "127.0.0.1"\nport = 1\n')
    code, out = check(path, capsys)
    assert code == EXIT_FAILURE
    assert "FIX  mqtt: cannot reach the broker at 127.0.0.1:1" in out
    assert "check mqtt.host and mqtt.port" in out


def test_strava_configured_but_not_authorised_says_to_run_auth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, '[strava]\nclient_id = "1"\nclient_secret = "s3cret-value"\n')
    code = main(["check-config", "--no-connect", "--config", str(path)])
    out = capsys.readouterr().out
    assert code == EXIT_FAILURE
    assert "FIX  strava: not authorised yet: run `restday strava auth`" in out
    assert "s3cret-value" not in out


def test_an_input_topic_that_is_restday_s_own_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        '[[scale]]\ntopic = "restday/me/pain/set"\n[[sleep]]\ntopic = "s"\n[[scale]]\ntopic = "s"\n'
    )
    code = main(["check-config", "--no-connect", "--config", str(write(tmp_path, text))])
    out = capsys.readouterr().out
    assert code == EXIT_FAILURE
    assert "scale[0].topic 'restday/me/pain/set' is one of restday's own topics" in out
    assert "sleep[0].topic repeats scale[1].topic ('s')" in out


def test_an_invalid_config_is_still_exit_78(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(write(tmp_path, "[mqtt]\nport = 0\n"), capsys)
    assert code == EXIT_CONFIG
    assert "mqtt.port" in out
