"""Scale, sleep, pain and sync messages: parsed by their preset, stored and counted.

Bad input never stops the service: it is logged once at WARNING with the reason, counted in
the store (so the diagnostics survive restarts), and nothing is stored. Each message is one
transaction: the input, a tracker's state, the counters. What the store cannot take yet is
held, and what it took is acknowledged once durable, by held.py.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

from restday.config import Config
from restday.daemon.stored import Stored
from restday.integrations import devices
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.integrations.sleep_as_android import SleepAsAndroid
from restday.models import SleepSession
from restday.store import Store

log = logging.getLogger(__name__)

Outcome = Literal["sync", "ignored", "duplicate", "rejected"]
TRACKER_STATE_KEY = "sleep_as_android:{topic}"
# After a rejection is logged as a warning, that topic's next ones are logged at DEBUG for this
# long (all are counted): a device flooding a topic with unusable messages fills no SD card.
REJECTIONS_QUIET = timedelta(hours=1)


def _input_kind(topics: Topics, topic: str) -> str | None:
    """Which input a topic carries: "pain", "scale", "sleep", or None (not one restday reads)."""
    if topic == topics.pain_set:
        return "pain"
    if topic in topics.scale:
        return "scale"
    if topic in topics.sleep:
        return "sleep"
    return None


class InputHandler:
    """Turns one inbound message into a stored input, or says why not."""

    def __init__(self, config: Config, store: Store, topics: Topics) -> None:
        self._store = store
        self._topics = topics
        self._tz = config.profile().timezone
        self._warned: dict[str, tuple[datetime, int]] = {}  # topic → last warning, rejected since

    def handle(self, msg: InboundMessage) -> Stored | Outcome:
        """One message in one transaction; `StoreError` (nothing stored, nothing counted) when
        the store cannot be written."""
        topics = self._topics
        if msg.topic == topics.sync_set:
            return self._sync(msg)
        kind = _input_kind(topics, msg.topic)
        if kind is None:
            log.debug("ignored a message on %s: not a topic restday reads", msg.topic)
            return "ignored"
        rejected: devices.InputRejected | None = None
        with self._store.batch():
            try:
                outcome = self._parse_and_store(kind, msg)
            except devices.InputRejected as exc:
                rejected, outcome = exc, "rejected"
            if outcome in ("rejected", "duplicate"):
                self._store.bump(kind, "duplicates" if rejected is None else "rejected")
        if rejected is not None:  # logged once committed: a held message is tried again
            self._tell_rejected(kind, msg, rejected)
        return outcome

    def _tell_rejected(self, kind: str, msg: InboundMessage, why: Exception) -> None:
        """A warning per topic at most every REJECTIONS_QUIET; DEBUG in between."""
        at, last = msg.received_at, self._warned.get(msg.topic)
        if last is not None and timedelta() <= at - last[0] < REJECTIONS_QUIET:
            self._warned[msg.topic] = (last[0], last[1] + 1)
            log.debug("rejected a %s message on %s: %s", kind, msg.topic, why)
            return
        more = ""
        if last is not None and last[1]:
            since = last[0].astimezone(self._tz).strftime("%H:%M")
            more = f" ({last[1]} more rejected on this topic since {since}, logged at DEBUG)"
        self._warned[msg.topic] = (at, 0)
        log.warning("rejected a %s message on %s: %s%s", kind, msg.topic, why, more)

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
