"""The worker's thread: events taken off its queue in order, inputs that arrived together as one
batch.

Everything arrives as an event on `EventLoop.put` (paho's thread, the scheduler's jobs and the
service only enqueue). The thread drains what is queued and takes inputs that arrived together
together (group commit), up to `MAX_BATCH` messages in a row, telling the worker whether more
are queued right behind them (a burst: `more_coming`); any other event is taken alone. When
nothing comes for a while (`QUEUE_POLL_S` at most), the worker is told it is idle. No exception
in a handler stops the thread; each turn of it is a heartbeat (`alive`, for the systemd
watchdog). What each event does is the worker's (worker.py); what the loop logs is too, under
its logger name, as before its split.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from restday.daemon.events import AthleteTick, Event, Lifecycle
from restday.daemon.held import MAX_BATCH
from restday.integrations.mqtt.message import InboundMessage
from restday.sync import SyncResult

log = logging.getLogger("restday.daemon.worker")  # where these lines have always come from

QUEUE_POLL_S = 1.0  # the worker wakes this often even when idle (`alive`, diagnostics due)
HEARTBEAT_STALE_S = 120.0  # no loop turn for this long means the worker is hung


class Consumer(Protocol):
    """What takes the events: worker.py's `Worker`."""

    def is_input(self, event: Event) -> bool: ...

    def handle(self, event: Event) -> None: ...

    def handle_inputs(
        self, msgs: Sequence[InboundMessage], *, more_coming: bool = False
    ) -> None: ...

    def idle(self) -> None: ...

    def idle_wait_s(self, poll_s: float) -> float: ...

    def catch_up(self) -> None: ...


class EventLoop:
    """Consumes events until `Lifecycle.STOP`; call `start()`, then `put()` from any thread."""

    def __init__(self, consumer: Consumer, name: str) -> None:
        self._consumer = consumer
        self._queue: queue.Queue[Event] = queue.Queue()
        self._count_lock = threading.Lock()
        self._unfinished = 0  # events put but not yet handled
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._beat = time.monotonic()  # the loop's last turn (monotonic: a liveness measure)

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
        worker = self._consumer
        pending: deque[Event] = deque()  # taken from the queue, in order
        while True:
            self._beat = time.monotonic()
            if not pending:
                try:
                    pending.append(self._queue.get(timeout=worker.idle_wait_s(QUEUE_POLL_S)))
                except queue.Empty:
                    worker.idle()
                    continue
                _drain(self._queue, pending, MAX_BATCH)
            events = [pending.popleft()]
            while worker.is_input(events[0]) and pending and len(events) < MAX_BATCH:
                if not worker.is_input(pending[0]):
                    break
                events.append(pending.popleft())
            if not pending:  # what arrived meanwhile: more inputs right behind these?
                _drain(self._queue, pending, MAX_BATCH)
            try:
                if events[0] is Lifecycle.STOP:
                    worker.catch_up()  # the end of a burst just before the stop
                    return
                if worker.is_input(events[0]):
                    more = bool(pending) and worker.is_input(pending[0])
                    msgs = [e for e in events if isinstance(e, InboundMessage)]
                    worker.handle_inputs(msgs, more_coming=more)
                else:
                    worker.handle(events[0])
            except Exception:  # one bad event must never stop the service
                log.exception("could not handle %s", _describe(events[0]))
            finally:
                with self._count_lock:
                    self._unfinished -= len(events)


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
