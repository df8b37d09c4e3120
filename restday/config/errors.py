"""Pydantic validation errors as one plain sentence each, naming the key as a path.

`mqtt.port: must be at most 65535 (got 70000)`; the input is quoted only when it is short,
not a secret, and not a whole table, and an error caused by an environment variable says so.
"""

from __future__ import annotations

import json
import os

from pydantic_core import ErrorDetails

ENV_PREFIX = "RESTDAY_"
ENV_NESTED_DELIMITER = "__"
MAX_ECHO_CHARS = 60  # longer inputs are shortened when an error quotes them

_PLAIN: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a known key (check its spelling against config.example.toml)",
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), "must be a whole number"),
    **dict.fromkeys(("float_type", "float_parsing"), "must be a number"),
    **dict.fromkeys(("bool_type", "bool_parsing"), "must be true or false"),
    "string_type": "must be text",
    **dict.fromkeys(("model_type", "model_attributes_type", "dict_type"), "must be a table"),
    "list_type": "must be a list of tables",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    **dict.fromkeys(("enum", "literal_error"), "must be one of {expected}"),
}
_NEVER_ECHOED = frozenset({"extra_forbidden", "model_type", "model_attributes_type", "dict_type"})


def key_path(loc: tuple[int | str, ...]) -> str:
    """("scale", 0, "preset") → "scale[0].preset"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def sentence(error: ErrorDetails, secret_keys: frozenset[str]) -> str:
    """One plain sentence for a pydantic error, naming the key; secrets are never echoed."""
    key = key_path(error["loc"]) or "config"
    ctx = error.get("ctx", {})
    if error["type"] == "value_error":
        text = str(ctx.get("error", error["msg"]))
    elif error["type"] in _PLAIN:
        text = _PLAIN[error["type"]].format(**ctx)
    else:
        text = error["msg"][:1].lower() + error["msg"][1:]
    value = error.get("input")
    if (
        key not in secret_keys
        and error["type"] not in _NEVER_ECHOED
        and isinstance(value, str | int | float | bool)
    ):
        shown = json.dumps(value, ensure_ascii=False)
        if len(shown) > MAX_ECHO_CHARS:
            shown = shown[: MAX_ECHO_CHARS - 1] + "…"
        text += f" (got {shown})"
    env_name = ENV_PREFIX + ENV_NESTED_DELIMITER.join(str(part) for part in error["loc"]).upper()
    if any(name.upper() == env_name for name in os.environ):
        text += f" (set by {env_name})"
    return f"{key}: {text}"
