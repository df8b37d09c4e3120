"""The household demo's second runner, Ben: ten weeks of his own, generated like the sample's.

Ben is heavier (about 81 kg) and steadier than the sample runner: runs on Tuesday and Thursday
evenings, a long run on Saturday and an easy one on Sunday, strength on Wednesday, Monday and
Friday off, and no big week. His nights are seven and a half to eight hours. The morning after
his long run of the second week he weighs 79.8 kg: just under the band he gave the shared
scale, so restday does not guess whose weigh-in it is, and he says it was his.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from restday.demo.data import FALL_ASLEEP, SYNC_DELAY, Night, Step, WeighIn, local_day, replay_days
from restday.demo.sample import SAMPLE_END, SAMPLE_TZ, SAMPLE_WEEKS, StravaRunner, activity
from restday.integrations.strava_json import parse_activity

BEN = "ben"  # his athlete id
BEN_SEED = 7
BEN_RUNNER = StravaRunner(
    athlete_id=5151, shoe_id="g7654321", first_activity_id=17_000_000_000, pace_s_per_km=310
)
SHOE_NAME = "Ghost 16"  # bought with the ten weeks: their runs are all its km
# Per weekday: (sport, km or minutes, local start hour).
_WEEK: dict[int, tuple[str, float, float]] = {
    1: ("Run", 9.0, 18.5),
    2: ("WeightTraining", 45.0, 19.0),
    3: ("Run", 11.0, 18.5),
    5: ("Run", 16.0, 8.5),
    6: ("Run", 7.0, 9.5),
}
_WEEK_FACTOR = (0.9, 0.95, 1.0, 0.8, 0.95, 1.0, 1.0, 0.85, 1.0, 1.0)  # 4th/8th: lighter
# The nights ending on each replay day (oldest first): hours asleep, wake-up time.
_NIGHTS: tuple[tuple[float, str], ...] = (
    (7.8, "05:50"),
    (7.6, "05:45"),
    (8.0, "05:55"),
    (7.5, "05:40"),
    (7.9, "05:50"),
    (8.1, "06:00"),
    (7.7, "05:48"),
    (7.9, "05:52"),
    (8.2, "06:02"),
    (7.6, "05:44"),
    (7.8, "05:50"),
    (7.7, "05:46"),
    (8.0, "05:55"),
    (7.9, "05:50"),
)
UNASSIGNED_DAY = 8  # the replay day (Sunday) after his long run: 79.8 kg, under his band
_MORNING_KG = (81.2, 81.0, 81.3, 81.1, 80.9, 81.2, 81.0, 80.8, 79.8, 81.1, 81.0, 81.2, 80.9, 81.1)
WEIGH_AFTER_WAKING = timedelta(minutes=8)
ASSIGN_AFTER = timedelta(minutes=3)  # he reads the question on his phone and answers it


def ben_activities(end: date = SAMPLE_END) -> list[dict[str, object]]:
    """Ben's Strava SummaryActivity objects, oldest first, ending on `end`."""
    rng = random.Random(BEN_SEED)  # noqa: S311 -- reproducible sample data, not secrets
    first = end - timedelta(days=SAMPLE_WEEKS * 7 - 1)
    out: list[dict[str, object]] = []
    for offset in range(SAMPLE_WEEKS * 7):
        day = first + timedelta(days=offset)
        if day.weekday() not in _WEEK:
            continue
        sport, amount, hour = _WEEK[day.weekday()]
        if sport != "WeightTraining":
            amount *= _WEEK_FACTOR[offset // 7]
        out.append(activity(len(out), day, (sport, amount, hour), SAMPLE_TZ, rng, BEN_RUNNER))
    return out


def strava_athlete(run_km: float) -> dict[str, object]:
    """Strava's athlete object for Ben, his shoes after `run_km` of his runs."""
    shoe = {"id": BEN_RUNNER.shoe_id, "name": SHOE_NAME, "distance": round(run_km * 1000)}
    shoes = [{**shoe, "primary": True, "retired": False}]
    return {"id": BEN_RUNNER.athlete_id, "resource_state": 2, "shoes": shoes}


def history(activities: Sequence[dict[str, object]]) -> tuple[dict[str, object], ...]:
    """His first sync: what he did before the replayed days."""
    first = replay_days()[0]
    return tuple(raw for raw in activities if local_day(parse_activity(raw).start) < first)


def steps(activities: Sequence[dict[str, object]], unassigned_note: str) -> list[Step]:
    """His replayed days: a night and a weigh-in every morning, each activity a while after it
    ended; unprinted (`quiet`) but for the last day and the weigh-in that fits nobody's band
    (said with `unassigned_note`), which he then assigns to himself (an "assign" step)."""
    days = replay_days()
    out: list[Step] = []
    for index, day in enumerate(days):
        quiet = day != days[-1]
        hours, wake = _NIGHTS[index]
        end = datetime.combine(day, time.fromisoformat(wake), tzinfo=SAMPLE_TZ)
        night = Night(end - timedelta(hours=hours) - FALL_ASLEEP, end, hours)
        weigh = WeighIn(end + WEIGH_AFTER_WAKING, _MORNING_KG[index])
        out.append(Step(end, "sleep", night=night, athlete=BEN, quiet=quiet))
        if index == UNASSIGNED_DAY:
            out.append(Step(weigh.at, "scale", weigh_in=weigh, athlete=BEN, note=unassigned_note))
            out.append(Step(weigh.at + ASSIGN_AFTER, "assign", athlete=BEN))
        else:
            out.append(Step(weigh.at, "scale", weigh_in=weigh, athlete=BEN, quiet=quiet))
        for raw in activities:
            done = parse_activity(raw)
            if local_day(done.start) == day:
                at = done.end + SYNC_DELAY
                out.append(Step(at, "strava", activity=raw, athlete=BEN, quiet=quiet))
    return out
