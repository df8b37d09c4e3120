"""Scale, sleep, pain and sync messages: parsed by their preset, stored and counted.

Each message goes to its athlete: their scale's weigh-in, or a shared scale's to whoever it is
(weigh_ins.py, also the assign command), their sleep tracker's night, their commands. Home
Assistant entities (`ha_statestream`) are paired into readings and stored as a message is
(ha_inputs.py), which also gives a sleep input's nights their entities' HRV and resting heart
rate.

Every message ends acknowledged, whatever it carries. Bad input never stops the service: a
payload the preset cannot read, for whatever reason (any exception of the parsers is a
rejection), is logged once at WARNING with the reason, counted in the store (so the
diagnostics survive restarts), and kept aside in the store's `unparsed` table with its reason;
nothing else is stored (refusals.py). A message restday itself fails on (a bug) is logged with
its traceback once per cause, counted as rejected and kept aside in `unparsed` too, so it
cannot block the inputs behind it: its batch is undone and taken again message by message,
each in a `Store.savepoint`, so that only its own writes are undone (held.py). Only a store
that cannot be written holds messages: held.py holds them, and acknowledges what the store took
once durable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from restday.config import Config, ScaleInput, SleepInput
from restday.daemon.ha_inputs import HaInputs
from restday.daemon.refusals import Refusals, read, short
from restday.daemon.stored import Stored
from restday.daemon.weigh_ins import Assigned, Unassigned, WeighIns
from restday.integrations import devices
from restday.integrations.ha_statestream import PRESET, Night
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.integrations.sleep_as_android import SleepAsAndroid
from restday.models import SleepSession
from restday.store import Store, StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Asked:
    """The sync button of `athlete` was pressed."""

    athlete: str


Outcome = Literal["ignored", "duplicate", "rejected"] | Asked | Unassigned | Assigned
TRACKER_STATE_KEY = "sleep_as_android:{topic}"
Command = tuple[Literal["pain", "sync", "assign"], str]  # what a command topic does, for whom


class InputFailed(Exception):
    """restday failed on a message of a batch (a bug, `InputHandler.handle`)."""


class InputHandler:
    """Turns one inbound message into a stored input, or says why not."""

    def __init__(
        self,
        config: Config,
        store: Store,
        topics: Topics,
        last_weight: Callable[[str], float | None] = lambda athlete: None,
    ) -> None:
        """`last_weight`: an athlete's latest weigh-in in kg (None: none yet), which settles
        whose a shared scale's weigh-in is where two athletes' bands overlap."""
        self._store = store
        self._commands: dict[str, Command] = {}
        for t in topics.athletes:
            self._commands |= {
                t.pain_set: ("pain", t.athlete),
                t.sync_set: ("sync", t.athlete),
                t.assign_set: ("assign", t.athlete),
            }
        self._scales = {s.topic: s for s in config.scale if s.preset != PRESET}
        self._sleeps = {s.topic: s for s in config.sleep if s.preset != PRESET}
        self._zones = {a: config.profile(a).timezone for a in config.athlete_ids()}
        # whose each night is, read once (the config's accessors are slow at 10,000 a second)
        self._sleep_athlete = {s.topic: config.sleep_athlete(s) for s in config.sleep}
        self._refusals = Refusals(store, self._zones[config.athletes[0].id])  # for log times
        self._weigh_ins = WeighIns(config, store, last_weight)
        self._ha = HaInputs(config, store, self._zones, self._weigh_ins, self._refusals)

    def handle(self, msg: InboundMessage, *, alone: bool = True) -> Stored | Outcome:
        """One message: stored, a duplicate, refused (counted and kept aside), or not an
        input. Raises `StoreError` (then nothing of it is stored, nothing counted); and, when
        not `alone`, `InputFailed` when restday fails on it (a bug): the caller then undoes
        the batch and takes its messages again, each `alone` (its writes undone by itself,
        the message kept aside). The fast way for a batch, the careful one for a bug."""
        command = self._commands.get(msg.topic)
        if command is not None and command[0] == "sync":
            return self._sync(msg, command[1])
        kind = self._kind(msg.topic, command)
        if kind is None:
            log.debug("ignored a message on %s: not a topic restday reads", msg.topic)
            return "ignored"
        self._ha.begin()
        before = self._ha.memory() if alone else None
        rejected: devices.InputRejected | None = None
        try:
            with self._store.savepoint() if alone else nullcontext():
                try:
                    outcome = self._parse_and_store(kind, msg)
                except devices.InputRejected as exc:  # what was written before it stands
                    rejected, outcome = exc, "rejected"  # (a sleep tracker's state, say)
                    self._refusals.refuse(kind, msg, str(exc))
                if outcome == "duplicate" and not self._ha.reads(msg.topic):
                    self._store.bump(kind, "duplicates")  # a reading counts its own
        except StoreError:
            raise
        except Exception as exc:  # a bug of restday's: told once per cause, never a jam
            if not alone:
                raise InputFailed(msg.topic) from exc
            if before is not None:
                self._ha.restore(before)
            self._refusals.refuse(kind, msg, f"restday failed on it: {short(exc)}")
            self._refusals.failed(kind, msg, exc)
            return "rejected"
        if rejected is not None:
            self._refusals.rejected(kind, msg, rejected)
        return outcome

    def committed(self) -> None:
        """The transaction around the messages handled so far committed: log what they were
        refused for (not before: a message the store could not take is held and tried again)."""
        self._ha.committed()
        self._refusals.committed()

    def undone(self) -> None:
        """The transaction around them was undone: nothing of it happened, nothing to say."""
        self._refusals.undone()
        self._ha.undone()

    def expire(self, now: datetime) -> list[Stored | Outcome]:
        """Every Home Assistant state whose companions stayed away past PAIRING_WINDOW at
        `now`, read with what it has and stored (in the caller's transaction, followed by
        `committed` or `undone`), for a tick of the worker's."""
        return [*self._ha.expire(now)]

    def _kind(self, topic: str, command: Command | None) -> str | None:
        """Which input a topic carries, as counted: "pain", "scale" (an assign command too:
        it is about weigh-ins), "sleep", or None (not a topic restday reads)."""
        if command is not None:
            return "pain" if command[0] == "pain" else "scale"
        if self._ha.reads(topic):
            return self._ha.kind(topic)
        if topic in self._scales:
            return "scale"
        if topic in self._sleeps:
            return "sleep"
        return None

    def _sync(self, msg: InboundMessage, athlete: str) -> Outcome:
        if msg.retained:
            log.info("ignored a retained sync command (no replays of old commands)")
            return "ignored"
        if not devices.is_press(msg.payload):
            log.warning("ignored a sync command that is not PRESS on %s", msg.topic)
            return "ignored"
        return Asked(athlete)

    def _parse_and_store(self, kind: str, msg: InboundMessage) -> Stored | Outcome:
        at = msg.received_at
        command = self._commands.get(msg.topic)
        if command is not None:
            if msg.retained:
                log.info("ignored a retained %s command (no replays of old commands)", command[0])
                return "ignored"
            action, athlete = command
            if action == "assign":
                return self._weigh_ins.assign(msg.payload, athlete)
            report, raw = read(devices.parse_pain, msg.payload, received_at=at)
            added = self._store.add_pain(report, raw, at, athlete=athlete)
            return Stored(report, athlete) if added else "duplicate"
        if self._ha.reads(msg.topic):
            return self._ha.message(msg)
        if kind == "scale":
            return self._weigh_in(msg, self._scales[msg.topic])
        sleep = self._sleeps[msg.topic]
        athlete = self._sleep_athlete[sleep.topic]
        night = self._sleep(msg, sleep, athlete)
        if night is None:
            return "ignored"
        session, raw = night
        return self._ha.night(sleep, athlete, Night(session, raw, at), at)

    def _weigh_in(self, msg: InboundMessage, scale: ScaleInput) -> Stored | Outcome:
        """A scale's weigh-in, for its athlete; a shared scale's for the athlete whose band
        holds it, or kept aside as unassigned (weigh_ins.py)."""
        athletes = self._weigh_ins.athletes_of(scale)
        parsed = read(
            devices.parse_scale,
            str(scale.preset),
            msg.payload,
            received_at=msg.received_at,
            retained=msg.retained,
            tz=self._zone(athletes[0]),
        )
        if parsed is None:
            log.info("ignored a retained weigh-in without a timestamp on %s", msg.topic)
            return "ignored"
        weigh_in, raw = parsed
        return self._weigh_ins.give(scale, weigh_in, raw, msg.received_at)

    def _zone(self, athlete: str) -> tzinfo:
        """The zone a timestamp without one is read in: the athlete's (DESIGN.md §4)."""
        return self._zones[athlete]

    def _sleep(
        self, msg: InboundMessage, sleep: SleepInput, athlete: str
    ) -> tuple[SleepSession, str] | None:
        tz = self._zone(athlete)
        if sleep.preset != "sleep_as_android":
            return read(devices.parse_sleep, msg.payload, received_at=msg.received_at, tz=tz)
        key = TRACKER_STATE_KEY.format(topic=msg.topic)
        tracker = SleepAsAndroid.from_json(self._store.get_state(key, athlete=athlete) or "")
        try:
            night = read(tracker.feed, msg.payload, msg.received_at)
        finally:
            self._store.set_state(key, tracker.to_json(), athlete=athlete)
        if tracker.orphan_stop:
            raise devices.InputRejected("sleep tracking stopped without having started")
        return night
