"""A burst of QoS 1 messages published at full speed, as DESIGN.md §7 "The burst" sets it:
one paho client publishing in a loop with paho's default in-flight window, not waiting for
each PUBACK (an openScale "sync all", or what a bridge held while restday was down).

`publish_burst` runs the publisher as a process of its own. In real life it is another device
(a phone, a bridge), which takes no CPU from restday; on a test machine it would, and a test
run on a busy machine would measure the scheduler, not restday. So the tests run it at the
lowest CPU priority (`nice` 19) on restday's CPU (`on_cpu`, restday pinned there too): it
publishes whenever restday leaves the CPU, waiting for its disk or for the network, which is
when restday that acknowledged one message per fsync fell behind by thousands.
`bench/bench_burst.py` publishes at normal priority, anywhere, on a quiet machine.

Run as `python -m tests.burst HOST PORT TOPIC CLIENT_ID NICE CPU KINDS < payloads` (one JSON
string per line) to publish from a separate process."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

ROOT = Path(__file__).resolve().parent.parent  # where `python -m tests.burst` runs
LOWEST_PRIORITY = 19  # nice: the publisher is another device in real life
RESTDAY_PRIORITY = -5  # nice increment for restday under test, where allowed (root)
CONNECT_TIMEOUT_S = 10.0
ALL_ACKED_TIMEOUT_S = 120.0  # for the broker to acknowledge every message (a loaded machine)


def one_cpu() -> int:
    """A CPU this process may run on: where a test pins restday and its publisher."""
    return min(os.sched_getaffinity(0))


def pinned_to(cpu: int) -> Callable[[], None]:
    """A `preexec_fn` pinning the child process to `cpu`, and, where the test may (as root),
    raising its priority over the test machine's other work (`RESTDAY_PRIORITY`): restday has
    its Raspberry Pi to itself in real life, and a test run beside a busy suite would measure
    the scheduler, not restday."""

    def pin() -> None:
        os.sched_setaffinity(0, {cpu})
        with contextlib.suppress(PermissionError):
            os.nice(RESTDAY_PRIORITY)

    return pin


def weight_of(i: int) -> float:
    """The weight of weigh-in `i` of a burst: 60.0, 60.1, … 89.9 kg, then again (one decimal:
    what the state shows, so the state tells which came last)."""
    return round(60.0 + (i % 300) / 10, 1)


def weigh_ins(count: int, start: datetime, *, step: timedelta = timedelta(minutes=1)) -> list[str]:
    """`count` generic weigh-ins, each at its own time from `start` on, `weight_of(i)` kg."""
    return [
        json.dumps({"weight": weight_of(i), "timestamp": (start + i * step).isoformat()})
        for i in range(count)
    ]


def publish_burst(
    host: str,
    port: int,
    topic: str,
    payloads: Sequence[str | bytes],
    *,
    client_id: str,
    nice: int = LOWEST_PRIORITY,
    on_cpu: int | None = None,
) -> None:
    """Publish every payload at QoS 1 as fast as paho goes, from a process of its own at
    CPU priority `nice`, and return once the broker acknowledged all of them (it has taken
    them: what it does not deliver, it dropped); `on_cpu` pins it to that CPU."""
    lines = "".join(
        json.dumps(p.decode("latin-1") if isinstance(p, bytes) else p) + "\n" for p in payloads
    )
    kinds = "".join("b" if isinstance(p, bytes) else "s" for p in payloads)
    subprocess.run(
        [
            *(sys.executable, "-m", "tests.burst", host, str(port), topic, client_id),
            *(str(nice), "" if on_cpu is None else str(on_cpu), kinds),
        ],
        input=lines.encode(),
        check=True,
        timeout=ALL_ACKED_TIMEOUT_S + CONNECT_TIMEOUT_S,
        cwd=ROOT,
    )


def publish_here(
    host: str, port: int, topic: str, payloads: Sequence[str | bytes], *, client_id: str
) -> None:
    """`publish_burst` in this process (what the separate process runs)."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect(host, port)
    client.loop_start()
    try:
        assert connected.wait(CONNECT_TIMEOUT_S), "the burst's publisher could not connect"
        infos = [client.publish(topic, payload, qos=1) for payload in payloads]
        assert all(info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS for info in infos)
        for info in infos:
            info.wait_for_publish(ALL_ACKED_TIMEOUT_S)
            assert info.is_published(), "the broker did not acknowledge the whole burst"
    finally:
        client.disconnect()
        client.loop_stop()


def main(argv: Sequence[str]) -> None:
    host, port, topic, client_id, nice, cpu, kinds = argv
    os.nice(int(nice))
    if cpu:
        os.sched_setaffinity(0, {int(cpu)})
    texts = [json.loads(line) for line in sys.stdin.read().splitlines()]
    payloads = [t.encode("latin-1") if k == "b" else t for t, k in zip(texts, kinds, strict=True)]
    publish_here(host, int(port), topic, payloads, client_id=client_id)


if __name__ == "__main__":
    main(sys.argv[1:])
