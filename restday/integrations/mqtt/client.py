"""The MQTT link (DESIGN.md §2, §5): the only module that imports paho.

One paho client (callback API 2, MQTT 3.1.1) with a persistent session (fixed client id,
`clean_session=False`): QoS 1 inputs sent while restday was stopped arrive when it starts.
Last will: retained `offline` on `<base>/status`; each connect subscribes again (QoS 1),
then publishes retained `online` and calls `on_connected`. Acks are manual: the worker calls
`InboundMessage.ack` once the store committed, so a crash in between means a redelivery.
Callbacks run on paho's thread: they hand over and return, never block, never raise. A broker
that is down is retried with back-off and logged once per outage. `TCP_NODELAY` is set: without
it each QoS 1 hop waits ~40 ms for a delayed ACK. A broker that keeps closing the connection
right after accepting it (`QuickCloses`: most likely another client with the same client id,
which takes the session over, and is thrown off in turn) is one ERROR naming the likely cause,
not a stream of reconnects that says nothing.
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from restday.clock import Clock, SystemClock
from restday.config import MqttConfig
from restday.integrations.mqtt.message import InboundMessage, no_ack

LOG_NAME = "restday.integrations.mqtt"  # as before the module became a package
log = logging.getLogger(LOG_NAME)
paho_log = logging.getLogger(f"{LOG_NAME}.paho")  # paho's own chatter, all at DEBUG

KEEPALIVE_S = 60  # a PINGREQ after this long without traffic; the will fires after 1.5×
RECONNECT_MIN_S = 1  # paho's back-off doubles from here ...
RECONNECT_MAX_S = 15  # ... up to here: a broker that appears is found within 15 s
LOGIN_RETRY_S = 60  # a refused login (wrong password) is retried this slowly
CONNECT_TIMEOUT_S = 5.0  # one attempt's TCP connect (and TLS handshake)
PUBLISH_TIMEOUT_S = 5.0  # a sensible wait for the broker to acknowledge QoS 1 publishes
STOP_TIMEOUT_S = 3.0  # stop(): for `offline` to be acknowledged
LOOP_STOP_MIN_S = 0.5  # stop(): at least this long for the network thread to end
THREAD_START_TIMEOUT_S = 1.0  # start(): for paho's network thread to show up
MAX_QUEUED_MESSAGES = 1000  # QoS 1 publishes kept while offline; beyond, new ones are dropped

ONLINE = "online"
OFFLINE = "offline"
STATUS_QOS = 1
SUBSCRIBE_QOS = 1
STATUS_SUFFIX = "status"

DOWN = "down"  # the outage category (unreachable or lost); refusals are keyed by reason
LOGIN_REFUSALS = frozenset(
    {"Bad user name or password", "Not authorized", "Client identifier not valid"}
)  # the broker said no to our configuration: retrying fast will not change its mind
LOGIN_HINT = "check mqtt.username, mqtt.password and mqtt.client_id"

# The broker closing the connection right after connecting, again and again: another client
# with the same client id (the broker hands the session to the newest and closes the other).
QUICK_CLOSE = timedelta(seconds=10)  # a close this soon after the CONNACK is "right after"
QUICK_CLOSES = 3  # this many of them ...
QUICK_CLOSES_WITHIN = timedelta(minutes=5)  # ... within this long: one ERROR
STABLE_AGAIN = timedelta(minutes=10)  # a connection that lasted this long: the ERROR may recur


class QuickCloses:
    """Tells when the broker keeps closing the connection right after accepting it: on the
    `QUICK_CLOSES`-th close within `QUICK_CLOSES_WITHIN`, each `QUICK_CLOSE` or less after its
    connect, once; again only after a connection that lasted `STABLE_AGAIN`. Times come from
    the link's clock; a broker that cannot be reached in between (an outage) starts the count
    again."""

    def __init__(self) -> None:
        self._connected_at: datetime | None = None
        self._closes: deque[datetime] = deque()
        self.told = False  # the ERROR was logged in this episode

    def connected(self, now: datetime) -> None:
        self._connected_at = now

    def closed(self, now: datetime) -> bool:
        """A connection ended (not by restday); True when the ERROR is due now."""
        began, self._connected_at = self._connected_at, None
        if began is None:
            return False
        lasted = now - began
        if lasted >= STABLE_AGAIN:
            self._closes.clear()
            self.told = False
            return False
        if lasted > QUICK_CLOSE:
            return False
        self._closes.append(now)
        while now - self._closes[0] > QUICK_CLOSES_WITHIN:
            self._closes.popleft()
        if len(self._closes) < QUICK_CLOSES or self.told:
            return False
        self.told = True
        return True

    def unreachable(self) -> None:
        """The broker could not be reached: closes before it were an outage's, not a clash."""
        self._closes.clear()


