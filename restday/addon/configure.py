"""Options + the Supervisor's MQTT service (+ the optional TOML file) → restday's config file.

`configure` writes the configuration to /data privately (mode 0600: it holds the broker's
password and the Strava secrets), loads it with restday's own `load_config`, and only then puts
it in place; a problem is one sentence naming where to fix it: the option as the add-on's form
shows it (`athletes[0].max_hr: must be at most 240 (got 250)`), the Supervisor's MQTT service,
or the TOML file and its key.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from restday.addon.merge import merged, read_user_file
from restday.addon.options import SERVICE, OptionsError, Translation, translate
from restday.addon.toml_text import toml_text
from restday.config import Config, ConfigError, load_config

PRIVATE_FILE = 0o600
HEADER = (
    "# Written by restday's Home Assistant add-on at every start, from its options, the\n"
    "# Supervisor's MQTT service and restday.toml in its config folder: edit those instead.\n\n"
)
NO_BROKER = (
    "no MQTT broker: the Supervisor offers none (install and start the Mosquitto broker "
    "add-on, or another add-on that provides MQTT), and {file} sets no [mqtt] host"
)
ERROR_LINE = re.compile(r"(?P<key>[^:\s]+): (?P<text>.*)", re.DOTALL)
INDEXED = re.compile(r"(?P<list>scale|sleep)\[(?P<index>\d+)\]")
ATHLETE_INDEX = re.compile(r"athlete\[(?P<index>\d+)\]")
# restday's key → the option it came from, first match wins ("\g<n>" keeps the index)
OPTION_NAMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"athlete(\[\d+\])?\.strava\.(client_id|client_secret)", r"athletes\g<1>.strava_\g<2>"),
        (r"athlete(\[\d+\])?\.rules\.(.+)", r"athletes\g<1>.rules: \g<2>"),
        (r"athlete(\[\d+\])?\.rules", r"athletes\g<1>.rules"),
        (r"athlete(.*)", r"athletes\g<1>"),
        (r"scale(\[\d+\])\.assign.*", r"scales\g<1>.bands"),
        (r"scale(.*)", r"scales\g<1>"),
        (r"mqtt\.(host|port|username|password|tls)", SERVICE + r" (\g<1>)"),
        (r"rules\.(.+)", r"rules: \g<1>"),
    )
)
TOML_WORDS = (('athlete = "<id>"', "its athlete"), ("[scale.assign] table", "bands"))


class AddonConfigError(Exception):
    """The add-on cannot configure restday; `errors` holds one sentence per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Configured:
    """The configuration written and loaded, and what else the options said."""

    config: Config
    path: Path
    translation: Translation
    user_file: Path | None


def configure(
    options: Mapping[str, Any],
    service: Mapping[str, Any],
    *,
    data_dir: Path,
    target: Path,
    user_file: Path | None = None,
) -> Configured:
    """Write restday's config to `target` (in `data_dir`, mode 0600) from `options`, the MQTT
    `service` and `user_file` (if it exists), loaded by restday itself; AddonConfigError
    naming the options, the service or the file's keys otherwise."""
    try:
        translation = translate(options, service, data_dir)
        user = read_user_file(user_file)
        source = str(user_file)
        tables = merged(translation.tables, user, source) if user else translation.tables
    except OptionsError as exc:
        raise AddonConfigError(exc.errors) from None
    if not tables.get("mqtt", {}).get("host"):
        raise AddonConfigError([NO_BROKER.format(file=user_file or "the add-on's TOML file")])
    try:
        config = _load(HEADER + toml_text(tables), target)
    except ConfigError as exc:
        errors = _attributed(exc, translation, tables, user, source, target)
        raise AddonConfigError(errors) from None
    return Configured(config, target, translation, user_file if user else None)


def _load(text: str, target: Path, *, keep: bool = True) -> Config:
    """Load `text` as restday would, from a private file beside `target`; move it there once it
    loads (`keep`), else remove it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        config = load_config(temp, explicit=True)
        if keep:
            os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    config._config_path = target  # read from the temp file, which is now `target`
    return config


def _attributed(
    exc: ConfigError,
    translation: Translation,
    tables: Mapping[str, Any],
    user: Mapping[str, Any],
    source: str,
    target: Path,
) -> list[str]:
    """The errors as the add-on's user can act on them: named by option, unless the options
    alone load and the TOML file is what broke them."""
    if user:
        try:
            _load(toml_text(translation.tables), target, keep=False)
        except ConfigError as options_exc:
            exc = options_exc
        else:
            return [_in_file(error, translation.tables, tables, source) for error in exc.errors]
    return [option_error(error) for error in exc.errors]


def option_error(error: str) -> str:
    """restday's "athlete[0].max_hr: must be …" as "athletes[0].max_hr: must be …"."""
    match = ERROR_LINE.fullmatch(error)
    if match is None:
        return error
    text = match["text"]
    for toml_words, option_words in TOML_WORDS:
        text = text.replace(toml_words, option_words)
    for pattern, name in OPTION_NAMES:
        key = pattern.fullmatch(match["key"])
        if key is not None:
            return f"{key.expand(name)}: {text}"
    return f"{match['key']}: {text}"


def _in_file(error: str, options: Mapping[str, Any], tables: Mapping[str, Any], source: str) -> str:
    """An error that the file brought about, where to find it: the file's own input (its
    inputs come after the options', and are counted here as the file counts them), the
    runner of that id, or an option that the file's keys no longer fit."""
    key, colon, text = error.partition(": ")
    indexed = INDEXED.match(key)
    if indexed is not None:
        index = int(indexed["index"]) - len(options.get(indexed["list"], []))
        if index < 0:
            return f"{option_error(error)} (with {source} merged over the options)"
        key = f"{indexed['list']}[{index}]{key[indexed.end() :]}"
    athlete = ATHLETE_INDEX.match(key)
    if athlete is not None:
        athletes = tables.get("athlete", [])
        index = int(athlete["index"])
        if index < len(athletes) and isinstance(athletes[index], Mapping):
            key = f'{key} (athlete "{athletes[index].get("id")}")'
    return f"{source} (merged over the options): {key}{colon}{text}"
