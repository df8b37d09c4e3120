"""Inputs on their way into the store: held while it cannot take them, acknowledged once durable.

The worker hands over what arrived together (a batch: up to `MAX_BATCH` messages, in arrival
order), and the batch is stored in one transaction (group commit: each message's own writes
are undone together if it fails, inputs.py). A message is acknowledged to the broker only once
the store committed what it carried and made it durable: one fsync for the whole batch, then
every message of it is acknowledged. While the store cannot be written (disk full, read-only,
I/O error, the file deleted or replaced), messages are held in memory in arrival order,
unacknowledged, and retried before every new batch and on the housekeeping tick; the outage is
logged once when it starts and once when it ends (`StoreHealth`).
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from restday.daemon.inputs import Asked, InputFailed, Outcome
from restday.daemon.stored import Stored
from restday.integrations.mqtt.message import InboundMessage
from restday.store import Store, StoreError

log = logging.getLogger("restday.daemon.inputs")  # where these lines have always come from

STORE_CHECK_KEY = "store_checked_at"  # store state: the housekeeping tick's test write
MAX_BATCH = 1_000  # messages stored in one transaction, made durable by one fsync
MAX_HELD = 1_000  # inputs held in memory while the store cannot be written; later ones wait
# at the broker, unacknowledged (it delivers them again when restday reconnects or restarts)


class Inputs(Protocol):
    """inputs.py's `InputHandler`: one message stored (or refused) in the transaction around
    it, and told when that transaction committed or was undone."""

    def handle(self, msg: InboundMessage, *, alone: bool) -> Stored | Outcome: ...

    def committed(self) -> None: ...

    def undone(self) -> None: ...

    def expire(self, now: datetime) -> list[Stored | Outcome]: ...


class StoreHealth:
    """Whether the store takes writes: an outage is logged once as it starts and once as it
    ends, whichever write (an input, a counter, a notification's record, a sync) saw it."""

    def __init__(self, where: Path) -> None:
        self._where = where
        self.error: str | None = None  # why the last write failed, None while writes work

    @property
    def ok(self) -> bool:
        return self.error is None

    def failed(self, exc: StoreError) -> None:
        if self.error is None:
            log.error(
                "%s; inputs are held (up to %d, unacknowledged) and retried every minute",
                exc,
                MAX_HELD,
            )
        self.error = str(exc)

    def recovered(self, held: int) -> None:
        """A write committed with nothing held any more: the outage, if any, is over."""
        if self.error is not None:
            log.info(
                "the store %s takes writes again; handled the %d inputs held meanwhile",
                self._where,
                held,
            )
        self.error = None


class HeldInputs:
    """Stores messages with `inputs` (inputs.py), in arrival order, a batch per transaction, holding
    what the store cannot take yet. `take` and `retry` return what got handled, in order;
    `acknowledge_durable` then acknowledges it."""

    def __init__(
        self,
        store: Store,
        where: Path,
        inputs: Inputs,
    ) -> None:
        self._store = store
        self._inputs = inputs
        self.health = StoreHealth(where)
        self._held: deque[InboundMessage] = deque()
        self._released = 0  # held messages handled since the outage began
        self._unflushed = 0  # handled during the outage, not made durable, not acknowledged
        self._overflow_told = False  # MAX_HELD reached: said once per outage
        self._unacknowledged: list[Callable[[], None]] = []  # for `acknowledge_durable`

    @property
    def count(self) -> int:
        """Inputs not safely stored yet: held in memory, or handled but left unacknowledged
        because the store could not make them durable (the broker delivers those again)."""
        return len(self._held) + self._unflushed

    def take(self, msgs: Sequence[InboundMessage]) -> list[Stored | Outcome]:
        """`msgs` after the held messages (in order); held too when the store fails."""
        done = self.retry()
        outcomes = None if self._held else self._try(msgs)
        if outcomes is None:
            for msg in msgs:
                self._hold(msg)
            return done
        if any(not isinstance(o, Asked) and o != "ignored" for o in outcomes):  # it wrote
            self._recovered()
        return [*done, *outcomes]

    def retry(self, now: datetime | None = None) -> list[Stored | Outcome]:
        """The held messages, oldest first, in batches, until one fails again. With nothing
        held during an outage, a test write at `now` (the housekeeping tick) shows when it is
        over."""
        done: list[Stored | Outcome] = []
        if not self._held:
            if now is not None and not self.health.ok:
                try:
                    self._store.set_state(STORE_CHECK_KEY, now.isoformat(timespec="seconds"))
                except StoreError as exc:
                    self.health.failed(exc)
                    return done
                self._recovered()
            return done
        while self._held:
            batch = list(itertools.islice(self._held, MAX_BATCH))
            outcomes = self._try(batch)
            if outcomes is None:
                return done
            for _ in batch:
                self._held.popleft()
            self._released += len(batch)
            done += outcomes
        self._recovered()
        return done

    def expire(self, now: datetime) -> list[Stored | Outcome]:
        """What inputs.py kept waiting for its time (a Home Assistant state whose unit and
        time never came) stored now, in one transaction; nothing while inputs are held or the
        store fails (they go first, and the next turn tries again)."""
        if self._held or not self.health.ok:
            return []
        try:
            with self._store.batch():
                outcomes = self._inputs.expire(now)
        except StoreError as exc:
            self._inputs.undone()
            self.health.failed(exc)
            return []
        self._inputs.committed()
        return outcomes

    def another_write_committed(self) -> None:
        """A write other than an input's committed (a sync's): the outage is over, unless
        inputs wait (they go first)."""
        if not self._held:
            self._recovered()

    def acknowledge_durable(self) -> None:
        """Acknowledge what `take` and `retry` handled, once the store has made it durable
        (fsync). The worker calls this after publishing what the inputs changed, so the disk's
        latency is not in front of the new state. If the disk refuses, nothing is acknowledged:
        the broker delivers those inputs again after a reconnect or a restart, and the store
        counts them as duplicates of what it holds. Any other write of the event (a sync's
        activities, a notification sent) is made durable here too."""
        acks, self._unacknowledged = self._unacknowledged, []
        try:
            self._store.flush()
        except StoreError as exc:
            self.health.failed(exc)
            self._unflushed += len(acks)
            return
        for ack in acks:
            ack()

    def _recovered(self) -> None:
        self.health.recovered(self._released)
        self._released, self._overflow_told, self._unflushed = 0, False, 0

    def _try(self, msgs: Sequence[InboundMessage]) -> list[Stored | Outcome] | None:
        """Each message handled, in one transaction (acknowledged once durable); None, and
        nothing stored nor acknowledged, if the store failed. When restday fails on one of
        them (a bug), the batch is undone and taken again, each message on its own (inputs.py:
        that one is kept aside, the others stored)."""
        try:
            try:
                with self._store.batch():
                    outcomes = [self._inputs.handle(msg, alone=False) for msg in msgs]
            except InputFailed:
                self._inputs.undone()
                with self._store.batch():
                    outcomes = [self._one(msg) for msg in msgs]
        except StoreError as exc:
            self._inputs.undone()
            self.health.failed(exc)
            return None
        self._inputs.committed()
        self._unacknowledged += [msg.ack for msg in msgs]
        return outcomes

    def _one(self, msg: InboundMessage) -> Stored | Outcome:
        try:
            return self._inputs.handle(msg, alone=True)  # raises only StoreError (inputs.py) …
        except StoreError:
            raise
        except Exception:  # … but if it ever raised more, the message must not jam the rest
            log.exception("could not handle a message on %s", msg.topic)
            return "rejected"

    def _hold(self, msg: InboundMessage) -> None:
        if len(self._held) < MAX_HELD:
            self._held.append(msg)
            return
        if not self._overflow_told:
            self._overflow_told = True
            log.warning(
                "%d inputs are held, the most restday keeps: later ones stay unacknowledged "
                "at the broker, which delivers them again when restday reconnects or restarts "
                "(QoS 0 ones are lost)",
                MAX_HELD,
            )
