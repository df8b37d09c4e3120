"""Whether the store's path still names the file restday opened (DESIGN.md §7, "A store that
vanishes or is replaced").

SQLite keeps reading and writing a file that was deleted (unlinked) or renamed over while it
is open, without a word: what it then stores is lost when it closes, and the next start
begins on whatever is at the path. `Store` takes the file's identity (`st_dev`, `st_ino`)
when it opens and compares it with the path's before each write transaction and each flush
(`Store.check`).

Only the path is stat'ed, never opened: opening the store a second time and closing that
descriptor would end every POSIX lock the process holds on the file, SQLite's included.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from restday.store.errors import StoreError


class Change(Enum):
    """What happened to the file at the store's path since restday opened it."""

    DELETED = "deleted"  # nothing at the path (or its folder is gone)
    REPLACED = "replaced"  # another file at the path (renamed over it, a backup copied back)


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """Which file: its device and inode (a new file at the same path has another)."""

    device: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileIdentity | None:
        """The identity of the file at `path`; None if there is none (or it cannot be told)."""
        try:
            found = os.stat(path)
        except OSError:
            return None
        return cls(found.st_dev, found.st_ino)


def change(path: Path, opened: FileIdentity) -> Change | None:
    """What became of the file opened as `opened`: None while `path` still names it.

    A path that cannot be stat'ed for another reason (a folder it may no longer search, an
    I/O error) is not called a change: the writes themselves report those failures.
    """
    try:
        found = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return Change.DELETED
    except OSError:
        return None
    if (found.st_dev, found.st_ino) != (opened.device, opened.inode):
        return Change.REPLACED
    return None


def vanished(path: Path, what: Change) -> StoreError:
    """The store problem that a deleted or replaced store is, naming the path and what to do."""
    if what is Change.DELETED:
        how, until = "deleted", "it is put back, or restday is restarted (on a new, empty store)"
    else:
        how, until = (
            "replaced by another file",
            "the old file is put back, or restday is restarted (on the file now there)",
        )
    return StoreError(
        f"the store {path} was {how} while restday was running: nothing more is stored "
        f"until {until}; stop restday before moving or restoring its store"
    )
