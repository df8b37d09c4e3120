"""The one thread that owns the store and the engine.

Everything arrives as an event on `Worker.put` (paho's thread, the scheduler's jobs and the
service only enqueue). For each event the worker writes the store, acknowledges the input,
re-evaluates, and publishes: the retained state when it changed, notifications once per
cause, diagnostics at most once a minute (at once when the store fails or recovers). No
exception in a handler stops the worker; a store that cannot be written holds the inputs
(inputs.py) while evaluating and publishing go on from memory.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Protocol

from restday import __version__, sync
from restday.clock import Clock
from restday.config import Config
from restday.daemon import notifications, sync_results
from restday.daemon.events import Event, Tick
from restday.daemon.inputs import InputHandler, Outcome, Stored
from restday.integrations import homeassistant
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.models import History, Recommendation
from restday.rules.context import Context, prune
from restday.rules.engine import evaluate_context
from restday.store import Store, StoreError
from restday.sync import SyncResult

log = logging.getLogger(__name__)

DIAGNOSTICS_MIN_INTERVAL = timedelta(minutes=1)  # a change is re-published at most this often
HA_BIRTH_DEBOUNCE = timedelta(seconds=10)  # several HA births in a burst give one re-send
QUEUE_POLL_S = 1.0  # the worker wakes this often even when idle (for `alive` checks)
HEARTBEAT_STALE_S = 120.0  # no loop turn for this long means the worker is hung
LAST_SYNC_KEY = "strava_last_sync"  # store state: survives restarts for the diagnostics
AUTH_STATE_KEY = "strava_auth"  # store state: auth_required is sent once per refusal


class Publisher(Protocol):
    def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 0
    ) -> None: ...


class Worker:
    """Consumes events until `Tick.STOP`; call `start()`, then `put()` from any thread."""

    def __init__(
        self,
        config: Config,
        store: Store,
        publisher: Publisher,
        clock: Clock,
        *,
        reconnects: Callable[[], int] = lambda: 0,
        request_sync: Callable[[], None] = lambda: None,
        strava_auth: str = "not_configured",
    ) -> None:
        self.config = config
        self._reconnects = reconnects
        self._request_sync = request_sync
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.topics = Topics.of(config)
        self.profile = config.profile()
        self._queue: queue.Queue[Event] = queue.Queue()
        self._count_lock = threading.Lock()
        self._unfinished = 0  # events put but not yet handled
        self._thread = threading.Thread(target=self._run, name="restday-worker", daemon=True)
        self._inputs = InputHandler(config, store, self.topics)
        self._history: History  # what evaluations from _pruned_at on read (`_remember`)
        self._pruned_at: datetime
        self._remember(store.history())
        self._started = clock.now()
        self._last_state: str | None = None
        self._shoes: tuple[str, ...] | None = None
        self._last_birth_resend: datetime | None = None
        self._last_diag: str | None = None
        self._last_diag_at: datetime | None = None
        self._diag_store_ok = True  # the store's health as last published
        self._figures = (store.counters(), store.counts())  # the last read, for diagnostics
        self._beat = time.monotonic()  # the loop's last turn (monotonic: a liveness measure)
        self._sent: set[str] = set()  # keys known to be in the store's `sent` table
        self.recommendation: Recommendation | None = None
        self._context: Context  # the evaluation behind `recommendation` (set by `refresh`)
        self._strava: dict[str, object] = {
            "auth": strava_auth,
            "last_sync": store.get_state(LAST_SYNC_KEY),
            "last_error": None,
            "calls_today": 0,
        }

    # --- thread ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def put(self, event: Event) -> None:
        with self._count_lock:
            self._unfinished += 1
        self._queue.put(event)

    def drained(self) -> bool:
        """Every event put so far has been handled (tests and the demo wait for this)."""
        with self._count_lock:
            return self._unfinished == 0

    def join(self, timeout_s: float) -> bool:
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def alive(self) -> bool:
        """Running and turning its loop (for the systemd watchdog): a hung worker is not."""
        stalled = time.monotonic() - self._beat > HEARTBEAT_STALE_S
        return self._thread.is_alive() and not stalled

    def _run(self) -> None:
        while True:
            self._beat = time.monotonic()
            try:
                event = self._queue.get(timeout=QUEUE_POLL_S)
            except queue.Empty:
                continue
            try:
                if event is Tick.STOP:
                    return
                self.handle(event)
            except Exception:  # one bad event must never stop the service
                log.exception("could not handle %s", _describe(event))
            finally:
                with self._count_lock:
                    self._unfinished -= 1

    # --- events ---------------------------------------------------------------------------

    @property
    def newest_start(self) -> datetime | None:
        """The newest stored activity's start: where the next Strava sync resumes."""
        return sync.newest_start(self._history)

    def handle(self, event: Event) -> None:
        try:
            self._dispatch(event)
        finally:  # what was stored is acknowledged even if publishing failed
            self._inputs.settle()  # after the new state went out: fsync, then acknowledge
        self._diagnostics(force=False)

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, InboundMessage):
            self._message(event)
        elif isinstance(event, SyncResult):
            self._sync_result(event)
        elif event is Tick.CONNECTED:
            self._republish_all()
        elif event is Tick.MORNING_REPORT:
            rec = self.refresh()
            self._notify(notifications.morning(rec, self._today()))
        elif event is Tick.DAY_ROLLOVER:
            self._sent.clear()  # a cache of the store's `sent` table: bounded to about a day
            self.refresh()
        elif event is Tick.HOUSEKEEPING:
            self._apply(self._inputs.retry(self.clock.now()))

    def _message(self, msg: InboundMessage) -> None:
        if msg.topic == self.topics.ha_status:
            msg.ack()
            if msg.payload.strip() == b"online":
                self._ha_birth()
            return
        self._apply(self._inputs.take(msg))  # each acknowledged once its input is stored

    def _apply(self, outcomes: list[Stored | Outcome]) -> None:
        """The inputs just stored into the history; one evaluation for them all."""
        asked = stored = False  # a sync asked for (the sync button), an input stored
        history = self._history
        for outcome in outcomes:
            if isinstance(outcome, Stored):
                stored = True
                history = outcome.history_with(history)
                if outcome.pain_level is not None:
                    self.publisher.publish(
                        self.topics.pain, str(outcome.pain_level), retain=True, qos=1
                    )
            elif outcome == "sync":
                asked = True
                self._request_sync()  # in a job thread; its result comes back as an event
        if stored:
            self._remember(history)
        if stored or asked:
            self.refresh(force=asked)

    def _sync_result(self, result: SyncResult) -> None:
        before = self._strava["auth"]
        self._strava.update(
            auth=result.auth, last_error=result.error, calls_today=result.calls_today
        )
        if result.error is None and result.auth == "ok":
            self._strava["last_sync"] = result.finished_at.isoformat(timespec="seconds")
        try:  # a store that fails loses nothing: the next sync resumes from the history
            was = self.store.get_state(AUTH_STATE_KEY)
            with self.store.batch():
                if result.error is None and result.auth == "ok":
                    self.store.set_state(LAST_SYNC_KEY, str(self._strava["last_sync"]))
                report = sync.store_result(self.store, result)
                self.store.set_state(AUTH_STATE_KEY, result.auth)
            self._inputs.wrote()
            if report is not None or result.athlete is not None:
                self._remember(self.store.history())
        except StoreError as exc:
            self._inputs.health.failed(exc)
            was, report = str(before), None
        rec = self.refresh()
        new_ids = sync.post_run_candidates(result, report)
        if new_ids:
            for note in sync_results.post_runs(
                self.config, self._context, rec, new_ids, self._was_sent
            ):
                self._notify(note)
        if result.auth == "required" and was != "required":
            since = result.finished_at.isoformat(timespec="seconds")
            self._notify(notifications.auth_required(since, result.error or ""))

    # --- publishing -----------------------------------------------------------------------

    def _remember(self, history: History) -> None:
        """Keep of `history` what evaluations from now on can read: every activity, and the
        nights, weigh-ins and pain reports of the windows the rules look at. Memory stays
        bounded over months of inputs, and each input costs the same on day 1,000 as on day 1."""
        now = self.clock.now()
        self._history, self._pruned_at = prune(history, now, self.profile, self.config.rules), now

    def refresh(self, *, force: bool = False) -> Recommendation:
        """Evaluate now; publish the state if it changed and any notification now due."""
        now = self.clock.now()
        if now < self._pruned_at:  # the clock went back (a Pi without a real-time clock, say)
            try:  # what was pruned for the later time may be read again: the store has it all
                self._remember(self.store.history())
            except StoreError as exc:
                self._inputs.health.failed(exc)
        self._context = Context.build(self._history, now, self.profile)
        rec = evaluate_context(self._context, self.config.rules, self.config.decision)
        self.recommendation = rec
        shoes = tuple(s.id for s in rec.metrics.shoes)
        if self._shoes is not None and shoes != self._shoes:
            self._discovery(removed=tuple(set(self._shoes) - set(shoes)))
        self._shoes = shoes
        payload = rec.to_payload()
        comparable = json.dumps({k: v for k, v in payload.items() if k != "evaluated_at"})
        if force or comparable != self._last_state:
            self._last_state = comparable
            self.publisher.publish(
                self.topics.state, json.dumps(payload, ensure_ascii=False), retain=True, qos=1
            )
        for note in notifications.due(rec, self._today()):
            self._notify(note)
        return rec

    def _notify(self, note: notifications.Notification) -> None:
        if note.key in self._sent:
            return
        self._sent.add(note.key)
        try:
            first = self.store.mark_sent(note.key, self.clock.now())
        except StoreError as exc:  # sent all the same: a restart may send it a second time
            self._inputs.health.failed(exc)
            first = True
        if first:
            log.info("notification %s: %s", note.event_type, note.title)
            self.publisher.publish(self.topics.notification, note.to_json(), qos=1)

    def _was_sent(self, key: str) -> bool:
        """Whether the notification `key` went out (the store's `sent` table is the authority)."""
        if key in self._sent:
            return True
        try:
            return self.store.was_sent(key)
        except StoreError as exc:  # unknown: treated as not sent (advice repeated, not lost)
            self._inputs.health.failed(exc)
            return False

    def _republish_all(self) -> None:
        """After every (re)connect: discovery, state, diagnostics, the pain echo."""
        self._discovery()
        self.refresh(force=True)
        self._diagnostics(force=True)
        level = self._inputs.last_pain_level(self._history)
        if level is not None:
            self.publisher.publish(self.topics.pain, str(level), retain=True, qos=1)

    def _ha_birth(self) -> None:
        now = self.clock.now()
        last = self._last_birth_resend
        if last is not None and abs(now - last) < HA_BIRTH_DEBOUNCE:
            return
        self._last_birth_resend = now
        self._discovery()
        self.refresh(force=True)

    def _discovery(self, removed: tuple[str, ...] = ()) -> None:
        shoes = self.recommendation.metrics.shoes if self.recommendation else ()
        topic, payload = homeassistant.discovery_message(
            self.config, shoes, removed_shoes=sorted(removed)
        )
        self.publisher.publish(topic, payload, retain=True, qos=1)

    def _diagnostics(self, *, force: bool) -> None:
        now = self.clock.now()
        last = self._last_diag_at
        force = force or self._inputs.health.ok != self._diag_store_ok  # failed or recovered
        if not force and last is not None and abs(now - last) < DIAGNOSTICS_MIN_INTERVAL:
            return  # the housekeeping tick publishes a change once the minute is over
        payload = self.diagnostics()
        comparable = json.dumps({k: v for k, v in payload.items() if k != "uptime_s"})
        if not force and comparable == self._last_diag:
            return
        self._last_diag, self._last_diag_at = comparable, now
        self._diag_store_ok = self._inputs.health.ok
        self.publisher.publish(self.topics.diagnostics, json.dumps(payload), retain=True, qos=1)

    def diagnostics(self) -> dict[str, object]:
        try:
            self._figures = (self.store.counters(), self.store.counts())
        except StoreError as exc:  # the last figures read stand
            self._inputs.health.failed(exc)
        counters, counts = self._figures
        stored = {"scale": counts.weigh_ins, "sleep": counts.sleeps, "pain": counts.pains}
        health = self._inputs.health
        return {
            "version": __version__,
            "uptime_s": int((self.clock.now() - self._started).total_seconds()),
            "inputs": {
                kind: {
                    "stored": stored[kind],
                    "duplicates": counters.get(kind, {}).get("duplicates", 0),
                    "rejected": counters.get(kind, {}).get("rejected", 0),
                }
                for kind in ("scale", "sleep", "pain")
            },
            "activities": counts.activities,
            "strava": dict(self._strava),
            "mqtt": {"reconnects": self._reconnects()},
            "store": {"ok": health.ok, "error": health.error, "held": self._inputs.held},
        }

    def _today(self) -> date:
        return self.clock.now().astimezone(self.profile.timezone).date()


def _describe(event: Event) -> str:
    if isinstance(event, InboundMessage):
        return f"a message on {event.topic}"
    if isinstance(event, SyncResult):
        return "a Strava sync's result"
    return f"the {event.value} event"
