"""Every MQTT topic restday publishes or listens to (DESIGN.md §5), derived from the config.

The service's own: `<base>/status` (shared by every athlete) and Home Assistant's birth topic.
Each athlete's, under `<base>/<a>/`: state, notification, diagnostics, the pain echo, and the
commands pain/set, sync/set and assign/set. The inputs (scales, sleep trackers) are topics of
the devices, each read by its preset; a Home Assistant entity (`ha_statestream`, and a sleep
input's `hrv_topic` and `resting_hr_topic`) is three: its state, last_changed and unit, in the
order the broker should replay them (a night's HRV and resting HR before the night).
"""

from __future__ import annotations

from dataclasses import dataclass

from restday.config import Config, ScaleInput, SleepInput
from restday.integrations.ha_statestream import PRESET, subtopics


@dataclass(frozen=True, slots=True)
class AthleteTopics:
    """One athlete's topics, `<base>/<a>/…`."""

    athlete: str  # the athlete's id
    state: str  # retained recommendation
    notification: str  # QoS 1, not retained
    diagnostics: str  # retained health
    pain: str  # retained echo of the accepted pain level
    pain_set: str  # in: a number 0–10
    sync_set: str  # in: PRESS
    assign_set: str  # in: the time of an unassigned weigh-in that is this athlete's

    @classmethod
    def of(cls, base_topic: str, athlete: str) -> AthleteTopics:
        base = f"{base_topic}/{athlete}"
        return cls(
            athlete=athlete,
            state=f"{base}/state",
            notification=f"{base}/notification",
            diagnostics=f"{base}/diagnostics",
            pain=f"{base}/pain",
            pain_set=f"{base}/pain/set",
            sync_set=f"{base}/sync/set",
            assign_set=f"{base}/assign/set",
        )


@dataclass(frozen=True, slots=True)
class Topics:
    """The service's topics, each athlete's (the first athlete's are also `state`, `pain`…:
    a single athlete's, as before the household) and the inputs'."""

    status: str  # retained online/offline; the last will
    ha_status: str  # in: Home Assistant's birth message
    athletes: tuple[AthleteTopics, ...]  # in the config's order
    scale: dict[str, str]  # in: topic → preset
    sleep: dict[str, str]  # in: topic → preset
    shared_scale: bool = False  # a scale with weight bands: the athletes' assign commands
    inputs: tuple[str, ...] = ()  # in: what the scales and sleep inputs are read from

    @classmethod
    def of(cls, config: Config) -> Topics:
        base = config.mqtt.base_topic
        inputs: list[ScaleInput | SleepInput] = [*config.scale, *config.sleep]
        return cls(
            status=f"{base}/status",
            ha_status=f"{config.mqtt.discovery_prefix}/status",
            athletes=tuple(AthleteTopics.of(base, a.id) for a in config.athletes),
            shared_scale=any(s.assign.bands() for s in config.scale),
            scale={s.topic: str(s.preset) for s in config.scale},
            sleep={s.topic: str(s.preset) for s in config.sleep},
            inputs=tuple(topic for each in inputs for topic in _read_from(each)),
        )

    def of_athlete(self, athlete: str) -> AthleteTopics:
        """The topics of the athlete `athlete` (a configured id)."""
        return next(t for t in self.athletes if t.athlete == athlete)

    @property
    def first(self) -> AthleteTopics:
        return self.athletes[0]

    @property
    def state(self) -> str:
        return self.first.state

    @property
    def notification(self) -> str:
        return self.first.notification

    @property
    def diagnostics(self) -> str:
        return self.first.diagnostics

    @property
    def pain(self) -> str:
        return self.first.pain

    @property
    def pain_set(self) -> str:
        return self.first.pain_set

    @property
    def sync_set(self) -> str:
        return self.first.sync_set

    @property
    def subscriptions(self) -> list[str]:
        """What the service subscribes to, each once."""
        commands = [topic for a in self.athletes for topic in (a.pain_set, a.sync_set)]
        if self.shared_scale:
            commands += [a.assign_set for a in self.athletes]
        topics = [*commands, self.ha_status, *(self.inputs or (*self.scale, *self.sleep))]
        return list(dict.fromkeys(topics))


def entities_of(each: ScaleInput | SleepInput) -> tuple[str, ...]:
    """The Home Assistant entities an input reads (base topics): a sleep input's HRV and
    resting-HR entities first, then its own topic with the `ha_statestream` preset."""
    extras = (each.hrv_topic, each.resting_hr_topic) if isinstance(each, SleepInput) else ()
    own = (each.topic,) if each.preset == PRESET else ()
    return (*(t for t in extras if t is not None), *own)


def _read_from(each: ScaleInput | SleepInput) -> tuple[str, ...]:
    """The topics an input is read from, in the order the broker should replay them."""
    entities = entities_of(each)
    own = () if each.topic in entities else (each.topic,)
    return (*(t for e in entities for t in subtopics(e)), *own)
