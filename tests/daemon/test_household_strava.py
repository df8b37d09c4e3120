"""A household's Strava syncs (issue 13): one per athlete with an application, each result
marked with its athlete, one rate limiter per application, each athlete's own quiet night, and
the single athlete's token kept for the first athlete of a household. Real stravalib against
the local fake Strava (tests/strava_server.py), on a fixed clock."""

from __future__ import annotations

import logging
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path

import pytest

from restday.clock import FixedClock
from restday.config import TOKEN_FILE_NAME, Config, load_config
from restday.daemon.events import Event
from restday.daemon.strava_syncs import adopt_single_token, build_syncs, strava_apps
from restday.integrations.strava import Token, TokenStore
from restday.sync import SyncResult
from tests.strava_server import ATHLETE_ID, FakeStrava, summary_activity

NOON = datetime(2026, 11, 20, 12, 7, tzinfo=UTC)  # 13:07 in Berlin, 07:07 in New York
NEXT_QUARTER = "12:15 UTC"
BERLIN_NIGHT = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 02:00 in Berlin, 20:00 in New York
POLL = timedelta(minutes=15)
ZONES = {"anna": "Europe/Berlin", "ben": "Europe/Berlin", "cleo": "America/New_York"}
STRAVA_IDS = {"anna": ATHLETE_ID, "ben": 5001, "cleo": 5002}  # their Strava athlete ids
OWN_APP = 'strava = { client_id = "777", client_secret = "cleo-own-secret" }'


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOON)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeStrava]:
    with FakeStrava(clock=clock) as server:
        yield server


def household(
    folder: Path,
    fake: FakeStrava,
    *,
    own_app: str | None = None,
    shared_app: bool = True,
    athletes: tuple[str, ...] = ("anna", "ben", "cleo"),
) -> Config:
    """Anna, Ben (Berlin) and Cleo (New York), on the shared app unless told otherwise."""
    text = f'[storage]\npath = "{folder / "restday.db"}"\n'
    if shared_app:
        text += (
            f'[strava]\nclient_id = "{fake.client_id}"\nclient_secret = "{fake.client_secret}"\n'
            f'api_url = "{fake.url}"\nbackfill_days = 30\n'
        )
    else:
        text += f'[strava]\napi_url = "{fake.url}"\nbackfill_days = 30\n'
    for athlete in athletes:
        text += f'[[athlete]]\nid = "{athlete}"\ntimezone = "{ZONES[athlete]}"\n'
        if athlete == own_app:
            text += OWN_APP + "\n"
    path = folder / "restday.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, explicit=True)


def signed_in(config: Config, fake: FakeStrava) -> None:
    """Each athlete authorised restday: a token file of their own, from their own grant."""
    for athlete in config.athlete_ids():
        token = Token.from_json(fake.grant(athlete=STRAVA_IDS[athlete]))
        TokenStore(config.token_path(athlete)).save(token)


def no_runs_stored(athlete_id: str) -> datetime | None:
    return None


def results_of(events: list[Event]) -> list[SyncResult]:
    return [event for event in events if isinstance(event, SyncResult)]


