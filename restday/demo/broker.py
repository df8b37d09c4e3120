"""The demo's own MQTT broker: the system's mosquitto when installed, else amqtt in a thread.

Either listens on a free port on 127.0.0.1 only (anonymous access: nothing outside this machine
can reach it) and is gone after `stop()`: mosquitto runs from a generated config in the demo's
temporary folder, in its own session (a Ctrl-C in the terminal reaches the demo, which stops it
in order) and, on Linux, is told to die with the demo should the demo be killed outright. amqtt
(`pip install 'restday[demo]'`) runs in a background thread on its own asyncio loop.

Which one: `RESTDAY_DEMO_BROKER` (or `restday demo --broker`) is `auto` (the default: mosquitto
if installed, else amqtt), `mosquitto` or `amqtt`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Protocol

HOST = "127.0.0.1"
BROKER_ENV = "RESTDAY_DEMO_BROKER"
CHOICES = ("auto", "mosquitto", "amqtt")
MOSQUITTO_PATHS = (Path("/usr/sbin/mosquitto"), Path("/usr/local/sbin/mosquitto"))
START_TIMEOUT_S = 10.0  # for the broker to accept connections
STOP_TIMEOUT_S = 5.0  # for it to end after being asked
POLL_S = 0.02
PROBE_TIMEOUT_S = 0.5  # one TCP connect attempt while waiting for the port
LOG_TAIL_CHARS = 1000  # of mosquitto's log in an error
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a child gets when its parent dies

INSTALL_HINT = (
    "restday demo needs an MQTT broker to run inside it: install one with "
    "`pip install 'restday[demo]'` (the pure-Python amqtt) or `apt install mosquitto`."
)


class BrokerUnavailable(Exception):
    """No broker of the kind asked for can run here; the message says what to install."""


class DemoBroker(Protocol):
    name: str
    host: str
    port: int

    def start(self) -> None: ...

    def stop(self) -> None: ...


def find_mosquitto() -> str | None:
    """The mosquitto binary on PATH or in a usual sbin folder; None if not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((str(p) for p in MOSQUITTO_PATHS if p.is_file() and os.access(p, os.X_OK)), None)


def amqtt_installed() -> bool:
    return importlib.util.find_spec("amqtt") is not None


def choose(kind: str | None, folder: Path) -> DemoBroker:
    """The broker to run (not started): `kind` or $RESTDAY_DEMO_BROKER or auto."""
    kind = kind or os.environ.get(BROKER_ENV) or "auto"
    if kind not in CHOICES:
        raise BrokerUnavailable(f"{BROKER_ENV}={kind!r} is not one of {', '.join(CHOICES)}.")
    binary = find_mosquitto() if kind in ("auto", "mosquitto") else None
    if binary is not None:
        return Mosquitto(binary, folder)
    if kind == "mosquitto":
        raise BrokerUnavailable(
            "mosquitto is not installed (looked on PATH and in /usr/sbin): `apt install "
            f"mosquitto`, or run the demo on amqtt with {BROKER_ENV}=amqtt."
        )
    if amqtt_installed():
        return Amqtt()
    if kind == "amqtt":
        raise BrokerUnavailable("amqtt is not installed: `pip install 'restday[demo]'`.")
    raise BrokerUnavailable(INSTALL_HINT)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def port_open(port: int, host: str = HOST) -> bool:
    """Whether something accepts TCP connections on `host:port`."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:  # pragma: no cover -- runs in the forked child
    """Linux: SIGTERM this process when the demo dies, even by SIGKILL (no orphan broker).

    The kernel sends it when the thread that forked ends: `start` runs on the main thread."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Mosquitto:
    """The system's mosquitto, from a generated config in `folder`, on a free loopback port."""

    name = "mosquitto"

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.folder = folder
        self.host = HOST
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def _config(self) -> Path:
        conf = self.folder / "mosquitto.conf"
        lines = [
            f"listener {self.port} {HOST}",
            "allow_anonymous true",
            "persistence false",
            f"log_dest file {self.folder / 'mosquitto.log'}",
            "set_tcp_nodelay true",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to user mosquitto, who cannot write here
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return conf

    def start(self) -> None:
        self.port = free_port()
        self._process = subprocess.Popen(  # noqa: S603 -- our own config, a found binary
            [self.binary, "-c", str(self._config())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # the terminal's Ctrl-C goes to the demo, which stops us
            preexec_fn=_die_with_parent,  # forked by the main thread, which outlives the broker
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise BrokerUnavailable(f"mosquitto exited at start: {self._log_tail()}")
            if port_open(self.port):
                return
            time.sleep(POLL_S)
        self.stop()
        raise BrokerUnavailable(f"mosquitto did not listen on {HOST}:{self.port} in time")

    def _log_tail(self) -> str:
        try:
            text = (self.folder / "mosquitto.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-LOG_TAIL_CHARS:].strip() or "(empty log)"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


class Amqtt:
    """amqtt's broker on its own asyncio loop in a background thread."""

    name = "amqtt"

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None  # amqtt ships no type hints

    def start(self) -> None:
        for name in ("amqtt", "transitions"):  # both log every connection at INFO
            logging.getLogger(name).setLevel(logging.ERROR)
        self.port = free_port()
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="demo-amqtt", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), loop).result(START_TIMEOUT_S)
        except Exception as exc:
            self.stop()
            raise BrokerUnavailable(f"amqtt did not start on {HOST}:{self.port}: {exc}") from exc

    async def _start(self) -> None:
        broker_module = importlib.import_module("amqtt.broker")  # untyped: Any from here
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{HOST}:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {}},
        }
        self._broker = broker_module.Broker(config)
        await self._broker.start()

    async def _shutdown(self) -> None:
        if self._broker is not None:
            with contextlib.suppress(Exception):  # a broker that failed to start
                await self._broker.shutdown()
        current = asyncio.current_task()
        rest = [task for task in asyncio.all_tasks() if task is not current]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def stop(self) -> None:
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(STOP_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT_S)
        if not thread.is_alive():
            loop.close()
        self._broker = None
