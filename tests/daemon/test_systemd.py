"""systemd integration: real notify datagrams on real sockets, and a unit file systemd accepts."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from restday.daemon import systemd
from restday.daemon.systemd import Watchdog

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "restday.service"
RECEIVE_TIMEOUT_S = 5.0  # generous: only a broken sender ever waits this long
QUIET_S = 0.3  # six ping intervals without a datagram
PING_S = 0.05
MAX_DATAGRAM = 4096
MAX_STOP_S = 1.0


@pytest.fixture
def listener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """systemd's side: a datagram socket in tmp_path, named by $NOTIFY_SOCKET."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(RECEIVE_TIMEOUT_S)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        yield sock


def receive(sock: socket.socket) -> str:
    return sock.recv(MAX_DATAGRAM).decode()


def drain(sock: socket.socket) -> list[str]:
    got: list[str] = []
    sock.setblocking(False)
    try:
        while True:
            got.append(receive(sock))
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(RECEIVE_TIMEOUT_S)
    return got


def test_ready_reaches_systemd_over_the_notify_socket(listener: socket.socket) -> None:
    assert systemd.ready() is True
    assert receive(listener) == "READY=1"


def test_stopping_watchdog_and_status_are_sent_as_systemd_expects(
    listener: socket.socket,
) -> None:
    assert systemd.stopping()
    assert receive(listener) == "STOPPING=1"
    assert systemd.watchdog()
    assert receive(listener) == "WATCHDOG=1"
    assert systemd.status("synced 3 activities\nrest day recommended")
    assert receive(listener) == "STATUS=synced 3 activities rest day recommended"


def test_an_abstract_notify_socket_works_too(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"restday-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(RECEIVE_TIMEOUT_S)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.ready()
        assert receive(sock) == "READY=1"


def test_outside_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.ready() is False
    monkeypatch.setenv("NOTIFY_SOCKET", "")
    assert systemd.watchdog() is False


def test_a_dead_notify_socket_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert systemd.ready() is False
    monkeypatch.setenv("NOTIFY_SOCKET", "vsock:2:1234")
    assert systemd.ready() is False


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("60000000", None, 30.0),
        ("60000000", "self", 30.0),
        ("60000000", "other", None),
        ("0", None, None),
        ("sixty", None, None),
        (None, None, None),
    ],
)
def test_the_watchdog_pings_at_half_of_systemds_timeout_and_only_for_us(
    monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None, expected: float | None
) -> None:
    for name, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            mine = os.getpid()
            value = {"self": str(mine), "other": str(mine + 1)}.get(value, value)
            monkeypatch.setenv(name, value)
    assert systemd.watchdog_interval() == expected


def test_the_watchdog_pings_only_while_the_service_is_healthy(listener: socket.socket) -> None:
    healthy = threading.Event()
    healthy.set()
    refused = threading.Event()

    def check() -> bool:
        if healthy.is_set():
            return True
        refused.set()
        return False

    dog = Watchdog(PING_S, check)
    dog.start()
    try:
        assert [receive(listener), receive(listener)] == ["WATCHDOG=1", "WATCHDOG=1"]
        healthy.clear()
        assert refused.wait(RECEIVE_TIMEOUT_S)
        drain(listener)  # pings sent before the check said "unhealthy"
        listener.settimeout(QUIET_S)
        with pytest.raises(TimeoutError):
            receive(listener)
        listener.settimeout(RECEIVE_TIMEOUT_S)
        healthy.set()
        assert receive(listener) == "WATCHDOG=1"
    finally:
        dog.stop()


def test_a_failing_health_check_counts_as_unhealthy(listener: socket.socket) -> None:
    asked = threading.Event()

    def broken() -> bool:
        asked.set()
        raise RuntimeError("worker state unreadable")

    dog = Watchdog(PING_S, broken)
    dog.start()
    try:
        assert asked.wait(RECEIVE_TIMEOUT_S)
        listener.settimeout(QUIET_S)
        with pytest.raises(TimeoutError):
            receive(listener)
    finally:
        dog.stop()


def test_stopping_the_watchdog_is_quick_and_ends_the_pings(listener: socket.socket) -> None:
    dog = Watchdog(60.0, lambda: True)
    dog.start()
    assert receive(listener) == "WATCHDOG=1"
    assert dog.running
    started = time.monotonic()
    dog.stop()
    assert time.monotonic() - started < MAX_STOP_S
    assert not dog.running
    listener.settimeout(QUIET_S)
    with pytest.raises(TimeoutError):
        receive(listener)


def test_a_watchdog_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="positive"):
        Watchdog(0, lambda: True)


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_is_a_hardened_notify_service_that_does_not_restart_on_bad_config() -> None:
    unit = directives(UNIT.read_text())
    expected = {
        "Type": "notify",
        "NotifyAccess": "main",
        "WatchdogSec": "60",
        "Restart": "on-failure",
        "RestartPreventExitStatus": "78",
        "DynamicUser": "yes",
        "StateDirectory": "restday",
        "ConfigurationDirectory": "restday",
        "ExecStart": "/usr/local/bin/restday run",
        "TimeoutStopSec": "10",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "SystemCallFilter": "@system-service",
        "UMask": "0077",
    }
    for key, value in expected.items():
        assert unit.get(key) == [value], key
    assert "RESTDAY_CONFIG=%E/restday/restday.toml" in unit["Environment"]
    assert unit["After"] == ["network-online.target time-sync.target"]
    assert "network-online.target" in unit["Wants"][0]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_the_unit_without_a_warning(tmp_path: Path) -> None:
    # restday is not installed at /usr/local/bin here: point ExecStart at a real executable.
    text = UNIT.read_text().replace("/usr/local/bin/restday", "/bin/true")
    copy = tmp_path / "restday.service"
    copy.write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # unknown keys are only warned about
