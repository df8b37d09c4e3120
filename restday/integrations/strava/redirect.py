"""The one-shot OAuth redirect listener of `restday strava auth`.

`RedirectListener` catches the browser's redirect on 127.0.0.1, checks `state`, answers with a
short page and closes its sockets in every case. Connections are served concurrently, each on
its own thread, so an idle or slow one (a browser's speculative preconnect, a port scanner) never
holds up the real redirect; one overall deadline bounds the whole wait. The first redirect to
`REDIRECT_PATH` settles the outcome, exactly once, under a lock; later ones are told that the
sign-in has already finished. No HTTP to Strava here.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import socket
import socketserver
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from restday.integrations.strava.errors import AUTH_HINT, StravaError

log = logging.getLogger("restday.integrations.strava_auth")  # its name before the package

LOOPBACK = "127.0.0.1"
REDIRECT_PATH = "/authorized"
REQUEST_READ_TIMEOUT_S = 5.0  # per read: a browser sends its request at once; idle is dropped
SERVE_POLL_S = 0.05  # how often the accepting thread checks whether to stop
ANSWER_GRACE_S = 1.0  # a redirect taken just before the deadline still gets its page out
HANDLERS_EXIT_S = 1.0  # at the end, how long open connections get to finish their answer
LISTEN_BACKLOG = 64  # connections the kernel queues until they are accepted
PAGE = (
    "<!doctype html><meta charset=utf-8><title>restday</title>"
    "<body style='font-family:sans-serif'><h1>{title}</h1><p>{text}</p></body>"
)

Outcome = str | StravaError  # the authorization code, or why there is none
_Request = socket.socket | tuple[bytes, socket.socket]  # socketserver's: a socket for TCP


class _RedirectServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """The listener's socket and its connections, one thread each.

    `outcome` is set once, by the first request to the redirect path (`take`), until `stop_taking`;
    `answered` is set when that request's page has been written.
    """

    allow_reuse_address = True  # a fixed port can be used again right after a run
    daemon_threads = True  # a connection stuck anyway never keeps the process alive
    block_on_close = False  # `close` bounds its own wait for the connections
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, port: int, read_timeout_s: float) -> None:
        super().__init__((LOOPBACK, port), _RedirectHandler)
        self.read_timeout_s = read_timeout_s
        self.expected_state = ""
        self.outcome: Outcome | None = None
        self.scope = ""
        self.answered = threading.Event()
        self._lock = threading.Lock()
        self._taking = True  # False once the wait is over: no outcome is taken after that
        self._closed = False
        self._serving: threading.Thread | None = None
        self._connections: dict[_Request, threading.Thread] = {}

    def start(self) -> None:
        self._serving = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": SERVE_POLL_S},
            name="restday-strava-redirect",
            daemon=True,
        )
        self._serving.start()

    def take(self, outcome: Outcome, scope: str) -> bool:
        """Settle the outcome unless it is settled or the wait is over; whether this did."""
        with self._lock:
            if self.outcome is not None or not self._taking:
                return False
            self.outcome = outcome
            self.scope = scope
            return True

    def stop_taking(self) -> Outcome | None:
        """End the wait: the outcome as it stands, never changed after this."""
        with self._lock:
            self._taking = False
            return self.outcome

    def process_request(self, request: _Request, client_address: object) -> None:
        """Like ThreadingMixIn's, but each connection and its thread are kept for `close`."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name="restday-strava-redirect-connection",
            daemon=True,
        )
        with self._lock:
            if self._closed:
                self.close_request(request)
                return
            self._connections[request] = thread
        thread.start()

    def shutdown_request(self, request: _Request) -> None:
        with self._lock:
            self._connections.pop(request, None)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("Strava auth: a request to the redirect listener failed")

    def close(self) -> None:
        """Stop accepting, close the listening socket, then end every open connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._taking = False
        if self._serving is not None:
            self.shutdown()  # returns once serve_forever does: within SERVE_POLL_S
            self._serving.join()
        self.server_close()  # connects are refused from here on
        with self._lock:
            connections = dict(self._connections)
        # Reading ends at once (an idle or slow client gets end-of-file); an answer being
        # written, such as "already finished", still goes out.
        for connection in connections:
            _shut(connection, socket.SHUT_RD)
        deadline = time.monotonic() + HANDLERS_EXIT_S
        for thread in connections.values():
            thread.join(max(deadline - time.monotonic(), 0.0))
        with self._lock:
            stuck = list(self._connections)
        for connection in stuck:
            _shut(connection, socket.SHUT_RDWR)  # its thread wakes up and closes it
        if connections:
            log.debug(
                "Strava auth: closed %d connection(s) still open at the end (%d stuck)",
                len(connections),
                len(stuck),
            )


def _shut(connection: _Request, how: int) -> None:
    if isinstance(connection, socket.socket):  # always, over TCP
        with contextlib.suppress(OSError):  # the client has gone already
            connection.shutdown(how)


class _RedirectHandler(BaseHTTPRequestHandler):
    server: _RedirectServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.read_timeout_s)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != REDIRECT_PATH:  # e.g. the browser's /favicon.ico: not the redirect
            self._answer(HTTPStatus.NOT_FOUND, "Not found", "This is restday's sign-in helper.")
            return
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        outcome = _outcome(query, self.server.expected_state)
        if not self.server.take(outcome, query.get("scope", "")):
            log.debug("Strava auth: a redirect came after the sign-in had finished")
            text = "You can close this tab. If restday did not say it is authorized, run it again."
            self._answer(HTTPStatus.CONFLICT, "restday's sign-in has already finished", text)
            return
        try:
            if isinstance(outcome, StravaError):
                self._answer(HTTPStatus.BAD_REQUEST, "restday was not authorized", str(outcome))
            else:
                text = "You can close this tab; restday now reads your Strava activities."
                self._answer(HTTPStatus.OK, "restday is authorized", text)
        finally:
            self.server.answered.set()

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


def _outcome(query: dict[str, str], expected_state: str) -> Outcome:
    if query.get("error") == "access_denied":
        return StravaError(
            f"the authorization was denied in the browser: {AUTH_HINT} again and press Authorize"
        )
    if query.get("error"):
        return StravaError(f"Strava reported an error in the browser: {AUTH_HINT} again")
    state = query.get("state", "")
    if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
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
    untick some); the sockets are closed whatever happened. `read_timeout_s`: how long one
    connection may stay silent before it is dropped (it never holds up the others).
    """

    def __init__(self, port: int = 0, *, read_timeout_s: float = REQUEST_READ_TIMEOUT_S) -> None:
        try:
            self._server = _RedirectServer(port, read_timeout_s)
        except OSError as exc:
            raise StravaError(
                f"cannot listen on {LOOPBACK}:{port} for the redirect ({exc.strerror}); "
                "choose another port or use `restday strava auth --code CODE`"
            ) from None
        self.port: int = self._server.server_address[1]
        self.redirect_uri = f"http://{LOOPBACK}:{self.port}{REDIRECT_PATH}"
        self.scope = ""

    def wait_for_code(self, state: str, timeout_s: float) -> str:
        """The authorization code of the first redirect; StravaError if none comes in time.

        `timeout_s` is one deadline for the whole wait, whatever other connections do.
        """
        server = self._server
        server.expected_state = state
        try:
            server.start()
            answered = server.answered.wait(timeout_s)
            outcome = server.stop_taking()
            if outcome is None:
                raise StravaError(
                    f"no redirect from the browser within {timeout_s:g} s: {AUTH_HINT} "
                    "again, or paste the code with `restday strava auth --code CODE`"
                )
            if not answered:  # taken just before the deadline: let its page go out
                server.answered.wait(ANSWER_GRACE_S)
        finally:
            self.close()
        if isinstance(outcome, StravaError):
            raise outcome
        self.scope = server.scope
        return outcome

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> RedirectListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
