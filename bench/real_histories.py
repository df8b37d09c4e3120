"""Advice on real runners' histories (issue 10, "Proof — Real histories").

Converts public activity histories of real runners into Strava API activity objects (the
shape `restday.integrations.strava_json.parse_activity` reads), evaluates every day of each
history with restday's engine, and prints per athlete: days by status, each rule's firing
count by severity, the longest easy-or-rest and rest streaks, the statuses of the 7 days after
each run of 35 km or more, and the targets of issue 10 as PASS/FAIL lines. The targets are
reported, never tuned to.

Sources (`SOURCES` below names repository, path, commit and licence of each):
- committed, licence allows: `tests/data/samir_rehm.json` (MIT), evaluated by default;
- not committed (no licence stated, so all rights reserved): read from a path given on the
  command line, e.g. `--source aakash=PATH/activities.csv`; without it the source is skipped
  with a message saying where to get it. Any other export can be given as a bare PATH: a
  Strava bulk-export `activities.csv`, a JSON list of Strava API activities, or a .json.gz.

Usage:
    .venv/bin/python bench/real_histories.py                     # the committed histories
    .venv/bin/python bench/real_histories.py --source aakash=A.csv --source savmul=S.csv \\
        --source allan=activities.json                          # plus the others
    .venv/bin/python bench/real_histories.py --timezone Europe/Paris my_export/activities.csv
    .venv/bin/python bench/real_histories.py --source samir=activities.json \\
        --write samir=tests/data/samir_rehm.json                 # how the committed file was made

Athlete profile (`--profile`, documented, not hidden tuning; printed for each athlete):
- `highest` (default): max_hr = the highest `max_heartrate` recorded in the athlete's
  activities; where the source records no per-activity maximum, the maximum the source itself
  states for the athlete (SOURCES `stated_max_hr`), else none; resting_hr = `--resting-hr`
  (default 50, a plausible value: no source measures it per day). Load is then TRIMP.
- `none`: no HR settings, so load is Strava's relative effort, else factor-weighted minutes.
`--max-hr N` overrides max_hr for every athlete. The time zone is the source's (SOURCES), the
one most of a JSON export's activities carry, else `--timezone` (default UTC).

Reading the numbers: the first 28 days of each history ("calibrating") are left out of every
percentage, count and streak. "rest" counts `rest` and `see_doctor` days (both recommend a
rest day); "easy-or-rest" adds `easy`. Targets (issue 10), on the days outside the 7 days after
a run of 35 km or more: rest on at most 4 %, easy-or-rest on at most 15 % of days; after every
run of 40 km or more: rest the next day, and not `train` on days 2 and 3 (`calibrating` counts
as `train` there).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import sys
import time as clock
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from restday.integrations.strava_json import parse_activity
from restday.models import Activity, History, Recommendation, Severity, Status
from restday.rules.engine import evaluate_days
from restday.rules.settings import Profile

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"

CALIBRATION_DAYS = 28  # RULES.md: `calibrating` while the history spans fewer than 28 days
LONG_RUN_KM = 35.0  # the days after such a run are reported and left out of the targets
MARATHON_KM = 40.0  # after such a run: rest on day 1, not train on days 2 and 3
AFTER_DAYS = 7
MAX_REST_PCT = 4.0
MAX_EASY_OR_REST_PCT = 15.0
DEFAULT_RESTING_HR = 50

# The Strava API fields kept in a converted history (and read by `parse_activity`).
FIELDS = (
    "id",
    "name",
    "sport_type",
    "type",
    "start_date",
    "start_date_local",
    "timezone",
    "distance",
    "moving_time",
    "elapsed_time",
    "average_heartrate",
    "max_heartrate",
    "suffer_score",
    "average_cadence",
    "gear_id",
    "workout_type",
)

Json = dict[str, object]


@dataclass(frozen=True)
class Source:
    """A public history: where it is, under which licence, and how to read it."""

    name: str  # the name on the command line (`--source NAME=PATH`)
    athlete: str
    repo: str
    path: str
    commit: str  # the commit that last changed `path` (the version converted here)
    sha256: str  # of that version of the file, to notice a different one
    licence: str
    fmt: str  # "strava_csv", "strava_api_json" or "intervals_summary_json"
    timezone: str
    committed: str | None = None  # the converted file in tests/data, where the licence allows
    stated_max_hr: int | None = None  # the source's own figure for the athlete, if any
    note: str = ""


SOURCES = (
    Source(
        name="samir",
        athlete="Samir Rehmtulla (half-marathon build; San Mateo, California)",
        repo="SamirRehm/half-marathon-training",
        path="data/activities.json",
        commit="2df8a9c0aebb4df5aa2168bae1de8997e8e986d2",
        sha256="e7225e61bb1f2624c9f2d9155205e61cbea3017ae04c69cb07c873750d1fe382",
        licence="MIT (Copyright (c) 2026 Samir Rehmtulla)",
        fmt="intervals_summary_json",
        timezone="America/Los_Angeles",
        committed="samir_rehm.json",
        stated_max_hr=190,  # data/athlete.json, "physiology": {"max_hr": 190, ...}
        note=(
            "runs only, summarised by Intervals.icu: date (no time), km, moving seconds, "
            "average HR; converted with starts at 07:00 local, a day's runs 10 min apart"
        ),
    ),
    Source(
        name="aakash",
        athlete="AakashB-1996 (Dallas, Texas; marathons and a 100 km)",
        repo="AakashB-1996/Strava_Analysis",
        path="activities.csv",
        commit="9557a628bbafae1e1a8f5811aca6f0a2f7a8188a",
        sha256="c5010d421dec21f6968d3edf826e4e2f717706582be251d720651c8e641b4b9c",
        licence="none stated",
        fmt="strava_csv",
        timezone="America/Chicago",
    ),
    Source(
        name="savmul",
        athlete="savmul (Florida; trail ultras)",
        repo="savmul/run-performance-dropoff",
        path="data/raw/activities.csv",
        commit="ea263fb1f444d42b49504bff806b44ad6afc25cf",
        sha256="84b547a9c871d0f0b4fc35843a2e4bddb39c6dd53df2691fe1eafb57e9369ba6",
        licence="none stated",
        fmt="strava_csv",
        timezone="America/New_York",
    ),
    Source(
        name="allan",
        athlete="AllanGraver (Denmark; marathons and a 50 km)",
        repo="AllanGraver/run-ai-coach",
        path="data/activities.json",
        commit="e1086c8140fe7b947743ae64561fa632e47b298f",
        sha256="d0b4a191ae50f38a528e8b11ed7502b7a0e11ee7bd8627fd774ff73b4369b635",
        licence="none stated",
        fmt="strava_api_json",
        timezone="Europe/Copenhagen",
        note="the Strava API's own objects (GET /athlete/activities), updated daily upstream",
    ),
)
SOURCES_BY_NAME = {s.name: s for s in SOURCES}


# ---------------------------------------------------------------------------------------------
# Converters: each source format → Strava API activity objects (dicts with FIELDS)


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _strava_timezone(moment: datetime, tz: ZoneInfo) -> str:
    """Strava's `timezone` field, e.g. "(GMT+01:00) Europe/Berlin"."""
    offset = moment.astimezone(tz).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"(GMT{sign}{hours:02d}:{mins:02d}) {tz.key}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _api_object(
    *,
    activity_id: int,
    name: str,
    sport_type: str,
    start: datetime,
    tz: ZoneInfo,
    distance_m: float,
    moving_s: float,
    elapsed_s: float,
    average_heartrate: float | None = None,
    max_heartrate: float | None = None,
    suffer_score: float | None = None,
    average_cadence: float | None = None,
    gear_id: str | None = None,
    workout_type: int | None = None,
) -> Json:
    """One activity as Strava's API gives it: `start_date_local` is local wall-clock time
    tagged Z (Strava's quirk, kept so that the object is what the API would send)."""
    return {
        "id": activity_id,
        "name": name,
        "sport_type": sport_type,
        "type": sport_type,
        "start_date": _z(start.astimezone(UTC)),
        "start_date_local": _z(start.astimezone(tz).replace(tzinfo=UTC)),
        "timezone": _strava_timezone(start, tz),
        "distance": round(distance_m, 1),
        "moving_time": round(moving_s),
        "elapsed_time": round(elapsed_s),
        "average_heartrate": _round(average_heartrate),
        "max_heartrate": _round(max_heartrate),
        "suffer_score": suffer_score,
        "average_cadence": _round(average_cadence),
        "gear_id": gear_id,
        "workout_type": workout_type,
    }


