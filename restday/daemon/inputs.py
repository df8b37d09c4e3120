"""Scale, sleep, pain and sync messages: parsed by their preset, stored, counted, acknowledged.

Bad input never stops the service: it is logged once at WARNING with the reason, counted in
the store (so the diagnostics survive restarts), and nothing is stored.

A message is acknowledged to the broker only once the store committed what it carried (each
message is one transaction: the input, a tracker's state, the counters). While the store
cannot be written (disk full, read-only, I/O error), messages are held in memory in arrival
order, unacknowledged, and retried before every new one and on the housekeeping tick; the
outage is logged once when it starts and once when it ends (`StoreHealth`).
"""

from __future__ import annotations

import bisect
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Literal, TypeVar

from restday.config import Config
from restday.integrations import devices
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.integrations.sleep_as_android import SleepAsAndroid
from restday.models import BodyMeasurement, History, PainReport, SleepSession
from restday.store import Store, StoreError, sleeps_overlap

log = logging.getLogger(__name__)

Outcome = Literal["sync", "ignored", "duplicate", "rejected"]
TRACKER_STATE_KEY = "sleep_as_android:{topic}"
STORE_CHECK_KEY = "store_checked_at"  # store state: the housekeeping tick's test write
# After a rejection is logged as a warning, that topic's next ones are logged at DEBUG for this
# long (all are counted): a device flooding a topic with unusable messages fills no SD card.
REJECTIONS_QUIET = timedelta(hours=1)
MAX_HELD = 1_000  # inputs held in memory while the store cannot be written; later ones wait
# at the broker, unacknowledged (it delivers them again when restday reconnects or restarts)
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
            return replace(history, body=_insert(history.body, item, item.time, _body_time))
        if isinstance(item, SleepSession):  # in place of those it overlaps, as in the store
            sleeps = tuple([s for s in history.sleeps if not sleeps_overlap(s, item)])
            return replace(history, sleeps=_insert(sleeps, item, item.end, _sleep_end))
        return replace(history, pains=_insert(history.pains, item, item.time, _pain_time))


_body_time = attrgetter("time")
_sleep_end = attrgetter("end")
_pain_time = attrgetter("time")


def _input_kind(topics: Topics, topic: str) -> str | None:
    """Which input a topic carries: "pain", "scale", "sleep", or None (not one restday reads)."""
    if topic == topics.pain_set:
        return "pain"
    if topic in topics.scale:
        return "scale"
    if topic in topics.sleep:
        return "sleep"
    return None


def _insert(
    items: tuple[T, ...], item: T, at: datetime, key: Callable[[T], datetime]
) -> tuple[T, ...]:
    """`items` (sorted by `key`) with `item` inserted in its place."""
    index = bisect.bisect_right(items, at, key=key)
    return (*items[:index], item, *items[index:])


class StoreHealth:
    """Whether the store takes writes: an outage is logged once as it starts and once as it
    ends, whichever write (an input, a counter, a notification's record, a sync) saw it."""

    def __init__(self, where: Path) -> None:
        self._where = where
        self.error: str | None = None  # why the last write failed, None while writes work

    @property
    def ok(self) -> bool:
        return self.error is None

    def failed(self, exc: StoreError) -> None:
        if self.error is None:
            log.error(
                "%s; inputs are held (up to %d, unacknowledged) and retried every minute",
                exc,
                MAX_HELD,
            )
        self.error = str(exc)

    def recovered(self, held: int) -> None:
        """A write committed with nothing held any more: the outage, if any, is over."""
        if self.error is not None:
            log.info(
                "the store %s takes writes again; handled the %d inputs held meanwhile",
                self._where,
                held,
            )
        self.error = None


