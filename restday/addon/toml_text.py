"""Plain data as TOML text, for the configuration the add-on writes (no TOML writer is among
restday's dependencies, and the data is small: tables, arrays of tables, scalars, lists).

`toml_text` reads its result back with `tomllib` and refuses to return text that does not
load as exactly the data it was given (None values are left out: TOML has no null), so a
value it cannot write is an error here, not a surprise in `restday run`.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_text(data: Mapping[str, Any]) -> str:
    """`data` as a TOML document; ValueError for what TOML cannot hold as given."""
    clean = _without_none(data)
    lines: list[str] = []
    _body((), clean, lines)
    text = "\n".join(lines).lstrip("\n") + "\n"
    if tomllib.loads(text) != clean:
        raise ValueError("the configuration does not survive a TOML round trip")
    return text


def _without_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(item) for item in value]
    return value


def _is_table_list(value: object) -> bool:
    return (
        isinstance(value, list) and bool(value) and all(isinstance(item, Mapping) for item in value)
    )


def _body(path: tuple[str, ...], table: Mapping[str, Any], lines: list[str]) -> None:
    """A table's own keys, then its sub-tables and arrays of tables under headers."""
    for key, value in table.items():
        if not isinstance(value, Mapping) and not _is_table_list(value):
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in table.items():
        here = (*path, key)
        if isinstance(value, Mapping):
            if not value or not all(isinstance(v, Mapping) for v in value.values()):
                lines.extend(["", f"[{_dotted(here)}]"])  # a table of tables needs none
            _body(here, value, lines)
        elif _is_table_list(value):
            for item in value:
                lines.extend(["", f"[[{_dotted(here)}]]"])
                _body(here, item, lines)


def _dotted(path: Sequence[str]) -> str:
    return ".".join(_key(part) for part in path)


def _key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, except that TOML also escapes DEL."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise ValueError(f"TOML has no value like {type(value).__name__}")
