"""`restday assign`: give a shared scale's unassigned weigh-in to its athlete (DESIGN.md §7), as
`<base>/<a>/assign/set` does in the service; `restday assign --list` shows those kept aside.

TIME is the weigh-in's time as the `unassigned_weigh_in` notification sent it (ISO 8601 with
its zone); any spelling of the same instant does. It writes beside a running service, as
`restday import` does: the service sees the change in the store.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from restday.cli.athletes import known, open_store, open_to_read
from restday.cli.exit_codes import EXIT_FAILURE, EXIT_OK
from restday.config import Config
from restday.store import UnassignedWeighIn

MAX_NAMED = 3  # unassigned weigh-ins named when TIME matches none (`--list` shows them all)
EXAMPLE_TIME = "2026-03-01T06:12:00Z"


def instant(text: str) -> datetime:
    """TIME as an aware datetime (argparse's type: a usage error otherwise)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r}; give it as the notification sent it "
            f"(e.g. {EXAMPLE_TIME})"
        ) from None
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no zone: give the time as the notification sent it (e.g. {EXAMPLE_TIME})"
        )
    return value


def usage(args: argparse.Namespace) -> str | None:
    """Either `--list`, or TIME and ATHLETE."""
    if args.list:
        return None if args.time is None else "--list takes no TIME or ATHLETE"
    if args.time is None or args.athlete is None:
        return (
            "give the weigh-in's TIME and the ATHLETE it belongs to "
            "(`restday assign --list` shows the unassigned weigh-ins and their times)"
        )
    return None


def assign(config: Config, at: datetime, athlete: str) -> int:
    """Give the unassigned weigh-ins at `at` to `athlete`; exit 1 when none has that time."""
    athlete = known(config, athlete)
    zone = config.athlete_config(athlete).timezone
    path = config.store_path()
    if not path.exists():  # not created just to find nothing in it
        print(f"restday assign: no store at {path} yet: nothing to assign", file=sys.stderr)
        return EXIT_FAILURE
    with open_store(config, writes=True) as store, store.batch():
        waiting = [w for w in store.unassigned() if w.measurement.time == at]
        given = store.assign(at, athlete)
        left: list[UnassignedWeighIn] = [] if waiting else store.unassigned()
    for m in given:
        print(f"assigned {_kg(m.weight_kg)} at {_local(m.time, zone)} to {athlete}")
    if waiting and not given:  # the athlete had it already: it is only no longer kept aside
        print(f"the weigh-in at {_local(at, zone)} was {athlete}'s already; kept aside no more")
    if waiting:
        return EXIT_OK
    print(
        f"restday assign: no unassigned weigh-in at {_local(at, zone)}; "
        f"unassigned now: {_named(left, zone)}",
        file=sys.stderr,
    )
    return EXIT_FAILURE


def list_unassigned(config: Config) -> int:
    """Every weigh-in kept unassigned: its time (to give `restday assign`), weight, candidates."""
    store = open_to_read(config)
    pending: list[UnassignedWeighIn] = []
    if store is not None:
        with store:
            pending = store.unassigned()
    if not pending:
        print("No unassigned weigh-ins.")
        return EXIT_OK
    zone = ZoneInfo(config.athlete.timezone)
    print(f"{len(pending)} unassigned; give one to its athlete with `restday assign TIME ATHLETE`:")
    print(f"  {'TIME':<25}  {'WEIGHT':>9}  MIGHT BE")
    for w in pending:
        who = ", ".join(w.candidates) if w.candidates else "nobody's weight band fits"
        time = w.measurement.time.astimezone(zone).isoformat()
        print(f"  {time:<25}  {_kg(w.measurement.weight_kg):>9}  {who}")
    return EXIT_OK


def _named(pending: Sequence[UnassignedWeighIn], zone_name: str) -> str:
    if not pending:
        return "none"
    zone = ZoneInfo(zone_name)
    named = [
        f"{_kg(w.measurement.weight_kg)} at {w.measurement.time.astimezone(zone).isoformat()}"
        for w in pending[:MAX_NAMED]
    ]
    more = len(pending) - MAX_NAMED
    if more > 0:
        named.append(f"and {more} more (`restday assign --list`)")
    return ", ".join(named)


def _local(t: datetime, zone_name: str) -> str:
    return f"{t.astimezone(ZoneInfo(zone_name)):%Y-%m-%d %H:%M} ({zone_name})"


def _kg(kg: float) -> str:
    return f"{kg:.2f}".rstrip("0").rstrip(".") + " kg"
