"""stravalib on a `requests.Session` that sends everything to `strava.api_url`.

The only module that imports requests at run time (and stravalib, beside the client's types):
- the session's adapter sends stravalib's https://www.strava.com requests to `api_url` and
  gives every request a timeout; stravalib's rate limiter only hands the response headers to
  `RateLimits`, it never sleeps;
- one exchange at a time, its failures as one sentence: 5xx, timeouts, refused connections
  become `Unavailable`, a 429 `RateLimited`, any other 4xx a `Refusal` for the client;
- memory and start-up: requests and stravalib are imported at the first request, not when
  the module is (`restday run` comes online without waiting for them), and stravalib's
  import keeps numpy out of pint (see `import_stravalib`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, TypeVar

from restday.integrations.strava.errors import Refusal, Unavailable, describe, network_reason
from restday.integrations.strava.rate_limits import RateLimits

if TYPE_CHECKING:  # imported for real at the first request: see `import_stravalib`
    from stravalib import exc as strava_exc
    from stravalib.client import Client

STRAVA_ORIGIN = "https://www.strava.com"  # what stravalib hardcodes
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 20
SILENCE_ENV = "SILENCE_TOKEN_WARNINGS"  # stravalib's switch for its credentials warnings

T = TypeVar("T")

_IMPORT_LOCK = threading.Lock()  # one thread hides numpy while stravalib is imported


def import_stravalib() -> None:
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
    import_stravalib()
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


class StravaSession:
    """stravalib's client, built (and stravalib imported) at the first request, and each
    exchange through it with its failures as StravaErrors (`secrets` masked in them)."""

    def __init__(
        self,
        api_url: str,
        timeouts: tuple[float, float],
        limits: RateLimits,
        secrets: Callable[[], list[str]],
    ) -> None:
        self._api_url = api_url
        self._timeouts = timeouts  # (connect, read)
        self._limits = limits
        self._secrets = secrets
        self._stravalib: Client | None = None  # built at the first request
        self._build_lock = threading.Lock()

    @property
    def strava(self) -> Client:
        """stravalib's client, built (and stravalib imported) when first needed."""
        if self._stravalib is None:
            with self._build_lock:
                if self._stravalib is None:
                    self._stravalib = _stravalib_client(
                        self._api_url, self._timeouts, self._limits.count_call, self._limits.record
                    )
        return self._stravalib

    def send(self, request: Callable[[], T]) -> T:
        """`request()`, made with `strava`; a `Refusal` or a StravaError when it fails."""
        import requests  # loaded already: `request` was made with stravalib's client
        from stravalib import exc as strava_exc

        api_url = self._api_url
        try:
            return request()
        except strava_exc.Fault as fault:
            raise self._fault(fault) from None
        except requests.ConnectTimeout:
            raise Unavailable(f"cannot connect to Strava at {api_url} (no answer)") from None
        except requests.Timeout:
            read_timeout_s = self._timeouts[1]
            raise Unavailable(f"Strava did not answer within {read_timeout_s:g} s") from None
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
            return self._limits.too_many_requests()
        if isinstance(fault, strava_exc.ApplicationInactive):
            return Unavailable(
                "Strava refuses every request because the Strava API application is inactive: "
                "its owner needs an active subscription, then reactivates it at "
                "https://www.strava.com/settings/api"
            )
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return Unavailable(f"Strava is having trouble (HTTP {status}: {detail})")
        return Refusal(status, detail)
