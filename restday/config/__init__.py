"""The configuration (DESIGN.md §4): one validated, frozen model from TOML and the environment.

`resolve_config_path` finds the file, `load_config` reads it with pydantic-settings'
`TomlConfigSettingsSource`, lets `RESTDAY_SECTION__KEY` environment variables override any key,
and turns every problem into one plain sentence naming the key as a path (`mqtt.port`,
`scale[0].preset`, `rules.sleep_short.min_hours`), collected in `ConfigError`. Secrets are
`SecretStr`: never echoed in errors, masked in `Config.masked()`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import platformdirs
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from restday.config.errors import ENV_NESTED_DELIMITER, ENV_PREFIX, sentence
from restday.config.sections import (
    MASK,
    MAX_PORT,
    STRAVA_NOT_CONFIGURED,
    AthleteConfig,
    MqttConfig,
    ScaleInput,
    ScalePreset,
    ScheduleConfig,
    SleepInput,
    SleepPreset,
    StorageConfig,
    StravaConfig,
)
from restday.config.timezones import host_timezone, is_timezone
from restday.rules.settings import DecisionConfig, Profile, RulesConfig

APP_NAME = "restday"
CONFIG_FILE_NAME = "restday.toml"
STORE_FILE_NAME = "restday.db"
TOKEN_FILE_NAME = "strava-token.json"  # noqa: S105 -- a file name, not a password
CONFIG_PATH_ENV = "RESTDAY_CONFIG"
STATE_DIRECTORY_ENV = "STATE_DIRECTORY"  # set by systemd's StateDirectory=, ":"-separated

_config_file: ContextVar[Path | None] = ContextVar("restday_config_file", default=None)


class ConfigError(Exception):
    """The configuration is unusable; `errors` holds one sentence per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


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


__all__ = [
    "MASK",
    "MAX_PORT",
    "SECRET_KEYS",
    "STRAVA_NOT_CONFIGURED",
    "AthleteConfig",
    "Config",
    "ConfigError",
    "MqttConfig",
    "ScaleInput",
    "ScalePreset",
    "ScheduleConfig",
    "SleepInput",
    "SleepPreset",
    "StorageConfig",
    "StravaConfig",
    "host_timezone",
    "is_timezone",
    "load_config",
    "resolve_config_path",
]
