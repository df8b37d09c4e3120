"""`restday run` against a bare paho relay, paced: latency, startup and memory (issue 6).

Through one mosquitto with `set_tcp_nodelay true`:
- input → new state latency p50/p99 of `restday run` (a weigh-in published at QoS 1 until the
  retained state that shows it arrives) at 1, 10 and 100 inputs a second, each rate for about
  --seconds (and for at least MIN_SAMPLES inputs: a p99 needs a hundred), next to a bare paho
  relay (ping → relay → pong, QoS 1 both ways) paced the same;
- startup to the retained `online`, and resident memory at idle: with the bundled sample
  athlete, with Strava configured (a local stand-in), and after a 10-year history is loaded
  (bench/bench_evaluate.py's builder: a run, a night and a weigh-in a day).
Resident memory after the soak comes from bench/soak.py.

Targets (issue 6): p99 under 5 ms at 100 inputs/s; startup under 1 s; idle memory under 45 MB
without Strava, 65 MB with it.

Usage: .venv/bin/python bench/bench_latency.py [--seconds 20] [--rates 1 10 100]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as paho

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.broker, bench

from bench.bench_evaluate import build_store
from bench.bench_mqtt_relay import PING, PONG, client, subscribe
from restday.demo.sample import sample_activities
from restday.integrations.strava import Token, TokenStore
from restday.store import Store
from restday.sync import ingest_activities
from tests.broker import Mosquitto
from tests.strava_server import FakeStrava

BASE = "bench/restday"
SCALE = "bench/scale"
SLEEP = "bench/sleep"
STATE = f"{BASE}/me/state"
STATUS = f"{BASE}/status"
PAIN_SET = f"{BASE}/me/pain/set"
SYNC_SET = f"{BASE}/me/sync/set"
MS_PER_S = 1000.0
KB_PER_MB = 1024.0
START_TIMEOUT_S = 60.0  # a 10-year store takes a while to load on a slow machine
IDLE_SETTLE_S = 2.0  # after `online`, start-up work settles before idle memory is read
REPLY_TIMEOUT_S = 5.0  # a reply later than this counts as lost
PERCENTILES = 100
P99 = 99
WEIGHT_STEPS = 200  # weigh-ins cycle through 60.0 … 79.9 kg: each differs from the last
MIN_SAMPLES = 100  # per rate and contender: 100 s at 1 input/s
MATCH_LOOKAHEAD = 1_000  # a reply is looked for among this many after the previous match
COVERING = 50  # a state showing one of the next this many inputs shows this one handled too


@dataclass(frozen=True, slots=True)
class Figures:
    """What /proc says about a process: resident memory, open descriptors, threads."""

    rss_mb: float
    fds: int
    threads: int

    @staticmethod
    def header() -> str:
        return "   RSS MB   fds  threads"

    def line(self) -> str:
        return f"{self.rss_mb:8.1f} {self.fds:5d} {self.threads:8d}"


def figures(pid: int) -> Figures:
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return Figures(
        rss_mb=int(status["VmRSS"].split()[0]) / KB_PER_MB,
        fds=len(os.listdir(f"/proc/{pid}/fd")),
        threads=int(status["Threads"]),
    )


def percentiles(times: list[float]) -> tuple[float, float]:
    """(p50, p99) in the unit given; NaN without enough samples."""
    if len(times) < 2:
        return float("nan"), float("nan")
    return statistics.median(times), statistics.quantiles(times, n=PERCENTILES)[P99 - 1]


def weight_of(i: int) -> float:
    """The i-th weigh-in's kg, as the state shows it (one decimal)."""
    return round(60.0 + (i % WEIGHT_STEPS) / 10, 1)


