"""One Strava sync: what to ask Strava for, storing what came, and which of it is news.

The service and the commands go through here alike: `daemon/strava_sync.py` runs the
service's syncs in job threads and the worker stores their results; `restday strava sync`
fetches and stores in one go; `restday import FILE` stores a file of the same JSON. As
strava-offline's `sync.py` does, this module joins the HTTP layer (`integrations/strava/`)
and the SQL layer (`restday.store`), which know nothing of each other. Nothing here sleeps,
schedules or starts a thread.

- What to ask for: the first sync backfills `strava.backfill_days` (so does `--days N`);
  later ones ask from the newest stored start (`newest_start`) minus `LOOKBACK`, since late
  uploads keep their start time and Strava's `after` filters on it. An idle sync costs one
  call for the activities, plus one for the shoes at most once a day or after a new activity.
- Storing: activities are upserted with their raw JSON in one transaction (an edit
  replaces); bad items are skipped, each with a reason a person can act on; the shoes are
  replaced as a whole (Strava's list is the truth).
- News: the activities a sync added, unless it was a backfill (history, not news). Which of
  them get a post-run notification is for `rules/post_run.py` to decide.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from restday.clock import Clock
from restday.integrations.strava_json import BadGear, parse_activity, parse_shoe
from restday.models import Activity, Gear, History
from restday.store import Parsers, Store

if TYPE_CHECKING:  # the HTTP side is imported only where a sync asks Strava (`Fetcher.fetch`)
    from restday.integrations.strava import StravaClient

log = logging.getLogger(__name__)

# The store knows only SQL and strava_json only Strava's JSON: the sync joins them, as
# strava-offline's sync passes `from_dict` to its SQL layer. Every `Store.open` that may write a
# store found on disk passes these, so that an upgrade can parse activities and gear again.
STRAVA_PARSERS = Parsers(activity=parse_activity, gear=parse_shoe)


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one Strava sync brought back (built in a job thread, stored by the worker).

    `activities` and `athlete` are Strava's raw JSON. `backfill` marks a first or a requested
    long sync: its runs are history, not news, so no post-run notification goes out for them.
    """

    finished_at: datetime  # UTC, aware
    auth: str  # "ok" | "required" | "not_configured"
    activities: tuple[dict[str, Any], ...] = ()
    athlete: dict[str, Any] | None = None
    backfill: bool = False
    error: str | None = None  # for people: "rate limited until 10:45", "Strava is down (503)"
    calls_today: int = 0
    athlete_id: str | None = None  # restday's athlete it was fetched for (None: the first)


LOOKBACK = timedelta(days=3)  # late uploads: ask again for this much before the newest start
SHOES_EVERY = timedelta(days=1)  # the athlete's shoes are re-read at most this often …
# … and after a sync that brought a new activity (its distance moved a shoe).


# --- what to ask for ------------------------------------------------------------------------


def newest_start(history: History) -> datetime | None:
    """The newest stored activity's start, where the next sync resumes (None: none stored)."""
    activities = history.activities  # sorted by start
    return activities[-1].start if activities else None


def window(
    newest: datetime | None, now: datetime, backfill_days: int, days: int | None
) -> tuple[datetime, bool]:
    """Where a sync starts, and whether it is a backfill (history, not news)."""
    if days is not None:
        return now - timedelta(days=days), True
    if newest is None:
        return now - timedelta(days=backfill_days), True
    return newest - LOOKBACK, False