@dataclass(frozen=True, slots=True)
class Retry:
    """How the link tries the broker again: paho's back-off doubles from `min_s` to `max_s`
    while the broker cannot be reached; a refused login is retried every `login_s`."""

    min_s: int = RECONNECT_MIN_S
    max_s: int = RECONNECT_MAX_S
    login_s: int = LOGIN_RETRY_S


class MqttLink:
    """The connection to the broker: `start()`, `publish()` from any thread, `stop()`."""

    def __init__(
        self,
        config: MqttConfig,
        *,
        subscriptions: Sequence[str],
        on_message: Callable[[InboundMessage], None],
        on_connected: Callable[[], None],
        clock: Clock = SystemClock(),  # noqa: B008 -- stateless, a shared default is fine
        retry: Retry = Retry(),
    ) -> None:
        self.config = config
        self._retry = retry
        self.status_topic = f"{config.base_topic}/{STATUS_SUFFIX}"
        self._subscriptions = tuple(subscriptions)
        self._on_message_cb = on_message
        self._on_connected_cb = on_connected
        self._clock = clock
        self._where = f"{config.host}:{config.port}"
        self._lock = threading.Lock()  # guards _pending; never held across a paho call
        self._pending: list[paho.MQTTMessageInfo] = []  # QoS ≥ 1 publishes not yet acked
        self._connections = 0  # successful connects (network thread writes, others read)
        self._up = False
        self._reported: set[str] = set()  # problems logged in the current outage
        self._quick_closes = QuickCloses()  # network thread only
        self._started = False
        self._stopping = False
        self._network_thread: threading.Thread | None = None
        self._thread_seen = threading.Event()
        self._client = self._build_client()

    def _build_client(self) -> paho.Client:
        config = self.config
        # A persistent session; messages acknowledged once stored (`_ack`).
        client = new_client(config, config.client_id, clean_session=False, manual_ack=True)
        client.suppress_exceptions = True  # a bug in a callback must not end the thread
        client.connect_timeout = CONNECT_TIMEOUT_S
        client.max_queued_messages_set(MAX_QUEUED_MESSAGES)
        client.reconnect_delay_set(self._retry.min_s, self._retry.max_s)
        client.will_set(self.status_topic, OFFLINE, qos=STATUS_QOS, retain=True)
        client.on_pre_connect = self._on_pre_connect
        client.on_socket_open = self._on_socket_open
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        if paho_log.isEnabledFor(logging.DEBUG):  # paho formats every line it hands to on_log
            client.on_log = self._on_log
        return client

    # -- the service's side ------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background and return at once; a broker that is down is retried."""
        if self._started:
            return
        self._started = True
        self._client.connect_async(self.config.host, self.config.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()
        if not self._thread_seen.wait(THREAD_START_TIMEOUT_S):
            log.warning("MQTT: paho's network thread did not start")

    def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 0
    ) -> None:
        """Send without waiting. Offline, QoS 0 is dropped (with a warning), QoS 1 is queued."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                log.warning("MQTT: not connected, dropped a message for %s", topic)
            return
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            log.warning(
                "MQTT: %d messages wait for the broker already, dropped one for %s",
                MAX_QUEUED_MESSAGES,
                topic,
            )
            return
        # Any other code (MQTT_ERR_NO_CONN while offline) still means paho keeps the message
        # and sends it on the next connect, setting this same info published on its PUBACK;
        # but it never updates rc, and an rc > 0 makes wait_for_publish raise at once.
        info.rc = MQTTErrorCode.MQTT_ERR_SUCCESS
        self._unacked()  # forget the acknowledged ones
        with self._lock:
            self._pending.append(info)

    def _unacked(self) -> list[paho.MQTTMessageInfo]:
        """The QoS ≥ 1 publishes still waiting for their PUBACK (asked outside the lock)."""
        with self._lock:
            taken, self._pending = self._pending, []
        unacked = [info for info in taken if not info.is_published()]
        with self._lock:
            self._pending[:0] = unacked
        return unacked

    def wait_published(self, timeout_s: float = PUBLISH_TIMEOUT_S) -> bool:
        """Whether every QoS ≥ 1 publish so far is acknowledged, waiting up to `timeout_s`."""
        if threading.current_thread() is self._network_thread:
            raise RuntimeError("wait_published() from a paho callback would block paho's thread")
        deadline = time.monotonic() + timeout_s
        pending = self._unacked()
        for info in pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            info.wait_for_publish(remaining)
        return all(info.is_published() for info in pending)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Publish retained `offline` (waiting up to `timeout_s`), disconnect, end the thread."""
        if not self._started or self._stopping:
            return
        self._stopping = True
        deadline = time.monotonic() + timeout_s
        if self.connected:
            self.publish(self.status_topic, OFFLINE, retain=True, qos=STATUS_QOS)
            if not self.wait_published(timeout_s):
                log.warning("MQTT: the broker did not acknowledge everything in %.1f s", timeout_s)
        self._client.disconnect()
        stopper = threading.Thread(target=self._client.loop_stop, name="mqtt-stop", daemon=True)
        stopper.start()
        stopper.join(max(deadline - time.monotonic(), LOOP_STOP_MIN_S))
        if stopper.is_alive():
            log.warning("MQTT: paho's network thread did not end in time; leaving it")

    @property
    def connected(self) -> bool:
        return self._client.is_connected()

    @property
    def reconnects(self) -> int:
        """Successful connections after the first."""
        return max(self._connections - 1, 0)

    def is_alive(self) -> bool:
        """Whether paho's network thread runs (the systemd watchdog asks)."""
        thread = self._network_thread
        return thread is not None and thread.is_alive() and not self._stopping

    # -- paho's network thread ---------------------------------------------------------------

    def _on_pre_connect(self, client: paho.Client, userdata: Any) -> None:
        self._network_thread = threading.current_thread()
        self._thread_seen.set()

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        if isinstance(sock, socket.socket):  # plain TCP or TLS (an SSLSocket is one too)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as exc:
                log.debug("MQTT: cannot set TCP_NODELAY: %s", exc)

    def _on_connect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._refused(client, reason_code.getName())
            return
        self._connections += 1
        self._up = True
        self._reported.clear()
        self._quick_closes.connected(self._clock.now())
        client.reconnect_delay_set(self._retry.min_s, self._retry.max_s)
        if self._connections == 1:
            log.info("MQTT: connected to %s as %s", self._where, self.config.client_id)
        else:  # while the broker keeps closing it (said at ERROR), each one at DEBUG only
            level = logging.DEBUG if self._quick_closes.told else logging.INFO
            log.log(
                level, "MQTT: connected to %s again (reconnect %d)", self._where, self.reconnects
            )
        try:
            if self._subscriptions:  # first: a client that acts on `online` is heard
                client.subscribe([(topic, SUBSCRIBE_QOS) for topic in self._subscriptions])
            self.publish(self.status_topic, ONLINE, retain=True, qos=STATUS_QOS)
            self._on_connected_cb()
        except Exception:
            log.exception("MQTT: handling the connection failed")

    def _refused(self, client: paho.Client, reason: str) -> None:
        key = f"refused:{reason}"
        if reason in LOGIN_REFUSALS:
            client.reconnect_delay_set(self._retry.login_s, self._retry.login_s)
            if key not in self._reported:
                who = f"user {self.config.username!r}" if self.config.username else "no username"
                log.error(
                    "MQTT: the broker at %s refused the login (%s): %s; %s. Retrying every %d s",
                    self._where,
                    who,
                    reason.lower(),
                    LOGIN_HINT,
                    self._retry.login_s,
                )
        elif key not in self._reported:
            log.warning("MQTT: the broker at %s refused the connection: %s", self._where, reason)
        self._reported.add(key)

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        self._quick_closes.unreachable()
        if DOWN in self._reported:
            return
        self._reported.add(DOWN)
        log.warning(
            "MQTT: cannot connect to the broker at %s (down or unreachable%s); "
            "retrying in the background, every %d–%d s",
            self._where,
            ", or its TLS certificate is not trusted" if self.config.tls else "",
            self._retry.min_s,
            self._retry.max_s,
        )

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        was_up, self._up = self._up, False
        if self._stopping:
            log.info("MQTT: disconnected from %s", self._where)
            return
        if not was_up:
            return
        if self._quick_closes.closed(self._clock.now()):
            log.error(
                "MQTT: the broker at %s keeps closing the connection right after connecting: "
                'is another client using mqtt.client_id "%s"? (another restday with the same '
                "config, say) Give each its own mqtt.client_id",
                self._where,
                self.config.client_id,
            )
        elif self._quick_closes.told:
            log.debug("MQTT: the broker closed the connection again (%s)", reason_code.getName())
        elif DOWN not in self._reported:
            self._reported.add(DOWN)
            log.warning(
                "MQTT: lost the connection to %s (%s); reconnecting in the background",
                self._where,
                reason_code.getName(),
            )

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        ack = functools.partial(self._ack, message.mid, message.qos)
        try:
            topic = message.topic
        except UnicodeDecodeError:  # paho hands these over too; nobody's input: drop it
            log.warning("MQTT: dropped a message whose topic is not UTF-8")
            ack()
            return
        try:
            inbound = InboundMessage(
                topic=topic,
                payload=bytes(message.payload),
                retained=bool(message.retain),
                qos=message.qos,
                received_at=self._clock.now(),
                ack=ack if message.qos > 0 else no_ack,  # QoS 0 is not acknowledged
            )
            self._on_message_cb(inbound)
        except Exception:  # not acked: the broker delivers it again after a restart
            log.exception("MQTT: handing over a message on %s failed", topic)

    def _ack(self, mid: int, qos: int) -> None:
        """Acknowledge one received message; safe from any thread, never raises."""
        try:
            rc = self._client.ack(mid, qos)
        except Exception:
            log.exception("MQTT: acknowledging message %d failed", mid)
            return
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            log.debug("MQTT: acknowledging message %d: %s", mid, paho.error_string(rc))

    def _on_log(self, client: paho.Client, userdata: Any, level: int, text: str) -> None:
        paho_log.debug("%s", text)


