"""The service's jobs: when they fire, in the athlete's time zone, and the start-up catch-up."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

from restday.config import Config, load_config
from restday.daemon.events import Event, Tick
from restday.daemon.schedule import MISFIRE_GRACE_S, build_scheduler, missed_morning
from tests.factories import TZ


def config(tmp_path: Path) -> Config:
    path = tmp_path / "restday.toml"
    path.write_text('[athlete]\ntimezone = "Europe/Berlin"\n[schedule]\nmorning_report = "06:30"\n')
    return load_config(path, explicit=True)


def test_morning_report_runs_at_the_local_time_and_rollover_after_midnight(tmp_path: Path) -> None:
    events: list[Event] = []
    scheduler = build_scheduler(config(tmp_path), events.append)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=TZ)
    morning = scheduler.get_job("morning_report")
    rollover = scheduler.get_job("day_rollover")
    assert morning.trigger.get_next_fire_time(None, now) == datetime(2026, 11, 21, 6, 30, tzinfo=TZ)
    assert rollover.trigger.get_next_fire_time(None, now) == datetime(
        2026, 11, 21, 0, 0, 30, tzinfo=TZ
    )
    assert morning.args == (Tick.MORNING_REPORT,)
    assert rollover.args == (Tick.DAY_ROLLOVER,)


def test_jobs_coalesce_and_have_an_explicit_grace_time(tmp_path: Path) -> None:
    scheduler = build_scheduler(config(tmp_path), lambda event: None)
    for job in scheduler.get_jobs():
        assert job.misfire_grace_time == MISFIRE_GRACE_S
        assert job.coalesce is True
        assert job.max_instances == 1


def test_a_report_missed_while_down_is_caught_up_once() -> None:
    report = time(6, 30)
    after = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
    before = datetime(2026, 11, 20, 6, 0, tzinfo=TZ)
    assert missed_morning(after, TZ, report, already_sent=False)
    assert not missed_morning(after, TZ, report, already_sent=True)
    assert not missed_morning(before, TZ, report, already_sent=False)
