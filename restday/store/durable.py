"""An open store file: opening it (creating, upgrading, adopting), its transactions, its
durability and its identity; `Store` (store.py) adds the reads and writes.

Each write call is one transaction, and `batch()` groups several calls into one. The store
runs in WAL mode with `foreign_keys` on. One owner uses a store at a time (the daemon's worker
thread); it is not meant for concurrent use from several threads.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from types import TracebackType
from typing import Self

from restday.store import athletes, errors, folders, identity
from restday.store.athletes import DEFAULT_ATHLETE
from restday.store.errors import StoreError
from restday.store.schema import Parsers, adopt, prepare, transaction

BUSY_TIMEOUT_MS = 5_000  # wait this long for another writer's lock before failing


class DurableStore:
    """An open store: its connection, transactions and durability, for one athlete (`athlete`:
    whose rows `Store`'s per-athlete methods read and write unless told another)."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None, athlete: str) -> None:
        self._conn = conn
        self.athlete = athletes.checked(athlete)  # whose rows, unless a method is told another
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
        athlete: str = DEFAULT_ATHLETE,
        adopt_single: bool = False,
        configured: Collection[str] = (),
    ) -> Self:
        """Open (creating the folder and the file if needed) and upgrade an older schema.

        `read_only` reads a store that cannot be written (its folder is on a read-only file
        system, say): no upgrade, nothing created; for `restday status` and `history`.
        `parsers` parse the raw JSON of activities and gear again when a store written by an
        older restday is upgraded; without them such a store is refused (`StoreError`).
        `athlete`: whose rows the per-athlete methods read and write when not told another;
        the rows of a store from before athletes (schema 4 or older) become theirs: give the
        first configured athlete. `adopt_single`: when every row belongs to one other athlete,
        not among the `configured` ids, they become `athlete`'s (a single runner's `id`
        changed in the config, or their store became a household's; logged); not on a
        read-only open.
        """
        athletes.checked(athlete)
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
                athlete=athlete,
            )
            if not read_only and folders.refusal(path.parent) == errno.EROFS:
                # SQLite opens it all the same when a write-ahead log was left behind, read
                # only, without a word: the first write would fail
                raise errors.read_only_folder(path)
            if adopt_single and not read_only:
                adopt(conn, athlete, configured)
        except sqlite3.Error as exc:
            conn.close()
            raise errors.cannot_use(path, exc) from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, athlete)

    @classmethod
    def open_memory(cls, *, athlete: str = DEFAULT_ATHLETE) -> Self:
        """A fresh store in memory, for `athlete` (for tests and the demo)."""
        athletes.checked(athlete)
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        prepare(
            conn,
            ":memory:",
            read_only=False,
            busy_timeout_ms=BUSY_TIMEOUT_MS,
            parsers=None,
            athlete=athlete,
        )
        return cls(conn, None, athlete)

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

    def __enter__(self) -> Self:
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


def _read_only_uri(path: Path) -> str:
    """An SQLite URI that reads `path` and writes nothing. On a read-only file system with no
    write-ahead log (the store was closed cleanly) it is `immutable`: SQLite then needs no
    `-shm` file, which the folder cannot hold, and nothing can change the store meanwhile."""
    uri = f"{path.absolute().as_uri()}?mode=ro"
    if path.with_name(path.name + "-wal").exists() or folders.refusal(path.parent) != errno.EROFS:
        return uri
    return f"{uri}&immutable=1"
