"""Weigh-ins a shared scale could not give to one athlete (DESIGN.md §7 "Household config"):
kept in `unassigned` until someone says whose they are (`Store.assign`).

A weigh-in is the same one as in `body`: its time and its weight to 0.01 kg (`weight_key`).
One already stored for any athlete is not kept unassigned as well (a scale's retained
message, delivered again after a restart, once it was assigned). `Store.assign` names a time:
every unassigned weigh-in at that instant moves, in one transaction, to that athlete's `body`
(two people cannot step on a scale at the same instant: readings of one time are one
person's). `candidates` are the athletes it might be, as the service judged when it came
(possibly none).

No SQL is run here (the text of the statements is): `Store` runs it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple

from restday.models import BodyMeasurement, Kilograms
from restday.store.athletes import distinct
from restday.store.rows import ts, weight_key

# Kept unless it is there already, or stored for an athlete (one probe per athlete of `body`)
PUT = f"""INSERT INTO unassigned (measured_at, weight_key, weight_kg, water_pct, source,
        received_at, raw, candidates) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
    WHERE NOT EXISTS (SELECT 1 FROM body WHERE athlete IN ({distinct("body")})
        AND measured_at = ?1 AND weight_key = ?2)
    ON CONFLICT DO NOTHING"""  # noqa: S608 -- no input in the text
GET = """SELECT measured_at, weight_kg, water_pct, source, candidates, raw FROM unassigned
    ORDER BY measured_at, weight_key"""
COUNT = "SELECT count(*) FROM unassigned"
# ?1 the athlete, ?2 the time: what the athlete had already stays as it was, and is not returned
MOVE = """INSERT INTO body (athlete, measured_at, weight_key, weight_kg, water_pct, source,
        received_at, raw)
    SELECT ?1, measured_at, weight_key, weight_kg, water_pct, source, received_at, raw
    FROM unassigned WHERE measured_at = ?2
    ON CONFLICT DO NOTHING
    RETURNING measured_at, weight_kg, water_pct, source"""
DROP = "DELETE FROM unassigned WHERE measured_at = ?"


class UnassignedWeighIn(NamedTuple):
    """A weigh-in kept unassigned, with the athletes it might be and its raw JSON."""

    measurement: BodyMeasurement
    candidates: tuple[str, ...]
    raw: str


def row(
    m: BodyMeasurement, raw: str, received_at: datetime, candidates: tuple[str, ...]
) -> tuple[object, ...]:
    """The weigh-in's row in `unassigned` (the parameters of `PUT`)."""
    return (
        ts(m.time),
        weight_key(m.weight_kg),
        m.weight_kg,
        m.water_pct,
        m.source,
        ts(received_at),
        raw,
        json.dumps(list(candidates)),
    )


def time_of(time: str | datetime) -> str:
    """The stored text of the time `Store.assign` was given (ISO 8601 with a zone, as the
    notification sent it, or a datetime); a `ValueError` saying what is wrong otherwise."""
    if isinstance(time, str):
        try:
            time = datetime.fromisoformat(time.strip())
        except ValueError:
            raise ValueError(
                f"{time!r} is not a time: give the weigh-in's time as the notification sent it "
                "(ISO 8601 with its zone, e.g. 2026-11-20T06:42:00+00:00)"
            ) from None
    if time.utcoffset() is None:
        raise ValueError(
            f"the time {time.isoformat()} has no zone: give it as the notification sent it "
            "(e.g. 2026-11-20T06:42:00+00:00)"
        )
    return ts(time)


def weigh_ins(rows: list[tuple[str, float, float | None, str]]) -> tuple[BodyMeasurement, ...]:
    """Rows of `body` (as `MOVE` returns them) as weigh-ins, oldest first then lightest."""
    out = [
        BodyMeasurement(datetime.fromisoformat(at), Kilograms(kg), water, source)
        for at, kg, water, source in rows
    ]
    return tuple(sorted(out, key=lambda m: (m.time, m.weight_kg)))


def pending(rows: list[tuple[str, float, float | None, str, str, str]]) -> list[UnassignedWeighIn]:
    """Rows of `GET` as `UnassignedWeighIn`s, in their order."""
    t = datetime.fromisoformat
    return [
        UnassignedWeighIn(
            BodyMeasurement(t(at), Kilograms(kg), water, source), tuple(json.loads(who)), raw
        )
        for at, kg, water, source, who, raw in rows
    ]