def start_restday(
    folder: Path, broker: Mosquitto, strava: FakeStrava | None = None
) -> tuple[subprocess.Popen[bytes], float]:
    """`restday run` on the store in `folder`; returns the process and ms until `online`."""
    config = folder / "restday.toml"
    text = (
        f'[athlete]\ntimezone = "Europe/Berlin"\n[storage]\npath = "restday.db"\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\nbase_topic = "{BASE}"\n'
        f'client_id = "bench-restday"\n[[scale]]\ntopic = "{SCALE}"\n[[sleep]]\ntopic = "{SLEEP}"\n'
    )
    if strava is not None:  # Strava configured (a local stand-in) and authorised
        text += (
            f'[strava]\nclient_id = "{strava.client_id}"\n'
            f'client_secret = "{strava.client_secret}"\napi_url = "{strava.url}"\n'
        )
        TokenStore(folder / "strava-token.json").save(Token.from_json(strava.grant()))
    config.write_text(text)
    online = threading.Event()
    watcher = client(broker, f"bench-watch-{folder.name}", True)
    watcher.on_message = lambda c, u, m: online.set() if m.payload == b"online" else None
    subscribe(watcher, STATUS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTDAY_")}
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "restday", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=(folder / "run.log").open("wb"), env=env,
    )  # fmt: skip
    try:
        if not online.wait(START_TIMEOUT_S):
            process.kill()
            raise RuntimeError(f"restday did not come online: {(folder / 'run.log').read_text()}")
    finally:
        watcher.disconnect()
        watcher.loop_stop()
    return process, (time.perf_counter() - start) * MS_PER_S


Fact = tuple[str, object]  # ("weight", 63.4): one thing a reply shows


def match(
    sends: list[tuple[float, Fact | None]], replies: list[tuple[float, set[Fact]]]
) -> list[float | None]:
    """ms from each send to the first later reply that shows its fact, or the fact of one of
    the `COVERING` sends after it (None: no fact, or lost): inputs that arrive together are
    one batch, whose state shows the last of them (DESIGN.md §7 "The burst").

    Replies come in the order the inputs were handled, so the search goes forward only.
    """
    out: list[float | None] = []
    at = 0
    for i, (sent, fact) in enumerate(sends):
        found = None
        if fact is not None:
            shown_by = {f for _, f in sends[i : i + COVERING] if f is not None}
            for j in range(at, min(len(replies), at + MATCH_LOOKAHEAD)):
                arrived, facts = replies[j]
                if arrived >= sent and facts & shown_by:
                    found, at = (arrived - sent) * MS_PER_S, j
                    break
        out.append(found)
    return out


class ReplySource(Protocol):
    """What `paced` reads replies from: `Replies`, or several merged."""

    @property
    def received(self) -> list[tuple[float, set[Fact]]]: ...

    def wait_for(self, fact: Fact, after: float, timeout_s: float) -> bool: ...


