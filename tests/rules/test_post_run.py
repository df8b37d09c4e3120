"""The post-run notifications a Strava sync calls for: which runs, and the refuel advice."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from pathlib import Path

import pytest

from restday.config import Config, load_config
from restday.daemon.notifications import REFUEL, REFUEL_AGAIN, Notification, post_run_key
from restday.daemon.sync_results import post_runs
from restday.models import Activity, History
from tests.factories import DAY, at, evaluate_on, run, steady_runs

BASE = steady_runs(DAY - timedelta(days=1), 8)  # up to yesterday: today starts without a run


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "restday.toml"
    path.write_text('[athlete]\ntimezone = "Europe/Berlin"\n')
    return load_config(path, explicit=True)


def announce(
    config: Config,
    runs: list[Activity],
    new: Collection[Activity],
    *,
    hour: float,
    day: date = DAY,
    sent: Collection[Activity] = (),
) -> list[Notification]:
    """The post-run notifications for the `new` runs, `sent` having had theirs."""
    history = History.of([*BASE, *runs])
    keys = {post_run_key(int(a.id)) for a in sent}
    rec = evaluate_on(history, day, hour=hour)
    return post_runs(config, history, rec, [a.id for a in new], at(day, hour), keys.__contains__)


def test_refuel_advice_is_given_once_a_day(config: Config) -> None:
    morning, noon = run(DAY, 8.0, hour=7.0), run(DAY, 5.0, hour=12.0)
    first = announce(config, [morning], [morning], hour=8.0)
    second = announce(config, [morning, noon], [noon], hour=13.0, sent=[morning])
    assert REFUEL in first[0].message
    assert REFUEL not in second[0].message
    assert REFUEL_AGAIN in second[0].message


def test_two_runs_of_one_sync_get_the_refuel_advice_once(config: Config) -> None:
    morning, noon = run(DAY, 8.0, hour=7.0), run(DAY, 5.0, hour=12.0)
    notes = announce(config, [morning, noon], [morning, noon], hour=13.0)
    assert [n.key for n in notes] == [post_run_key(morning.id), post_run_key(noon.id)]
    assert [REFUEL in n.message for n in notes] == [True, False]


def test_refuel_advice_is_given_again_the_next_day(config: Config) -> None:
    last_night, today = run(DAY - timedelta(days=1), 8.0, hour=21.0), run(DAY, 8.0, hour=7.0)
    notes = announce(config, [last_night, today], [today], hour=8.0, sent=[last_night])
    assert REFUEL in notes[0].message


def test_a_run_that_got_no_post_run_does_not_use_up_the_refuel_advice(config: Config) -> None:
    uploaded_late, noon = run(DAY, 8.0, hour=5.0), run(DAY, 5.0, hour=12.0)
    notes = announce(config, [uploaded_late, noon], [noon], hour=13.0)  # none sent for 05:00
    assert REFUEL in notes[0].message


def test_only_runs_that_ended_in_the_last_hours_are_announced(config: Config) -> None:
    early, late = run(DAY, 8.0, hour=5.0), run(DAY, 5.0, hour=12.0)
    notes = announce(config, [early, late], [early, late], hour=13.0)
    assert [n.key for n in notes] == [post_run_key(late.id)]
