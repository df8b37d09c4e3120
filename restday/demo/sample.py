"""A realistic sample athlete, as Strava's API would return them (for examples and the demo).

Ten weeks ending on `end`: a sensible base (five runs a week, a weekly long run, a strength
session, a ride), a planned lighter week, then an overreach: the last seven days have no rest
day, double the usual volume, and end with a long run twice the recent longest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

SAMPLE_END = date(2026, 11, 20)
SAMPLE_TZ = ZoneInfo("Europe/Berlin")
SAMPLE_WEEKS = 10
SAMPLE_SEED = 42
SHOE_ID = "g1234567"
ATHLETE_ID = 4242


@dataclass(frozen=True, slots=True)
class StravaRunner:
    """Whose activities they are, as Strava knows them, and how fast they run."""

    athlete_id: int  # Strava's athlete id
    shoe_id: str  # the gear id of the shoes every run is logged with
    first_activity_id: int  # activity ids count up from here
    pace_s_per_km: int  # running pace


SAMPLE_RUNNER = StravaRunner(ATHLETE_ID, SHOE_ID, 16_000_000_000, 330)  # 5:30 /km

# Per weekday of a normal week: (sport, km or minutes, start hour). km for runs/rides.
_BASE_WEEK: dict[int, tuple[str, float, float]] = {
    0: ("Run", 7.0, 6.5),
    1: ("Run", 8.0, 18.0),
    2: ("WeightTraining", 40.0, 19.0),
    3: ("Run", 8.0, 6.5),
    5: ("Ride", 30.0, 10.0),
    6: ("Run", 14.0, 9.0),
}
_WEEK_FACTOR = (0.85, 0.9, 0.95, 0.7, 0.92, 0.97, 1.02, 0.75, 1.0, 1.0)  # 4th/8th: lighter
_OVERREACH: tuple[tuple[str, float, float], ...] = (  # the last 7 days, oldest first
    ("Run", 12.0, 6.5),
    ("Run", 14.0, 18.0),
    ("Run", 10.0, 6.5),
    ("Run", 15.0, 18.0),
    ("Run", 12.0, 6.5),
    ("Run", 12.0, 7.0),
    ("Run", 34.0, 8.0),
)


def sample_activities(end: date = SAMPLE_END, tz: tzinfo = SAMPLE_TZ) -> list[dict[str, object]]:
    """Strava SummaryActivity objects, oldest first, ending on `end` (local days in `tz`)."""
    rng = random.Random(SAMPLE_SEED)  # noqa: S311 -- reproducible sample data, not secrets
    first = end - timedelta(days=SAMPLE_WEEKS * 7 - 1)
    out: list[dict[str, object]] = []
    for offset in range(SAMPLE_WEEKS * 7):
        day = first + timedelta(days=offset)
        days_left = (end - day).days
        if days_left < len(_OVERREACH):
            sport, amount, hour = _OVERREACH[len(_OVERREACH) - 1 - days_left]
        elif day.weekday() in _BASE_WEEK:
            sport, amount, hour = _BASE_WEEK[day.weekday()]
            if sport != "WeightTraining":
                amount *= _WEEK_FACTOR[offset // 7]
        else:
            continue
        out.append(activity(len(out), day, (sport, amount, hour), tz, rng))
    return out


def activity(
    index: int,
    day: date,
    plan: tuple[str, float, float],
    tz: tzinfo,
    rng: random.Random,
    runner: StravaRunner = SAMPLE_RUNNER,
) -> dict[str, object]:
    """Strava's SummaryActivity for `runner`'s `index`th activity, on `day` as `plan` says:
    sport, km (strength: minutes) and the local start hour; the small variations from `rng`."""
    sport, amount, hour = plan
    local = datetime.combine(day, time(int(hour), int(hour % 1 * 60)), tzinfo=tz)
    start = local.astimezone(ZoneInfo("UTC"))
    offset = local.utcoffset() or timedelta(0)
    item: dict[str, object] = {
        "id": runner.first_activity_id + index,
        "resource_state": 2,
        "athlete": {"id": runner.athlete_id, "resource_state": 1},
        "type": sport,
        "sport_type": sport,
        "workout_type": None,
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_date_local": local.strftime("%Y-%m-%dT%H:%M:%SZ"),  # Strava's quirk: tagged Z
        "timezone": "(GMT+01:00) Europe/Berlin",
        "utc_offset": offset.total_seconds(),
        "trainer": False,
        "commute": False,
        "manual": False,
        "total_elevation_gain": 0.0,
    }
    if sport == "WeightTraining":
        seconds = int(amount * 60)
        item |= {
            "name": "Strength",
            "distance": 0.0,
            "moving_time": seconds,
            "elapsed_time": seconds + 300,
            "has_heartrate": True,
            "average_heartrate": 112.0,
            "suffer_score": 14,
        }
        return item
    km = round(amount * rng.uniform(0.97, 1.03), 2)
    pace_s_per_km = runner.pace_s_per_km if sport == "Run" else 120  # a ride: 30 km/h
    seconds = int(km * pace_s_per_km * rng.uniform(0.97, 1.03))
    hr = round(rng.uniform(138, 152), 1) if sport == "Run" else round(rng.uniform(120, 130), 1)
    item |= {
        "name": ("Morning " if hour < 12 else "Evening ") + ("Run" if sport == "Run" else "Ride"),
        "distance": km * 1000,
        "moving_time": seconds,
        "elapsed_time": seconds + 120,
        "average_speed": round(km * 1000 / seconds, 3),
        "has_heartrate": True,
        "average_heartrate": hr,
        "max_heartrate": hr + 20,
        "suffer_score": round(seconds / 60 * (hr - 100) / 40),
    }
    if sport == "Run":
        item["average_cadence"] = round(rng.uniform(80.0, 84.0), 1)  # per leg, as Strava sends
        item["gear_id"] = runner.shoe_id
        item["total_elevation_gain"] = round(km * rng.uniform(3, 8), 1)
    return item