class Replies:
    """Every message on a topic, with its arrival time and the facts it shows."""

    def __init__(self, broker: Mosquitto, topic: str, facts: Callable[[bytes], set[Fact]]) -> None:
        self.received: list[tuple[float, set[Fact]]] = []
        self._lock = threading.Lock()
        self._client = client(broker, f"bench-replies-{id(self)}", True)

        def on_message(c: paho.Client, u: Any, message: paho.MQTTMessage) -> None:
            now = time.perf_counter()
            shown = facts(bytes(message.payload))
            with self._lock:
                self.received.append((now, shown))

        self._client.on_message = on_message
        subscribe(self._client, topic)

    def wait_for(self, fact: Fact, after: float, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if any(t >= after and fact in f for t, f in reversed(self.received[-50:])):
                    return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def paced(
    broker: Mosquitto,
    rate: float,
    count: int,
    send: Callable[[paho.Client, int], Fact],
    replies: ReplySource,
) -> list[float]:
    """Send `count` messages at `rate` a second; ms from each to the reply showing its fact."""
    sender = client(broker, f"bench-paced-{rate:g}", True)
    sends: list[tuple[float, Fact | None]] = []
    start = time.perf_counter()
    try:
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            now = time.perf_counter()
            sends.append((now, send(sender, i)))
        last_sent, last_fact = sends[-1]
        if last_fact is not None:
            replies.wait_for(last_fact, last_sent, REPLY_TIMEOUT_S)
    finally:
        sender.disconnect()
        sender.loop_stop()
    return [x for x in match(sends, replies.received) if x is not None]


def relay_run(broker: Mosquitto, rate: float, count: int) -> list[float]:
    """A bare paho relay: ping → relay → pong, QoS 1 both ways."""
    relay = client(broker, "bench-relay", True)

    def forward(c: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        c.publish(PONG, message.payload, qos=1)

    relay.on_message = forward
    subscribe(relay, PING)
    pongs = Replies(broker, PONG, lambda payload: {("seq", payload.decode())})

    def send(c: paho.Client, i: int) -> Fact:
        c.publish(PING, f"{rate:g}-{i}", qos=1)
        return ("seq", f"{rate:g}-{i}")

    try:
        return paced(broker, rate, count, send, pongs)
    finally:
        pongs.stop()
        relay.disconnect()
        relay.loop_stop()


def state_facts(payload: bytes) -> set[Fact]:
    """What a retained state shows: its weight, and the pain reason's level if any."""
    state = json.loads(payload)
    facts: set[Fact] = {("weight", state["metrics"]["weight_kg"])}
    facts.update(("pain", r["value"]) for r in state["reasons"] if r["rule"] == "pain")
    return facts


def restday_run(broker: Mosquitto, rate: float, count: int, offset: int) -> list[float]:
    """Weigh-ins at `rate`, each the newest so far with a new weight: each moves the state.
    `offset`: weigh-ins sent before, so the first of this run differs from the last of those."""
    first = datetime.now(UTC) - timedelta(hours=1)
    states = Replies(broker, STATE, state_facts)

    def send(c: paho.Client, i: int) -> Fact:
        when = (first + timedelta(milliseconds=i)).isoformat()
        weight = weight_of(offset + i)
        c.publish(SCALE, json.dumps({"weight": weight, "timestamp": when}), qos=1)
        return ("weight", weight)

    try:
        return paced(broker, rate, count, send, states)
    finally:
        states.stop()


def idle_process(folder: Path, broker: Mosquitto, strava: FakeStrava | None = None) -> str:
    """Start restday on the store in `folder`, read startup and idle memory, stop it."""
    process, startup_ms = start_restday(folder, broker, strava)
    try:
        time.sleep(IDLE_SETTLE_S)
        return f"startup {startup_ms:5.0f} ms   idle {figures(process.pid).rss_mb:5.1f} MB"
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per rate and contender")
    parser.add_argument("--rates", type=float, nargs="+", default=[1.0, 10.0, 100.0])
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          "mosquitto with set_tcp_nodelay true, QoS 1")  # fmt: skip
    with (
        tempfile.TemporaryDirectory() as tmp,
        Mosquitto(Path(tmp) / "broker", persistence=False, tcp_nodelay=True) as broker,
    ):
        sample = Path(tmp) / "sample"
        sample.mkdir()
        with Store.open(sample / "restday.db") as store:
            ingest_activities(store, sample_activities())
        process, startup_ms = start_restday(sample, broker)
        time.sleep(IDLE_SETTLE_S)
        idle = figures(process.pid)
        print(
            f"sample athlete, no Strava: startup {startup_ms:5.0f} ms   idle {idle.rss_mb:5.1f} MB"
        )
        print(f"{'rate/s':>7} {'n':>5} {'relay p50':>10} {'p99':>7} {'restday p50':>12} {'p99':>7}"
              f" {'ratio p50':>10} {'p99':>6}")  # fmt: skip
        sent = 0
        try:
            for rate in args.rates:
                count = max(MIN_SAMPLES, int(rate * args.seconds))
                r50, r99 = percentiles(relay_run(broker, rate, count))
                times = restday_run(broker, rate, count, sent)
                sent += count
                d50, d99 = percentiles(times)
                print(f"{rate:>7g} {len(times):>5} {r50:>8.2f}ms {r99:>5.2f}ms {d50:>10.2f}ms"
                      f" {d99:>5.2f}ms {d50 / r50:>9.1f}× {d99 / r99:>5.1f}×")  # fmt: skip
            print(f"after the inputs: {figures(process.pid).rss_mb:.1f} MB")
        finally:
            process.terminate()
            process.wait(timeout=10)
        strava_folder = Path(tmp) / "strava"
        strava_folder.mkdir()
        with Store.open(strava_folder / "restday.db") as store:
            ingest_activities(store, sample_activities())
        with FakeStrava() as strava:
            print(
                f"sample athlete, Strava configured: {idle_process(strava_folder, broker, strava)}"
            )
        decade = Path(tmp) / "decade"
        decade.mkdir()
        build_store(decade / "restday.db", 10)
        print(f"10-year history (10,950 records), no Strava: {idle_process(decade, broker)}")


if __name__ == "__main__":
    main()
