"""What Home Assistant must have to listen: each athlete's discovery, and the notifications held
until it can have subscribed to them.

Notifications wait until Home Assistant can have subscribed to them: the worker's
`HA_LISTENING_GRACE_S` after the discovery of each connect (`connected`), or Home Assistant's
birth message (`release(ha_listens=True)`), whichever is first (the event entity subscribes
once it has read the discovery; what is published before is lost). Before the first connect
they wait. Several births in a burst give one re-send of the discovery (HA_BIRTH_DEBOUNCE).
The worker's thread is the only caller.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from restday.config import Config
from restday.daemon import notifications
from restday.daemon.publishing import ChangePublisher
from restday.integrations import homeassistant
from restday.models import Recommendation

HA_BIRTH_DEBOUNCE = timedelta(seconds=10)  # several HA births in a burst give one re-send


class HaListening:
    """Discovery published, and notifications once Home Assistant listens."""

    def __init__(self, config: Config, publisher: ChangePublisher, grace_s: float) -> None:
        """`grace_s`: how long after the discovery Home Assistant needs to subscribe."""
        self._config = config
        self._publisher = publisher
        self._grace_s = grace_s
        self._listening_at: float | None = None  # monotonic; None: not connected yet
        self._waiting: list[tuple[str, notifications.Notification]] = []  # topic, note
        self._last_birth_resend: datetime | None = None

    def discovery(
        self, athlete: str, rec: Recommendation | None, removed: Sequence[str] = ()
    ) -> None:
        """The Home Assistant device of `athlete`, with their shoes."""
        shoes = rec.metrics.shoes if rec else ()
        topic, payload = homeassistant.discovery_message(
            self._config, shoes, removed_shoes=sorted(removed), athlete=athlete
        )
        self._publisher.publish(topic, payload, retain=True, qos=1)

    def connected(self) -> None:
        """The discovery of a (re)connect went out: Home Assistant listens after the grace."""
        self._listening_at = time.monotonic() + self._grace_s

    def birth(self, now: datetime) -> bool:
        """Home Assistant's birth message: whether to re-send discovery and state (not again
        within HA_BIRTH_DEBOUNCE)."""
        last = self._last_birth_resend
        if last is not None and abs(now - last) < HA_BIRTH_DEBOUNCE:
            return False
        self._last_birth_resend = now
        return True

    def send(self, topic: str, note: notifications.Notification) -> None:
        """A notification decided: out once Home Assistant can have subscribed."""
        self._waiting.append((topic, note))
        self.release()

    def release(self, *, ha_listens: bool = False) -> None:
        """Publish the notifications waiting, once Home Assistant can have subscribed."""
        if ha_listens and self._listening_at is not None:
            self._listening_at = min(self._listening_at, time.monotonic())
        at = self._listening_at
        if not self._waiting or at is None or time.monotonic() < at:
            return
        notes, self._waiting = self._waiting, []
        for topic, note in notes:
            self._publisher.publish(topic, note.to_json(), qos=1)

    def wait_s(self, poll_s: float) -> float:
        """How long the idle worker may wait for an event: `poll_s`, or less while
        notifications wait for Home Assistant."""
        if self._waiting and self._listening_at is not None:
            return min(poll_s, max(self._listening_at - time.monotonic(), 0.0))
        return poll_s
