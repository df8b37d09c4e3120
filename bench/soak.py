"""Soak: 100,000 inputs over 1,000 simulated days through `restday run` (issue 6, promise 3).

A real mosquitto (`set_tcp_nodelay true`), `restday run` as a subprocess, and a paced QoS 1
producer. The inputs' own timestamps walk through 1,000 days, 100 a day — far more than one
runner sends, so a thousand days fit in minutes — in the proportions
of a busy setup: 80 weigh-ins (a scale that publishes every reading), 4 sleep sessions (a split
night and two naps), 14 pain reports (a slider being dragged) and 2 sync presses.

The activities of those days (a runner's week: five runs, one strength session, a rest day)
are imported into the store before restday starts. The daemon reads activities at start and
after Strava syncs only: feeding them as Strava-shaped imports while it runs would need a
Strava stand-in and would measure the sync too. Imported up front, the activity side is
constant, so whatever grows is the MQTT inputs' doing.

Pain reports carry no time of their own (the number entity's value is "pain now"), so they all
land on the real today. Every weigh-in is the newest so far with a new weight, and every pain
report a new level, so each moves the retained state: that gives the latency. Nights and sync
presses are part of the load, but a night 500 days ago changes nothing today.

The walk ends `--ends-days-ago` days before today (61 by default): just outside the 60 days
the rules look back on. restday keeps in memory only those 60 days (and every activity), so
each input of the walk is stored and then dropped from memory, and what an evaluation reads
is the same at the start as at the end: whatever grows is what the run accumulated (memory,
descriptors, threads, the store's size), not the rules' window filling up. With
`--ends-days-ago 1` the walk's last 60 days fill that window as well — 4,800 weigh-ins on
top of a real user's 60–180 — and the end is slower by what reading them costs.

Prints resident memory, open file descriptors and threads of the restday process after
warm-up (the first minute) and at the end, with input → new state latency p50/p99 over the
2,000 inputs after warm-up and over the last 2,000. Targets: memory grows < 5 MB, fds and
threads constant, the end's p99 within 20 % of the start's.

Usage: .venv/bin/python bench/soak.py [--days 1000] [--per-day 100] [--rate 250]
                                     [--ends-days-ago 61]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.broker, bench

from bench.bench_latency import (
    PAIN_SET,
    SCALE,
    SLEEP,
    STATE,
    SYNC_SET,
    Fact,
    Figures,
    Replies,
    figures,
    match,
    percentiles,
    start_restday,
    state_facts,
    weight_of,
)
from bench.bench_mqtt_relay import client
from restday.rules.context import WINDOW_DAYS
from restday.store import Store
from restday.sync import ingest_activities
from tests.broker import Mosquitto

TZ = ZoneInfo("Europe/Berlin")
# Not measured: imports, caches and the broker settle, and restday's scheduler starts the
# thread its jobs run on at the first housekeeping tick (a minute in): at least this long.
WARMUP_S = 65.0
WARMUP_MIN_INPUTS = 1_000
WINDOW_INPUTS = 2_000  # latency is compared over this many inputs at the start and the end
PROGRESS_EVERY = 10_000
DRAIN_TIMEOUT_S = 120.0  # after the last input, its state must arrive within this
SETTLE_S = 2.0  # then the process gets this long before its figures are read
RSS_GROWTH_MAX_MB = 5.0
P99_GROWTH_MAX = 1.2
SEED = 6
# A day's sleep: a split night (two sessions) and two naps — (end, hours asleep, main night).
SESSIONS = ((3.0, 3.5, False), (6.5, 3.2, True), (14.5, 0.5, False), (17.5, 0.4, False))
PAINS, SYNCS = 14, 2  # a day's pain reports and sync presses; the rest are weigh-ins
FIRST_WEIGH_IN_H, WEIGH_IN_SPAN_H = 6.0, 14.0  # weigh-ins from 06:00 over 14 hours
PAIN_LEVELS = 9  # levels 1 … 9 in turn: each report differs from the one before
RUN_DAYS = (0, 1, 3, 5, 6)  # Mon, Tue, Thu, Sat, Sun; strength on Wednesday, Friday off
STRENGTH_DAY = 2


@dataclass(frozen=True, slots=True)
class Input:
    topic: str
    payload: str
    fact: Fact | None  # what its new state shows; None: nothing guaranteed


def local(day: date, hour: float) -> datetime:
    return datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=hour)


def strava_activity(n: int, day: date) -> dict[str, object] | None:
    """The day's session, Strava-shaped: a run of 6–16 km, strength, or nothing."""
    start = local(day, 7.0).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if day.weekday() in RUN_DAYS:
        sport, km = "Run", 6.0 + (n * 7 % 11)
    elif day.weekday() == STRENGTH_DAY:
        sport, km = "WeightTraining", 0.0
    else:
        return None
    seconds = int(km * 330) if km else 2700
    return {"id": 50_000_000 + n, "name": sport, "type": sport, "sport_type": sport,
            "start_date": start, "start_date_local": start, "distance": km * 1000,
            "moving_time": seconds, "elapsed_time": seconds + 60, "suffer_score": 30 + n % 40,
            "average_heartrate": 135.0 + n % 20, "average_cadence": 84.0,
            "gear_id": "g1"}  # fmt: skip


