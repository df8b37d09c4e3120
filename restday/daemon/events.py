"""The events the worker thread consumes: every input of the service becomes one of these.

paho's network thread, APScheduler's job threads and the signal handler only ever build an
event and put it on the worker's queue; the worker alone touches the store and the engine.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from restday.integrations.mqtt.message import InboundMessage
from restday.sync import SyncResult


class Tick(enum.StrEnum):
    """What the scheduler's jobs put on the queue (schedule.py)."""

    MORNING_REPORT = "morning_report"  # the daily report at schedule.morning_report
    DAY_ROLLOVER = "day_rollover"  # just after local midnight: day-based rules roll over
    HOUSEKEEPING = "housekeeping"  # once a minute: publish diagnostics held back by the limit


@dataclass(frozen=True, slots=True)
class AthleteTick:
    """A tick for one athlete of a household: their morning report at their own time, their
    own local midnight (each athlete has a time zone and a report time)."""

    tick: Tick
    athlete: str  # the athlete's id


class Lifecycle(enum.StrEnum):
    """What the service tells the worker about the service itself (service.py)."""

    CONNECTED = "connected"  # (re)connected to the broker: re-publish everything retained
    STOP = "stop"  # SIGTERM/SIGINT: finish, publish offline, close


Event = InboundMessage | Tick | AthleteTick | Lifecycle | SyncResult
