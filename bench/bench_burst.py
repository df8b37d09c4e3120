"""A burst and a sustained stream of QoS 1 weigh-ins into `restday run` (issue 12).

Through one mosquitto with its defaults (a queue of 1,000 messages per client, its default
log) plus `set_tcp_nodelay true`, as DESIGN.md §7 "The burst" sets it:
- the burst: one paho client publishes --burst weigh-ins at QoS 1 as fast as it goes (paho's
  default in-flight window), at normal priority, from a process of its own; reported: how fast
  it published, how many restday stored (and how many twice), and the time from the first
  publish until the last weigh-in shows in the published state. Repeated --repeat times, each
  on a fresh store and broker.
- sustained: weigh-ins paced at each of --rates per second for --seconds; reported: the rate
  restday stored them at, whether every one was stored, and the backlog at the end.
A single input's latency (p50/p99 at 100/s) comes from bench/bench_latency.py.

Targets (issue 12): 3,000 at full speed all stored once, the last in the state within 5 s;
sustained ≥ 5,000 inputs/s.

Usage: .venv/bin/python bench/bench_burst.py [--burst 3000] [--repeat 5]
       [--rates 2500 5000 7500 10000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.broker, bench

from bench.bench_latency import SCALE, STATE, start_restday
from bench.bench_mqtt_relay import client, subscribe
from tests.broker import Mosquitto
from tests.burst import publish_burst, weigh_ins, weight_of
from tests.daemon.service_harness import rows

DONE_TIMEOUT_S = 120.0  # for restday to store what the broker took
POLL_S = 0.01
SETTLED_S = 5.0  # no new row for this long: what was dropped never comes
NORMAL_PRIORITY = 0  # the bench's publisher: as fast as a quiet machine lets it
PACE_CHUNK = 50  # the sustained publisher sends this many, then waits for its schedule


class StateWatch:
    """When the published state first showed a given weight."""

    def __init__(self, broker: Mosquitto, name: str) -> None:
        self.seen: dict[float, float] = {}
        self._client = client(broker, f"bench-state-{name}", True)

        def on_message(c: paho.Client, u: Any, message: paho.MQTTMessage) -> None:
            kg = json.loads(message.payload)["metrics"]["weight_kg"]
            self.seen.setdefault(kg, time.perf_counter())

        self._client.on_message = on_message
        subscribe(self._client, STATE)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def wait_rows(db: Path, count: int) -> tuple[int, float]:
    """Rows stored once `count` are, or once no more came for `SETTLED_S`; and when the
    last one came (`time.perf_counter`)."""
    n, last_at = rows(db, "body"), time.perf_counter()
    while n < count and time.perf_counter() - last_at < SETTLED_S:
        time.sleep(POLL_S)
        if (now := rows(db, "body")) != n:
            n, last_at = now, time.perf_counter()
    return n, last_at


def one_burst(folder: Path, count: int) -> str:
    with Mosquitto(folder / "broker", tcp_nodelay=True, log_packets=False) as broker:
        process, _ = start_restday(folder, broker)  # bench_latency's: a scale on SCALE
        watch = StateWatch(broker, folder.name)
        try:
            payloads = weigh_ins(count, datetime.now(UTC) - timedelta(minutes=count + 10))
            start = time.perf_counter()
            publish_burst(
                broker.host, broker.port, SCALE, payloads, client_id="burst", nice=NORMAL_PRIORITY
            )
            published_s = time.perf_counter() - start  # with the publisher's own start-up
            stored, _ = wait_rows(folder / "restday.db", count)
            last = weight_of(count - 1)
            deadline = time.perf_counter() + DONE_TIMEOUT_S
            while last not in watch.seen and time.perf_counter() < deadline:
                time.sleep(POLL_S)
            in_state = watch.seen.get(last)
            dropped = "dropped" in broker.log_text().lower()
        finally:
            watch.stop()
            process.terminate()
            process.wait(timeout=10)
    shown = f"{in_state - start:6.2f} s" if in_state is not None else "   never"
    return (
        f"{count:>6} {published_s:>9.2f} s {stored:>7} {'yes' if dropped else 'no':>8}"
        f"   last in state after {shown}"
    )


def sustained(folder: Path, rate: float, seconds: float) -> str:
    count = int(rate * seconds)
    with Mosquitto(folder / "broker", tcp_nodelay=True, log_packets=False) as broker:
        process, _ = start_restday(folder, broker)  # bench_latency's: a scale on SCALE
        db = folder / "restday.db"
        try:
            publisher = client(broker, f"bench-paced-{folder.name}", True)
            payloads = weigh_ins(count, datetime.now(UTC) - timedelta(minutes=count + 10))
            start = time.perf_counter()
            infos = []
            for i in range(0, count, PACE_CHUNK):
                due = start + i / rate
                while (now := time.perf_counter()) < due:
                    time.sleep(min(due - now, POLL_S))
                infos += [publisher.publish(SCALE, p, qos=1) for p in payloads[i : i + PACE_CHUNK]]
            for info in infos:
                info.wait_for_publish(DONE_TIMEOUT_S)
            sent_s = time.perf_counter() - start
            backlog = count - rows(db, "body")
            stored, last_at = wait_rows(db, count)
            done_s = last_at - start
            publisher.disconnect()
            publisher.loop_stop()
        finally:
            process.terminate()
            process.wait(timeout=10)
    return (
        f"{rate:>8g}/s {count:>7} {count / sent_s:>9.0f}/s {stored / done_s:>9.0f}/s "
        f"{'all' if stored == count else f'{stored}':>7} {backlog:>8}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rates", type=float, nargs="+", default=[2_500, 5_000, 7_500, 10_000])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          "mosquitto defaults + set_tcp_nodelay true, QoS 1")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'burst':>6} {'published':>11} {'stored':>7} {'dropped':>8}")
        for i in range(args.repeat):
            folder = Path(tmp) / f"burst{i}"
            folder.mkdir()
            print(one_burst(folder, args.burst), flush=True)
        print(f"{'paced':>10} {'n':>7} {'published':>11} {'stored':>10} {'kept':>7} {'backlog':>8}")
        for rate in args.rates:
            folder = Path(tmp) / f"paced{rate:g}"
            folder.mkdir()
            print(sustained(folder, rate, args.seconds), flush=True)


if __name__ == "__main__":
    main()
