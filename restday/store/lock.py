"""One service per store (DESIGN.md §7): the lock file `<store path>.lock`.

`restday run` takes it with `flock(LOCK_EX | LOCK_NB)` before it opens the store and keeps it
until it has closed the store; the kernel releases it when the process ends, even by SIGKILL,
so a lock file left behind means nothing by itself. A second `restday run` on the same store
finds it taken and stops (`StoreInUse`: "another restday is running (pid N) on PATH");
`restday check-config` asks `holder` without waiting. `import`, `strava sync` and `assign`
take no lock: they write beside the service through SQLite (WAL, busy timeout).

The file is two lines of text and is never deleted:

    <pid of the restday that holds or last held the lock>
    store created <creation time of the store that restday used last>

The second line is how the service remembers, beside the lock, which store it used last: a
store records its creation time (`Store.created_at`), and a start that finds another store at
the path says so at ERROR (`restday.daemon.service`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

from restday.store import errors
from restday.store.errors import StoreError

LOCK_SUFFIX = ".lock"
CREATED_PREFIX = "store created "
LOCK_PATIENCE_S = 0.5  # a lock held this briefly is `holder`'s probe, not another service
LOCK_RETRY_S = 0.05
LOCK_FILE_MODE = 0o644  # the pid is no secret; the umask may narrow it


def lock_path(store: Path) -> Path:
    """The lock file of the store at `store`: `<store path>.lock`."""
    return store.with_name(store.name + LOCK_SUFFIX)


class StoreInUse(StoreError):
    """Another restday holds the store's lock: one service per store."""

    def __init__(self, store: Path, pid: int | None) -> None:
        self.store = store
        self.pid = pid
        who = "pid unknown" if pid is None else f"pid {pid}"
        super().__init__(f"another restday is running ({who}) on {store}")


@dataclass(frozen=True, slots=True)
class LockFile:
    """What the lock file says: the pid, and the creation time of the store used last."""

    pid: int | None = None
    store_created: str | None = None

    @classmethod
    def parse(cls, text: str) -> LockFile:
        lines = text.splitlines()
        first = lines[0].strip() if lines else ""
        pid = int(first) if first.isdigit() else None
        created = next(
            (
                line[len(CREATED_PREFIX) :].strip()
                for line in lines
                if line.startswith(CREATED_PREFIX)
            ),
            None,
        )
        return cls(pid, created or None)

    def text(self) -> str:
        lines = [str(self.pid or "")]
        if self.store_created:
            lines.append(f"{CREATED_PREFIX}{self.store_created}")
        return "\n".join(lines) + "\n"


class StoreLock:
    """The lock on one store, held by this process; `release()` when the store is closed."""

    def __init__(self, store: Path, fd: int, found: LockFile) -> None:
        self.store = store
        self.path = lock_path(store)
        self._fd: int | None = fd
        self.remembered = found.store_created  # the store restday used last (None: unknown)
        self._write(LockFile(os.getpid(), found.store_created))

    @classmethod
    def acquire(cls, store: Path) -> StoreLock:
        """Take the lock of the store at `store` (creating its folder and the lock file).

        Raises `StoreInUse` when another restday holds it, `StoreError` (`StoreNotWritable`
        for a read-only file system or a folder restday may not write) when the lock file
        cannot be made or locked.
        """
        path = lock_path(store)
        while True:
            try:
                store.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, LOCK_FILE_MODE)
            except OSError as exc:
                raise errors.cannot_use(store, exc) from None
            try:
                _lock(fd, store)
                if _same_file(fd, path):
                    return cls(store, fd, _read(fd))
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # deleted (and made again) between our open and our lock: again

    def remember(self, store_created: str) -> None:
        """Note the creation time of the store this service uses (durably: fsync)."""
        self.remembered = store_created
        self._write(LockFile(os.getpid(), store_created))
        if self._fd is not None:
            with contextlib.suppress(OSError):  # a memory, not data: never fatal
                os.fsync(self._fd)

    def release(self) -> None:
        """Let go of the lock (closing the file does); the file stays, with its memory."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _write(self, content: LockFile) -> None:
        if self._fd is None:
            return
        data = content.text().encode()
        with contextlib.suppress(OSError):  # a full disk: the lock holds all the same
            os.pwrite(self._fd, data, 0)  # over the old text, then cut: never empty between
            os.ftruncate(self._fd, len(data))


def holder(store: Path) -> LockFile | None:
    """What the lock file of a running restday on `store` says; None when none runs.

    Raises `OSError` when the lock file exists but cannot be read (another user's, say).
    The probe holds a shared lock for an instant; a `restday run` starting just then waits
    `LOCK_PATIENCE_S` for it rather than failing.
    """
    try:
        fd = os.open(lock_path(store), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(fd)
        return None  # nobody holds it (closing the file lets go of the probe's lock)
    finally:
        os.close(fd)


def _lock(fd: int, store: Path) -> None:
    """flock(LOCK_EX | LOCK_NB), waiting `LOCK_PATIENCE_S` at most for a probe to let go."""
    deadline = time.monotonic() + LOCK_PATIENCE_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise StoreInUse(store, _read(fd).pid) from None
            time.sleep(LOCK_RETRY_S)
        except OSError as exc:  # a file system without locks (some network mounts)
            raise StoreError(
                f"cannot lock {lock_path(store)} (one service per store): {exc}"
            ) from None


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the file locked through `fd`."""
    try:
        found = os.stat(path)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (found.st_dev, found.st_ino) == (mine.st_dev, mine.st_ino)


def _read(fd: int) -> LockFile:
    try:
        data = os.pread(fd, 4096, 0)
    except OSError:
        return LockFile()
    return LockFile.parse(data.decode("utf-8", errors="replace"))