def import_activities(db: Path, days: int, ends_days_ago: int) -> list[date]:
    """The walk's days, with their activities in the store."""
    last = datetime.now(TZ).date() - timedelta(days=ends_days_ago)
    walk = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    activities = [a for n, d in enumerate(walk) if (a := strava_activity(n, d)) is not None]
    with Store.open(db) as store:
        ingest_activities(store, activities)
    return walk


class Producer:
    """Builds the inputs day by day, numbering weigh-ins and pain reports across days."""

    def __init__(self, per_day: int, rng: random.Random) -> None:
        self.per_day, self.rng = per_day, rng
        self.weigh_ins = self.pains = 0

    def day(self, day: date) -> list[Input]:
        kinds = ["sleep"] * len(SESSIONS) + ["pain"] * PAINS + ["sync"] * SYNCS
        scale_count = self.per_day - len(kinds)
        kinds += ["scale"] * scale_count
        self.rng.shuffle(kinds)
        out, sessions, scales = [], iter(SESSIONS), 0
        for kind in kinds:
            if kind == "scale":
                when = local(day, FIRST_WEIGH_IN_H + WEIGH_IN_SPAN_H * scales / scale_count)
                weight = weight_of(self.weigh_ins)
                body = {"weight": weight, "timestamp": when.isoformat()}
                out.append(Input(SCALE, json.dumps(body), ("weight", weight)))
                scales, self.weigh_ins = scales + 1, self.weigh_ins + 1
            elif kind == "sleep":
                end_h, hours, main = next(sessions)
                night: dict[str, object] = {"end": local(day, end_h).isoformat(),
                                            "duration_hours": hours}  # fmt: skip
                if main:
                    night.update(hrv_ms=55.0 + self.rng.random() * 20, resting_hr=50.0)
                out.append(Input(SLEEP, json.dumps(night), None))
            elif kind == "pain":
                level = 1 + self.pains % PAIN_LEVELS
                out.append(Input(PAIN_SET, str(level), ("pain", level)))
                self.pains += 1
            else:
                out.append(Input(SYNC_SET, "PRESS", None))
        return out


def produce(
    broker: Mosquitto, inputs: list[Input], rate: float, pid: int, first: int = 0
) -> list[float]:
    """Publish the inputs at `rate` a second (QoS 1); returns when each was sent. `first`:
    the number of the first one, for the progress lines."""
    sender = client(broker, "soak-producer", True)
    sent: list[float] = []
    start = time.perf_counter()
    try:
        for i, item in enumerate(inputs):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent.append(time.perf_counter())
            sender.publish(item.topic, item.payload, qos=1)
            if (first + i) % PROGRESS_EVERY == 0:
                print(f"  {first + i:>7,} sent  {figures(pid).line()}")
    finally:
        sender.disconnect()
        sender.loop_stop()
    return sent


def drained(states: Replies, inputs: list[Input], sent: list[float]) -> None:
    """Wait until the state of the last input that shows in one has arrived."""
    last = max(i for i, item in enumerate(inputs) if item.fact is not None)
    fact = inputs[last].fact
    if fact is None or not states.wait_for(fact, sent[last], DRAIN_TIMEOUT_S):
        raise RuntimeError(f"restday did not catch up within {DRAIN_TIMEOUT_S:g} s")
    time.sleep(SETTLE_S)


def window(label: str, f: Figures, lat: list[float | None], lo: int, hi: int) -> float:
    times = [x for x in lat[lo:hi] if x is not None]
    p50, p99 = percentiles(times)
    print(f"{label:<14}{f.line()}   p50 {p50:5.2f} ms  p99 {p99:5.2f} ms"
          f"  (n={len(times):,}, inputs {lo:,}–{hi - 1:,})")  # fmt: skip
    return p99


