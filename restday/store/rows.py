"""Domain objects as the store's rows and back; times as fixed-format UTC text,
`YYYY-MM-DDTHH:MM:SS.ffffffZ`, which sorts as it reads."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from restday.models import Activity, BodyMeasurement, Gear, History, PainReport, SleepSession

WEIGHT_KEY_PER_KG = 100  # weigh-ins are duplicates when equal to 0.01 kg at the same time

PUT_ACTIVITY = """INSERT OR REPLACE INTO activity
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
PUT_GEAR = "INSERT INTO gear VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
PUT_BODY = "INSERT INTO body VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
PUT_PAIN = "INSERT INTO pain VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
# Each read is one athlete's (?1), from a time on (?2: a `ts` text, "" for all)
_GET_ACTIVITIES = """SELECT id, name, sport_type, start_at, distance_m, moving_time_s,
    elapsed_time_s, average_heartrate, max_heartrate, suffer_score, cadence_spm, gear_id,
    workout_type FROM activity WHERE athlete = ?1 AND start_at >= ?2 ORDER BY start_at, id"""
_GET_SLEEPS = """SELECT end_at, hours, start_at, hrv_ms, resting_hr, source FROM sleep
    WHERE athlete = ?1 AND end_at >= ?2 ORDER BY end_at"""
_GET_BODY = """SELECT measured_at, weight_kg, water_pct, source FROM body
    WHERE athlete = ?1 AND measured_at >= ?2 ORDER BY measured_at, weight_key"""
_GET_PAINS = """SELECT reported_at, level FROM pain WHERE athlete = ?1 AND reported_at >= ?2
    ORDER BY reported_at, level"""
_GET_GEAR = """SELECT id, name, distance_m, is_primary, retired FROM gear WHERE athlete = ?
    ORDER BY position"""
COUNTS = """SELECT (SELECT count(*) FROM activity WHERE athlete = ?1),
    (SELECT count(*) FROM sleep WHERE athlete = ?1),
    (SELECT count(*) FROM body WHERE athlete = ?1),
    (SELECT count(*) FROM pain WHERE athlete = ?1),
    (SELECT count(*) FROM gear WHERE athlete = ?1)"""


@dataclass(frozen=True, slots=True)
class UpsertResult:
    added: int = 0
    updated: int = 0  # same id, different raw JSON: the activity was edited on Strava
    unchanged: int = 0
    added_ids: tuple[int, ...] = ()  # the new ones (a post-run notification may be due)


@dataclass(frozen=True, slots=True)
class StoreCounts:
    activities: int
    sleeps: int
    weigh_ins: int
    pains: int
    gear: int


def read_history(conn: sqlite3.Connection, athlete: str, after: str) -> History:
    """Every input of `athlete` stored at/after `after` (a `ts` text; "" for all), time-sorted;
    all their gear."""
    q, since = conn.execute, (athlete, after)
    activities, sleeps = q(_GET_ACTIVITIES, since), q(_GET_SLEEPS, since)
    body, pains, gear = q(_GET_BODY, since), q(_GET_PAINS, since), q(_GET_GEAR, (athlete,))
    t = datetime.fromisoformat
    return History(
        activities=tuple(
            [
                Activity(i, n, s, t(at), d, m, e, ah, mh, ss, c, g, w)
                for i, n, s, at, d, m, e, ah, mh, ss, c, g, w in activities
            ]
        ),
        sleeps=tuple(
            [
                SleepSession(t(end), h, None if st is None else t(st), hrv, rhr, src)
                for end, h, st, hrv, rhr, src in sleeps
            ]
        ),
        body=tuple([BodyMeasurement(t(at), kg, w, src) for at, kg, w, src in body]),
        pains=tuple([PainReport(t(at), level) for at, level in pains]),
        gear=tuple([Gear(i, n, d, bool(p), bool(r)) for i, n, d, p, r in gear]),
    )


def write(conn: sqlite3.Connection, sql: str, row: Sequence[object], what: str) -> int:
    """Run one write; a row the schema refuses is a `ValueError` naming `what`."""
    try:
        return conn.execute(sql, row).rowcount
    except sqlite3.IntegrityError as exc:  # raw not JSON, NaN (stored as NULL), dup id
        raise ValueError(f"cannot store {what}: {exc}") from None


def activity_row(a: Activity, raw: str, athlete: str) -> tuple[object, ...]:
    return (
        athlete,
        a.id,
        a.name,
        a.sport_type,
        ts(a.start),
        a.distance_m,
        a.moving_time_s,
        a.elapsed_time_s,
        a.average_heartrate,
        a.max_heartrate,
        a.suffer_score,
        a.cadence_spm,
        a.gear_id,
        a.workout_type,
        raw,
    )


def gear_row(g: Gear, position: int, raw: str, athlete: str) -> tuple[object, ...]:
    return (athlete, g.id, position, g.name, g.distance_m, g.primary, g.retired, raw)


def weight_key(kg: float) -> int:
    """The weight in 0.01 kg steps: two weigh-ins at one time that agree on it are one."""
    if not math.isfinite(kg):
        raise ValueError(f"cannot store a weigh-in of {kg} kg")
    return round(kg * WEIGHT_KEY_PER_KG)


def ts(when: datetime) -> str:
    """A fixed-format, sortable UTC text for an aware datetime."""
    if when.utcoffset() is None:
        raise ValueError(f"a time without a zone cannot be stored: {when.isoformat()}")
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
