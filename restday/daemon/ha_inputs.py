"""Home Assistant entities (`ha_statestream`) as inputs: each message routed to its entity,
paired, and the reading stored, counted or refused as inputs.py does a message.

An entity comes as three topics (state, last_changed, unit): ha_statestream.py pairs them into
one reading, ha_readings.py reads it. A state is held in memory until its companions arrive,
acknowledged meanwhile (the broker keeps it retained: after a restart it is replayed and paired
again); a state whose companions stay away is read when a later message of any entity shows
PAIRING_WINDOW passed (`expire` reads them all at once, for a tick). What was paired is undone
with the transaction around it (`undone`). A sleep input's nights take their HRV and resting
heart rate from its `hrv_topic` and `resting_hr_topic` entities, when near
(`ha_statestream.with_extras`): the input's last night is stored again with them (`night`).
What it logs is inputs.py's, under its logger name, as before its split.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from restday.config import Config, ScaleInput, SleepInput
from restday.daemon.refusals import Refusals, read
from restday.daemon.stored import Stored
from restday.daemon.weigh_ins import Unassigned, WeighIns
from restday.integrations import ha_statestream as ha
from restday.integrations.ha_readings import (
    parse_ha_hrv,
    parse_ha_resting_hr,
    parse_ha_scale,
    parse_ha_sleep,
)
from restday.integrations.ha_statestream import Extra, Night, Pairing, Reading
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.payload_json import InputRejected, payload_text
from restday.store import Store

log = logging.getLogger("restday.daemon.inputs")  # where these lines have always come from

Role = Literal["weight", "night", "hrv", "resting_hr"]  # what a Home Assistant entity gives
Outcome = Stored | Unassigned | Literal["ignored", "duplicate", "rejected"]


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
class Memory:
    """What `HaInputs` holds of Home Assistant entities, as it was (to undo a transaction)."""

    pairing: ha.PairingSnapshot
    nights: dict[str, Night]
    extras: dict[tuple[str, str], Extra]


class HaInputs:
    """The Home Assistant entities the inputs read: their messages to readings, stored."""

    def __init__(
        self,
        config: Config,
        store: Store,
        zones: Mapping[str, tzinfo],
        weigh_ins: WeighIns,
        refusals: Refusals,
    ) -> None:
        """`zones`: each athlete's, for a time without one (DESIGN.md §4)."""
        self._config = config
        self._store = store
        self._zones = zones
        self._weigh_ins = weigh_ins
        self._refusals = refusals
        self._entities = _entities(config)
        self._topics = {  # topic → (entity, part)
            topic: (entity, part)
            for entity in self._entities
            for part, topic in zip(ha.PARTS, ha.subtopics(entity), strict=True)
        }
        self._pairing = Pairing(self._entities)
        self._nights: dict[str, Night] = {}  # a sleep input's last night, by its topic
        self._extras: dict[tuple[str, str], Extra] = {}  # (sleep topic, HRV or RESTING_HR)
        self._saved: Memory | None = None  # as it was before the open transaction

    def reads(self, topic: str) -> bool:
        """Whether `topic` is one of an entity's."""
        return topic in self._topics

    def kind(self, topic: str) -> str | None:
        """The input an entity's topic carries, as counted: "scale" or "sleep"."""
        found = self._topics.get(topic)
        return None if found is None else self._entities[found[0]].kind

    # --- the transaction around the messages --------------------------------------------

    def begin(self) -> None:
        """A message of the open transaction comes: keep what it may undo."""
        if self._entities and self._saved is None:
            self._saved = self.memory()

    def memory(self) -> Memory | None:
        """What is held now, for `restore` (None: no entity, nothing held)."""
        if not self._entities:
            return None
        return Memory(self._pairing.snapshot(), dict(self._nights), dict(self._extras))

    def restore(self, saved: Memory) -> None:
        self._pairing.restore(saved.pairing)
        self._nights, self._extras = dict(saved.nights), dict(saved.extras)

    def committed(self) -> None:
        self._saved = None

    def undone(self) -> None:
        if self._saved is not None:
            self.restore(self._saved)
            self._saved = None

    # --- messages and readings ----------------------------------------------------------

    def message(self, msg: InboundMessage) -> Outcome:
        """One of an entity's topics: the reading it completes, or else one that another
        entity's companions left waiting past PAIRING_WINDOW (at most one a message: one
        outcome each)."""
        entity, part = self._topics[msg.topic]
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
        return self._reading(reading)

    def expire(self, now: datetime) -> list[Outcome]:
        """Every state whose companions stayed away past PAIRING_WINDOW at `now`, read with
        what it has and stored (in the caller's transaction)."""
        if not self._pairing.waiting:
            return []
        if self._saved is None:
            self._saved = self.memory()
        return [self._reading(r) for r in self._pairing.due_all(now)]

    def _reading(self, reading: Reading) -> Outcome:
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
            outcome = self._store_reading(entity, reading)
        except InputRejected as exc:
            shown = InboundMessage(
                topic=f"{reading.entity}/{ha.STATE}",
                payload=json.dumps(reading.raw(), ensure_ascii=False).encode(),
                retained=reading.retained,
                qos=0,
                received_at=reading.received_at,
            )
            self._refusals.refuse(entity.kind, shown, str(exc))
            self._refusals.rejected(entity.kind, shown, exc)
            return "rejected"
        if outcome == "duplicate":
            self._store.bump(entity.kind, "duplicates")
        return outcome

    def _store_reading(self, entity: _Entity, reading: Reading) -> Outcome:
        at = reading.received_at
        if entity.scale is not None:
            tz = self._zones[self._weigh_ins.athletes_of(entity.scale)[0]]
            weigh_in = read(parse_ha_scale, reading, tz=tz)
            if weigh_in is None:
                return _no_age(reading)
            return self._weigh_ins.give(entity.scale, *weigh_in, at)
        assert entity.sleep is not None
        sleep, athlete = entity.sleep, self._config.sleep_athlete(entity.sleep)
        tz = self._zones[athlete]
        if entity.role == "night":
            night = read(parse_ha_sleep, reading, tz=tz)
            if night is None:
                return _no_age(reading)
            return self.night(sleep, athlete, Night(*night, at), at)
        parse = parse_ha_hrv if entity.role == ha.HRV else parse_ha_resting_hr
        extra = read(parse, reading, tz=tz)
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

    # --- a sleep input's nights, with its entities' HRV and resting heart rate -------------

    def night(
        self, sleep: SleepInput, athlete: str, night: Night, at: datetime
    ) -> Stored | Literal["duplicate"]:
        """A sleep input's night, with its entities' HRV and resting HR when near."""
        if sleep.hrv_topic is not None or sleep.resting_hr_topic is not None:
            self._nights[sleep.topic] = night
        return self._with_extras(sleep, athlete, night, at)

    def _with_extras(
        self, sleep: SleepInput, athlete: str, night: Night, at: datetime
    ) -> Stored | Literal["duplicate"]:
        extras = {key: x for (topic, key), x in self._extras.items() if topic == sleep.topic}
        session, raw = ha.with_extras(night, extras)
        added = self._store.add_sleep(session, raw, at, athlete=athlete)
        return Stored(session, athlete) if added else "duplicate"


def _no_age(reading: Reading) -> Literal["ignored"]:
    log.info(
        "ignored the retained state of %s: no last_changed came with it (its age is unknown)",
        reading.name,
    )
    return "ignored"
