"""Parsing Strava API JSON (PAYLOADS.md "Strava API") into activities and shoes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from restday.integrations.strava_json import (
    BadActivity,
    BadGear,
    parse_activity,
    parse_shoe,
    parse_shoes,
)
from restday.models import SportKind
from tests.factories import TZ

# The SummaryActivity of PAYLOADS.md, verbatim.
SUMMARY: dict[str, Any] = {
    "id": 12345678901, "resource_state": 2, "athlete": {"id": 4242, "resource_state": 1},
    "name": "Morning Run", "type": "Run", "sport_type": "Run", "workout_type": None,
    "distance": 10012.3, "moving_time": 3240, "elapsed_time": 3310,
    "total_elevation_gain": 48.0, "start_date": "2026-11-20T06:02:11Z",
    "start_date_local": "2026-11-20T07:02:11Z", "timezone": "(GMT+01:00) Europe/Berlin",
    "utc_offset": 3600.0, "trainer": False, "commute": False, "manual": False,
    "gear_id": "g12345", "average_speed": 3.09, "max_speed": 4.6,
    "average_cadence": 84.2, "has_heartrate": True, "average_heartrate": 148.3,
    "max_heartrate": 171.0, "suffer_score": 52, "upload_id": 98765, "external_id": "x.fit",
}  # fmt: skip
ATHLETE: dict[str, Any] = {
    "id": 4242,
    "shoes": [
        {"id": "g12345", "name": "Pegasus 40", "primary": True, "distance": 812000.0,
         "retired": False},
        {"id": "g777", "name": "Old trail shoes", "distance": 1_250_500.0, "retired": True},
    ],
}  # fmt: skip


def strava(**changes: Any) -> dict[str, Any]:
    """The PAYLOADS.md activity with some fields changed (a value of `...` removes the key)."""
    out = dict(SUMMARY)
    for key, value in changes.items():
        if value is ...:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def strava_activities(
    ids: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid Strava activity objects, with optional fields present, null or absent."""
    seconds = st.integers(min_value=0, max_value=200_000)
    number = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
    optional_number = st.one_of(st.none(), number, st.just(...))
    start = st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 (hypothesis takes naive bounds)
        max_value=datetime(2040, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
    return st.builds(
        strava,
        id=ids if ids is not None else st.integers(min_value=1, max_value=2**63 - 1),
        name=st.text(max_size=30),
        sport_type=st.sampled_from(["Run", "TrailRun", "Walk", "Hike", "Ride", "Swim",
                                    "WeightTraining", "Yoga"]),
        start_date=start.map(lambda d: d.isoformat().replace("+00:00", "Z")),
        distance=number,
        moving_time=seconds,
        elapsed_time=seconds,
        average_heartrate=optional_number,
        max_heartrate=optional_number,
        suffer_score=optional_number,
        average_cadence=optional_number,
        gear_id=st.one_of(st.none(), st.just(...), st.text(min_size=1, max_size=10)),
        workout_type=st.one_of(st.none(), st.just(...), st.sampled_from([0, 1, 2, 3, 10, 11, 12])),
    )  # fmt: skip


# --- activities -----------------------------------------------------------------------------


def test_the_documented_summary_activity_parses_with_units_kept() -> None:
    a = parse_activity(SUMMARY)
    assert a.id == 12345678901
    assert a.name == "Morning Run"
    assert a.sport_type == "Run"
    assert a.kind is SportKind.RUN
    assert a.start == datetime(2026, 11, 20, 6, 2, 11, tzinfo=UTC)
    assert a.distance_m == pytest.approx(10012.3)
    assert a.distance_km == pytest.approx(10.0123)
    assert (float(a.moving_time_s), float(a.elapsed_time_s)) == (3240.0, 3310.0)
    assert (a.average_heartrate, a.max_heartrate, a.suffer_score) == (148.3, 171.0, 52)
    assert a.gear_id == "g12345"


@pytest.mark.parametrize("sport", ["Run", "TrailRun", "VirtualRun", "Walk", "Hike"])
def test_cadence_of_runs_and_walks_is_doubled_into_steps_per_minute(sport: str) -> None:
    assert parse_activity(strava(sport_type=sport, average_cadence=84.2)).cadence_spm == (
        pytest.approx(168.4)
    )


@pytest.mark.parametrize("sport", ["Ride", "VirtualRide", "Swim", "WeightTraining"])
def test_cadence_of_rides_and_other_sports_is_not_a_step_cadence(sport: str) -> None:
    assert parse_activity(strava(sport_type=sport, average_cadence=88.0)).cadence_spm is None


def test_late_evening_run_keeps_its_utc_start_not_the_local_wall_clock() -> None:
    # 23:30 in Berlin (CET, UTC+1) is 22:30Z; Strava tags the local time with a Z as well.
    raw = strava(start_date="2026-11-20T22:30:00Z", start_date_local="2026-11-20T23:30:00Z")
    start = parse_activity(raw).start
    assert start == datetime(2026, 11, 20, 22, 30, tzinfo=UTC)
    assert start.astimezone(TZ).hour == 23  # still that evening in Berlin, not past midnight


def test_start_with_an_explicit_offset_is_converted_to_utc() -> None:
    start = parse_activity(strava(start_date="2026-11-20T07:02:11+01:00")).start
    assert start == datetime(2026, 11, 20, 6, 2, 11, tzinfo=UTC)
    assert start.utcoffset() is not None
    assert start.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_activity_from_an_old_client_uses_the_legacy_type() -> None:
    a = parse_activity(strava(sport_type=..., type="Hike", average_cadence=50.0))
    assert a.sport_type == "Hike"
    assert a.cadence_spm == 100.0


def test_unrecorded_heart_rate_suffer_score_cadence_and_gear_are_none() -> None:
    keys = ("average_heartrate", "max_heartrate", "suffer_score", "average_cadence", "gear_id")
    absent = parse_activity(strava(**dict.fromkeys(keys, ...)))
    null = parse_activity(strava(**dict.fromkeys(keys)))
    for a in (absent, null):
        assert (a.average_heartrate, a.max_heartrate, a.suffer_score) == (None, None, None)
        assert (a.cadence_spm, a.gear_id) == (None, None)


def test_missing_name_becomes_empty_rather_than_refusing_the_run() -> None:
    assert parse_activity(strava(name=...)).name == ""


@pytest.mark.parametrize(
    ("workout_type", "kept"), [(1, 1), (0, 0), (2, 2), (3, 3), (12, 12), (None, None), (..., None)]
)
def test_workout_type_is_kept_as_strava_sends_it_and_none_when_null_or_missing(
    workout_type: Any, kept: int | None
) -> None:
    assert parse_activity(strava(workout_type=workout_type)).workout_type == kept


@pytest.mark.parametrize("bad", [True, False, "1", "race", 1.0, 1.5, -1, 2**63, [1], {"id": 1}])
def test_a_bad_workout_type_is_read_as_no_tag_rather_than_refusing_the_run(bad: Any) -> None:
    a = parse_activity(strava(workout_type=bad))
    assert a.workout_type is None
    assert a.distance_m == pytest.approx(10012.3)  # the run itself is kept, load and all


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": ...}, "activity: id is missing"),
        ({"start_date": ...}, "activity 12345678901: start_date is missing"),
        ({"distance": ...}, "activity 12345678901: distance is missing"),
        ({"moving_time": ...}, "activity 12345678901: moving_time is missing"),
        ({"elapsed_time": None}, "activity 12345678901: elapsed_time is missing"),
        ({"sport_type": ..., "type": ...}, "activity 12345678901: sport_type (or type) is missing"),
    ],
)
def test_missing_required_field_is_refused_naming_it(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(BadActivity) as caught:
        parse_activity(strava(**changes))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "12345"}, "activity: id is not an integer"),
        ({"id": True}, "activity: id is not an integer"),
        ({"id": 12.5}, "activity: id is not an integer"),
        ({"id": 0}, "activity 0: id is out of range"),
        ({"id": 2**63}, f"activity {2**63}: id is out of range"),
        ({"distance": "10k"}, "activity 12345678901: distance is not a number"),
        ({"distance": True}, "activity 12345678901: distance is not a number"),
        ({"moving_time": [3240]}, "activity 12345678901: moving_time is not a number"),
        ({"average_heartrate": "148"}, "activity 12345678901: average_heartrate is not a number"),
        ({"average_cadence": False}, "activity 12345678901: average_cadence is not a number"),
        ({"sport_type": 3}, "activity 12345678901: sport_type is not a string"),
        ({"name": {"en": "Run"}}, "activity 12345678901: name is not a string"),
        ({"gear_id": 5}, "activity 12345678901: gear_id is not a string"),
        ({"start_date": 1763618531}, "activity 12345678901: start_date is not a string"),
    ],
)
def test_ill_typed_field_is_refused_naming_it_and_the_activity(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadActivity) as caught:
        parse_activity(strava(**changes))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("start_date", "problem"),
    [("yesterday", "is not an ISO 8601 time"), ("2026-11-20T06:02:11", "has no time zone")],
)
def test_unreadable_or_zoneless_start_is_refused(start_date: str, problem: str) -> None:
    with pytest.raises(BadActivity, match=f"^activity 12345678901: start_date {problem}"):
        parse_activity(strava(start_date=start_date))


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("distance", -5.0, "is negative"),
        ("moving_time", -1, "is negative"),
        ("elapsed_time", -3310, "is negative"),
        ("suffer_score", -2, "is negative"),
        ("distance", math.nan, "is not a finite number"),
        ("distance", math.inf, "is not a finite number"),
        ("max_heartrate", -math.inf, "is not a finite number"),
        ("distance", 10**400, "is not a finite number"),
    ],
)
def test_negative_or_non_finite_numbers_are_refused(field: str, value: float, problem: str) -> None:
    with pytest.raises(BadActivity, match=f"^activity 12345678901: {field} {problem}"):
        parse_activity(strava(**{field: value}))


