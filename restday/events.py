"""The events the worker thread consumes: every input of the service becomes one of these.

paho's network thread, APScheduler's job threads and the signal handler only ever build an
event and put it on the worker's queue; the worker alone touches the store and the engine.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The notification topic's `event_type`s (DESIGN.md §5); Home Assistant's event entity lists them.
NOTIFICATION_TYPES = (
    "post_run",
    "morning",
    "rest_day",
    "hydration",
    "shoe",
    "pain",
    "auth_required",
)


def no_ack() -> None:
    """The acknowledgement of a message that needs none (QoS 0, or built in a test)."""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """An MQTT message as received: the worker routes it by topic.

    `ack` tells the broker the message is handled; the worker calls it only after the store
    committed what the message carried (or decided to drop it), so a crash in between means
    the broker delivers it again.
    """

    topic: str
    payload: bytes
    retained: bool
    qos: int
    received_at: datetime  # UTC, aware
    ack: Callable[[], None] = field(default=no_ack, compare=False, repr=False)


class Tick(enum.StrEnum):
    """Scheduler and lifecycle events."""

    MORNING_REPORT = "morning_report"  # the daily report at schedule.morning_report
    DAY_ROLLOVER = "day_rollover"  # just after local midnight: day-based rules roll over
    CONNECTED = "connected"  # (re)connected to the broker: re-publish everything retained
    HOUSEKEEPING = "housekeeping"  # once a minute: publish diagnostics held back by the limit
    STOP = "stop"  # SIGTERM/SIGINT: finish, publish offline, close


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one Strava sync brought back (built in a job thread, stored by the worker).

    `activities` and `athlete` are Strava's raw JSON. `backfill` marks a first or a requested
    long sync: its runs are history, not news, so no post-run notification goes out for them.
    """

    finished_at: datetime  # UTC, aware
    auth: str  # "ok" | "required" | "not_configured"
    activities: tuple[dict[str, Any], ...] = ()
    athlete: dict[str, Any] | None = None
    backfill: bool = False
    error: str | None = None  # for people: "rate limited until 10:45", "Strava is down (503)"
    calls_today: int = 0


Event = InboundMessage | Tick | SyncResult
