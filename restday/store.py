"""The SQLite store: restday's only SQL.

Every input is kept twice: its raw JSON (the truth, exactly as received) and the columns the
rules read (derived from it). The schema version lives in `PRAGMA user_version`. Opening a
store written by an older restday re-derives the derived tables from the raw JSON, without
any API call:
- activities and gear are dropped, recreated and re-parsed with `integrations.strava_json`;
- sleep, weigh-ins and pain keep their columns as stored: their raw payload and `source`
  (the preset name) are kept so that a later, preset-aware migration can re-derive them;
- sleep sessions follow DESIGN.md §7 "Overlapping nights" whatever restday stored them: those
  that overlap in time are one, the one received last (`received_at`, then the order stored)
  replaces the others, which move to `sleep_replaced` (never read back into `sleep`); those
  under `MIN_SLEEP_SESSION_MIN` move to `unparsed`. A migration that re-derives `sleep` from
  its raw JSON must apply the same rule, in the same arrival order;
- raw JSON that the current parsers refuse moves to the `unparsed` table with the reason,
  so nothing is lost.

Times are stored as fixed-format UTC text, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, which sorts as it
reads. The store runs in WAL mode with `foreign_keys` on; each write call is one transaction,
and `Store.batch()` groups several calls into one. One owner uses a store at a time (the
daemon's worker thread); it is not meant for concurrent use from several threads.
"""

from __future__ import annotations

import bisect
import errno
import json
import logging
import math
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from restday import folders
from restday.integrations.devices import MIN_SLEEP_SESSION_MIN
from restday.integrations.strava_json import parse_activity, parse_shoe
from restday.models import (
    Activity,
    BodyMeasurement,
    Gear,
    History,
    Hours,
    PainReport,
    SleepSession,
)

# 2: counters, sent notifications and service state for the daemon; 3: activity.workout_type;
# 4: overlapping sleep sessions are one (the last received wins), `sleep_replaced`
SCHEMA_VERSION = 4
BUSY_TIMEOUT_MS = 5_000  # wait this long for another writer's lock before failing
# Commits are written to the write-ahead log without waiting for the disk; `Store.flush`
# makes them durable (fsync of the log, what synchronous=FULL does inside every COMMIT). The
# service flushes after publishing what an input changed and before acknowledging it to the
# broker: as durable as FULL, without the disk's latency in front of the new state.
SYNCHRONOUS = "NORMAL"
WEIGHT_KEY_PER_KG = 100  # weigh-ins are duplicates when equal to 0.01 kg at the same time

log = logging.getLogger(__name__)
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
_GET_ACTIVITIES = """SELECT id, name, sport_type, start_at, distance_m, moving_time_s,
    elapsed_time_s, average_heartrate, max_heartrate, suffer_score, cadence_spm, gear_id,
    workout_type FROM activity WHERE start_at >= ? ORDER BY start_at, id"""
_GET_SLEEPS = """SELECT end_at, hours, start_at, hrv_ms, resting_hr, source FROM sleep
    WHERE end_at >= ? ORDER BY end_at"""
_GET_BODY = """SELECT measured_at, weight_kg, water_pct, source FROM body
    WHERE measured_at >= ? ORDER BY measured_at, weight_key"""
_GET_PAINS = (
    "SELECT reported_at, level FROM pain WHERE reported_at >= ? ORDER BY reported_at, level"
)
_GET_GEAR = "SELECT id, name, distance_m, is_primary, retired FROM gear ORDER BY position"
_PUT_SLEEP = """INSERT INTO sleep (end_at, start_at, hours, hrv_ms, resting_hr, source,
    received_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"""
