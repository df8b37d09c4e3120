"""Publishing what changed (TeslaMate's publisher, zigbee2mqtt's `publishEntityState`).

The retained state, the diagnostics and the pain echo each go out only when they differ from
what was last published on their topic; a reconnect or Home Assistant's birth forces them out
again (the broker may have lost them). Everything else the worker sends, notifications and
discovery, passes straight through.
"""

from __future__ import annotations

from typing import Protocol

RETAINED_QOS = 1  # every retained message restday publishes


class Publisher(Protocol):
    def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 0
    ) -> None: ...


class ChangePublisher:
    """The worker's way out: `publish` as it is, `publish_changed` only what changed."""

    def __init__(self, out: Publisher) -> None:
        self.out = out  # the MQTT link (the demo puts a counting tap in between)
        self._last: dict[str, str] = {}  # topic → what was compared when it was last published

    def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 0
    ) -> None:
        self.out.publish(topic, payload, retain=retain, qos=qos)

    def publish_changed(
        self, topic: str, payload: str, *, compared: str | None = None, force: bool = False
    ) -> bool:
        """Publish `payload` retained unless `compared` (the payload itself by default: pass it
        without what changes every time, such as a timestamp) is what was compared when `topic`
        was last published; `force` publishes all the same. Whether it was published."""
        key = payload if compared is None else compared
        if not force and self._last.get(topic) == key:
            return False
        self._last[topic] = key
        self.out.publish(topic, payload, retain=True, qos=RETAINED_QOS)
        return True
