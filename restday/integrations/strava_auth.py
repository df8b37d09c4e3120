"""Strava's errors, the token, its file, and the one-shot OAuth redirect listener.

No HTTP to Strava here (that is `strava.py`, which re-exports the public names below):
- `StravaError` and its kinds; `describe` turns Strava's error bodies into a few words.
- `Token` holds what Strava's token endpoint returned; its repr masks the tokens.
- `TokenStore` keeps it in `strava-token.json`: written atomically (a temp file in the same
  folder, fsync, rename, then the folder fsync'd) with mode 0600. A corrupt file reads as
  "no token" with one warning, never as a reason to start an interactive login.
- `RedirectListener` catches the browser's redirect after `restday strava auth` once on
  127.0.0.1, checks `state`, answers with a short page and closes its socket in every case.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import socketserver
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

TOKEN_FILE_MODE = 0o600  # only the service's user may read the tokens
TOKEN_FOLDER_MODE = 0o700  # a token folder restday has to create itself
LOOPBACK = "127.0.0.1"
REDIRECT_PATH = "/authorized"
REQUEST_READ_TIMEOUT_S = 5.0  # a browser sends its request at once; an idle socket is dropped
UNKNOWN_SIGNATURE = (-1, -1)  # a token file that cannot even be stat'ed
MIN_READ_S = 0.1  # ... but a request that arrives at the deadline still gets this long
AUTH_HINT = "run `restday strava auth`"
MAX_DETAIL_CHARS = 160  # Strava's reason, as quoted in an error message
NETWORK_REASONS = (
    ("connection refused", "connection refused"),
    ("name or service not known", "host name not found"),
    ("nodename nor servname", "host name not found"),
    ("temporary failure in name resolution", "host name not found"),
    ("getaddrinfo failed", "host name not found"),
    ("network is unreachable", "network unreachable"),
    ("no route to host", "no route to host"),
    ("certificate", "TLS certificate not accepted"),
    ("ssl", "TLS error"),
    ("connection reset", "connection reset"),
    ("remotedisconnected", "connection closed without an answer"),
    ("connection aborted", "connection closed without an answer"),
)
PAGE = (
    "<!doctype html><meta charset=utf-8><title>restday</title>"
    "<body style='font-family:sans-serif'><h1>{title}</h1><p>{text}</p></body>"
)


class StravaError(Exception):
    """Strava could not be used; the message is one sentence without tokens or secrets."""


class AuthRequired(StravaError):
    """No usable authorization (none yet, revoked, refused): `restday strava auth` again."""


class RateLimited(StravaError):
    """Strava's rate limit is reached: no calls until `until` (UTC)."""

    def __init__(self, until: datetime, message: str | None = None) -> None:
        super().__init__(
            message or f"Strava's rate limit is reached: no calls until {until:%H:%M} UTC"
        )
        self.until = until


class Unavailable(StravaError):
    """Strava did not answer usefully (5xx, timeout, network, inactive app): try later."""


class Refusal(Exception):
    """Strava said no (a 4xx other than 429): `status` and Strava's reason, for strava.py."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


def describe(body: object, fallback: str, secrets: Iterable[str]) -> str:
    """Strava's error body in a few words, e.g. "Bad Request: RefreshToken refresh_token
    invalid" (its `errors` give resource, field and code); never a secret or a token."""
    text = fallback
    if isinstance(body, dict):
        parts = [str(body.get("message") or fallback)]
        errors = body.get("errors")
        for error in errors if isinstance(errors, list) else [errors]:
            if isinstance(error, dict):
                words = (str(error.get(key) or "") for key in ("resource", "field", "code"))
                parts.append(" ".join(word for word in words if word))
        text = parts[0] + (": " + ", ".join(p for p in parts[1:] if p) if parts[1:] else "")
    text = " ".join(text.split())[:MAX_DETAIL_CHARS]
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text or "no reason given"


def network_reason(error: Exception) -> str:
    """A refused connection, an unknown host, a TLS failure: the words a user recognizes."""
    text = str(error).lower()
    for marker, reason in NETWORK_REASONS:
        if marker in text:
            return reason
    return "network error"


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


