"""Every MQTT topic restday publishes or listens to (DESIGN.md §5), derived from the config."""

from __future__ import annotations

from dataclasses import dataclass

from restday.config import Config


@dataclass(frozen=True, slots=True)
class Topics:
    status: str  # retained online/offline; the last will
    state: str  # retained recommendation
    notification: str  # QoS 1, not retained
    diagnostics: str  # retained health
    pain: str  # retained echo of the accepted pain level
    pain_set: str  # in: a number 0–10
    sync_set: str  # in: PRESS
    ha_status: str  # in: Home Assistant's birth message
    scale: dict[str, str]  # in: topic → preset
    sleep: dict[str, str]  # in: topic → preset

    @classmethod
    def of(cls, config: Config) -> Topics:
        base = f"{config.mqtt.base_topic}/{config.athlete.id}"
        return cls(
            status=f"{config.mqtt.base_topic}/status",
            state=f"{base}/state",
            notification=f"{base}/notification",
            diagnostics=f"{base}/diagnostics",
            pain=f"{base}/pain",
            pain_set=f"{base}/pain/set",
            sync_set=f"{base}/sync/set",
            ha_status=f"{config.mqtt.discovery_prefix}/status",
            scale={s.topic: str(s.preset) for s in config.scale},
            sleep={s.topic: str(s.preset) for s in config.sleep},
        )

    @property
    def subscriptions(self) -> list[str]:
        """What the service subscribes to, each once."""
        topics = [self.pain_set, self.sync_set, self.ha_status, *self.scale, *self.sleep]
        return list(dict.fromkeys(topics))
