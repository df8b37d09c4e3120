"""The token file (atomic, 0600, a corrupt one is "no token") and the OAuth redirect listener.

The listener tests play the browser with urllib; the token-file tests watch the file system
calls (os.fsync, os.replace) from outside, without patching restday.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import stat
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restday.config import TOKEN_FILE_NAME
from restday.integrations.strava import RedirectListener, StravaError, Token, TokenStore

EXPIRES = datetime(2026, 11, 20, 16, 7, tzinfo=UTC)
OLD = Token("access-old-" + "a" * 29, "refresh-old-" + "b" * 28, EXPIRES, "activity:read_all", 42)
NEW = Token("access-new-" + "c" * 29, "refresh-new-" + "d" * 28, EXPIRES + timedelta(hours=6))
SAVES_WHILE_READING = 200
BROWSER_TIMEOUT_S = 5.0
WAIT_S = 5.0
SHORT_WAIT_S = 0.3
GAVE_UP_WITHIN_S = 3.0
STATE = "st4te-9f2c"
CODE = "c0de-7d1e4a"
SCOPE = "read,activity:read_all,profile:read_all"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / TOKEN_FILE_NAME


@pytest.fixture
def browser() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


def browse(url: str) -> tuple[int, str]:
    """What a browser gets for `url` (no proxies): status and page."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=BROWSER_TIMEOUT_S) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode("utf-8")


def visit(
    pool: ThreadPoolExecutor, listener: RedirectListener, query: str
) -> Future[tuple[int, str]]:
    return pool.submit(browse, f"{listener.redirect_uri}?{query}")


def closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the token file ---


def test_a_saved_token_reads_back_private_and_leaves_no_temp_file(path: Path) -> None:
    old_umask = os.umask(0)  # even a permissive umask must not loosen the file
    try:
        TokenStore(path).save(OLD)
    finally:
        os.umask(old_umask)
    assert TokenStore(path).load() == OLD
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700  # restday created the folder: private too
    assert [p.name for p in path.parent.iterdir()] == [TOKEN_FILE_NAME]


def test_a_replaced_token_file_is_private_again_even_if_it_was_loosened(path: Path) -> None:
    store = TokenStore(path)
    store.save(OLD)
    path.chmod(0o644)
    store.save(NEW)
    assert mode(path) == 0o600
    assert store.load() == NEW


