"""The configuration (DESIGN.md §4): one validated, frozen model from TOML and the environment.

`resolve_config_path` finds the file, `load_config` reads it with pydantic-settings'
`TomlConfigSettingsSource`, lets `RESTDAY_SECTION__KEY` environment variables override any key,
and turns every problem into one plain sentence naming the key as a path (`mqtt.port`,
`scale[0].preset`, `rules.sleep_short.min_hours`), collected in `ConfigError`. Secrets are
`SecretStr`: never echoed in errors, masked in `Config.masked()`.

A household (DESIGN.md §7) writes `[[athlete]]` tables instead of the one `[athlete]`:
`Config.athletes` holds them all, `Config.athlete` the first, and the per-athlete accessors
(`profile`, `rules_for`, `morning_report_time`, `strava_for`, `token_path`) take an athlete id,
None meaning the first athlete, so single-athlete callers stay as they are.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import time
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo

import platformdirs
from pydantic import (
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SecretStr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from restday.config.errors import (
    ENV_NESTED_DELIMITER,
    ENV_PREFIX,
    UnknownAthleteError,
    moved,
    reject,
    sentence,
)
from restday.config.household import ATHLETE_KEY, check_household, read_athletes
from restday.config.keyed import RuleOverrides, WeightBand, WeightBands
from restday.config.sections import (
    MASK,
    MAX_PORT,
    STRAVA_NOT_CONFIGURED,
    AthleteConfig,
    AthleteStrava,
    MqttConfig,
    ScaleInput,
    ScalePreset,
    ScheduleConfig,
    SleepInput,
    SleepPreset,
    StorageConfig,
    StravaConfig,
)
from restday.config.sources import SingleAthleteEnvironment
from restday.config.timezones import host_timezone, is_timezone
from restday.rules.settings import DecisionConfig, Profile, RulesConfig

APP_NAME = "restday"
CONFIG_FILE_NAME = "restday.toml"
STORE_FILE_NAME = "restday.db"
TOKEN_FILE_NAME = "strava-token.json"  # noqa: S105 -- a file name, not a password
ATHLETE_TOKEN_FILE_NAME = "strava-token-{id}.json"  # noqa: S105 -- one per athlete, several
CONFIG_PATH_ENV = "RESTDAY_CONFIG"
STATE_DIRECTORY_ENV = "STATE_DIRECTORY"  # set by systemd's StateDirectory=, ":"-separated

_config_file: ContextVar[Path | None] = ContextVar("restday_config_file", default=None)
_handling: ContextVar[bool] = ContextVar("restday_config_household", default=False)


class ConfigError(Exception):
    """The configuration is unusable; `errors` holds one sentence per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


