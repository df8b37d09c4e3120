"""One athlete's side of the worker: their history in memory, its evaluation, the retained
state and pain echo, and their notifications (each decided once: the store's `sent` table).

The worker (worker.py) owns the thread, the store's transactions, the held inputs and the
moment Home Assistant listens; it hands each athlete what was stored for them. Everything here
runs on the worker's thread. The rules never see the athlete: they get one `History`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime

from restday.clock import Clock
from restday.daemon import notifications
from restday.daemon.diagnostics import Diagnostics
from restday.daemon.publishing import ChangePublisher
from restday.daemon.stored import Stored, with_all
from restday.models import History, Recommendation
from restday.rules.context import Context, prune
from restday.rules.engine import evaluate_context
from restday.rules.settings import DecisionConfig, Profile, RulesConfig
from restday.store import Store, StoreError

log = logging.getLogger("restday.daemon.worker")  # what it logs is the worker's, as before

Send = Callable[[notifications.Notification], None]  # to the athlete's notification topic


class AthleteState:
    """One athlete's history, recommendation and notifications, on the worker's thread."""

    def __init__(
        self,
        athlete: str,
        *,
        profile: Profile,
        rules: RulesConfig,
        decision: DecisionConfig,
        store: Store,
        out: ChangePublisher,
        clock: Clock,
        state_topic: str,
        pain_topic: str,
        failed: Callable[[StoreError], None],
        send: Send,
        shoes_changed: Callable[[tuple[str, ...]], None],
    ) -> None:
        self.id = athlete
        self.profile = profile
        self.rules = rules
        self.decision = decision
        self.store = store
        self._out = out
        self._clock = clock
        self._state_topic = state_topic
        self._pain_topic = pain_topic
        self._failed = failed  # a store failure: the worker's store health
        self._send = send
        self._shoes_changed = shoes_changed  # the shoes removed: discovery again
        self.history: History  # what evaluations from `_pruned_at` on read (`remember`)
        self._pruned_at: datetime
        self._shoes: tuple[str, ...] | None = None
        self._sent: set[str] = set()  # keys known to be in the store's `sent` table
        self.recommendation: Recommendation | None = None
        self.context: Context  # the evaluation behind `recommendation` (`evaluate_and_publish`)
        self.diagnostics: Diagnostics  # set by the worker, which builds it

    def remember(self, history: History) -> None:
        """Keep of `history` what evaluations from now on can read: every activity, and the
        nights, weigh-ins and pain reports of the windows the rules look at. Memory stays
        bounded over months of inputs, and each input costs the same on day 1,000 as on day 1."""
        now = self._clock.now()
        self.history, self._pruned_at = prune(history, now, self.profile, self.rules), now

    def read_again(self) -> None:
        """The history read again from the store (raises `StoreError`)."""
        self.remember(self.store.history(athlete=self.id))

    def add(self, stored: Sequence[Stored]) -> bool:
        """The inputs just stored for this athlete added to the history, in order; each run of
        inputs of one kind is evaluated as it stood for its notifications (a burst of
        weigh-ins once, a short night then a pain report each). Whether anything was added:
        the caller then evaluates and publishes once, for the end."""
        history, run = self.history, list[Stored]()  # run: inputs of one kind, not yet added
        for each in stored:
            if run and type(each.item) is not type(run[-1].item):
                history, run = with_all(history, run), []
                self.notify_due(self.evaluate(history)[1])  # as the batch stood
            run.append(each)
        if not run:
            return False
        self.remember(with_all(history, run))
        pains = [s.pain_level for s in stored if s.pain_level is not None]
        if pains:
            self.echo_pain(pains[-1], force=False)
        return True

    def evaluate_and_publish(self, *, force: bool = False) -> Recommendation:
        """Evaluate now; publish the state if it changed (or `force`), discovery if the shoes
        changed, and any notification now due."""
        now = self._clock.now()
        if now < self._pruned_at:  # the clock went back (a Pi without a real-time clock, say)
            try:  # what was pruned for the later time may be read again: the store has it all
                self.read_again()
            except StoreError as exc:
                self._failed(exc)
        self.context, rec = self.evaluate(self.history)
        self.recommendation = rec
        shoes = tuple(s.id for s in rec.metrics.shoes)
        if self._shoes is not None and shoes != self._shoes:
            self._shoes_changed(tuple(set(self._shoes) - set(shoes)))
        self._shoes = shoes
        payload = rec.to_payload()
        self._out.publish_changed(
            self._state_topic,
            json.dumps(payload, ensure_ascii=False),
            compared=json.dumps({k: v for k, v in payload.items() if k != "evaluated_at"}),
            force=force,
        )
        self.notify_due(rec)
        return rec

    def evaluate(self, history: History) -> tuple[Context, Recommendation]:
        context = Context.build(history, self._clock.now(), self.profile)
        return context, evaluate_context(context, self.rules, self.decision)

    def notify_due(self, rec: Recommendation) -> None:
        for note in notifications.due(rec, self.today()):
            self.notify(note)

    def notify(self, note: notifications.Notification) -> None:
        """Send `note` unless it was sent before (once per key, across restarts)."""
        if note.key in self._sent:
            return
        self._sent.add(note.key)
        try:
            first = self.store.mark_sent(note.key, self._clock.now(), athlete=self.id)
        except StoreError as exc:  # sent all the same: a restart may send it a second time
            self._failed(exc)
            first = True
        if first:
            log.info("notification %s: %s", note.event_type, note.title)
            self._send(note)

    def was_sent(self, key: str) -> bool:
        """Whether the notification `key` went out (the store's `sent` table is the authority)."""
        if key in self._sent:
            return True
        try:
            return self.store.was_sent(key, athlete=self.id)
        except StoreError as exc:  # unknown: treated as not sent (advice repeated, not lost)
            self._failed(exc)
            return False

    def new_day(self) -> None:
        """A new day began: the cache of sent keys is bounded to about a day."""
        self._sent.clear()

    def echo_last_pain(self) -> None:
        """After a (re)connect: the pain echo again (the broker may have lost it)."""
        if self.history.pains:
            self.echo_pain(self.history.pains[-1].level, force=True)

    def echo_pain(self, level: int, *, force: bool) -> None:
        """The pain level now, retained: what Home Assistant's pain number shows."""
        self._out.publish_changed(self._pain_topic, str(level), force=force)

    def last_weight(self) -> float | None:
        """The latest weigh-in's weight (kg), if any (the history always keeps the latest)."""
        return self.history.body[-1].weight_kg if self.history.body else None

    def today(self) -> date:
        return self._clock.now().astimezone(self.profile.timezone).date()
