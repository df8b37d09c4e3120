"""How long one day's evaluation takes over a long history, and `restday status` as a process.

Builds a store with N years of history (a run, a night and a weigh-in every day; 10 years =
3,650 of each), then prints:
- loading the history from the store,
- evaluating one day once it is loaded (median and worst of repeated runs),
- `restday status` as a whole process (median of repeated runs), and `--json`.

Usage: .venv/bin/python bench/bench_evaluate.py [--years 1 3 10] [--repeat 30]
Targets (issue 2): evaluation under 20 ms over 10 years; `restday status` under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from restday.models import BodyMeasurement, Hours, Kilograms, SleepSession
from restday.rules.engine import evaluate
from restday.rules.settings import Profile
from restday.store import Store

TZ = ZoneInfo("Europe/Berlin")
END = date(2026, 11, 20)
MS_PER_S = 1000.0


def strava_run(i: int, day: date) -> dict[str, object]:
    start = datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)
    km = 6.0 + (i % 7) * 1.5
    seconds = int(km * 330)
    return {
        "id": 10_000_000 + i,
        "name": "Morning Run",
        "type": "Run",
        "sport_type": "Run",
        "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_date_local": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "distance": km * 1000,
        "moving_time": seconds,
        "elapsed_time": seconds + 60,
        "average_heartrate": 140.0 + i % 15,
        "suffer_score": 40 + i % 30,
        "average_cadence": 82.0,
        "gear_id": "g1",
    }


def build_store(path: Path, years: int) -> None:
    from restday.sync import ingest_activities

    days = [END - timedelta(days=n) for n in range(years * 365)]
    with Store.open(path) as store:
        ingest_activities(store, [strava_run(i, d) for i, d in enumerate(days)])
        received = datetime.now(UTC)
        for i, d in enumerate(days):
            end = datetime(d.year, d.month, d.day, 5, 30, tzinfo=UTC)
            hours = 6.5 + (i % 5) * 0.4
            sleep = SleepSession(end=end, hours=Hours(hours), start=end - timedelta(hours=hours))
            store.add_sleep(
                sleep, json.dumps({"end": end.isoformat(), "duration_hours": hours}), received
            )
            weight = 70.0 + (i % 9) * 0.1
            when = end + timedelta(minutes=20)
            store.add_body(
                BodyMeasurement(time=when, weight_kg=Kilograms(weight)),
                json.dumps({"weight": weight, "timestamp": when.isoformat()}),
                received,
            )


def bench_years(years: int, repeat: int, workdir: Path) -> dict[str, float]:
    db = workdir / f"restday-{years}y.db"
    build_store(db, years)
    profile = Profile(timezone=TZ, max_hr=190, resting_hr=50, has_scale=True, has_sleep=True)

    t0 = time.perf_counter()
    with Store.open(db) as store:
        history = store.history()
    load_ms = (time.perf_counter() - t0) * MS_PER_S

    now = datetime(END.year, END.month, END.day, 20, 0, tzinfo=TZ)
    evaluate(history, now, profile)  # warm-up
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        evaluate(history, now, profile)
        runs.append((time.perf_counter() - t0) * MS_PER_S)

    config = workdir / f"restday-{years}y.toml"
    config.write_text(f'[athlete]\ntimezone = "Europe/Berlin"\n[storage]\npath = "{db}"\n')
    cli_runs = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTDAY_")}
    for _ in range(max(3, repeat // 5)):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "restday", "status", "--json", "--config", str(config)],
            check=True,
            capture_output=True,
            env=env,
        )
        cli_runs.append((time.perf_counter() - t0) * MS_PER_S)
    return {
        "records": float(len(history.activities) + len(history.sleeps) + len(history.body)),
        "load_ms": load_ms,
        "eval_median_ms": statistics.median(runs),
        "eval_max_ms": max(runs),
        "status_process_ms": statistics.median(cli_runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, nargs="+", default=[1, 3, 10])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'years':>5} {'records':>8} {'load':>9} {'eval p50':>9} {'eval max':>9} {'status':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for years in args.years:
            r = bench_years(years, args.repeat, Path(tmp))
            print(
                f"{years:>5} {r['records']:>8.0f} {r['load_ms']:>7.1f}ms "
                f"{r['eval_median_ms']:>7.2f}ms {r['eval_max_ms']:>7.2f}ms "
                f"{r['status_process_ms']:>7.0f}ms"
            )


if __name__ == "__main__":
    main()
