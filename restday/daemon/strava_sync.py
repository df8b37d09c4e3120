"""One Strava sync: what to ask for, run in a job thread, handed to the worker as a result.

The first sync backfills `strava.backfill_days`; later ones ask from the newest stored start
minus a look-back (late uploads keep their start time), so an idle sync costs one call for
the activities, plus one for the shoes at most once a day or after a new activity. Nothing here
sleeps or touches the store: HTTP happens here, storing in the worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from restday.clock import Clock
from restday.events import Event, SyncResult
from restday.integrations.strava import (
    AuthRequired,
    RateLimited,
    StravaClient,
    StravaError,
)

log = logging.getLogger(__name__)

QUIET_HOURS = range(0, 5)  # local hours in which runs are rare: poll at most hourly …
QUIET_POLL_EVERY = timedelta(hours=1)  # … so an idle day stays well under 100 API calls
LOOKBACK = timedelta(days=3)  # late uploads: ask again for this much before the newest start
SHOES_EVERY = timedelta(days=1)  # the athlete's shoes are re-read at most this often …
# … and after a sync that brought a new activity (its distance moved a shoe).


def window(
    newest: datetime | None, now: datetime, backfill_days: int, days: int | None
) -> tuple[datetime, bool]:
    """Where a sync starts, and whether it is a backfill (history, not news)."""
    if days is not None:
        return now - timedelta(days=days), True
    if newest is None:
        return now - timedelta(days=backfill_days), True
    return newest - LOOKBACK, False


class StravaSync:
    """Runs syncs (one at a time) and puts each result on the worker's queue."""

    def __init__(
        self,
        client: StravaClient,
        backfill_days: int,
        put: Callable[[Event], None],
        newest_start: Callable[[], datetime | None],
        clock: Clock,
        tz: tzinfo = UTC,
    ) -> None:
        self.client = client
        self._tz = tz
        self._polled_at: datetime | None = None
        self.backfill_days = backfill_days
        self._put = put
        self._newest_start = newest_start
        self._clock = clock
        self._flags = threading.Lock()  # guards _busy and _again
        self._busy = False  # a sync runs
        self._again = False  # asked for while one ran: one more follows it
        self._shoes_at: datetime | None = None
        self._seen: set[object] = set()  # activity ids the last sync saw

    def poll(self) -> None:
        """The scheduled poll: at night (QUIET_HOURS, local) at most once an hour."""
        now = self._clock.now()
        last = self._polled_at
        quiet = now.astimezone(self._tz).hour in QUIET_HOURS
        if quiet and last is not None and timedelta() <= now - last < QUIET_POLL_EVERY:
            return
        self._polled_at = now
        self.run()

    def run(self, days: int | None = None) -> None:
        """One sync now. Asked for while one runs (a press just as a poll fetches), one more
        follows it: what was uploaded meanwhile is not left for the next poll. A burst of
        presses makes at most one follow-up."""
        with self._flags:
            if self._busy:
                self._again = True
                log.info("Strava: a sync is running; one more follows it")
                return
            self._busy = True
        while True:
            self._once(days)
            with self._flags:
                if not self._again:
                    self._busy = False
                    return
                self._again, days = False, None

    def _once(self, days: int | None) -> None:
        try:
            result = self.fetch(days)
            if result.error is not None:
                log.warning("Strava: %s; trying again at the next poll", result.error)
            self._put(result)
        except Exception:  # a job must never die silently; the next poll tries again
            log.exception("Strava: the sync failed unexpectedly")

    def fetch(self, days: int | None = None) -> SyncResult:
        client = self.client
        now = self._clock.now()
        if not client.configured:
            return SyncResult(finished_at=now, auth="not_configured")
        after, backfill = window(self._newest_start(), now, self.backfill_days, days)
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
