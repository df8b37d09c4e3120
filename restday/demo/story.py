"""Playing the demo's story (`restday.demo.data`) through the real service, and watching it.

`Replay` moves the `FixedClock` to each step and feeds it in as the real world would: nights,
weigh-ins and pain published over MQTT by the demo's device client, activities as Strava sync
results on the worker's queue, the scheduler's ticks likewise. Before the clock moves on it
waits until the worker handled the step and the `Watcher` received everything the service
published about it (counted on the way out by `Tap`), so every printed line carries the time it
belongs to. `Watcher` prints each notification and each change of status as it arrives.
"""

from __future__ import annotations

import contextlib
import json
import os
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TextIO

from restday.clock import FixedClock
from restday.daemon.events import Event, Tick
from restday.daemon.publishing import Publisher
from restday.daemon.service import Service
from restday.demo import data as demo_data
from restday.demo.sample import SAMPLE_TZ
from restday.integrations.mqtt import MqttLink
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.integrations.strava_json import parse_activity
from restday.models import Activity
from restday.store import StoreCounts
from restday.sync import SyncResult

HANDLED_TIMEOUT_S = 10.0  # for the service to handle one step
DELIVERED_TIMEOUT_S = 10.0  # for the watcher to receive what the service published
POLL_S = 0.002  # between two looks while waiting
BARRIER_TOPIC = "restday-demo/barrier"  # the service ignores it: a marker on the worker's queue
WIDTH = 100  # characters per printed line
TAG_WIDTH = 11  # "← hydration"
STAMP = "%a %d %b %H:%M"  # "Sat 14 Nov 06:15": the story's local time, first on every line

Counts = tuple[StoreCounts, dict[str, dict[str, int]]]


class DemoError(Exception):
    """The replay could not go on; the message says where it stopped."""


class Screen:
    """Lines for a terminal, safe from any thread; a blank line between the story's days."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.closed = False  # the reader left (`restday demo | head`): nothing more to print
        self._lock = threading.Lock()
        self._day: date | None = None

    def line(self, text: str = "") -> None:
        with self._lock:
            self._write(text)

    def _write(self, text: str) -> None:
        if self.closed:
            return
        try:
            print(text, file=self.out, flush=True)
        except BrokenPipeError:
            self.closed = True
            with contextlib.suppress(OSError, ValueError):  # no error again at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.out.fileno())

    def caption(self, day: date, text: str) -> None:
        """A line about the day ahead, before its first event."""
        with self._lock:
            if self._day is not None:
                self._write("")
            self._day = day
            self._write(f"{day:%a %d %b} ── {text}")

    def event(self, when: datetime, tag: str, text: str, more: str = "") -> None:
        local = when.astimezone(SAMPLE_TZ)
        head = f"{local:{STAMP}}  {tag:<{TAG_WIDTH}} "
        indent = " " * len(head)
        lines = textwrap.wrap(text, WIDTH, initial_indent=head, subsequent_indent=indent)
        lines += textwrap.wrap(more, WIDTH, initial_indent=indent, subsequent_indent=indent)
        with self._lock:
            if self._day is not None and local.date() != self._day:
                self._write("")
            self._day = local.date()
            self._write("\n".join(lines))


class Watcher:
    """Follows the state and notification topics: prints what changed, counts what arrived."""

    def __init__(self, topics: Topics, screen: Screen, hello_topic: str) -> None:
        self.topics = topics
        self.screen = screen
        self.subscriptions = [topics.state, topics.notification, hello_topic]
        self.hello = threading.Event()  # set once the watcher receives on `hello_topic`
        self._hello_topic = hello_topic
        self._lock = threading.Lock()
        self._received = 0
        self._last: tuple[str, int, tuple[str, ...]] | None = None

    def received(self) -> int:
        with self._lock:
            return self._received

    def on_message(self, msg: InboundMessage) -> None:
        """paho's thread hands each message here."""
        try:
            if msg.topic == self._hello_topic:
                self.hello.set()
            elif msg.topic in (self.topics.state, self.topics.notification):
                self._show(msg)
                with self._lock:
                    self._received += 1
        finally:
            msg.ack()

    def _show(self, msg: InboundMessage) -> None:
        try:
            data = json.loads(msg.payload)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        if msg.topic == self.topics.notification:
            tag, title = f"← {data.get('event_type')}", str(data.get("title"))
            self.screen.event(msg.received_at, tag, title, str(data.get("message")))
            return
        reasons = data.get("reasons")
        rules = tuple(
            str(r.get("rule"))
            for r in (reasons if isinstance(reasons, list) else [])
            if isinstance(r, dict) and r.get("severity") != "info"
        )
        status = (str(data.get("status")), int(data.get("readiness") or 0), rules)
        if status == self._last:
            return  # the metrics moved, the verdict did not
        self._last = status
        text = f"{status[0].replace('_', ' ').upper()} · readiness {status[1]}"
        text += f" · {', '.join(rules)}" if rules else ""
        self.screen.event(msg.received_at, "← status", text)


class Tap:
    """The worker's publisher, counting what goes out on the topics the watcher follows."""

    def __init__(self, inner: Publisher, watched: Sequence[str]) -> None:
        self._inner = inner
        self._watched = frozenset(watched)
        self._lock = threading.Lock()
        self._sent = 0

    def sent(self) -> int:
        with self._lock:
            return self._sent

    def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 0
    ) -> None:
        if topic in self._watched:
            with self._lock:
                self._sent += 1
        self._inner.publish(topic, payload, retain=retain, qos=qos)


