"""The store's tables, its schema version (`PRAGMA user_version`) and the upgrade of a store
written by an older restday.

The upgrade re-derives the derived tables from the raw JSON, in one transaction, without any
API call:
- activities and gear are dropped, recreated and parsed again with the `Parsers` that the
  caller of `Store.open` gives (the store knows only SQL, not Strava's JSON); a store that
  needs an upgrade is refused, unchanged, when none are given;
- sleep, weigh-ins and pain keep their columns as stored: their raw payload and `source`
  (the preset name) are kept so that a later, preset-aware migration can re-derive them;
- sleep sessions follow DESIGN.md §7 "Overlapping nights" whatever restday stored them
  (`sleep.settle`);
- raw JSON that the parsers now refuse moves to the `unparsed` table with the reason, so
  nothing is lost.

A store records when it was created (`CREATED_KEY` in the `state` table, set with the tables;
a store from an older restday gets it on its first open for writing): the service tells a new
store at the path from the one it used last by it (DESIGN.md §7, `lock.py`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from restday.models import Activity, Gear
from restday.store import sleep
from restday.store.errors import StoreError
from restday.store.rows import PUT_ACTIVITY, PUT_GEAR, activity_row, gear_row, ts

# 2: counters, sent notifications and service state for the daemon; 3: activity.workout_type;
# 4: overlapping sleep sessions are one (the last received wins), `sleep_replaced`
SCHEMA_VERSION = 4
# Commits are written to the write-ahead log without waiting for the disk; `Store.flush`
# makes them durable (fsync of the log, what synchronous=FULL does inside every COMMIT). The
# service flushes after publishing what an input changed and before acknowledging it to the
# broker: as durable as FULL, without the disk's latency in front of the new state.
SYNCHRONOUS = "NORMAL"
CREATED_KEY = "store_created_at"  # state: when the store was created (`ts`, UTC)

log = logging.getLogger("restday.store")  # the package's one logger, as before its split
_T = TypeVar("_T", Activity, Gear)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS activity (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, sport_type TEXT NOT NULL,
        start_at TEXT NOT NULL, distance_m REAL NOT NULL, moving_time_s REAL NOT NULL,
        elapsed_time_s REAL NOT NULL, average_heartrate REAL, max_heartrate REAL,
        suffer_score REAL, cadence_spm REAL, gear_id TEXT, workout_type INTEGER,
        raw TEXT NOT NULL CHECK (json_valid(raw)))""",
    "CREATE INDEX IF NOT EXISTS activity_start ON activity (start_at)",
    """CREATE TABLE IF NOT EXISTS gear (
        id TEXT PRIMARY KEY, position INTEGER NOT NULL, name TEXT NOT NULL,
        distance_m REAL NOT NULL, is_primary INTEGER NOT NULL, retired INTEGER NOT NULL,
        raw TEXT NOT NULL CHECK (json_valid(raw)))""",
    """CREATE TABLE IF NOT EXISTS sleep (
        end_at TEXT PRIMARY KEY, start_at TEXT, hours REAL NOT NULL, hrv_ms REAL,
        resting_hr REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
        raw TEXT NOT NULL CHECK (json_valid(raw)))""",
    """CREATE TABLE IF NOT EXISTS sleep_replaced (
        end_at TEXT NOT NULL, start_at TEXT, hours REAL NOT NULL, hrv_ms REAL,
        resting_hr REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
        raw TEXT NOT NULL CHECK (json_valid(raw)))""",
    "CREATE INDEX IF NOT EXISTS sleep_replaced_end ON sleep_replaced (end_at)",
    """CREATE TABLE IF NOT EXISTS body (
        measured_at TEXT NOT NULL, weight_key INTEGER NOT NULL, weight_kg REAL NOT NULL,
        water_pct REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
        raw TEXT NOT NULL CHECK (json_valid(raw)), PRIMARY KEY (measured_at, weight_key))""",
    """CREATE TABLE IF NOT EXISTS pain (
        reported_at TEXT NOT NULL, level INTEGER NOT NULL, received_at TEXT NOT NULL,
        raw TEXT NOT NULL CHECK (json_valid(raw)), PRIMARY KEY (reported_at, level))""",
    """CREATE TABLE IF NOT EXISTS unparsed (
        kind TEXT NOT NULL, raw TEXT NOT NULL, reason TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS counter (
        kind TEXT NOT NULL, name TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (kind, name))""",
    "CREATE TABLE IF NOT EXISTS sent (key TEXT PRIMARY KEY, sent_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_TABLES = frozenset(
    {
        "activity",
        "gear",
        "sleep",
        "sleep_replaced",
        "body",
        "pain",
        "unparsed",
        "counter",
        "sent",
        "state",
    }
)


