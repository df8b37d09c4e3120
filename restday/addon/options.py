"""The add-on's options (`/data/options.json`, as its `config.yaml` schema shapes them) and the
Supervisor's MQTT service, as the tables of a restday configuration.

The Supervisor's form nests at most two levels (a list of runners, each a flat set of
fields), so what restday writes as tables is flat here: an athlete's own Strava application is
`strava_client_id` / `strava_client_secret`, their rule overrides a line
`sleep_short.min_hours=7, acwr.enabled=false`, a shared scale's weight bands a line
`anna=52-64, ben=70-88`. Everything else restday knows goes in the TOML file (`merge`).

Errors name the option as the add-on's form shows it: `athletes[1].rules`, `scales[0].bands`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from restday.config import STORE_FILE_NAME

ATHLETE_KEYS = ("id", "name", "timezone", "max_hr", "resting_hr", "sex", "morning_report")
INPUT_KEYS = ("topic", "preset", "athlete")
SLEEP_KEYS = (*INPUT_KEYS, "hrv_topic", "resting_hr_topic")
MQTT_OPTION_KEYS = ("base_topic", "discovery_prefix")
STRAVA_OPTION_KEYS = ("client_id", "client_secret", "poll_minutes")
DEBUG = "debug"
ITEM_SEPARATORS = re.compile(r"[,;\n]")
RULE_ITEM = re.compile(r"(?P<rule>[A-Za-z0-9_]+)\.(?P<key>[A-Za-z0-9_]+)\s*=\s*(?P<value>.+)")
BAND_ITEM = re.compile(
    r"(?P<athlete>[A-Za-z0-9_]+)\s*[=:]\s*(?P<low>\d+(?:\.\d+)?)\s*[-–]\s*(?P<high>\d+(?:\.\d+)?)"
)
RULE_FORMAT = 'must be "rule.key=value" items such as "sleep_short.min_hours=7, acwr.enabled=false"'
RULE_VALUE = "the value must be a number or true/false"
BAND_FORMAT = 'must be "athlete=min-max" items in kg such as "anna=52-64, ben=70-88"'
SERVICE = "the Supervisor's MQTT service"


class OptionsError(Exception):
    """Options that cannot become a configuration; `errors` holds one sentence each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Translation:
    """What the options say: restday's tables, each athlete's pasted Strava code (not part of
    the configuration: it is used once), and whether restday logs at debug level."""

    tables: dict[str, Any]
    codes: dict[str, str] = field(default_factory=dict)
    debug: bool = False


def translate(
    options: Mapping[str, Any], service: Mapping[str, Any], data_dir: Path
) -> Translation:
    """`options` and the Supervisor's MQTT `service` (empty: none) as restday's tables, the store
    and the Strava tokens in `data_dir`; OptionsError naming each option that cannot be read."""
    errors: list[str] = []
    athletes: list[dict[str, Any]] = []
    codes: dict[str, str] = {}
    for index, option in enumerate(_items(options, "athletes", errors)):
        athletes.append(_athlete(option, f"athletes[{index}]", errors))
        code = _text(option.get("strava_code"))
        if code and isinstance(option.get("id"), str):
            codes[option["id"]] = code
    tables: dict[str, Any] = {
        "athlete": athletes,
        "storage": {"path": str(data_dir.absolute() / STORE_FILE_NAME)},
        "mqtt": {**broker(service), **_chosen(_table(options, "mqtt", errors), MQTT_OPTION_KEYS)},
        "strava": _chosen(_table(options, "strava", errors), STRAVA_OPTION_KEYS),
        "scale": [
            _scale(option, f"scales[{index}]", errors)
            for index, option in enumerate(_items(options, "scales", errors))
        ],
        "sleep": [_chosen(option, SLEEP_KEYS) for option in _items(options, "sleep", errors)],
    }
    rules = rule_tables(options.get("rules"), "rules", errors)
    if rules:
        tables["rules"] = rules
    if errors:
        raise OptionsError(errors)
    return Translation(tables, codes, options.get("log_level") == DEBUG)


