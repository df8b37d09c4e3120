"""Home Assistant entities as inputs: what `mqtt_statestream` publishes, paired into readings.

For every state change of an included entity, Home Assistant (home-assistant/core,
`homeassistant/components/mqtt_statestream/__init__.py`) publishes, retained and at QoS 1, in
this order: `<base_topic>/<domain>/<object_id>/state` (the state as plain text: `61.2`,
`unavailable`, `unknown`); with `publish_timestamps`, `…/last_updated` and `…/last_changed`
(`datetime.isoformat()`, plain text; restday reads a JSON-quoted one too); with
`publish_attributes`, one topic per attribute, its value JSON-encoded (`…/unit_of_measurement`
is `"kg"`). It publishes nothing when neither the state nor an attribute changed: a weigh-in of
exactly the last weight never reaches MQTT. A change of attributes alone publishes the same
state and last_changed again (the store then sees a duplicate).

`Pairing` joins each state with the last_changed and the unit that follow it within
PAIRING_WINDOW, without a clock and without waiting: time is what the messages carry (their
receipt time, from the worker's clock). A state is held until both companions arrived, or until
a later message shows that PAIRING_WINDOW passed (`feed`, `due`); then it is read with what it
has: the last unit known (a retained one from the broker, or an earlier reading's) and, without
its last_changed, the time it was received. A retained state (the broker's replay on
subscribing) also takes the retained companions that came just before it, so a replay pairs to
the same last_changed whatever order the broker sends it in, and is stored once. `unavailable`
and `unknown` are not readings; a value that comes back after them unchanged is the same
reading (`Reading.repeat`), not a new one at a new last_changed.

A sleep input's nights may take their HRV and resting heart rate from other entities
(`with_extras`): the latest reading of each whose time is within NEAR_NIGHT of the night's end.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from restday.models import SleepSession

PRESET = "ha_statestream"  # the preset's name in the config, and the source of its readings
STATE = "state"
LAST_CHANGED = "last_changed"
UNIT = "unit_of_measurement"
PARTS = (STATE, LAST_CHANGED, UNIT)  # subscription order: the broker replays in this order
NOT_A_VALUE = frozenset({"unavailable", "unknown"})  # Home Assistant's STATE_UNAVAILABLE, …
# Home Assistant publishes a state's timestamps and attributes right after it (the same
# coroutine, milliseconds apart); 2 s leaves room for a busy broker or a slow Pi.
PAIRING_WINDOW = timedelta(seconds=2)
# An integration polls its cloud every 5–60 minutes and may update a night's HRV or resting HR
# a poll or two after its duration; under half a day, so never the neighbouring night's.
NEAR_NIGHT = timedelta(hours=3)
HRV: Final = "hrv"
RESTING_HR: Final = "resting_hr"


def subtopics(entity: str) -> tuple[str, ...]:
    """The topics restday reads of an entity's base topic, in PARTS order."""
    return tuple(f"{entity}/{part}" for part in PARTS)


def entity_id(entity: str) -> str:
    """`sensor.anna_weight` for `homeassistant_statestream/sensor/anna_weight`."""
    return ".".join(entity.split("/")[-2:])


def json_text(text: str) -> str | None:
    """An attribute's or timestamp's text: JSON-decoded when it is a JSON string (`"kg"`),
    else as sent (`kg`, an unquoted ISO time); None for JSON null or nothing."""
    text = text.strip()
    if not text or text == "null":
        return None
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return value if isinstance(value, str) else text
    return text


@dataclass(frozen=True, slots=True)
class Heard:
    """One message's text and when it came."""

    text: str
    at: datetime  # receipt time, UTC
    retained: bool


@dataclass(frozen=True, slots=True)
class Reading:
    """A state with what was paired with it: its unit (paired or the last known) and its
    last_changed (None: not paired, the time received stands for it)."""

    entity: str  # the base topic
    state: Heard
    unit: str | None
    last_changed: str | None
    repeat: bool = False  # the value before an unavailable/unknown, back unchanged

    @property
    def value(self) -> str:
        return self.state.text.strip()

    @property
    def received_at(self) -> datetime:
        return self.state.at

    @property
    def retained(self) -> bool:
        return self.state.retained

    @property
    def name(self) -> str:
        return entity_id(self.entity)

    def raw(self) -> dict[str, object]:
        """What the store keeps of it (the readings' raw JSON)."""
        return {
            "entity": self.name,
            STATE: self.value,
            UNIT: self.unit,
            LAST_CHANGED: self.last_changed,
        }


@dataclass(frozen=True, slots=True)
class _Entity:
    pending: Heard | None = None  # a state waiting for its companions
    unit: Heard | None = None  # the latest unit_of_measurement received
    changed: Heard | None = None  # the latest last_changed received
    unit_paired: bool = False  # … received for the pending state
    changed_paired: bool = False
    last: tuple[str, str | None] | None = None  # the last reading's value and unit
    gap: bool = False  # unavailable/unknown since that reading


PairingSnapshot = Mapping[str, _Entity]


