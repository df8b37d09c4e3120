"""What the store's failures mean: its two errors, and sentences that name the store, the
cause when it is known (a read-only file system, permissions, a full disk) and what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from restday.store import folders


class StoreError(Exception):
    """The store cannot be used (not a database, written by a newer restday, unreadable) or
    cannot be written now (disk full, read-only file system, I/O error, locked too long)."""


class StoreNotWritable(StoreError):
    """The store cannot be opened for writing because its file system is read-only or restday
    may not write there; `Store.open(path, read_only=True)` may still read it."""


def cannot_use(path: Path, exc: Exception) -> StoreError:
    """Why `Store.open` failed: the file system or the permissions when they are the cause."""
    why = folders.why_unwritable(path)
    if why is None:
        return StoreError(f"cannot use the store {path}: {exc}")
    return StoreNotWritable(f"cannot use the store {path} (storage.path): {why}")


def read_only_folder(path: Path) -> StoreNotWritable:
    """The store's folder is on a read-only file system (SQLite opened it all the same)."""
    return StoreNotWritable(
        f"cannot use the store {path} (storage.path): {folders.read_only(path.parent)}"
    )


def failure(path: Path | None, doing: str, exc: Exception, *, full: bool = False) -> StoreError:
    """The file or the disk failed while `doing` ("read", "write") the store at `path` (None:
    in memory)."""
    why = None if path is None else folders.why_unwritable(path)
    if why is None and full and path is not None:
        why = f"the disk holding {path.parent} is full: free some space"
    advice = why or "check the free space and that the file system is writable"
    where = ":memory:" if path is None else str(path)
    return StoreError(f"cannot {doing} the store {where}: {exc} ({advice})")


def disk_failure(exc: sqlite3.DatabaseError) -> bool:
    """A failure of the file or the disk (full, read-only, I/O, busy, corrupt), not a bug in
    restday's SQL (those raise IntegrityError, ProgrammingError… and stay what they are)."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError
