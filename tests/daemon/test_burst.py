"""Nothing jams, nothing is silently lost (issue 12), against a real mosquitto with its
default queue: a burst of QoS 1 inputs is stored whole, poison payloads are refused and
acknowledged instead of blocking what comes after them, and a kill mid-burst loses nothing."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restday.integrations.mqtt.topics import Topics
from restday.store import Store
from tests.broker import Mosquitto
from tests.burst import one_cpu, pinned_to, publish_burst, weigh_ins, weight_of
from tests.conftest import Probe, wait_until
from tests.daemon.service_harness import MORNING, rows, running, write_config
from tests.daemon.test_run_process import restday_run

BURST = 3_000  # DESIGN.md §7: three times mosquitto's default queue of 1,000
ALL_IN_S = 120.0  # generous: a loaded CI machine

# Payloads that made parsers raise something other than a rejection, each a different way
POISON = [
    b'{"weight": 70, "timestamp": "9999-12-31T23:30:00+00:00"}',  # overflows in Berlin time
    b'{"weight": 70, "timestamp": "0001-01-01T00:10:00+01:00"}',  # before year 1 in UTC
    b'{"weight": ' + b"7" * 5_000 + b"}",  # past Python's int digits limit
    b"[" * 100_000 + b"]" * 100_000,  # deeper than any recursion limit
    b'{"weight": 70, "weight": 71}',  # which one? (duplicate keys)
    b'{"weight": 1e400}',  # infinity
    b"\xff\xfe{weight}",  # not UTF-8
    b'{"weight": 70, "timestamp": 253402300799000}',  # 9999-12-31 in milliseconds
]


def unparsed(db: Path) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(db, timeout=5)) as conn:
        return [(k, raw, why) for k, raw, why in conn.execute("SELECT * FROM unparsed")]


def stored_some(db: Path) -> bool:
    """Polls as fast as it can (the kill must come mid-burst): whether a weigh-in is stored."""
    deadline = time.monotonic() + ALL_IN_S
    while time.monotonic() < deadline:
        if rows(db, "body") > 0:
            return True
    return False


def diagnostics(probe: Probe, topics: Topics, **match: int) -> dict[str, object]:
    """The next diagnostics whose scale counters have the given values."""
    while True:
        payload = json.loads(probe.wait_for(topics.diagnostics, timeout_s=ALL_IN_S).payload)
        scale = payload["inputs"]["scale"]
        if all(scale[k] == v for k, v in match.items()):
            return payload  # type: ignore[no-any-return]


@pytest.fixture
def default_broker(tmp_path: Path, mosquitto_binary: str) -> Iterator[Mosquitto]:
    """mosquitto with its defaults (a queue of 1,000 per client; its default log) plus
    `set_tcp_nodelay true`, as DESIGN.md §7 "The burst" sets it; killed at teardown."""
    broker = Mosquitto(
        tmp_path / "default-broker", binary=mosquitto_binary, tcp_nodelay=True, log_packets=False
    )
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture
def default_probe(default_broker: Mosquitto, topic_prefix: str) -> Iterator[Probe]:
    """A client on `default_broker`, to publish and to watch topics."""
    client = Probe(default_broker.host, default_broker.port, client_id=f"probe-{topic_prefix}")
    yield client
    client.close()


def test_3000_weigh_ins_published_at_full_speed_are_all_stored_once(
    tmp_path: Path, default_broker: Mosquitto, default_probe: Probe, topic_prefix: str
) -> None:
    broker, probe = default_broker, default_probe
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics = Topics.of(config)
    db = config.store_path()
    start = datetime.now(UTC) - timedelta(minutes=BURST + 10)
    probe.subscribe(topics.status)
    probe.subscribe(topics.state)
    cpu = one_cpu()  # restday and its publisher share one (tests/burst.py says why)
    with restday_run(config, tmp_path / "run.log", preexec=pinned_to(cpu)):
        probe.wait_for(topics.status, b"online")
        burst = weigh_ins(BURST, start)
        publish_burst(
            broker.host, broker.port, f"{topic_prefix}/scale", burst, client_id="s", on_cpu=cpu
        )
        assert wait_until(lambda: rows(db, "body") == BURST, ALL_IN_S), rows(db, "body")
        last = weight_of(BURST - 1)
        assert wait_until(
            lambda: any(
                json.loads(m.payload)["metrics"]["weight_kg"] == last
                for m in probe.messages(topics.state)
            ),
            ALL_IN_S,
        ), "the last weigh-in never reached the published state"
    with Store.open(db) as store:
        times = sorted(b.time for b in store.history().body)
        assert store.counters().get("scale", {}) == {}  # no duplicate, no rejection
    assert times == [start + i * timedelta(minutes=1) for i in range(BURST)]
    assert "dropped" not in broker.log_text().lower()


def test_poison_payloads_are_refused_and_kept_aside_and_never_block_what_follows(
    tmp_path: Path, broker: Mosquitto, probe: Probe, topic_prefix: str
) -> None:
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics = Topics.of(config)
    db = config.store_path()
    # three rounds of poison: more than mosquitto's 20 messages in flight, then one good one
    burst: list[str | bytes] = [*POISON * 3, *weigh_ins(1, MORNING - timedelta(hours=1))]
    probe.subscribe(topics.diagnostics)
    with running(config) as service:
        assert wait_until(lambda: service.link.connected)
        publish_burst(broker.host, broker.port, f"{topic_prefix}/scale", burst, client_id="p")
        assert wait_until(lambda: rows(db, "body") == 1, ALL_IN_S), "the good weigh-in was lost"
        assert wait_until(lambda: service.worker.drained())
    kept = unparsed(db)
    assert len(kept) == len(POISON) * 3
    assert all(kind == "scale" and f"{topic_prefix}/scale" in why for kind, _, why in kept)
    assert kept[0][1] == POISON[0].decode()  # the payload as it came, to look at later
    # restarted on the same persistent session: nothing is delivered again, nothing added
    probe.subscribe(topics.diagnostics)
    with running(config) as service:
        found = diagnostics(probe, topics, rejected=len(POISON) * 3)
        assert found["inputs"]["scale"]["stored"] == 1  # type: ignore[index]
        assert wait_until(lambda: service.worker.drained())
        assert len(unparsed(db)) == len(POISON) * 3
    assert rows(db, "body") == 1


def test_sigkill_in_a_burst_keeps_every_acknowledged_weigh_in_exactly_once(
    tmp_path: Path, default_broker: Mosquitto, default_probe: Probe, topic_prefix: str
) -> None:
    broker, probe = default_broker, default_probe
    config = write_config(tmp_path, broker, topic_prefix, scale="generic")
    topics = Topics.of(config)
    db = config.store_path()
    count = 1_000  # what the broker queues for a stopped client: none of it is dropped
    start = datetime.now(UTC) - timedelta(days=1)
    burst = weigh_ins(count, start)
    probe.subscribe(topics.status)
    with restday_run(config, tmp_path / "run1.log") as first:
        probe.wait_for(topics.status, b"online")
        first.send_signal(signal.SIGSTOP)  # the whole burst waits for it at the broker
        publish_burst(broker.host, broker.port, f"{topic_prefix}/scale", burst, client_id="s")
        first.send_signal(signal.SIGCONT)
        assert stored_some(db), "nothing of the burst was stored"
        first.kill()  # mid-burst: some stored and acknowledged, some stored, not yet
        first.wait()
    assert rows(db, "body") < count, "the kill came too late to prove anything"
    with restday_run(config, tmp_path / "run2.log"):
        assert wait_until(lambda: rows(db, "body") == count, ALL_IN_S), rows(db, "body")
    with Store.open(db) as store:
        times = sorted(b.time for b in store.history().body)
        assert store.counters().get("scale", {}).get("rejected", 0) == 0
    assert times == [start + i * timedelta(minutes=1) for i in range(count)]
