"""The demo's story: the sample athlete's body and bed beside `restday.demo.sample`'s activities.

The first eight weeks of activities are one backfill (a first Strava sync: history, no news).
For the last `REPLAY_DAYS`, day by day: one night a day (two under six hours, in the overreach
week), a weigh-in every morning and before every evening run, each activity a while after it
ended, one weigh-in after the final long run showing a loss over 2 %, and a sore knee that
evening; the scheduler's morning report and midnight re-evaluation between them. Payloads are
those of the generic scale and sleep presets (PAYLOADS.md); times are aware, in the sample's
zone. `build` puts it all in time order as `Step`s for the demo to play.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from restday.demo.sample import ATHLETE_ID, SAMPLE_END, SAMPLE_TZ, SHOE_ID
from restday.integrations.strava_json import parse_activity
from restday.models import Activity

REPLAY_DAYS = 14  # the last two weeks are replayed day by day; the rest is a backfill
# Nights ending on each replay day (oldest first): hours asleep, wake-up time.
_NIGHTS: tuple[tuple[float, str], ...] = (
    (8.0, "05:58"),
    (8.2, "06:02"),
    (7.8, "05:50"),
    (8.1, "05:55"),
    (7.7, "05:52"),
    (8.3, "05:57"),
    (8.4, "06:05"),
    (7.9, "05:48"),
    (8.0, "06:00"),
    (7.8, "05:50"),
    (5.6, "05:45"),  # a late night before the Tuesday: under six hours
    (7.9, "05:52"),
    (8.0, "05:55"),
    (5.4, "05:40"),  # nerves before the long run: under six hours again
)
# What the day holds, for the reader: by replay day index.
CAPTIONS: dict[int, str] = {
    0: "an ordinary week: five runs, a ride, a strength session, a rest day on Friday",
    7: "a big week begins: a run every day, twice the usual distance, no rest day",
    13: "the long run, after a short night: 34 km, more than twice the recent longest",
}
_MORNING_KG = (71.9, 72.1, 71.8, 71.7, 72.0, 71.9, 71.6, 71.8, 71.5, 71.7, 71.4, 71.6, 71.3, 71.4)
WEIGH_AFTER_WAKING = timedelta(minutes=6)
FALL_ASLEEP = timedelta(minutes=15)  # in bed this long before sleep starts
EVENING_RUN_FROM = time(12, 0)  # runs starting later get a weigh-in of their own before
PRE_RUN = timedelta(minutes=20)  # that weigh-in, before the start
AFTER_LUNCH_KG = 0.5  # heavier in the evening than in the morning
POST_RUN = timedelta(minutes=20)  # the post-run weigh-in, after the run's end
FINAL_RUN_LOSS = 0.0235  # of body weight lost on the final long run: over the 2 % threshold
PAIN_AT = time(20, 30)  # the evening after the final long run ...
PAIN_LEVEL = 5  # ... the knee hurts: 4–7 means rest (RULES.md, pain)
SHOE_NAME = "Pegasus 41"
SHOE_KM_BEFORE_SAMPLE = 180.0  # the shoes' distance before the sample's first run
SYNC_DELAY = timedelta(minutes=12)  # an activity reaches restday this long after it ended
FIRST_SYNC = time(5, 0)  # the service starts and syncs on the first day, before waking
ROLLOVER = time(0, 0, 30)  # the scheduler's re-evaluation after midnight


@dataclass(frozen=True, slots=True)
class Night:
    start: datetime
    end: datetime
    hours: float

    def payload(self) -> bytes:
        return _json(
            {
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "duration_hours": self.hours,
            }
        )


@dataclass(frozen=True, slots=True)
class WeighIn:
    at: datetime
    kg: float

    def payload(self) -> bytes:
        return _json({"weight": self.kg, "unit": "kg", "timestamp": self.at.isoformat()})


@dataclass(frozen=True, slots=True)
class Pain:
    at: datetime
    level: int

    def payload(self) -> bytes:
        return str(self.level).encode()


def replay_days(end: date = SAMPLE_END) -> list[date]:
    return [end - timedelta(days=back) for back in range(REPLAY_DAYS - 1, -1, -1)]


def _at(day: date, clock: str | time) -> datetime:
    when = clock if isinstance(clock, time) else time.fromisoformat(clock)
    return datetime.combine(day, when, tzinfo=SAMPLE_TZ)


def night(index: int, day: date) -> Night:
    """The night that ended on replay day `index` (0 = the first)."""
    hours, wake = _NIGHTS[index]
    end = _at(day, wake)
    return Night(start=end - timedelta(hours=hours) - FALL_ASLEEP, end=end, hours=hours)


def morning_weigh_in(index: int, day: date) -> WeighIn:
    return WeighIn(night(index, day).end + WEIGH_AFTER_WAKING, _MORNING_KG[index])


def pre_run_weigh_in(index: int, start: datetime) -> WeighIn | None:
    """A weigh-in before an afternoon or evening run (a morning run has the morning one)."""
    if start.astimezone(SAMPLE_TZ).time() < EVENING_RUN_FROM:
        return None
    return WeighIn(start - PRE_RUN, round(_MORNING_KG[index] + AFTER_LUNCH_KG, 1))


def post_run_weigh_in(index: int, day: date, end: datetime) -> WeighIn | None:
    """After the final long run only: the 2 % loss. Earlier runs are not weighed after, as
    restday would repeat such a run's hydration advice the next morning (its key is per day)."""
    if day != replay_days()[-1]:
        return None
    return WeighIn(end + POST_RUN, round(_MORNING_KG[index] * (1 - FINAL_RUN_LOSS), 1))