def test_a_bad_activity_is_a_value_error_so_importers_can_skip_it() -> None:
    with pytest.raises(ValueError, match="distance"):
        parse_activity(strava(distance="far"))


@given(strava_activities())
def test_any_valid_activity_parses_to_its_own_numbers(raw: dict[str, Any]) -> None:
    a = parse_activity(raw)
    assert a.id == raw["id"]
    assert a.distance_m == raw["distance"]
    assert a.start.utcoffset() is not None
    assert a.start.isoformat().replace("+00:00", "Z") == raw["start_date"]
    cadence = raw.get("average_cadence")
    if a.kind in (SportKind.RUN, SportKind.FOOT) and cadence is not None and cadence is not ...:
        assert a.cadence_spm == 2 * cadence
    else:
        assert a.cadence_spm is None
    assert a.workout_type == raw.get("workout_type")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=5,
)


@given(
    st.sampled_from(
        ["id", "name", "sport_type", "type", "start_date", "distance", "moving_time",
         "elapsed_time", "average_heartrate", "max_heartrate", "suffer_score",
         "average_cadence", "gear_id", "workout_type"]
    ),
    JSON_VALUES,
)  # fmt: skip
def test_any_json_in_any_field_parses_or_is_refused_with_a_message(field: str, value: Any) -> None:
    raw = strava(**{field: value})
    try:
        a = parse_activity(raw)
    except BadActivity as exc:
        refusal = str(exc)
    else:
        assert a.distance_m >= 0
        assert math.isfinite(a.moving_time_s)
        assert a.workout_type is None or type(a.workout_type) is int
        return
    named = field if field != "type" else "sport_type"  # `type` only matters as a fallback
    assert named in refusal


