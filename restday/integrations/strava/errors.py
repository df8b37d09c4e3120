"""Strava's errors: `StravaError` and its kinds, each message one sentence without secrets.

`Refusal` is Strava saying no (a 4xx other than 429), for the client to decide what it means;
`describe` turns Strava's error bodies into a few words, `network_reason` a failed connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

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
    """Strava said no (a 4xx other than 429): `status` and Strava's reason, for the client."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


def credentials_refused(refusal: Refusal) -> AuthRequired | None:
    """Strava's "Application" errors: restday's client id or secret, not the athlete's token."""
    if "Application" not in refusal.detail:
        return None
    return AuthRequired(
        f"Strava refused restday's credentials ({refusal.detail}): "
        "check strava.client_id and strava.client_secret"
    )


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
