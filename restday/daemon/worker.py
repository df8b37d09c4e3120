"""The one thread that owns the store and the engine.

Everything arrives as an event on `Worker.put` (paho's thread, the scheduler's jobs and the
service only enqueue). A message, top to bottom: `_message` hands it to held.py, which stores
it with inputs.py (or holds it while the store cannot take it); `_apply` adds what was stored
to the history (stored.py); `evaluate_and_publish` evaluates and publishes what changed
(publishing.py): the retained state, notifications once per cause. Then `handle` acknowledges
what the store made durable (held.py) and publishes the diagnostics when due
(diagnostics.py). No exception in a handler stops the worker; a store that cannot be written
holds the inputs while evaluating and publishing go on from memory.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from restday import sync
from restday.clock import Clock
from restday.config import Config
from restday.daemon import notifications, sync_results
from restday.daemon.diagnostics import Diagnostics
from restday.daemon.events import Event, Lifecycle, Tick
from restday.daemon.held import HeldInputs
from restday.daemon.inputs import InputHandler, Outcome
from restday.daemon.publishing import ChangePublisher, Publisher
from restday.daemon.stored import Stored
from restday.integrations import homeassistant
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.models import History, Recommendation
from restday.rules.context import Context, prune
from restday.rules.engine import evaluate_context
from restday.store import Store, StoreError
from restday.sync import SyncResult

log = logging.getLogger(__name__)

HA_BIRTH_DEBOUNCE = timedelta(seconds=10)  # several HA births in a burst give one re-send
QUEUE_POLL_S = 1.0  # the worker wakes this often even when idle (for `alive` checks)
HEARTBEAT_STALE_S = 120.0  # no loop turn for this long means the worker is hung
LAST_SYNC_KEY = "strava_last_sync"  # store state: survives restarts for the diagnostics
AUTH_STATE_KEY = "strava_auth"  # store state: auth_required is sent once per refusal


class Worker:
    """Consumes events until `Lifecycle.STOP`; call `start()`, then `put()` from any thread."""

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
        self._request_sync = request_sync
        self.store = store
        self.publisher = ChangePublisher(publisher)
        self.clock = clock
        self.topics = Topics.of(config)
        self.profile = config.profile()
        self._queue: queue.Queue[Event] = queue.Queue()
        self._count_lock = threading.Lock()
        self._unfinished = 0  # events put but not yet handled
        self._thread = threading.Thread(target=self._run, name="restday-worker", daemon=True)
        inputs = InputHandler(config, store, self.topics)
        self._held = HeldInputs(store, config.store_path(), inputs.handle)
        self.diagnostics = Diagnostics(
            self.publisher,
            self.topics.diagnostics,
            store,
            self._held,
            clock,
            reconnects=reconnects,
            strava_auth=strava_auth,
            last_sync=store.get_state(LAST_SYNC_KEY),
        )
        self._history: History  # what evaluations from _pruned_at on read (`_remember`)
        self._pruned_at: datetime
        self._remember(store.history())
        self._shoes: tuple[str, ...] | None = None
        self._last_birth_resend: datetime | None = None
        self._beat = time.monotonic()  # the loop's last turn (monotonic: a liveness measure)
        self._sent: set[str] = set()  # keys known to be in the store's `sent` table
        self.recommendation: Recommendation | None = None
        self._context: Context  # the evaluation behind `recommendation` (`evaluate_and_publish`)

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
                if event is Lifecycle.STOP:
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
            self._held.acknowledge_durable()  # after the new state went out: fsync, then ack
        self.diagnostics.publish(force=False)

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, InboundMessage):
            self._message(event)
        elif isinstance(event, SyncResult):
            self._sync_result(event)
        elif event is Lifecycle.CONNECTED:
            self._republish_all()
        elif event is Tick.MORNING_REPORT:
            rec = self.evaluate_and_publish()
            self._notify(notifications.morning(rec, self._today()))
        elif event is Tick.DAY_ROLLOVER:
            self._sent.clear()  # a cache of the store's `sent` table: bounded to about a day
            self.evaluate_and_publish()
        elif event is Tick.HOUSEKEEPING:
            self._apply(self._held.retry(self.clock.now()))

    def _message(self, msg: InboundMessage) -> None:
        if msg.topic == self.topics.ha_status:
            msg.ack()
            if msg.payload.strip() == b"online":
                self._ha_birth()
            return
        self._apply(self._held.take(msg))  # stored, or held while the store cannot take it

    def _apply(self, outcomes: list[Stored | Outcome]) -> None:
        """The inputs just stored into the history; one evaluation for them all."""
        asked = stored = False  # a sync asked for (the sync button), an input stored
        history = self._history
        for outcome in outcomes:
            if isinstance(outcome, Stored):
                stored = True
                history = outcome.history_with(history)
                if outcome.pain_level is not None:
                    self._echo_pain(outcome.pain_level, force=False)
            elif outcome == "sync":
                asked = True
                self._request_sync()  # in a job thread; its result comes back as an event
        if stored:
            self._remember(history)
        if stored or asked:
            self.evaluate_and_publish(force=asked)

    def _sync_result(self, result: SyncResult) -> None:
        before = self.diagnostics.strava["auth"]
        last_sync = self.diagnostics.sync_finished(result)
        try:  # a store that fails loses nothing: the next sync resumes from the history
            was = self.store.get_state(AUTH_STATE_KEY)
            with self.store.batch():
                if last_sync is not None:
                    self.store.set_state(LAST_SYNC_KEY, last_sync)
                report = sync.store_result(self.store, result)
                self.store.set_state(AUTH_STATE_KEY, result.auth)
            self._held.another_write_committed()
            if report is not None or result.athlete is not None:
                self._remember(self.store.history())
        except StoreError as exc:
            self._held.health.failed(exc)
            was, report = str(before), None
        rec = self.evaluate_and_publish()
        new_ids = sync.post_run_candidates(result, report)
        if new_ids:
            for note in sync_results.post_runs(
                self.config, self._context, rec, new_ids, self._was_sent
            ):
                self._notify(note)
        if result.auth == "required" and was != "required":
            since = result.finished_at.isoformat(timespec="seconds")
            self._notify(notifications.auth_required(since, result.error or ""))

    # --- evaluating and publishing --------------------------------------------------------

    def _remember(self, history: History) -> None:
        """Keep of `history` what evaluations from now on can read: every activity, and the
        nights, weigh-ins and pain reports of the windows the rules look at. Memory stays
        bounded over months of inputs, and each input costs the same on day 1,000 as on day 1."""
        now = self.clock.now()
        self._history, self._pruned_at = prune(history, now, self.profile, self.config.rules), now

    def evaluate_and_publish(self, *, force: bool = False) -> Recommendation:
        """Evaluate now; publish the state if it changed (or `force`), discovery if the shoes
        changed, and any notification now due."""
        now = self.clock.now()
        if now < self._pruned_at:  # the clock went back (a Pi without a real-time clock, say)
            try:  # what was pruned for the later time may be read again: the store has it all
                self._remember(self.store.history())
            except StoreError as exc:
                self._held.health.failed(exc)
        self._context = Context.build(self._history, now, self.profile)
        rec = evaluate_context(self._context, self.config.rules, self.config.decision)
        self.recommendation = rec
        shoes = tuple(s.id for s in rec.metrics.shoes)
        if self._shoes is not None and shoes != self._shoes:
            self._discovery(removed=tuple(set(self._shoes) - set(shoes)))
        self._shoes = shoes
        payload = rec.to_payload()
        self.publisher.publish_changed(
            self.topics.state,
            json.dumps(payload, ensure_ascii=False),
            compared=json.dumps({k: v for k, v in payload.items() if k != "evaluated_at"}),
            force=force,
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
            self._held.health.failed(exc)
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
            self._held.health.failed(exc)
            return False

    def _republish_all(self) -> None:
        """After every (re)connect: discovery, state, diagnostics, the pain echo."""
        self._discovery()
        self.evaluate_and_publish(force=True)
        self.diagnostics.publish(force=True)
        if self._history.pains:
            self._echo_pain(self._history.pains[-1].level, force=True)

    def _echo_pain(self, level: int, *, force: bool) -> None:
        """The pain level now, retained: what Home Assistant's pain number shows."""
        self.publisher.publish_changed(self.topics.pain, str(level), force=force)

    def _ha_birth(self) -> None:
        now = self.clock.now()
        last = self._last_birth_resend
        if last is not None and abs(now - last) < HA_BIRTH_DEBOUNCE:
            return
        self._last_birth_resend = now
        self._discovery()
        self.evaluate_and_publish(force=True)

    def _discovery(self, removed: tuple[str, ...] = ()) -> None:
        shoes = self.recommendation.metrics.shoes if self.recommendation else ()
        topic, payload = homeassistant.discovery_message(
            self.config, shoes, removed_shoes=sorted(removed)
        )
        self.publisher.publish(topic, payload, retain=True, qos=1)

    def _today(self) -> date:
        return self.clock.now().astimezone(self.profile.timezone).date()


def _describe(event: Event) -> str:
    if isinstance(event, InboundMessage):
        return f"a message on {event.topic}"
    if isinstance(event, SyncResult):
        return "a Strava sync's result"
    return f"the {event.value} event"