# --- shoes ----------------------------------------------------------------------------------


def test_shoes_come_with_their_distance_in_metres_and_flags() -> None:
    pegasus, old = parse_shoes(ATHLETE)
    assert (pegasus.id, pegasus.name, pegasus.primary, pegasus.retired) == (
        "g12345", "Pegasus 40", True, False
    )  # fmt: skip
    assert pegasus.distance_km == pytest.approx(812.0)
    assert (old.id, old.primary, old.retired) == ("g777", False, True)
    assert old.distance_m == 1_250_500.0


def test_shoe_without_retired_flag_is_in_use() -> None:
    shoe = parse_shoe({"id": "g1", "name": "Clifton", "primary": False, "distance": 100.0})
    assert shoe.retired is False


def test_athlete_without_shoes_scope_has_no_shoes() -> None:
    assert parse_shoes({"id": 4242}) == []
    assert parse_shoes({"id": 4242, "shoes": None}) == []


@pytest.mark.parametrize(
    ("athlete", "message"),
    [
        ({"shoes": {"id": "g1"}}, "athlete: shoes is not a list"),
        ({"shoes": ["g1"]}, "shoe 0: not a JSON object"),
        ({"shoes": [{"name": "X", "distance": 1.0}]}, "shoe: id is missing"),
        ({"shoes": [{"id": 7, "distance": 1.0}]}, "shoe: id is not a string"),
        ({"shoes": [{"id": "g1", "name": "X"}]}, "shoe g1: distance is missing"),
        ({"shoes": [{"id": "g1", "distance": -1.0}]}, "shoe g1: distance is negative (-1.0)"),
        ({"shoes": [{"id": "g1", "distance": 1.0, "primary": 1}]},
         "shoe g1: primary is not true or false"),
        ({"shoes": [{"id": "g1", "distance": 1.0, "retired": "no"}]},
         "shoe g1: retired is not true or false"),
    ],
)  # fmt: skip
def test_bad_shoe_is_refused_naming_the_shoe_and_the_field(
    athlete: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadGear) as caught:
        parse_shoes(athlete)
    assert str(caught.value) == message
