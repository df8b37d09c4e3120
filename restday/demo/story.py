"""Playing the demo's story (`restday.demo.data`) through the real service, and watching it.

`Replay` moves the `FixedClock` to each step and feeds it in as the real world would: nights,
weigh-ins and pain published over MQTT by the demo's device client, activities as Strava sync
results on the worker's queue, the scheduler's ticks likewise. Before the clock moves on it
waits until the worker handled the step and the `Watcher` received everything the service
published about it (counted on the way out by `Tap`), so every printed line carries the time it
belongs to. Each step is an athlete's (a household has several: `restday.demo.household`). An
input's line is printed at once in the full story (`restday demo --full`); in the short one it
is held until restday says something worth telling about it, and dropped at the next step; a
caption waits for the next line printed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from restday.clock import FixedClock
from restday.daemon.events import Event, Tick
from restday.daemon.service import Service
from restday.demo import data as demo_data
from restday.demo.sample import SAMPLE_TZ
from restday.demo.watch import Tap, Watcher
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

# Each athlete's stored inputs, the unassigned weigh-ins, the counters: what the store holds.
Counts = tuple[dict[str, StoreCounts], int, dict[str, dict[str, int]]]


class DemoError(Exception):
    """The replay could not go on; the message says where it stopped."""


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
        self.topics = Topics.of(service.config)
        self.athletes = service.config.athlete_ids()
        self._run_km = dict.fromkeys(self.athletes, 0.0)

    def say(self, at: datetime, athlete: str | None, tag: str, text: str) -> None:
        """An input's line: printed in the full story, held in the short one (`Screen.hold`)."""
        who = self.watcher.who(athlete)
        if self.watcher.full:
            self.watcher.screen.event(at, tag, text, who=who)
        else:
            self.watcher.screen.hold(at, tag, text, who=who)

    def tell(self, at: datetime, athlete: str | None, tag: str, text: str) -> None:
        """A line printed in either story."""
        self.watcher.screen.event(at, tag, text, who=self.watcher.who(athlete))

    def strava_athlete(self, athlete: str, run_km: float) -> dict[str, object]:
        """Strava's athlete object (the shoes) after `run_km` of the story's runs."""
        return demo_data.athlete(run_km)

    # --- waiting --------------------------------------------------------------------------

    def _worker_counts(self) -> Counts:
        """The store's counts, read on the worker's thread once every event before is done."""
        done = threading.Event()
        seen: list[Counts] = []

        def read() -> None:  # the worker calls this as the marker's acknowledgement
            store = self.service.store
            each = {a: store.counts(athlete=a) for a in self.athletes}
            seen.append((each, store.unassigned_count(), store.counters()))
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

    def publish(self, topic: str, payload: bytes, kind: str, what: str) -> None:
        """Publish an input as its device would; wait until the service took it (stored, kept
        unassigned, or refused: the store's counts moved) and published what it meant."""
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

    def begin(self, story: demo_data.Story) -> Sequence[demo_data.Step]:
        """The first sync, with the story's history; what to play after it."""
        self.backfill(story.history)
        return story.steps

    def backfill(self, items: Sequence[dict[str, object]], athlete: str | None = None) -> None:
        """The first Strava sync: weeks of history at once, no news about them."""
        whose = athlete or self.athletes[0]
        self._run_km[whose] += demo_data.run_km(items)
        first = min(parse_activity(a).start for a in items)
        weeks = round((self.clock.now() - first) / timedelta(weeks=1))
        what = f"first sync: {len(items)} activities of {weeks} weeks (history: no post-run news)"
        self.say(self.clock.now(), athlete, "→ strava", what)
        result = SyncResult(
            finished_at=self.clock.now(),
            auth="ok",
            activities=tuple(items),
            athlete=self.strava_athlete(whose, self._run_km[whose]),
            backfill=True,
            athlete_id=athlete,
        )
        self._put(result, "the first sync")

    def play(self, step: demo_data.Step) -> None:
        self.watcher.screen.drop()  # the step before's input: nothing came of it worth telling
        if step.caption:
            day = demo_data.local_day(step.at)
            self.watcher.screen.caption(day, step.caption, held=not self.watcher.full)
            return
        self.clock.set(step.at)
        whose = step.athlete or self.athletes[0]

        def say(tag: str, text: str) -> None:
            if not step.quiet:
                self.say(step.at, step.athlete, tag, text + (f": {step.note}" if step.note else ""))

        if step.night is not None:
            n = step.night
            say("→ sleep", f"{n.hours:.1f} h asleep, {_hm(n.start)}–{_hm(n.end)}")
            self.publish(self._sleep_topic(whose), n.payload(), "sleep", "a night")
        elif step.weigh_in is not None:
            say("→ scale", f"{step.weigh_in.kg:.1f} kg")
            topic = self._scale_topic(whose)
            self.publish(topic, step.weigh_in.payload(), "scale", "a weigh-in")
        elif step.pain is not None:
            say("→ pain", f"{step.pain.level}/10: the right knee (Home Assistant)")
            pain_set = self.topics.of_athlete(whose).pain_set
            self.publish(pain_set, step.pain.payload(), "pain", "a pain report")
        elif step.activity is not None:
            activity = parse_activity(step.activity)
            self._run_km[whose] += activity.distance_km if activity.is_run else 0.0
            say("→ strava", _describe(activity))
            result = SyncResult(
                finished_at=step.at,
                auth="ok",
                activities=(step.activity,),
                athlete=self.strava_athlete(whose, self._run_km[whose]),
                athlete_id=step.athlete,
            )
            self._put(result, "a Strava sync")
        elif step.kind == "morning":
            self._put(Tick.MORNING_REPORT, "the morning report")
        elif step.kind == "rollover":
            self._put(Tick.DAY_ROLLOVER, "midnight")

    def _sleep_topic(self, athlete: str) -> str:
        """The athlete's sleep tracker."""
        config = self.service.config
        return next(s.topic for s in config.sleep if config.sleep_athlete(s) == athlete)

    def _scale_topic(self, athlete: str) -> str:
        """A scale the athlete weighs in on (their own, or one shared by weight bands)."""
        config = self.service.config
        return next(s.topic for s in config.scale if athlete in config.scale_athletes(s))


def _inputs(counts: Counts, kind: str) -> tuple[int, ...]:
    """Each athlete's stored inputs of one kind (and the unassigned weigh-ins), with that
    kind's duplicates and rejections: a change means one was handled."""
    stored, unassigned, counters = counts
    numbers = [_of_kind(each, kind) for each in stored.values()]
    if kind == "scale":
        numbers.append(unassigned)
    return (*numbers, sum(counters.get(kind, {}).values()))


def _of_kind(counts: StoreCounts, kind: str) -> int:
    return {"sleep": counts.sleeps, "scale": counts.weigh_ins, "pain": counts.pains}[kind]


def _hm(moment: datetime) -> str:
    return f"{moment.astimezone(SAMPLE_TZ):%H:%M}"


def _describe(a: Activity) -> str:
    minutes = round(a.moving_time_s / 60)
    duration = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    what = f"{a.distance_km:.1f} km in {duration}" if a.distance_km > 0 else duration
    return f"{a.name or a.sport_type} at {_hm(a.start)}: {what}"
