"""Pydantic validation errors as one plain sentence each, naming the key as a path.

`mqtt.port: must be at most 65535 (got 70000)`; the input is quoted only when it is short,
not a secret, and not a whole table, and an error caused by an environment variable says so.
`problem`, `moved` and `reject` make such errors for the checks pydantic cannot express (a key
of a table keyed by the user's names, an athlete id that must exist), each at its own key.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

ENV_PREFIX = "RESTDAY_"
ENV_NESTED_DELIMITER = "__"
MAX_ECHO_CHARS = 60  # longer inputs are shortened when an error quotes them
PLAIN_ERROR = "restday"  # the type of the errors `problem` makes: their message is the text
LIST_INDEX = re.compile(r"\[\d+\]")  # "athlete[1].strava" → "athlete.strava", a secret's key

_PLAIN: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": (
        "is not a known key (check its spelling against the example config: "
        "`restday init --config FILE` writes it)"
    ),
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
_PYDANTIC_ERROR_TYPES = frozenset(get_args(ErrorType))
_NEVER_ECHOED = frozenset({"extra_forbidden", "model_type", "model_attributes_type", "dict_type"})


def key_path(loc: tuple[int | str, ...]) -> str:
    """("scale", 0, "preset") → "scale[0].preset"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


Location = tuple[int | str, ...]


def problem(loc: Location, message: str, value: object = None) -> InitErrorDetails:
    """An error at `loc` (from the model that raises it) saying `message`; `value` is quoted
    after it when it is short text or a number (None: nothing quoted)."""
    plain = PydanticCustomError(PLAIN_ERROR, "{text}", {"text": message})  # braces kept as is
    return InitErrorDetails(type=plain, loc=loc, input=value)


def moved(error: ErrorDetails, loc: Location) -> InitErrorDetails:
    """A pydantic error again, at `loc` instead of where it was found."""
    if error["type"] not in _PYDANTIC_ERROR_TYPES:  # a PydanticCustomError, `problem`'s too
        custom = PydanticCustomError(error["type"], "{text}", {"text": error["msg"]})
        return InitErrorDetails(type=custom, loc=loc, input=error["input"])
    return InitErrorDetails(
        type=error["type"], loc=loc, input=error["input"], ctx=error.get("ctx", {})
    )


def reject(model: type[BaseModel], errors: Sequence[InitErrorDetails]) -> None:
    """Raise the errors, if any, as a ValidationError of `model`."""
    if errors:
        raise ValidationError.from_exception_data(model.__name__, list(errors))


def ids_text(ids: Sequence[str]) -> str:
    """'the athlete ids are "anna" and "ben"', for errors that need a valid id."""
    quoted = [f'"{athlete_id}"' for athlete_id in ids]
    if len(quoted) == 1:
        return f"the only athlete id is {quoted[0]}"
    return f"the athlete ids are {', '.join(quoted[:-1])} and {quoted[-1]}"


class UnknownAthleteError(LookupError):
    """An athlete id that the configuration does not have; the message lists those it has."""

    def __init__(self, athlete_id: str, ids: Sequence[str]) -> None:
        super().__init__(f'no athlete "{athlete_id}" is configured ({ids_text(ids)})')
        self.athlete_id = athlete_id
        self.ids = tuple(ids)


def sentence(error: ErrorDetails, secret_keys: frozenset[str]) -> str:
    """One plain sentence for a pydantic error, naming the key; secrets are never echoed (a
    secret in a list of tables, as `athlete[1].strava.client_secret`, included)."""
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
        LIST_INDEX.sub("", key) not in secret_keys
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