# The same session received before, stored or replaced: a re-send or a retained replay
_SLEEP_SEEN = """SELECT 1 FROM sleep WHERE end_at = ?1 AND start_at IS ?2 AND hours = ?3
        AND hrv_ms IS ?4 AND resting_hr IS ?5 AND source = ?6
    UNION ALL SELECT 1 FROM sleep_replaced WHERE end_at = ?1 AND start_at IS ?2 AND hours = ?3
        AND hrv_ms IS ?4 AND resting_hr IS ?5 AND source = ?6 LIMIT 1"""
# Stored sessions that may overlap [?1, ?2): those without a start are checked in Python
_SLEEP_NEAR = """SELECT rowid, end_at, start_at, hours FROM sleep
    WHERE end_at > ?1 AND (start_at IS NULL OR start_at < ?2)"""
_REPLACE_SLEEP = """INSERT INTO sleep_replaced (end_at, start_at, hours, hrv_ms, resting_hr,
    source, received_at, raw) SELECT end_at, start_at, hours, hrv_ms, resting_hr, source,
    received_at, raw FROM sleep WHERE rowid = ?"""
_COUNTS = """SELECT (SELECT count(*) FROM activity), (SELECT count(*) FROM sleep),
    (SELECT count(*) FROM body), (SELECT count(*) FROM pain), (SELECT count(*) FROM gear)"""
_PUT_ACTIVITY = "INSERT OR REPLACE INTO activity VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_PUT_GEAR = "INSERT INTO gear VALUES (?, ?, ?, ?, ?, ?, ?)"
_TABLES = frozenset(
    {"activity", "gear", "sleep", "sleep_replaced", "body", "pain", "unparsed", "counter",
     "sent", "state"}
)  # fmt: skip


class StoreError(Exception):
    """The store cannot be used (not a database, written by a newer restday, unreadable) or
    cannot be written now (disk full, read-only file system, I/O error, locked too long)."""


class StoreNotWritable(StoreError):
    """The store cannot be opened for writing because its file system is read-only or restday
    may not write there; `Store.open(path, read_only=True)` may still read it."""


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


