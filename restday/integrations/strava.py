"""Strava over HTTP (DESIGN.md §2): the only module that talks to Strava.

stravalib does the requests, through a `requests.Session` whose adapter sends everything
meant for https://www.strava.com to `strava.api_url` and gives every request a timeout.
What stravalib would otherwise do on its own is done here instead:
- tokens: stravalib gets the access token only. Before each call a token that expires
  within `REFRESH_MARGIN` is refreshed, and the rotated refresh token is saved before any
  further call; a 401 means one refresh and one retry. A refused refresh raises
  `AuthRequired` and is remembered: no call to Strava until the token file holds another
  token (a new `restday strava auth`, picked up without a restart).
- rate limits: the limiter only records the `X-RateLimit-*` / `X-ReadRateLimit-*` headers,
  it never sleeps. After a 429, or at 90 % of a limit, calls raise `RateLimited` without any
  HTTP until the next quarter hour (or UTC midnight for a daily limit).
- failures become one sentence: 5xx, timeouts, refused connections → `Unavailable`.
- memory and start-up: requests and stravalib are imported at the first request, not when
  the module is (`restday run` comes online without waiting for them), and stravalib's
  import keeps numpy out of pint (see `_import_stravalib`).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from restday.clock import Clock, SystemClock
from restday.config import STRAVA_NOT_CONFIGURED, StravaConfig
from restday.integrations.strava_auth import AUTH_HINT, Refusal, describe, network_reason
from restday.integrations.strava_auth import AuthRequired as AuthRequired
from restday.integrations.strava_auth import RateLimited as RateLimited
from restday.integrations.strava_auth import RedirectListener as RedirectListener
from restday.integrations.strava_auth import StravaError as StravaError
from restday.integrations.strava_auth import Token as Token
from restday.integrations.strava_auth import TokenStore as TokenStore
from restday.integrations.strava_auth import Unavailable as Unavailable

if TYPE_CHECKING:  # imported for real at the first request: see `_import_stravalib`
    from stravalib import exc as strava_exc
    from stravalib.client import Client
    from stravalib.protocol import Scope

log = logging.getLogger(__name__)

SCOPE_LIST: list[Scope] = ["activity:read_all", "profile:read_all"]
SCOPES = ",".join(SCOPE_LIST)
ACTIVITY_SCOPES = frozenset({"activity:read", "activity:read_all"})
STRAVA_ORIGIN = "https://www.strava.com"  # what stravalib hardcodes
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 20
REFRESH_MARGIN = timedelta(minutes=5)
PER_PAGE = 200  # Strava's largest page
MAX_PAGES = 100  # 20,000 activities: a server that never ends a listing is cut off here
NEAR_LIMIT = 0.9  # at this share of a limit, calls stop until its window resets
RATE_WINDOW = timedelta(minutes=15)  # the short windows reset at :00, :15, :30 and :45 UTC
RATE_HEADERS = (
    ("X-RateLimit-Limit", "X-RateLimit-Usage"),
    ("X-ReadRateLimit-Limit", "X-ReadRateLimit-Usage"),
)
SILENCE_ENV = "SILENCE_TOKEN_WARNINGS"  # stravalib's switch for its credentials warnings

T = TypeVar("T")


_IMPORT_LOCK = threading.Lock()  # one thread hides numpy while stravalib is imported


def _import_stravalib() -> None:
    """Import stravalib once, without numpy.

    stravalib builds a pint unit registry when it is imported, and pint imports numpy
    whenever numpy is installed (it is with the `plot` extra): 12 MB resident and 60 ms for
    pint's array support, which restday never uses (it reads Strava's JSON, not stravalib's
    unit-bearing models). So `import numpy` fails for the length of this import only; numpy
    stays importable afterwards, and pint keeps working on plain numbers.
    """
    with _IMPORT_LOCK:
        if "stravalib.client" in sys.modules:
            return
        hide = "numpy" not in sys.modules
        if hide:
            sys.modules["numpy"] = None  # type: ignore[assignment]  # import raises ImportError
        try:
            import stravalib.client  # noqa: F401
        finally:
            if hide and "numpy" in sys.modules and sys.modules["numpy"] is None:
                del sys.modules["numpy"]


def _stravalib_client(
    api_url: str,
    timeouts: tuple[float, float],
    on_send: Callable[[], None],
    record: Callable[[Mapping[str, str]], None],
) -> Client:
    """stravalib's client on a `requests.Session` whose adapter sends stravalib's
    https://www.strava.com requests to `api_url`, each with `timeouts` (connect, read),
    calling `on_send` before each; its rate limiter only hands the response headers to
    `record`, it never sleeps."""
    _import_stravalib()
    from requests import Session
    from requests.adapters import HTTPAdapter
    from requests.models import PreparedRequest, Response
    from requests.utils import should_bypass_proxies
    from stravalib.client import Client
    from stravalib.protocol import RequestMethod
    from stravalib.util.limiter import RateLimiter

    class StravaAdapter(HTTPAdapter):
        """Sends stravalib's https://www.strava.com requests to `api_url`."""

        def send(
            self,
            request: PreparedRequest,
            stream: bool = False,
            timeout: float | tuple[float | None, float | None] | None = None,
            verify: bool | str = True,
            cert: str | tuple[str, str] | None = None,
            proxies: dict[str, str] | None = None,
        ) -> Response:
            url = request.url or ""
            if url == STRAVA_ORIGIN or url.startswith(STRAVA_ORIGIN + "/"):
                request.url = api_url + url.removeprefix(STRAVA_ORIGIN)
                if should_bypass_proxies(request.url, no_proxy=None):
                    proxies = {}  # the environment's proxies were chosen for www.strava.com
            on_send()
            return super().send(request, stream, timeout or timeouts, verify, cert, proxies)

    class UsageRecorder(RateLimiter):
        """stravalib's limiter hook that only hands the response headers on."""

        def __call__(self, args: dict[str, str], method: RequestMethod) -> None:
            record(args)

    session = Session()
    adapter = StravaAdapter()
    for prefix in (STRAVA_ORIGIN + "/", "https://", "http://"):  # redirects time out too
        session.mount(prefix, adapter)
    os.environ.setdefault(SILENCE_ENV, "true")  # restday passes the credentials itself
    strava = Client(rate_limiter=UsageRecorder(), requests_session=session)
    strava.protocol.client_id = None  # so stravalib never refreshes on its own:
    strava.protocol.client_secret = None  # it could not save the rotated token
    return strava


