"""The diagnostics payload (DESIGN.md §5) and its rate limit: published on every connect, when
the store fails or recovers, and otherwise at most once a minute when it changed. A change held
back by the limit goes out as soon as the minute is over (the idle worker asks every second,
`publish_waiting`), so it is never more than a minute late.

Each athlete has their own (`<base>/<a>/diagnostics`): their stored inputs and Strava sync,
beside the service's health (store, broker, the counters of rejected and duplicate messages,
which a shared scale cannot attribute). The counts come from the store, so they survive
restarts; while the store cannot be read, the last figures read stand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from restday import __version__
from restday.clock import Clock
from restday.daemon.held import HeldInputs
from restday.daemon.publishing import ChangePublisher
from restday.store import Store, StoreCounts, StoreError
from restday.sync import SyncResult

DIAGNOSTICS_MIN_INTERVAL = timedelta(minutes=1)  # a change is re-published at most this often
INPUT_KINDS = ("scale", "sleep", "pain")


class Diagnostics:
    """What the diagnostics topic shows; `publish` sends it when due."""

    def __init__(
        self,
        out: ChangePublisher,
        topic: str,
        store: Store,
        held: HeldInputs,
        clock: Clock,
        *,
        athlete: str | None = None,
        shared_scale: bool = False,
        reconnects: Callable[[], int],
        strava_auth: str,
        last_sync: str | None,
    ) -> None:
        self._out = out
        self._topic = topic
        self._store = store
        self._athlete = athlete  # whose inputs are counted (None: the store's)
        self._shared_scale = shared_scale  # show the weigh-ins waiting to be assigned
        self._held = held
        self._clock = clock
        self._reconnects = reconnects
        self._started = clock.now()
        self._last_at: datetime | None = None  # when it was last published
        self._store_ok = True  # the store's health as last published
        self._waiting = False  # a publish was held back by the limit: may have changed
        self._figures = self._read()  # the last read
        self.strava: dict[str, object] = {
            "auth": strava_auth,
            "last_sync": last_sync,
            "last_error": None,
            "calls_today": 0,
        }

    def sync_finished(self, result: SyncResult) -> str | None:
        """A Strava sync's outcome; `last_sync` moves only when it went through: its new value
        then (for the store, so it survives restarts), else None."""
        self.strava.update(
            auth=result.auth, last_error=result.error, calls_today=result.calls_today
        )
        if result.error is not None or result.auth != "ok":
            return None
        last_sync = result.finished_at.isoformat(timespec="seconds")
        self.strava["last_sync"] = last_sync
        return last_sync

    def publish(self, *, force: bool) -> None:
        """Publish when forced (a connect), when the store failed or recovered since the last
        one, or when it changed and the last one is a minute old (the housekeeping tick
        publishes a change held back by the limit)."""
        now = self._clock.now()
        last = self._last_at
        health = self._held.health
        force = force or health.ok != self._store_ok  # failed or recovered
        if not force and last is not None and abs(now - last) < DIAGNOSTICS_MIN_INTERVAL:
            self._waiting = True
            return
        self._waiting = False
        payload = self.payload()
        comparable = json.dumps({k: v for k, v in payload.items() if k != "uptime_s"})
        published = self._out.publish_changed(
            self._topic, json.dumps(payload), compared=comparable, force=force
        )
        if published:
            self._last_at, self._store_ok = now, health.ok

    def publish_waiting(self) -> None:
        """Publish a change the limit held back, once the minute is over (cheap otherwise:
        nothing is read unless something may have changed)."""
        if self._waiting or self._held.health.ok != self._store_ok:
            self.publish(force=False)

    def _read(self) -> tuple[dict[str, dict[str, int]], StoreCounts, int]:
        """The service's counters, the athlete's stored inputs, and the weigh-ins of shared
        scales that wait to be assigned (the household's, shown to every athlete)."""
        store = self._store
        unassigned = store.unassigned_count() if self._shared_scale else 0
        return store.counters(), store.counts(athlete=self._athlete), unassigned

    def payload(self) -> dict[str, object]:
        health = self._held.health
        try:
            self._figures = self._read()
        except StoreError as exc:  # the last figures read stand
            health.failed(exc)
        counters, counts, unassigned = self._figures
        stored = {"scale": counts.weigh_ins, "sleep": counts.sleeps, "pain": counts.pains}
        return {
            "version": __version__,
            "uptime_s": int((self._clock.now() - self._started).total_seconds()),
            "inputs": {
                kind: {
                    "stored": stored[kind],
                    "duplicates": counters.get(kind, {}).get("duplicates", 0),
                    "rejected": counters.get(kind, {}).get("rejected", 0),
                }
                | ({"unassigned": unassigned} if kind == "scale" and self._shared_scale else {})
                for kind in INPUT_KINDS
            },
            "activities": counts.activities,
            "strava": dict(self.strava),
            "mqtt": {"reconnects": self._reconnects()},
            "store": {"ok": health.ok, "error": health.error, "held": self._held.count},
        }
