"""The optional TOML file in the add-on's config folder, merged over what the options say.

Precedence, highest first: the file, the options, the Supervisor's MQTT service, restday's
defaults. Tables merge key by key (the file's `[mqtt]` with only `keepalive`-like keys keeps
the broker from the Supervisor); `[[athlete]]` tables merge by `id` over the option's runner of
that id (a new id adds a runner); the file's `[[scale]]` and `[[sleep]]` inputs come after the
options' ones; `[storage]` is the add-on's own (the store and the Strava tokens stay in /data,
which the Supervisor backs up), so the file may not set it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from restday.addon.options import OptionsError

ADDED_LISTS = ("scale", "sleep")
OWN_TABLES = ("storage",)
ATHLETE = "athlete"
NO_ID = (
    "an [athlete] table in the file needs the id of the runner it adds to (the options have "
    "%d runners)"
)


def read_user_file(path: Path | None) -> dict[str, Any]:
    """The file's tables ({} when there is no file); OptionsError naming the file otherwise."""
    if path is None or not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise OptionsError([f"{path}: not valid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise OptionsError([f"{path}: not UTF-8 text"]) from None
    except OSError as exc:
        raise OptionsError([f"{path}: cannot be read: {exc.strerror}"]) from None


def merged(tables: Mapping[str, Any], user: Mapping[str, Any], source: str) -> dict[str, Any]:
    """`user` (read from `source`) merged over `tables` as the module says."""
    errors = [
        f"{source}: [{key}] is the add-on's own (the store stays in /data): remove it"
        for key in OWN_TABLES
        if key in user
    ]
    result = dict(tables)
    for key, value in user.items():
        if key in OWN_TABLES:
            continue
        if key == ATHLETE:
            athletes, error = _athletes(tables.get(ATHLETE, []), value)
            result[ATHLETE] = athletes
            errors += [f"{source}: {error}"] if error else []
        elif key in ADDED_LISTS and isinstance(value, list):
            result[key] = [*tables.get(key, []), *value]
        else:
            result[key] = _over(tables.get(key), value)
    if errors:
        raise OptionsError(errors)
    return result


def _over(base: Any, value: Any) -> Any:
    """`value` over `base`: tables key by key, anything else replaced."""
    if not isinstance(base, Mapping) or not isinstance(value, Mapping):
        return value
    result = dict(base)
    for key, item in value.items():
        result[key] = _over(base.get(key), item)
    return result


def _athletes(base: list[dict[str, Any]], value: Any) -> tuple[list[Any], str | None]:
    """The options' runners with the file's merged over them by id, new ids added."""
    if isinstance(value, Mapping) and "id" not in value:  # one [athlete] table, no id
        if len(base) != 1:
            return base, NO_ID % len(base)
        value = {**value, "id": base[0].get("id", "me")}
    tables = [value] if isinstance(value, Mapping) else value
    if not isinstance(tables, list):
        return tables, None  # restday names what is wrong with it
    result = [dict(athlete) for athlete in base]
    positions = {athlete.get("id"): i for i, athlete in enumerate(result)}
    for table in tables:
        at = positions.get(table.get("id")) if isinstance(table, Mapping) else None
        if at is None:
            result.append(table)
        else:
            result[at] = _over(result[at], table)
    return result, None
