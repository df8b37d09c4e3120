"""The one-shot OAuth redirect listener of `restday strava auth`.

`RedirectListener` catches the browser's redirect once on 127.0.0.1, checks `state`, answers
with a short page and closes its socket in every case. No HTTP to Strava here.
"""

from __future__ import annotations

import hmac
import logging
import socketserver
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from restday.integrations.strava.errors import AUTH_HINT, StravaError

log = logging.getLogger("restday.integrations.strava_auth")  # its name before the package

LOOPBACK = "127.0.0.1"
REDIRECT_PATH = "/authorized"
REQUEST_READ_TIMEOUT_S = 5.0  # a browser sends its request at once; an idle socket is dropped
MIN_READ_S = 0.1  # ... but a request that arrives at the deadline still gets this long
PAGE = (
    "<!doctype html><meta charset=utf-8><title>restday</title>"
    "<body style='font-family:sans-serif'><h1>{title}</h1><p>{text}</p></body>"
)


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
