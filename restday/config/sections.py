"""The sections of the configuration (DESIGN.md §4, §7): one frozen model per table, with the
bounds and checks that give each key its one-sentence error. The two tables keyed by the
user's own names (`[athlete.rules]`, `[scale.assign]`) are `keyed`'s."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from enum import StrEnum
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from restday.config.errors import problem, reject
from restday.config.keyed import RuleOverrides, WeightBands
from restday.config.timezones import host_timezone, is_timezone
from restday.integrations.ha_statestream import PARTS
from restday.rules.settings import Sex

MASK = "********"  # what a secret shows as
MIN_PORT = 1
MAX_PORT = 65535
MIN_POLL_MINUTES = 5  # Strava allows 100 calls per 15 min and 1,000 a day
MIN_BACKFILL_DAYS = 1
MIN_MAX_HR_BPM = 100
MAX_MAX_HR_BPM = 240
MIN_RESTING_HR_BPM = 25
MAX_RESTING_HR_BPM = 120

ATHLETE_ID = re.compile(r"[a-z0-9_]+")
CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")  # "HH:MM", 24 h
TOPIC_WILDCARDS = ("+", "#")
FIRST_PRINTABLE = 0x20  # characters below this (and DEL) have no place in a topic
DELETE = 0x7F
MAX_TOPIC_BYTES = 1024  # far below MQTT's 65,535; a longer topic is a mistake
ENTITY_SUBTOPICS = (*PARTS, "last_updated")  # what mqtt_statestream adds to an entity's topic
ENTITY_LEVELS = 3  # <base_topic>/<domain>/<object_id>
ENTITY_TOPIC_SHAPE = (
    "<base_topic>/<domain>/<object_id> (mqtt_statestream's), such as "
    "homeassistant_statestream/sensor/anna_weight"
)
URL_SCHEMES = ("http", "https")
OWN_APP_NEEDS = "is required with %s: an athlete's own Strava application needs both"
STRAVA_NOT_CONFIGURED = (  # one sentence for the CLI's error, the service's log, the client's
    "Strava is not configured: set strava.client_id and strava.client_secret (from your API "
    "application at https://www.strava.com/settings/api)"
)


def _mask(secret: SecretStr) -> str:
    return MASK if secret.get_secret_value() else ""


def _check_topic(topic: str) -> str:
    if not topic:
        raise ValueError("must not be empty")
    if any(wildcard in topic for wildcard in TOPIC_WILDCARDS):
        raise ValueError("must be one plain topic, without the wildcards + and #")
    if any(ord(char) < FIRST_PRINTABLE or ord(char) == DELETE for char in topic):
        raise ValueError("must not contain control characters (a NUL, a tab, a newline …)")
    if topic != topic.strip():
        raise ValueError("must not start or end with a space")
    if topic.startswith("/") or topic.endswith("/") or "//" in topic:
        raise ValueError("must not start or end with /, nor have an empty level (//)")
    if topic.startswith("$"):
        raise ValueError("must not start with $ (reserved for the broker, as in $SYS)")
    if len(topic.encode()) > MAX_TOPIC_BYTES:
        raise ValueError(f"must be at most {MAX_TOPIC_BYTES} bytes")
    return topic


def _must(test: Callable[[str], object], message: str) -> AfterValidator:
    """A validator that refuses a string for which `test` is falsy, with `message`."""

    def check(value: str) -> str:
        if not test(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _toml_time_as_text(value: object) -> object:
    if isinstance(value, time) and not value.second and not value.microsecond:
        return value.strftime("%H:%M")  # TOML's bare local time, 06:30:00
    return value


def _int_as_text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in URL_SCHEMES or not parts.netloc or value != value.strip():
        raise ValueError("must be an http:// or https:// URL such as https://www.strava.com")
    if parts.query or parts.fragment:
        raise ValueError("must not have a ?query or #fragment")
    return value.rstrip("/")


Secret = Annotated[SecretStr, PlainSerializer(_mask, return_type=str, when_used="json")]
Topic = Annotated[str, AfterValidator(_check_topic)]
NonEmpty = Annotated[str, _must(bool, "must not be empty")]
Slug = Annotated[
    str,
    _must(
        ATHLETE_ID.fullmatch,
        "must be lowercase letters, digits and _ only (it is part of MQTT topics and entity ids)",
    ),
]
TimezoneName = Annotated[
    str, _must(is_timezone, "must be an IANA time zone name such as Europe/Berlin")
]
ClockTime = Annotated[
    str,
    BeforeValidator(_toml_time_as_text),
    _must(CLOCK_TIME.fullmatch, 'must be a 24-hour time "HH:MM" such as "06:30"'),
]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
NumberOrText = Annotated[str, BeforeValidator(_int_as_text)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AthleteStrava(_Section):
    """`[athlete.strava]`: this athlete's own Strava API application, or none (both empty).

    New Strava applications accept one athlete until Strava reviews them, so each runner may
    bring their own; `poll_minutes`, `backfill_days` and `api_url` stay shared in `[strava]`.
    """

    client_id: NumberOrText = ""
    client_secret: Secret = SecretStr("")

    @property
    def configured(self) -> bool:
        return bool(self.client_id)

    @model_validator(mode="after")
    def _both_or_neither(self) -> Self:
        has_id, has_secret = bool(self.client_id), bool(self.client_secret.get_secret_value())
        if has_id and not has_secret:
            reject(type(self), [problem(("client_secret",), OWN_APP_NEEDS % "client_id")])
        if has_secret and not has_id:
            reject(type(self), [problem(("client_id",), OWN_APP_NEEDS % "client_secret")])
        return self


class AthleteConfig(_Section):
    """One `[athlete]` (or one of several `[[athlete]]`): who, where, and what is their own."""

    id: Slug = "me"
    name: str = "Me"
    timezone: TimezoneName = Field(default_factory=host_timezone)
    max_hr: int | None = Field(None, ge=MIN_MAX_HR_BPM, le=MAX_MAX_HR_BPM)
    resting_hr: int | None = Field(None, ge=MIN_RESTING_HR_BPM, le=MAX_RESTING_HR_BPM)
    sex: Sex | None = None
    morning_report: ClockTime | None = None  # None: the shared [schedule] morning_report
    strava: AthleteStrava = Field(default_factory=AthleteStrava)
    rules: RuleOverrides = Field(default_factory=RuleOverrides)

    @field_validator("resting_hr")
    @classmethod
    def _below_max(cls, value: int | None, info: ValidationInfo) -> int | None:
        max_hr = info.data.get("max_hr")
        if value is not None and max_hr is not None and value >= max_hr:
            raise ValueError(f"must be below athlete.max_hr ({max_hr})")
        return value


class StorageConfig(_Section):
    path: str = ""


class MqttConfig(_Section):
    host: NonEmpty = "localhost"
    port: int = Field(1883, ge=MIN_PORT, le=MAX_PORT)
    username: str = ""
    password: Secret = SecretStr("")
    tls: bool = False
    client_id: NonEmpty = "restday"
    base_topic: Topic = "restday"
    discovery_prefix: Topic = "homeassistant"


class StravaConfig(_Section):
    client_id: NumberOrText = ""
    client_secret: Secret = SecretStr("")
    poll_minutes: int = Field(15, ge=MIN_POLL_MINUTES)
    backfill_days: int = Field(120, ge=MIN_BACKFILL_DAYS)
    api_url: HttpUrl = "https://www.strava.com"


class ScheduleConfig(_Section):
    morning_report: ClockTime = "06:30"


class ScalePreset(StrEnum):
    GENERIC = "generic"
    XIAOMI_MI_SCALE = "xiaomi_mi_scale"
    OPENSCALE = "openscale"
    HA_STATESTREAM = "ha_statestream"


class SleepPreset(StrEnum):
    GENERIC = "generic"
    SLEEP_AS_ANDROID = "sleep_as_android"
    HA_STATESTREAM = "ha_statestream"


def _entity_topic(topic: str) -> str | None:
    """Why `topic` is not a Home Assistant entity's base topic under mqtt_statestream's
    base_topic (`<base_topic>/<domain>/<object_id>`), or None if it is one."""
    levels = topic.split("/")
    if levels[-1] in ENTITY_SUBTOPICS:
        return f"must be the entity's base topic, without /{levels[-1]}"
    if len(levels) < ENTITY_LEVELS:
        return f"must be a Home Assistant entity's topic {ENTITY_TOPIC_SHAPE}"
    return None


class ScaleInput(_Section):
    """A `[[scale]]`: its weigh-ins go to `athlete`, or by weight to one of `assign`'s bands;
    with a single athlete configured, to that athlete (`Config.scale_athletes`). With the
    `ha_statestream` preset, `topic` is an entity's base topic."""

    topic: Topic
    preset: ScalePreset = ScalePreset.GENERIC
    athlete: Slug | None = None
    assign: WeightBands = Field(default_factory=WeightBands)

    @model_validator(mode="after")
    def _entity(self) -> Self:
        why = _entity_topic(self.topic) if self.preset == ScalePreset.HA_STATESTREAM else None
        if why is not None:
            reject(type(self), [problem(("topic",), why, self.topic)])
        return self


class SleepInput(_Section):
    """A `[[sleep]]`: its nights are `athlete`'s (required with several athletes). With the
    `ha_statestream` preset, `topic` is an entity's base topic; with any preset, the nights
    may take their HRV and resting heart rate from entities (`hrv_topic`, `resting_hr_topic`,
    their base topics)."""

    topic: Topic
    preset: SleepPreset = SleepPreset.GENERIC
    athlete: Slug | None = None
    hrv_topic: Topic | None = None
    resting_hr_topic: Topic | None = None

    @model_validator(mode="after")
    def _entities(self) -> Self:
        errors: list[InitErrorDetails] = []
        if self.preset == SleepPreset.HA_STATESTREAM and (why := _entity_topic(self.topic)):
            errors.append(problem(("topic",), why, self.topic))
        seen = {self.topic: "topic"}
        for key in ("hrv_topic", "resting_hr_topic"):
            topic = getattr(self, key)
            if topic is None:
                continue
            if (why := _entity_topic(topic)) is not None:
                errors.append(problem((key,), why, topic))
            elif topic in seen:
                errors.append(problem((key,), f"must not be the same topic as {seen[topic]}"))
            seen.setdefault(topic, key)
        reject(type(self), errors)
        return self
