"""Scale, sleep, pain and sync messages: parsed by their preset, stored, counted.

Bad input never stops the service: it is logged once at WARNING with the reason, counted in
the store (so the diagnostics survive restarts), and nothing is stored.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

from restday.config import Config
from restday.events import InboundMessage
from restday.integrations import devices
from restday.integrations.sleep_as_android import SleepAsAndroid
from restday.models import BodyMeasurement, History, PainReport, SleepSession
from restday.store import Store
from restday.topics import Topics

log = logging.getLogger(__name__)

Outcome = Literal["sync", "ignored", "duplicate", "rejected"]
TRACKER_STATE_KEY = "sleep_as_android:{topic}"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Stored:
    """A new input in the store; `history_with` adds it to the worker's in-memory history."""

    item: BodyMeasurement | SleepSession | PainReport

    @property
    def pain_level(self) -> int | None:
        return self.item.level if isinstance(self.item, PainReport) else None

    def history_with(self, history: History) -> History:
        item = self.item
        if isinstance(item, BodyMeasurement):
            return History(history.activities, history.sleeps,
                           _insert(history.body, item, item.time, lambda b: b.time),
                           history.pains, history.gear)  # fmt: skip
        if isinstance(item, SleepSession):
            return History(history.activities,
                           _insert(history.sleeps, item, item.end, lambda s: s.end),
                           history.body, history.pains, history.gear)  # fmt: skip
        return History(history.activities, history.sleeps, history.body,
                       _insert(history.pains, item, item.time, lambda p: p.time),
                       history.gear)  # fmt: skip


def _insert(
    items: tuple[T, ...], item: T, at: datetime, key: Callable[[T], datetime]
) -> tuple[T, ...]:
    """`items` (sorted by `key`) with `item` inserted in its place."""
    index = bisect.bisect_right(items, at, key=key)
    return (*items[:index], item, *items[index:])


class InputHandler:
    """Turns one inbound message into a stored input, or says why not."""

    def __init__(self, config: Config, store: Store, topics: Topics) -> None:
        self._store = store
        self._topics = topics
        self._tz = config.profile().timezone

    def handle(self, msg: InboundMessage) -> Stored | Outcome:
        topics = self._topics
        if msg.topic == topics.sync_set:
            return self._sync(msg)
        kind = ("pain" if msg.topic == topics.pain_set
                else "scale" if msg.topic in topics.scale
                else "sleep" if msg.topic in topics.sleep else None)  # fmt: skip
        if kind is None:
            log.debug("ignored a message on %s: not a topic restday reads", msg.topic)
            return "ignored"
        try:
            outcome = self._parse_and_store(kind, msg)
        except devices.InputRejected as exc:
            log.warning("rejected a %s message on %s: %s", kind, msg.topic, exc)
            self._store.bump(kind, "rejected")
            return "rejected"
        if outcome == "duplicate":
            self._store.bump(kind, "duplicates")
        return outcome

    def _sync(self, msg: InboundMessage) -> Outcome:
        if msg.retained:
            log.info("ignored a retained sync command (no replays of old commands)")
            return "ignored"
        if not devices.is_press(msg.payload):
            log.warning("ignored a sync command that is not PRESS on %s", msg.topic)
            return "ignored"
        return "sync"

    def _parse_and_store(self, kind: str, msg: InboundMessage) -> Stored | Outcome:
        at = msg.received_at
        if kind == "pain":
            if msg.retained:
                log.info("ignored a retained pain command (no replays of old commands)")
                return "ignored"
            report, raw = devices.parse_pain(msg.payload, received_at=at)
            return Stored(report) if self._store.add_pain(report, raw, at) else "duplicate"
        if kind == "scale":
            preset = self._topics.scale[msg.topic]
            parsed = devices.parse_scale(
                preset, msg.payload, received_at=at, retained=msg.retained, tz=self._tz
            )
            if parsed is None:
                log.info("ignored a retained weigh-in without a timestamp on %s", msg.topic)
                return "ignored"
            weigh_in, raw = parsed
            return Stored(weigh_in) if self._store.add_body(weigh_in, raw, at) else "duplicate"
        night = self._sleep(msg)
        if night is None:
            return "ignored"
        session, raw = night
        return Stored(session) if self._store.add_sleep(session, raw, at) else "duplicate"

    def _sleep(self, msg: InboundMessage) -> tuple[SleepSession, str] | None:
        if self._topics.sleep[msg.topic] != "sleep_as_android":
            return devices.parse_sleep(msg.payload, received_at=msg.received_at, tz=self._tz)
        key = TRACKER_STATE_KEY.format(topic=msg.topic)
        tracker = SleepAsAndroid.from_json(self._store.get_state(key) or "")
        try:
            night = tracker.feed(msg.payload, msg.received_at)
        finally:
            self._store.set_state(key, tracker.to_json())
        if tracker.orphan_stop:
            raise devices.InputRejected("sleep tracking stopped without having started")
        return night

    @staticmethod
    def last_pain_level(history: History) -> int | None:
        return history.pains[-1].level if history.pains else None
