"""The one thread that owns the store and the engine: what it does with each event.

Everything arrives as an event on `Worker.put` (paho's thread, the scheduler's jobs and the
service only enqueue); loop.py runs the thread and takes inputs that arrived together as one
batch. The worker hands a batch to held.py, which stores it with inputs.py in one transaction
(or holds it while the store cannot take it); `_apply` adds what was stored to the history
(stored.py), in arrival order, and `evaluate_and_publish` evaluates once and publishes what
changed (publishing.py): the retained state once, for the end of the batch. Notifications are
still decided along the way: each run of inputs of one kind is evaluated as it stood, so a
rest day reached mid-batch is announced. Then the whole batch is made durable with one fsync
and acknowledged (held.py), and the diagnostics are published when due (diagnostics.py). When
more inputs are queued right behind a batch (a burst), it is stored, made durable and
acknowledged at once, and evaluated with the ones after it (`handle_inputs`). What `restday
import` or `strava sync` wrote beside the service is read again on the minute tick or before
the next inputs. No exception in a handler stops the worker; a store that cannot be written
holds the inputs while evaluating and publishing go on from memory.

A household is one worker: an `AthleteState` per athlete (athlete.py) holds their history,
state, notifications and diagnostics; inputs.py says whose each input is (their scale, their
share of a shared scale, their sleep tracker, their commands), and a batch is added to each
athlete's history in arrival order and evaluated once per athlete. A shared scale's weigh-in
nobody was given is announced to whoever it could be (`unassigned_weigh_in`).

Notifications wait until Home Assistant can have subscribed to them (ha_listening.py); a
Strava sync's result is taken for its athlete by strava_results.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from restday import sync
from restday.clock import Clock
from restday.config import Config
from restday.daemon import notifications, strava_results
from restday.daemon.athlete import AthleteState
from restday.daemon.diagnostics import Diagnostics
from restday.daemon.events import AthleteTick, Event, Lifecycle, Tick
from restday.daemon.ha_listening import HaListening
from restday.daemon.held import HeldInputs
from restday.daemon.inputs import Asked, InputHandler, Outcome
from restday.daemon.loop import EventLoop
from restday.daemon.publishing import ChangePublisher, Publisher
from restday.daemon.stored import Stored
from restday.daemon.strava_results import LAST_SYNC_KEY
from restday.daemon.weigh_ins import Assigned, Unassigned
from restday.integrations.mqtt.message import InboundMessage
from restday.integrations.mqtt.topics import AthleteTopics, Topics
from restday.models import Recommendation
from restday.store import Store, StoreError
from restday.store.rows import ts
from restday.sync import SyncResult

log = logging.getLogger(__name__)

MAX_UNEVALUATED = 5_000  # inputs of a burst stored before an evaluation all the same
HA_LISTENING_GRACE_S = 3.0  # after discovery, for Home Assistant to subscribe to notifications


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
        request_sync: Callable[[str], None] = lambda athlete: None,
        strava_auth: Callable[[str], str] = lambda athlete: "not_configured",
        ha_listening_grace_s: float = HA_LISTENING_GRACE_S,
    ) -> None:
        """`request_sync(athlete)`: a Strava sync for them now (the sync button);
        `strava_auth(athlete)`: their Strava authorisation at start, for the diagnostics."""
        self.config = config
        self._request_sync = request_sync
        self.store = store
        self.publisher = ChangePublisher(publisher)
        self.clock = clock
        self.topics = Topics.of(config)
        self._ha = HaListening(config, self.publisher, ha_listening_grace_s)
        inputs = InputHandler(config, store, self.topics, self._last_weight)
        self._held = HeldInputs(store, config.store_path(), inputs)
        self.athletes = {
            t.athlete: self._athlete(t, reconnects, strava_auth) for t in self.topics.athletes
        }
        self.athlete = next(iter(self.athletes.values()))  # the first: a single athlete's
        self.diagnostics = self.athlete.diagnostics
        store.changed_elsewhere()  # what the store holds now is what the history starts from
        for athlete in self.athletes.values():
            athlete.read_again()
        self._unapplied: list[Stored | Outcome] = []  # stored in a burst, evaluated at its end
        self._loop = EventLoop(self, name="restday-worker")  # its heartbeat starts now

    def _athlete(
        self, topics: AthleteTopics, reconnects: Callable[[], int], auth: Callable[[str], str]
    ) -> AthleteState:
        a = topics.athlete
        state = AthleteState(
            a,
            profile=self.config.profile(a),
            rules=self.config.rules_for(a),
            decision=self.config.decision,
            store=self.store,
            out=self.publisher,
            clock=self.clock,
            state_topic=topics.state,
            pain_topic=topics.pain,
            failed=self._held.health.failed,
            send=lambda note: self._ha.send(topics.notification, note),
            shoes_changed=lambda removed: self._discovery(a, removed=removed),
        )
        state.diagnostics = Diagnostics(
            self.publisher,
            topics.diagnostics,
            self.store,
            self._held,
            self.clock,
            athlete=a,
            shared_scale=self.topics.shared_scale,
            reconnects=reconnects,
            strava_auth=auth(a),
            last_sync=self.store.get_state(LAST_SYNC_KEY, athlete=a),
        )
        return state

    def _last_weight(self, athlete: str) -> float | None:
        return self.athletes[athlete].last_weight()

    # --- thread ---------------------------------------------------------------------------

    def start(self) -> None:
        self._loop.start()

    def put(self, event: Event) -> None:
        self._loop.put(event)

    def drained(self) -> bool:
        """Every event put so far has been handled (tests and the demo wait for this)."""
        return self._loop.drained()

    def join(self, timeout_s: float) -> bool:
        return self._loop.join(timeout_s)

    def alive(self) -> bool:
        """Running and turning its loop (for the systemd watchdog): a hung worker is not."""
        return self._loop.alive()

    def is_input(self, event: Event) -> bool:
        """An input message (Home Assistant's status is not one): taken in batches."""
        return isinstance(event, InboundMessage) and event.topic != self.topics.ha_status

    def idle_wait_s(self, poll_s: float) -> float:
        """How long the idle worker may wait for an event: `poll_s`, or less while
        notifications wait for Home Assistant."""
        return self._ha.wait_s(poll_s)

    def idle(self) -> None:
        """Nothing queued (loop.py's QUEUE_POLL_S at most): what waited for its time goes out,
        notifications for Home Assistant and a diagnostics change held back by the limit."""
        try:
            self.catch_up()
            expired = self._held.expire(self.clock.now())  # a lone Home Assistant state
            if expired:
                self._apply(expired)
                self._held.acknowledge_durable()
            self._ha.release()
            for athlete in self.athletes.values():
                athlete.diagnostics.publish_waiting()
        except Exception:
            log.exception("could not publish while idle")

    # --- events ---------------------------------------------------------------------------

    @property
    def newest_start(self) -> datetime | None:
        """The first athlete's newest stored activity's start (`newest_start_of`)."""
        return self.newest_start_of(self.athlete.id)

    def newest_start_of(self, athlete: str) -> datetime | None:
        """The athlete's newest stored activity's start: where their next sync resumes."""
        return sync.newest_start(self.athletes[athlete].history)

    @property
    def recommendation(self) -> Recommendation | None:
        """The last evaluation's recommendation (None before the first)."""
        return self.athlete.recommendation

    def handle(self, event: Event) -> None:
        try:
            self.catch_up()
            self._dispatch(event)
        finally:  # what was stored is acknowledged even if publishing failed
            self._held.acknowledge_durable()  # after the new state went out: fsync, then ack
        self._ha.release()
        self._publish_diagnostics(force=False)

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
                self.catch_up()
        finally:
            self._held.acknowledge_durable()
        self._ha.release()
        self._publish_diagnostics(force=False)

    def _publish_diagnostics(self, *, force: bool) -> None:
        for athlete in self.athletes.values():
            athlete.diagnostics.publish(force=force)

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, AthleteTick):
            self._tick(event.tick, (self.athletes[event.athlete],))
        elif isinstance(event, InboundMessage):
            self._message(event)
        elif isinstance(event, SyncResult):
            athlete = self.athletes[event.athlete_id or self.athlete.id]
            strava_results.take(event, athlete, self.store, self._held)
        elif event is Lifecycle.CONNECTED:
            self._republish_all()
        elif event is Tick.MORNING_REPORT or event is Tick.DAY_ROLLOVER:  # one athlete's
            self._tick(event, tuple(self.athletes.values()))
        elif event is Tick.HOUSEKEEPING:
            try:  # a store deleted or replaced is a store problem even while nothing arrives
                self.store.check()
            except StoreError as exc:
                self._held.health.failed(exc)
            if self._read_what_others_wrote():
                self.evaluate_and_publish()
            self._apply(self._held.retry(self.clock.now()))

    def _tick(self, tick: Tick, athletes: Sequence[AthleteState]) -> None:
        for athlete in athletes:
            if tick is Tick.MORNING_REPORT:
                rec = athlete.evaluate_and_publish()
                athlete.notify(notifications.morning(rec, athlete.today()))
            elif tick is Tick.DAY_ROLLOVER:
                athlete.new_day()
                athlete.evaluate_and_publish()

    def _message(self, msg: InboundMessage) -> None:
        if msg.topic == self.topics.ha_status:
            msg.ack()
            if msg.payload.strip() == b"online":
                self._ha_birth()
                self._ha.release(ha_listens=True)  # HA is up with our discovery: it listens
            return
        self._apply(self._held.take([msg]))  # stored, or held while the store cannot take it

    def _read_what_others_wrote(self) -> bool:
        """Whether `restday import` or `restday strava sync` wrote to the store beside the
        service; if so the history is read again (on the minute tick, and before inputs)."""
        try:
            if not self.store.changed_elsewhere():
                return False
            log.info("the store changed beside the service (an import or a sync): read again")
            for athlete in self.athletes.values():
                athlete.read_again()
        except StoreError as exc:
            self._held.health.failed(exc)
            return False
        return True

    def catch_up(self) -> None:
        """Evaluate and publish for the inputs stored but not evaluated yet (`handle_inputs`)."""
        if self._unapplied:
            outcomes, self._unapplied = self._unapplied, []
            self._apply(outcomes)

    def _apply(self, outcomes: list[Stored | Outcome]) -> None:
        """The inputs just stored added to their athletes' histories, in order; each athlete's
        state evaluated and published once, for the end. Each run of inputs of one kind is
        evaluated as it stood for its notifications (a burst of weigh-ins once, a short night
        then a pain report each)."""
        stored: dict[str, list[Stored]] = {}
        asked: list[str] = []  # the athletes whose sync button was pressed
        for outcome in outcomes:
            if isinstance(outcome, Stored):
                stored.setdefault(outcome.athlete, []).append(outcome)
            elif isinstance(outcome, Assigned):
                for each in outcome.stored:
                    stored.setdefault(each.athlete, []).append(each)
            elif isinstance(outcome, Asked):
                asked.append(outcome.athlete)
                self._request_sync(outcome.athlete)  # in a job thread; the result is an event
            elif isinstance(outcome, Unassigned):
                self._tell_unassigned(outcome)
        for athlete in self.athletes.values():
            added = athlete.add(stored.get(athlete.id, []))
            if added or athlete.id in asked:
                athlete.evaluate_and_publish(force=athlete.id in asked)

    def _tell_unassigned(self, weigh_in: Unassigned) -> None:
        """A shared scale's weigh-in nobody was given: each candidate (everyone when it fits
        nobody's band) is asked whether it was theirs."""
        item, time_text = weigh_in.item, ts(weigh_in.item.time)
        for a in weigh_in.candidates or tuple(self.athletes):
            athlete = self.athletes[a]
            local = item.time.astimezone(athlete.profile.timezone).strftime("%Y-%m-%d %H:%M")
            note = notifications.unassigned_weigh_in(
                item.weight_kg,
                time_text,
                local,
                weigh_in.candidates,
                a,
                self.topics.of_athlete(a).assign_set,
            )
            athlete.notify(note)

    # --- evaluating and publishing --------------------------------------------------------

    def evaluate_and_publish(self, *, force: bool = False) -> Recommendation:
        """Evaluate every athlete now; publish each state that changed (or all, `force`),
        discovery where the shoes changed, and any notification now due. The first athlete's
        recommendation."""
        recs = [athlete.evaluate_and_publish(force=force) for athlete in self.athletes.values()]
        return recs[0]

    def _republish_all(self) -> None:
        """After every (re)connect: discovery, state, diagnostics, the pain echo."""
        for a in self.athletes:
            self._discovery(a)
        self._ha.connected()
        self.evaluate_and_publish(force=True)
        self._publish_diagnostics(force=True)
        for athlete in self.athletes.values():
            athlete.echo_last_pain()

    def _ha_birth(self) -> None:
        if not self._ha.birth(self.clock.now()):
            return
        for a in self.athletes:
            self._discovery(a)
        self.evaluate_and_publish(force=True)

    def _discovery(self, athlete: str, removed: tuple[str, ...] = ()) -> None:
        self._ha.discovery(athlete, self.athletes[athlete].recommendation, removed)
