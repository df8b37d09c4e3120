"""The events the worker thread consumes: every input of the service becomes one of these.

paho's network thread, APScheduler's job threads and the signal handler only ever build an
event and put it on the worker's queue; the worker alone touches the store and the engine.
"""

from __future__ import annotations

import enum

from restday.integrations.mqtt.message import InboundMessage
from restday.sync import SyncResult


class Tick(enum.StrEnum):
    """What the scheduler's jobs put on the queue (schedule.py)."""

    MORNING_REPORT = "morning_report"  # the daily report at schedule.morning_report
    DAY_ROLLOVER = "day_rollover"  # just after local midnight: day-based rules roll over
    HOUSEKEEPING = "housekeeping"  # once a minute: publish diagnostics held back by the limit


class Lifecycle(enum.StrEnum):
    """What the service tells the worker about the service itself (service.py)."""

    CONNECTED = "connected"  # (re)connected to the broker: re-publish everything retained
    STOP = "stop"  # SIGTERM/SIGINT: finish, publish offline, close


Event = InboundMessage | Tick | Lifecycle | SyncResult
