"""`restday run`: wiring the lock, the store, the worker, MQTT, the scheduler, systemd and
signals.

Start: take the store's lock (one service per store: a second `restday run` on the same store
stops with "another restday is running (pid N) on PATH", exit 1), open the store and say at
ERROR when it is not the one used last (`_check_same_store`), start the worker (it rebuilds
the state from the store), connect to the broker (asynchronously: a broker that is down is
retried), start the jobs, catch up a missed morning report, tell systemd READY=1. Stop
(SIGTERM/SIGINT): STOPPING=1, the jobs stop, the worker finishes its queue, retained
`offline`, the store closes, the lock is released, exit 0 within `STOP_BUDGET_S`.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Callable
from datetime import date
from types import FrameType
from typing import TYPE_CHECKING

from restday.clock import Clock, SystemClock
from restday.config import STRAVA_NOT_CONFIGURED, Config
from restday.daemon import systemd
from restday.daemon.events import Lifecycle
from restday.daemon.schedule import build_scheduler, missed_mornings
from restday.daemon.strava_syncs import build_syncs
from restday.daemon.worker import HA_LISTENING_GRACE_S, Worker
from restday.integrations.mqtt import MqttLink
from restday.integrations.mqtt.topics import Topics
from restday.store import Store, StoreLock
from restday.sync import STRAVA_PARSERS

if TYPE_CHECKING:
    from restday.daemon.strava_sync import StravaSync

log = logging.getLogger(__name__)

STOP_BUDGET_S = 5.0  # SIGTERM to exit, all told
WORKER_JOIN_S = 2.0  # of which the worker may take this long to finish its queue
LINK_STOP_S = 2.0  # and MQTT this long to deliver `offline`
SIGNAL_POLL_S = 1.0  # the main thread wakes this often while waiting for a signal


class Service:
    """The running service; `start()`, then `stop()` (both from the main thread)."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        ha_listening_grace_s: float = HA_LISTENING_GRACE_S,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.topics = Topics.of(config)
        self.lock = StoreLock.acquire(config.store_path())  # before the store: one service
        try:
            self.store = Store.open(
                config.store_path(),
                parsers=STRAVA_PARSERS,
                athlete=config.athletes[0].id,  # a store from before households is theirs
                adopt_single=True,  # and a renamed runner's, or a single runner's (logged)
                configured=config.athlete_ids(),
            )
            _check_same_store(self.store, self.lock)
        except BaseException:
            self.lock.release()
            raise
        self.link = MqttLink(
            config.mqtt,
            subscriptions=self.topics.subscriptions,
            on_message=lambda message: self.worker.put(message),
            on_connected=lambda: self.worker.put(Lifecycle.CONNECTED),
            clock=self.clock,
        )
        self.syncs = build_syncs(
            config,
            self.clock,
            lambda e: self.worker.put(e),
            lambda a: self.worker.newest_start_of(a),
        )
        self.worker = Worker(
            config,
            self.store,
            self.link,
            self.clock,
            reconnects=lambda: self.link.reconnects,
            request_sync=self._sync_now,
            strava_auth=self._strava_auth,
            ha_listening_grace_s=ha_listening_grace_s,
        )
        self.scheduler = build_scheduler(
            config,
            self.worker.put,
            {a: functools.partial(_in_background, s.poll) for a, s in self.syncs.items()},
        )
        self._watchdog: systemd.Watchdog | None = None

    @property
    def sync(self) -> StravaSync | None:
        """The first athlete's Strava syncs (a single runner's), if configured."""
        return self.syncs.get(self.config.athletes[0].id)

    def _sync_now(self, athlete: str) -> None:
        """The sync button of `athlete`: a sync now, if their Strava is configured."""
        if athlete in self.syncs:
            _in_background(self.syncs[athlete].run)

    def _strava_auth(self, athlete: str) -> str:
        sync = self.syncs.get(athlete)
        return sync.client.auth_state() if sync is not None else "not_configured"

    def start(self) -> None:
        unsynced = [a for a in self.config.athlete_ids() if a not in self.syncs]
        if unsynced:
            who = "" if len(self.config.athletes) == 1 else f" for {', '.join(unsynced)}"
            log.info(
                "%s%s; running on the MQTT inputs and the imported activities only",
                STRAVA_NOT_CONFIGURED,
                who,
            )
        self.worker.start()
        now = self.clock.now()
        for tick in missed_mornings(self.config, now, self._morning_sent):
            self.worker.put(tick)
        self.link.start()
        for sync in self.syncs.values():
            # stravalib (~16 MB, ~0.3 s) is imported here, while MQTT connects, not before it;
            # and in this thread: imported in a job thread, its malloc arena keeps ~1 MB more.
            sync.client.load()
        self.scheduler.start()
        log.info(
            "restday is running: broker %s:%d, state on %s",
            self.config.mqtt.host,
            self.config.mqtt.port,
            ", ".join(t.state for t in self.topics.athletes),
        )
        systemd.ready()
        interval = systemd.watchdog_interval()
        if interval is not None:
            self._watchdog = systemd.Watchdog(interval, self.healthy)
            self._watchdog.start()

    def _morning_sent(self, day: date, athlete: str) -> bool:
        return self.store.was_sent(f"morning:{day.isoformat()}", athlete=athlete)

    def healthy(self) -> bool:
        """The worker and paho's network thread are both alive."""
        return self.worker.alive() and self.link.is_alive()

    def stop(self) -> None:
        systemd.stopping()
        if self._watchdog is not None:
            self._watchdog.stop()
        self.scheduler.shutdown(wait=False)
        self.worker.put(Lifecycle.STOP)
        if not self.worker.join(WORKER_JOIN_S):
            log.warning("the worker did not finish its queue in %.0f s", WORKER_JOIN_S)
        self.link.stop(LINK_STOP_S)
        self.store.close()
        self.lock.release()
        log.info("restday stopped")


def _check_same_store(store: Store, lock: StoreLock) -> None:
    """Say at ERROR when the store at the path is not the one this service used last (deleted
    or replaced meanwhile: its history is not in it); then remember this one, in the lock file.
    """
    created = store.created_at()
    if created is None:
        return
    if lock.remembered is not None and lock.remembered != created:
        log.error(
            "the store %s is not the one restday used last (created %s; the one used last was "
            "created %s): weigh-ins, activities and notifications sent before are not in it. "
            "If it was deleted or replaced by mistake, stop restday and put the old file back",
            lock.store,
            created,
            lock.remembered,
        )
    if lock.remembered != created:
        lock.remember(created)


def _in_background(call: Callable[[], None]) -> None:
    """Run a Strava sync in a daemon thread: a Strava that hangs (up to the HTTP read
    timeout) then never holds up the scheduler, nor the exit after SIGTERM."""
    threading.Thread(target=call, name="restday-strava", daemon=True).start()


def run(config: Config, *, clock: Clock | None = None, stop: threading.Event | None = None) -> int:
    """Run until SIGTERM/SIGINT (or `stop` is set); the exit code."""
    stop = stop or threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    service = Service(config, clock=clock)
    service.start()
    try:
        while not stop.wait(SIGNAL_POLL_S):
            pass
    finally:
        service.stop()
    return 0
