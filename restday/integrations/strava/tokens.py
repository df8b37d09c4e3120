"""The token and its file: what Strava's token endpoint returned, kept on disk.

- `Token` holds Strava's answer to a token request; its repr masks the tokens.
- `TokenStore` keeps it in `strava-token.json`: written atomically (a temp file in the same
  folder, fsync, rename, then the folder fsync'd) with mode 0600. A corrupt file reads as
  "no token" with one warning, never as a reason to start an interactive login. `adopt` makes
  another token file its own (a single athlete's, when a household's first athlete takes it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from restday.integrations.strava.errors import AUTH_HINT, Unavailable

log = logging.getLogger("restday.integrations.strava_auth")  # its name before the package

TOKEN_FILE_MODE = 0o600  # only the service's user may read the tokens
TOKEN_FOLDER_MODE = 0o700  # a token folder restday has to create itself
UNKNOWN_SIGNATURE = (-1, -1)  # a token file that cannot even be stat'ed


@dataclass(frozen=True)
class Token:
    """Strava's answer to a token request (`expires_at` in UTC)."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    scope: str = ""
    athlete_id: int | None = None

    def __repr__(self) -> str:
        return (
            f"Token(access_token='***', refresh_token='***', "
            f"expires_at={self.expires_at.isoformat()!r}, scope={self.scope!r}, "
            f"athlete_id={self.athlete_id!r})"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": int(self.expires_at.timestamp()),
            "scope": self.scope,
            "athlete_id": self.athlete_id,
        }

    @classmethod
    def from_json(cls, data: object) -> Token:
        """The token of a parsed token file; ValueError naming the field (never its value)."""
        if not isinstance(data, dict):
            raise ValueError("it is not a JSON object")
        access, refresh = data.get("access_token"), data.get("refresh_token")
        expires, scope = data.get("expires_at"), data.get("scope", "")
        athlete = data.get("athlete_id")
        for name, text in (("access_token", access), ("refresh_token", refresh)):
            if not isinstance(text, str) or not text:
                raise ValueError(f"{name} is missing")
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            raise ValueError("expires_at is not a number")
        if not isinstance(scope, str):
            raise ValueError("scope is not text")
        if athlete is not None and (not isinstance(athlete, int) or isinstance(athlete, bool)):
            raise ValueError("athlete_id is not a number")
        assert isinstance(access, str)  # for mypy, checked above
        assert isinstance(refresh, str)
        try:
            moment = datetime.fromtimestamp(expires, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("expires_at is out of range") from None
        return cls(access, refresh, moment, scope, athlete)


def answered_token(info: Mapping[str, object], scope: str, athlete_id: int | None) -> Token:
    """The token in Strava's answer to a token request; `Unavailable` when it has none."""
    try:
        return Token.from_json({**info, "scope": scope, "athlete_id": athlete_id})
    except ValueError as exc:
        raise Unavailable(f"Strava's token answer is unusable ({exc})") from None


class TokenStore:
    """The token file: `load()` (None when missing or unusable) and atomic `save()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned: tuple[int, int] | None = None  # (mtime, size) of a corrupt file warned

    def load(self) -> Token | None:
        try:
            text = self.path.read_text(encoding="utf-8")
            return Token.from_json(json.loads(text))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON, wrong fields
            reason = exc.strerror if isinstance(exc, OSError) else _reason(exc)
            signature = _signature(self.path)
            if signature != self._warned:  # one warning per corrupt file, not one per poll
                self._warned = signature
                log.warning(
                    "Strava: the token file %s is unusable (%s); %s to write a new one",
                    self.path,
                    reason,
                    AUTH_HINT,
                )
            return None

    def adopt(self, other: Path) -> bool:
        """Rename the token file `other` to this store's file, mode and all, when this one has
        none; False (nothing moved) when this file exists or `other` does not. OSError when
        the disk says no."""
        if self.path.exists() or not other.is_file():
            return False
        os.rename(other, self.path)
        _fsync_folder(self.path.parent)
        return True

    def save(self, token: Token) -> None:
        """Replace the file atomically with mode 0600; OSError when the disk says no."""
        folder = self.path.parent
        folder.mkdir(mode=TOKEN_FOLDER_MODE, parents=True, exist_ok=True)
        data = json.dumps(token.to_json(), indent=2).encode("utf-8") + b"\n"
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                os.fchmod(file.fileno(), TOKEN_FILE_MODE)
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _fsync_folder(folder)


def _reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON at line {exc.lineno}"  # exc's own text is safe, this is shorter
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return str(exc)


def _signature(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return UNKNOWN_SIGNATURE
    return stat.st_mtime_ns, stat.st_size


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a platform without it is left as is."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
