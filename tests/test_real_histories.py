"""The real histories committed in tests/data parse (bench/real_histories.py; no advice numbers
are asserted: those are the bench script's to print, and change with the rules)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bench.real_histories import (
    DATA,
    SOURCES,
    activities_of,
    load_committed,
    strava_csv_activities,
)
from restday.models import Seconds, SportKind


def test_every_committed_history_parses_with_runs_and_heart_rate() -> None:
    committed = [s for s in SOURCES if s.committed]
    assert committed, "at least one history is committed"
    for source in committed:
        assert (DATA / str(source.committed)).exists()
        activities = activities_of(load_committed(str(source.committed)))
        runs = [a for a in activities if a.is_run]
        assert len(runs) >= 300, source.name
        assert any(a.average_heartrate for a in runs), source.name
        assert all(a.start.tzinfo is not None for a in activities)


def test_samir_rehm_history_is_the_converted_source() -> None:
    activities = activities_of(load_committed("samir_rehm.json"))
    assert len(activities) == 1055
    assert {a.kind for a in activities} == {SportKind.RUN}
    assert sum(1 for a in activities if a.average_heartrate) == 1053
    la = ZoneInfo("America/Los_Angeles")
    days = sorted(a.start.astimezone(la).date().isoformat() for a in activities)
    assert (days[0], days[-1]) == ("2022-01-01", "2026-07-04")
    assert max(a.distance_km for a in activities) == 24.51
    assert len({a.id for a in activities}) == len(activities)


# A bulk export's header keeps its repeated columns: the first "Elapsed Time"/"Distance" are
# whole seconds and km, the second the exact seconds and metres; "Activity Date" is UTC.
CSV = (
    "Activity ID,Activity Date,Activity Name,Activity Type,Elapsed Time,Distance,"
    "Max Heart Rate,Relative Effort,Activity Gear,Elapsed Time,Moving Time,Distance,"
    "Average Cadence,Max Heart Rate,Average Heart Rate,Relative Effort\n"
    '11,"Nov 3, 2024, 1:05:10 PM",City Marathon,Run,12400,42.31,186.0,310,Racers,'
    "12400.0,12250.0,42310.5,84.5,,158.4,\n"
    '12,"Nov 4, 2024, 5:30:00 PM",Hips,Weight Training,1800,0.00,,,,1800.0,1800.0,0.0,'
    ",,,\n"
)


def test_strava_csv_converter_reads_units_and_utc_dates() -> None:
    objects = strava_csv_activities(CSV, ZoneInfo("America/New_York"))
    marathon, strength = activities_of(objects)
    assert marathon.start == datetime(2024, 11, 3, 13, 5, 10, tzinfo=UTC)
    assert objects[0]["start_date_local"] == "2024-11-03T08:05:10Z"  # EST, after the DST end
    assert objects[0]["timezone"] == "(GMT-05:00) America/New_York"
    assert marathon.distance_m == 42310.5
    assert marathon.moving_time_s == Seconds(12250)
    assert marathon.elapsed_time_s == Seconds(12400)
    assert (marathon.average_heartrate, marathon.max_heartrate) == (158.4, 186.0)
    assert marathon.suffer_score == 310
    assert marathon.cadence_spm == 169.0  # per leg in the export, doubled by parse_activity
    assert strength.kind is SportKind.STRENGTH
    assert strength.sport_type == "WeightTraining"
