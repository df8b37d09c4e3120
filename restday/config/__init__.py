"""The configuration (DESIGN.md §4): one validated, frozen model from TOML and the environment.

`resolve_config_path` finds the file, `load_config` reads it with pydantic-settings'
`TomlConfigSettingsSource`, lets `RESTDAY_SECTION__KEY` environment variables override any key,
and turns every problem into one plain sentence naming the key as a path (`mqtt.port`,
`scale[0].preset`, `rules.sleep_short.min_hours`), collected in `ConfigError`. Secrets are
`SecretStr`: never echoed in errors, masked in `Config.masked()`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from restday.config.errors import ENV_NESTED_DELIMITER, ENV_PREFIX, sentence
from restday.rules.settings import DecisionConfig, Profile, RulesConfig, Sex

APP_NAME = "restday"
CONFIG_FILE_NAME = "restday.toml"
STORE_FILE_NAME = "restday.db"
TOKEN_FILE_NAME = "strava-token.json"  # noqa: S105 -- a file name, not a password
CONFIG_PATH_ENV = "RESTDAY_CONFIG"
STATE_DIRECTORY_ENV = "STATE_DIRECTORY"  # set by systemd's StateDirectory=, ":"-separated
LOCALTIME_PATH = Path("/etc/localtime")
FALLBACK_TIMEZONE = "UTC"
MASK = "********"

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
URL_SCHEMES = ("http", "https")
STRAVA_NOT_CONFIGURED = (  # one sentence for the CLI's error, the service's log, the client's
    "Strava is not configured: set strava.client_id and strava.client_secret (from your API "
    "application at https://www.strava.com/settings/api)"
)

_config_file: ContextVar[Path | None] = ContextVar("restday_config_file", default=None)


class ConfigError(Exception):
    """The configuration is unusable; `errors` holds one sentence per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


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


def is_timezone(name: str) -> bool:
    """Whether `name` is an IANA time zone name that zoneinfo knows."""
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _zone_name(text: str) -> str | None:
    _, marker, tail = text.rpartition("zoneinfo/")
    name = tail if marker else text
    for variant in ("posix/", "right/"):
        name = name.removeprefix(variant)
    return name if is_timezone(name) else None


def host_timezone() -> str:
    """The host's zone: $TZ if it names one, else the /etc/localtime link's target, else UTC."""
    from_env = _zone_name(os.environ.get("TZ", "").removeprefix(":"))
    if from_env:
        return from_env
    if LOCALTIME_PATH.is_symlink():
        from_link = _zone_name(str(LOCALTIME_PATH.resolve()))
        if from_link:
            return from_link
    return FALLBACK_TIMEZONE


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


class AthleteConfig(_Section):
    id: Slug = "me"
    name: str = "Me"
    timezone: TimezoneName = Field(default_factory=host_timezone)
    max_hr: int | None = Field(None, ge=MIN_MAX_HR_BPM, le=MAX_MAX_HR_BPM)
    resting_hr: int | None = Field(None, ge=MIN_RESTING_HR_BPM, le=MAX_RESTING_HR_BPM)
    sex: Sex | None = None

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


class SleepPreset(StrEnum):
    GENERIC = "generic"
    SLEEP_AS_ANDROID = "sleep_as_android"


class ScaleInput(_Section):
    topic: Topic
    preset: ScalePreset = ScalePreset.GENERIC


class SleepInput(_Section):
    topic: Topic
    preset: SleepPreset = SleepPreset.GENERIC


class Config(BaseSettings):
    """The whole configuration; `load_config` builds it, everything else reads it."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
    )

    athlete: AthleteConfig = Field(default_factory=AthleteConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    strava: StravaConfig = Field(default_factory=StravaConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    scale: list[ScaleInput] = Field(default_factory=list)
    sleep: list[SleepInput] = Field(default_factory=list)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    decision: DecisionConfig = Field(default_factory=DecisionConfig)

    _config_path: Path | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments beat the environment, which beats the file `load_config` is reading."""
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file.get())
        return init_settings, env_settings, toml

    @property
    def config_path(self) -> Path | None:
        """The file this configuration was read from (None: defaults and environment)."""
        return self._config_path

    def profile(self) -> Profile:
        return Profile(
            timezone=ZoneInfo(self.athlete.timezone),
            max_hr=self.athlete.max_hr,
            resting_hr=self.athlete.resting_hr,
            sex=self.athlete.sex,
            has_scale=bool(self.scale),
            has_sleep=bool(self.sleep),
        )

    def store_path(self) -> Path:
        """The SQLite file: `storage.path`, or $STATE_DIRECTORY, or the platform data dir."""
        state_dir = _state_directory()
        if not self.storage.path:
            base = state_dir or Path(platformdirs.user_data_dir(APP_NAME))
            return base / STORE_FILE_NAME
        path = Path(self.storage.path).expanduser()
        if path.is_absolute():
            return path
        if state_dir:
            return state_dir / path
        if self._config_path is not None:
            return self._config_path.absolute().parent / path
        return Path.cwd() / path

    def token_path(self) -> Path:
        return self.store_path().parent / TOKEN_FILE_NAME

    def morning_report_time(self) -> time:
        return time.fromisoformat(self.schedule.morning_report)

    def masked(self) -> dict[str, Any]:
        """The resolved configuration as plain data, secrets shown as "********" when set."""
        return self.model_dump(mode="json")


def _state_directory() -> Path | None:
    first = os.environ.get(STATE_DIRECTORY_ENV, "").split(":")[0]
    return Path(first) if first else None


def resolve_config_path(cli_path: str | None) -> tuple[Path | None, bool]:
    """The file to read and whether it was named (`--config`, $RESTDAY_CONFIG) or found."""
    if cli_path is not None:
        return Path(cli_path).expanduser(), True
    from_env = os.environ.get(CONFIG_PATH_ENV)
    if from_env:
        return Path(from_env).expanduser(), True
    for folder in (Path.cwd(), Path(platformdirs.user_config_dir(APP_NAME))):
        candidate = folder / CONFIG_FILE_NAME
        if candidate.exists():
            return candidate, False
    return None, False


def load_config(path: Path | None, *, explicit: bool = False) -> Config:
    """Read `path` (None: defaults) under the environment's overrides, or raise ConfigError."""
    if path is not None and not path.exists():
        if explicit:
            raise ConfigError([f"config file {path} not found"])
        path = None
    if path is not None and path.is_dir():
        raise ConfigError([f"config file {path} is a directory, not a file"])
    token = _config_file.set(path)
    try:
        config = Config()
    except ValidationError as exc:
        raise ConfigError([sentence(e, SECRET_KEYS) for e in exc.errors()]) from None
    except SettingsError as exc:  # a RESTDAY_<SECTION> variable that is not valid JSON
        raise ConfigError([f"environment: {exc} (tables and lists need JSON)"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"config file {path} is not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"config file {path} is not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"config file {path} cannot be read: {exc.strerror}"]) from None
    finally:
        _config_file.reset(token)
    config._config_path = path
    return config


def _secret_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        if field.annotation is SecretStr:
            yield prefix + name
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from _secret_keys(field.annotation, f"{prefix}{name}.")


SECRET_KEYS = frozenset(_secret_keys(Config))
