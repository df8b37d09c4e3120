"""Where the store lives: why a folder will not take it (a read-only file system, permissions).

Asked only after SQLite failed, to tell the user the cause and what to do about it. No SQL
here: the store's other modules and `restday check-config` ask.
"""

from __future__ import annotations

import errno
import os
import pwd
import tempfile
from pathlib import Path


def why_unwritable(path: Path) -> str | None:
    """What keeps restday from writing the store at `path`, or None if neither a read-only
    file system nor a permission is the cause. Asked only after a failure."""
    folder = next((p for p in path.parents if p.exists()), path.parent)
    refused = refusal(folder)
    if refused == errno.EROFS:
        return read_only(folder)
    if refused in (errno.EACCES, errno.EPERM):
        return (
            f"restday (user {_user()}) may not write in {folder}, where it keeps the store "
            "and its write-ahead log: give that user write access to the folder or point "
            "storage.path at a folder it may write in"
        )
    if refused is None and path.is_file() and not os.access(path, os.W_OK, effective_ids=True):
        return (
            f"restday (user {_user()}) may not write {path}: give that user write access to "
            "the file or point storage.path at a folder it may write in"
        )
    return None


def refusal(folder: Path) -> int | None:
    """The errno with which `folder` refuses a new file (EROFS, EACCES, …); None if it takes one.

    It really creates one, nameless (gone when closed): a file system that the kernel made
    read-only after an error (ext4 `errors=remount-ro`) does not always say so in `statvfs`
    or `access`. The store itself is never opened here: closing a second descriptor of it
    would drop SQLite's locks.
    """
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return errno.EROFS
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return exc.errno
    return None


def read_only(folder: Path) -> str:
    return (
        f"{folder} is on a read-only file system, and restday writes the store and its "
        "write-ahead log there: make it writable or point storage.path at a writable folder; "
        "a file system made read-only after an error (see `dmesg`) needs fsck, or a new SD "
        "card, and then a restart of restday"
    )


def _user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid without a name (a container)
        return str(os.geteuid())
