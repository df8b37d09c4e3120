"""Whose a weigh-in is: stored for its scale's athlete, or a shared scale's for the athlete
whose band holds it (assignment.py), or kept aside as unassigned until an assign command
(`<base>/<a>/assign/set`) gives it to someone.

Where two athletes' bands overlap, their latest weigh-ins settle it: what this handler gave
them lately, else the worker's history (`last_weight`). inputs.py parses the weigh-ins, from a
scale's payload or a Home Assistant entity (ha_inputs.py), and hands them here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from restday.config import Config, ScaleInput
from restday.daemon.assignment import assign
from restday.daemon.stored import Stored
from restday.integrations.payload_json import InputRejected
from restday.models import BodyMeasurement
from restday.store import Store


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


class WeighIns:
    """Gives each weigh-in to its athlete, in the transaction of the message it came in."""

    def __init__(
        self, config: Config, store: Store, last_weight: Callable[[str], float | None]
    ) -> None:
        """`last_weight`: an athlete's latest weigh-in in kg (None: none yet), which settles
        whose a shared scale's weigh-in is where two athletes' bands overlap."""
        self._store = store
        self._last_weight = last_weight
        # per scale topic, read once (the config's accessors are slow for 10,000 a second):
        # the athletes it gives weigh-ins to, and its weight bands when it is shared
        self._routes = {s.topic: (config.scale_athletes(s), s.assign.bands()) for s in config.scale}
        self._assigned_kg: dict[str, tuple[datetime, float]] = {}  # by this handler, since

    def athletes_of(self, scale: ScaleInput) -> tuple[str, ...]:
        """Who `scale` gives weigh-ins to: its athlete, or the athletes of its bands (the
        first one's time zone reads a timestamp without one)."""
        return self._routes[scale.topic][0]

    def give(
        self, scale: ScaleInput, weigh_in: BodyMeasurement, raw: str, at: datetime
    ) -> Stored | Unassigned | Literal["duplicate"]:
        """A weigh-in stored for the scale's athlete, or the one whose band holds it."""
        athletes, bands = self._routes[scale.topic]
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

    def assign(self, payload: bytes, athlete: str) -> Assigned:
        """`<base>/<a>/assign/set`: the unassigned weigh-in(s) at the time sent become `a`'s."""
        text = payload.decode("utf-8", errors="replace").strip()
        try:
            given = self._store.assign(text, athlete)
        except ValueError as exc:
            raise InputRejected(str(exc)) from None
        if not given:
            raise InputRejected(f"no unassigned weigh-in at {text[:40]!r}")
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