CHECK_TIMEOUT_S = 5.0  # `restday check-config`: how long to wait for the broker's answer


def new_client(
    config: MqttConfig, client_id: str, *, clean_session: bool, manual_ack: bool = False
) -> paho.Client:
    """A paho client speaking MQTT 3.1.1 with the configured login and TLS (the system's CA
    certificates, hostname checked): the service's and check-config's alike."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=MQTTProtocolVersion.MQTTv311,
        manual_ack=manual_ack,
    )
    if config.username:
        client.username_pw_set(config.username, config.password.get_secret_value() or None)
    if config.tls:
        client.tls_set()
    return client


def check_broker(config: MqttConfig, timeout_s: float = CHECK_TIMEOUT_S) -> str | None:
    """Connect once (a throw-away clean session) and disconnect: None if the broker lets
    restday in, else one sentence saying what to fix. Never logs or returns the password."""
    result: list[str | None] = []
    done = threading.Event()
    client = new_client(config, f"{config.client_id}-check", clean_session=True)  # throw-away

    def on_connect(c: paho.Client, u: Any, f: Any, reason: ReasonCode, p: Any) -> None:
        if not reason.is_failure:
            result.append(None)
        elif reason.getName() in LOGIN_REFUSALS:
            result.append(
                f"the broker refused the login ({reason.getName().lower()}): {LOGIN_HINT}"
            )
        else:
            result.append(f"the broker refused the connection: {reason.getName()}")
        done.set()

    client.on_connect = on_connect
    client.connect_timeout = timeout_s
    where = f"{config.host}:{config.port}"
    try:
        client.connect(config.host, config.port, keepalive=KEEPALIVE_S)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc.__class__.__name__
        return (
            f"cannot reach the broker at {where} ({reason}): is it running? "
            "check mqtt.host and mqtt.port"
        )
    client.loop_start()
    try:
        if not done.wait(timeout_s):
            return (
                f"the broker at {where} did not answer in {timeout_s:g} s: "
                "check mqtt.host, mqtt.port and mqtt.tls"
            )
        return result[0]
    finally:
        client.disconnect()
        client.loop_stop()
