"""What the demo watches: the service's states and notifications as the broker delivers them
(`Watcher`), and as the service sends them (`Tap`): the replay waits until the two agree.

`Watcher` prints each notification and each change of status as it arrives (`full`, for
`restday demo --full`), or only the moments that matter (`worth_telling`); a household's
(`household.HouseholdWatcher`) names whose each line is and prints less of the second runner.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Hashable, Sequence
from datetime import datetime

from restday.daemon.publishing import Publisher
from restday.demo.screen import Screen
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics

Verdict = tuple[str, int, tuple[str, ...]]  # status, readiness, the rules above info
ROUTINE = frozenset({"morning", "post_run"})  # what restday says every day, or after every run
REST_DAY = "rest_day"
# What the short story tells whenever restday says it (not worn shoes, say: a story of its own).
MOMENTS = frozenset({REST_DAY, "hydration", "pain", "unassigned_weigh_in"})
SAME_REASONS = "Why: as the rest day notice above says."  # a morning report's reasons, once told


class Watcher:
    """Follows each athlete's state and notification topics: prints what changed, counts what
    arrived. `full`: every notification and change of status; else the short story's
    notifications only (`worth_telling`). A household's watcher (`household.HouseholdWatcher`)
    names whose each line is."""

    def __init__(
        self, topics: Topics, screen: Screen, hello_topic: str, *, full: bool = False
    ) -> None:
        self.topics = topics
        self.screen = screen
        self.full = full
        self._whose: dict[str, str] = {}  # state or notification topic → athlete id
        for t in topics.athletes:
            self._whose |= {t.state: t.athlete, t.notification: t.athlete}
        self._notifications = frozenset(t.notification for t in topics.athletes)
        self.subscriptions = [*self._whose, hello_topic]
        self.hello = threading.Event()  # set once the watcher receives on `hello_topic`
        self._hello_topic = hello_topic
        self._lock = threading.Lock()
        self._received = 0
        self._last: dict[str, Hashable] = {}  # by athlete: what their last status line showed
        self._mornings: dict[str, set[str]] = {}  # by athlete: the statuses of reports shown
        self._told: dict[str, str] = {}  # by athlete: the last rest day notice's reasons shown

    def received(self) -> int:
        with self._lock:
            return self._received

    def who(self, athlete: str | None) -> str:
        """The name a line of `athlete`'s carries: none for a single runner."""
        return ""

    def on_message(self, msg: InboundMessage) -> None:
        """paho's thread hands each message here."""
        try:
            if msg.topic == self._hello_topic:
                self.hello.set()
            elif msg.topic in self._whose:
                self._show(self._whose[msg.topic], msg)
                with self._lock:
                    self._received += 1
        finally:
            msg.ack()

    def _show(self, athlete: str, msg: InboundMessage) -> None:
        try:
            data = json.loads(msg.payload)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        if msg.topic in self._notifications:
            self.notification(athlete, msg.received_at, data)
        else:
            self.state(athlete, msg.received_at, data)

    def notification(self, athlete: str, when: datetime, data: dict[str, object]) -> None:
        """Print a notification: its type, title and message. The short story prints those
        `worth_telling`, and a morning report's reasons that a rest day notice just gave as
        `SAME_REASONS`."""
        kind, message = data.get("event_type"), str(data.get("message"))
        if not self.full:
            if not self.worth_telling(athlete, when, data):
                return
            message = self._unrepeated(athlete, kind, message)
        tag, title = f"← {kind}", str(data.get("title"))
        self.screen.event(when, tag, title, message, who=self.who(athlete))

    def worth_telling(self, athlete: str, when: datetime, data: dict[str, object]) -> bool:
        """The short story's notifications: the `MOMENTS` (a rest day and why, a hydration
        warning, pain, a weigh-in nobody's), and the first morning report of each status (a
        good day's, an easy day's, a rest day's)."""
        kind = data.get("event_type")
        if kind in MOMENTS:
            return True
        if kind != "morning":
            return False
        status = str(_field(data, "status"))
        shown = self._mornings.setdefault(athlete, set())
        if status in shown:
            return False
        shown.add(status)
        return True

    def _unrepeated(self, athlete: str, kind: object, message: str) -> str:
        if kind == REST_DAY:
            self._told[athlete] = message
        told = self._told.get(athlete, "")
        if kind == "morning" and told and message.endswith(told) and message != told:
            return message[: -len(told)] + SAME_REASONS
        return message

    def state(self, athlete: str, when: datetime, data: dict[str, object]) -> None:
        """Print a state whose verdict changed (`shown`); the metrics alone moving is not news.
        The short story prints none."""
        if not self.full:
            return
        verdict = verdict_of(data)
        shown = self.shown(athlete, verdict)
        if self._last.get(athlete) == shown:
            return
        self._last[athlete] = shown
        self.screen.event(when, "← status", verdict_text(verdict), who=self.who(athlete))

    def shown(self, athlete: str, verdict: Verdict) -> Hashable:
        """What of a verdict is news when it changes: all of it."""
        return verdict


def _field(notification: dict[str, object], key: str) -> object:
    """A field of a notification's `data`, None without it."""
    data = notification.get("data")
    return data.get(key) if isinstance(data, dict) else None


def verdict_of(state: dict[str, object]) -> Verdict:
    """A state payload's status, readiness and the rules above info that gave it."""
    reasons = state.get("reasons")
    rules = tuple(
        str(r.get("rule"))
        for r in (reasons if isinstance(reasons, list) else [])
        if isinstance(r, dict) and r.get("severity") != "info"
    )
    readiness = state.get("readiness")
    return str(state.get("status")), readiness if isinstance(readiness, int) else 0, rules


def verdict_text(verdict: Verdict) -> str:
    """A status line's text: `REST · readiness 0 · pain, run_spike`."""
    status, readiness, rules = verdict
    text = f"{status.replace('_', ' ').upper()} · readiness {readiness}"
    return text + (f" · {', '.join(rules)}" if rules else "")


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
