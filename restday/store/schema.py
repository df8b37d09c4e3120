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
  (`sleep.settle`), each athlete's apart;
- raw JSON that the parsers now refuse moves to the `unparsed` table with the reason, so
  nothing is lost;
- from schema 4 or older (one athlete's store): every row goes to the athlete the store is
  opened for (the first configured one), logged; `state`'s `SERVICE_KEYS` to the service.

A store whose rows all belong to one athlete, opened for writing for another who has none,
may give them to that one (`adopt`, when the caller asks: a runner who changed their `id`
keeps their history). A store records when it was created (`CREATED_KEY` in the `state`
table, set with the tables; a store from an older restday gets it on its first open for
writing): the service tells a new store at the path from the one it used last by it
(DESIGN.md §7, `lock.py`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from restday.models import Activity, Gear
from restday.store import athletes, sleep
from restday.store.athletes import CREATED_KEY, SERVICE, SERVICE_KEYS
from restday.store.errors import StoreError
from restday.store.rows import PUT_ACTIVITY, PUT_GEAR, activity_row, gear_row, ts

# 2: counters, sent notifications and service state for the daemon; 3: activity.workout_type;
# 4: overlapping sleep sessions are one (the last received wins), `sleep_replaced`;
# 5: an `athlete` column in every per-athlete table, part of its key; `unassigned`
SCHEMA_VERSION = 5
# Commits are written to the write-ahead log without waiting for the disk; `Store.flush`
# makes them durable (fsync of the log, what synchronous=FULL does inside every COMMIT). The
# service flushes after publishing what an input changed and before acknowledging it to the
# broker: as durable as FULL, without the disk's latency in front of the new state.
SYNCHRONOUS = "NORMAL"

log = logging.getLogger("restday.store")  # the package's one logger, as before its split
_T = TypeVar("_T", Activity, Gear)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS activity (
        athlete TEXT NOT NULL, id INTEGER PRIMARY KEY, name TEXT NOT NULL,
        sport_type TEXT NOT NULL, start_at TEXT NOT NULL, distance_m REAL NOT NULL,
        moving_time_s REAL NOT NULL, elapsed_time_s REAL NOT NULL, average_heartrate REAL,
        max_heartrate REAL, suffer_score REAL, cadence_spm REAL, gear_id TEXT,
        workout_type INTEGER, raw TEXT NOT NULL CHECK (json_valid(raw)))""",
    "CREATE INDEX IF NOT EXISTS activity_start ON activity (athlete, start_at)",
    """CREATE TABLE IF NOT EXISTS gear (
        athlete TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
        distance_m REAL NOT NULL, is_primary INTEGER NOT NULL, retired INTEGER NOT NULL,
        raw TEXT NOT NULL CHECK (json_valid(raw)), PRIMARY KEY (athlete, id))""",
    """CREATE TABLE IF NOT EXISTS sleep (
        athlete TEXT NOT NULL, end_at TEXT NOT NULL, start_at TEXT, hours REAL NOT NULL,
        hrv_ms REAL, resting_hr REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
        raw TEXT NOT NULL CHECK (json_valid(raw)), PRIMARY KEY (athlete, end_at))""",
    """CREATE TABLE IF NOT EXISTS sleep_replaced (
        athlete TEXT NOT NULL, end_at TEXT NOT NULL, start_at TEXT, hours REAL NOT NULL,
        hrv_ms REAL, resting_hr REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
        raw TEXT NOT NULL CHECK (json_valid(raw)))""",
    "CREATE INDEX IF NOT EXISTS sleep_replaced_end ON sleep_replaced (athlete, end_at)",
    """CREATE TABLE IF NOT EXISTS body (
        athlete TEXT NOT NULL, measured_at TEXT NOT NULL, weight_key INTEGER NOT NULL,
        weight_kg REAL NOT NULL, water_pct REAL, source TEXT NOT NULL,
        received_at TEXT NOT NULL, raw TEXT NOT NULL CHECK (json_valid(raw)),
        PRIMARY KEY (athlete, measured_at, weight_key))""",
    """CREATE TABLE IF NOT EXISTS pain (
        athlete TEXT NOT NULL, reported_at TEXT NOT NULL, level INTEGER NOT NULL,
        received_at TEXT NOT NULL, raw TEXT NOT NULL CHECK (json_valid(raw)),
        PRIMARY KEY (athlete, reported_at, level))""",
    """CREATE TABLE IF NOT EXISTS unassigned (
        measured_at TEXT NOT NULL, weight_key INTEGER NOT NULL, weight_kg REAL NOT NULL,
        water_pct REAL, source TEXT NOT NULL, received_at TEXT NOT NULL,
        raw TEXT NOT NULL CHECK (json_valid(raw)), candidates TEXT NOT NULL CHECK (
            CASE WHEN json_valid(candidates) THEN json_type(candidates) = 'array' ELSE 0 END),
        PRIMARY KEY (measured_at, weight_key))""",
    """CREATE TABLE IF NOT EXISTS unparsed (
        kind TEXT NOT NULL, raw TEXT NOT NULL, reason TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS counter (
        kind TEXT NOT NULL, name TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (kind, name))""",
    """CREATE TABLE IF NOT EXISTS sent (
        athlete TEXT NOT NULL, key TEXT NOT NULL, sent_at TEXT NOT NULL,
        PRIMARY KEY (athlete, key))""",
    """CREATE TABLE IF NOT EXISTS state (
        athlete TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (athlete, key))""",
)
_TABLES = frozenset({*athletes.PER_ATHLETE, "unassigned", "unparsed", "counter"})
# Copied into their schema-5 shape as stored, the athlete added (the others are re-parsed)
_COPIED = ("sleep", "sleep_replaced", "body", "pain", "sent", "state")
_OLD_INDEXES = ("activity_start", "sleep_replaced_end")  # made again on the new tables


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
    athlete: str,
) -> None:
    """Check the file and its schema version, set the pragmas, upgrade an older schema (giving
    its rows to `athlete`).

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
        _upgrade(conn, version, tables, parsers, athlete)
    elif (
        conn.execute(
            "SELECT 1 FROM state WHERE athlete = ? AND key = ?", (SERVICE, CREATED_KEY)
        ).fetchone()
        is None
    ):
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


def adopt(conn: sqlite3.Connection, athlete: str, configured: Collection[str] = ()) -> None:
    """Give every row to `athlete` when all belong to one other athlete who is not among the
    `configured` ones (whose id changed in the config, or a single runner's store that became
    a household's), in one transaction; logged at WARNING. Nothing changes otherwise: with no
    rows, with rows of `athlete` or of a configured athlete, or of several athletes."""
    if _other_athlete(conn, athlete, configured) is None:  # nearly always: no write lock
        return
    with transaction(conn):
        before = _other_athlete(conn, athlete, configured)  # again, under the lock
        if before is None:
            return
        for statement in (*athletes.RENAME, athletes.RENAME_CANDIDATES):
            conn.execute(statement, (before, athlete))
    log.warning(
        "the athlete id changed from %s to %s: the store's rows of %s, who is not configured, "
        "now belong to %s (the store held no other athlete's)",
        before,
        athlete,
        before,
        athlete,
    )


def _other_athlete(
    conn: sqlite3.Connection, athlete: str, configured: Collection[str]
) -> str | None:
    """The one athlete whose rows are all the store's rows, if neither `athlete` nor one of
    the `configured`."""
    found = [str(x) for (x,) in conn.execute(athletes.ATHLETES)]
    if len(found) == 1 and found[0] != athlete and found[0] not in configured:
        return found[0]
    return None


def _upgrade(
    conn: sqlite3.Connection,
    found: int,
    tables: set[str],
    parsers: Parsers | None,
    athlete: str,
) -> None:
    """Bring schema `found` up to SCHEMA_VERSION in one transaction, re-deriving from raw; the
    rows of a store without athletes go to `athlete`."""
    with transaction(conn):
        activities = _raws(conn, tables, "activity", "rowid", athlete)
        shoes = _raws(conn, tables, "gear", "position", athlete)
        conn.execute("DROP TABLE IF EXISTS activity")
        conn.execute("DROP TABLE IF EXISTS gear")
        for index in _OLD_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {index}")
        copied = [table for table in _COPIED if table in tables]
        for table in copied:
            conn.execute(f"ALTER TABLE {table} RENAME TO {table}_before_{SCHEMA_VERSION}")
        for statement in _SCHEMA:
            conn.execute(statement)
        for table in copied:
            _copy(conn, table, athlete)
        if parsers is not None:  # None: a new, empty store (`prepare` refuses any other)
            for activity, raw, who in _reparse_all(conn, "activity", activities, parsers.activity):
                conn.execute(PUT_ACTIVITY, activity_row(activity, raw, who))
            positions: dict[str, int] = {}  # each athlete's shoes, in their order
            for gear, raw, who in _reparse_all(conn, "gear", shoes, parsers.gear):
                positions[who] = position = positions.get(who, -1) + 1
                conn.execute(PUT_GEAR, gear_row(gear, position, raw, who))
        sleep.settle(conn)
        _record_creation(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    if tables:
        log.info(
            "upgraded the store from schema %d to %d: its rows belong to athlete %s",
            found,
            SCHEMA_VERSION,
            athlete,
        )


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [str(column[1]) for column in conn.execute(f"PRAGMA table_info({table})")]


def _raws(
    conn: sqlite3.Connection, tables: set[str], table: str, order: str, athlete: str
) -> list[tuple[str, str]]:
    """The raw JSON of every row of `table` with its athlete (`athlete` for a table that has
    none yet), in `order`."""
    if table not in tables:
        return []
    owner, args = "?", [athlete]
    if "athlete" in _columns(conn, table):
        owner, args, order = "athlete", [], f"athlete, {order}"
    select = f"SELECT raw, {owner} FROM {table} ORDER BY {order}"  # noqa: S608 -- our names
    rows = conn.execute(select, args)
    return [(str(raw), str(who)) for raw, who in rows]


def _copy(conn: sqlite3.Connection, table: str, athlete: str) -> None:
    """Copy the renamed `table` into its new shape, in the order stored, and drop it: each row
    goes to `athlete` (`state`'s `SERVICE_KEYS` to the service), or keeps the athlete it has."""
    old = f"{table}_before_{SCHEMA_VERSION}"
    before = _columns(conn, old)
    kept = [c for c in _columns(conn, table) if c in before and c != "athlete"]
    owner, args = "?", [athlete]
    if "athlete" in before:
        owner, args = "athlete", []
    elif table == "state":
        marks = ", ".join("?" * len(SERVICE_KEYS))
        owner = f"CASE WHEN key IN ({marks}) THEN ? ELSE ? END"
        args = [*sorted(SERVICE_KEYS), SERVICE, athlete]
    names = ", ".join(kept)
    rows = f"SELECT {owner}, {names} FROM {old} ORDER BY rowid"  # noqa: S608 -- our names
    conn.execute(f"INSERT INTO {table} (athlete, {names}) {rows}", args)
    conn.execute(f"DROP TABLE {old}")


def _record_creation(conn: sqlite3.Connection) -> None:
    """Note now as the store's creation time, unless it has one (inside a transaction)."""
    conn.execute(
        "INSERT INTO state (athlete, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (SERVICE, CREATED_KEY, ts(datetime.now(UTC))),
    )


def _reparse_all(
    conn: sqlite3.Connection,
    kind: str,
    raws: list[tuple[str, str]],
    parse: Callable[[Mapping[str, object]], _T],
) -> list[tuple[_T, str, str]]:
    """Each raw JSON parsed again, with its athlete; those now refused go to `unparsed` with
    the reason."""
    out: list[tuple[_T, str, str]] = []
    for raw, athlete in raws:
        try:
            data = json.loads(raw)
            if not isinstance(data, Mapping):
                raise ValueError("not a JSON object")
            out.append((parse(data), raw, athlete))
        except ValueError as exc:  # json.JSONDecodeError and the parsers' errors
            conn.execute("INSERT INTO unparsed VALUES (?, ?, ?)", (kind, raw, str(exc)))
            log.warning("upgrade: kept an unparsable %s aside in `unparsed`: %s", kind, exc)
    return out
