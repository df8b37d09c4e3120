"""Strava's rate limits, as its `X-RateLimit-*` / `X-ReadRateLimit-*` headers report them.

Strava counts them per application: the clients of every athlete who uses one application share
one `RateLimits` (a household's athletes on one app; an athlete with an app of their own has
their own).

Nothing here sleeps: the headers are only recorded. After a 429, or at 90 % of a limit, calls
raise `RateLimited` without any HTTP until the next quarter hour (or UTC midnight for a daily
limit). The calls of the day are counted for the diagnostics.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from restday.clock import Clock
from restday.integrations.strava.errors import RateLimited

log = logging.getLogger("restday.integrations.strava")  # the client's name before the package

NEAR_LIMIT = 0.9  # at this share of a limit, calls stop until its window resets
RATE_WINDOW = timedelta(minutes=15)  # the short windows reset at :00, :15, :30 and :45 UTC
RATE_HEADERS = (
    ("X-RateLimit-Limit", "X-RateLimit-Usage"),
    ("X-ReadRateLimit-Limit", "X-ReadRateLimit-Usage"),
)


def next_quarter(moment: datetime) -> datetime:
    """The next :00/:15/:30/:45 UTC after `moment`, when the short windows reset."""
    utc = moment.astimezone(UTC)
    start = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
    return start + RATE_WINDOW


def next_midnight(moment: datetime) -> datetime:
    """The next UTC midnight, when the daily limits reset."""
    return datetime.combine(moment.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)


class RateLimits:
    """The calls of the day and until when no call may be made; never sleeps."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._blocked: datetime | None = None
        self._calls: tuple[date, int] = (clock.now().date(), 0)
        self._calls_lock = threading.Lock()

    @property
    def calls_today(self) -> int:
        day, count = self._calls
        return count if day == self._clock.now().date() else 0

    @property
    def blocked_until(self) -> datetime | None:
        blocked = self._blocked
        return blocked if blocked is not None and blocked > self._clock.now() else None

    def check(self) -> None:
        """`RateLimited` while a limit is reached: no call to Strava until it resets."""
        until = self.blocked_until
        if until is not None:
            raise RateLimited(until)

    def count_call(self) -> None:
        """One more request sent (before it is sent)."""
        today = self._clock.now().date()
        with self._calls_lock:
            day, count = self._calls
            self._calls = (today, count + 1 if day == today else 1)

    def record(self, headers: Mapping[str, str]) -> None:
        """A response's usage headers: near a limit, calls stop until its window resets."""
        now = self._clock.now()
        for limit_header, usage_header in RATE_HEADERS:
            try:
                short_limit, daily_limit = (int(v) for v in headers[limit_header].split(","))
                short_usage, daily_usage = (int(v) for v in headers[usage_header].split(","))
            except (KeyError, ValueError):
                continue  # absent or malformed: nothing to go by
            log.debug("Strava: %s %d,%d", usage_header, short_usage, daily_usage)
            if daily_usage >= NEAR_LIMIT * daily_limit > 0:
                self._block(next_midnight(now))
            elif short_usage >= NEAR_LIMIT * short_limit > 0:
                self._block(next_quarter(now))

    def too_many_requests(self) -> RateLimited:
        """A 429: no calls until the next quarter hour (or later, if a limit said so)."""
        self._block(next_quarter(self._clock.now()))
        until = self.blocked_until or next_quarter(self._clock.now())
        log.info("Strava: rate limited until %s", f"{until:%H:%M} UTC")
        return RateLimited(until)

    def _block(self, until: datetime) -> None:
        with self._calls_lock:  # the clients of one app share it, each in its sync's thread
            if self._blocked is None or self._blocked < until:
                self._blocked = until
