"""One service per store: the lock file beside the store (DESIGN.md §7, `restday/store/lock.py`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from restday.store import LockFile, StoreError, StoreInUse, StoreLock, holder, lock_path

# Another process that takes the lock, says so, and waits to be killed.
HOLDER = """
import sys, time
from pathlib import Path
from restday.store import StoreLock
lock = StoreLock.acquire(Path(sys.argv[1]))
print("locked", flush=True)
time.sleep(120)
"""


def other_process_holding(store: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    return process


def test_the_lock_file_holds_the_pid_and_a_second_lock_is_refused_naming_pid_and_path(
    tmp_path: Path,
) -> None:
    store = tmp_path / "data" / "restday.db"  # its folder is made
    lock = StoreLock.acquire(store)
    try:
        assert lock.path == lock_path(store) == tmp_path / "data" / "restday.db.lock"
        assert lock.path.read_text() == f"{os.getpid()}\n"
        assert lock.remembered is None
        with pytest.raises(StoreInUse) as caught:
            StoreLock.acquire(store)  # another open file: refused like another process
        assert str(caught.value) == f"another restday is running (pid {os.getpid()}) on {store}"
        assert isinstance(caught.value, StoreError)  # the CLI's runtime failure: exit 1
        assert holder(store) == LockFile(pid=os.getpid())
    finally:
        lock.release()
    assert holder(store) is None
    StoreLock.acquire(store).release()  # free again
    assert lock.path.exists()  # kept: it remembers the store used last


def test_no_lock_file_means_nobody_runs(tmp_path: Path) -> None:
    assert holder(tmp_path / "restday.db") is None
    assert not lock_path(tmp_path / "restday.db").exists()  # asking creates nothing


def test_a_lock_held_by_another_process_is_refused_and_freed_by_its_sigkill(
    tmp_path: Path,
) -> None:
    store = tmp_path / "restday.db"
    process = other_process_holding(store)
    try:
        with pytest.raises(StoreInUse, match=rf"\(pid {process.pid}\) on {store}$"):
            StoreLock.acquire(store)
        found = holder(store)
        assert found is not None
        assert found.pid == process.pid
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.stdout is not None
        process.stdout.close()
    assert holder(store) is None  # the kernel let go of it
    lock = StoreLock.acquire(store)
    assert lock.path.read_text() == f"{os.getpid()}\n"  # the dead one's pid replaced
    lock.release()


def test_the_store_used_last_is_remembered_in_the_lock_file(tmp_path: Path) -> None:
    store = tmp_path / "restday.db"
    lock = StoreLock.acquire(store)
    lock.remember("2026-11-20T07:00:00.000000Z")
    assert lock.path.read_text() == f"{os.getpid()}\nstore created 2026-11-20T07:00:00.000000Z\n"
    lock.release()
    again = StoreLock.acquire(store)
    try:
        assert again.remembered == "2026-11-20T07:00:00.000000Z"
        assert holder(store) == LockFile(os.getpid(), "2026-11-20T07:00:00.000000Z")
    finally:
        again.release()


def test_a_lock_file_deleted_under_its_holder_is_not_shared(tmp_path: Path) -> None:
    store = tmp_path / "restday.db"
    first = StoreLock.acquire(store)
    first.path.unlink()  # the holder keeps its lock on the old file
    second = StoreLock.acquire(store)  # a new file: this one is locked, the old one unreachable
    try:
        assert holder(store) == LockFile(pid=os.getpid())
    finally:
        second.release()
        first.release()


def test_a_folder_restday_may_not_write_is_a_store_error_naming_the_store(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("this user writes anywhere (root with CAP_DAC_OVERRIDE)")
        with pytest.raises(StoreError, match=f"cannot use the store {folder / 'restday.db'}"):
            StoreLock.acquire(folder / "restday.db")
    finally:
        folder.chmod(0o700)


def test_a_garbled_lock_file_is_read_as_unknown() -> None:
    assert LockFile.parse("") == LockFile()
    assert LockFile.parse("not a pid\nstore created \n") == LockFile()
    assert LockFile.parse("42\nstore created X\n") == LockFile(42, "X")