# The bulk export's display names that are not the API's `sport_type` with spaces removed.
_CSV_SPORT_TYPES = {
    "E-Bike Ride": "EBikeRide",
    "E-Mountain Bike Ride": "EMountainBikeRide",
    "Rock Climb": "RockClimbing",
    "Stair-Stepper": "StairStepper",
    "Stand Up Paddling": "StandUpPaddling",
    "HIIT": "HighIntensityIntervalTraining",
}

# "Activity Date" in the bulk export is UTC, written in the account's locale.
_CSV_DATE_FORMATS = (
    "%b %d, %Y, %I:%M:%S %p",  # Oct 6, 2022, 11:19:20 PM (en-US)
    "%d %b %Y, %H:%M:%S",  # 21 Feb 2024, 01:17:32 (en-GB)
    "%b %d, %Y, %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
)


def _csv_date(text: str) -> datetime:
    clean = " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())
    for fmt in _CSV_DATE_FORMATS:
        try:
            return datetime.strptime(clean, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"Activity Date {text!r} is in none of the known formats")


def _number(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        return None


def strava_csv_activities(text: str, tz: ZoneInfo) -> list[Json]:
    """A Strava bulk export's `activities.csv` (English headers) as API objects.

    The export repeats some headers: the first "Elapsed Time" is whole seconds and the first
    "Distance" is km (metres for swims), the second of each is the exact value in seconds and
    metres; "Max Heart Rate" and "Relative Effort" appear twice, either copy possibly empty.
    The second copy is read where it has a value, else the first. "Activity Date" is UTC.
    "Activity Gear" holds gear names, not API ids, so `gear_id` stays empty; the export has no
    `workout_type`, so races are not marked.
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        return []
    columns: dict[str, list[int]] = defaultdict(list)
    for index, header in enumerate(rows[0]):
        columns[header.strip()].append(index)
    if "Activity Date" not in columns or "Activity Type" not in columns:
        raise ValueError(
            "not a Strava bulk export with English headers (no 'Activity Date'/'Activity Type')"
        )

    def cells(row: list[str], header: str) -> list[str]:
        return [row[i] for i in columns.get(header, []) if i < len(row)]

    def last_value(row: list[str], header: str) -> float | None:
        values = [v for v in (_number(c) for c in cells(row, header)) if v is not None]
        return values[-1] if values else None

    out: list[Json] = []
    for row in rows[1:]:
        if not row or not any(cell.strip() for cell in row):
            continue
        (activity_id,) = cells(row, "Activity ID")[:1] or ("",)
        (display_type,) = cells(row, "Activity Type")[:1] or ("",)
        sport_type = _CSV_SPORT_TYPES.get(display_type, display_type.replace(" ", ""))
        distance = cells(row, "Distance")
        if len(distance) > 1 and _number(distance[1]) is not None:
            distance_m = _number(distance[1]) or 0.0
        else:
            distance_m = (_number(distance[0]) if distance else None) or 0.0
            distance_m *= 1 if sport_type == "Swim" else 1000
        elapsed = last_value(row, "Elapsed Time") or 0.0
        workout = last_value(row, "Workout Type")
        out.append(
            _api_object(
                activity_id=int(activity_id),
                name=(cells(row, "Activity Name")[:1] or [""])[0],
                sport_type=sport_type,
                start=_csv_date(cells(row, "Activity Date")[0]),
                tz=tz,
                distance_m=distance_m,
                moving_s=last_value(row, "Moving Time") or elapsed,
                elapsed_s=elapsed,
                average_heartrate=last_value(row, "Average Heart Rate"),
                max_heartrate=last_value(row, "Max Heart Rate"),
                suffer_score=last_value(row, "Relative Effort"),
                average_cadence=last_value(row, "Average Cadence"),
                workout_type=int(workout) if workout is not None else None,
            )
        )
    return out


def strava_api_activities(data: object) -> list[Json]:
    """A JSON list of Strava API activities (SummaryActivity/DetailedActivity), reduced to
    FIELDS (maps, locations and the athlete are dropped)."""
    if not isinstance(data, list):
        raise ValueError("a Strava API history is a JSON list of activity objects")
    out: list[Json] = []
    for item in data:
        if not isinstance(item, Mapping):
            raise ValueError("a Strava API history holds JSON objects only")
        out.append({key: item.get(key) for key in FIELDS})
    return out


INTERVALS_FIRST_START = time(7, 0)  # the summaries have a date only: the day's first run
INTERVALS_GAP = timedelta(minutes=10)  # the next run of the day starts this long after one


def intervals_summary_activities(data: object, tz: ZoneInfo) -> list[Json]:
    """SamirRehm/half-marathon-training's `data/activities.json`: Intervals.icu run summaries
    ({"activities": [{"date", "km", "sec" (moving), "hr" (average), "name", ...}]}).

    No start time, id, maximum HR or elapsed time is recorded: a day's first run starts at
    07:00 local and each next one 10 minutes after the previous ended (workouts are often
    recorded as warm-up, reps and cool-down: they then count as one run, as on the day); the
    id is the date and the run's number that day (2022011102); elapsed = moving time. The
    Intervals.icu `load` is not Strava's relative effort and is not kept.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("activities"), list):
        raise ValueError('an Intervals.icu summary is {"activities": [...]}')
    items = data["activities"]
    assert isinstance(items, list)
    per_day: dict[str, int] = Counter()
    next_start: dict[str, datetime] = {}
    out: list[Json] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ValueError("an Intervals.icu summary holds JSON objects only")
        day = str(item["date"])
        per_day[day] += 1
        seconds = float(item["sec"])
        local_day = date.fromisoformat(day)
        start = next_start.get(day, datetime.combine(local_day, INTERVALS_FIRST_START, tz))
        next_start[day] = start + timedelta(seconds=seconds) + INTERVALS_GAP
        hr = item.get("hr")
        out.append(
            _api_object(
                activity_id=int(local_day.strftime("%Y%m%d")) * 100 + per_day[day],
                name=str(item.get("name") or "Run"),
                sport_type="Run",
                start=start,
                tz=tz,
                distance_m=float(item["km"]) * 1000,
                moving_s=seconds,
                elapsed_s=seconds,
                average_heartrate=float(hr) if isinstance(hr, int | float) else None,
            )
        )
    return out


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig")


def convert(path: Path, fmt: str | None, tz: ZoneInfo) -> list[Json]:
    """The file at `path` as Strava API objects; `fmt` None detects the format."""
    text = read_text(path)
    if fmt is None:
        stripped = text.lstrip()
        if not stripped.startswith(("[", "{")):
            fmt = "strava_csv"
        else:
            fmt = "strava_api_json" if stripped.startswith("[") else "intervals_summary_json"
    if fmt == "strava_csv":
        return strava_csv_activities(text, tz)
    data = json.loads(text)
    if fmt == "strava_api_json":
        return strava_api_activities(data)
    if fmt == "intervals_summary_json":
        return intervals_summary_activities(data, tz)
    raise ValueError(f"unknown format {fmt}")


def write_history(objects: Sequence[Json], out: Path) -> None:
    """Converted objects as a JSON list, one activity a line (gzipped when `out` ends .gz)."""
    text = "[\n" + ",\n".join(json.dumps(o, ensure_ascii=False) for o in objects) + "\n]\n"
    data = text.encode()
    out.write_bytes(gzip.compress(data, mtime=0) if out.suffix == ".gz" else data)


def load_committed(name: str) -> list[Json]:
    """A history committed in tests/data (a JSON list of Strava API objects, maybe .gz)."""
    return strava_api_activities(json.loads(read_text(DATA / name)))


def activities_of(objects: Iterable[Json]) -> list[Activity]:
    return [parse_activity(o) for o in objects]


def usual_timezone(objects: Sequence[Json]) -> str | None:
    """The IANA zone most of the activities carry in Strava's `timezone` field."""
    zones = Counter(
        str(o["timezone"]).split(") ", 1)[-1] for o in objects if isinstance(o.get("timezone"), str)
    )
    return zones.most_common(1)[0][0] if zones else None


# ---------------------------------------------------------------------------------------------
# Evaluation and report


@dataclass(frozen=True)
class Athlete:
    label: str
    origin: str  # where the history came from, for the report
    activities: list[Activity]
    timezone: ZoneInfo
    stated_max_hr: int | None = None


@dataclass(frozen=True)
class ProfileChoice:
    mode: str  # "highest" or "none"
    max_hr: int | None  # --max-hr
    resting_hr: int


def choose_profile(athlete: Athlete, choice: ProfileChoice) -> tuple[Profile, str]:
    """The engine's profile for `athlete`, and a sentence saying where each number came from."""
    tz = athlete.timezone
    if choice.mode == "none":
        return Profile(timezone=tz), f"no HR settings (--profile none); timezone {tz.key}"
    if choice.max_hr is not None:
        max_hr: int | None = choice.max_hr
        why = "--max-hr"
    else:
        recorded = [a.max_heartrate for a in athlete.activities if a.max_heartrate]
        if recorded:
            max_hr, why = round(max(recorded)), "the highest max_heartrate recorded"
        elif athlete.stated_max_hr:
            max_hr = athlete.stated_max_hr
            why = "stated by the source (no per-activity max HR recorded)"
        else:
            max_hr, why = None, "none: no max HR recorded or stated"
    if max_hr is None:
        return Profile(timezone=tz), f"max_hr {why}; no HR settings; timezone {tz.key}"
    return (
        Profile(timezone=tz, max_hr=max_hr, resting_hr=choice.resting_hr),
        f"max_hr {max_hr} ({why}), resting_hr {choice.resting_hr} (--resting-hr), "
        f"timezone {tz.key} (--profile highest)",
    )


def _is_rest(status: Status) -> bool:
    return status.rest_day_recommended


def _is_easy_or_rest(status: Status) -> bool:
    return status is Status.EASY or status.rest_day_recommended


def _longest(
    days: Sequence[date], statuses: dict[date, Status], keep: Callable[[Status], bool]
) -> str:
    """The longest run of consecutive days whose status passes `keep`, as "N days (a – b)"."""
    best: tuple[int, date | None, date | None] = (0, None, None)
    length, start = 0, None
    for day in days:
        if keep(statuses[day]):
            length, start = length + 1, start or day
            if length > best[0]:
                best = (length, start, day)
        else:
            length, start = 0, None
    if not best[0]:
        return "none"
    return f"{best[0]} day{'s' if best[0] > 1 else ''} ({best[1]} – {best[2]})"


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def report(athlete: Athlete, choice: ProfileChoice) -> dict[str, object]:
    """Evaluate every day of `athlete`'s history and print the report; returns the key
    figures for the closing summary."""
    write = sys.stdout.write
    acts = athlete.activities
    tz = athlete.timezone
    history = History.of(activities=acts)
    profile, profile_note = choose_profile(athlete, choice)
    runs = [a for a in acts if a.is_run]

    def local_day(a: Activity) -> date:
        return a.start.astimezone(tz).date()

    first = min(local_day(a) for a in acts)
    last = max(local_day(a) for a in acts)
    longest_run = max((a.distance_km for a in runs), default=0.0)
    write(f"\n== {athlete.label}\n")
    write(f"source: {athlete.origin}\n")
    write(
        f"history: {len(acts)} activities, {len(runs)} runs "
        f"({sum(1 for a in runs if a.average_heartrate)} with HR), "
        f"{first} – {last}; runs ≥ {MARATHON_KM:g} km: "
        f"{sum(1 for a in runs if a.distance_km >= MARATHON_KM)}; "
        f"longest run {longest_run:.1f} km\n"
    )
    write(f"profile: {profile_note}\n")

    started = clock.perf_counter()
    end = datetime.combine(last + timedelta(days=1), time(0), tz) - timedelta(microseconds=1)
    recs: dict[date, Recommendation] = dict(evaluate_days(history, first, last, end, profile))
    seconds = clock.perf_counter() - started
    days = sorted(recs)
    counted = days[CALIBRATION_DAYS:]
    statuses = {d: recs[d].status for d in days}
    load_unit = recs[last].metrics.load_source
    write(
        f"evaluated: {len(days)} days in {seconds:.1f} s (load unit: {load_unit}); the first "
        f"{CALIBRATION_DAYS} left out: {len(counted)} counted\n"
    )

    by_status = Counter(statuses[d] for d in counted)
    write("\n  status        days       %\n")
    for status in Status:
        n = by_status.get(status, 0)
        write(f"  {status.value:<12} {n:>5}  {_pct(n, len(counted)):>6.1f}\n")

    fired: dict[str, Counter[Severity]] = defaultdict(Counter)
    for d in counted:
        for rule, severity in {(f.rule, f.severity) for f in recs[d].reasons}:
            fired[rule][severity] += 1
    write("\n  rule fired on (days)      " + "".join(f"{s.value:>9}" for s in Severity) + "\n")
    for rule in sorted(fired, key=lambda r: (-sum(fired[r].values()), r)):
        write(f"  {rule:<25} " + "".join(f"{fired[rule][s]:>9}" for s in Severity) + "\n")
    if not fired:
        write("  (no rule fired)\n")

    write(f"\n  longest easy-or-rest streak: {_longest(counted, statuses, _is_easy_or_rest)}\n")
    write(f"  longest rest streak:         {_longest(counted, statuses, _is_rest)}\n")

    long_runs = sorted(
        (a for a in runs if a.distance_km >= LONG_RUN_KM), key=lambda a: (a.start, a.id)
    )
    after: set[date] = set()
    write(f"\n  runs ≥ {LONG_RUN_KM:g} km, status of the {AFTER_DAYS} days after:\n")
    marathon_checks: list[tuple[Activity, bool, str]] = []
    for run in long_runs:
        day = local_day(run)
        following = [day + timedelta(days=i) for i in range(1, AFTER_DAYS + 1)]
        after.update(following)
        shown = " ".join(statuses[d].value if d in statuses else "—" for d in following)
        write(f"  {day}  {run.distance_km:6.1f} km  {run.name[:34]:<34}  {shown}\n")
        if run.distance_km >= MARATHON_KM:
            d1, d2, d3 = following[:3]
            problems = []
            if d1 in statuses and not _is_rest(statuses[d1]):
                problems.append(f"day 1 {statuses[d1].value}")
            for n, d in ((2, d2), (3, d3)):
                if d in statuses and statuses[d] in (Status.TRAIN, Status.CALIBRATING):
                    problems.append(f"day {n} {statuses[d].value}")
            if d1 not in statuses:
                problems.append("history ends")
            marathon_checks.append((run, not problems, ", ".join(problems)))
    if not long_runs:
        write("  (none)\n")

    outside = [d for d in counted if d not in after]
    rest_pct = _pct(sum(1 for d in outside if _is_rest(statuses[d])), len(outside))
    easy_pct = _pct(sum(1 for d in outside if _is_easy_or_rest(statuses[d])), len(outside))
    write(
        f"\n  targets (on the {len(outside)} counted days outside the {AFTER_DAYS} days after "
        f"a run ≥ {LONG_RUN_KM:g} km):\n"
    )
    rest_ok = rest_pct <= MAX_REST_PCT
    easy_ok = easy_pct <= MAX_EASY_OR_REST_PCT
    write(
        f"  {'PASS' if rest_ok else 'FAIL'}  rest on {rest_pct:.1f} % of days "
        f"(≤ {MAX_REST_PCT:g} %)\n"
    )
    write(
        f"  {'PASS' if easy_ok else 'FAIL'}  easy-or-rest on {easy_pct:.1f} % of days "
        f"(≤ {MAX_EASY_OR_REST_PCT:g} %)\n"
    )
    marathons_ok = all(ok for _, ok, _ in marathon_checks)
    if marathon_checks:
        passed = sum(1 for _, ok, _ in marathon_checks if ok)
        write(
            f"  {'PASS' if marathons_ok else 'FAIL'}  after each run ≥ {MARATHON_KM:g} km rest on "
            f"day 1, not train on days 2–3: {passed} of {len(marathon_checks)}\n"
        )
        for run, ok, why in marathon_checks:
            if not ok:
                write(f"        {local_day(run)} {run.distance_km:.1f} km: {why}\n")
    else:
        write(f"  n/a   no run ≥ {MARATHON_KM:g} km in this history\n")
    return {
        "label": athlete.label.split(" ")[0],
        "counted": len(counted),
        "rest_pct": rest_pct,
        "easy_pct": easy_pct,
        "rest_ok": rest_ok,
        "easy_ok": easy_ok,
        "marathons": (
            f"{sum(1 for _, ok, _ in marathon_checks if ok)}/{len(marathon_checks)}"
            if marathon_checks
            else "n/a"
        ),
        "marathons_ok": marathons_ok,
    }


def _name_path(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    return name, Path(path)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Known sources: "
        + "; ".join(f"{s.name} = {s.repo}:{s.path} ({s.licence.split(' (')[0]})" for s in SOURCES)
        + ". Histories whose repository states no licence are not committed: pass their file.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="other histories: a Strava bulk-export activities.csv, or a JSON list of Strava "
        "API activities (.json or .json.gz)",
    )
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        type=_name_path,
        metavar="NAME=PATH",
        help="the file of a known source that is not committed (see the list below)",
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="evaluate only these known sources"
    )
    parser.add_argument(
        "--profile",
        choices=("highest", "none"),
        default="highest",
        help="highest (default): max_hr = the athlete's highest recorded max_heartrate (else "
        "the source's stated one), resting_hr = --resting-hr; none: no HR settings",
    )
    parser.add_argument("--max-hr", type=int, help="max_hr for every athlete (overrides)")
    parser.add_argument(
        "--resting-hr",
        type=int,
        default=DEFAULT_RESTING_HR,
        help=f"resting_hr with --profile highest (default {DEFAULT_RESTING_HR})",
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        help="the athletes' time zone for the bare PATHs' CSVs (default UTC)",
    )
    parser.add_argument(
        "--write",
        action="append",
        default=[],
        type=_name_path,
        metavar="NAME=OUT",
        help="also write source NAME, converted, to OUT (a JSON list; gzipped if OUT ends .gz)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    given = dict(args.source)
    unknown = sorted(set(given) - set(SOURCES_BY_NAME))
    if unknown:
        print(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(SOURCES_BY_NAME)}")
        return 2
    writes = dict(args.write)
    choice = ProfileChoice(args.profile, args.max_hr, args.resting_hr)

    athletes: list[Athlete] = []
    skipped: list[str] = []
    for source in SOURCES:
        if args.only and source.name not in args.only:
            continue
        tz = ZoneInfo(source.timezone)
        origin = f"{source.repo} {source.path} @ {source.commit[:12]}, licence {source.licence}"
        if source.name in given:
            path = given[source.name]
            if not path.exists():
                print(f"{source.name}: no file at {path}")
                return 2
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != source.sha256:
                origin += f"; NOTE: {path} is not that version (sha256 {digest[:12]})"
            objects = convert(path, source.fmt, tz)
            origin = f"{path} = {origin}"
        elif source.committed and (DATA / source.committed).exists():
            objects = load_committed(source.committed)
            origin = f"tests/data/{source.committed}, converted from {origin}"
        else:
            skipped.append(
                f"{source.name}: not committed (licence: {source.licence}). Get "
                f"{source.path} from github.com/{source.repo} at commit {source.commit} "
                f"and pass --source {source.name}=PATH"
            )
            continue
        if source.name in writes:
            write_history(objects, writes.pop(source.name))
        if source.note:
            origin += f" ({source.note})"
        athletes.append(
            Athlete(
                label=f"{source.name} — {source.athlete}",
                origin=origin,
                activities=activities_of(objects),
                timezone=tz,
                stated_max_hr=source.stated_max_hr,
            )
        )
    if writes:
        print(f"--write names a source that was not loaded: {', '.join(writes)}")
        return 2
    for path in args.paths:
        objects = convert(path, None, ZoneInfo(args.timezone))
        zone = usual_timezone(objects)  # a CSV's objects carry --timezone itself
        athletes.append(
            Athlete(
                label=f"{path.name} — from the command line",
                origin=str(path),
                activities=activities_of(objects),
                timezone=ZoneInfo(zone or args.timezone),
            )
        )

    print("Advice on real histories: restday's engine over every day of each history")
    for line in skipped:
        print(f"skipped {line}")
    summaries = [report(a, choice) for a in athletes if a.activities]
    if summaries:
        print("\n== summary (targets on the days outside the 7 after a run ≥ 35 km)")
        print(
            f"  {'athlete':<10} {'days':>6} {'rest %':>7} {'easy|rest %':>12} {'after ≥ 40 km':>14}"
        )
        for s in summaries:
            rest = f"{s['rest_pct']:.1f}{'' if s['rest_ok'] else '!'}"
            easy = f"{s['easy_pct']:.1f}{'' if s['easy_ok'] else '!'}"
            marathons = f"{s['marathons']}{'' if s['marathons_ok'] else '!'}"
            print(f"  {s['label']:<10} {s['counted']:>6} {rest:>7} {easy:>12} {marathons:>14}")
        print(
            "  (! = target missed: rest ≤ 4 %, easy-or-rest ≤ 15 %, rest then no train after 40 km)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
