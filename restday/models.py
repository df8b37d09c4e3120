"""Domain types: frozen, unit-typed values that the store produces and the rules consume.

Units live in the names and the `NewType`s so that a metre never meets a kilometre:
distances are stored in metres (`Meters`, as Strava sends them) and shown in km; times are
timezone-aware `datetime`s in UTC; weights are kilograms.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NewType

ActivityId = NewType("ActivityId", int)
GearId = NewType("GearId", str)
Meters = NewType("Meters", float)
Kilometers = NewType("Kilometers", float)
Kilograms = NewType("Kilograms", float)
Seconds = NewType("Seconds", float)
Hours = NewType("Hours", float)

METERS_PER_KM = 1000.0
# Shorter sessions are tracking started and stopped by accident, or a doze: not sleep that
# counts (RULES.md `sleep_short` v2). The device presets reject them like any other unusable
# input; the store refuses them too, and sets aside those an older restday stored.
MIN_SLEEP_SESSION_MIN = 15


def km(meters: Meters) -> Kilometers:
    """Metres to kilometres."""
    return Kilometers(meters / METERS_PER_KM)


class SportKind(enum.StrEnum):
    """The groups of Strava sport types that the load and form rules tell apart."""

    RUN = "run"
    FOOT = "foot"  # walks, hikes, snowshoeing: on foot but not running
    RIDE = "ride"
    SWIM = "swim"
    STRENGTH = "strength"
    OTHER = "other"


_SPORT_KINDS: dict[str, SportKind] = {
    "Run": SportKind.RUN,
    "TrailRun": SportKind.RUN,
    "VirtualRun": SportKind.RUN,
    "Walk": SportKind.FOOT,
    "Hike": SportKind.FOOT,
    "Snowshoe": SportKind.FOOT,
    "Ride": SportKind.RIDE,
    "VirtualRide": SportKind.RIDE,
    "MountainBikeRide": SportKind.RIDE,
    "GravelRide": SportKind.RIDE,
    "EBikeRide": SportKind.RIDE,
    "EMountainBikeRide": SportKind.RIDE,
    "Velomobile": SportKind.RIDE,
    "Handcycle": SportKind.RIDE,
    "Swim": SportKind.SWIM,
    "WeightTraining": SportKind.STRENGTH,
    "Crossfit": SportKind.STRENGTH,
}


def sport_kind(sport_type: str) -> SportKind:
    """The group of a Strava `sport_type` (or legacy `type`); unknown types are `OTHER`."""
    return _SPORT_KINDS.get(sport_type, SportKind.OTHER)


@dataclass(frozen=True, slots=True)
class Activity:
    """One Strava activity, reduced to what the rules use (the raw JSON stays in the store)."""

    id: ActivityId
    name: str
    sport_type: str
    start: datetime  # UTC, aware
    distance_m: Meters
    moving_time_s: Seconds
    elapsed_time_s: Seconds
    average_heartrate: float | None = None
    max_heartrate: float | None = None
    suffer_score: float | None = None
    cadence_spm: float | None = None  # steps per minute: Strava's per-leg value doubled
    gear_id: GearId | None = None
    workout_type: int | None = None  # Strava's: 1 a race, 2 a long run, 3 a workout (runs)
    kind: SportKind = field(init=False, repr=False, compare=False)  # derived from sport_type

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", sport_kind(self.sport_type))

    @property
    def is_run(self) -> bool:
        return self.kind is SportKind.RUN

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_time_s)

    @property
    def distance_km(self) -> Kilometers:
        return km(self.distance_m)

    @property
    def moving_minutes(self) -> float:
        return self.moving_time_s / 60.0


@dataclass(frozen=True, slots=True)
class SleepSession:
    """One night (or nap) of sleep; `hours` is time asleep, not time in bed."""

    end: datetime  # UTC, aware
    hours: Hours
    start: datetime | None = None
    hrv_ms: float | None = None  # nightly rMSSD
    resting_hr: float | None = None  # beats per minute
    source: str = "generic"


@dataclass(frozen=True, slots=True)
class BodyMeasurement:
    """One weigh-in from a smart scale."""

    time: datetime  # UTC, aware
    weight_kg: Kilograms
    water_pct: float | None = None
    source: str = "generic"


@dataclass(frozen=True, slots=True)
class PainReport:
    """Pain right now on the 0–10 scale of "Should You Go Running With Sore Legs?" (0 none,
    1–3 green, 4–7 amber, 8–10 red)."""

    time: datetime  # UTC, aware
    level: int


@dataclass(frozen=True, slots=True)
class Gear:
    """A pair of shoes (or a bike) as Strava reports it, with its total distance."""

    id: GearId
    name: str
    distance_m: Meters
    primary: bool = False
    retired: bool = False

    @property
    def distance_km(self) -> Kilometers:
        return km(self.distance_m)


@dataclass(frozen=True, slots=True)
class History:
    """Everything the rules may look at, each tuple sorted by time (oldest first)."""

    activities: tuple[Activity, ...] = ()
    sleeps: tuple[SleepSession, ...] = ()
    body: tuple[BodyMeasurement, ...] = ()
    pains: tuple[PainReport, ...] = ()
    gear: tuple[Gear, ...] = ()

    @classmethod
    def of(
        cls,
        activities: tuple[Activity, ...] | list[Activity] = (),
        sleeps: tuple[SleepSession, ...] | list[SleepSession] = (),
        body: tuple[BodyMeasurement, ...] | list[BodyMeasurement] = (),
        pains: tuple[PainReport, ...] | list[PainReport] = (),
        gear: tuple[Gear, ...] | list[Gear] = (),
    ) -> History:
        """A history from unsorted sequences (sorted here, so callers need not care)."""
        return cls(
            activities=tuple(sorted(activities, key=lambda a: (a.start, a.id))),
            sleeps=tuple(sorted(sleeps, key=lambda s: s.end)),
            body=tuple(sorted(body, key=lambda b: b.time)),
            pains=tuple(sorted(pains, key=lambda p: p.time)),
            gear=tuple(gear),
        )


class Severity(enum.StrEnum):
    """How much a finding weighs in the decision, in increasing order."""

    INFO = "info"
    CAUTION = "caution"
    MODERATE = "moderate"
    STRONG = "strong"
    DOCTOR = "doctor"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Status(enum.StrEnum):
    """The day's recommendation."""

    TRAIN = "train"
    EASY = "easy"
    REST = "rest"
    SEE_DOCTOR = "see_doctor"
    CALIBRATING = "calibrating"

    @property
    def rest_day_recommended(self) -> bool:
        return self in (Status.REST, Status.SEE_DOCTOR)


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict on the evaluated day, with the numbers behind it."""

    rule: str
    severity: Severity
    message: str
    value: float | None
    threshold: float | None
    unit: str
    citation: str
    subject: str | None = None  # what the finding is about when a rule judges several (a shoe)
    family: str = ""  # the rules that read the same signal count once (RULES.md, "Decision")
    run_day: date | None = None  # a carried finding: the day of the run it comes from

    def to_payload(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "rule": self.rule,
            "family": self.family,
            "severity": self.severity.value,
            "message": self.message,
            "value": self.value,
            "threshold": self.threshold,
            "unit": self.unit,
            "citation": self.citation,
        }
        if self.subject is not None:
            payload["subject"] = self.subject
        if self.run_day is not None:
            payload["run_day"] = self.run_day.isoformat()
        return payload


@dataclass(frozen=True, slots=True)
class ShoeMetric:
    id: GearId
    name: str
    km: float


@dataclass(frozen=True, slots=True)
class Metrics:
    """The numbers behind the day's recommendation (the state payload's `metrics`)."""

    acute_load: float | None = None
    chronic_load: float | None = None
    acwr: float | None = None
    week_km: float = 0.0
    prev_week_km: float = 0.0
    longest_run_30d_km: float | None = None
    last_sleep_h: float | None = None
    sleep_debt_h: float | None = None
    sleep_nights_missing: int = 0
    sleep_need_h: float | None = None
    usual_week_load: float | None = None
    weight_kg: float | None = None
    days_since_rest: int = 0
    load_source: str = "suffer_score"
    tsb_pct: float | None = None
    monotony: float | None = None
    cadence_spm: float | None = None
    strength_sessions_7d: int = 0
    today_load: float = 0.0
    today_run_km: float = 0.0
    shoes: tuple[ShoeMetric, ...] = field(default_factory=tuple)

    def to_payload(self) -> dict[str, object]:
        return {
            "acute_load": _round(self.acute_load, 1),
            "chronic_load": _round(self.chronic_load, 1),
            "acwr": _round(self.acwr, 2),
            "week_km": round(self.week_km, 1),
            "prev_week_km": round(self.prev_week_km, 1),
            "longest_run_30d_km": _round(self.longest_run_30d_km, 1),
            "last_sleep_h": _round(self.last_sleep_h, 1),
            "sleep_debt_h": _round(self.sleep_debt_h, 1),
            "sleep_nights_missing": self.sleep_nights_missing,
            "sleep_need_h": _round(self.sleep_need_h, 1),
            "usual_week_load": _round(self.usual_week_load, 0),
            "weight_kg": _round(self.weight_kg, 1),
            "days_since_rest": self.days_since_rest,
            "load_source": self.load_source,
            "tsb_pct": _round(self.tsb_pct, 0),
            "monotony": _round(self.monotony, 2),
            "cadence_spm": _round(self.cadence_spm, 0),
            "strength_sessions_7d": self.strength_sessions_7d,
            "today_load": round(self.today_load, 1),
            "today_run_km": round(self.today_run_km, 1),
            "shoes": [{"id": s.id, "name": s.name, "km": round(s.km, 1)} for s in self.shoes],
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The evaluated day: the state payload of the MQTT contract (DESIGN.md §5)."""

    status: Status
    readiness: int
    reasons: tuple[Finding, ...]
    metrics: Metrics
    stale: tuple[str, ...]
    waiting: tuple[str, ...]
    evaluated_at: datetime  # aware, in the athlete's time zone
    silent: tuple[str, ...] = ()  # rules whose input is not configured at all

    @property
    def rest_day_recommended(self) -> bool:
        return self.status.rest_day_recommended

    def to_payload(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "rest_day_recommended": self.rest_day_recommended,
            "readiness": self.readiness,
            "reasons": [f.to_payload() for f in self.reasons],
            "metrics": self.metrics.to_payload(),
            "stale": list(self.stale),
            "waiting": list(self.waiting),
            "silent": list(self.silent),
            "evaluated_at": self.evaluated_at.isoformat(timespec="seconds"),
        }
