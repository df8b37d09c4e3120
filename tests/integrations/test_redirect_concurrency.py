"""The redirect listener serves its connections concurrently under one overall deadline.

Real sockets on 127.0.0.1 (a free port each test). Nothing sleeps to wait for something to
happen: the tests order events by doing them in turn (a connection made first is accepted
first) and wait on futures, joins and events, each with a generous bound that only a hang
reaches. The long deadlines are never reached in a passing run; the short one is the subject.
"""

from __future__ import annotations

import logging
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from restday.integrations.strava import RedirectListener, StravaError

STATE = "st4te-5b0e"
CODE = "c0de-91aa3f"
SLOW_CODE = "c0de-slow-00"
LONG_S = 60.0  # a deadline or read timeout that a passing run never reaches
SHORT_WAIT_S = 0.3  # the deadline under test
BOUND_S = 30.0  # how long a test waits for what must happen, before calling it a hang
DRIBBLE_GAP_S = 0.01  # a slow-loris client's pause between two bytes
IDLE_CONNECTIONS = 40
STRAY_REQUESTS = 20
RACING_REDIRECTS = 8
WORKERS = 32


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=WORKERS) as workers:
        yield workers


@pytest.fixture
def listener() -> Iterator[RedirectListener]:
    """A listener whose connections are never dropped for being idle during a test."""
    with RedirectListener(read_timeout_s=LONG_S) as it:
        yield it
    for thread in threading.enumerate():  # its threads end with it
        if thread.name.startswith("restday-strava-redirect"):
            thread.join(BOUND_S)
            assert not thread.is_alive(), thread.name


def browse(url: str) -> tuple[int, str]:
    """What a browser gets for `url` (no proxies): status and page."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=BOUND_S) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode("utf-8")


def browse_or_cut_off(url: str) -> tuple[int, str]:
    """Like `browse`, but a connection that the listener closed unanswered gives (0, "")."""
    try:
        return browse(url)
    except (urllib.error.URLError, ConnectionError):
        return 0, ""


def redirect(listener: RedirectListener, code: str = CODE) -> str:
    return f"{listener.redirect_uri}?state={STATE}&code={code}&scope=read"


def idle_connection(port: int) -> socket.socket:
    """A connection that sends nothing, like a browser's speculative preconnect."""
    return socket.create_connection(("127.0.0.1", port), timeout=BOUND_S)


def ended_by_the_listener(connection: socket.socket) -> bool:
    """Whether the listener closed `connection` (end-of-file or reset) without answering."""
    with connection:
        try:
            return connection.recv(1024) == b""
        except ConnectionResetError:
            return True


def closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=BOUND_S).close()
    except ConnectionRefusedError:
        return True
    return False


class SlowLoris:
    """A client that sends a redirect one byte at a time and never finishes its headers.

    It connects at once (so it is ahead of any later connection) and dribbles on a thread until
    the listener closes the connection; `ended` says whether that happened.
    """

    def __init__(self, pool: ThreadPoolExecutor, port: int, state: str) -> None:
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=BOUND_S)
        self._request = (
            f"GET /authorized?state={state}&code={SLOW_CODE} HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\nX-Slow: "
        ).encode()
        self.started = threading.Event()
        self._stop = threading.Event()
        self._done: Future[bool] = pool.submit(self._dribble)

    def _dribble(self) -> bool:
        """True once the listener has closed the connection; False if told to stop."""
        sent = 0
        with self._socket:
            while not self._stop.is_set():
                byte = self._request[sent : sent + 1] or b"a"  # the header never ends
                try:
                    self._socket.send(byte)
                except OSError:  # broken pipe or reset: the listener closed it
                    return True
                sent += 1
                self.started.set()
                self._stop.wait(DRIBBLE_GAP_S)
        return False

    def ended(self) -> bool:
        try:
            return self._done.result(BOUND_S)
        finally:
            self._stop.set()


def no_secret_in(caplog: pytest.LogCaptureFixture, *secrets: str) -> bool:
    return all(s not in record.getMessage() for record in caplog.records for s in secrets)