def test_each_athletes_sync_brings_their_own_runs_marked_with_their_id(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    yesterday = NOON - timedelta(days=1)
    fake.add(summary_activity(1, yesterday, 8.0))
    fake.add_for(STRAVA_IDS["ben"], summary_activity(2, yesterday, 12.0))
    config = household(tmp_path, fake)
    signed_in(config, fake)
    events: list[Event] = []
    asked: list[str] = []

    def newest_start(athlete_id: str) -> datetime | None:
        asked.append(athlete_id)
        return None

    syncs = build_syncs(config, clock, events.append, newest_start)
    for sync in syncs.values():
        sync.poll()

    assert list(syncs) == ["anna", "ben", "cleo"]
    assert asked == ["anna", "ben", "cleo"]  # each resumes where their own history ends
    assert [(r.athlete_id, [a["id"] for a in r.activities]) for r in results_of(events)] == [
        ("anna", [1]),
        ("ben", [2]),
        ("cleo", []),
    ]
    assert all(r.error is None and r.auth == "ok" for r in results_of(events))


def test_a_429_for_one_athlete_of_an_app_holds_back_the_others_syncs_without_http(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    config = household(tmp_path, fake)
    signed_in(config, fake)
    events: list[Event] = []
    syncs = build_syncs(config, clock, events.append, no_runs_stored)
    fake.fail_next(1, HTTPStatus.TOO_MANY_REQUESTS)

    syncs["anna"].poll()
    calls = fake.count()
    syncs["ben"].poll()
    syncs["cleo"].poll()

    assert fake.count() == calls
    limited = f"rate limited until {NEXT_QUARTER}"
    assert [(r.athlete_id, r.error) for r in results_of(events)] == [
        ("anna", limited),
        ("ben", limited),
        ("cleo", limited),
    ]


def test_an_athlete_with_an_app_of_their_own_is_not_held_back_by_the_shared_apps_429(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    config = household(tmp_path, fake, own_app="cleo")
    signed_in(config, fake)
    events: list[Event] = []
    syncs = build_syncs(config, clock, events.append, no_runs_stored)
    fake.fail_next(1, HTTPStatus.TOO_MANY_REQUESTS)

    for sync in syncs.values():
        sync.poll()

    limited = f"rate limited until {NEXT_QUARTER}"
    errors = {r.athlete_id: r.error for r in results_of(events)}
    assert errors == {"anna": limited, "ben": limited, "cleo": None}
    assert syncs["anna"].client.calls_today == syncs["ben"].client.calls_today == 1  # one app
    assert syncs["cleo"].client.calls_today == 2  # its own: the runs and the shoes
    assert list(strava_apps(config).values()) == [("anna", "ben"), ("cleo",)]


def test_only_athletes_with_an_application_get_a_sync(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    events: list[Event] = []
    own_only = household(tmp_path, fake, own_app="cleo", shared_app=False)
    assert list(build_syncs(own_only, clock, events.append, no_runs_stored)) == ["cleo"]
    nobody = household(tmp_path, fake, shared_app=False)
    assert build_syncs(nobody, clock, events.append, no_runs_stored) == {}


def test_quiet_hours_are_each_athletes_own_night(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    clock.set(BERLIN_NIGHT)
    config = household(tmp_path, fake)
    signed_in(config, fake)
    events: list[Event] = []
    syncs = build_syncs(config, clock, events.append, no_runs_stored)

    for _ in range(4):  # an hour of 15-minute polls
        for sync in syncs.values():
            sync.poll()
        clock.advance(POLL)

    polled = Counter(r.athlete_id for r in results_of(events))
    assert polled == {"anna": 1, "ben": 1, "cleo": 4}  # 02:00 in Berlin, 20:00 in New York


def test_a_single_install_that_became_a_household_keeps_its_token_for_the_first_athlete(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = household(tmp_path, fake)
    single = config.store_path().parent / TOKEN_FILE_NAME
    token = Token.from_json(fake.grant())
    TokenStore(single).save(token)  # written by the single athlete's `restday strava auth`
    events: list[Event] = []

    with caplog.at_level(logging.INFO, logger="restday.daemon.strava_syncs"):
        syncs = build_syncs(config, clock, events.append, no_runs_stored)

    anna = config.token_path("anna")
    assert anna.name == "strava-token-anna.json"
    assert not single.exists()
    assert stat.S_IMODE(anna.stat().st_mode) == 0o600
    assert TokenStore(anna).load() == token
    (record,) = [r for r in caplog.records if r.name == "restday.daemon.strava_syncs"]
    assert record.levelno == logging.INFO
    assert "strava-token-anna.json" in record.getMessage()
    assert {a: s.client.auth_state() for a, s in syncs.items()} == {
        "anna": "ok",
        "ben": "required",
        "cleo": "required",
    }
    syncs["anna"].poll()
    assert [(r.athlete_id, r.error) for r in results_of(events)] == [("anna", None)]


def test_the_first_athletes_own_token_is_never_replaced_by_the_single_one(
    fake: FakeStrava, tmp_path: Path
) -> None:
    config = household(tmp_path, fake)
    single = config.store_path().parent / TOKEN_FILE_NAME
    old, own = Token.from_json(fake.grant()), Token.from_json(fake.grant())
    TokenStore(single).save(old)
    TokenStore(config.token_path("anna")).save(own)

    assert adopt_single_token(config) is None

    assert TokenStore(config.token_path("anna")).load() == own
    assert TokenStore(single).load() == old


def test_a_single_athlete_keeps_strava_token_json(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    config = household(tmp_path, fake, athletes=("anna",))
    single = config.store_path().parent / TOKEN_FILE_NAME
    TokenStore(single).save(Token.from_json(fake.grant()))
    events: list[Event] = []

    assert adopt_single_token(config) is None
    syncs = build_syncs(config, clock, events.append, no_runs_stored)

    assert config.token_path("anna") == single
    assert single.exists()
    assert syncs["anna"].client.auth_state() == "ok"


NO_STRAVA_PROBE = """
import sys
from pathlib import Path
from restday.clock import SystemClock
from restday.config import load_config
from restday.daemon.strava_syncs import build_syncs
config = load_config(Path(sys.argv[1]), explicit=True)
syncs = build_syncs(config, SystemClock(), lambda event: None, lambda athlete: None)
side = ("restday.integrations.strava.", "http.server")  # strava_json parses imports too
loaded = sorted(m for m in sys.modules if m.startswith(side) or m == side[0][:-1])
print(len(syncs), loaded)
"""


def test_a_service_without_strava_loads_nothing_of_the_strava_side(tmp_path: Path) -> None:
    """Its HTTP server for the authorisation, its clients: about half a megabyte of a Pi's
    memory that a runner without Strava never needs."""
    path = tmp_path / "restday.toml"
    path.write_text('[[athlete]]\nid = "anna"\n[[athlete]]\nid = "ben"\n')
    probe = subprocess.run(
        [sys.executable, "-c", NO_STRAVA_PROBE, str(path)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert probe.stdout.split() == ["0", "[]"]
