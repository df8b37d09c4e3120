"""The host's time zone, and whether a name is one: `athlete.timezone`'s default and check."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCALTIME_PATH = Path("/etc/localtime")
FALLBACK_TIMEZONE = "UTC"


def is_timezone(name: str) -> bool:
    """Whether `name` is an IANA time zone name that zoneinfo knows."""
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _zone_name(text: str) -> str | None:
    _, marker, tail = text.rpartition("zoneinfo/")
    name = tail if marker else text
    for variant in ("posix/", "right/"):
        name = name.removeprefix(variant)
    return name if is_timezone(name) else None


def host_timezone() -> str:
    """The host's zone: $TZ if it names one, else the /etc/localtime link's target, else UTC."""
    from_env = _zone_name(os.environ.get("TZ", "").removeprefix(":"))
    if from_env:
        return from_env
    if LOCALTIME_PATH.is_symlink():
        from_link = _zone_name(str(LOCALTIME_PATH.resolve()))
        if from_link:
            return from_link
    return FALLBACK_TIMEZONE
