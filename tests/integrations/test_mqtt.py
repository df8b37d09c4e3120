"""The MQTT link against a real mosquitto (tests/broker.py): no mocks, every wait bounded."""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from restday.config import MqttConfig
from restday.integrations.mqtt import MqttLink, Retry, client
from restday.integrations.mqtt.message import InboundMessage
from tests.broker import Mosquitto
from tests.conftest import WAIT_S, BrokerFactory, Probe, wait_until

CLIENT_ID = "restday"
NOT_BLOCKING_S = 0.1  # a publish on a disconnected link returns well within this
UNACKED_WAIT_S = 0.2
DELAYED_ACK_MS = 40.0  # Linux's minimum delayed ACK: what a hop without TCP_NODELAY waits
RELAY_WARMUP = 10  # round trips before measuring (Linux ACKs at once early in a connection)
RELAY_ROUNDS = 21
CERT_DAYS = 2
TLS_HOST = "localhost"  # the name in the test certificate, as the link checks it
REFUSALS_WANTED = 3  # login attempts a test waits for, to see that the error is logged once
LOG_NAME = client.LOG_NAME
KILLED_LINK = """
import sys, time
from restday.config import MqttConfig
from restday.integrations.mqtt import MqttLink
config = MqttConfig(host=sys.argv[1], port=int(sys.argv[2]), base_topic=sys.argv[3])
MqttLink(config, subscriptions=[], on_message=print, on_connected=lambda: None).start()
time.sleep(60)
"""


class Recorder:
    """Stands in for the worker: keeps what the link hands over; acks unless told not to."""

    def __init__(self, *, auto_ack: bool = True, fail_on: bytes | None = None) -> None:
        self.auto_ack = auto_ack
        self.fail_on = fail_on
        self.connections = 0
        self._messages: list[InboundMessage] = []
        self._cond = threading.Condition()

    def on_message(self, message: InboundMessage) -> None:
        if message.payload == self.fail_on:
            raise RuntimeError("the worker's queue is broken")
        with self._cond:
            self._messages.append(message)
            self._cond.notify_all()
        if self.auto_ack:
            message.ack()

    def on_connected(self) -> None:
        with self._cond:
            self.connections += 1

    def payloads(self, topic: str) -> list[bytes]:
        with self._cond:
            return [m.payload for m in self._messages if m.topic == topic]

    def wait_message(self, topic: str, payload: bytes) -> InboundMessage:
        def found() -> InboundMessage | None:
            return next(
                (m for m in self._messages if m.topic == topic and m.payload == payload), None
            )

        with self._cond:
            if not self._cond.wait_for(found, WAIT_S):
                raise AssertionError(f"{payload!r} on {topic} never reached on_message")
            message = found()
            assert message is not None
            return message


LinkFactory = Callable[..., MqttLink]
FAST_RETRY = Retry(min_s=1, max_s=1, login_s=1)  # outage tests see several attempts quickly


@pytest.fixture
def make_link(topic_prefix: str) -> Iterator[LinkFactory]:
    """Build links (client id `restday`, base topic = the test's prefix); stopped at teardown."""
    made: list[MqttLink] = []

    def make(
        broker: Mosquitto,
        recorder: Recorder,
        subscriptions: Sequence[str] = (),
        *,
        username: str = "",
        password: str = "",
        tls: bool = False,
        host: str | None = None,
        retry: Retry = Retry(),  # noqa: B008 -- frozen
    ) -> MqttLink:
        config = MqttConfig(
            host=host or broker.host,
            port=broker.port,
            tls=tls,
            client_id=CLIENT_ID,
            base_topic=topic_prefix,
            username=username,
            password=SecretStr(password),
        )
        link = MqttLink(
            config,
            subscriptions=subscriptions,
            on_message=recorder.on_message,
            on_connected=recorder.on_connected,
            retry=retry,
        )
        made.append(link)
        return link

    yield make
    for link in made:
        link.stop(timeout_s=1.0)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for `localhost` (PEM), made with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI"):
            pytest.fail("openssl is not installed; CI must run the TLS tests")
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", str(CERT_DAYS)]
    subject = ["-subj", f"/CN={TLS_HOST}", "-addext", f"subjectAltName=DNS:{TLS_HOST}"]
    subprocess.run(
        [openssl, *request, "-keyout", str(key), "-out", str(cert), *subject],
        check=True,
        capture_output=True,
    )
    return cert, key