class Replay:
    """Drives the service through the story, one settled step at a time."""

    def __init__(
        self,
        service: Service,
        clock: FixedClock,
        devices: MqttLink,
        tap: Tap,
        watcher: Watcher,
    ) -> None:
        self.service = service
        self.clock = clock
        self.devices = devices
        self.tap = tap
        self.watcher = watcher
        self.say = watcher.screen.event
        self.topics = Topics.of(service.config)
        self._run_km = 0.0

    # --- waiting --------------------------------------------------------------------------

    def _worker_counts(self) -> Counts:
        """The store's counts, read on the worker's thread once every event before is done."""
        done = threading.Event()
        seen: list[Counts] = []

        def read() -> None:  # the worker calls this as the marker's acknowledgement
            seen.append((self.service.store.counts(), self.service.store.counters()))
            done.set()

        marker = InboundMessage(
            BARRIER_TOPIC, b"", retained=False, qos=0, received_at=self.clock.now(), ack=read
        )
        self.service.worker.put(marker)
        if not done.wait(HANDLED_TIMEOUT_S):
            raise DemoError(f"the service did not respond within {HANDLED_TIMEOUT_S:g} s")
        return seen[0]

    def _until(self, done: Callable[[], bool], timeout_s: float, failure: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not done():
            if time.monotonic() > deadline:
                raise DemoError(failure)
            time.sleep(POLL_S)

    def _settle(self, what: str) -> None:
        """Wait until the watcher received all the service published so far."""
        self._until(
            lambda: self.watcher.received() >= self.tap.sent(),
            DELIVERED_TIMEOUT_S,
            f"{what}: the service's messages did not arrive in time",
        )

    def _put(self, event: Event, what: str) -> None:
        self.service.worker.put(event)
        self._worker_counts()  # the worker takes events in order: this one is done
        self._settle(what)

    def _publish(self, topic: str, payload: bytes, kind: str, what: str) -> None:
        before = _inputs(self._worker_counts(), kind)
        self.devices.publish(topic, payload, qos=1)
        self._until(
            lambda: _inputs(self._worker_counts(), kind) != before,
            HANDLED_TIMEOUT_S,
            f"{what}: the service did not take it in time",
        )
        self._settle(what)

    # --- the story ------------------------------------------------------------------------

    def connected(self) -> None:
        """Wait for the state the service publishes once connected."""
        self._until(
            lambda: self.tap.sent() > 0,
            HANDLED_TIMEOUT_S,
            "the service did not connect to the demo's broker in time",
        )
        self._worker_counts()
        self._settle("connecting")

    def backfill(self, items: Sequence[dict[str, object]]) -> None:
        """The first Strava sync: weeks of history at once, no news about them."""
        self._run_km += demo_data.run_km(items)
        first = min(parse_activity(a).start for a in items)
        weeks = round((self.clock.now() - first) / timedelta(weeks=1))
        what = f"first sync: {len(items)} activities of {weeks} weeks (history: no post-run news)"
        self.say(self.clock.now(), "→ strava", what)
        result = SyncResult(
            finished_at=self.clock.now(),
            auth="ok",
            activities=tuple(items),
            athlete=demo_data.athlete(self._run_km),
            backfill=True,
        )
        self._put(result, "the first sync")

    def play(self, step: demo_data.Step) -> None:
        if step.caption:
            self.watcher.screen.caption(demo_data.local_day(step.at), step.caption)
            return
        self.clock.set(step.at)
        if step.night is not None:
            n = step.night
            self.say(step.at, "→ sleep", f"{n.hours:.1f} h asleep, {_hm(n.start)}–{_hm(n.end)}")
            self._publish(next(iter(self.topics.sleep)), n.payload(), "sleep", "a night")
        elif step.weigh_in is not None:
            self.say(step.at, "→ scale", f"{step.weigh_in.kg:.1f} kg")
            topic = next(iter(self.topics.scale))
            self._publish(topic, step.weigh_in.payload(), "scale", "a weigh-in")
        elif step.pain is not None:
            self.say(step.at, "→ pain", f"{step.pain.level}/10: the right knee (Home Assistant)")
            self._publish(self.topics.pain_set, step.pain.payload(), "pain", "a pain report")
        elif step.activity is not None:
            activity = parse_activity(step.activity)
            self._run_km += activity.distance_km if activity.is_run else 0.0
            self.say(step.at, "→ strava", _describe(activity))
            result = SyncResult(
                finished_at=step.at,
                auth="ok",
                activities=(step.activity,),
                athlete=demo_data.athlete(self._run_km),
            )
            self._put(result, "a Strava sync")
        elif step.kind == "morning":
            self._put(Tick.MORNING_REPORT, "the morning report")
        elif step.kind == "rollover":
            self._put(Tick.DAY_ROLLOVER, "midnight")


def _inputs(counts: Counts, kind: str) -> int:
    """Stored, duplicate and rejected inputs of one kind: a change means one was handled."""
    stored, counters = counts
    number = {"sleep": stored.sleeps, "scale": stored.weigh_ins, "pain": stored.pains}[kind]
    return number + sum(counters.get(kind, {}).values())


def _hm(moment: datetime) -> str:
    return f"{moment.astimezone(SAMPLE_TZ):%H:%M}"


def _describe(a: Activity) -> str:
    minutes = round(a.moving_time_s / 60)
    duration = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    what = f"{a.distance_km:.1f} km in {duration}" if a.distance_km > 0 else duration
    return f"{a.name or a.sport_type} at {_hm(a.start)}: {what}"
