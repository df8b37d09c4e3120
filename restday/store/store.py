"""The `Store`: an open restday store, its writes, reads and durability.

Each write call is one transaction, and `Store.batch()` groups several calls into one. The
store runs in WAL mode with `foreign_keys` on. One owner uses a store at a time (the daemon's
worker thread); it is not meant for concurrent use from several threads.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from datetime import datetime
from pathlib import Path
from types import TracebackType

from restday.models import Activity, BodyMeasurement, Gear, History, PainReport, SleepSession
from restday.store import errors, folders, identity, sleep
from restday.store.errors import StoreError
from restday.store.rows import (
    PUT_ACTIVITY,
    PUT_GEAR,
    StoreCounts,
    UpsertResult,
    activity_row,
    gear_row,
    read_history,
    ts,
    weight_key,
    write,
)
from restday.store.schema import CREATED_KEY, Parsers, prepare, transaction

BUSY_TIMEOUT_MS = 5_000  # wait this long for another writer's lock before failing
MAX_UNPARSED_KEPT = 1_000  # refused inputs kept aside per kind (the newest)
MAX_UNPARSED_CHARS = 65_536  # of each one's payload (and reason)

log = logging.getLogger("restday.store")  # the package's one logger, as before its split

_COUNTS = """SELECT (SELECT count(*) FROM activity), (SELECT count(*) FROM sleep),
    (SELECT count(*) FROM body), (SELECT count(*) FROM pain), (SELECT count(*) FROM gear)"""


class Store:
    """An open restday store; use `Store.open(path)` as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self._conn = conn
        self._path = path  # None: in memory
        self._unflushed = False  # a commit since the last `flush`
        self._data_version: int | None = None  # `changed_elsewhere`: as last seen
        # the file opened, to tell when the path names another one (or none): `check`
        self._opened = None if path is None else identity.FileIdentity.of(path)
        self._log_emptied = False  # `check` found it deleted or replaced, and emptied the log

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        read_only: bool = False,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        parsers: Parsers | None = None,
    ) -> Store:
        """Open (creating the folder and the file if needed) and upgrade an older schema.

        `read_only` reads a store that cannot be written (its folder is on a read-only file
        system, say): no upgrade, nothing created; for `restday status` and `history`.
        `parsers` parse the raw JSON of activities and gear again when a store written by an
        older restday is upgraded; without them such a store is refused (`StoreError`).
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
            raise errors.cannot_use(path, exc) from None
        try:
            prepare(
                conn,
                str(path),
                read_only=read_only,
                busy_timeout_ms=busy_timeout_ms,
                parsers=parsers,
            )
            if not read_only and folders.refusal(path.parent) == errno.EROFS:
                # SQLite opens it all the same when a write-ahead log was left behind, read
                # only, without a word: the first write would fail
                raise errors.read_only_folder(path)
        except sqlite3.Error as exc:
            conn.close()
            raise errors.cannot_use(path, exc) from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, path)

    @classmethod
    def open_memory(cls) -> Store:
        """A fresh store in memory (for tests and the demo)."""
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        prepare(conn, ":memory:", read_only=False, busy_timeout_ms=BUSY_TIMEOUT_MS, parsers=None)
        return cls(conn, None)

    def close(self) -> None:
        """Flush and close (closing also checkpoints the log into the file, with fsync)."""
        with suppress(StoreError):  # the close's checkpoint tries again; nothing else can
            self.flush()
        self._conn.close()

    def flush(self) -> None:
        """Make every commit so far durable: fsync the write-ahead log.

        Raises `StoreError` when the disk refuses (I/O error): what was committed may then be
        lost in a power cut, so the caller must not promise it kept (no acknowledgement); and
        when the store was deleted or replaced (`check`): what was committed went into a file
        that is no longer the store.
        """
        if self._path is None:
            return
        self.check()
        if not self._unflushed:
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
            raise errors.failure(self._path, "write", exc) from None
        self._unflushed = False

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def batch(self) -> AbstractContextManager[None]:
        """One transaction around every write inside (a batch inside a batch joins it).

        Raises `StoreError` when the file or the disk fails (full, read-only, I/O error,
        locked past the busy timeout, damaged): nothing of the batch is then stored.
        """
        if self._conn.in_transaction:  # joined: the outermost batch handles its failures
            return nullcontext()
        return self._outermost_batch()

    @contextmanager
    def _outermost_batch(self) -> Iterator[None]:
        self.check()  # a store deleted or replaced takes no more writes
        with self._failing("write"), transaction(self._conn):
            yield
        self._unflushed = True  # committed: durable once flushed

    def check(self) -> None:
        """Raise `StoreError`, naming the path, when the file at the store's path is no longer
        the one opened: deleted, or replaced by another (renamed over it, a backup restored).
        SQLite would go on writing into the old file, lost at close. Each outermost `batch`
        and each `flush` checks; the service also calls this on its minute tick. A file put
        back (the same one, renamed back) is the store again.

        The first time, the write-ahead log is checkpointed into the old file and emptied:
        SQLite leaves the log of a moved file behind at close (or a SIGKILL does), and the
        next open of the file now at the path would take the old store's pages for its own.
        """
        if self._path is None or self._opened is None:
            return
        change = identity.change(self._path, self._opened)
        if change is None:
            return
        if not self._log_emptied and not self._conn.in_transaction:
            with suppress(sqlite3.Error):
                busy, _, _ = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                self._log_emptied = busy == 0
        raise identity.vanished(self._path, change)

    def changed_elsewhere(self) -> bool:
        """Whether another connection committed to the store since the last call (`restday
        import` or `restday strava sync` beside the service; SQLite's `data_version`)."""
        with self._failing("read"):
            (version,) = self._conn.execute("PRAGMA data_version").fetchone()
        changed = self._data_version is not None and version != self._data_version
        self._data_version = int(version)
        return changed

    def created_at(self) -> str | None:
        """When the store was created (UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`); None for a store
        from an older restday opened read-only (an open for writing records it)."""
        return self.get_state(CREATED_KEY)

    @contextmanager
    def _failing(self, doing: str) -> Iterator[None]:
        """sqlite3's errors of the file or the disk raised as a `StoreError` naming the store."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if not errors.disk_failure(exc):
                raise
            full = exc.sqlite_errorname == "SQLITE_FULL"
            raise errors.failure(self._path, doing, exc, full=full) from None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """The writes inside are undone together if it raises, without ending the batch around
        it (SQLite's SAVEPOINT); outside a batch, it is one."""
        if not self._conn.in_transaction:
            with self.batch():
                yield
            return
        with self._failing("write"):
            self._conn.execute("SAVEPOINT one")
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:  # SQLite may have rolled the whole batch back
                with self._failing("write"):
                    self._conn.execute("ROLLBACK TO one")
                    self._conn.execute("RELEASE one")
            raise
        with self._failing("write"):
            self._conn.execute("RELEASE one")

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
                write(
                    self._conn, PUT_ACTIVITY, activity_row(activity, raw), f"activity {activity.id}"
                )
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
        values = sleep.row(session, raw, received_at)
        start, end = sleep.sleep_span(session)
        with self.batch():
            replaced = sleep.add(self._conn, values, (start, end))
        if replaced:
            log.info(
                "sleep %s–%s (%.2f h, %s) replaced the overlapping %s",
                ts(start),
                ts(end),
                session.hours,
                session.source,
                ", ".join(f"{ts(a)}–{ts(b)}" for a, b in replaced),
            )
        return replaced is not None

    def add_body(self, m: BodyMeasurement, raw: str, received_at: datetime) -> bool:
        """Store a weigh-in; False if one at the same time with the same weight (0.01 kg)."""
        return self._add(
            "INSERT INTO body VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                ts(m.time),
                weight_key(m.weight_kg),
                m.weight_kg,
                m.water_pct,
                m.source,
                ts(received_at),
                raw,
            ),
            "weigh-in",
        )

    def add_pain(self, p: PainReport, raw: str, received_at: datetime) -> bool:
        """Store a pain report; False if the same level at the same time is stored."""
        return self._add(
            "INSERT INTO pain VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (ts(p.time), p.level, ts(received_at), raw),
            "pain report",
        )

    def replace_gear(self, items: Sequence[tuple[Gear, str]]) -> None:
        """Replace the athlete's shoes as a whole (Strava's list is the truth)."""
        with self.batch():
            self._conn.execute("DELETE FROM gear")
            for position, (gear, raw) in enumerate(items):
                write(self._conn, PUT_GEAR, gear_row(gear, position, raw), f"shoe {gear.id}")

    def _add(self, sql: str, row: tuple[object, ...], what: str) -> bool:
        with self.batch():
            return write(self._conn, sql, row, what) == 1

    # --- the service's own records ----------------------------------------------------------

    def add_unparsed(self, kind: str, raw: str, reason: str) -> None:
        """Keep an input restday refused (or failed on) aside, with the reason. Only the newest
        are kept (at most `MAX_UNPARSED_KEPT` of a kind, each cut to `MAX_UNPARSED_CHARS`):
        a device flooding a topic with unusable payloads fills no SD card."""
        if len(raw) > MAX_UNPARSED_CHARS:
            raw = f"{raw[:MAX_UNPARSED_CHARS]}… ({len(raw)} characters, cut)"
        with self.batch():
            cursor = self._conn.execute(
                "INSERT INTO unparsed VALUES (?, ?, ?)", (kind, raw, reason[:MAX_UNPARSED_CHARS])
            )
            newest = cursor.lastrowid or 0
            self._conn.execute(
                "DELETE FROM unparsed WHERE kind = ? AND rowid <= ?",
                (kind, newest - MAX_UNPARSED_KEPT),
            )

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
        return self._add(
            "INSERT INTO sent VALUES (?, ?) ON CONFLICT DO NOTHING", (key, ts(at)), "notification"
        )

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
            return read_history(self._conn, "" if since is None else ts(since))

    def counts(self) -> StoreCounts:
        """How many of each input are stored."""
        with self._failing("read"):
            row = self._conn.execute(_COUNTS).fetchone()
        return StoreCounts(*row)


def _read_only_uri(path: Path) -> str:
    """An SQLite URI that reads `path` and writes nothing. On a read-only file system with no
    write-ahead log (the store was closed cleanly) it is `immutable`: SQLite then needs no
    `-shm` file, which the folder cannot hold, and nothing can change the store meanwhile."""
    uri = f"{path.absolute().as_uri()}?mode=ro"
    if path.with_name(path.name + "-wal").exists() or folders.refusal(path.parent) != errno.EROFS:
        return uri
    return f"{uri}&immutable=1"