class InputHandler:
    """Turns one inbound message into a stored input, or says why not; holds what the store
    cannot take yet. `take` and `retry` return what got handled, in order; `settle` then
    acknowledges it."""

    def __init__(self, config: Config, store: Store, topics: Topics) -> None:
        self._store = store
        self._topics = topics
        self._tz = config.profile().timezone
        self.health = StoreHealth(config.store_path())
        self._held: deque[InboundMessage] = deque()
        self._released = 0  # held messages handled since the outage began
        self._unflushed = 0  # handled during the outage, not made durable, not acknowledged
        self._overflow_told = False  # MAX_HELD reached: said once per outage
        self._warned: dict[str, tuple[datetime, int]] = {}  # topic → last warning, rejected since
        self._unsettled: list[Callable[[], None]] = []  # acks waiting for `settle`

    @property
    def held(self) -> int:
        """Inputs not safely stored yet: held in memory, or handled but left unacknowledged
        because the store could not make them durable (the broker delivers those again)."""
        return len(self._held) + self._unflushed

    def take(self, msg: InboundMessage) -> list[Stored | Outcome]:
        """`msg` after the held messages (in order); held too when the store fails."""
        done = self.retry()
        outcome = None if self._held else self._try(msg)
        if outcome is None:
            self._hold(msg)
            return done
        if outcome not in ("ignored", "sync"):  # it wrote: the store works
            self._recovered()
        return [*done, outcome]

    def retry(self, now: datetime | None = None) -> list[Stored | Outcome]:
        """The held messages, oldest first, until one fails again. With nothing held during
        an outage, a test write at `now` (the housekeeping tick) shows when it is over."""
        done: list[Stored | Outcome] = []
        if not self._held:
            if now is not None and not self.health.ok:
                try:
                    self._store.set_state(STORE_CHECK_KEY, now.isoformat(timespec="seconds"))
                except StoreError as exc:
                    self.health.failed(exc)
                    return done
                self._recovered()
            return done
        while self._held:
            outcome = self._try(self._held[0])
            if outcome is None:
                return done
            self._held.popleft()
            self._released += 1
            done.append(outcome)
        self._recovered()
        return done

    def wrote(self) -> None:
        """Another write committed: the outage is over, unless inputs wait (they go first)."""
        if not self._held:
            self._recovered()

    def _recovered(self) -> None:
        self.health.recovered(self._released)
        self._released, self._overflow_told, self._unflushed = 0, False, 0

    def _try(self, msg: InboundMessage) -> Stored | Outcome | None:
        """Handled (acknowledged at `settle`), or None (never acknowledged) if the store failed."""
        try:
            outcome = self.handle(msg)
        except StoreError as exc:
            self.health.failed(exc)
            return None
        except Exception:  # a bug: dropped unacknowledged, not held (it would block the rest)
            log.exception("could not handle a message on %s", msg.topic)
            return "ignored"
        self._unsettled.append(msg.ack)  # acknowledged by `settle`, once durable
        return outcome

    def settle(self) -> None:
        """Acknowledge what `take` and `retry` handled, once the store has made it durable
        (fsync). The worker calls this after publishing what the inputs changed, so the disk's
        latency is not in front of the new state. If the disk refuses, nothing is acknowledged:
        the broker delivers those inputs again after a reconnect or a restart, and the store
        counts them as duplicates of what it holds. Any other write of the event (a sync's
        activities, a notification sent) is made durable here too."""
        acks, self._unsettled = self._unsettled, []
        try:
            self._store.flush()
        except StoreError as exc:
            self.health.failed(exc)
            self._unflushed += len(acks)
            return
        for ack in acks:
            ack()

    def _hold(self, msg: InboundMessage) -> None:
        if len(self._held) < MAX_HELD:
            self._held.append(msg)
            return
        if not self._overflow_told:
            self._overflow_told = True
            log.warning(
                "%d inputs are held, the most restday keeps: later ones stay unacknowledged "
                "at the broker, which delivers them again when restday reconnects or restarts "
                "(QoS 0 ones are lost)",
                MAX_HELD,
            )

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

    @staticmethod
    def last_pain_level(history: History) -> int | None:
        return history.pains[-1].level if history.pains else None