def test_an_idle_connection_does_not_hold_up_a_redirect_made_after_it(
    pool: ThreadPoolExecutor, listener: RedirectListener
) -> None:
    idle = idle_connection(listener.port)  # accepted first; its read would last LONG_S
    code = pool.submit(listener.wait_for_code, STATE, LONG_S)
    status, page = browse(redirect(listener))
    assert (status, "restday is authorized" in page) == (200, True)
    assert code.result(BOUND_S) == CODE
    assert listener.scope == "read"
    assert ended_by_the_listener(idle)
    assert closed(listener.port)


def test_a_slow_loris_connection_does_not_hold_up_a_redirect_made_after_it(
    pool: ThreadPoolExecutor, listener: RedirectListener
) -> None:
    slow = SlowLoris(pool, listener.port, STATE)  # a valid redirect, if it ever finished
    code = pool.submit(listener.wait_for_code, STATE, LONG_S)
    assert slow.started.wait(BOUND_S)
    assert browse(redirect(listener))[0] == 200
    assert code.result(BOUND_S) == CODE  # not SLOW_CODE
    assert slow.ended()
    assert closed(listener.port)


def test_many_concurrent_connections_are_served_and_the_redirect_still_gets_through(
    pool: ThreadPoolExecutor, listener: RedirectListener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = pool.submit(listener.wait_for_code, STATE, LONG_S)
    idle = [idle_connection(listener.port) for _ in range(IDLE_CONNECTIONS)]
    stray_url = listener.redirect_uri.replace("/authorized", "/favicon.ico")
    strays = [pool.submit(browse, stray_url) for _ in range(STRAY_REQUESTS)]
    assert [stray.result(BOUND_S)[0] for stray in strays] == [404] * STRAY_REQUESTS
    assert browse(redirect(listener))[0] == 200
    assert code.result(BOUND_S) == CODE
    assert all(ended_by_the_listener(connection) for connection in idle)
    assert closed(listener.port)
    assert no_secret_in(caplog, CODE, STATE)


def test_of_redirects_racing_each_other_exactly_one_is_taken(
    pool: ThreadPoolExecutor, listener: RedirectListener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wait = pool.submit(listener.wait_for_code, STATE, LONG_S)
    codes = [f"{CODE}-{n}" for n in range(RACING_REDIRECTS)]
    go = threading.Barrier(RACING_REDIRECTS)

    def race(code: str) -> tuple[int, str]:
        go.wait(BOUND_S)
        return browse_or_cut_off(redirect(listener, code))

    pages = dict(zip(codes, [pool.submit(race, code) for code in codes], strict=True))
    taken = wait.result(BOUND_S)
    answers = {code: page.result(BOUND_S) for code, page in pages.items()}
    assert [code for code, (status, _) in answers.items() if status == 200] == [taken]
    for code, (status, page) in answers.items():
        if code != taken:  # answered "already finished", or closed unanswered at the end
            assert (status, "already finished" in page) in {(409, True), (0, False)}
    assert closed(listener.port)
    assert no_secret_in(caplog, *codes, STATE)


def test_the_deadline_ends_the_wait_with_an_idle_and_a_slow_connection_open(
    pool: ThreadPoolExecutor, listener: RedirectListener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slow = SlowLoris(pool, listener.port, STATE)  # accepted first, each byte read in time
    idle = idle_connection(listener.port)
    assert slow.started.wait(BOUND_S)
    wait = pool.submit(listener.wait_for_code, STATE, SHORT_WAIT_S)
    with pytest.raises(StravaError, match=r"no redirect from the browser within 0\.3 s"):
        wait.result(BOUND_S)
    assert ended_by_the_listener(idle)
    assert slow.ended()
    assert closed(listener.port)
    assert no_secret_in(caplog, SLOW_CODE, STATE)


def test_a_listener_closed_without_waiting_closes_its_port() -> None:
    listener = RedirectListener()
    listener.close()
    listener.close()  # twice is harmless
    assert closed(listener.port)