def next_quarter(moment: datetime) -> datetime:
    """The next :00/:15/:30/:45 UTC after `moment`, when the short windows reset."""
    utc = moment.astimezone(UTC)
    start = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
    return start + RATE_WINDOW


def next_midnight(moment: datetime) -> datetime:
    """The next UTC midnight, when the daily limits reset."""
    return datetime.combine(moment.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)


class StravaClient:
    """Strava for restday: tokens, activities, the athlete's shoes, and the rate limits."""

    def __init__(
        self,
        config: StravaConfig,
        token_path: Path,
        *,
        clock: Clock | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
        self._config = config
        self._tokens = TokenStore(token_path)
        self._clock = clock or SystemClock()
        self._read_timeout_s = read_timeout_s
        self._lock = threading.RLock()  # one token lifecycle at a time: refreshes rotate
        self._refused: str | None = None  # a refresh token Strava said no to
        self._unsaved: Token | None = None  # refreshed, but the disk said no: saved first
        self._blocked: datetime | None = None
        self._calls: tuple[date, int] = (self._clock.now().date(), 0)
        self._calls_lock = threading.Lock()
        self._last_error: str | None = None
        self._timeout = (connect_timeout_s, read_timeout_s)
        self._stravalib: Client | None = None  # built at the first request
        self._build_lock = threading.Lock()

    def load(self) -> None:
        """Import stravalib and build its client now rather than at the first request."""
        _ = self._strava

    @property
    def _strava(self) -> Client:
        """stravalib's client, built (and stravalib imported) when first needed."""
        if self._stravalib is None:
            with self._build_lock:
                if self._stravalib is None:
                    self._stravalib = _stravalib_client(
                        self._config.api_url, self._timeout, self._count_call, self._record_usage
                    )
        return self._stravalib

    @property
    def configured(self) -> bool:
        return bool(self._config.client_id and self._config.client_secret.get_secret_value())

    @property
    def calls_today(self) -> int:
        day, count = self._calls
        return count if day == self._clock.now().date() else 0

    @property
    def blocked_until(self) -> datetime | None:
        blocked = self._blocked
        return blocked if blocked is not None and blocked > self._clock.now() else None

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        url = self._strava.authorization_url(
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
            self._strava.protocol.exchange_code_for_token,
            self._client_id(),
            self._secret(),
            code,
            return_athlete=True,
        )
        with self._lock:
            try:
                self._check_blocked()
                info, athlete = self._send(exchange)
                athlete_id = athlete.get("id") if isinstance(athlete, dict) else None
                token = _token(info, scope, athlete_id if isinstance(athlete_id, int) else None)
                self._save(token)
            except Refusal as refusal:
                raise self._failed(
                    _credentials_refused(refusal)
                    or StravaError(
                        f"Strava refused the authorization code ({refusal.detail}); a code "
                        f"works once and only for minutes: {AUTH_HINT} again"
                    )
                ) from None
            except StravaError as error:
                raise self._failed(error) from None
            self._refused = self._last_error = None
        log.info("Strava: authorized (athlete %s, scope %s)", token.athlete_id, scope or "?")
        return token

    def auth_state(self) -> str:
        """'not_configured', 'required' or 'ok', from the token file as it is now."""
        if not self.configured:
            return "not_configured"
        token = self._unsaved or self._tokens.load()
        return "required" if token is None or token.refresh_token == self._refused else "ok"

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
                get = partial(self._strava.protocol.get, "/athlete/activities", page=page, **query)
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
            return self._api(partial(self._strava.protocol.get, "/athlete"), dict)

    # --- the token lifecycle around one API request ---

    def _api(self, request: Callable[[], object], shape: type[T]) -> T:
        """`request` with a fresh token, once more after a refresh on a 401; of `shape`."""
        try:
            token = self._usable_token()
            for attempt in range(2):
                self._strava.access_token = token.access_token
                try:
                    answer = self._send(request)
                except Refusal as refusal:
                    if refusal.status != HTTPStatus.UNAUTHORIZED:
                        raise StravaError(f"Strava refused the request ({refusal})") from None
                    if attempt:
                        self._refused = token.refresh_token
                        log.warning("Strava: refused even after a refresh (%s)", refusal.detail)
                        raise AuthRequired(
                            f"Strava refuses access ({refusal}): {AUTH_HINT}"
                        ) from None
                    token = self._refresh(token)  # the access token was not accepted
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
        if self._unsaved is not None:
            self._save(self._unsaved)  # a refreshed token the disk refused before
        token = self._tokens.load()
        if token is None:
            raise AuthRequired(f"Strava is not authorized yet: {AUTH_HINT}")
        if token.refresh_token == self._refused:
            raise AuthRequired(f"Strava refused restday's authorization: {AUTH_HINT}")
        self._check_blocked()
        if token.expires_at - self._clock.now() <= REFRESH_MARGIN:
            token = self._refresh(token)
        return token

    def _refresh(self, token: Token) -> Token:
        self._check_blocked()
        refresh = partial(
            self._strava.refresh_access_token,
            self._client_id(),
            self._secret(),
            token.refresh_token,
        )
        try:
            info = self._send(refresh)
        except Refusal as refusal:
            current = self._tokens.load()
            if current is not None and current.refresh_token != token.refresh_token:
                log.info("Strava: the token file changed meanwhile; using its token")
                return current  # another process (`restday strava sync`) rotated it
            if refusal.status not in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED):
                raise StravaError(f"Strava refused to refresh the token ({refusal})") from None
            self._refused = token.refresh_token
            credentials = _credentials_refused(refusal)
            if credentials is not None:
                raise credentials from None
            log.warning("Strava: the refresh was refused (%s); %s", refusal.detail, AUTH_HINT)
            raise AuthRequired(
                f"Strava refused to renew the authorization ({refusal.detail}; revoked?): "
                f"{AUTH_HINT}"
            ) from None
        fresh = _token(info, token.scope, token.athlete_id)
        self._save(fresh)
        log.info("Strava: access token refreshed, valid until %s", f"{fresh.expires_at:%H:%M} UTC")
        return fresh

    def _save(self, token: Token) -> None:
        """Persist `token` before any further call; kept in memory while the disk says no."""
        try:
            self._tokens.save(token)
        except OSError as exc:
            self._unsaved = token
            raise StravaError(
                f"cannot save the Strava token to {self._tokens.path} ({exc.strerror}): "
                "free some space or fix the folder's permissions"
            ) from None
        self._unsaved = None

    # --- one HTTP exchange through stravalib, its failures as StravaErrors ---

    def _send(self, request: Callable[[], T]) -> T:
        import requests  # loaded already: `request` was made with stravalib's client
        from stravalib import exc as strava_exc

        api_url = self._config.api_url
        try:
            return request()
        except strava_exc.Fault as fault:
            raise self._fault(fault) from None
        except requests.ConnectTimeout:
            raise Unavailable(f"cannot connect to Strava at {api_url} (no answer)") from None
        except requests.Timeout:
            raise Unavailable(f"Strava did not answer within {self._read_timeout_s:g} s") from None
        except requests.ConnectionError as error:
            reason = network_reason(error)
            raise Unavailable(f"cannot connect to Strava at {api_url} ({reason})") from None
        except (requests.RequestException, ValueError, KeyError, TypeError):
            raise Unavailable("Strava's answer could not be read (not the expected JSON)") from None

    def _fault(self, fault: strava_exc.Fault) -> Exception:
        from stravalib import exc as strava_exc

        response = fault.response
        if response is None:
            return Unavailable("Strava's answer could not be read")
        try:
            body = response.json()
        except ValueError:  # not JSON
            body = None
        detail = describe(body, response.reason or "", self._secrets())
        status = response.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            self._block(next_quarter(self._clock.now()))
            until = self.blocked_until or next_quarter(self._clock.now())
            log.info("Strava: rate limited until %s", f"{until:%H:%M} UTC")
            return RateLimited(until)
        if isinstance(fault, strava_exc.ApplicationInactive):
            return Unavailable(
                "Strava refuses every request because the Strava API application is inactive: "
                "its owner needs an active subscription, then reactivates it at "
                "https://www.strava.com/settings/api"
            )
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return Unavailable(f"Strava is having trouble (HTTP {status}: {detail})")
        return Refusal(status, detail)

    # --- bookkeeping: calls, rate limits, errors ---

    def _count_call(self) -> None:
        today = self._clock.now().date()
        with self._calls_lock:
            day, count = self._calls
            self._calls = (today, count + 1 if day == today else 1)

    def _record_usage(self, headers: Mapping[str, str]) -> None:
        now = self._clock.now()
        for limit_header, usage_header in RATE_HEADERS:
            try:
                short_limit, daily_limit = (int(v) for v in headers[limit_header].split(","))
                short_usage, daily_usage = (int(v) for v in headers[usage_header].split(","))
            except (KeyError, ValueError):
                continue  # absent or malformed: nothing to go by
            log.debug("Strava: %s %d,%d", usage_header, short_usage, daily_usage)
            if daily_usage >= NEAR_LIMIT * daily_limit > 0:
                self._block(next_midnight(now))
            elif short_usage >= NEAR_LIMIT * short_limit > 0:
                self._block(next_quarter(now))

    def _block(self, until: datetime) -> None:
        if self._blocked is None or self._blocked < until:
            self._blocked = until

    def _check_blocked(self) -> None:
        until = self.blocked_until
        if until is not None:
            raise RateLimited(until)

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
        token = self._tokens.load()
        known = [self._secret(), self._refused or ""]
        known += [token.access_token, token.refresh_token] if token else []
        return [secret for secret in known if secret]


def _credentials_refused(refusal: Refusal) -> AuthRequired | None:
    """Strava's "Application" errors: restday's client id or secret, not the athlete's token."""
    if "Application" not in refusal.detail:
        return None
    return AuthRequired(
        f"Strava refused restday's credentials ({refusal.detail}): "
        "check strava.client_id and strava.client_secret"
    )


def _token(info: Mapping[str, object], scope: str, athlete_id: int | None) -> Token:
    try:
        return Token.from_json({**info, "scope": scope, "athlete_id": athlete_id})
    except ValueError as exc:
        raise Unavailable(f"Strava's token answer is unusable ({exc})") from None
