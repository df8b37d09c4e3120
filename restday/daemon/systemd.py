"""systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram to $NOTIFY_SOCKET.

`ready()` once started, `stopping()` on SIGTERM, `status(text)` for `systemctl status`, and a
`Watchdog` thread that pings `WATCHDOG=1` only while the service is healthy, so that systemd
restarts a hung service (`WatchdogSec=` in restday.service). Outside systemd every call is a
no-op that returns False; a socket error is logged at DEBUG and never raised — telling systemd
is best effort and must never take the service down.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV = "WATCHDOG_USEC"
WATCHDOG_PID_ENV = "WATCHDOG_PID"
ABSTRACT_PREFIX = "@"  # systemd's spelling of a Linux abstract socket name (leading NUL)
SEND_TIMEOUT_S = 1.0  # a datagram to a live systemd never blocks; a wedged one must not hang us
USEC_PER_S = 1_000_000
WATCHDOG_PING_FRACTION = 0.5  # sd_watchdog_enabled(3): ping at half the timeout
WATCHDOG_STOP_JOIN_S = 0.5  # stop() waits at most this long for the thread to finish

READY = "READY=1"
STOPPING = "STOPPING=1"
WATCHDOG = "WATCHDOG=1"


def _address(value: str) -> str | None:
    if value.startswith(ABSTRACT_PREFIX):
        return "\0" + value[len(ABSTRACT_PREFIX) :]
    if value.startswith("/"):
        return value
    return None  # e.g. vsock: (a VM's systemd) — not for a Raspberry Pi service


def notify(state: str) -> bool:
    """Send `state` (newline-separated `KEY=value` lines) to systemd; whether it was sent."""
    value = os.environ.get(NOTIFY_SOCKET_ENV, "")
    if not value:
        return False
    address = _address(value)
    if address is None:
        log.debug("notify socket %r is not a unix socket; not notifying", value)
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.settimeout(SEND_TIMEOUT_S)
            sock.connect(address)
            sock.send(state.encode())
    except OSError as exc:
        log.debug("could not notify systemd (%s): %s", state.split("\n", 1)[0], exc)
        return False
    return True


def ready() -> bool:
    return notify(READY)


def stopping() -> bool:
    return notify(STOPPING)


def watchdog() -> bool:
    return notify(WATCHDOG)


def status(text: str) -> bool:
    """A one-line status for `systemctl status restday`."""
    return notify("STATUS=" + " ".join(text.splitlines()))


def watchdog_interval() -> float | None:
    """Seconds between watchdog pings (half of $WATCHDOG_USEC), or None when not for us."""
    try:
        usec = int(os.environ.get(WATCHDOG_USEC_ENV, ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = os.environ.get(WATCHDOG_PID_ENV, "")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    return usec / USEC_PER_S * WATCHDOG_PING_FRACTION


class Watchdog:
    """A daemon thread that sends WATCHDOG=1 every `interval_s` while `healthy()` is true.

    `healthy` should say whether the worker is still making progress (e.g. it handled an
    event recently); a `healthy` that raises counts as unhealthy. Once pings stop, systemd
    kills and restarts the service after `WatchdogSec=`.
    """

    def __init__(self, interval_s: float, healthy: Callable[[], bool]) -> None:
        if interval_s <= 0:
            raise ValueError("the watchdog interval must be positive")
        self._interval_s = interval_s
        self._healthy = healthy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="restday-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop pinging; returns within WATCHDOG_STOP_JOIN_S even if `healthy()` hangs."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(WATCHDOG_STOP_JOIN_S)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._is_healthy():
                watchdog()
            else:
                log.warning("the service looks stuck: not pinging the systemd watchdog")
            self._stop.wait(self._interval_s)

    def _is_healthy(self) -> bool:
        try:
            return bool(self._healthy())
        except Exception:
            log.exception("the watchdog's health check failed")
            return False
