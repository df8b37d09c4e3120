"""A local HTTP server that speaks Strava's API as PAYLOADS.md documents it, for tests.

`FakeStrava` (a context manager; `.url` is what `strava.api_url` points at) serves
POST /oauth/token (an authorization code once; refresh tokens that ROTATE: the old one stops
working), GET /api/v3/athlete/activities (after/before/page/per_page; oldest first with
`after`, newest first without) and GET /api/v3/athlete (shoes in metres). Every answer
carries X-RateLimit-* and X-ReadRateLimit-* headers with usage counted here; at a limit it
answers 429 as Strava does. Tests steer it: `add`/`edit` activities, `set_shoes`,
`fail_next` (429/500/... or a hang), `expire_access_tokens`, `revoke`, `set_usage`, and read
`count(path)`. `summary_activity` and `summary_gear` build Strava's JSON objects.

Several athletes on one application (a household): `grant(athlete=ID)` issues tokens of
another Strava athlete, whose refresh tokens rotate on their own and whose access tokens see
only the activities given with `add_for(ID, ...)`; everything above stays the first
athlete's (`ATHLETE_ID`), and the rate limits count the application's requests of all.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from restday.clock import Clock, SystemClock

CLIENT_ID = "12345"
CLIENT_SECRET = "fake-client-secret-5f3a9c"
ATHLETE_ID = 4242
TOKEN_LIFETIME = timedelta(hours=6)  # Strava's access tokens live 6 h
LIMITS = (200, 2000)  # overall requests per 15 min, per day
READ_LIMITS = (100, 1000)  # reads per 15 min, per day
DEFAULT_PER_PAGE = 30  # Strava's default page size
POLL_S = 0.02  # how often the serving thread looks for shutdown (stopping takes this long)
PACE_S_PER_KM = 330  # 5:30 min/km, the builders' default pace
ELAPSED_EXTRA_S = 60  # stops: elapsed time beyond moving time
METERS_PER_KM = 1000.0
TOKEN_HEX_BYTES = 20  # Strava's tokens are 40 hex characters
LEGACY_TYPE = {"TrailRun": "Run", "VirtualRun": "Run", "GravelRide": "Ride"}
TOKEN_PATH = "/oauth/token"
ACTIVITIES_PATH = "/api/v3/athlete/activities"
ATHLETE_PATH = "/api/v3/athlete"


def error_body(message: str, resource: str, field_name: str, code: str) -> dict[str, Any]:
    return {
        "message": message,
        "errors": [{"resource": resource, "field": field_name, "code": code}],
    }


UNAUTHORIZED = error_body("Authorization Error", "Athlete", "access_token", "invalid")
REFRESH_REFUSED = error_body("Bad Request", "RefreshToken", "refresh_token", "invalid")
CODE_REFUSED = error_body("Bad Request", "AuthorizationCode", "code", "invalid")
CLIENT_REFUSED = error_body("Bad Request", "Application", "client_id", "invalid")
RATE_LIMITED = error_body("Rate Limit Exceeded", "Application", "rate limit", "exceeded")
SERVER_ERROR = {"message": "Internal Server Error", "errors": []}
INACTIVE_APP = error_body("Forbidden", "Application", "Status", "Inactive")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def summary_activity(
    activity_id: int,
    start: datetime,
    km: float,
    *,
    sport: str = "Run",
    moving_s: int | None = None,
    timezone: str = "Europe/Berlin",
    hr: float | None = None,
    max_hr: float | None = None,
    suffer: int | None = None,
    cadence_per_leg: float | None = None,
    gear_id: str | None = None,
    name: str = "Morning Run",
) -> dict[str, Any]:
    """A SummaryActivity as Strava sends it; `start_date_local` is local time tagged Z."""
    local = start.astimezone(ZoneInfo(timezone))
    offset_s = int((local.utcoffset() or timedelta()).total_seconds())
    sign, hours, minutes = (
        "+" if offset_s >= 0 else "-",
        abs(offset_s) // 3600,
        abs(offset_s) % 3600 // 60,
    )
    moving = moving_s if moving_s is not None else round(km * PACE_S_PER_KM)
    activity: dict[str, Any] = {
        "id": activity_id,
        "resource_state": 2,
        "athlete": {"id": ATHLETE_ID, "resource_state": 1},
        "name": name,
        "type": LEGACY_TYPE.get(sport, sport),
        "sport_type": sport,
        "workout_type": None,
        "distance": km * METERS_PER_KM,
        "moving_time": moving,
        "elapsed_time": moving + ELAPSED_EXTRA_S,
        "total_elevation_gain": 12.0,
        "start_date": _iso(start.astimezone(UTC)),
        "start_date_local": _iso(local.replace(tzinfo=None)),
        "timezone": f"(GMT{sign}{hours:02d}:{minutes:02d}) {timezone}",
        "utc_offset": float(offset_s),
        "trainer": False,
        "commute": False,
        "manual": False,
        "gear_id": gear_id,
        "average_speed": km * METERS_PER_KM / moving if moving else 0.0,
        "has_heartrate": hr is not None,
        "upload_id": activity_id + 1,
        "external_id": f"{activity_id}.fit",
    }
    optional = {
        "average_heartrate": hr,
        "max_heartrate": max_hr,
        "suffer_score": suffer,
        "average_cadence": cadence_per_leg,
    }
    activity.update({key: value for key, value in optional.items() if value is not None})
    return activity


def summary_gear(
    gear_id: str, name: str, km: float, *, primary: bool = False, retired: bool = False
) -> dict[str, Any]:
    """A shoe of GET /athlete's `shoes` (distance in metres)."""
    return {
        "id": gear_id,
        "name": name,
        "primary": primary,
        "retired": retired,
        "resource_state": 2,
        "distance": km * METERS_PER_KM,
        "converted_distance": km,
    }


