"""One service per store (DESIGN.md §7): a second `restday run` on the same store stops at once
and says why; `check-config` says whether one runs; two services that share a client id (each
with its own store) are told the likely cause once instead of reconnecting without a word."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from restday.cli import main
from restday.cli.exit_codes import EXIT_FAILURE, EXIT_OK
from restday.config import Config
from restday.integrations.mqtt.topics import Topics
from tests.broker import Mosquitto
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import write_config
from tests.daemon.test_run_process import EXIT_WITHIN_S, restday_run

START_FAILS_WITHIN_S = 30.0  # generous: a loaded machine; the second one never connects
CLASH_SEEN_S = 60.0  # three quick closes each, a reconnect every second or so: generous
MORE_TAKEOVERS = 6  # after the ERROR: the broker throws them off again, without another ERROR
CLASH_ERROR = "keeps closing the connection right after connecting"


def check_config(config: Config, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["check-config", "--no-connect", "--config", str(config.config_path)])
    return code, capsys.readouterr().out


def errors(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("ERROR")]


def test_a_second_restday_on_the_same_store_exits_1_naming_pid_and_path_while_the_first_runs_on(
    tmp_path: Path,
    broker: Mosquitto,
    probe: Probe,
    topic_prefix: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path, broker, topic_prefix)
    topics, db = Topics.of(config), config.store_path()
    code, out = check_config(config, capsys)
    assert code == EXIT_OK
    assert "ok   service: not running" in out
    probe.subscribe(topics.status)
    probe.subscribe(topics.pain)
    with restday_run(config, tmp_path / "first.log") as first:
        probe.wait_for(topics.status, b"online")
        with restday_run(config, tmp_path / "second.log") as second:
            assert second.wait(timeout=START_FAILS_WITHIN_S) == EXIT_FAILURE
        said = (tmp_path / "second.log").read_text()
        assert f"restday: another restday is running (pid {first.pid}) on {db}" in said
        assert "Traceback" not in said
        assert first.poll() is None
        probe.publish(topics.pain_set, "5")  # the first still does its work
        assert probe.wait_for(topics.pain).payload == b"5"
        code, out = check_config(config, capsys)
        assert code == EXIT_OK  # a running service is fine
        assert f"ok   service: running (pid {first.pid})" in out
        first.send_signal(signal.SIGKILL)  # no clean stop: the kernel lets go of the lock
        first.wait()
    probe.wait_for(topics.status, b"offline")  # its last will
    code, out = check_config(config, capsys)
    assert "ok   service: not running" in out
    with restday_run(config, tmp_path / "third.log") as third:
        probe.wait_for(topics.status, b"online")
        code, out = check_config(config, capsys)
        assert f"ok   service: running (pid {third.pid})" in out
        third.send_signal(signal.SIGTERM)
        assert third.wait(timeout=EXIT_WITHIN_S + 5) == 0
    assert "another restday" not in (tmp_path / "first.log").read_text()
    assert errors(tmp_path / "third.log") == []  # the same store as before: nothing to say


def test_two_services_with_the_same_client_id_are_told_the_likely_cause_once_each(
    tmp_path: Path, broker: Mosquitto, topic_prefix: str
) -> None:
    """Two stores, one config copied: each throws the other off the broker on connecting."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_config(tmp_path / "a", broker, topic_prefix)
    second = write_config(tmp_path / "b", broker, topic_prefix)
    assert first.mqtt.client_id == second.mqtt.client_id
    assert first.store_path() != second.store_path()
    logs = (tmp_path / "a.log", tmp_path / "b.log")

    def takeovers() -> int:
        return broker.log_text().count(f"Client {first.mqtt.client_id} already connected")

    def told() -> list[int]:
        return [sum(CLASH_ERROR in line for line in errors(log)) for log in logs]

    with restday_run(first, logs[0]) as a, restday_run(second, logs[1]) as b:
        assert wait_until(lambda: told() == [1, 1], CLASH_SEEN_S), told()
        seen = takeovers()
        assert wait_until(lambda: takeovers() >= seen + MORE_TAKEOVERS, CLASH_SEEN_S)
        for process in (a, b):
            process.send_signal(signal.SIGTERM)
        for process in (a, b):
            assert process.wait(timeout=EXIT_WITHIN_S + 5) == 0
    for log in logs:
        [error] = errors(log)  # once, and nothing else at ERROR
        assert f'is another client using mqtt.client_id "{first.mqtt.client_id}"?' in error
        assert "another restday with the same config" in error
        assert "Traceback" not in log.read_text()
