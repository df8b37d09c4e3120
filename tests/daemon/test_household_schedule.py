"""A household's jobs (issue 13): each athlete's morning report and midnight in their own zone
as `AthleteTick`s, Strava polls spread over the interval per application, a single athlete's
jobs as before, and the missed morning reports caught up per athlete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from restday.clock import FixedClock
from restday.config import Config, load_config
from restday.daemon.events import AthleteTick, Event, Tick
from restday.daemon.schedule import (
    MISFIRE_GRACE_S,
    POLL_JITTER_S,
    build_scheduler,
    missed_mornings,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POLL = timedelta(minutes=15)
WEEK_OF_POLLS = 7 * 24 * 4
JITTER = timedelta(seconds=POLL_JITTER_S)
IDS = ("anna", "ben", "cleo")
SHARED_APP = '[strava]\nclient_id = "12345"\nclient_secret = "shared-secret"\n'
CLEOS_OWN_APP = 'strava = { client_id = "777", client_secret = "cleo-own-secret" }\n'


def household(folder: Path, *, strava: str = SHARED_APP, cleo: str = "") -> Config:
    """Anna (Berlin, the shared 06:30), Ben (Berlin, 07:15), Cleo (New York, 06:30)."""
    text = '[schedule]\nmorning_report = "06:30"\n' + strava
    text += '[[athlete]]\nid = "anna"\ntimezone = "Europe/Berlin"\n'
    text += '[[athlete]]\nid = "ben"\ntimezone = "Europe/Berlin"\nmorning_report = "07:15"\n'
    text += '[[athlete]]\nid = "cleo"\ntimezone = "America/New_York"\n' + cleo
    path = folder / "restday.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, explicit=True)


def polls(*athletes: str) -> dict[str, Callable[[], None]]:
    return {athlete: lambda: None for athlete in athletes}


def first_polls(config: Config, athletes: tuple[str, ...]) -> dict[str, datetime]:
    scheduler = build_scheduler(
        config, lambda event: None, polls(*athletes), wall_clock=FixedClock(START)
    )
    return {a: scheduler.get_job(f"strava_poll:{a}").next_run_time for a in athletes}


def test_polls_of_three_athletes_on_one_app_are_spread_over_the_interval(tmp_path: Path) -> None:
    firsts = first_polls(household(tmp_path), IDS)
    assert firsts == {
        "anna": START,  # the first at once, as a single athlete's
        "ben": START + timedelta(minutes=5),
        "cleo": START + timedelta(minutes=10),
    }


def test_an_athlete_with_an_app_of_their_own_is_polled_on_its_own(tmp_path: Path) -> None:
    firsts = first_polls(household(tmp_path, cleo=CLEOS_OWN_APP), IDS)
    assert firsts == {
        "anna": START,
        "ben": START + timedelta(minutes=7, seconds=30),  # two on the shared app
        "cleo": START,  # alone on hers
    }


def test_the_spread_holds_day_after_day_whatever_the_jitter(tmp_path: Path) -> None:
    """Each poll is up to a minute late, but never carries it into the next: after a week of
    polls each athlete still polls in their own third of the interval."""
    scheduler = build_scheduler(
        household(tmp_path), lambda event: None, polls(*IDS), wall_clock=FixedClock(START)
    )
    for index, athlete in enumerate(IDS):
        job = scheduler.get_job(f"strava_poll:{athlete}")
        slot = START + POLL * index / len(IDS)
        fired = job.next_run_time
        for _ in range(WEEK_OF_POLLS):
            fired = job.trigger.get_next_fire_time(fired, fired)
            slot += POLL
            assert slot <= fired <= slot + JITTER


def test_each_athletes_morning_report_comes_at_their_own_time_in_their_own_zone(
    tmp_path: Path,
) -> None:
    scheduler = build_scheduler(household(tmp_path), lambda event: None)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=BERLIN)
    reports = {
        "anna": datetime(2026, 11, 21, 6, 30, tzinfo=BERLIN),
        "ben": datetime(2026, 11, 21, 7, 15, tzinfo=BERLIN),
        "cleo": datetime(2026, 11, 20, 6, 30, tzinfo=NEW_YORK),  # 12:30 in Berlin
    }
    for athlete, report in reports.items():
        morning = scheduler.get_job(f"morning_report:{athlete}")
        assert morning.trigger.get_next_fire_time(None, now) == report
        assert morning.args == (AthleteTick(Tick.MORNING_REPORT, athlete),)


def test_each_athletes_day_rolls_over_at_their_own_midnight(tmp_path: Path) -> None:
    scheduler = build_scheduler(household(tmp_path), lambda event: None)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=BERLIN)
    midnights = {
        "anna": datetime(2026, 11, 21, 0, 0, 30, tzinfo=BERLIN),
        "cleo": datetime(2026, 11, 21, 0, 0, 30, tzinfo=NEW_YORK),
    }
    for athlete, midnight in midnights.items():
        rollover = scheduler.get_job(f"day_rollover:{athlete}")
        assert rollover.trigger.get_next_fire_time(None, now) == midnight
        assert rollover.args == (AthleteTick(Tick.DAY_ROLLOVER, athlete),)


def test_housekeeping_stays_one_service_wide_job(tmp_path: Path) -> None:
    scheduler = build_scheduler(household(tmp_path), lambda event: None, polls(*IDS))
    per_athlete = ("morning_report", "day_rollover", "strava_poll")
    expected = ["housekeeping"] + [f"{job}:{athlete}" for job in per_athlete for athlete in IDS]
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(expected)
    assert scheduler.get_job("housekeeping").args == (Tick.HOUSEKEEPING,)
    for job in scheduler.get_jobs():
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (
            MISFIRE_GRACE_S,
            True,
            1,
        )


def test_a_single_athlete_keeps_the_plain_ticks_and_job_ids(tmp_path: Path) -> None:
    path = tmp_path / "restday.toml"
    path.write_text(SHARED_APP + '[athlete]\nid = "anna"\ntimezone = "Europe/Berlin"\n')
    config = load_config(path, explicit=True)
    scheduler = build_scheduler(
        config, lambda event: None, lambda: None, wall_clock=FixedClock(START)
    )
    assert sorted(job.id for job in scheduler.get_jobs()) == [
        "day_rollover",
        "housekeeping",
        "morning_report",
        "strava_poll",
    ]
    assert scheduler.get_job("morning_report").args == (Tick.MORNING_REPORT,)
    assert scheduler.get_job("day_rollover").args == (Tick.DAY_ROLLOVER,)
    assert scheduler.get_job("strava_poll").next_run_time == START


def test_a_single_poll_callable_is_the_first_athletes(tmp_path: Path) -> None:
    scheduler = build_scheduler(
        household(tmp_path), lambda event: None, lambda: None, wall_clock=FixedClock(START)
    )
    (poll,) = [job for job in scheduler.get_jobs() if job.id.startswith("strava_poll")]
    assert (poll.id, poll.next_run_time) == ("strava_poll:anna", START)


def test_missed_morning_reports_are_caught_up_for_each_athlete_whose_report_is_due(
    tmp_path: Path,
) -> None:
    now = datetime(2026, 11, 20, 9, 0, tzinfo=BERLIN)  # 03:00 in New York
    asked: list[tuple[date, str]] = []

    def sent(day: date, athlete: str) -> bool:
        asked.append((day, athlete))
        return athlete == "anna"  # Anna's went out before the restart

    ticks: list[Event] = list(missed_mornings(household(tmp_path), now, sent))

    assert ticks == [AthleteTick(Tick.MORNING_REPORT, "ben")]  # Cleo's is hours away
    assert asked == [(date(2026, 11, 20), "anna"), (date(2026, 11, 20), "ben")]


def test_a_single_athletes_missed_morning_is_the_plain_tick(tmp_path: Path) -> None:
    path = tmp_path / "restday.toml"
    path.write_text('[athlete]\nid = "anna"\ntimezone = "Europe/Berlin"\n')
    config = load_config(path, explicit=True)
    after = datetime(2026, 11, 20, 9, 0, tzinfo=BERLIN)
    before = datetime(2026, 11, 20, 6, 0, tzinfo=BERLIN)
    assert missed_mornings(config, after, lambda day, athlete: False) == [Tick.MORNING_REPORT]
    assert missed_mornings(config, after, lambda day, athlete: True) == []
    assert missed_mornings(config, before, lambda day, athlete: False) == []
