"""Strava counts its rate limits per application: the athletes of a household who share one
app share one limiter, while an athlete with an app of their own is not held up by the others.
Real stravalib against the local fake Strava (tests/strava_server.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from pydantic import SecretStr

from restday.clock import FixedClock
from restday.config import StravaConfig
from restday.integrations.strava import RateLimited, StravaClient
from restday.integrations.strava.rate_limits import RateLimits
from tests.strava_server import FakeStrava

START = datetime(2026, 11, 20, 10, 7, tzinfo=UTC)
NEXT_QUARTER = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
MONTH_AGO = START - timedelta(days=30)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeStrava]:
    with FakeStrava(clock=clock) as server:
        yield server


def signed_in(
    fake: FakeStrava, token_file: Path, clock: FixedClock, limits: RateLimits | None
) -> StravaClient:
    config = StravaConfig(
        client_id=fake.client_id, client_secret=SecretStr(fake.client_secret), api_url=fake.url
    )
    client = StravaClient(config, token_file, clock=clock, limits=limits)
    client.exchange_code(fake.new_code())
    return client


def test_a_429_for_one_athlete_holds_back_the_others_of_that_app_without_any_http(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    app = RateLimits(clock)
    anna = signed_in(fake, tmp_path / "strava-token-anna.json", clock, app)
    ben = signed_in(fake, tmp_path / "strava-token-ben.json", clock, app)
    fake.fail_next(1, HTTPStatus.TOO_MANY_REQUESTS)

    with pytest.raises(RateLimited):
        anna.activities(after=MONTH_AGO)
    calls = fake.count()
    with pytest.raises(RateLimited) as limited:
        ben.activities(after=MONTH_AGO)

    assert limited.value.until == NEXT_QUARTER
    assert fake.count() == calls
    assert (anna.calls_today, ben.calls_today) == (app.calls_today, app.calls_today)


def test_an_athlete_with_an_app_of_their_own_is_not_held_back(
    fake: FakeStrava, clock: FixedClock, tmp_path: Path
) -> None:
    anna = signed_in(fake, tmp_path / "strava-token-anna.json", clock, RateLimits(clock))
    ben = signed_in(fake, tmp_path / "strava-token-ben.json", clock, RateLimits(clock))
    fake.fail_next(1, HTTPStatus.TOO_MANY_REQUESTS)

    with pytest.raises(RateLimited):
        anna.activities(after=MONTH_AGO)

    assert ben.activities(after=MONTH_AGO) == []
