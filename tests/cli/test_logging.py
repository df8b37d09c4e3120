"""What `restday` logs at the default level: its own lines, not its libraries' chatter."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from restday.cli import main
from tests.broker import Mosquitto
from tests.conftest import wait_until
from tests.daemon.service_harness import write_config

RUNNING = "restday is running"  # logged once the scheduler has started its jobs
CHATTY = ("apscheduler", "stravalib")


def run_and_stop(tmp_path: Path, broker: Mosquitto, prefix: str, *flags: str) -> str:
    """`restday run` as a process until it says it runs, then SIGTERM: everything it logged."""
    config = write_config(tmp_path, broker, prefix)
    log = tmp_path / "run.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTDAY_")}
    argv = [sys.executable, "-m", "restday", "run", "--config", str(config.config_path)]
    with log.open("wb") as out:
        process = subprocess.Popen([*argv, *flags], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        assert wait_until(lambda: RUNNING in log.read_text()), log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return log.read_text()


def test_run_logs_no_scheduler_lines_at_the_default_level(
    tmp_path: Path, broker: Mosquitto, topic_prefix: str
) -> None:
    text = run_and_stop(tmp_path, broker, topic_prefix)
    assert f"INFO restday.daemon.service: {RUNNING}" in text  # INFO lines are logged
    assert not [line for line in text.splitlines() if " apscheduler" in line]


def test_verbose_run_logs_the_scheduler_too(
    tmp_path: Path, broker: Mosquitto, topic_prefix: str
) -> None:
    text = run_and_stop(tmp_path, broker, topic_prefix, "--verbose")
    assert "INFO apscheduler.scheduler: Scheduler started" in text


@pytest.mark.parametrize(("flags", "level"), [((), logging.WARNING), (("-v",), logging.DEBUG)])
def test_libraries_log_warnings_only_unless_verbose(
    tmp_path: Path, flags: tuple[str, ...], level: int
) -> None:
    """Every library logger below them too (APScheduler's executors log "Running job")."""
    assert main(["init", "--config", str(tmp_path / "restday.toml"), *flags]) == 0
    for name in (*CHATTY, "apscheduler.executors.default", "apscheduler.scheduler"):
        assert logging.getLogger(name).getEffectiveLevel() == level, name
