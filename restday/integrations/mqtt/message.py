"""The MQTT message as restday receives it (aiomqtt keeps its `Message` beside its client too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


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