class Store:
    """An open restday store; use `Store.open(path)` as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self._conn = conn
        self._path = path  # None: in memory
        self._where = ":memory:" if path is None else str(path)
        self._unflushed = False  # a commit since the last `flush`

    @classmethod
    def open(
        cls, path: Path, *, read_only: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> Store:
        """Open (creating the folder and the file if needed) and upgrade an older schema.

        `read_only` reads a store that cannot be written (its folder is on a read-only file
        system, say): no upgrade, nothing created; for `restday status` and `history`.
        """
        try:
            if read_only:
                conn = sqlite3.connect(
                    _read_only_uri(path), uri=True, isolation_level=None, check_same_thread=False
                )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise _cannot_use(path, exc) from None
        try:
            _prepare(conn, str(path), read_only=read_only, busy_timeout_ms=busy_timeout_ms)
            if not read_only and folders.refusal(path.parent) == errno.EROFS:
                # SQLite opens it all the same when a write-ahead log was left behind, read
                # only, without a word: the first write would fail
                raise StoreNotWritable(f"cannot use the store {path} (storage.path): "
                                       f"{folders.read_only(path.parent)}")  # fmt: skip
        except sqlite3.Error as exc:
            conn.close()
            raise _cannot_use(path, exc) from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    @classmethod
    def open_memory(cls) -> Store:
        """A fresh store in memory (for tests and the demo)."""
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        _prepare(conn, ":memory:", read_only=False, busy_timeout_ms=BUSY_TIMEOUT_MS)
        return cls(conn, None)

    def close(self) -> None:
        """Flush and close (closing also checkpoints the log into the file, with fsync)."""
        with suppress(StoreError):  # the close's checkpoint tries again; nothing else can
            self.flush()
        self._conn.close()

    def flush(self) -> None:
        """Make every commit so far durable: fsync the write-ahead log.

        Raises `StoreError` when the disk refuses (I/O error): what was committed may then be
        lost in a power cut, so the caller must not promise it kept (no acknowledgement).
        """
        if not self._unflushed or self._path is None:
            return
        log_file = self._path.with_name(self._path.name + "-wal")
        try:
            fd = os.open(log_file, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except FileNotFoundError:  # checkpointed and removed: in the file, synced by SQLite
            pass
        except OSError as exc:
            raise self._failure("write", exc) from None
        self._unflushed = False

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction around every write inside (a batch inside a batch joins it).

        Raises `StoreError` when the file or the disk fails (full, read-only, I/O error,
        locked past the busy timeout, damaged): nothing of the batch is then stored.
        """
        outermost = not self._conn.in_transaction
        with self._failing("write"), _transaction(self._conn):
            yield
        if outermost:
            self._unflushed = True  # committed: durable once flushed

    @contextmanager
    def _failing(self, doing: str) -> Iterator[None]:
        """sqlite3's errors of the file or the disk raised as a `StoreError` naming the store."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if not _disk_failure(exc):
                raise
            raise self._failure(doing, exc, full=exc.sqlite_errorname == "SQLITE_FULL") from None

    def _failure(self, doing: str, exc: Exception, *, full: bool = False) -> StoreError:
        """The file or the disk failed: the error names the store, the cause when it is known
        (read-only file system, permissions, a full disk) and what to do about it."""
        why = None if self._path is None else folders.why_unwritable(self._path)
        if why is None and full and self._path is not None:
            why = f"the disk holding {self._path.parent} is full: free some space"
        advice = why or "check the free space and that the file system is writable"
        return StoreError(f"cannot {doing} the store {self._where}: {exc} ({advice})")

    # --- writes -----------------------------------------------------------------------------

    def upsert_activities(self, items: Iterable[tuple[Activity, str]]) -> UpsertResult:
        """Store activities with their raw JSON, in one transaction, counting what changed."""
        added = updated = unchanged = 0
        new: list[int] = []
        with self.batch():
            for activity, raw in items:
                row = self._conn.execute(
                    "SELECT raw FROM activity WHERE id = ?", (activity.id,)
                ).fetchone()
                if row is not None and row[0] == raw:
                    unchanged += 1
                    continue
                self._write(_PUT_ACTIVITY, _activity_row(activity, raw), f"activity {activity.id}")
                added, updated = (added + 1, updated) if row is None else (added, updated + 1)
                if row is None:
                    new.append(activity.id)
        return UpsertResult(added=added, updated=updated, unchanged=unchanged, added_ids=tuple(new))

    def add_sleep(self, session: SleepSession, raw: str, received_at: datetime) -> bool:
        """Store a session of sleep in place of every stored one that overlaps it in time
        (`sleeps_overlap`: the one received last wins, HRV and resting HR included); those it
        replaces move to `sleep_replaced`, raw JSON and all. False, and nothing changed, if
        the same session (end, start, hours, HRV, resting HR, source) was received before,
        stored or since replaced: a re-send or a retained replay. A session under
        `MIN_SLEEP_SESSION_MIN` is a `ValueError` (the parsers reject it first).
        """
        row = (_ts(session.end), None if session.start is None else _ts(session.start),
               session.hours, session.hrv_ms, session.resting_hr, session.source,
               _ts(received_at), raw)  # fmt: skip
        if not session.hours * 60 >= MIN_SLEEP_SESSION_MIN:  # NaN too
            raise ValueError(
                f"cannot store sleep of {session.hours} h: under {MIN_SLEEP_SESSION_MIN} min"
            )
        start, end = sleep_span(session)
        with self.batch():
            q = self._conn.execute
            if q(_SLEEP_SEEN, row[:6]).fetchone() is not None:
                return False
            if not q("SELECT json_valid(?)", (raw,)).fetchone()[0]:  # before replacing any
                raise ValueError("cannot store sleep: its raw text is not JSON")
            near = q(_SLEEP_NEAR, (_ts(start), _ts(end))).fetchall()
            spans = [(rowid, _stored_span(end_at, st, h)) for rowid, end_at, st, h in near]
            replaced = [(rowid, span) for rowid, span in spans if span[0] < end]
            for rowid, _ in replaced:
                q(_REPLACE_SLEEP, (rowid,))
                q("DELETE FROM sleep WHERE rowid = ?", (rowid,))
            self._write(_PUT_SLEEP, row, "sleep")
        if replaced:
            log.info(
                "sleep %s–%s (%.2f h, %s) replaced the overlapping %s",
                _ts(start), _ts(end), session.hours, session.source,
                ", ".join(f"{_ts(a)}–{_ts(b)}" for _, (a, b) in replaced),
            )  # fmt: skip
        return True

    def add_body(self, m: BodyMeasurement, raw: str, received_at: datetime) -> bool:
        """Store a weigh-in; False if one at the same time with the same weight (0.01 kg)."""
        return self._add(
            "INSERT INTO body VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (_ts(m.time), _weight_key(m.weight_kg), m.weight_kg, m.water_pct,
             m.source, _ts(received_at), raw),
            "weigh-in",
        )  # fmt: skip

    def add_pain(self, p: PainReport, raw: str, received_at: datetime) -> bool:
        """Store a pain report; False if the same level at the same time is stored."""
        return self._add(
            "INSERT INTO pain VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (_ts(p.time), p.level, _ts(received_at), raw),
            "pain report",
        )

    def replace_gear(self, items: Sequence[tuple[Gear, str]]) -> None:
        """Replace the athlete's shoes as a whole (Strava's list is the truth)."""
        with self.batch():
            self._conn.execute("DELETE FROM gear")
            for position, (gear, raw) in enumerate(items):
                self._write(_PUT_GEAR, _gear_row(gear, position, raw), f"shoe {gear.id}")

    def _add(self, sql: str, row: tuple[object, ...], what: str) -> bool:
        with self.batch():
            return self._write(sql, row, what) == 1

    def _write(self, sql: str, row: Sequence[object], what: str) -> int:
        try:
            return self._conn.execute(sql, row).rowcount
        except sqlite3.IntegrityError as exc:  # raw not JSON, NaN (stored as NULL), dup id
            raise ValueError(f"cannot store {what}: {exc}") from None

    # --- the service's own records ----------------------------------------------------------

    def bump(self, kind: str, name: str, by: int = 1) -> None:
        """Add to a counter (e.g. kind "scale", name "rejected"); counters survive restarts."""
        with self.batch():
            self._conn.execute(
                "INSERT INTO counter VALUES (?, ?, ?) "
                "ON CONFLICT (kind, name) DO UPDATE SET n = n + excluded.n",
                (kind, name, by),
            )

    def counters(self) -> dict[str, dict[str, int]]:
        """Every counter, by kind then name."""
        out: dict[str, dict[str, int]] = {}
        with self._failing("read"):
            for kind, name, n in self._conn.execute("SELECT kind, name, n FROM counter"):
                out.setdefault(kind, {})[name] = n
        return out

    def mark_sent(self, key: str, at: datetime) -> bool:
        """Record that the notification `key` went out; False if it had already."""
        return self._add("INSERT INTO sent VALUES (?, ?) ON CONFLICT DO NOTHING",
                         (key, _ts(at)), "notification")  # fmt: skip

    def was_sent(self, key: str) -> bool:
        with self._failing("read"):
            row = self._conn.execute("SELECT 1 FROM sent WHERE key = ?", (key,)).fetchone()
        return row is not None

    def get_state(self, key: str) -> str | None:
        """A small piece of the service's state (a tracker's night in progress, …)."""
        with self._failing("read"):
            row = self._conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, key: str, value: str) -> None:
        with self.batch():
            self._conn.execute(
                "INSERT INTO state VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # --- reads ------------------------------------------------------------------------------

    def history(self, since: datetime | None = None) -> History:
        """Everything stored, time-sorted; `since` keeps inputs at/after it (gear: all)."""
        with self._failing("read"):
            return self._history("" if since is None else _ts(since))

    def _history(self, after: str) -> History:
        q = self._conn.execute
        activities, sleeps = q(_GET_ACTIVITIES, (after,)), q(_GET_SLEEPS, (after,))
        body, pains, gear = q(_GET_BODY, (after,)), q(_GET_PAINS, (after,)), q(_GET_GEAR)
        t = datetime.fromisoformat
        return History(
            activities=tuple(
                [Activity(i, n, s, t(at), d, m, e, ah, mh, ss, c, g, w)
                 for i, n, s, at, d, m, e, ah, mh, ss, c, g, w in activities]
            ),
            sleeps=tuple(
                [SleepSession(t(end), h, None if st is None else t(st), hrv, rhr, src)
                 for end, h, st, hrv, rhr, src in sleeps]
            ),
            body=tuple([BodyMeasurement(t(at), kg, w, src) for at, kg, w, src in body]),
            pains=tuple([PainReport(t(at), level) for at, level in pains]),
            gear=tuple([Gear(i, n, d, bool(p), bool(r)) for i, n, d, p, r in gear]),
        )  # fmt: skip

    def counts(self) -> StoreCounts:
        """How many of each input are stored."""
        with self._failing("read"):
            row = self._conn.execute(_COUNTS).fetchone()
        return StoreCounts(*row)

    def newest_activity_start(self) -> datetime | None:
        """The start of the newest stored activity (where a Strava sync resumes), if any."""
        with self._failing("read"):
            (newest,) = self._conn.execute("SELECT max(start_at) FROM activity").fetchone()
        return None if newest is None else datetime.fromisoformat(newest)


def _prepare(
    conn: sqlite3.Connection, where: str, *, read_only: bool, busy_timeout_ms: int
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
    conn.execute("PRAGMA journal_mode = WAL").fetchone()
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    if version < SCHEMA_VERSION:
        _upgrade(conn, version, tables)


def _read_only_uri(path: Path) -> str:
    """An SQLite URI that reads `path` and writes nothing. On a read-only file system with no
    write-ahead log (the store was closed cleanly) it is `immutable`: SQLite then needs no
    `-shm` file, which the folder cannot hold, and nothing can change the store meanwhile."""
    uri = f"{path.absolute().as_uri()}?mode=ro"
    if path.with_name(path.name + "-wal").exists() or folders.refusal(path.parent) != errno.EROFS:
        return uri
    return f"{uri}&immutable=1"


def _cannot_use(path: Path, exc: Exception) -> StoreError:
    """Why `Store.open` failed: the file system or the permissions when they are the cause."""
    why = folders.why_unwritable(path)
    if why is None:
        return StoreError(f"cannot use the store {path}: {exc}")
    return StoreNotWritable(f"cannot use the store {path} (storage.path): {why}")


def _upgrade(conn: sqlite3.Connection, found: int, tables: set[str]) -> None:
    """Bring schema `found` up to SCHEMA_VERSION in one transaction, re-deriving from raw."""
    with _transaction(conn):
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
        for activity, raw in _reparse_all(conn, "activity", activities, parse_activity):
            conn.execute(_PUT_ACTIVITY, _activity_row(activity, raw))
        for position, (gear, raw) in enumerate(_reparse_all(conn, "gear", shoes, parse_shoe)):
            conn.execute(_PUT_GEAR, _gear_row(gear, position, raw))
        _settle_sleeps(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    if tables:
        log.info("upgraded the store from schema %d to %d", found, SCHEMA_VERSION)


def sleep_span(session: SleepSession) -> tuple[datetime, datetime]:
    """The time a session covers, [start, end): without a start, `hours` before its end."""
    start = session.start
    return (session.end - timedelta(hours=session.hours) if start is None else start), session.end


def sleeps_overlap(a: SleepSession, b: SleepSession) -> bool:
    """Whether two sessions share any time (touching ends do not): then they are one session,
    and the store keeps the one received last (DESIGN.md §7 "Overlapping nights")."""
    (a_start, a_end), (b_start, b_end) = sleep_span(a), sleep_span(b)
    return a_start < b_end and b_start < a_end


def _stored_span(end_at: str, start_at: str | None, hours: float) -> tuple[datetime, datetime]:
    start = None if start_at is None else datetime.fromisoformat(start_at)
    return sleep_span(SleepSession(datetime.fromisoformat(end_at), Hours(hours), start))


def _settle_sleeps(conn: sqlite3.Connection) -> None:
    """Apply DESIGN.md §7 "Overlapping nights" to the stored sessions, in arrival order: the
    sessions of a store written before the rule overlap as they came. Idempotent."""
    rows = conn.execute(
        "SELECT rowid, end_at, start_at, hours FROM sleep ORDER BY received_at, rowid"
    ).fetchall()
    kept: list[tuple[datetime, datetime, int]] = []  # start, end, rowid: disjoint, in order
    replaced: list[int] = []
    short = 0
    for rowid, end_at, start_at, hours in rows:
        if not hours * 60 >= MIN_SLEEP_SESSION_MIN:
            minutes = round(hours * 60, 1)
            reason = f"sleep of {minutes:g} min is under the {MIN_SLEEP_SESSION_MIN} min minimum"
            conn.execute(
                "INSERT INTO unparsed SELECT 'sleep', raw, ? FROM sleep WHERE rowid = ?",
                (reason, rowid),
            )
            conn.execute("DELETE FROM sleep WHERE rowid = ?", (rowid,))
            short += 1
            continue
        start, end = _stored_span(end_at, start_at, hours)
        first = bisect.bisect_right(kept, start, key=lambda k: k[1])  # the first ending after
        last = first
        while last < len(kept) and kept[last][0] < end:
            last += 1
        replaced += [r for _, _, r in kept[first:last]]
        kept[first:last] = [(start, end, rowid)]
    for rowid in replaced:
        conn.execute(_REPLACE_SLEEP, (rowid,))
        conn.execute("DELETE FROM sleep WHERE rowid = ?", (rowid,))
    if replaced or short:
        log.info(
            "upgrade: %d overlapping sleep sessions replaced by the one received last (kept "
            "in `sleep_replaced`), %d under %d min kept aside in `unparsed`",
            len(replaced), short, MIN_SLEEP_SESSION_MIN,
        )  # fmt: skip


def _disk_failure(exc: sqlite3.DatabaseError) -> bool:
    """A failure of the file or the disk (full, read-only, I/O, busy, corrupt), not a bug in
    restday's SQL (those raise IntegrityError, ProgrammingError… and stay what they are)."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
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


def _activity_row(a: Activity, raw: str) -> tuple[object, ...]:
    return (
        a.id, a.name, a.sport_type, _ts(a.start), a.distance_m, a.moving_time_s,
        a.elapsed_time_s, a.average_heartrate, a.max_heartrate, a.suffer_score, a.cadence_spm,
        a.gear_id, a.workout_type, raw,
    )  # fmt: skip


def _gear_row(g: Gear, position: int, raw: str) -> tuple[object, ...]:
    return (g.id, position, g.name, g.distance_m, g.primary, g.retired, raw)


def _weight_key(kg: float) -> int:
    """The weight in 0.01 kg steps: two weigh-ins at one time that agree on it are one."""
    if not math.isfinite(kg):
        raise ValueError(f"cannot store a weigh-in of {kg} kg")
    return round(kg * WEIGHT_KEY_PER_KG)


def _ts(when: datetime) -> str:
    """A fixed-format, sortable UTC text for an aware datetime."""
    if when.utcoffset() is None:
        raise ValueError(f"a time without a zone cannot be stored: {when.isoformat()}")
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