_ATHLETE_LIST = TypeAdapter(list[AthleteConfig])


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
    _athletes: tuple[AthleteConfig, ...] = PrivateAttr(default=())
    _rules: dict[str, RulesConfig] = PrivateAttr(default_factory=dict)  # athletes' own only

    @model_validator(mode="wrap")
    @classmethod
    def _household(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """`athlete` as one table or a list of them; then what spans sections (ids, inputs,
        each athlete's rules over the shared ones), every problem at its own key."""
        if _handling.get():  # Config.__init__ run again by `handler` (model_validate does)
            return handler(data)
        listed = isinstance(data, dict) and isinstance(data.get(ATHLETE_KEY), list | tuple)
        token = _handling.set(True)
        try:
            if not listed:
                config = handler(data)
                athletes: tuple[AthleteConfig, ...] = (config.athlete,)
            else:  # [[athlete]]: validated here, the first one passed on as `athlete`
                athletes, errors = read_athletes(data[ATHLETE_KEY])
                rest = {key: value for key, value in data.items() if key != ATHLETE_KEY}
                try:
                    config = handler({**rest, ATHLETE_KEY: athletes[0]} if athletes else rest)
                except ValidationError as exc:  # reported with the athletes', in key order
                    reject(cls, [*errors, *(moved(e, e["loc"]) for e in exc.errors())])
                    raise
                reject(cls, errors)
        finally:
            _handling.reset(token)
        rules, errors = check_household(athletes, listed, config.scale, config.sleep, config.rules)
        reject(cls, errors)
        config._athletes = athletes
        config._rules = rules
        return config

    @model_serializer(mode="wrap")
    def _athletes_listed(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        """`athlete` dumps as one table for one athlete, as a list of tables for several."""
        data = handler(self)
        if len(self.athletes) > 1 and isinstance(data, dict) and ATHLETE_KEY in data:
            data[ATHLETE_KEY] = _ATHLETE_LIST.dump_python(
                list(self.athletes),
                mode="json" if info.mode_is_json() else "python",
                by_alias=info.by_alias,
                exclude_unset=info.exclude_unset,
                exclude_defaults=info.exclude_defaults,
                exclude_none=info.exclude_none,
            )
        return data

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
        return init_settings, SingleAthleteEnvironment(settings_cls, env_settings, toml), toml

    @property
    def config_path(self) -> Path | None:
        """The file this configuration was read from (None: defaults and environment)."""
        return self._config_path

    # --- the athletes ----------------------------------------------------------------------

    @property
    def athletes(self) -> tuple[AthleteConfig, ...]:
        """Every athlete, in the order written; never empty (`athlete` is the first)."""
        if self._athletes and self._athletes[0] is self.athlete:
            return self._athletes
        return (self.athlete,)  # not validated as a whole (model_construct, model_copy)

    def athlete_ids(self) -> tuple[str, ...]:
        return tuple(athlete.id for athlete in self.athletes)

    def athlete_config(self, athlete_id: str | None = None) -> AthleteConfig:
        """The athlete of that id (None: the first), or UnknownAthleteError naming the ids."""
        if athlete_id is None:
            return self.athletes[0]
        for athlete in self.athletes:
            if athlete.id == athlete_id:
                return athlete
        raise UnknownAthleteError(athlete_id, self.athlete_ids())

    def scale_athletes(self, scale: ScaleInput) -> tuple[str, ...]:
        """The athletes `scale` gives weigh-ins to: its `athlete`, its `[scale.assign]` bands'
        athletes, or with a single athlete configured, that one."""
        if scale.athlete is not None:
            return (scale.athlete,)
        bands = scale.assign.bands()
        return tuple(bands) if bands else self.athlete_ids()[:1]

    def sleep_athlete(self, sleep: SleepInput) -> str:
        """Whose nights `sleep` reports: its `athlete`, else the only athlete."""
        return sleep.athlete if sleep.athlete is not None else self.athletes[0].id

    def profile(self, athlete_id: str | None = None) -> Profile:
        """What the rules know of the athlete (None: the first), with the inputs that reach
        them."""
        athlete = self.athlete_config(athlete_id)
        return Profile(
            timezone=ZoneInfo(athlete.timezone),
            max_hr=athlete.max_hr,
            resting_hr=athlete.resting_hr,
            sex=athlete.sex,
            has_scale=any(athlete.id in self.scale_athletes(scale) for scale in self.scale),
            has_sleep=any(self.sleep_athlete(sleep) == athlete.id for sleep in self.sleep),
        )

    def rules_for(self, athlete_id: str | None = None) -> RulesConfig:
        """The thresholds for the athlete: `[athlete.rules.<id>]` merged over `[rules.<id>]`."""
        athlete = self.athlete_config(athlete_id)
        return self._rules.get(athlete.id, self.rules)

    def morning_report_time(self, athlete_id: str | None = None) -> time:
        """The athlete's local time of the morning report: theirs, else `[schedule]`'s."""
        athlete = self.athlete_config(athlete_id)
        return time.fromisoformat(athlete.morning_report or self.schedule.morning_report)

    def strava_for(self, athlete_id: str | None = None) -> StravaConfig:
        """`[strava]` with the athlete's own application (`[athlete.strava]`) if they have one."""
        own = self.athlete_config(athlete_id).strava
        if not own.configured:
            return self.strava
        return self.strava.model_copy(
            update={"client_id": own.client_id, "client_secret": own.client_secret}
        )

    # --- files -----------------------------------------------------------------------------

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

    def token_path(self, athlete_id: str | None = None) -> Path:
        """The athlete's Strava token beside the store: `strava-token.json` with one athlete,
        `strava-token-<id>.json` with several (None: the first athlete)."""
        athlete = self.athlete_config(athlete_id)
        if len(self.athletes) == 1:
            return self.store_path().parent / TOKEN_FILE_NAME
        return self.store_path().parent / ATHLETE_TOKEN_FILE_NAME.format(id=athlete.id)

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
    "AthleteStrava",
    "Config",
    "ConfigError",
    "MqttConfig",
    "RuleOverrides",
    "ScaleInput",
    "ScalePreset",
    "ScheduleConfig",
    "SleepInput",
    "SleepPreset",
    "StorageConfig",
    "StravaConfig",
    "UnknownAthleteError",
    "WeightBand",
    "WeightBands",
    "host_timezone",
    "is_timezone",
    "load_config",
    "resolve_config_path",
]
