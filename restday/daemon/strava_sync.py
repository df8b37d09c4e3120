"""The service's Strava syncs: run in job threads, one at a time, each result handed to the
worker's queue. One `StravaSync` per athlete (`strava_syncs.build_syncs` builds a household's):
its results carry the athlete's id, its quiet hours are the athlete's local night.

What a sync asks for and how its result is stored are `restday/sync.py`'s (shared with
`restday strava sync`); here is only when syncs run: every scheduled poll, at most hourly at
night, and at once on the sync button. Nothing here sleeps or touches the store: the HTTP
happens in the job thread, the storing in the worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo

from restday.clock import Clock
from restday.daemon.events import Event
from restday.integrations.strava import StravaClient
from restday.sync import Fetcher, SyncResult

log = logging.getLogger(__name__)

QUIET_HOURS = range(0, 5)  # local hours in which runs are rare: poll at most hourly …
QUIET_POLL_EVERY = timedelta(hours=1)  # … so an idle day stays well under 100 API calls


class StravaSync:
    """Runs one athlete's syncs (one at a time) and puts each result on the worker's queue,
    marked with `athlete_id` (None: the store's athlete, a single athlete's service)."""

    def __init__(
        self,
        client: StravaClient,
        backfill_days: int,
        put: Callable[[Event], None],
        newest_start: Callable[[], datetime | None],
        clock: Clock,
        tz: tzinfo = UTC,
        athlete_id: str | None = None,
    ) -> None:
        self._fetcher = Fetcher(client, backfill_days, clock)
        self._tz = tz  # the athlete's: QUIET_HOURS are their local night
        self.athlete_id = athlete_id
        self._name = f"Strava ({athlete_id})" if athlete_id else "Strava"  # in the log
        self._polled_at: datetime | None = None
        self._put = put
        self._newest_start = newest_start  # the worker's `newest_start`: where a sync resumes
        self._clock = clock
        self._flags = threading.Lock()  # guards _busy and _again
        self._busy = False  # a sync runs
        self._again = False  # asked for while one ran: one more follows it

    @property
    def client(self) -> StravaClient:
        return self._fetcher.client

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
                log.info("%s: a sync is running; one more follows it", self._name)
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
                log.warning("%s: %s; trying again at the next poll", self._name, result.error)
            self._put(result)
        except Exception:  # a job must never die silently; the next poll tries again
            log.exception("%s: the sync failed unexpectedly", self._name)

    def fetch(self, days: int | None = None) -> SyncResult:
        """One sync's result for the athlete, resuming where the worker's history of them ends
        (`restday.sync`)."""
        result = self._fetcher.fetch(self._newest_start(), days)
        return replace(result, athlete_id=self.athlete_id)