def stored(db: Path) -> str:
    with Store.open(db) as store:
        counts, counters = store.counts(), store.counters()
    rejected = sum(c.get("rejected", 0) for c in counters.values())
    return (f"{counts.weigh_ins:,} weigh-ins, {counts.sleeps:,} sleep sessions, "
            f"{counts.pains:,} pain reports, {counts.activities:,} activities; "
            f"{rejected} rejected")  # fmt: skip


def main() -> int:
    # The bench's own collector would pause its MQTT threads as its lists of timings grow, and
    # the pause would be measured as restday's latency; what it keeps holds no cycles.
    gc.disable()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--ends-days-ago", type=int, default=WINDOW_DAYS + 1)
    parser.add_argument("--per-day", type=int, default=100, help="inputs a simulated day")
    parser.add_argument("--rate", type=float, default=250.0, help="inputs a second")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        walk = import_activities(folder / "restday.db", args.days, args.ends_days_ago)
        producer = Producer(args.per_day, random.Random(SEED))
        inputs = [item for day in walk for item in producer.day(day)]
        total = len(inputs)
        warmup = max(WARMUP_MIN_INPUTS, int(args.rate * WARMUP_S))
        print(f"soak: {total:,} inputs over {len(walk):,} days ({walk[0]} … {walk[-1]}) at "
              f"{args.rate:g}/s, QoS 1, mosquitto with set_tcp_nodelay true")  # fmt: skip
        with Mosquitto(folder / "broker", persistence=False, tcp_nodelay=True) as broker:
            process, startup_ms = start_restday(folder, broker)
            print(f"  online after {startup_ms:.0f} ms {Figures.header()}\n{'':<23}"
                  f"{figures(process.pid).line()}")  # fmt: skip
            states = Replies(broker, STATE, state_facts)
            try:
                warm = produce(broker, inputs[:warmup], args.rate, process.pid)
                drained(states, inputs[:warmup], warm)
                warm_figures = figures(process.pid)
                rest = produce(broker, inputs[warmup:], args.rate, process.pid, warmup)
                drained(states, inputs, warm + rest)
                end_figures = figures(process.pid)
            finally:
                states.stop()
                process.terminate()
                process.wait(timeout=10)
        lat = match(
            [(t, i.fact) for t, i in zip(warm + rest, inputs, strict=True)], states.received
        )
        print("  input → new state, by block of inputs (days are the inputs' own dates):")
        for lo in range(0, total, PROGRESS_EVERY):
            block = [x for x in lat[lo : lo + PROGRESS_EVERY] if x is not None]
            last = min(total, lo + PROGRESS_EVERY) - 1
            if not block:  # none of its states arrived (the service fell behind): say so
                print(f"    {lo:>7,}–{last:>7,} ({walk[lo // args.per_day]})  no state arrived")
                continue
            b50, b99 = percentiles(block)
            print(f"    {lo:>7,}–{last:>7,} ({walk[lo // args.per_day]})  p50 {b50:5.2f} ms"
                  f"  p99 {b99:6.2f} ms  max {max(block):7.1f} ms")  # fmt: skip
        print(f"{'':<14}{Figures.header()}   input → new state")
        p99_start = window("after warm-up", warm_figures, lat, warmup, warmup + WINDOW_INPUTS)
        p99_end = window("at the end", end_figures, lat, total - WINDOW_INPUTS, total)
        measured = [x for x in lat if x is not None]
        expected = sum(1 for i in inputs if i.fact is not None)
        p50, p99 = percentiles(measured)
        print(f"  {len(measured):,} of {expected:,} expected states matched; all: p50 {p50:.2f} ms"
              f" p99 {p99:.2f} ms\n  stored: {stored(folder / 'restday.db')}")  # fmt: skip
        growth, ratio = end_figures.rss_mb - warm_figures.rss_mb, p99_end / p99_start
        verdicts = {
            f"memory after warm-up {growth:+.1f} MB (< {RSS_GROWTH_MAX_MB:g})":
                growth < RSS_GROWTH_MAX_MB,
            f"fds {warm_figures.fds} → {end_figures.fds}": warm_figures.fds == end_figures.fds,
            f"threads {warm_figures.threads} → {end_figures.threads}":
                warm_figures.threads == end_figures.threads,
            f"p99 end / start {ratio:.2f} (≤ {P99_GROWTH_MAX:g})": ratio <= P99_GROWTH_MAX,
        }  # fmt: skip
        for claim, ok in verdicts.items():
            print(f"  {'PASS' if ok else 'FAIL'}  {claim}")
        return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