@dataclass
class _Failure:
    status: int | None  # None: hang instead
    hang_s: float
    path: str | None
    body: dict[str, Any] | None


@dataclass
class _State:
    activities: dict[int, dict[str, Any]] = field(default_factory=dict)
    shoes: list[dict[str, Any]] = field(default_factory=list)
    access: dict[str, datetime] = field(default_factory=dict)  # valid access token → expiry
    refresh_token: str | None = None
    codes: set[str] = field(default_factory=set)
    failures: list[_Failure] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    usage: list[int] = field(default_factory=lambda: [0, 0])
    read_usage: list[int] = field(default_factory=lambda: [0, 0])
    # the other athletes of the application (`grant(athlete=...)`), by Strava athlete id
    others_activities: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    others_refresh: dict[str, int] = field(default_factory=dict)  # working refresh token → id
    others_access: dict[str, int] = field(default_factory=dict)  # access token → id


class FakeStrava:
    """Strava on 127.0.0.1 for one test: `with FakeStrava(clock=clock) as strava: ...`."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        token_lifetime: timedelta = TOKEN_LIFETIME,
        rotate: bool = True,
    ) -> None:
        self.clock = clock or SystemClock()
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.token_lifetime = token_lifetime
        self.rotate = rotate
        self.revoked = False
        self.limits = LIMITS
        self.read_limits = READ_LIMITS
        self.issued: list[str] = []  # every token and code handed out (for leak checks)
        self.before_request: Callable[[str, str], None] | None = None  # (method, path) hook
        self._state = _State()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.fake = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.code = self.new_code()
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_S,), daemon=True
        )

    def __enter__(self) -> FakeStrava:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()  # hung answers give up at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # --- controls ---

    def new_code(self) -> str:
        """A fresh authorization code, as the browser's redirect would carry it."""
        code = self._secret_value()
        with self._lock:
            self._state.codes.add(code)
        return code

    def grant(self, athlete: int | None = None) -> dict[str, Any]:
        """Issue tokens directly (as if a code had been exchanged): Strava's token JSON; of
        another Strava athlete than `ATHLETE_ID` when `athlete` names one."""
        with self._lock:
            if athlete is not None and athlete != ATHLETE_ID:
                return self._issue_other(athlete, with_athlete=True)
            return self._issue(with_athlete=True)

    def add_for(self, athlete: int, *activities: dict[str, Any]) -> None:
        """Activities of another Strava athlete (one `grant(athlete=...)` gave tokens to)."""
        with self._lock:
            mine = self._state.others_activities.setdefault(athlete, {})
            for activity in activities:
                mine[int(activity["id"])] = activity | {
                    "athlete": {"id": athlete, "resource_state": 1}
                }

    def add(self, *activities: dict[str, Any]) -> None:
        with self._lock:
            for activity in activities:
                self._state.activities[int(activity["id"])] = activity

    def edit(self, activity_id: int, **changes: Any) -> None:
        with self._lock:
            self._state.activities[activity_id] = self._state.activities[activity_id] | changes

    def remove(self, activity_id: int) -> None:
        with self._lock:
            del self._state.activities[activity_id]

    def set_shoes(self, shoes: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            self._state.shoes = list(shoes)

    def fail_next(
        self,
        count: int = 1,
        status: int = HTTPStatus.INTERNAL_SERVER_ERROR,
        *,
        path: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """The next `count` requests (to `path`, if given) answer `status`."""
        with self._lock:
            self._state.failures += [_Failure(status, 0.0, path, body) for _ in range(count)]

    def hang_next(self, count: int = 1, seconds: float = 30.0, *, path: str | None = None) -> None:
        """The next `count` requests get no answer for `seconds` (or until the server stops)."""
        with self._lock:
            self._state.failures += [_Failure(None, seconds, path, None) for _ in range(count)]

    def expire_access_tokens(self) -> None:
        """Every access token handed out stops working now (clients still think them valid)."""
        with self._lock:
            self._state.access.clear()

    def revoke(self) -> None:
        """The athlete revoked restday: refreshes answer 400, access tokens stop working."""
        with self._lock:
            self.revoked = True
            self._state.access.clear()

    def set_usage(
        self,
        short: int | None = None,
        daily: int | None = None,
        *,
        read_short: int | None = None,
        read_daily: int | None = None,
    ) -> None:
        with self._lock:
            for counter, index, value in (
                (self._state.usage, 0, short),
                (self._state.usage, 1, daily),
                (self._state.read_usage, 0, read_short),
                (self._state.read_usage, 1, read_daily),
            ):
                if value is not None:
                    counter[index] = value

    # --- what happened ---

    @property
    def access_token(self) -> str | None:
        """The newest valid access token."""
        with self._lock:
            return next(reversed(self._state.access), None)

    @property
    def refresh_token(self) -> str | None:
        """The one refresh token that works now."""
        return self._state.refresh_token

    def count(self, path: str | None = None, method: str | None = None) -> int:
        """Requests received (to `path`, with `method`), failed and hung ones included."""
        with self._lock:
            return sum(
                1
                for m, p, _ in self._state.requests
                if (path is None or p == path) and (method is None or m == method)
            )

    def requests(self, path: str) -> list[dict[str, str]]:
        """The query (GET) or form (POST) parameters of each request to `path`."""
        with self._lock:
            return [params for _, p, params in self._state.requests if p == path]

    # --- serving (on the server's threads) ---

    def _secret_value(self) -> str:
        value = secrets.token_hex(TOKEN_HEX_BYTES)
        self.issued.append(value)
        return value

    def _issue(self, *, with_athlete: bool) -> dict[str, Any]:
        expires_at = self.clock.now() + self.token_lifetime
        access = self._secret_value()
        self._state.access[access] = expires_at
        self._state.refresh_token = self._secret_value()
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": self._state.refresh_token,
            "expires_at": int(expires_at.timestamp()),
            "expires_in": int(self.token_lifetime.total_seconds()),
        }
        if with_athlete:
            answer["athlete"] = {"id": ATHLETE_ID, "resource_state": 2, "firstname": "Ada"}
        return answer

    def _issue_other(self, athlete: int, *, with_athlete: bool) -> dict[str, Any]:
        """`_issue` for another athlete of the application: their own rotating refresh token."""
        expires_at = self.clock.now() + self.token_lifetime
        access, refresh = self._secret_value(), self._secret_value()
        self._state.access[access] = expires_at
        self._state.others_access[access] = athlete
        self._state.others_refresh[refresh] = athlete
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": int(expires_at.timestamp()),
            "expires_in": int(self.token_lifetime.total_seconds()),
        }
        if with_athlete:
            answer["athlete"] = {"id": athlete, "resource_state": 2, "firstname": str(athlete)}
        return answer

    def handle(
        self, method: str, path: str, params: dict[str, str], bearer: str
    ) -> tuple[int, dict[str, Any] | list[Any], float]:
        """(status, JSON body, seconds to hang first) for one request."""
        if self.before_request is not None:
            self.before_request(method, path)
        with self._lock:
            self._state.requests.append((method, path, params))
            failure = next(
                (f for f in self._state.failures if f.path is None or f.path == path), None
            )
            if failure is not None:
                self._state.failures.remove(failure)
                if failure.status is None:
                    return (
                        HTTPStatus.OK,
                        self._answer(method, path, params, bearer)[1],
                        failure.hang_s,
                    )
                return failure.status, failure.body or _body_for(failure.status), 0.0
            status, body = self._answer(method, path, params, bearer)
            return status, body, 0.0

    def _answer(
        self, method: str, path: str, params: dict[str, str], bearer: str
    ) -> tuple[int, dict[str, Any] | list[Any]]:
        if method == "POST" and path == TOKEN_PATH:
            return self._token(params)
        if not path.startswith("/api/v3/"):
            return HTTPStatus.NOT_FOUND, error_body(
                "Record Not Found", "resource", "path", "invalid"
            )
        state = self._state
        if state.usage[0] >= self.limits[0] or state.usage[1] >= self.limits[1]:
            return HTTPStatus.TOO_MANY_REQUESTS, RATE_LIMITED
        if method == "GET" and (
            state.read_usage[0] >= self.read_limits[0] or state.read_usage[1] >= self.read_limits[1]
        ):
            return HTTPStatus.TOO_MANY_REQUESTS, RATE_LIMITED
        state.usage[:] = [n + 1 for n in state.usage]
        if method == "GET":
            state.read_usage[:] = [n + 1 for n in state.read_usage]
        expiry = state.access.get(bearer)
        if expiry is None or expiry <= self.clock.now():
            return HTTPStatus.UNAUTHORIZED, UNAUTHORIZED
        other = state.others_access.get(bearer)
        if other is not None and method == "GET" and path == ACTIVITIES_PATH:
            return HTTPStatus.OK, self._activities(params, state.others_activities.get(other, {}))
        if other is not None and method == "GET" and path == ATHLETE_PATH:
            return HTTPStatus.OK, {"id": other, "resource_state": 3, "shoes": [], "bikes": []}
        if method == "GET" and path == ACTIVITIES_PATH:
            return HTTPStatus.OK, self._activities(params)
        if method == "GET" and path == ATHLETE_PATH:
            athlete = {"id": ATHLETE_ID, "resource_state": 3, "firstname": "Ada", "lastname": "R"}
            return HTTPStatus.OK, athlete | {"shoes": list(state.shoes), "bikes": []}
        return HTTPStatus.NOT_FOUND, error_body("Record Not Found", "resource", "path", "invalid")

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return HTTPStatus.UNAUTHORIZED, CLIENT_REFUSED
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = form.get("code", "")
            if code not in self._state.codes:
                return HTTPStatus.BAD_REQUEST, CODE_REFUSED
            self._state.codes.discard(code)  # a code works once
            self.revoked = False
            return HTTPStatus.OK, self._issue(with_athlete=True)
        if grant == "refresh_token":
            old = form.get("refresh_token")
            other = self._state.others_refresh.pop(old or "", None)
            if other is not None and not self.revoked:  # another athlete's: theirs rotates
                answer = self._issue_other(other, with_athlete=False)
                if not self.rotate:
                    del self._state.others_refresh[answer["refresh_token"]]
                    self._state.others_refresh[old or ""] = other
                    answer["refresh_token"] = old
                return HTTPStatus.OK, answer
            if self.revoked or old is None or old != self._state.refresh_token:
                return HTTPStatus.BAD_REQUEST, REFRESH_REFUSED
            answer = self._issue(with_athlete=False)  # rotation: `old` stops working
            if not self.rotate:
                self._state.refresh_token = answer["refresh_token"] = old
            return HTTPStatus.OK, answer
        return HTTPStatus.BAD_REQUEST, error_body("Bad Request", "Token", "grant_type", "invalid")

    def _activities(
        self, params: dict[str, str], source: dict[int, dict[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        """The page asked for, of the first athlete's activities or of `source`."""
        after, before = params.get("after"), params.get("before")
        page, per_page = int(params.get("page", 1)), int(params.get("per_page", DEFAULT_PER_PAGE))
        chosen = [
            a
            for a in (self._state.activities if source is None else source).values()
            if (after is None or _epoch(a) > int(after))
            and (before is None or _epoch(a) < int(before))
        ]
        chosen.sort(key=_epoch, reverse=after is None)  # oldest first only with `after`
        return chosen[(page - 1) * per_page : page * per_page]

    def rate_headers(self) -> dict[str, str]:
        with self._lock:
            usage, read = self._state.usage, self._state.read_usage
            return {
                "X-RateLimit-Limit": f"{self.limits[0]},{self.limits[1]}",
                "X-RateLimit-Usage": f"{usage[0]},{usage[1]}",
                "X-ReadRateLimit-Limit": f"{self.read_limits[0]},{self.read_limits[1]}",
                "X-ReadRateLimit-Usage": f"{read[0]},{read[1]}",
            }


def _epoch(activity: dict[str, Any]) -> int:
    start = datetime.strptime(activity["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int(start.timestamp())


def _body_for(status: int) -> dict[str, Any]:
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return RATE_LIMITED
    if status == HTTPStatus.UNAUTHORIZED:
        return UNAUTHORIZED
    if status == HTTPStatus.FORBIDDEN:
        return INACTIVE_APP
    return SERVER_ERROR


class _Handler(BaseHTTPRequestHandler):
    def _serve(self, method: str) -> None:
        fake: FakeStrava = self.server.fake  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode("utf-8")
            params |= {k: v[-1] for k, v in parse_qs(form).items()}
        bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        status, body, hang_s = fake.handle(method, url.path, params, bearer)
        if hang_s and fake._closing.wait(hang_s):
            return  # the server is stopping: no answer at all
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in fake.rate_headers().items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (a timeout test)
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read `count()` instead."""

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # a client that hung up mid-request
            super().handle()
