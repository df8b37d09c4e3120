"""Scale, sleep, pain and sync messages: parsed by their preset, stored and counted.

Home Assistant entities (`ha_statestream`) come as three topics each (state, last_changed,
unit): ha_statestream.py pairs them into one reading, which is stored, counted or refused as
a message is. A state is held in memory until its companions arrive, acknowledged meanwhile
(the broker keeps it retained: after a restart it is replayed and paired again); a state whose
companions stay away is read when a later message of any entity shows PAIRING_WINDOW passed
(`expire` reads them all at once, for a tick). What was paired is undone with the transaction
around it (`undone`). A sleep input's nights take their HRV and resting heart rate from its
`hrv_topic` and `resting_hr_topic` entities, when near (`ha_statestream.with_extras`): the
input's last night is stored again with them.

Every message ends acknowledged, whatever it carries. Bad input never stops the service: a
payload the preset cannot read, for whatever reason (any exception of the parsers is a
rejection), is logged once at WARNING with the reason, counted in the store (so the
diagnostics survive restarts), and kept aside in the store's `unparsed` table with its reason;
nothing else is stored. A message restday itself fails on (a bug) is logged with its
traceback once per cause, counted as rejected and kept aside in `unparsed` too, so it cannot
block the inputs behind it: its batch is undone and taken again message by message, each in a
`Store.savepoint`, so that only its own writes are undone (held.py). Only a store that cannot
be written holds messages: held.py holds them, and acknowledges what the store took once
durable.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal, ParamSpec, TypeVar

from restday.config import Config, ScaleInput, SleepInput
from restday.daemon.assignment import assign
from restday.daemon.stored import Stored
from restday.integrations import devices
from restday.integrations import ha_statestream as ha
from restday.integrations.ha_statestream import Extra, Night, Pairing, Reading
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.integrations.payload_json import payload_text
from restday.integrations.sleep_as_android import SleepAsAndroid
from restday.models import BodyMeasurement, SleepSession
from restday.store import Store, StoreError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Asked:
    """The sync button of `athlete` was pressed."""

    athlete: str


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A shared scale's weigh-in kept aside: it fits `candidates` (none: nobody's band) and
    restday does not guess whose it is."""

    item: BodyMeasurement
    candidates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Assigned:
    """Unassigned weigh-ins given to `athlete` by their assign command: now theirs."""

    stored: tuple[Stored, ...]


Outcome = Literal["ignored", "duplicate", "rejected"] | Asked | Unassigned | Assigned
TRACKER_STATE_KEY = "sleep_as_android:{topic}"
# After a rejection is logged as a warning, that topic's next ones are logged at DEBUG for this
# long (all are counted): a device flooding a topic with unusable messages fills no SD card.
REJECTIONS_QUIET = timedelta(hours=1)
MAX_REASON_CHARS = 300  # of an exception's text in a rejection's reason (a 5,000-digit number…)


Command = tuple[Literal["pain", "sync", "assign"], str]  # what a command topic does, for whom
Role = Literal["weight", "night", "hrv", "resting_hr"]  # what a Home Assistant entity gives


@dataclass(frozen=True, slots=True)
class _Entity:
    """A Home Assistant entity an input reads: a scale's weight, a sleep input's nights, or
    their HRV or resting heart rate."""

    role: Role
    scale: ScaleInput | None = None
    sleep: SleepInput | None = None

    @property
    def kind(self) -> str:
        return "scale" if self.role == "weight" else "sleep"


def _entities(config: Config) -> dict[str, _Entity]:
    """Every Home Assistant entity the inputs read, by base topic."""
    found: dict[str, _Entity] = {}
    for scale in config.scale:
        if scale.preset == ha.PRESET:
            found[scale.topic] = _Entity("weight", scale=scale)
    for sleep in config.sleep:
        if sleep.hrv_topic is not None:
            found[sleep.hrv_topic] = _Entity(ha.HRV, sleep=sleep)
        if sleep.resting_hr_topic is not None:
            found[sleep.resting_hr_topic] = _Entity(ha.RESTING_HR, sleep=sleep)
        if sleep.preset == ha.PRESET:
            found[sleep.topic] = _Entity("night", sleep=sleep)
    return found


