"""`restday run` through a real mosquitto: input → new state latency, startup, memory.

Starts a mosquitto (default settings, then `set_tcp_nodelay true`), runs `restday run` as a
subprocess against it with the bundled sample athlete in its store, and prints:
- startup: from starting the process to receiving its retained `online`;
- resident memory at idle and after the inputs;
- latency from publishing a weigh-in (QoS 1) to receiving the new retained state, p50/p99,
  next to a bare paho relay's round trip through the same broker in the same run.

Usage: .venv/bin/python bench/bench_service.py [--inputs 1000] [--budget 30]
Targets (issue 3, tuned broker): p99 under 5 ms, p50 within 3× the bare relay; idle memory
under 45 MB without Strava; startup under 1 s.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.broker, bench

from bench.bench_latency import MS_PER_S, SCALE, STATE, figures, start_restday
from bench.bench_mqtt_relay import client, paho_relay, round_trips, subscribe
from restday.demo.sample import sample_activities
from restday.store import Store
from restday.sync import ingest_activities
from tests.broker import Mosquitto
from tests.strava_server import FakeStrava

REPLY_TIMEOUT_S = 5.0
WARMUP = 20
P99 = 99


def p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[P99 - 1] if len(times) > 1 else float("nan")


def run_restday(
    folder: Path, broker: Mosquitto, strava: FakeStrava | None = None
) -> tuple[subprocess.Popen[bytes], float]:
    """`restday run` on the sample athlete; returns the process and ms until its `online`."""
    with Store.open(folder / "restday.db") as store:
        ingest_activities(store, sample_activities())
    return start_restday(folder, broker, strava)


def input_to_state(broker: Mosquitto, inputs: int, budget_s: float) -> list[float]:
    """ms from publishing a weigh-in to the state that shows it, one input at a time."""
    sender = client(broker, "bench-sender", True)
    states: list[bytes] = []
    arrived = threading.Condition()

    def on_state(c: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with arrived:
            states.append(bytes(message.payload))
            arrived.notify_all()

    sender.on_message = on_state
    subscribe(sender, STATE)
    times: list[float] = []
    when = datetime.now(UTC) - timedelta(hours=1)
    deadline = time.monotonic() + budget_s
    try:
        for i in range(WARMUP + inputs):
            if time.monotonic() > deadline:
                break
            weight = 70.0 if i % 2 else 70.5  # every input changes the state's weight_kg
            when += timedelta(milliseconds=10)
            payload = json.dumps({"weight": weight, "timestamp": when.isoformat()})
            with arrived:
                seen = len(states)
                start = time.perf_counter()
                sender.publish(SCALE, payload, qos=1)
                if not arrived.wait_for(lambda: len(states) > seen, REPLY_TIMEOUT_S):  # noqa: B023
                    raise RuntimeError(f"no new state for input {i}")
                elapsed = (time.perf_counter() - start) * MS_PER_S
            if i >= WARMUP:
                times.append(elapsed)
    finally:
        sender.disconnect()
        sender.loop_stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--budget", type=float, default=30.0, help="s per broker setup")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        for tuned, with_strava in ((False, False), (True, False), (True, True)):
            folder = Path(tmp) / f"tuned-{tuned}-strava-{with_strava}"
            folder.mkdir()
            with (
                Mosquitto(folder / "broker", persistence=False, tcp_nodelay=tuned) as broker,
                FakeStrava() as strava,
            ):
                process, startup_ms = run_restday(folder, broker, strava if with_strava else None)
                try:
                    time.sleep(1.0)  # let start-up work settle before reading idle memory
                    idle = figures(process.pid).rss_mb
                    stop = paho_relay(broker, True)
                    try:
                        relay = round_trips(broker, True, args.inputs, args.budget / 3)
                    finally:
                        stop()
                    times = input_to_state(broker, args.inputs, args.budget)
                    after = figures(process.pid).rss_mb
                finally:
                    process.terminate()
                    process.wait(10)
            where = "broker set_tcp_nodelay true" if tuned else "broker defaults"
            where += ", Strava configured" if with_strava else ", no Strava"
            print(f"{where}:")
            print(f"  startup to retained online   {startup_ms:7.0f} ms")
            print(f"  resident memory idle / after {idle:7.1f} MB / {after:.1f} MB")
            print(f"  bare paho relay (n={len(relay)})    p50 {statistics.median(relay):7.2f} ms"
                  f"   p99 {p99(relay):7.2f} ms")  # fmt: skip
            print(f"  input → new state (n={len(times)}) p50 {statistics.median(times):7.2f} ms"
                  f"   p99 {p99(times):7.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
