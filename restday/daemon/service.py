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

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING

from restday.clock import Clock, SystemClock
from restday.config import STRAVA_NOT_CONFIGURED, Config
from restday.daemon import systemd
from restday.daemon.events import AthleteTick, Event, Lifecycle, Tick
from restday.daemon.schedule import build_scheduler, missed_morning
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
        self.sync = _strava_sync(
            config, self.clock, lambda e: self.worker.put(e), lambda: self.worker.newest_start
        )
        self.worker = Worker(
            config,
            self.store,
            self.link,
            self.clock,
            reconnects=lambda: self.link.reconnects,
            request_sync=lambda athlete: self._sync_now(),
            strava_auth=lambda athlete: (
                self.sync.client.auth_state() if self.sync else "not_configured"
            ),
            ha_listening_grace_s=ha_listening_grace_s,
        )
        self.scheduler = build_scheduler(
            config, self.worker.put, self._poll_strava if self.sync else None
        )
        self._watchdog: systemd.Watchdog | None = None

    def _poll_strava(self) -> None:
        if self.sync is not None:
            _in_background(self.sync.poll)

    def _sync_now(self) -> None:
        if self.sync is not None:
            _in_background(self.sync.run)

    def start(self) -> None:
        if self.sync is None:
            log.info(
                "%s; running on the MQTT inputs and the imported activities only",
                STRAVA_NOT_CONFIGURED,
            )
        self.worker.start()
        for athlete in self.config.athlete_ids():
            tz = self.config.profile(athlete).timezone
            today = self.clock.now().astimezone(tz).date()
            sent = self.store.was_sent(f"morning:{today.isoformat()}", athlete=athlete)
            report_at = self.config.morning_report_time(athlete)
            if missed_morning(self.clock.now(), tz, report_at, sent):
                self.worker.put(AthleteTick(Tick.MORNING_REPORT, athlete))
        self.link.start()
        if self.sync is not None:
            # stravalib (~16 MB, ~0.3 s) is imported here, while MQTT connects, not before it;
            # and in this thread: imported in a job thread, its malloc arena keeps ~1 MB more.
            self.sync.client.load()
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


def _strava_sync(
    config: Config,
    clock: Clock,
    put: Callable[[Event], None],
    newest_start: Callable[[], datetime | None],
) -> StravaSync | None:
    """The Strava side, only when configured (stravalib itself is imported at `start`)."""
    if not (config.strava.client_id and config.strava.client_secret.get_secret_value()):
        return None
    from restday.daemon.strava_sync import StravaSync
    from restday.integrations.strava import StravaClient

    client = StravaClient(config.strava, config.token_path(), clock=clock)
    tz = config.profile().timezone
    return StravaSync(client, config.strava.backfill_days, put, newest_start, clock, tz)


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
