"""StravaClient against a local fake Strava (tests/strava_server.py) through the real stravalib.

No patching of stravalib or restday: the client's `api_url` points at the fake, time is a
FixedClock shared by both, and every assertion about "no call" reads the fake's request log.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from restday.clock import FixedClock
from restday.config import TOKEN_FILE_NAME, StravaConfig
from restday.integrations.strava import (
    REFRESH_MARGIN,
    SCOPES,
    AuthRequired,
    RateLimited,
    StravaClient,
    StravaError,
    Token,
    TokenStore,
    Unavailable,
)
from tests.strava_server import (
    ACTIVITIES_PATH,
    ATHLETE_ID,
    ATHLETE_PATH,
    INACTIVE_APP,
    TOKEN_LIFETIME,
    TOKEN_PATH,
    FakeStrava,
    summary_activity,
    summary_gear,
)

START = datetime(2026, 11, 20, 10, 7, tzinfo=UTC)  # a Friday, 10:07 UTC
NEXT_QUARTER = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
NEXT_MIDNIGHT = datetime(2026, 11, 21, tzinfo=UTC)
MONTH_AGO = START - timedelta(days=30)
SHORT_READ_TIMEOUT_S = 0.5
HANG_S = 30.0  # far longer than the read timeout; the fake stops hanging when it closes
GAVE_UP_WITHIN_S = 5.0
RUN_SPACING = timedelta(hours=1)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeStrava]:
    with FakeStrava(clock=clock) as server:
        yield server


@pytest.fixture
def token_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / TOKEN_FILE_NAME


@pytest.fixture
def new_client(
    fake: FakeStrava, token_path: Path, clock: FixedClock
) -> Callable[..., StravaClient]:
    """A StravaClient on the fake: each call is a new process reading the same token file."""

    def make(**options: Any) -> StravaClient:
        return StravaClient(config_for(fake), token_path, clock=clock, **options)

    return make


@pytest.fixture
def client(new_client: Callable[..., StravaClient], fake: FakeStrava) -> StravaClient:
    """An authorized client (the code exchanged at START)."""
    strava = new_client()
    strava.exchange_code(fake.code)
    return strava


def config_for(fake: FakeStrava, **changes: Any) -> StravaConfig:
    fields: dict[str, Any] = {
        "client_id": fake.client_id,
        "client_secret": SecretStr(fake.client_secret),
        "api_url": fake.url,
    }
    return StravaConfig(**(fields | changes))


def runs(count: int, newest: datetime = START - RUN_SPACING) -> list[dict[str, Any]]:
    return [summary_activity(n, newest - n * RUN_SPACING, 8.0) for n in range(count)]


def starts(activities: list[dict[str, Any]]) -> list[str]:
    return [a["start_date"] for a in activities]


# --- authorization ---


def test_pasting_the_code_stores_the_tokens_for_the_athlete(
    new_client: Callable[..., StravaClient], fake: FakeStrava, token_path: Path
) -> None:
    strava = new_client()
    token = strava.exchange_code(fake.code, scope="read,activity:read_all,profile:read_all")
    assert TokenStore(token_path).load() == token
    assert token.refresh_token == fake.refresh_token
    assert token.athlete_id == ATHLETE_ID
    assert token.expires_at == START + TOKEN_LIFETIME
    assert token.scope == "read,activity:read_all,profile:read_all"
    assert strava.auth_state() == "ok"
    (form,) = fake.requests(TOKEN_PATH)
    assert form["grant_type"] == "authorization_code"


def test_a_code_used_twice_is_refused_with_stravas_reason_and_nothing_is_stored(
    client: StravaClient, fake: FakeStrava, token_path: Path
) -> None:
    before = token_path.read_bytes()
    with pytest.raises(StravaError) as refused:
        client.exchange_code(fake.code)
    assert not isinstance(refused.value, AuthRequired | Unavailable)
    assert "refused the authorization code" in str(refused.value)
    assert "AuthorizationCode code invalid" in str(refused.value)
    assert fake.code not in str(refused.value)
    assert token_path.read_bytes() == before
    assert client.last_error == str(refused.value)


def test_an_authorization_without_activity_access_is_refused_before_calling_strava(
    new_client: Callable[..., StravaClient], fake: FakeStrava, token_path: Path
) -> None:
    with pytest.raises(StravaError, match="without access to your activities"):
        new_client().exchange_code(fake.code, scope="read,profile:read_all")
    assert fake.count() == 0
    assert not token_path.exists()


def test_the_authorize_url_asks_strava_for_the_scopes_with_the_state(
    new_client: Callable[..., StravaClient], fake: FakeStrava
) -> None:
    url = new_client().authorize_url("http://127.0.0.1:8123/authorized", "st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{fake.url}/oauth/authorize"
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query == {
        "client_id": fake.client_id,
        "redirect_uri": "http://127.0.0.1:8123/authorized",
        "response_type": "code",
        "approval_prompt": "auto",
        "scope": SCOPES,
        "state": "st4te",
    }
    assert SCOPES == "activity:read_all,profile:read_all"


def test_without_client_id_and_secret_strava_is_not_configured_and_never_called(
    fake: FakeStrava, token_path: Path, clock: FixedClock
) -> None:
    strava = StravaClient(StravaConfig(api_url=fake.url), token_path, clock=clock)
    assert not strava.configured
    assert strava.auth_state() == "not_configured"
    with pytest.raises(StravaError, match=r"strava\.client_id and strava\.client_secret"):
        strava.activities()
    with pytest.raises(StravaError, match="not configured"):
        strava.exchange_code(fake.code)
    assert fake.count() == 0


def test_before_the_first_authorization_nothing_is_called_and_auth_is_required(
    new_client: Callable[..., StravaClient], fake: FakeStrava
) -> None:
    strava = new_client()
    assert strava.configured
    assert strava.auth_state() == "required"
    with pytest.raises(AuthRequired, match="restday strava auth"):
        strava.activities(after=MONTH_AGO)
    assert fake.count() == 0


def test_a_client_id_that_is_not_a_number_is_named(fake: FakeStrava, token_path: Path) -> None:
    config = config_for(fake, client_id="my-app")
    with pytest.raises(StravaError, match=r"strava\.client_id must be the number"):
        StravaClient(config, token_path).authorize_url("http://127.0.0.1:1/authorized", "s")


def test_a_wrong_client_secret_is_named_as_the_problem(
    fake: FakeStrava, token_path: Path, clock: FixedClock
) -> None:
    wrong = config_for(fake, client_secret=SecretStr("not-" + fake.client_secret))
    strava = StravaClient(wrong, token_path, clock=clock)
    with pytest.raises(AuthRequired, match=r"check strava\.client_id and strava\.client_secret"):
        strava.exchange_code(fake.code)
    TokenStore(token_path).save(Token("a" * 40, "r" * 40, START))  # expired: needs a refresh
    with pytest.raises(AuthRequired, match=r"check strava\.client_id and strava\.client_secret"):
        strava.athlete()
    assert fake.count(TOKEN_PATH) == 2
    assert fake.count(ATHLETE_PATH) == 0


# --- the token lifecycle ---


def test_a_token_about_to_expire_is_refreshed_first_and_the_rotated_one_survives_a_restart(
    client: StravaClient,
    new_client: Callable[..., StravaClient],
    fake: FakeStrava,
    clock: FixedClock,
    token_path: Path,
) -> None:
    first = TokenStore(token_path).load()
    assert first is not None
    seen_by_strava: list[Token | None] = []
    fake.before_request = lambda method, path: seen_by_strava.append(TokenStore(token_path).load())
    clock.set(first.expires_at - REFRESH_MARGIN + timedelta(seconds=1))
    fake.add(*runs(3))
    assert len(client.activities(after=MONTH_AGO)) == 3
    saved = TokenStore(token_path).load()
    assert saved is not None
    assert saved.refresh_token == fake.refresh_token != first.refresh_token
    assert fake.requests(TOKEN_PATH)[-1]["grant_type"] == "refresh_token"
    assert seen_by_strava[-1] == saved  # the rotated token was on disk before the next call
    assert (saved.scope, saved.athlete_id) == (first.scope, first.athlete_id)
    restarted = new_client()
    assert len(restarted.activities(after=MONTH_AGO)) == 3
    assert fake.count(TOKEN_PATH) == 2  # the exchange and one refresh: no refresh on restart


def test_a_token_with_more_than_the_margin_left_is_used_as_it_is(
    client: StravaClient, fake: FakeStrava, clock: FixedClock
) -> None:
    clock.set(START + TOKEN_LIFETIME - REFRESH_MARGIN - timedelta(seconds=1))
    client.activities(after=MONTH_AGO)
    assert fake.count(TOKEN_PATH) == 1  # the exchange only
    assert fake.count(ACTIVITIES_PATH) == 1


def test_a_rejected_access_token_is_refreshed_once_and_the_call_retried(
    client: StravaClient, fake: FakeStrava, token_path: Path
) -> None:
    fake.set_shoes([summary_gear("g1", "Pegasus 40", 812.0, primary=True)])
    fake.expire_access_tokens()
    athlete = client.athlete()
    assert athlete["shoes"][0]["distance"] == 812000.0
    assert fake.count(ATHLETE_PATH) == 2
    assert fake.count(TOKEN_PATH) == 2  # the exchange and the one refresh
    saved = TokenStore(token_path).load()
    assert saved is not None
    assert saved.refresh_token == fake.refresh_token


def test_a_revoked_authorization_stops_all_calls_until_a_new_authorization(
    client: StravaClient, new_client: Callable[..., StravaClient], fake: FakeStrava
) -> None:
    fake.revoke()
    with pytest.raises(AuthRequired, match="restday strava auth") as refused:
        client.athlete()
    assert "RefreshToken refresh_token invalid" in str(refused.value)
    calls = fake.count()
    for call in (client.athlete, lambda: client.activities(after=MONTH_AGO)):
        with pytest.raises(AuthRequired):
            call()
    assert fake.count() == calls  # no call to Strava at all
    assert client.auth_state() == "required"
    assert client.last_error is not None
    new_client().exchange_code(fake.new_code())  # `restday strava auth` in another process
    assert client.auth_state() == "ok"
    assert client.athlete()["id"] == ATHLETE_ID
    assert client.last_error is None


def test_access_refused_even_after_a_refresh_asks_for_a_new_authorization(
    client: StravaClient, fake: FakeStrava
) -> None:
    fake.fail_next(2, HTTPStatus.UNAUTHORIZED, path=ATHLETE_PATH)
    with pytest.raises(AuthRequired, match="restday strava auth"):
        client.athlete()
    assert fake.count(ATHLETE_PATH) == 2
    assert fake.count(TOKEN_PATH) == 2
    calls = fake.count()
    with pytest.raises(AuthRequired):
        client.athlete()
    assert fake.count() == calls
    assert client.auth_state() == "required"


def test_a_refreshed_token_the_disk_refuses_is_kept_and_saved_before_the_next_call(
    client: StravaClient,
    fake: FakeStrava,
    clock: FixedClock,
    token_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_replace = os.replace

    def disk_full(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    clock.advance(TOKEN_LIFETIME)
    with pytest.raises(StravaError, match="cannot save the Strava token") as failed:
        client.activities(after=MONTH_AGO)
    assert "No space left on device" in str(failed.value)
    assert fake.count(ACTIVITIES_PATH) == 0  # nothing after a refresh that is not on disk
    assert client.auth_state() == "ok"
    monkeypatch.setattr(os, "replace", real_replace)
    client.activities(after=MONTH_AGO)
    saved = TokenStore(token_path).load()
    assert saved is not None
    assert saved.refresh_token == fake.refresh_token
    assert fake.count(TOKEN_PATH) == 2  # the exchange and one refresh, not a second one


# --- activities and the athlete ---


def test_the_first_backfill_reads_every_page_oldest_first(
    client: StravaClient, fake: FakeStrava
) -> None:
    fake.add(*runs(450))
    activities = client.activities(after=START - timedelta(days=120))
    assert len(activities) == 450
    assert len({a["id"] for a in activities}) == 450
    assert starts(activities) == sorted(starts(activities))
    assert [r["page"] for r in fake.requests(ACTIVITIES_PATH)] == ["1", "2", "3"]
    assert {r["per_page"] for r in fake.requests(ACTIVITIES_PATH)} == {"200"}


def test_an_idle_sync_costs_a_single_call(client: StravaClient, fake: FakeStrava) -> None:
    fake.add(*runs(5))
    assert client.activities(after=START - timedelta(minutes=30)) == []
    assert fake.count(ACTIVITIES_PATH) == 1


def test_a_full_last_page_needs_one_more_call_to_see_the_end(
    client: StravaClient, fake: FakeStrava
) -> None:
    fake.add(*runs(200))
    assert len(client.activities(after=MONTH_AGO)) == 200
    assert fake.count(ACTIVITIES_PATH) == 2


def test_after_and_before_bound_the_activities_by_start_time(
    client: StravaClient, fake: FakeStrava
) -> None:
    fake.add(*runs(10))  # starts at 09:07, 08:07, ... 00:07
    after = START.replace(hour=3, minute=0)
    newer = client.activities(after=after)
    assert [a["id"] for a in newer] == [6, 5, 4, 3, 2, 1, 0]
    window = client.activities(after=after, before=START.replace(hour=6, minute=0))
    assert [a["id"] for a in window] == [6, 5, 4]
    query = fake.requests(ACTIVITIES_PATH)[-1]
    assert int(query["after"]) == int(after.timestamp())


def test_without_a_start_every_activity_comes_oldest_first(
    client: StravaClient, fake: FakeStrava
) -> None:
    fake.add(*runs(4))
    assert [a["id"] for a in client.activities()] == [3, 2, 1, 0]


def test_an_activity_edited_on_strava_comes_back_with_its_new_values(
    client: StravaClient, fake: FakeStrava
) -> None:
    fake.add(*runs(2))
    fake.edit(1, distance=21097.5, sport_type="TrailRun", gear_id="g9")
    edited = next(a for a in client.activities(after=MONTH_AGO) if a["id"] == 1)
    assert (edited["distance"], edited["sport_type"], edited["gear_id"]) == (
        21097.5,
        "TrailRun",
        "g9",
    )


def test_a_start_without_a_time_zone_is_a_programming_error(client: StravaClient) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        client.activities(after=datetime(2026, 11, 1))  # noqa: DTZ001 -- the point of the test


def test_the_summary_activity_carries_what_the_rules_need(
    client: StravaClient, fake: FakeStrava
) -> None:
    run = summary_activity(
        7, START - timedelta(hours=3), 10.0, hr=148.3, max_hr=171.0, suffer=52,
        cadence_per_leg=84.2, gear_id="g1",
    )  # fmt: skip
    fake.add(run)
    (got,) = client.activities(after=MONTH_AGO)
    assert got["start_date"] == "2026-11-20T07:07:00Z"
    assert got["start_date_local"] == "2026-11-20T08:07:00Z"  # Berlin wall clock, tagged Z
    assert (got["distance"], got["moving_time"], got["elapsed_time"]) == (10000.0, 3300, 3360)
    assert (got["sport_type"], got["type"], got["gear_id"]) == ("Run", "Run", "g1")
    assert (got["average_heartrate"], got["max_heartrate"]) == (148.3, 171.0)
    assert (got["suffer_score"], got["average_cadence"]) == (52, 84.2)


# --- rate limits ---


def test_a_429_blocks_calls_until_the_next_quarter_hour_without_any_http(
    client: StravaClient, fake: FakeStrava, clock: FixedClock
) -> None:
    fake.fail_next(1, HTTPStatus.TOO_MANY_REQUESTS)
    with pytest.raises(RateLimited) as limited:
        client.activities(after=MONTH_AGO)
    assert limited.value.until == NEXT_QUARTER
    assert "10:15 UTC" in str(limited.value)
    assert client.blocked_until == NEXT_QUARTER
    calls = fake.count()
    clock.set(NEXT_QUARTER - timedelta(seconds=1))
    for call in (client.athlete, lambda: client.activities(after=MONTH_AGO)):
        with pytest.raises(RateLimited):
            call()
    assert fake.count() == calls
    clock.set(NEXT_QUARTER)
    assert client.blocked_until is None
    assert client.activities(after=MONTH_AGO) == []
    assert fake.count() == calls + 1


def test_the_daily_limit_blocks_until_utc_midnight(
    client: StravaClient, fake: FakeStrava, clock: FixedClock
) -> None:
    fake.set_usage(daily=fake.limits[1])  # the fake answers 429 as Strava does
    with pytest.raises(RateLimited) as limited:
        client.athlete()
    assert limited.value.until == NEXT_MIDNIGHT
    clock.set(NEXT_MIDNIGHT - timedelta(minutes=1))
    calls = fake.count()
    with pytest.raises(RateLimited):
        client.athlete()
    assert fake.count() == calls


@pytest.mark.parametrize(
    ("usage", "blocked_until"),
    [
        ({"read_short": 88}, None),  # this call makes it 89 of 100: go on
        ({"read_short": 89}, NEXT_QUARTER),  # 90 of 100 reads in 15 minutes
        ({"short": 179}, NEXT_QUARTER),  # 180 of 200 requests in 15 minutes
        ({"read_daily": 898}, None),
        ({"read_daily": 899}, NEXT_MIDNIGHT),  # 900 of 1,000 reads today
        ({"daily": 1799}, NEXT_MIDNIGHT),
    ],
)
def test_usage_near_a_limit_stops_calls_until_its_window_resets(
    client: StravaClient,
    fake: FakeStrava,
    usage: dict[str, int],
    blocked_until: datetime | None,
) -> None:
    fake.set_usage(**usage)
    assert client.athlete()["id"] == ATHLETE_ID  # the call itself still counts
    assert client.blocked_until == blocked_until
    calls = fake.count()
    if blocked_until is None:
        client.athlete()
        assert fake.count() == calls + 1
    else:
        with pytest.raises(RateLimited):
            client.athlete()
        assert fake.count() == calls


# --- Strava down ---


def test_a_server_error_is_unavailable_and_the_next_call_tries_again(
    client: StravaClient, fake: FakeStrava
) -> None:
    fake.fail_next(1, HTTPStatus.INTERNAL_SERVER_ERROR)
    with pytest.raises(Unavailable, match="HTTP 500") as down:
        client.athlete()
    assert "Traceback" not in str(down.value)
    assert client.blocked_until is None
    assert client.athlete()["id"] == ATHLETE_ID


def test_a_hanging_strava_is_given_up_within_the_read_timeout(
    new_client: Callable[..., StravaClient], fake: FakeStrava
) -> None:
    strava = new_client(read_timeout_s=SHORT_READ_TIMEOUT_S)
    strava.exchange_code(fake.code)
    fake.hang_next(1, HANG_S)
    began = time.monotonic()
    with pytest.raises(Unavailable, match=r"did not answer within 0\.5 s"):
        strava.athlete()
    assert time.monotonic() - began < GAVE_UP_WITHIN_S
    assert strava.athlete()["id"] == ATHLETE_ID


def test_a_refused_connection_is_unavailable(
    fake: FakeStrava, token_path: Path, clock: FixedClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    TokenStore(token_path).save(Token("a" * 40, "r" * 40, START + TOKEN_LIFETIME))
    url = f"http://127.0.0.1:{closed_port}"
    strava = StravaClient(config_for(fake, api_url=url), token_path, clock=clock)
    with pytest.raises(Unavailable, match=r"cannot connect to Strava at .* \(connection refused\)"):
        strava.athlete()
    assert strava.calls_today == 1


def test_an_inactive_strava_application_is_unavailable(
    client: StravaClient, fake: FakeStrava
) -> None:
    fake.fail_next(1, HTTPStatus.FORBIDDEN, body=INACTIVE_APP)
    with pytest.raises(Unavailable, match="application is inactive"):
        client.athlete()


# --- bookkeeping ---


def test_calls_today_counts_every_request_and_starts_again_at_utc_midnight(
    client: StravaClient, fake: FakeStrava, clock: FixedClock
) -> None:
    client.athlete()
    fake.expire_access_tokens()
    client.athlete()  # 401, refresh, retry
    assert client.calls_today == fake.count() == 5
    clock.set(NEXT_MIDNIGHT - timedelta(seconds=1))
    assert client.calls_today == 5
    clock.set(NEXT_MIDNIGHT)
    assert client.calls_today == 0
    client.athlete()  # the token expired meanwhile: a refresh, then the call
    assert client.calls_today == 2


def test_no_token_secret_or_code_reaches_the_logs_or_an_error_message(
    new_client: Callable[..., StravaClient],
    fake: FakeStrava,
    clock: FixedClock,
    token_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    strava = new_client()

    def expect_failure(call: Callable[[], object]) -> None:
        with pytest.raises(StravaError) as failed:
            call()
        messages.append(str(failed.value))

    expect_failure(lambda: strava.exchange_code("not-a-code-" + fake.code))
    strava.exchange_code(fake.code)
    expect_failure(lambda: strava.exchange_code(fake.code))
    clock.advance(TOKEN_LIFETIME)  # a refresh before the call
    strava.athlete()
    fake.expire_access_tokens()  # a 401, a refresh, a retry
    strava.athlete()
    fake.fail_next(1, HTTPStatus.INTERNAL_SERVER_ERROR)
    expect_failure(strava.athlete)
    fake.revoke()
    expect_failure(strava.athlete)
    expect_failure(strava.athlete)
    formatter = logging.Formatter()
    logged = [formatter.format(record) for record in caplog.records]
    assert any("refreshed" in line for line in logged)  # the log did see the token work
    secrets = [fake.client_secret, *fake.issued]
    assert len(secrets) > 6
    for text in logged + messages + [repr(TokenStore(token_path).load())]:
        for secret in secrets:
            assert secret not in text


def test_creating_a_client_warns_about_nothing(
    fake: FakeStrava,
    token_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SILENCE_TOKEN_WARNINGS", "STRAVA_CLIENT_ID", "STRAVA_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    caplog.set_level(logging.DEBUG)
    StravaClient(config_for(fake), token_path).load()  # stravalib's client: built by load()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


SYNC_PROBE = """
import json, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from pydantic import SecretStr
from restday.config import StravaConfig
from restday.integrations.strava import StravaClient
client_id, secret, url, token_path = sys.argv[1:]
config = StravaConfig(client_id=client_id, client_secret=SecretStr(secret), api_url=url)
client = StravaClient(config, Path(token_path))
created = sorted({"stravalib", "numpy"} & set(sys.modules))
runs = client.activities(after=datetime.now(UTC) - timedelta(days=7))
synced = sorted({"stravalib", "numpy"} & set(sys.modules))
import numpy  # still there for whoever needs it
print(json.dumps({"created": created, "synced": synced, "runs": len(runs)}))
"""


def test_strava_costs_no_memory_before_the_first_request_and_never_loads_numpy(
    tmp_path: Path,
) -> None:
    """stravalib (~16 MB) comes with the first request, not with the client; numpy (12 MB
    through pint, when the plot extra installed it) not at all, yet it stays importable."""
    if importlib.util.find_spec("numpy") is None:
        pytest.skip("numpy is not installed: nothing could pull it in")
    token_path = tmp_path / TOKEN_FILE_NAME
    with FakeStrava() as fake:  # the system clock, as in a fresh process
        fake.add(summary_activity(1, datetime.now(UTC) - timedelta(days=1), 8.0))
        TokenStore(token_path).save(Token.from_json(fake.grant()))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RESTDAY_", "STRAVA_"))}
        probe = subprocess.run(
            [sys.executable, "-c", SYNC_PROBE, fake.client_id, fake.client_secret, fake.url,
             str(token_path)],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == {"created": [], "synced": ["stravalib"], "runs": 1}