def test_the_new_token_is_complete_and_on_disk_before_it_replaces_the_old_one(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(path)
    store.save(OLD)
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        kind = "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(f"fsync {kind}")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        assert Path(src).parent == path.parent  # the temp file is in the same folder
        assert Token.from_json(json.loads(Path(src).read_text())) == NEW  # complete
        assert store.load() == OLD  # and the old file untouched until now
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store.save(NEW)
    assert events == ["fsync file", "replace", "fsync folder"]
    assert store.load() == NEW


def test_a_crash_before_the_rename_leaves_the_old_token_intact(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(path)
    store.save(OLD)

    def crash(src: str, dst: str) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        store.save(NEW)
    assert store.load() == OLD
    assert [p.name for p in path.parent.iterdir()] == [TOKEN_FILE_NAME]


def test_a_reader_never_sees_a_half_written_token_file(path: Path) -> None:
    store = TokenStore(path)
    store.save(OLD)
    done = threading.Event()
    seen: list[str] = []

    def read_all_the_time() -> None:
        while not done.is_set():
            seen.append(path.read_text(encoding="utf-8"))

    reader = threading.Thread(target=read_all_the_time)
    reader.start()
    try:
        for n in range(SAVES_WHILE_READING):
            store.save(NEW if n % 2 else OLD)
    finally:
        done.set()
        reader.join()
    assert seen
    assert {Token.from_json(json.loads(text)) for text in seen} <= {OLD, NEW}


def test_a_corrupt_token_file_reads_as_no_token_with_one_warning(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path.parent.mkdir()
    path.write_text('{"access_token": "half-written-secr', encoding="utf-8")
    store = TokenStore(path)
    with caplog.at_level(logging.DEBUG):
        assert store.load() is None
        assert store.load() is None  # read again at the next poll: no second warning
    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert str(path) in warning.getMessage()
    assert "restday strava auth" in warning.getMessage()
    assert "secr" not in warning.getMessage()


def test_a_token_path_that_is_a_folder_reads_as_no_token_with_a_warning(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path.mkdir(parents=True)
    with caplog.at_level(logging.WARNING):
        assert TokenStore(path).load() is None
    assert len(caplog.records) == 1


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        '{"refresh_token": "r", "expires_at": 1}',
        '{"access_token": "a", "refresh_token": "", "expires_at": 1}',
        '{"access_token": "a", "refresh_token": "r", "expires_at": "soon"}',
        '{"access_token": "a", "refresh_token": "r", "expires_at": 1, "athlete_id": "x"}',
        '{"access_token": "a", "refresh_token": "r", "expires_at": 1e300}',
    ],
)
def test_a_token_file_with_unusable_fields_reads_as_no_token(path: Path, content: str) -> None:
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    assert TokenStore(path).load() is None


def test_a_missing_token_file_reads_as_no_token_quietly(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert TokenStore(path).load() is None
    assert caplog.records == []


def test_a_token_shows_neither_of_its_tokens_when_printed() -> None:
    shown = repr(OLD) + str(OLD) + f"{OLD}"
    assert OLD.access_token not in shown
    assert OLD.refresh_token not in shown
    assert "2026-11-20T16:07:00+00:00" in shown


# --- the redirect listener ---


def test_the_listener_catches_the_redirect_and_answers_the_browser(
    browser: ThreadPoolExecutor,
) -> None:
    listener = RedirectListener()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/authorized", listener.redirect_uri)
    page = visit(browser, listener, f"state={STATE}&code={CODE}&scope={SCOPE}")
    assert listener.wait_for_code(STATE, WAIT_S) == CODE
    assert listener.scope == SCOPE
    status, text = page.result(BROWSER_TIMEOUT_S)
    assert status == 200
    assert "restday is authorized" in text
    assert closed(listener.port)


def test_a_redirect_for_another_state_is_refused(browser: ThreadPoolExecutor) -> None:
    listener = RedirectListener()
    page = visit(browser, listener, f"state=someone-else&code={CODE}")
    with pytest.raises(StravaError, match="state does not match"):
        listener.wait_for_code(STATE, WAIT_S)
    status, text = page.result(BROWSER_TIMEOUT_S)
    assert status == 400
    assert "not authorized" in text
    assert closed(listener.port)


def test_a_denied_authorization_says_so(browser: ThreadPoolExecutor) -> None:
    listener = RedirectListener()
    visit(browser, listener, f"state={STATE}&error=access_denied")
    with pytest.raises(StravaError, match="denied in the browser"):
        listener.wait_for_code(STATE, WAIT_S)
    assert closed(listener.port)


def test_no_redirect_in_time_gives_up_and_closes_the_port() -> None:
    listener = RedirectListener()
    began = time.monotonic()
    with pytest.raises(StravaError, match=r"no redirect from the browser within 0\.3 s"):
        listener.wait_for_code(STATE, SHORT_WAIT_S)
    assert time.monotonic() - began < GAVE_UP_WITHIN_S
    assert closed(listener.port)


def test_a_stray_request_does_not_use_up_the_listener(browser: ThreadPoolExecutor) -> None:
    listener = RedirectListener()
    code = browser.submit(listener.wait_for_code, STATE, WAIT_S)
    status, _ = browse(listener.redirect_uri.replace("/authorized", "/favicon.ico"))
    assert status == 404
    assert browse(f"{listener.redirect_uri}?state={STATE}&code={CODE}")[0] == 200
    assert code.result(WAIT_S) == CODE


def test_a_chosen_port_is_used_and_a_busy_one_is_named() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with RedirectListener(port) as listener:
        assert listener.redirect_uri == f"http://127.0.0.1:{port}/authorized"
        with pytest.raises(StravaError, match=f"cannot listen on 127.0.0.1:{port}"):
            RedirectListener(port)


def test_the_code_is_neither_logged_nor_printed(
    browser: ThreadPoolExecutor,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    listener = RedirectListener()
    visit(browser, listener, f"state={STATE}&code={CODE}")
    assert listener.wait_for_code(STATE, WAIT_S) == CODE
    out, err = capfd.readouterr()
    assert CODE not in out + err
    assert all(CODE not in record.getMessage() for record in caplog.records)
