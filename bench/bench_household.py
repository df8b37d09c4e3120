"""A household in one `restday run`: what each extra athlete costs (issue 13).

Through one mosquitto with `set_tcp_nodelay true`, `restday run` with 1 and with --athletes
athletes, each with the bundled sample history (its activities under ids of their own), a
scale of their own and a sleep tracker: startup to the retained `online`, resident memory at
idle, and input → state latency (p50/p99) of the first athlete's weigh-ins paced at --rate, as
bench_latency.py measures it, while the others are idle. Then the latency of weigh-ins spread
over every athlete in turn.

Target (issue 13): each extra athlete costs under 3 MB idle and nothing measurable in latency.

Usage: .venv/bin/python bench/bench_household.py [--athletes 5] [--rate 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.broker, bench

from bench.bench_latency import (
    IDLE_SETTLE_S,
    MIN_SAMPLES,
    MS_PER_S,
    START_TIMEOUT_S,
    Fact,
    Replies,
    figures,
    paced,
    percentiles,
    state_facts,
)
from bench.bench_mqtt_relay import client, subscribe
from restday.demo.sample import sample_activities
from restday.store import Store
from restday.sync import ingest_activities
from tests.broker import Mosquitto
from tests.burst import weight_of

BASE = "bench/restday"
STATUS = f"{BASE}/status"
ID_OFFSET = 10**9  # each athlete's copy of the sample activities gets ids of its own


def athlete_ids(count: int) -> list[str]:
    return [f"runner{i}" for i in range(count)]


def write_household(folder: Path, broker: Mosquitto, count: int) -> Path:
    """The config and store of `count` athletes, each with the sample history."""
    ids = athlete_ids(count)
    text = f'[storage]\npath = "restday.db"\n[mqtt]\nhost = "{broker.host}"\n'
    text += f'port = {broker.port}\nbase_topic = "{BASE}"\nclient_id = "bench-{count}"\n'
    for a in ids:
        text += f'[[athlete]]\nid = "{a}"\ntimezone = "Europe/Berlin"\n'
    for a in ids:
        text += f'[[scale]]\ntopic = "bench/scale/{a}"\nathlete = "{a}"\n'
        text += f'[[sleep]]\ntopic = "bench/sleep/{a}"\nathlete = "{a}"\n'
    config = folder / "restday.toml"
    config.write_text(text)
    history = sample_activities()
    with Store.open(folder / "restday.db", athlete=ids[0]) as store:
        for n, a in enumerate(ids):
            items = [{**item, "id": int(str(item["id"])) + n * ID_OFFSET} for item in history]
            ingest_activities(store, items, athlete=a)
    return config


def start(config: Path, broker: Mosquitto) -> tuple[subprocess.Popen[bytes], float]:
    """`restday run`; the process and ms until the retained `online`."""
    online = threading.Event()
    watcher = client(broker, f"bench-watch-{config.parent.name}", True)
    watcher.on_message = lambda c, u, m: online.set() if m.payload == b"online" else None
    subscribe(watcher, STATUS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTDAY_")}
    begun = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "restday", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=(config.parent / "run.log").open("wb"), env=env,
    )  # fmt: skip
    try:
        if not online.wait(START_TIMEOUT_S):
            process.kill()
            raise RuntimeError((config.parent / "run.log").read_text())
    finally:
        watcher.disconnect()
        watcher.loop_stop()
    return process, (time.perf_counter() - begun) * MS_PER_S


def latency(broker: Mosquitto, athletes: list[str], rate: float, count: int) -> list[float]:
    """ms from each weigh-in to the state that shows it; the weigh-ins go to `athletes` in
    turn, each to their own scale, each the newest so far with a new weight."""
    first = datetime.now(UTC) - timedelta(hours=1)
    states = [Replies(broker, f"{BASE}/{a}/state", state_facts) for a in athletes]
    merged = Merged(states)

    def send(c: paho.Client, i: int) -> Fact:
        a = athletes[i % len(athletes)]
        when = (first + timedelta(milliseconds=i)).isoformat()
        c.publish(f"bench/scale/{a}", json.dumps({"weight": weight_of(i), "timestamp": when}), 1)
        return ("weight", weight_of(i))

    try:
        return paced(broker, rate, count, send, merged)
    finally:
        for replies in states:
            replies.stop()


class Merged:
    """The replies of several athletes' states as one time-ordered stream (for `paced`)."""

    def __init__(self, parts: list[Replies]) -> None:
        self._parts = parts

    @property
    def received(self) -> list[tuple[float, set[Fact]]]:
        return sorted((item for part in self._parts for item in part.received), key=_first)

    def wait_for(self, fact: Fact, after: float, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(t >= after and fact in f for t, f in self.received[-50:]):
                return True
            time.sleep(0.01)
        return False


def _first(item: tuple[float, set[Fact]]) -> float:
    return item[0]


def measure(folder: Path, broker: Mosquitto, count: int, rate: float, seconds: float) -> str:
    config = write_household(folder, broker, count)
    process, startup_ms = start(config, broker)
    try:
        time.sleep(IDLE_SETTLE_S)
        idle = figures(process.pid).rss_mb
        n = max(MIN_SAMPLES, int(rate * seconds))
        ids = athlete_ids(count)
        p50, p99 = percentiles(latency(broker, ids[:1], rate, n))
        s50, s99 = percentiles(latency(broker, ids, rate, n))
    finally:
        process.terminate()
        process.wait(timeout=10)
    return (
        f"{count:>8} {startup_ms:>8.0f} ms {idle:>7.1f} MB {p50:>8.2f} {p99:>6.2f} ms"
        f" {s50:>9.2f} {s99:>6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=5)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"mosquitto with set_tcp_nodelay true, QoS 1, weigh-ins at {args.rate:g}/s")  # fmt: skip
    print(f"{'athletes':>8} {'startup':>11} {'idle':>10} {'first p50':>9} {'p99':>9}"
          f" {'all p50':>9} {'p99':>9}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for count in sorted({1, args.athletes}):
            folder = Path(tmp) / f"household{count}"
            folder.mkdir()
            with Mosquitto(folder / "broker", persistence=False, tcp_nodelay=True) as broker:
                print(measure(folder, broker, count, args.rate, args.seconds), flush=True)


if __name__ == "__main__":
    main()