@dataclass(frozen=True, slots=True)
class _HaMemory:
    """What the handler holds of Home Assistant entities, as it was (to undo a transaction)."""

    pairing: ha.PairingSnapshot
    nights: dict[str, Night]
    extras: dict[tuple[str, str], Extra]


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
        self._topics = topics
        self._config = config
        self._commands: dict[str, Command] = {}
        for t in topics.athletes:
            self._commands |= {
                t.pain_set: ("pain", t.athlete),
                t.sync_set: ("sync", t.athlete),
                t.assign_set: ("assign", t.athlete),
            }
        self._entities = _entities(config)
        self._ha_topics = {  # topic → (entity, part)
            topic: (entity, part)
            for entity in self._entities
            for part, topic in zip(ha.PARTS, ha.subtopics(entity), strict=True)
        }
        self._scales = {s.topic: s for s in config.scale if s.preset != ha.PRESET}
        self._sleeps = {s.topic: s for s in config.sleep if s.preset != ha.PRESET}
        self._pairing = Pairing(self._entities)
        self._nights: dict[str, Night] = {}  # a sleep input's last night, by its topic
        self._extras: dict[tuple[str, str], Extra] = {}  # (sleep topic, HRV or RESTING_HR)
        self._ha_saved: _HaMemory | None = None  # as it was before the open transaction
        self._last_weight = last_weight
        self._assigned_kg: dict[str, tuple[datetime, float]] = {}  # by this handler, since
        self._zones = {a: config.profile(a).timezone for a in config.athlete_ids()}
        self._tz = self._zones[config.athletes[0].id]  # for the times of log lines
        self._warned: dict[str, tuple[datetime, int]] = {}  # topic → last warning, rejected since
        self._failures_told: set[tuple[str, str, int]] = set()  # bugs logged (`_cause`)
        self._untold: list[Callable[[], None]] = []  # log lines waiting for the commit

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
        if self._entities and self._ha_saved is None:
            self._ha_saved = self._ha_memory()
        before = self._ha_memory() if alone and self._entities else None
        rejected: devices.InputRejected | None = None
        try:
            with self._store.savepoint() if alone else nullcontext():
                try:
                    outcome = self._parse_and_store(kind, msg)
                except devices.InputRejected as exc:  # what was written before it stands
                    rejected, outcome = exc, "rejected"  # (a sleep tracker's state, say)
                    self._refuse(kind, msg, str(exc))
                if outcome == "duplicate" and msg.topic not in self._ha_topics:
                    self._store.bump(kind, "duplicates")  # a reading counts its own
        except StoreError:
            raise
        except Exception as exc:  # a bug of restday's: told once per cause, never a jam
            if not alone:
                raise InputFailed(msg.topic) from exc
            if before is not None:
                self._ha_restore(before)
            self._refuse(kind, msg, f"restday failed on it: {_short(exc)}")
            self._untold.append(functools.partial(self._tell_failed, kind, msg, exc))
            return "rejected"
        if rejected is not None:
            self._untold.append(functools.partial(self._tell_rejected, kind, msg, rejected))
        return outcome

    def committed(self) -> None:
        """The transaction around the messages handled so far committed: log what they were
        refused for (not before: a message the store could not take is held and tried again)."""
        untold, self._untold = self._untold, []
        self._ha_saved = None
        for tell in untold:
            tell()

    def undone(self) -> None:
        """The transaction around them was undone: nothing of it happened, nothing to say."""
        self._untold.clear()
        if self._ha_saved is not None:
            self._ha_restore(self._ha_saved)
            self._ha_saved = None

    def expire(self, now: datetime) -> list[Stored | Outcome]:
        """Every Home Assistant state whose companions stayed away past PAIRING_WINDOW at
        `now`, read with what it has and stored (in the caller's transaction, followed by
        `committed` or `undone`), for a tick of the worker's."""
        if not self._pairing.waiting:
            return []
        if self._ha_saved is None:
            self._ha_saved = self._ha_memory()
        return [self._ha_reading(r) for r in self._pairing.due_all(now)]

    def _refuse(self, kind: str, msg: InboundMessage, reason: str) -> None:
        """Count the message as rejected and keep its payload aside, with the reason."""
        when = msg.received_at.isoformat(timespec="seconds")
        with self._store.savepoint():
            self._store.bump(kind, "rejected")
            self._store.add_unparsed(
                kind,
                msg.payload.decode("utf-8", errors="backslashreplace"),
                f"{msg.topic} at {when}: {reason}",
            )

    def _tell_failed(self, kind: str, msg: InboundMessage, exc: Exception) -> None:
        """The traceback once per cause (the exception's type and where it was raised)."""
        cause = _cause(exc)
        if cause in self._failures_told:
            log.debug("restday failed on a %s message on %s again: %s", kind, msg.topic, exc)
            return
        self._failures_told.add(cause)
        log.error(
            "restday failed on a %s message on %s (a bug; kept aside in the store's `unparsed` "
            "table and counted as rejected; the same failure is logged at DEBUG from now on)",
            kind,
            msg.topic,
            exc_info=exc,
        )

    def _tell_rejected(self, kind: str, msg: InboundMessage, why: object) -> None:
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

    def _kind(self, topic: str, command: Command | None) -> str | None:
        """Which input a topic carries, as counted: "pain", "scale" (an assign command too:
        it is about weigh-ins), "sleep", or None (not a topic restday reads)."""
        if command is not None:
            return "pain" if command[0] == "pain" else "scale"
        if topic in self._ha_topics:
            return self._entities[self._ha_topics[topic][0]].kind
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
                return self._assign(msg, athlete)
            report, raw = _read(devices.parse_pain, msg.payload, received_at=at)
            added = self._store.add_pain(report, raw, at, athlete=athlete)
            return Stored(report, athlete) if added else "duplicate"
        if msg.topic in self._ha_topics:
            return self._ha_message(msg)
        if kind == "scale":
            return self._weigh_in(msg, self._scales[msg.topic])
        sleep = self._sleeps[msg.topic]
        athlete = self._config.sleep_athlete(sleep)
        night = self._sleep(msg, sleep, athlete)
        if night is None:
            return "ignored"
        session, raw = night
        return self._night(sleep, athlete, Night(session, raw, at), at)

    def _weigh_in(self, msg: InboundMessage, scale: ScaleInput) -> Stored | Outcome:
        """A scale's weigh-in, for its athlete; a shared scale's for the athlete whose band
        holds it, or kept aside as unassigned (assignment.py)."""
        athletes = self._config.scale_athletes(scale)
        parsed = _read(
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
        return self._give(scale, weigh_in, raw, msg.received_at)

    def _give(
        self, scale: ScaleInput, weigh_in: BodyMeasurement, raw: str, at: datetime
    ) -> Stored | Outcome:
        """A weigh-in stored for the scale's athlete, or the one whose band holds it."""
        athletes = self._config.scale_athletes(scale)
        bands = scale.assign.bands()
        if not bands:
            added = self._store.add_body(weigh_in, raw, at, athlete=athletes[0])
            return Stored(weigh_in, athletes[0]) if added else "duplicate"
        lasts = {a: kg for a in bands if (kg := self._latest_kg(a)) is not None}
        whose = assign(weigh_in.weight_kg, bands, lasts)
        if whose.athlete is None:
            added = self._store.add_unassigned(weigh_in, raw, at, whose.candidates)
            return Unassigned(weigh_in, whose.candidates) if added else "duplicate"
        if not self._store.add_body(weigh_in, raw, at, athlete=whose.athlete):
            return "duplicate"
        self._note_weight(whose.athlete, weigh_in)
        return Stored(weigh_in, whose.athlete)

    def _assign(self, msg: InboundMessage, athlete: str) -> Outcome:
        """`<base>/<a>/assign/set`: the unassigned weigh-in(s) at the time sent become `a`'s."""
        text = msg.payload.decode("utf-8", errors="replace").strip()
        try:
            given = self._store.assign(text, athlete)
        except ValueError as exc:
            raise devices.InputRejected(str(exc)) from None
        if not given:
            raise devices.InputRejected(f"no unassigned weigh-in at {text[:40]!r}")
        for weigh_in in given:
            self._note_weight(athlete, weigh_in)
        return Assigned(tuple(Stored(m, athlete) for m in given))

    def _latest_kg(self, athlete: str) -> float | None:
        """The athlete's latest weigh-in: what this handler gave them lately, else the
        worker's history."""
        given = self._assigned_kg.get(athlete)
        return given[1] if given is not None else self._last_weight(athlete)

    def _note_weight(self, athlete: str, weigh_in: BodyMeasurement) -> None:
        known = self._assigned_kg.get(athlete)
        if known is None or weigh_in.time >= known[0]:
            self._assigned_kg[athlete] = (weigh_in.time, weigh_in.weight_kg)

    def _zone(self, athlete: str) -> tzinfo:
        """The zone a timestamp without one is read in: the athlete's (DESIGN.md §4)."""
        return self._zones[athlete]

    def _sleep(
        self, msg: InboundMessage, sleep: SleepInput, athlete: str
    ) -> tuple[SleepSession, str] | None:
        tz = self._zone(athlete)
        if sleep.preset != "sleep_as_android":
            return _read(devices.parse_sleep, msg.payload, received_at=msg.received_at, tz=tz)
        key = TRACKER_STATE_KEY.format(topic=msg.topic)
        tracker = SleepAsAndroid.from_json(self._store.get_state(key, athlete=athlete) or "")
        try:
            night = _read(tracker.feed, msg.payload, msg.received_at)
        finally:
            self._store.set_state(key, tracker.to_json(), athlete=athlete)
        if tracker.orphan_stop:
            raise devices.InputRejected("sleep tracking stopped without having started")
        return night

    # --- Home Assistant entities --------------------------------------------------------

    def _ha_memory(self) -> _HaMemory:
        return _HaMemory(self._pairing.snapshot(), dict(self._nights), dict(self._extras))

    def _ha_restore(self, saved: _HaMemory) -> None:
        self._pairing.restore(saved.pairing)
        self._nights, self._extras = dict(saved.nights), dict(saved.extras)

    def _ha_message(self, msg: InboundMessage) -> Stored | Outcome:
        """One of an entity's topics: the reading it completes, or else one that another
        entity's companions left waiting past PAIRING_WINDOW (at most one a message: one
        outcome each)."""
        entity, part = self._ha_topics[msg.topic]
        if part == ha.STATE:
            text = payload_text(msg.payload)
        else:
            text = msg.payload.decode("utf-8", errors="replace")
        at = msg.received_at
        reading = self._pairing.feed(entity, part, text, at, msg.retained)
        if reading is None:
            reading = self._pairing.due(at)
        if reading is None:
            if part == ha.STATE and text.strip() in ha.NOT_A_VALUE:
                log.debug("%s is %s: not a reading", ha.entity_id(entity), text.strip())
            return "ignored"
        return self._ha_reading(reading)

    def _ha_reading(self, reading: Reading) -> Stored | Outcome:
        """A paired reading stored, counted as a duplicate, ignored or refused, as a message."""
        entity = self._entities[reading.entity]
        if reading.repeat:
            log.info(
                "ignored %s of %s: back from unavailable with the value it had, not a new reading",
                reading.value,
                reading.name,
            )
            return "ignored"
        try:
            outcome = self._ha_store(entity, reading)
        except devices.InputRejected as exc:
            shown = InboundMessage(
                topic=f"{reading.entity}/{ha.STATE}",
                payload=json.dumps(reading.raw(), ensure_ascii=False).encode(),
                retained=reading.retained,
                qos=0,
                received_at=reading.received_at,
            )
            self._refuse(entity.kind, shown, str(exc))
            self._untold.append(functools.partial(self._tell_rejected, entity.kind, shown, exc))
            return "rejected"
        if outcome == "duplicate":
            self._store.bump(entity.kind, "duplicates")
        return outcome

    def _ha_store(self, entity: _Entity, reading: Reading) -> Stored | Outcome:
        at = reading.received_at
        if entity.scale is not None:
            tz = self._zone(self._config.scale_athletes(entity.scale)[0])
            weigh_in = _read(devices.parse_ha_scale, reading, tz=tz)
            if weigh_in is None:
                return _no_age(reading)
            return self._give(entity.scale, *weigh_in, at)
        assert entity.sleep is not None
        sleep, athlete = entity.sleep, self._config.sleep_athlete(entity.sleep)
        tz = self._zone(athlete)
        if entity.role == "night":
            night = _read(devices.parse_ha_sleep, reading, tz=tz)
            if night is None:
                return _no_age(reading)
            return self._night(sleep, athlete, Night(*night, at), at)
        parse = devices.parse_ha_hrv if entity.role == ha.HRV else devices.parse_ha_resting_hr
        extra = _read(parse, reading, tz=tz)
        if extra is None:
            return _no_age(reading)
        value, when = extra
        self._extras[(sleep.topic, entity.role)] = Extra(value, when, at, reading.raw())
        last = self._nights.get(sleep.topic)
        if last is None or abs(when - last.session.end) > ha.NEAR_NIGHT:
            log.info(
                "%s %g of %s: no night of %s near it yet, kept for the next one",
                entity.role,
                value,
                reading.name,
                sleep.topic,
            )
            return "ignored"
        return self._with_extras(sleep, athlete, last, at)

    def _night(
        self, sleep: SleepInput, athlete: str, night: Night, at: datetime
    ) -> Stored | Outcome:
        """A sleep input's night, with its entities' HRV and resting HR when near."""
        if sleep.hrv_topic is not None or sleep.resting_hr_topic is not None:
            self._nights[sleep.topic] = night
        return self._with_extras(sleep, athlete, night, at)

    def _with_extras(
        self, sleep: SleepInput, athlete: str, night: Night, at: datetime
    ) -> Stored | Outcome:
        extras = {key: x for (topic, key), x in self._extras.items() if topic == sleep.topic}
        session, raw = ha.with_extras(night, extras)
        added = self._store.add_sleep(session, raw, at, athlete=athlete)
        return Stored(session, athlete) if added else "duplicate"


def _no_age(reading: Reading) -> Outcome:
    log.info(
        "ignored the retained state of %s: no last_changed came with it (its age is unknown)",
        reading.name,
    )
    return "ignored"


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _read(parse: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """A parser's result; any exception it raises is a rejection of the payload (an
    `OverflowError` from a date far in the future, a `ValueError` from a 5,000-digit number…)."""
    try:
        return parse(*args, **kwargs)
    except devices.InputRejected:
        raise
    except Exception as exc:
        raise devices.InputRejected(f"could not read it ({_short(exc)})") from exc


def _short(exc: BaseException) -> str:
    """An exception as a reason: its type and the start of its text."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= MAX_REASON_CHARS else f"{text[:MAX_REASON_CHARS]}…"


def _cause(exc: BaseException) -> tuple[str, str, int]:
    """What makes two failures the same bug: the exception's type and its innermost frame."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return type(exc).__name__, "", 0
    return type(exc).__name__, tb.tb_frame.f_code.co_filename, tb.tb_lineno