class _OneShotServer(socketserver.TCPServer):
    """The listener's socket; `outcome` is set by the first request to the redirect path."""

    allow_reuse_address = True  # a fixed port can be used again right after a run

    def __init__(self, port: int) -> None:
        super().__init__((LOOPBACK, port), _RedirectHandler)
        self.expected_state = ""
        self.deadline = 0.0
        self.outcome: str | StravaError | None = None
        self.scope = ""

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("Strava auth: a request to the redirect listener failed")


class _RedirectHandler(BaseHTTPRequestHandler):
    server: _OneShotServer

    def setup(self) -> None:
        super().setup()
        remaining = self.server.deadline - time.monotonic()
        self.connection.settimeout(max(min(REQUEST_READ_TIMEOUT_S, remaining), MIN_READ_S))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != REDIRECT_PATH:  # e.g. the browser's /favicon.ico: not the redirect
            self._answer(HTTPStatus.NOT_FOUND, "Not found", "This is restday's sign-in helper.")
            return
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        outcome = _outcome(query, self.server.expected_state)
        self.server.outcome = outcome
        if isinstance(outcome, StravaError):
            self._answer(HTTPStatus.BAD_REQUEST, "restday was not authorized", str(outcome))
        else:
            self.server.scope = query.get("scope", "")
            text = "You can close this tab; restday now reads your Strava activities."
            self._answer(HTTPStatus.OK, "restday is authorized", text)

    def _answer(self, status: HTTPStatus, title: str, text: str) -> None:
        body = PAGE.format(title=title, text=text.replace("<", "&lt;")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the request line carries the authorization code."""


def _outcome(query: dict[str, str], expected_state: str) -> str | StravaError:
    if query.get("error") == "access_denied":
        return StravaError(
            f"the authorization was denied in the browser: {AUTH_HINT} again and press Authorize"
        )
    if query.get("error"):
        return StravaError(f"Strava reported an error in the browser: {AUTH_HINT} again")
    if not hmac.compare_digest(query.get("state", "").encode(), expected_state.encode()):
        return StravaError(
            "the redirect came from another authorization attempt (its state does not match): "
            f"{AUTH_HINT} again and use the new link"
        )
    code = query.get("code", "")
    if not code:
        return StravaError(f"the redirect carried no authorization code: {AUTH_HINT} again")
    return code


class RedirectListener:
    """Catches Strava's redirect once on 127.0.0.1 (`redirect_uri`), for `restday strava auth`.

    After `wait_for_code`, `scope` holds the scopes the athlete accepted (Strava lets them
    untick some); the socket is closed whatever happened.
    """

    def __init__(self, port: int = 0) -> None:
        try:
            self._server = _OneShotServer(port)
        except OSError as exc:
            raise StravaError(
                f"cannot listen on {LOOPBACK}:{port} for the redirect ({exc.strerror}); "
                "choose another port or use `restday strava auth --code CODE`"
            ) from None
        self.port: int = self._server.server_address[1]
        self.redirect_uri = f"http://{LOOPBACK}:{self.port}{REDIRECT_PATH}"
        self.scope = ""

    def wait_for_code(self, state: str, timeout_s: float) -> str:
        """The authorization code of the first redirect; StravaError if none comes in time."""
        server = self._server
        server.expected_state = state
        server.deadline = time.monotonic() + timeout_s
        try:
            while server.outcome is None:
                remaining = server.deadline - time.monotonic()
                if remaining <= 0:
                    raise StravaError(
                        f"no redirect from the browser within {timeout_s:g} s: {AUTH_HINT} "
                        "again, or paste the code with `restday strava auth --code CODE`"
                    )
                server.timeout = remaining
                server.handle_request()
        finally:
            self.close()
        if isinstance(server.outcome, StravaError):
            raise server.outcome
        self.scope = server.scope
        return server.outcome

    def close(self) -> None:
        self._server.server_close()

    def __enter__(self) -> RedirectListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
