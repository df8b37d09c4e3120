"""What the demo watches: the service's states and notifications as the broker delivers them
(`Watcher`), and as the service sends them (`Tap`): the replay waits until the two agree.

`Watcher` prints each notification and each change of status as it arrives; a household's
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


class Watcher:
    """Follows each athlete's state and notification topics: prints what changed, counts what
    arrived. A household's watcher (`household.HouseholdWatcher`) names whose each line is."""

    def __init__(self, topics: Topics, screen: Screen, hello_topic: str) -> None:
        self.topics = topics
        self.screen = screen
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
        """Print a notification: its type, title and message."""
        tag, title = f"← {data.get('event_type')}", str(data.get("title"))
        self.screen.event(when, tag, title, str(data.get("message")), who=self.who(athlete))

    def state(self, athlete: str, when: datetime, data: dict[str, object]) -> None:
        """Print a state whose verdict changed (`shown`); the metrics alone moving is not news."""
        verdict = verdict_of(data)
        shown = self.shown(athlete, verdict)
        if self._last.get(athlete) == shown:
            return
        self._last[athlete] = shown
        self.screen.event(when, "← status", verdict_text(verdict), who=self.who(athlete))

    def shown(self, athlete: str, verdict: Verdict) -> Hashable:
        """What of a verdict is news when it changes: all of it."""
        return verdict


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