class Fetcher:
    """Asks Strava for one sync's worth at a time, remembering across syncs which activities
    the last one saw and when the shoes were read. A failure comes back as the result's
    `error`, to be tried again later by whoever runs the syncs."""

    def __init__(self, client: StravaClient, backfill_days: int, clock: Clock) -> None:
        self.client = client
        self.backfill_days = backfill_days
        self._clock = clock
        self._shoes_at: datetime | None = None
        self._seen: set[object] = set()  # activity ids the last sync saw

    def fetch(self, newest: datetime | None, days: int | None = None) -> SyncResult:
        """The activities since `newest` (the newest stored start) or of a backfill, and the
        shoes when they are due."""
        # Imported here: `restday import`, the other commands and a service without Strava
        # configured never load the HTTP side.
        from restday.integrations.strava import AuthRequired, RateLimited, StravaError

        client = self.client
        now = self._clock.now()
        if not client.configured:
            return SyncResult(finished_at=now, auth="not_configured")
        after, backfill = window(newest, now, self.backfill_days, days)
        activities: list[dict[str, Any]] = []
        athlete: dict[str, Any] | None = None
        try:
            activities = client.activities(after=after)
            ids = {item.get("id") for item in activities}
            news = bool(ids - self._seen)  # the look-back window returns known runs again
            self._seen = ids
            if news or self._shoes_at is None or now - self._shoes_at >= SHOES_EVERY:
                athlete = client.athlete()
                self._shoes_at = now
        except AuthRequired as exc:
            return self._result(now, activities, athlete, backfill, error=str(exc), auth="required")
        except RateLimited as exc:
            error = f"rate limited until {exc.until:%H:%M} UTC"
            return self._result(now, activities, athlete, backfill, error=error)
        except StravaError as exc:  # Unavailable and the rest: retried at the next poll
            return self._result(now, activities, athlete, backfill, error=str(exc))
        log.info("Strava: %d activities since %s", len(activities), f"{after:%Y-%m-%d %H:%M}")
        return self._result(now, activities, athlete, backfill)

    def _result(
        self,
        now: datetime,
        activities: list[dict[str, Any]],
        athlete: dict[str, Any] | None,
        backfill: bool,
        *,
        error: str | None = None,
        auth: str | None = None,
    ) -> SyncResult:
        return SyncResult(
            finished_at=now,
            auth=auth or self.client.auth_state(),
            activities=tuple(activities),
            athlete=athlete,
            backfill=backfill,
            error=error,
            calls_today=self.client.calls_today,
        )


# --- storing what came ----------------------------------------------------------------------


class ImportFileError(Exception):
    """The import file as a whole is unusable (missing, unreadable, not a JSON array)."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: tuple[str, ...] = field(default_factory=tuple)  # one reason per skipped item
    added_ids: tuple[int, ...] = ()

    def summary(self) -> str:
        total = self.added + self.updated + self.unchanged
        return (
            f"{total} activities: {self.added} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped"
        )


def store_result(store: Store, result: SyncResult) -> ImportReport | None:
    """Activities upserted (edits replace), the shoes replaced, for the athlete it was fetched
    for (`result.athlete_id`; None: the store's); None when nothing came."""
    athlete = result.athlete_id
    report = (
        ingest_activities(store, result.activities, athlete=athlete) if result.activities else None
    )
    if result.athlete is not None:
        store.replace_gear(_shoes(result.athlete), athlete=athlete)
    return report


def ingest_activities(
    store: Store, items: Iterable[object], *, athlete: str | None = None
) -> ImportReport:
    """Parse and store Strava activity objects for `athlete` (None: the store's); skip (and
    say why) the ones that don't parse."""
    good: list[tuple[Activity, str]] = []
    skipped: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            skipped.append(f"item {index}: not a JSON object")
            continue
        try:
            activity = parse_activity(item)
        except ValueError as exc:
            skipped.append(f"item {index}: {exc}")
            continue
        good.append((activity, json.dumps(item, sort_keys=True, separators=(",", ":"))))
    for reason in skipped:
        log.warning("skipped %s", reason)
    result = store.upsert_activities(good, athlete=athlete)
    return ImportReport(
        added=result.added,
        updated=result.updated,
        unchanged=result.unchanged,
        skipped=tuple(skipped),
        added_ids=result.added_ids,
    )


def read_activity_file(path: Path) -> list[object]:
    """The JSON array of a Strava export or API dump; one clear error if it isn't one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, list):
        raise ImportFileError(
            f"{path}: expected a JSON array of Strava activities, as GET /athlete/activities "
            f"returns, but found {_json_kind(data)}"
        )
    return data


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", str: "a string", bool: "a boolean", int: "a number"}
    return kinds.get(type(value), "a number" if isinstance(value, float) else "null")


def _shoes(athlete: dict[str, object]) -> list[tuple[Gear, str]]:
    shoes = athlete.get("shoes")
    out: list[tuple[Gear, str]] = []
    for item in shoes if isinstance(shoes, list) else []:
        try:
            out.append((parse_shoe(item), json.dumps(item, sort_keys=True)))
        except (BadGear, TypeError, ValueError) as exc:
            log.warning("Strava: skipped a shoe: %s", exc)
    return out


# --- which of it is news --------------------------------------------------------------------


def post_run_candidates(result: SyncResult, report: ImportReport | None) -> tuple[int, ...]:
    """The stored activities a post-run notification may be about: those this sync added,
    none after a backfill (its runs are history, not news)."""
    if report is None or result.backfill:
        return ()
    return report.added_ids