def started(link: MqttLink, recorder: Recorder, connections: int = 1) -> MqttLink:
    link.start()
    assert wait_until(lambda: link.connected), "the link did not connect"
    assert wait_until(lambda: recorder.connections >= connections), "on_connected not called"
    return link


def mqtt_records(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOG_NAME and r.levelno == level]


def test_connecting_announces_online_retained_at_qos_1(
    broker: Mosquitto, probe: Probe, make_link: LinkFactory, topic_prefix: str
) -> None:
    recorder = Recorder()
    link = started(make_link(broker, recorder), recorder)
    probe.subscribe(link.status_topic)
    status = probe.wait_for(link.status_topic)
    assert (status.payload, status.retained, status.qos) == (b"online", True, 1)
    assert link.status_topic == f"{topic_prefix}/status"
    assert link.is_alive()
    assert link.reconnects == 0


def test_a_killed_restday_leaves_its_last_will_offline_behind(
    broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    status = f"{topic_prefix}/status"
    probe.subscribe(status)
    args = [sys.executable, "-c", KILLED_LINK, broker.host, str(broker.port), topic_prefix]
    process = subprocess.Popen(args)
    try:
        probe.wait_for(status, b"online")
    finally:
        process.kill()  # SIGKILL: no DISCONNECT, the socket just closes
        process.wait(WAIT_S)
    probe.wait_for(status, b"offline")
    probe.subscribe(status)  # a new subscription gets the retained value
    assert probe.wait_for(status).retained


def test_a_clean_stop_publishes_offline_and_ends_the_network_thread(
    broker: Mosquitto, probe: Probe, make_link: LinkFactory
) -> None:
    recorder = Recorder()
    link = started(make_link(broker, recorder), recorder)
    probe.subscribe(link.status_topic)
    probe.wait_for(link.status_topic, b"online")
    link.stop()
    probe.wait_for(link.status_topic, b"offline")
    assert not link.connected
    assert not link.is_alive()


def test_subscribed_messages_arrive_with_their_retained_flag_and_qos(
    broker: Mosquitto, probe: Probe, make_link: LinkFactory, topic_prefix: str
) -> None:
    scale, sleep, other = (f"{topic_prefix}/{name}" for name in ("scale", "sleep", "other"))
    probe.publish(scale, b"72.4", qos=1, retain=True)
    before = datetime.now(UTC)
    recorder = Recorder()
    started(make_link(broker, recorder, [scale, sleep]), recorder)
    kept = recorder.wait_message(scale, b"72.4")
    assert (kept.retained, kept.qos) == (True, 1)
    assert before <= kept.received_at <= datetime.now(UTC)
    probe.publish(other, b"not for us", qos=1)
    probe.publish(sleep, b"live0", qos=0)
    probe.publish(sleep, b"live1", qos=1)
    live0 = recorder.wait_message(sleep, b"live0")
    live1 = recorder.wait_message(sleep, b"live1")
    assert (live0.retained, live0.qos, live1.retained, live1.qos) == (False, 0, False, 1)
    assert recorder.payloads(other) == []


def test_qos_1_messages_sent_while_restday_was_stopped_arrive_when_it_starts(
    broker: Mosquitto, probe: Probe, make_link: LinkFactory, topic_prefix: str
) -> None:
    pain = f"{topic_prefix}/pain/set"
    first = Recorder()
    link = started(make_link(broker, first, [pain]), first)
    probe.publish(pain, b"ready")
    first.wait_message(pain, b"ready")  # the subscription is in place
    link.stop()
    probe.publish(pain, b"7", qos=1)
    second = Recorder()
    started(make_link(broker, second, [pain]), second)
    assert second.wait_message(pain, b"7").qos == 1


def test_after_the_broker_restarts_empty_the_link_reconnects_and_restores_everything(
    broker: Mosquitto,
    make_link: LinkFactory,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sync = f"{topic_prefix}/sync/set"
    recorder = Recorder()
    link = started(make_link(broker, recorder, [sync]), recorder)
    broker.restart(wipe=True)  # retained messages and sessions gone
    assert wait_until(lambda: link.reconnects == 1), "the link did not reconnect"
    assert wait_until(lambda: recorder.connections == 2), "on_connected not called again"
    fresh = Probe(broker.host, broker.port, client_id="probe-after-restart")
    try:
        fresh.subscribe(link.status_topic)
        assert fresh.wait_for(link.status_topic).payload == b"online"
        fresh.publish(sync, b"PRESS")
        recorder.wait_message(sync, b"PRESS")  # subscribed again
    finally:
        fresh.close()
    assert len(mqtt_records(caplog, logging.WARNING)) == 1


def test_an_unacked_message_comes_again_after_a_restart_and_an_acked_one_does_not(
    broker: Mosquitto, probe: Probe, make_link: LinkFactory, topic_prefix: str
) -> None:
    scale = f"{topic_prefix}/scale"
    first = Recorder(auto_ack=False)
    link = started(make_link(broker, first, [scale]), first)
    probe.publish(scale, b"ready")
    first.wait_message(scale, b"ready").ack()
    probe.publish(scale, b"70.1")
    probe.publish(scale, b"70.2")
    first.wait_message(scale, b"70.1").ack()  # from this thread, as the worker does
    first.wait_message(scale, b"70.2")  # never acked: as if restday crashed before storing it
    link.stop()
    second = Recorder()
    started(make_link(broker, second, [scale]), second)
    assert second.wait_message(scale, b"70.2").qos == 1
    probe.publish(scale, b"marker")
    second.wait_message(scale, b"marker")
    assert second.payloads(scale) == [b"70.2", b"marker"]


def test_publishing_while_the_broker_is_down_neither_raises_nor_blocks(
    broker: Mosquitto,
    make_link: LinkFactory,
    topic_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dropped, queued = f"{topic_prefix}/diagnostics", f"{topic_prefix}/state"
    recorder = Recorder()
    link = started(make_link(broker, recorder, retry=FAST_RETRY), recorder)
    broker.stop()
    assert wait_until(lambda: not link.connected)
    begin = time.monotonic()
    link.publish(dropped, "{}", qos=0)
    link.publish(queued, '{"status": "rest"}', retain=True, qos=1)
    assert time.monotonic() - begin < NOT_BLOCKING_S
    assert not link.wait_published(UNACKED_WAIT_S)
    assert any(dropped in m for m in mqtt_records(caplog, logging.WARNING))
    broker.start()
    assert link.wait_published(WAIT_S), "the queued QoS 1 message was not sent on reconnect"
    fresh = Probe(broker.host, broker.port, client_id="probe-after-outage")
    try:
        fresh.subscribe(queued)
        assert fresh.wait_for(queued).payload == b'{"status": "rest"}'
    finally:
        fresh.close()


def test_a_broker_down_at_start_is_one_warning_and_the_link_connects_once_it_is_up(
    broker_factory: BrokerFactory, make_link: LinkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=client.paho_log.name)
    broker = broker_factory()  # not started yet
    recorder = Recorder()
    link = make_link(broker, recorder, retry=FAST_RETRY)
    link.start()

    def failures() -> int:
        return sum("Connection failed" in r.getMessage() for r in caplog.records)

    assert wait_until(lambda: failures() >= REFUSALS_WANTED), "paho did not retry"
    assert not link.connected
    assert link.is_alive()
    broker.start()
    assert wait_until(lambda: link.connected)
    assert len(mqtt_records(caplog, logging.WARNING)) == 1
    assert wait_until(lambda: recorder.connections == 1)
    assert link.reconnects == 0


def test_with_tcp_nodelay_a_qos_1_relay_round_trip_takes_no_delayed_ack(
    broker_factory: BrokerFactory, make_link: LinkFactory, topic_prefix: str
) -> None:
    broker = broker_factory(tcp_nodelay=True)
    broker.start()
    ping, pong = f"{topic_prefix}/ping", f"{topic_prefix}/pong"
    box: list[MqttLink] = []

    class Relay(Recorder):
        def on_message(self, message: InboundMessage) -> None:
            message.ack()  # first, as the worker does: ack once stored, then publish
            box[0].publish(pong, message.payload, qos=1)

    relay = Relay()
    box.append(started(make_link(broker, relay, [ping]), relay))
    sender = Probe(broker.host, broker.port, client_id="probe-sender", nodelay=True)
    try:
        sender.subscribe(pong)
        sender.publish(ping, b"ready")
        sender.wait_for(pong, b"ready")
        times_ms = []
        for i in range(RELAY_WARMUP + RELAY_ROUNDS):
            begin = time.perf_counter()
            sender.publish(ping, str(i), qos=1)
            sender.wait_for(pong, str(i).encode())
            times_ms.append((time.perf_counter() - begin) * 1000)
    finally:
        sender.close()
    assert statistics.median(times_ms[RELAY_WARMUP:]) < DELAYED_ACK_MS / 2


def test_a_wrong_password_is_one_clear_error_that_never_shows_the_password(
    broker_factory: BrokerFactory, make_link: LinkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # paho's own chatter included
    broker = broker_factory(users={"runner": "right-horse-battery"})
    broker.start()
    recorder = Recorder()
    link = make_link(broker, recorder, retry=FAST_RETRY, username="runner", password="wr0ng-s3cret")
    link.start()
    assert wait_until(lambda: broker.log_text().count("not authorised") >= REFUSALS_WANTED), (
        "the link did not retry its login"
    )
    assert not link.connected
    assert recorder.connections == 0
    errors = mqtt_records(caplog, logging.ERROR)
    assert len(errors) == 1
    assert "refused the login" in errors[0]
    assert "'runner'" in errors[0]
    assert mqtt_records(caplog, logging.WARNING) == []
    assert all("wr0ng-s3cret" not in r.getMessage() for r in caplog.records)
    assert "wr0ng-s3cret" not in caplog.text


def test_the_right_password_connects(
    broker_factory: BrokerFactory, make_link: LinkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    broker = broker_factory(users={"runner": "right-horse-battery"})
    broker.start()
    recorder = Recorder()
    started(
        make_link(broker, recorder, username="runner", password="right-horse-battery"), recorder
    )
    assert mqtt_records(caplog, logging.ERROR) == []


def test_a_failing_handler_does_not_stop_the_link(
    broker: Mosquitto, probe: Probe, make_link: LinkFactory, topic_prefix: str
) -> None:
    sleep = f"{topic_prefix}/sleep"
    recorder = Recorder(fail_on=b"boom")
    link = started(make_link(broker, recorder, [sleep]), recorder)
    probe.publish(sleep, b"boom")
    probe.publish(sleep, b"after")
    recorder.wait_message(sleep, b"after")
    assert link.is_alive()
    assert link.connected


def test_wait_published_refuses_to_run_in_a_paho_callback(
    broker: Mosquitto, probe: Probe, make_link: LinkFactory, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}/in"
    outcome: list[BaseException] = []
    box: list[MqttLink] = []

    class Waiter(Recorder):
        def on_message(self, message: InboundMessage) -> None:
            try:
                box[0].wait_published(WAIT_S)
            except RuntimeError as exc:
                outcome.append(exc)
            super().on_message(message)

    waiter = Waiter()
    box.append(started(make_link(broker, waiter, [topic]), waiter))
    probe.publish(topic, b"x")
    waiter.wait_message(topic, b"x")
    assert len(outcome) == 1


def test_tls_connects_to_a_broker_whose_certificate_the_system_trusts(
    broker_factory: BrokerFactory,
    make_link: LinkFactory,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the "system" CA store
    broker = broker_factory(tls=certificate)
    broker.start()
    recorder = Recorder()
    link = started(make_link(broker, recorder, tls=True, host=TLS_HOST), recorder)
    link.publish(f"{link.status_topic}/check", "over TLS", qos=1)
    assert link.wait_published(WAIT_S)


def test_tls_refuses_an_untrusted_certificate_and_keeps_trying(
    broker_factory: BrokerFactory,
    make_link: LinkFactory,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    broker = broker_factory(tls=certificate)
    broker.start()
    recorder = Recorder()
    link = make_link(broker, recorder, retry=FAST_RETRY, tls=True, host=TLS_HOST)
    link.start()
    assert wait_until(lambda: broker.log_text().count("unknown ca") >= REFUSALS_WANTED)
    assert not link.connected
    assert link.is_alive()
    warnings = mqtt_records(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert "TLS certificate" in warnings[0]
