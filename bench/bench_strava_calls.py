"""How many Strava API calls restday makes: an idle day of polls, and first backfills.

Runs restday's real sync (stravalib through `StravaClient`, `StravaSync`) against a local
stand-in for Strava's API (tests/strava_server.py) on a fixed clock that jumps from poll to
poll, and counts the HTTP requests Strava would see (token refreshes included).

Usage: .venv/bin/python bench/bench_strava_calls.py
Target (issue 6): an idle day at the default poll interval under 100 calls.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from restday.clock import FixedClock
from restday.config import StravaConfig
from restday.daemon.events import Event
from restday.daemon.strava_sync import StravaSync
from restday.integrations.strava import StravaClient, Token, TokenStore
from tests.strava_server import FakeStrava, summary_activity

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 20, 0, 0, tzinfo=TZ)
POLL = timedelta(minutes=StravaConfig().poll_minutes)


def client_for(fake: FakeStrava, folder: Path, clock: FixedClock, backfill_days: int) -> StravaSync:
    config = StravaConfig(
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        api_url=fake.url,
        backfill_days=backfill_days,
    )
    tokens = folder / "strava-token.json"
    TokenStore(tokens).save(Token.from_json(fake.grant()))
    client = StravaClient(config, tokens, clock=clock)
    results: list[Event] = []
    return StravaSync(client, backfill_days, results.append, lambda: None, clock, TZ)


def idle_day() -> tuple[int, int]:
    """(polls the scheduler fires, requests Strava sees) over one day with nothing new."""
    clock = FixedClock(START)
    with FakeStrava(clock=clock) as fake, TemporaryDirectory() as tmp:
        fake.add(summary_activity(1, START.astimezone(UTC) - timedelta(days=1), 8.0))
        sync = client_for(fake, Path(tmp), clock, 30)
        newest = START.astimezone(UTC) - timedelta(days=1)
        sync._newest_start = lambda: newest  # the worker's cursor: one stored run
        sync.poll()  # the start-up sync of the day before is not part of the idle day
        before = fake.count()
        polls = 0
        moment = START
        while moment < START + timedelta(days=1):
            moment += POLL
            clock.set(moment)
            fake.set_usage(short=0, read_short=0)  # Strava's 15-minute window starts over
            sync.poll()
            polls += 1
        return polls, fake.count() - before


def backfill(years: int) -> int:
    """Requests for a first sync that backfills `years` of one activity a day."""
    clock = FixedClock(START)
    with FakeStrava(clock=clock) as fake, TemporaryDirectory() as tmp:
        now = START.astimezone(UTC)
        fake.add(*[summary_activity(10 + i, now - timedelta(days=i + 1), 8.0)
                   for i in range(years * 365)])  # fmt: skip
        sync = client_for(fake, Path(tmp), clock, years * 365 + 1)
        before = fake.count()
        result = sync.fetch()
        assert len(result.activities) == years * 365, len(result.activities)
        return fake.count() - before


def main() -> None:
    polls, calls = idle_day()
    print(f"idle day at poll_minutes = {POLL.seconds // 60}: {polls} scheduled polls, "
          f"{calls} Strava calls (token refreshes and the daily shoes included)")  # fmt: skip
    for years in (1, 5):
        print(f"first backfill of {years} year(s), one activity a day: {backfill(years)} calls")


if __name__ == "__main__":
    main()
