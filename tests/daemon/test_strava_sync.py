"""What a Strava poll costs: quiet nights, idle polls, shoes once a day or after news."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from restday.clock import FixedClock
from restday.config import StravaConfig
from restday.daemon.events import Event
from restday.daemon.strava_sync import StravaSync
from restday.integrations.strava import StravaClient, Token, TokenStore
from restday.sync import SyncResult
from tests.factories import TZ
from tests.strava_server import ACTIVITIES_PATH, ATHLETE_PATH, FakeStrava, summary_activity

MORNING = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
NIGHT = datetime(2026, 11, 20, 2, 0, tzinfo=TZ)
POLL = timedelta(minutes=15)
WAIT_S = 10.0  # for the other thread, on a loaded machine


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MORNING)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeStrava]:
    with FakeStrava(clock=clock) as strava:
        strava.add(summary_activity(1, MORNING.astimezone(UTC) - timedelta(days=1), 8.0))
        yield strava


def syncer(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path, put: Callable[[Event], None] | None = None
) -> tuple[StravaSync, list[Event]]:
    config = StravaConfig(client_id=fake.client_id, client_secret=fake.client_secret,
                          api_url=fake.url)  # fmt: skip
    TokenStore(tmp_path / "token.json").save(Token.from_json(fake.grant()))
    client = StravaClient(config, tmp_path / "token.json", clock=clock)
    results: list[Event] = []
    newest = MORNING.astimezone(UTC) - timedelta(days=1)
    return StravaSync(client, 30, put or results.append, lambda: newest, clock, TZ), results


def test_an_idle_poll_costs_one_call_the_shoes_are_read_once_a_day(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    sync, results = syncer(fake, clock, tmp_path)
    sync.poll()
    assert fake.count(ATHLETE_PATH) == 1  # the first sync reads the shoes
    for _ in range(4):
        clock.advance(POLL)
        sync.poll()
    assert fake.count(ACTIVITIES_PATH) == 5
    assert fake.count(ATHLETE_PATH) == 1  # known runs in the look-back are not news
    assert all(isinstance(r, SyncResult) and r.error is None for r in results)


def test_a_new_run_reads_the_shoes_again(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    sync, _ = syncer(fake, clock, tmp_path)
    sync.poll()
    fake.add(summary_activity(2, MORNING.astimezone(UTC) - timedelta(hours=1), 10.0))
    clock.advance(POLL)
    sync.poll()
    assert fake.count(ATHLETE_PATH) == 2


def test_at_night_polls_come_at_most_hourly_and_the_button_still_works(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    clock.set(NIGHT)
    sync, _ = syncer(fake, clock, tmp_path)
    for _ in range(4):  # an hour of 15-minute polls
        sync.poll()
        clock.advance(POLL)
    assert fake.count(ACTIVITIES_PATH) == 1
    sync.run()  # a press of the sync button is never held back
    assert fake.count(ACTIVITIES_PATH) == 2
    clock.set(MORNING)
    sync.poll()
    sync.poll()
    assert fake.count(ACTIVITIES_PATH) == 4  # in the day every poll asks


def test_a_press_while_a_sync_runs_is_followed_by_one_more_that_sees_the_new_run(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    handing_over, go_on = threading.Event(), threading.Event()
    results: list[Event] = []

    def put(event: Event) -> None:  # the worker's queue, slow to take the first result
        results.append(event)
        if len(results) == 1:
            handing_over.set()
            assert go_on.wait(WAIT_S)

    sync, _ = syncer(fake, clock, tmp_path, put)
    first = threading.Thread(target=sync.run)
    first.start()
    assert handing_over.wait(WAIT_S)  # the first sync has fetched and is handing its result over
    fake.add(summary_activity(2, MORNING.astimezone(UTC) - timedelta(hours=1), 5.0))
    for _ in range(3):  # the runner uploads a run and presses the button, impatiently
        sync.run()  # returns at once: a sync is running
    go_on.set()
    first.join(WAIT_S)
    assert not first.is_alive()
    assert fake.count(ACTIVITIES_PATH) == 2  # one follow-up for the burst, not three
    assert [len(r.activities) for r in results if isinstance(r, SyncResult)] == [1, 2]


def test_every_result_carries_the_athlete_the_sync_is_for(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    plain, results = syncer(fake, clock, tmp_path)
    plain.run()
    config = StravaConfig(client_id=fake.client_id, client_secret=fake.client_secret,
                          api_url=fake.url)  # fmt: skip
    client = StravaClient(config, tmp_path / "token.json", clock=clock)
    anna = StravaSync(client, 30, results.append, lambda: None, clock, TZ, athlete_id="anna")
    anna.run()
    assert anna.fetch().athlete_id == "anna"
    assert [r.athlete_id for r in results if isinstance(r, SyncResult)] == [None, "anna"]