def broker(service: Mapping[str, Any]) -> dict[str, Any]:
    """The Supervisor's MQTT service (`bashio::services mqtt`: host, port, username, password,
    ssl) as restday's `[mqtt]` keys; {} when the Supervisor offers no broker."""
    if not service.get("host"):
        return {}
    port = service.get("port")
    table: dict[str, Any] = {
        "host": str(service["host"]),
        "port": int(port) if isinstance(port, str) and port.strip().isdigit() else port,
        "username": _text(service.get("username")),
        "password": _text(service.get("password")),
        "tls": service.get("ssl") in (True, "true", "True"),
    }
    return {key: value for key, value in table.items() if value is not None}


def rule_tables(line: object, option: str, errors: list[str]) -> dict[str, dict[str, Any]]:
    """ "sleep_short.min_hours=7, acwr.enabled=false" as {rule: {key: value}}; whether the rule
    and key exist, and the value fits, is restday's to say."""
    tables: dict[str, dict[str, Any]] = {}
    for item in _line_items(line, option, errors):
        match = RULE_ITEM.fullmatch(item)
        if match is None:
            errors.append(f'{option}: "{item}" {RULE_FORMAT}')
            continue
        try:
            value = tomllib.loads(f"value = {match['value'].strip()}")["value"]
        except tomllib.TOMLDecodeError:
            value = None
        if isinstance(value, str) or value is None:
            errors.append(f'{option}: "{item}": {RULE_VALUE}')
            continue
        tables.setdefault(match["rule"], {})[match["key"]] = value
    return tables


def weight_bands(line: object, option: str, errors: list[str]) -> dict[str, list[float]]:
    """ "anna=52-64, ben=70-88" as {athlete: [min_kg, max_kg]}."""
    bands: dict[str, list[float]] = {}
    for item in _line_items(line, option, errors):
        match = BAND_ITEM.fullmatch(item)
        if match is None:
            errors.append(f'{option}: "{item}" {BAND_FORMAT}')
            continue
        bands[match["athlete"]] = [float(match["low"]), float(match["high"])]
    return bands


def _athlete(option: Mapping[str, Any], where: str, errors: list[str]) -> dict[str, Any]:
    table = _chosen(option, ATHLETE_KEYS)
    client_id = _text(option.get("strava_client_id"))
    secret = _text(option.get("strava_client_secret"))
    if client_id or secret:
        table["strava"] = {"client_id": client_id or "", "client_secret": secret or ""}
    rules = rule_tables(option.get("rules"), f"{where}.rules", errors)
    if rules:
        table["rules"] = rules
    return table


def _scale(option: Mapping[str, Any], where: str, errors: list[str]) -> dict[str, Any]:
    table = _chosen(option, INPUT_KEYS)
    bands = weight_bands(option.get("bands"), f"{where}.bands", errors)
    if bands:
        table["assign"] = bands
    return table


def _chosen(option: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The keys of `option` that are set (an emptied text field means unset)."""
    return {key: option[key] for key in keys if option.get(key) not in (None, "")}


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _items(options: Mapping[str, Any], key: str, errors: list[str]) -> list[Mapping[str, Any]]:
    value = options.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        errors.append(f"{key}: must be a list of entries")
        return []
    return value


def _table(options: Mapping[str, Any], key: str, errors: list[str]) -> Mapping[str, Any]:
    value = options.get(key) or {}
    if not isinstance(value, Mapping):
        errors.append(f"{key}: must be a group of fields")
        return {}
    return value


def _line_items(line: object, option: str, errors: list[str]) -> list[str]:
    if line is None:
        return []
    if not isinstance(line, str):
        errors.append(f"{option}: must be text")
        return []
    return [item.strip() for item in ITEM_SEPARATORS.split(line) if item.strip()]
