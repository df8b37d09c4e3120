"""The one thread that owns the store and the engine.

Everything arrives as an event on `Worker.put` (paho's thread, the scheduler's jobs and the
service only enqueue). Inputs that arrived together are taken together (group commit): the
worker drains what is queued, up to `MAX_BATCH` messages in a row, and hands them to held.py,
which stores them with inputs.py in one transaction (or holds them while the store cannot take
them); `_apply` adds what was stored to the history (stored.py), in arrival order, and
`evaluate_and_publish` evaluates once and publishes what changed (publishing.py): the retained
state once, for the end of the batch. Notifications are still decided along the way: each run
of inputs of one kind is evaluated as it stood, so a rest day reached mid-batch is announced.
Then the whole batch is made durable with one fsync and acknowledged (held.py), and the
diagnostics are published when due (diagnostics.py). When more inputs are queued right behind
a batch (a burst), it is stored, made durable and acknowledged at once, and evaluated with the
ones after it (`handle_inputs`). What `restday import` or `strava sync` wrote beside the
service is read again on the minute tick or before the next inputs. No exception in a handler
stops the worker; a store that cannot be written holds the inputs while evaluating and
publishing go on from memory.

Notifications wait until Home Assistant can have subscribed to them: `HA_LISTENING_GRACE_S`
after the discovery of each connect, or Home Assistant's birth message, whichever is first
(the event entity subscribes once it has read the discovery; what is published before is lost).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from restday import sync
from restday.clock import Clock
from restday.config import Config
from restday.daemon import notifications, sync_results
from restday.daemon.athlete import AthleteState
from restday.daemon.diagnostics import Diagnostics
from restday.daemon.events import AthleteTick, Event, Lifecycle, Tick
from restday.daemon.held import MAX_BATCH, HeldInputs
from restday.daemon.inputs import InputHandler, Outcome
from restday.daemon.publishing import ChangePublisher, Publisher
from restday.daemon.stored import Stored
from restday.integrations import homeassistant
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import Topics
from restday.models import Recommendation
from restday.store import Store, StoreError
from restday.sync import SyncResult

log = logging.getLogger(__name__)

HA_BIRTH_DEBOUNCE = timedelta(seconds=10)  # several HA births in a burst give one re-send
QUEUE_POLL_S = 1.0  # the worker wakes this often even when idle (`alive`, diagnostics due)
MAX_UNEVALUATED = 5_000  # inputs of a burst stored before an evaluation all the same
HA_LISTENING_GRACE_S = 3.0  # after discovery, for Home Assistant to subscribe to notifications
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
        ha_listening_grace_s: float = HA_LISTENING_GRACE_S,
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
        self._held = HeldInputs(store, config.store_path(), inputs)
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
        self.athlete = AthleteState(
            profile=self.profile,
            rules=config.rules,
            decision=config.decision,
            store=store,
            out=self.publisher,
            clock=clock,
            state_topic=self.topics.state,
            pain_topic=self.topics.pain,
            failed=self._held.health.failed,
            send=self._send,
            shoes_changed=lambda removed: self._discovery(removed=removed),
        )
        store.changed_elsewhere()  # what the store holds now is what the history starts from
        self.athlete.read_again()
        self._last_birth_resend: datetime | None = None
        self._beat = time.monotonic()  # the loop's last turn (monotonic: a liveness measure)
        self._ha_grace_s = ha_listening_grace_s
        self._ha_listening_at: float | None = None  # monotonic; None: not connected yet
        self._waiting_notes: list[notifications.Notification] = []  # until HA listens
        self._unapplied: list[Stored | Outcome] = []  # stored in a burst, evaluated at its end

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
        pending: deque[Event] = deque()  # taken from the queue, in order
        while True:
            self._beat = time.monotonic()
            if not pending:
                try:
                    pending.append(self._queue.get(timeout=self._idle_wait_s()))
                except queue.Empty:
                    self.idle()
                    continue
                _drain(self._queue, pending, MAX_BATCH)
            events = [pending.popleft()]
            while self._is_input(events[0]) and pending and len(events) < MAX_BATCH:
                if not self._is_input(pending[0]):
                    break
                events.append(pending.popleft())
            if not pending:  # what arrived meanwhile: more inputs right behind these?
                _drain(self._queue, pending, MAX_BATCH)
            try:
                if events[0] is Lifecycle.STOP:
                    self._catch_up()  # the end of a burst just before the stop
                    return
                if self._is_input(events[0]):
                    more = bool(pending) and self._is_input(pending[0])
                    msgs = [e for e in events if isinstance(e, InboundMessage)]
                    self.handle_inputs(msgs, more_coming=more)
                else:
                    self.handle(events[0])
            except Exception:  # one bad event must never stop the service
                log.exception("could not handle %s", _describe(events[0]))
            finally:
                with self._count_lock:
                    self._unfinished -= len(events)

    def _is_input(self, event: Event) -> bool:
        return isinstance(event, InboundMessage) and event.topic != self.topics.ha_status

    def _idle_wait_s(self) -> float:
        """How long the idle worker may wait for an event: `QUEUE_POLL_S`, or less while
        notifications wait for Home Assistant."""
        if self._waiting_notes and self._ha_listening_at is not None:
            return min(QUEUE_POLL_S, max(self._ha_listening_at - time.monotonic(), 0.0))
        return QUEUE_POLL_S

    def idle(self) -> None:
        """Nothing queued (every `QUEUE_POLL_S` at most): what waited for its time goes out,
        notifications for Home Assistant and a diagnostics change held back by the limit."""
        try:
            self._catch_up()
            self._release_notes()
            self.diagnostics.publish_waiting()
        except Exception:
            log.exception("could not publish while idle")

    # --- events ---------------------------------------------------------------------------

    @property
    def newest_start(self) -> datetime | None:
        """The newest stored activity's start: where the next Strava sync resumes."""
        return sync.newest_start(self.athlete.history)

    @property
    def recommendation(self) -> Recommendation | None:
        """The last evaluation's recommendation (None before the first)."""
        return self.athlete.recommendation

    def handle(self, event: Event) -> None:
        try:
            self._catch_up()
            self._dispatch(event)
        finally:  # what was stored is acknowledged even if publishing failed
            self._held.acknowledge_durable()  # after the new state went out: fsync, then ack
        self._release_notes()
        self.diagnostics.publish(force=False)

    def handle_inputs(self, msgs: Sequence[InboundMessage], *, more_coming: bool = False) -> None:
        """Input messages that arrived together: one transaction, one evaluation, one state
        published, one fsync, then every one of them acknowledged. With `more_coming` (more
        inputs queued right behind them: a burst), they are stored, made durable and
        acknowledged at once, and evaluated with those after them (after `MAX_UNEVALUATED`
        inputs at most): the broker's queue empties as fast as the store takes them."""
        try:
            if not self._unapplied and self._read_what_others_wrote():
                self.evaluate_and_publish()
            self._unapplied += self._held.take(msgs)
            if not more_coming or len(self._unapplied) >= MAX_UNEVALUATED:
                self._catch_up()
        finally:
            self._held.acknowledge_durable()
        self._release_notes()
        self.diagnostics.publish(force=False)

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, AthleteTick):  # one athlete for now: the worker's
            event = event.tick
        if isinstance(event, InboundMessage):
            self._message(event)
        elif isinstance(event, SyncResult):
            self._sync_result(event)
        elif event is Lifecycle.CONNECTED:
            self._republish_all()
        elif event is Tick.MORNING_REPORT:
            rec = self.evaluate_and_publish()
            self.athlete.notify(notifications.morning(rec, self.athlete.today()))
        elif event is Tick.DAY_ROLLOVER:
            self.athlete.new_day()
            self.evaluate_and_publish()
        elif event is Tick.HOUSEKEEPING:
            try:  # a store deleted or replaced is a store problem even while nothing arrives
                self.store.check()
            except StoreError as exc:
                self._held.health.failed(exc)
            if self._read_what_others_wrote():
                self.evaluate_and_publish()
            self._apply(self._held.retry(self.clock.now()))

    def _message(self, msg: InboundMessage) -> None:
        if msg.topic == self.topics.ha_status:
            msg.ack()
            if msg.payload.strip() == b"online":
                self._ha_birth()
                self._release_notes(ha_listens=True)  # HA is up with our discovery: it listens
            return
        self._apply(self._held.take([msg]))  # stored, or held while the store cannot take it

    def _read_what_others_wrote(self) -> bool:
        """Whether `restday import` or `restday strava sync` wrote to the store beside the
        service; if so the history is read again (on the minute tick, and before inputs)."""
        try:
            if not self.store.changed_elsewhere():
                return False
            log.info("the store changed beside the service (an import or a sync): read again")
            self.athlete.read_again()
        except StoreError as exc:
            self._held.health.failed(exc)
            return False
        return True

    def _catch_up(self) -> None:
        """Evaluate and publish for the inputs stored but not evaluated yet (`handle_inputs`)."""
        if self._unapplied:
            outcomes, self._unapplied = self._unapplied, []
            self._apply(outcomes)

    def _apply(self, outcomes: list[Stored | Outcome]) -> None:
        """The inputs just stored into the history, in order; the state evaluated and
        published once, for the end. Each run of inputs of one kind is evaluated as it stood
        for its notifications (a burst of weigh-ins once, a short night then a pain report each)."""
        asked = "sync" in outcomes  # the sync button
        if asked:
            self._request_sync()  # in a job thread; its result comes back as an event
        added = self.athlete.add([o for o in outcomes if isinstance(o, Stored)])
        if added or asked:
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
                self.athlete.read_again()
        except StoreError as exc:
            self._held.health.failed(exc)
            was, report = str(before), None
        rec = self.evaluate_and_publish()
        new_ids = sync.post_run_candidates(result, report)
        if new_ids:
            for note in sync_results.post_runs(
                self.config, self.athlete.context, rec, new_ids, self.athlete.was_sent
            ):
                self.athlete.notify(note)
        if result.auth == "required" and was != "required":
            since = result.finished_at.isoformat(timespec="seconds")
            self.athlete.notify(notifications.auth_required(since, result.error or ""))

    # --- evaluating and publishing --------------------------------------------------------

    def evaluate_and_publish(self, *, force: bool = False) -> Recommendation:
        """Evaluate now; publish the state if it changed (or `force`), discovery if the shoes
        changed, and any notification now due."""
        return self.athlete.evaluate_and_publish(force=force)

    def _send(self, note: notifications.Notification) -> None:
        """A notification decided: out once Home Assistant can have subscribed."""
        self._waiting_notes.append(note)
        self._release_notes()

    def _release_notes(self, *, ha_listens: bool = False) -> None:
        """Publish the notifications waiting, once Home Assistant can have subscribed."""
        if ha_listens and self._ha_listening_at is not None:
            self._ha_listening_at = min(self._ha_listening_at, time.monotonic())
        at = self._ha_listening_at
        if not self._waiting_notes or at is None or time.monotonic() < at:
            return
        notes, self._waiting_notes = self._waiting_notes, []
        for note in notes:
            self.publisher.publish(self.topics.notification, note.to_json(), qos=1)

    def _republish_all(self) -> None:
        """After every (re)connect: discovery, state, diagnostics, the pain echo."""
        self._discovery()
        self._ha_listening_at = time.monotonic() + self._ha_grace_s
        self.evaluate_and_publish(force=True)
        self.diagnostics.publish(force=True)
        self.athlete.echo_last_pain()

    def _ha_birth(self) -> None:
        now = self.clock.now()
        last = self._last_birth_resend
        if last is not None and abs(now - last) < HA_BIRTH_DEBOUNCE:
            return
        self._last_birth_resend = now
        self._discovery()
        self.evaluate_and_publish(force=True)

    def _discovery(self, removed: tuple[str, ...] = ()) -> None:
        rec = self.athlete.recommendation
        shoes = rec.metrics.shoes if rec else ()
        topic, payload = homeassistant.discovery_message(
            self.config, shoes, removed_shoes=sorted(removed)
        )
        self.publisher.publish(topic, payload, retain=True, qos=1)


def _describe(event: Event) -> str:
    if isinstance(event, InboundMessage):
        return f"a message on {event.topic}"
    if isinstance(event, SyncResult):
        return "a Strava sync's result"
    if isinstance(event, AthleteTick):
        return f"the {event.tick.value} event of {event.athlete}"
    return f"the {event.value} event"


def _drain(source: queue.Queue[Event], into: deque[Event], up_to: int) -> None:
    """Move what is queued now into `into`, until it holds `up_to`."""
    while len(into) < up_to:
        try:
            into.append(source.get_nowait())
        except queue.Empty:
            return