def _replayed_with(companion: Heard | None, state: Heard) -> bool:
    """A retained companion received just before a retained state: the same replay."""
    return (
        companion is not None
        and companion.retained
        and state.retained
        and timedelta() <= state.at - companion.at <= PAIRING_WINDOW
    )


class Pairing:
    """Each entity's state held until its last_changed and unit arrive (module doc)."""

    def __init__(self, entities: Iterable[str]) -> None:
        self._entities = {entity: _Entity() for entity in entities}

    def snapshot(self) -> PairingSnapshot:
        """What `restore` needs to undo every `feed` since (a transaction undone)."""
        return dict(self._entities)

    def restore(self, saved: PairingSnapshot) -> None:
        self._entities = dict(saved)

    @property
    def waiting(self) -> bool:
        """Whether a state waits for its companions."""
        return any(e.pending is not None for e in self._entities.values())

    def feed(
        self, entity: str, part: str, text: str, at: datetime, retained: bool
    ) -> Reading | None:
        """One message of `entity` (`part` of PARTS); the reading it completes, if any: its own
        pending state, once both companions are in, or one left waiting past PAIRING_WINDOW,
        or one a newer state replaces before its companions came."""
        e = self._entities[entity]
        heard = Heard(text, at, retained)
        done: Reading | None = None
        if e.pending is not None and (part == STATE or at - e.pending.at > PAIRING_WINDOW):
            done, e = _resolved(entity, e)
        if part == STATE:
            e = _new_state(e, heard)
        elif part == UNIT:
            e = replace(e, unit=heard, unit_paired=e.pending is not None)
        elif part == LAST_CHANGED:
            e = replace(e, changed=heard, changed_paired=e.pending is not None)
        else:
            raise ValueError(f"not a part restday reads: {part!r}")
        if done is None and _complete(e):
            done, e = _resolved(entity, e)
        self._entities[entity] = e
        return done

    def due(self, now: datetime) -> Reading | None:
        """One state that is complete or has waited past PAIRING_WINDOW at `now`, read."""
        for entity, e in self._entities.items():
            if e.pending is not None and (_complete(e) or now - e.pending.at > PAIRING_WINDOW):
                done, self._entities[entity] = _resolved(entity, e)
                return done
        return None

    def due_all(self, now: datetime) -> list[Reading]:
        """Every state `due` at `now` (for a tick of the worker's)."""
        readings: list[Reading] = []
        while (reading := self.due(now)) is not None:
            readings.append(reading)
        return readings


def _new_state(e: _Entity, heard: Heard) -> _Entity:
    value = heard.text.strip()
    if not value:  # the retained message cleared: nothing
        return e
    if value in NOT_A_VALUE:
        return replace(e, gap=True)
    return replace(
        e,
        pending=heard,
        unit_paired=_replayed_with(e.unit, heard),
        changed_paired=_replayed_with(e.changed, heard),
    )


def _complete(e: _Entity) -> bool:
    return e.pending is not None and e.unit_paired and e.changed_paired


def _resolved(entity: str, e: _Entity) -> tuple[Reading, _Entity]:
    """The pending state as a reading, and the entity with nothing pending."""
    assert e.pending is not None
    unit = None if e.unit is None else json_text(e.unit.text)
    changed = json_text(e.changed.text) if e.changed is not None and e.changed_paired else None
    value = (e.pending.text.strip(), unit)
    reading = Reading(entity, e.pending, unit, changed, repeat=e.gap and e.last == value)
    after = replace(e, pending=None, unit_paired=False, changed_paired=False, last=value, gap=False)
    return reading, after


# --- a night's HRV and resting heart rate from other entities -------------------------------


@dataclass(frozen=True, slots=True)
class Extra:
    """The latest HRV (ms) or resting heart rate (bpm) reading of a sleep input's entity."""

    value: float
    time: datetime  # its last_changed, else when it was received
    received_at: datetime
    raw: dict[str, object]


@dataclass(frozen=True, slots=True)
class Night:
    """A night as its own input gave it, before any entity's HRV or resting heart rate."""

    session: SleepSession
    raw: str
    received_at: datetime


def with_extras(night: Night, extras: Mapping[str, Extra]) -> tuple[SleepSession, str]:
    """The night with the HRV and resting heart rate (`extras` by HRV, RESTING_HR) whose time
    is within NEAR_NIGHT of its end; what was received last wins (a night's own `hrv_ms` over
    an entity's received before it). With any added, the raw JSON keeps the night's under
    `night` and each reading's under its key."""
    session = night.session
    used: dict[str, object] = {}
    for key, extra in extras.items():
        if abs(extra.time - session.end) > NEAR_NIGHT:
            continue
        own = session.hrv_ms if key == HRV else session.resting_hr
        if own is not None and extra.received_at <= night.received_at:
            continue
        if key == HRV:
            session = replace(session, hrv_ms=extra.value)
        else:
            session = replace(session, resting_hr=extra.value)
        used[key] = extra.raw
    if not used:
        return night.session, night.raw
    try:
        own_raw: object = json.loads(night.raw)
    except ValueError:
        own_raw = night.raw
    return session, json.dumps({"night": own_raw, **used}, ensure_ascii=False)