def pain(day: date) -> Pain | None:
    """A sore knee the evening of the final long run."""
    return Pain(_at(day, PAIN_AT), PAIN_LEVEL) if day == replay_days()[-1] else None


def athlete(run_km: float) -> dict[str, object]:
    """Strava's athlete object with the sample's shoes, after `run_km` of the sample's runs."""
    km = SHOE_KM_BEFORE_SAMPLE + run_km
    shoe = {"id": SHOE_ID, "name": SHOE_NAME, "distance": round(km * 1000), "primary": True}
    return {"id": ATHLETE_ID, "resource_state": 2, "shoes": [{**shoe, "retired": False}]}


def _json(data: dict[str, object]) -> bytes:
    return json.dumps(data).encode()


# --- the timeline -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happens at `at`: an input published, a sync result or a tick."""

    at: datetime
    kind: str  # "caption" | "sleep" | "scale" | "pain" | "strava" | "morning" | "rollover"
    caption: str = ""
    night: Night | None = None
    weigh_in: WeighIn | None = None
    pain: Pain | None = None
    activity: dict[str, object] | None = None
    athlete: str | None = None  # whose input it is (None: the first athlete's)
    quiet: bool = False  # sent to restday without a line of its own (a household's second runner)
    note: str = ""  # said after the input's own words


@dataclass(frozen=True, slots=True)
class Story:
    """What the demo plays: the first sync's history, then each replayed day step by step."""

    start: datetime  # the service starts and the backfill arrives, before the first morning
    history: tuple[dict[str, object], ...]  # the backfill's activities
    steps: tuple[Step, ...]  # the days replayed, in time order


def build(activities: Sequence[dict[str, object]], report_at: time) -> Story:
    """The backfill and the day-by-day steps (`report_at`: the morning report's local time)."""
    days = replay_days()
    parsed = [(raw, parse_activity(raw)) for raw in activities]
    history = tuple(raw for raw, a in parsed if local_day(a.start) < days[0])
    steps: list[Step] = []
    for index, day in enumerate(days):
        sleep = night(index, day)
        weigh = morning_weigh_in(index, day)
        if index in CAPTIONS:
            steps.append(Step(_at(day, time(0, 0)), "caption", caption=CAPTIONS[index]))
        steps += [
            Step(sleep.end, "sleep", night=sleep),
            Step(weigh.at, "scale", weigh_in=weigh),
            Step(_at(day, report_at), "morning"),
        ]
        for raw, activity in parsed:
            if local_day(activity.start) == day:
                steps += _activity_steps(index, day, raw, activity)
        sore = pain(day)
        if sore is not None:
            steps.append(Step(sore.at, "pain", pain=sore))
        if day != days[-1]:
            steps.append(Step(_at(day + timedelta(days=1), ROLLOVER), "rollover"))
    return Story(_at(days[0], FIRST_SYNC), history, tuple(sorted(steps, key=lambda s: s.at)))


def _activity_steps(index: int, day: date, raw: dict[str, object], a: Activity) -> list[Step]:
    out = []
    before = pre_run_weigh_in(index, a.start) if a.is_run else None
    if before is not None:
        out.append(Step(before.at, "scale", weigh_in=before))
    out.append(Step(a.end + SYNC_DELAY, "strava", activity=raw))
    after = post_run_weigh_in(index, day, a.end) if a.is_run else None
    if after is not None:
        out.append(Step(after.at, "scale", weigh_in=after))
    return out


def local_day(moment: datetime) -> date:
    return moment.astimezone(SAMPLE_TZ).date()


def run_km(items: Sequence[dict[str, object]]) -> float:
    """The running distance of Strava activity objects."""
    return sum(float(a.distance_km) for a in map(parse_activity, items) if a.is_run)
