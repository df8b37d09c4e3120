"""The athlete's authorization around each request: the saved token, refreshed in time.

stravalib gets the access token only. A token that expires within `REFRESH_MARGIN` is
refreshed before the call, and the rotated refresh token is saved before any further call
(kept in memory while the disk says no, and saved first at the next call). A refused refresh
raises `AuthRequired` and is remembered: no call to Strava until the token file holds another
token (a new `restday strava auth`, picked up without a restart).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from http import HTTPStatus

from restday.clock import Clock
from restday.integrations.strava.errors import (
    AUTH_HINT,
    AuthRequired,
    Refusal,
    StravaError,
    credentials_refused,
)
from restday.integrations.strava.tokens import Token, TokenStore, answered_token

log = logging.getLogger("restday.integrations.strava")  # the client's name before the package

REFRESH_MARGIN = timedelta(minutes=5)


class Authorization:
    """The token file as the client uses it: its token, refreshed and saved in time."""

    def __init__(self, tokens: TokenStore, clock: Clock) -> None:
        self.tokens = tokens
        self._clock = clock
        self.refused: str | None = None  # a refresh token Strava said no to
        self._unsaved: Token | None = None  # refreshed, but the disk said no: saved first

    def state(self) -> str:
        """'required' or 'ok', from the token file as it is now."""
        token = self._unsaved or self.tokens.load()
        return "required" if token is None or token.refresh_token == self.refused else "ok"

    def current(self) -> Token:
        """The saved token (one the disk refused before is saved first); `AuthRequired` when
        there is none or Strava refused it."""
        if self._unsaved is not None:
            self.save(self._unsaved)  # a refreshed token the disk refused before
        token = self.tokens.load()
        if token is None:
            raise AuthRequired(f"Strava is not authorized yet: {AUTH_HINT}")
        if token.refresh_token == self.refused:
            raise AuthRequired(f"Strava refused restday's authorization: {AUTH_HINT}")
        return token

    def expiring(self, token: Token) -> bool:
        """Whether `token` expires within `REFRESH_MARGIN`: then it is refreshed first."""
        return token.expires_at - self._clock.now() <= REFRESH_MARGIN

    def refresh(self, token: Token, renew: Callable[[str], Mapping[str, object]]) -> Token:
        """`token` renewed (`renew`: Strava's answer for a refresh token) and saved."""
        try:
            info = renew(token.refresh_token)
        except Refusal as refusal:
            current = self.tokens.load()
            if current is not None and current.refresh_token != token.refresh_token:
                log.info("Strava: the token file changed meanwhile; using its token")
                return current  # another process (`restday strava sync`) rotated it
            if refusal.status not in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED):
                raise StravaError(f"Strava refused to refresh the token ({refusal})") from None
            self.refused = token.refresh_token
            credentials = credentials_refused(refusal)
            if credentials is not None:
                raise credentials from None
            log.warning("Strava: the refresh was refused (%s); %s", refusal.detail, AUTH_HINT)
            raise AuthRequired(
                f"Strava refused to renew the authorization ({refusal.detail}; revoked?): "
                f"{AUTH_HINT}"
            ) from None
        fresh = answered_token(info, token.scope, token.athlete_id)
        self.save(fresh)
        log.info("Strava: access token refreshed, valid until %s", f"{fresh.expires_at:%H:%M} UTC")
        return fresh

    def save(self, token: Token) -> None:
        """Persist `token` before any further call; kept in memory while the disk says no."""
        try:
            self.tokens.save(token)
        except OSError as exc:
            self._unsaved = token
            raise StravaError(
                f"cannot save the Strava token to {self.tokens.path} ({exc.strerror}): "
                "free some space or fix the folder's permissions"
            ) from None
        self._unsaved = None

    def secrets(self) -> list[str]:
        """What must never be quoted: the refused refresh token, the file's tokens."""
        token = self.tokens.load()
        known = [self.refused or ""]
        known += [token.access_token, token.refresh_token] if token else []
        return known
