"""`StravaClient`: restday's calls to Strava (authorization, activities, the athlete's shoes).

stravalib does the requests (`session`); what stravalib would otherwise do on its own is done
around each call instead: the token refreshed in time and saved before any further call, once
more after a 401 (`authorization`), the rate limits respected without sleeping
(`rate_limits`), and every failure one sentence (`errors`). No call is made before a request
is asked for: building the client imports neither requests nor stravalib.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from restday.clock import Clock, SystemClock
from restday.config import STRAVA_NOT_CONFIGURED, StravaConfig
from restday.integrations.strava.authorization import Authorization
from restday.integrations.strava.errors import (
    AUTH_HINT,
    AuthRequired,
    Refusal,
    StravaError,
    Unavailable,
    credentials_refused,
)
from restday.integrations.strava.rate_limits import RateLimits
from restday.integrations.strava.session import (
    CONNECT_TIMEOUT_S,
    READ_TIMEOUT_S,
    STRAVA_ORIGIN,
    StravaSession,
)
from restday.integrations.strava.tokens import Token, TokenStore, answered_token

if TYPE_CHECKING:
    from stravalib.protocol import Scope

log = logging.getLogger("restday.integrations.strava")  # its name before the package

SCOPE_LIST: list[Scope] = ["activity:read_all", "profile:read_all"]
SCOPES = ",".join(SCOPE_LIST)
ACTIVITY_SCOPES = frozenset({"activity:read", "activity:read_all"})
PER_PAGE = 200  # Strava's largest page
MAX_PAGES = 100  # 20,000 activities: a server that never ends a listing is cut off here

T = TypeVar("T")


class StravaClient:
    """Strava for restday: tokens, activities, the athlete's shoes, and the rate limits."""

    def __init__(
        self,
        config: StravaConfig,
        token_path: Path,
        *,
        clock: Clock | None = None,
        limits: RateLimits | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
        """`limits`: the rate limits of the Strava application (`config.client_id`), shared by
        the clients of every athlete who uses that application (Strava counts per application);
        by default this client's own."""
        self._config = config
        self._clock = clock or SystemClock()
        self._auth = Authorization(TokenStore(token_path), self._clock)
        self._limits = limits or RateLimits(self._clock)
        self._http = StravaSession(
            config.api_url, (connect_timeout_s, read_timeout_s), self._limits, self._secrets
        )
        self._lock = threading.RLock()  # one token lifecycle at a time: refreshes rotate
        self._last_error: str | None = None

    def load(self) -> None:
        """Import stravalib and build its client now rather than at the first request."""
        _ = self._http.strava

    @property
    def configured(self) -> bool:
        return bool(self._config.client_id and self._config.client_secret.get_secret_value())

    @property
    def calls_today(self) -> int:
        return self._limits.calls_today

    @property
    def blocked_until(self) -> datetime | None:
        return self._limits.blocked_until

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        url = self._http.strava.authorization_url(
            self._client_id(), redirect_uri, approval_prompt="auto", scope=SCOPE_LIST, state=state
        )
        return self._config.api_url + url.removeprefix(STRAVA_ORIGIN)

    def exchange_code(self, code: str, *, scope: str = "") -> Token:
        """Trade the redirect's code for tokens and save them; `scope`: what was accepted."""
        if not self.configured:
            raise StravaError(STRAVA_NOT_CONFIGURED)
        if scope and not {part.strip() for part in scope.split(",")} & ACTIVITY_SCOPES:
            raise StravaError(
                "Strava was authorized without access to your activities: "
                f"{AUTH_HINT} again and leave “View data about your activities” ticked"
            )
        exchange = partial(
            self._http.strava.protocol.exchange_code_for_token,
            self._client_id(),
            self._secret(),
            code,
            return_athlete=True,
        )
        with self._lock:
            try:
                self._limits.check()
                info, athlete = self._http.send(exchange)
                athlete_id = athlete.get("id") if isinstance(athlete, dict) else None
                token = answered_token(
                    info, scope, athlete_id if isinstance(athlete_id, int) else None
                )
                self._auth.save(token)
            except Refusal as refusal:
                raise self._failed(
                    credentials_refused(refusal)
                    or StravaError(
                        f"Strava refused the authorization code ({refusal.detail}); a code "
                        f"works once and only for minutes: {AUTH_HINT} again"
                    )
                ) from None
            except StravaError as error:
                raise self._failed(error) from None
            self._auth.refused = self._last_error = None
        log.info("Strava: authorized (athlete %s, scope %s)", token.athlete_id, scope or "?")
        return token

    def auth_state(self) -> str:
        """'not_configured', 'required' or 'ok', from the token file as it is now."""
        return self._auth.state() if self.configured else "not_configured"

    def activities(
        self, *, after: datetime | None = None, before: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Every SummaryActivity in the range (all pages), oldest first, each id once."""
        query: dict[str, Any] = {"per_page": PER_PAGE}
        for key, moment in (("after", after), ("before", before)):
            if moment is not None:
                if moment.tzinfo is None:
                    raise ValueError(f"{key} must be timezone-aware")
                query[key] = int(moment.timestamp())
        found: dict[object, dict[str, Any]] = {}
        with self._lock:
            for page in range(1, MAX_PAGES + 1):
                protocol = self._http.strava.protocol
                get = partial(protocol.get, "/athlete/activities", page=page, **query)
                batch = self._api(get, list)
                for item in (item for item in batch if isinstance(item, dict)):
                    ident = item.get("id")  # a later page's copy of an activity wins
                    found[ident if isinstance(ident, int | str) else object()] = item
                if len(batch) < PER_PAGE:
                    break
            else:
                log.warning("Strava: stopped after %d pages of activities", MAX_PAGES)
        return sorted(found.values(), key=lambda item: str(item.get("start_date", "")))

    def athlete(self) -> dict[str, Any]:
        """The authenticated athlete (GET /athlete), `shoes` with distances in metres."""
        with self._lock:
            return self._api(partial(self._http.strava.protocol.get, "/athlete"), dict)

    # --- the token lifecycle around one API request ---

    def _api(self, request: Callable[[], object], shape: type[T]) -> T:
        """`request` with a fresh token, once more after a refresh on a 401; of `shape`."""
        try:
            token = self._usable_token()
            for attempt in range(2):
                self._http.strava.access_token = token.access_token
                try:
                    answer = self._http.send(request)
                except Refusal as refusal:
                    if refusal.status != HTTPStatus.UNAUTHORIZED:
                        raise StravaError(f"Strava refused the request ({refusal})") from None
                    if attempt:
                        self._auth.refused = token.refresh_token
                        log.warning("Strava: refused even after a refresh (%s)", refusal.detail)
                        raise AuthRequired(
                            f"Strava refuses access ({refusal}): {AUTH_HINT}"
                        ) from None
                    token = self._auth.refresh(token, self._renew)  # the access token failed
                    continue
                if not isinstance(answer, shape):
                    raise Unavailable(f"Strava's answer was not a JSON {shape.__name__}")
                self._last_error = None
                return answer
            raise AssertionError("unreachable: the second attempt returns or raises")
        except StravaError as error:
            raise self._failed(error) from None

    def _usable_token(self) -> Token:
        if not self.configured:
            raise StravaError(STRAVA_NOT_CONFIGURED)
        token = self._auth.current()
        self._limits.check()
        if self._auth.expiring(token):
            token = self._auth.refresh(token, self._renew)
        return token

    def _renew(self, refresh_token: str) -> Mapping[str, object]:
        """Strava's answer to a refresh (a `Refusal` when it says no)."""
        self._limits.check()
        refresh = partial(
            self._http.strava.refresh_access_token,
            self._client_id(),
            self._secret(),
            refresh_token,
        )
        return self._http.send(refresh)

    # --- bookkeeping: errors, credentials ---

    def _failed(self, error: StravaError) -> StravaError:
        self._last_error = str(error)
        return error

    def _client_id(self) -> int:
        if not self.configured:
            raise StravaError(STRAVA_NOT_CONFIGURED)
        if not self._config.client_id.strip().isdigit():
            raise StravaError(
                "strava.client_id must be the number shown at https://www.strava.com/settings/api"
            )
        return int(self._config.client_id)

    def _secret(self) -> str:
        return self._config.client_secret.get_secret_value()

    def _secrets(self) -> list[str]:
        known = [self._secret(), *self._auth.secrets()]
        return [secret for secret in known if secret]
