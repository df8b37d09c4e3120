"""How many Strava API calls restday makes: an idle day of polls, and first backfills; and an
idle day of a household of three sharing one Strava application.

Runs restday's real sync (stravalib through `StravaClient`, `StravaSync`) against a local
stand-in for Strava's API (tests/strava_server.py) on a fixed clock that jumps from poll to
poll, and counts the HTTP requests Strava would see (token refreshes included). The household
is built as the service builds it (`build_syncs`: one limiter for the app) and polled when the
service's scheduler would poll it (`build_scheduler`'s triggers, spread and jitter included;
the scheduler itself never runs).

Usage: .venv/bin/python bench/bench_strava_calls.py
Targets: an idle day at the default poll interval under 100 calls (issue 6); an idle household
of 3 on one app well under the app's daily read limit (issue 13).
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from restday.clock import FixedClock
from restday.config import Config, StravaConfig, load_config
from restday.daemon.events import Event
from restday.daemon.schedule import STRAVA_POLL_JOB, athlete_job, build_scheduler
from restday.daemon.strava_sync import StravaSync
from restday.daemon.strava_syncs import build_syncs
from restday.integrations.strava import StravaClient, Token, TokenStore
from restday.integrations.strava.rate_limits import next_quarter
from tests.strava_server import ATHLETE_ID, READ_LIMITS, FakeStrava, summary_activity

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 20, 0, 0, tzinfo=TZ)
POLL = timedelta(minutes=StravaConfig().poll_minutes)
DAY = timedelta(days=1)
HOUSEHOLD = 3  # athletes on one Strava application
READ_LIMIT_15_MIN, READ_LIMIT_DAY = READ_LIMITS  # a new app's: 100 reads per 15 min, 1,000 a day


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


def household_config(folder: Path, fake: FakeStrava, athletes: int) -> Config:
    """`athletes` runners in Berlin on the shared `[strava]` application."""
    text = (
        f'[storage]\npath = "{folder / "restday.db"}"\n'
        f'[strava]\nclient_id = "{fake.client_id}"\nclient_secret = "{fake.client_secret}"\n'
        f'api_url = "{fake.url}"\nbackfill_days = 30\n'
    )
    for index in range(athletes):
        text += f'[[athlete]]\nid = "runner{index}"\ntimezone = "{TZ.key}"\n'
    path = folder / "restday.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, explicit=True)


def household_day(athletes: int) -> tuple[int, Counter[str], int]:
    """(polls fired, the app's requests over the idle day by kind, the most requests in one of
    Strava's 15-minute windows) for `athletes` runners on one app, one stored run each."""
    clock = FixedClock(START)
    with FakeStrava(clock=clock) as fake, TemporaryDirectory() as tmp:
        config = household_config(Path(tmp), fake, athletes)
        yesterday = START.astimezone(UTC) - DAY
        for index, athlete_id in enumerate(config.athlete_ids()):
            strava_id = ATHLETE_ID + index  # the first is the fake's own athlete
            token = Token.from_json(fake.grant(athlete=strava_id))
            TokenStore(config.token_path(athlete_id)).save(token)
            run = summary_activity(100 + index, yesterday, 8.0)
            if index:
                fake.add_for(strava_id, run)
            else:
                fake.add(run)
        results: list[Event] = []
        syncs = build_syncs(config, clock, results.append, lambda athlete_id: yesterday)
        scheduler = build_scheduler(
            config, results.append, {a: s.poll for a, s in syncs.items()}, wall_clock=clock
        )
        startup: list[tuple[datetime, str]] = []  # each athlete's first poll (the shoes read)
        polls: list[tuple[datetime, str]] = []  # then a day of polls
        for athlete_id in syncs:
            job = scheduler.get_job(athlete_job(config, STRAVA_POLL_JOB, athlete_id))
            fired = job.next_run_time
            startup.append((fired, athlete_id))
            for _ in range(DAY // POLL):
                fired = job.trigger.get_next_fire_time(fired, fired)
                polls.append((fired, athlete_id))
        for moment, athlete_id in startup:
            clock.set(moment)
            syncs[athlete_id].poll()
        seen: list[tuple[datetime, str]] = []
        fake.before_request = lambda method, path: seen.append((clock.now(), method + " " + path))
        window = None
        for moment, athlete_id in sorted(polls):
            clock.set(moment)
            if next_quarter(moment) != window:  # Strava's 15-minute window starts over
                window = next_quarter(moment)
                fake.set_usage(short=0, read_short=0)
            syncs[athlete_id].poll()
        kinds = Counter(kind for _, kind in seen)
        per_window = Counter(next_quarter(moment) for moment, _ in seen)
        return len(polls), kinds, max(per_window.values(), default=0)


def main() -> None:
    polls, calls = idle_day()
    print(f"idle day at poll_minutes = {POLL.seconds // 60}: {polls} scheduled polls, "
          f"{calls} Strava calls (token refreshes and the daily shoes included)")  # fmt: skip
    polls, kinds, peak = household_day(HOUSEHOLD)
    total = sum(kinds.values())
    reads = sum(n for kind, n in kinds.items() if kind.startswith("GET "))
    print(
        f"idle household of {HOUSEHOLD} on one app, poll_minutes = {POLL.seconds // 60}: "
        f"{polls} scheduled polls, {total} Strava calls for the app in the day "
        f"({reads} reads: {reads / READ_LIMIT_DAY:.0%} of the {READ_LIMIT_DAY:,} a day; "
        f"{total - reads} token refreshes), peak {peak} in one 15-minute window "
        f"(limit {READ_LIMIT_15_MIN}); by request: {dict(sorted(kinds.items()))}"
    )
    for years in (1, 5):
        print(f"first backfill of {years} year(s), one activity a day: {backfill(years)} calls")


if __name__ == "__main__":
    main()
