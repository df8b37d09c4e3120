"""Round-trip latency of a QoS 1 MQTT relay, with and without TCP_NODELAY (DESIGN.md §2).

Client A publishes `ping` (QoS 1); relay B, subscribed, republishes it as `pong` (QoS 1); A
receives it. One message at a time, so each figure is a full round trip: A → broker → B →
broker → A, with the PUBACKs in between. Measured through a mosquitto with default settings
and one with `set_tcp_nodelay true`, with the clients' sockets left as paho makes them and with
TCP_NODELAY set, and finally with restday's own `MqttLink` as the relay.

Each configuration sends up to --messages messages but stops after --budget seconds (the slow
configurations take ~40-90 ms a round trip), so the whole run stays under a minute.

Usage: .venv/bin/python bench/bench_mqtt_relay.py [--messages 1000] [--budget 9]
"""

from __future__ import annotations

import argparse
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt import __version__ as paho_version
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.broker

from restday.config import MqttConfig
from restday.integrations.mqtt import MqttLink
from restday.integrations.mqtt.message import InboundMessage
from tests.broker import Mosquitto

PING = "bench/ping"
PONG = "bench/pong"
QOS = 1
KEEPALIVE_S = 60
CONNECT_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 5.0  # one round trip that takes longer is reported as lost
WARMUP_MESSAGES = 20
DEFAULT_MESSAGES = 1000
DEFAULT_BUDGET_S = 9.0  # per configuration: 6 configurations stay under a minute
MS_PER_S = 1000.0
P99 = 99
PERCENTILES = 100


def set_nodelay(client: paho.Client, userdata: Any, sock: Any) -> None:
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def client(broker: Mosquitto, name: str, nodelay: bool) -> paho.Client:
    made = paho.Client(CallbackAPIVersion.VERSION2, client_id=name)
    if nodelay:
        made.on_socket_open = set_nodelay
    made.connect(broker.host, broker.port, keepalive=KEEPALIVE_S)
    made.loop_start()
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while not made.is_connected():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} could not connect")
        time.sleep(0.01)
    return made


def subscribe(made: paho.Client, topic: str) -> None:
    done = threading.Event()
    made.on_subscribe = lambda *_: done.set()
    made.subscribe(topic, QOS)
    if not done.wait(CONNECT_TIMEOUT_S):
        raise RuntimeError(f"no SUBACK for {topic}")


def paho_relay(broker: Mosquitto, nodelay: bool) -> Callable[[], None]:
    """Relay B as bare paho; returns its stop function."""
    relay = client(broker, "relay", nodelay)

    def forward(c: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        c.publish(PONG, message.payload, qos=QOS)

    relay.on_message = forward
    subscribe(relay, PING)

    def stop() -> None:
        relay.disconnect()
        relay.loop_stop()

    return stop


def link_relay(broker: Mosquitto) -> Callable[[], None]:
    """Relay B as restday's MqttLink (manual acks, TCP_NODELAY); returns its stop function."""
    box: list[MqttLink] = []
    connected = threading.Event()

    def forward(message: InboundMessage) -> None:
        box[0].publish(PONG, message.payload, qos=QOS)
        message.ack()

    config = MqttConfig(host=broker.host, port=broker.port, client_id="bench-link")
    link = MqttLink(config, subscriptions=[PING], on_message=forward, on_connected=connected.set)
    box.append(link)
    link.start()
    if not connected.wait(CONNECT_TIMEOUT_S):
        raise RuntimeError("the MqttLink could not connect")
    time.sleep(0.2)  # its SUBACK has no callback to wait for; give the subscription a moment
    return link.stop


def round_trips(broker: Mosquitto, nodelay: bool, messages: int, budget_s: float) -> list[float]:
    """Milliseconds per round trip as seen by A (with TCP_NODELAY if `nodelay`)."""
    sender = client(broker, "sender", nodelay)
    arrived = threading.Event()
    sender.on_message = lambda *_: arrived.set()
    subscribe(sender, PONG)
    times: list[float] = []
    deadline = time.monotonic() + budget_s
    try:
        for i in range(WARMUP_MESSAGES + messages):
            if time.monotonic() > deadline:
                break
            arrived.clear()
            start = time.perf_counter()
            sender.publish(PING, str(i), qos=QOS)
            if not arrived.wait(REPLY_TIMEOUT_S):
                raise RuntimeError(f"message {i} did not come back in {REPLY_TIMEOUT_S} s")
            if i >= WARMUP_MESSAGES:
                times.append((time.perf_counter() - start) * MS_PER_S)
    finally:
        sender.disconnect()
        sender.loop_stop()
    return times


def report(label: str, times: list[float], wanted: int) -> None:
    if len(times) < 2:
        print(f"{label:<58} too slow to measure")
        return
    p99 = statistics.quantiles(times, n=PERCENTILES)[P99 - 1]
    capped = "" if len(times) >= wanted else " (time budget)"
    print(
        f"{label:<58} p50 {statistics.median(times):7.2f} ms   p99 {p99:7.2f} ms"
        f"   n={len(times)}{capped}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S, help="s per setup")
    args = parser.parse_args()
    print(f"{platform.machine()}, Python {platform.python_version()}, paho-mqtt {paho_version}")
    with tempfile.TemporaryDirectory() as tmp:
        for broker_nodelay in (False, True):
            folder = Path(tmp) / f"nodelay-{broker_nodelay}"
            with Mosquitto(folder, persistence=False, tcp_nodelay=broker_nodelay) as broker:
                where = "set_tcp_nodelay true" if broker_nodelay else "default broker"
                for nodelay in (False, True):
                    stop = paho_relay(broker, nodelay)
                    try:
                        times = round_trips(broker, nodelay, args.messages, args.budget)
                    finally:
                        stop()
                    clients = "TCP_NODELAY" if nodelay else "paho default"
                    report(f"{where}, clients {clients}", times, args.messages)
                stop = link_relay(broker)
                try:
                    times = round_trips(broker, True, args.messages, args.budget)
                finally:
                    stop()
                report(f"{where}, relay restday MqttLink", times, args.messages)


if __name__ == "__main__":
    main()
