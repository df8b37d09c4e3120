"""Shared fixtures: a real mosquitto per test (`broker`), a topic prefix per test, a probe client.

Tests wait for messages with timeouts, never with fixed sleeps: `Probe.wait_for` and
`wait_until` poll until the thing happens or the timeout says it did not.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from tests.broker import Mosquitto, find_mosquitto

WAIT_S = 10.0  # how long a test waits for something that should happen
POLL_S = 0.01
PROBE_KEEPALIVE_S = 60
CI_ENV = "CI"
TOPIC_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
THREADS_END_S = 10.0  # how long a test's teardown waits for the threads the test started


def wait_until(
    condition: Callable[[], object], timeout_s: float = WAIT_S, *, poll_s: float = POLL_S
) -> bool:
    """Poll `condition` every `poll_s` until it is truthy (True) or `timeout_s` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retained: bool
    qos: int


def _set_nodelay(client: paho.Client, userdata: object, sock: object) -> None:
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Probe:
    """A plain paho client on the test's broker, to publish and to watch what arrives."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str = "probe",
        nodelay: bool = False,
        login: tuple[str, str] | None = None,
    ) -> None:
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if login is not None:
            self._client.username_pw_set(*login)
        if nodelay:
            self._client.on_socket_open = _set_nodelay
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._subacks: set[int] = set()
        self._messages: list[Received] = []
        self._taken: set[int] = set()
        self._cond = threading.Condition()
        self._client.connect(host, port, keepalive=PROBE_KEEPALIVE_S)
        self._client.loop_start()
        if not wait_until(self._client.is_connected):
            raise AssertionError(f"probe could not connect to {host}:{port}")

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        with self._cond:
            self._messages.append(
                Received(msg.topic, bytes(msg.payload), bool(msg.retain), msg.qos)
            )
            self._cond.notify_all()

    def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe and wait for the broker's SUBACK."""
        result, mid = self._client.subscribe(topic, qos)
        assert result == MQTTErrorCode.MQTT_ERR_SUCCESS
        with self._cond:
            assert self._cond.wait_for(lambda: mid in self._subacks, WAIT_S), f"no SUBACK: {topic}"

    def _on_subscribe(
        self,
        client: paho.Client,
        userdata: object,
        mid: int,
        codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        with self._cond:
            self._subacks.add(mid)
            self._cond.notify_all()

    def publish(
        self, topic: str, payload: str | bytes, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish and, for QoS ≥ 1, wait until the broker acknowledged it."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if qos:
            info.wait_for_publish(WAIT_S)
            assert info.is_published(), f"the broker did not acknowledge {topic}"

    def messages(self, topic: str | None = None) -> list[Received]:
        with self._cond:
            return [m for m in self._messages if topic is None or m.topic == topic]

    def wait_for(
        self, topic: str, payload: bytes | None = None, *, timeout_s: float = WAIT_S
    ) -> Received:
        """The next message on `topic` (with `payload`, if given) not returned before."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for index, message in enumerate(self._messages):
                    if index in self._taken or message.topic != topic:
                        continue
                    if payload is None or message.payload == payload:
                        self._taken.add(index)
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(m.topic, m.payload) for m in self._messages]
                    raise AssertionError(
                        f"nothing on {topic} ({payload!r}) in {timeout_s} s: {seen}"
                    )
                self._cond.wait(remaining)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@contextmanager
def another_probe(broker: Mosquitto, client_id: str) -> Iterator[Probe]:
    """A second client for the test (a late subscriber, one after a broker restart)."""
    client = Probe(broker.host, broker.port, client_id=client_id)
    try:
        yield client
    finally:
        client.close()


def retained(broker: Mosquitto, topic: str) -> Received:
    """What a fresh subscriber gets on `topic`: the broker's retained message."""
    with another_probe(broker, "retained-reader") as client:
        client.subscribe(topic)
        return client.wait_for(topic)


@pytest.fixture(autouse=True)
def _logging_and_threads_left_as_found() -> Iterator[None]:
    """Each test leaves logging as it found it and waits for the threads it started.

    `restday.cli.main` (called in-process by many tests) sets up logging with
    `basicConfig(force=True)`: the root logger gets a handler on the sys.stderr of that moment
    — under pytest, the test's captured stream, closed when the test ends — and a level (DEBUG
    after `-v`). Left in place, every later log line of any thread (the services of later
    tests, paho's network threads, a thread still running after the session) fails with
    "I/O operation on closed file" and prints a traceback. The handler is removed and the
    level restored; then threads started by the test that outlive it (a service not stopped,
    a Strava sync still under way) are waited for, and named in a warning if they do not end."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    before = set(threading.enumerate())
    yield
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler and handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    deadline = time.monotonic() + THREADS_END_S
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for thread in left:
        thread.join(max(deadline - time.monotonic(), 0.0))
    still = sorted(t.name for t in left if t.is_alive())
    if still:
        warnings.warn(f"threads the test started still run after it: {still}", stacklevel=1)


@pytest.fixture(scope="session")
def mosquitto_binary() -> str:
    """The broker binary; without it tests skip, except in CI, where they fail."""
    found = find_mosquitto()
    if found is None:
        reason = "mosquitto is not installed (apt-get install mosquitto)"
        if os.environ.get(CI_ENV):
            pytest.fail(f"{reason}; CI must run the broker tests")
        pytest.skip(reason)
    return found


class BrokerFactory(Protocol):
    def __call__(
        self,
        *,
        persistence: bool = True,
        tcp_nodelay: bool = False,
        users: dict[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> Mosquitto: ...


@pytest.fixture
def broker_factory(tmp_path: Path, mosquitto_binary: str) -> Iterator[BrokerFactory]:
    """Make brokers (not started) with options; every one is killed at teardown."""
    made: list[Mosquitto] = []

    def make(
        *,
        persistence: bool = True,
        tcp_nodelay: bool = False,
        users: dict[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> Mosquitto:
        folder = tmp_path / f"broker{len(made)}"
        broker = Mosquitto(
            folder,
            binary=mosquitto_binary,
            persistence=persistence,
            tcp_nodelay=tcp_nodelay,
            users=users,
            tls=tls,
        )
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.kill()


@pytest.fixture
def broker(broker_factory: BrokerFactory) -> Mosquitto:
    """A running mosquitto on a free port, with persistence; killed at teardown."""
    started = broker_factory()
    started.start()
    return started


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """`t/<test name>`: each test talks on its own topics."""
    return "t/" + TOPIC_UNSAFE.sub("_", request.node.name).strip("_")


@pytest.fixture
def probe(broker: Mosquitto, topic_prefix: str) -> Iterator[Probe]:
    """A client on the test's broker, to publish and to watch topics."""
    client = Probe(broker.host, broker.port, client_id=f"probe-{topic_prefix}")
    yield client
    client.close()
