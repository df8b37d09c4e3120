"""Strava API JSON to domain objects: pure parsing, no HTTP and no I/O.

Shapes are those of PAYLOADS.md "Strava API" (SummaryActivity / DetailedActivity and the
`shoes` of GET /athlete). Strava's quirks are handled here and nowhere else:
- `start_date` is the UTC start; `start_date_local` is local wall-clock time falsely tagged
  `Z`, so it is never read.
- `average_cadence` of runs, walks and hikes is per leg: doubled into steps per minute. For
  rides it is pedal rpm, which is not a step cadence, so it is dropped.
- `sport_type` is preferred; activities from older clients carry only the legacy `type`.
- `workout_type` (runs: 0 default, 1 race, 2 long run, 3 workout; rides: 10, 11, 12) is only a
  tag: a value that is not a non-negative JSON integer (a boolean, a string, 1.5, -1) is read
  as no tag (None) rather than refusing the activity: its load matters more than its tag, and
  an activity stored before restday read the field must survive the store's upgrade.

A malformed item raises `BadActivity` / `BadGear` (both `ValueError`s) with one short message
naming the item and the field, e.g. ``activity 123: distance is not a number``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from restday.models import (
    Activity,
    ActivityId,
    Gear,
    GearId,
    Meters,
    Seconds,
    SportKind,
    sport_kind,
)

STEPS_PER_CADENCE_UNIT = 2  # Strava's run cadence counts one leg: steps/min = 2 × value
MAX_ACTIVITY_ID = 2**63 - 1  # the largest integer SQLite (and Strava's int64 ids) can hold
MAX_WORKOUT_TYPE = MAX_ACTIVITY_ID  # larger ones cannot be stored: read as no tag
_STEP_KINDS = frozenset({SportKind.RUN, SportKind.FOOT})


class BadStravaItem(ValueError):
    """A Strava object that cannot be used; the message names the item and the field."""


class BadActivity(BadStravaItem):
    """An activity object that cannot be used."""


class BadGear(BadStravaItem):
    """A gear (shoe) object that cannot be used."""


class _Fields:
    """Typed reads of one JSON object's fields, raising `error` with `label` on bad values."""

    def __init__(self, raw: Mapping[str, object], label: str, error: type[BadStravaItem]) -> None:
        self.raw = raw
        self.label = label
        self.error = error

    def fail(self, message: str) -> BadStravaItem:
        return self.error(f"{self.label}: {message}")

    def optional_number(self, key: str) -> float | None:
        """A finite, non-negative JSON number, or None if absent or null."""
        if self.raw.get(key) is None:
            return None
        return self.number(key)

    def number(self, key: str) -> float:
        """A finite, non-negative JSON number (booleans are not numbers); required."""
        value = self.raw.get(key)
        if value is None:
            raise self.fail(f"{key} is missing")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{key} is not a number")
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            number = math.inf
        if not math.isfinite(number):
            raise self.fail(f"{key} is not a finite number")
        if number < 0:
            raise self.fail(f"{key} is negative ({value})")
        return number

    def text(self, key: str) -> str | None:
        """A string, or None if absent or null."""
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(f"{key} is not a string")
        return value

    def optional_tag(self, key: str, maximum: int) -> int | None:
        """A JSON integer in 0..maximum; None if absent, null or anything else (never refused)."""
        value = self.raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            return None
        return value

    def flag(self, key: str, *, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(f"{key} is not true or false")
        return value


def parse_activity(raw: Mapping[str, object]) -> Activity:
    """An `Activity` from a Strava SummaryActivity/DetailedActivity object.

    Required: `id`, `sport_type` (or legacy `type`), `start_date`, `distance`, `moving_time`,
    `elapsed_time`. Heart rate, suffer score, cadence, gear and `workout_type` are optional
    (Strava leaves them out when not recorded).
    """
    activity_id = _activity_id(raw)
    f = _Fields(raw, f"activity {activity_id}", BadActivity)
    sport_type = f.text("sport_type") or f.text("type")
    if not sport_type:
        raise f.fail("sport_type (or type) is missing")
    cadence = f.optional_number("average_cadence")
    steps = sport_kind(sport_type) in _STEP_KINDS
    gear_id = f.text("gear_id")
    return Activity(
        id=ActivityId(activity_id),
        name=f.text("name") or "",
        sport_type=sport_type,
        start=_utc(f, "start_date"),
        distance_m=Meters(f.number("distance")),
        moving_time_s=Seconds(f.number("moving_time")),
        elapsed_time_s=Seconds(f.number("elapsed_time")),
        average_heartrate=f.optional_number("average_heartrate"),
        max_heartrate=f.optional_number("max_heartrate"),
        suffer_score=f.optional_number("suffer_score"),
        cadence_spm=cadence * STEPS_PER_CADENCE_UNIT if steps and cadence is not None else None,
        gear_id=GearId(gear_id) if gear_id else None,
        workout_type=f.optional_tag("workout_type", MAX_WORKOUT_TYPE),
    )


def parse_shoes(athlete: Mapping[str, object]) -> list[Gear]:
    """The athlete's shoes from GET /athlete; none when `shoes` is absent (scope not granted)."""
    shoes = athlete.get("shoes")
    if shoes is None:
        return []
    if not isinstance(shoes, list):
        raise BadGear("athlete: shoes is not a list")
    out: list[Gear] = []
    for index, shoe in enumerate(shoes):
        if not isinstance(shoe, Mapping):
            raise BadGear(f"shoe {index}: not a JSON object")
        out.append(parse_shoe(shoe))
    return out


def parse_shoe(raw: Mapping[str, object]) -> Gear:
    """One entry of the athlete's `shoes` (distance in metres; `retired` defaults to False)."""
    gear_id = raw.get("id")
    if not isinstance(gear_id, str) or not gear_id:
        raise BadGear("shoe: id is missing" if gear_id is None else "shoe: id is not a string")
    f = _Fields(raw, f"shoe {gear_id}", BadGear)
    return Gear(
        id=GearId(gear_id),
        name=f.text("name") or gear_id,
        distance_m=Meters(f.number("distance")),
        primary=f.flag("primary", default=False),
        retired=f.flag("retired", default=False),
    )


def _activity_id(raw: Mapping[str, object]) -> int:
    value = raw.get("id")
    if value is None:
        raise BadActivity("activity: id is missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadActivity("activity: id is not an integer")
    if not 0 < value <= MAX_ACTIVITY_ID:
        raise BadActivity(f"activity {value}: id is out of range")
    return value


def _utc(f: _Fields, key: str) -> datetime:
    """An ISO 8601 instant with a zone (Strava's `...Z`), as an aware UTC datetime."""
    text = f.text(key)
    if text is None:
        raise f.fail(f"{key} is missing")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise f.fail(f"{key} is not an ISO 8601 time ({text!r})") from None
    if when.utcoffset() is None:
        raise f.fail(f"{key} has no time zone ({text!r})")
    return when.astimezone(UTC)
