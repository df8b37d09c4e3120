"""`restday history` over a long history: one pass, not a fresh evaluation per day.

Builds a store with N years of history (bench_evaluate's: a run, a night and a weigh-in every
day), then prints, for each N:
- `evaluate_days` over the last 365 days and over every day of the history, in-process (the
  one pass, the history already loaded);
- `restday history --days D --json` and `--summary` as whole processes (loading included),
  with their maximum resident memory: for one history, the same whether 365 or 3,650 days
  are shown, as nothing is kept per day.

Usage: .venv/bin/python bench/bench_history.py [--years 1 3 10]
Target (issue 10): `history --days 3650` in under 3 s on this machine, memory flat.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for bench

from bench.bench_evaluate import END, TZ, build_store
from restday.rules.engine import evaluate_days
from restday.rules.settings import Profile
from restday.store import Store

MAX_DAYS = 3650  # `history --days` accepts at most this many


def in_process(db: Path, days: int) -> float:
    """Seconds for `evaluate_days` over `days` days of a loaded history."""
    profile = Profile(timezone=TZ, max_hr=190, resting_hr=50, has_scale=True, has_sleep=True)
    with Store.open(db) as store:
        history = store.history()
    now = datetime(END.year, END.month, END.day, 20, 0, tzinfo=TZ)
    t0 = time.perf_counter()
    count = sum(
        1 for _ in evaluate_days(history, END - timedelta(days=days - 1), END, now, profile)
    )
    assert count == days
    return time.perf_counter() - t0


def as_process(config: Path, days: int, mode: str) -> tuple[float, float]:
    """Seconds and max RSS (MB) of `restday history --days D <mode>` (output discarded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTDAY_")}
    argv = [sys.executable, "-m", "restday", "history", "--days", str(days), "--until",
            END.isoformat(), *mode.split(), "--config", str(config)]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    seconds = time.perf_counter() - t0
    rss = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, nargs="+", default=[1, 3, 10])
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'years':>5} {'days':>5} {'one pass':>9} {'--json':>8} {'RSS':>7} "
          f"{'--summary':>10} {'RSS':>7}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for years in args.years:
            db = Path(tmp) / f"restday-{years}y.db"
            build_store(db, years)
            config = Path(tmp) / f"restday-{years}y.toml"
            config.write_text(
                f'[athlete]\ntimezone = "Europe/Berlin"\nmax_hr = 190\nresting_hr = 50\n'
                f'[storage]\npath = "{db}"\n'
            )
            full = min(MAX_DAYS, years * 365)
            # The same history, more or fewer days shown: memory must not follow the days.
            for days in sorted({min(full, 365), full}):
                seconds = in_process(db, days)
                json_s, json_rss = as_process(config, days, "--json")
                summary_s, summary_rss = as_process(config, days, "--summary")
                print(
                    f"{years:>5} {days:>5} {seconds:>8.2f}s {json_s:>7.2f}s "
                    f"{json_rss:>5.0f}MB {summary_s:>9.2f}s {summary_rss:>5.0f}MB"
                )


if __name__ == "__main__":
    main()