@dataclass(frozen=True, slots=True)
class Parsers:
    """How an upgrade turns the raw JSON of an activity and of a shoe into the domain objects
    again: given to `Store.open` by its caller (restday's: `restday.sync.STRAVA_PARSERS`),
    as strava-offline passes `from_dict` to its SQL layer. A parser raises `ValueError` for
    an item it refuses; the item then moves to `unparsed`."""

    activity: Callable[[Mapping[str, object]], Activity]
    gear: Callable[[Mapping[str, object]], Gear]


def prepare(
    conn: sqlite3.Connection,
    where: str,
    *,
    read_only: bool,
    busy_timeout_ms: int,
    parsers: Parsers | None,
) -> None:
    """Check the file and its schema version, set the pragmas, upgrade an older schema.

    The file's and the disk's failures raise `sqlite3.Error`, for `Store.open` to explain.
    """
    try:
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        tables = {t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        (version,) = conn.execute("PRAGMA user_version").fetchone()
    except sqlite3.Error as exc:
        if exc.sqlite_errorname == "SQLITE_NOTADB":
            raise StoreError(f"{where} is not a restday store (not an SQLite database)") from None
        raise
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{where} was written by a newer restday (schema {version} > {SCHEMA_VERSION}); "
            "upgrade restday"
        )
    foreign = {t for t in tables if not t.startswith("sqlite_")} - _TABLES
    if foreign:  # another program's database: leave it alone
        raise StoreError(f"{where} is not a restday store (it has tables {sorted(foreign)})")
    if read_only:
        if version < SCHEMA_VERSION:
            raise StoreError(
                f"cannot read the store {where} here: it was written by an older restday and "
                "needs an upgrade, which writes it (run restday where it may write the store)"
            )
        return
    if version < SCHEMA_VERSION and tables and parsers is None:  # a bug of the caller
        raise StoreError(
            f"cannot upgrade the store {where} from schema {version} to {SCHEMA_VERSION}: "
            "the upgrade parses activities and gear again from their raw JSON and was given "
            "no parsers (Store.open(..., parsers=...)); the store is unchanged"
        )
    conn.execute("PRAGMA journal_mode = WAL").fetchone()
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    if version < SCHEMA_VERSION:
        _upgrade(conn, version, tables, parsers)
    elif conn.execute("SELECT 1 FROM state WHERE key = ?", (CREATED_KEY,)).fetchone() is None:
        with transaction(conn):  # a store from a restday that did not record it yet
            _record_creation(conn)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error; joins a transaction already open."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _upgrade(
    conn: sqlite3.Connection, found: int, tables: set[str], parsers: Parsers | None
) -> None:
    """Bring schema `found` up to SCHEMA_VERSION in one transaction, re-deriving from raw."""
    with transaction(conn):
        activities: list[str] = []
        shoes: list[str] = []
        if "activity" in tables:
            activities = [raw for (raw,) in conn.execute("SELECT raw FROM activity")]
        if "gear" in tables:
            shoes = [raw for (raw,) in conn.execute("SELECT raw FROM gear ORDER BY position")]
        conn.execute("DROP TABLE IF EXISTS activity")
        conn.execute("DROP TABLE IF EXISTS gear")
        for statement in _SCHEMA:
            conn.execute(statement)
        if parsers is not None:  # None: a new, empty store (`prepare` refuses any other)
            for activity, raw in _reparse_all(conn, "activity", activities, parsers.activity):
                conn.execute(PUT_ACTIVITY, activity_row(activity, raw))
            shoes_again = _reparse_all(conn, "gear", shoes, parsers.gear)
            for position, (gear, raw) in enumerate(shoes_again):
                conn.execute(PUT_GEAR, gear_row(gear, position, raw))
        sleep.settle(conn)
        _record_creation(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    if tables:
        log.info("upgraded the store from schema %d to %d", found, SCHEMA_VERSION)


def _record_creation(conn: sqlite3.Connection) -> None:
    """Note now as the store's creation time, unless it has one (inside a transaction)."""
    conn.execute(
        "INSERT INTO state VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        (CREATED_KEY, ts(datetime.now(UTC))),
    )


def _reparse_all(
    conn: sqlite3.Connection,
    kind: str,
    raws: list[str],
    parse: Callable[[Mapping[str, object]], _T],
) -> list[tuple[_T, str]]:
    """Each raw JSON parsed again; those now refused go to `unparsed` with the reason."""
    out: list[tuple[_T, str]] = []
    for raw in raws:
        try:
            data = json.loads(raw)
            if not isinstance(data, Mapping):
                raise ValueError("not a JSON object")
            out.append((parse(data), raw))
        except ValueError as exc:  # json.JSONDecodeError and the parsers' errors
            conn.execute("INSERT INTO unparsed VALUES (?, ?, ?)", (kind, raw, str(exc)))
            log.warning("upgrade: kept an unparsable %s aside in `unparsed`: %s", kind, exc)
    return out
