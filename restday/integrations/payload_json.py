"""A payload's bytes to one JSON value, strictly; the one exception every input parser raises.

Each way Python's own decoders fail on hostile bytes is turned into `InputRejected` here, with a
reason a person can act on, so the presets (devices.py, sleep_as_android.py) only ever see a
plain JSON value of a bounded size:
- over MAX_PAYLOAD_BYTES, or not UTF-8 (`UnicodeDecodeError`);
- not JSON (`JSONDecodeError`), or `NaN`/`Infinity`, which Python reads but JSON has not;
- an integer of more than MAX_JSON_INT_DIGITS digits: CPython refuses 4,300 digits with a
  plain `ValueError` (and converts a long one in quadratic time), and no reading needs 20;
- nested more than MAX_JSON_DEPTH levels (past Python's recursion limit: `RecursionError`);
- a key twice in one object: Python keeps the last value, SQLite's `json_extract` on the raw
  text the store keeps reads the first, so which one counts would depend on the reader.
"""

from __future__ import annotations

import json

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_JSON_DEPTH = 64  # levels; our payloads are flat, SQLite's json_valid refuses 1,000
MAX_JSON_INT_DIGITS = 100  # digits of one integer; epoch milliseconds have 13
EXCERPT_CHARS = 60  # at most this much of a payload's text goes into a reason

_TOO_DEEP = f"JSON nested more than {MAX_JSON_DEPTH} levels deep"


class InputRejected(ValueError):
    """A payload that cannot be used; the message is one line saying why."""


def excerpt(value: object) -> str:
    """A short, one-line, printable rendering of a value for a reason."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"


def payload_text(payload: bytes) -> str:
    """The payload as text: at most MAX_PAYLOAD_BYTES of UTF-8."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InputRejected(f"payload of {len(payload):,} bytes is over the 64 KiB limit")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRejected("not UTF-8 text") from None


def _no_constant(name: str) -> object:
    raise InputRejected(f"not valid JSON: {name} is not a JSON number")


def _integer(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_JSON_INT_DIGITS:
        raise InputRejected(
            f"a number of {digits:,} digits is over the {MAX_JSON_INT_DIGITS}-digit limit"
        )
    return int(text)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj: dict[str, object] = {}
    for key, value in pairs:
        if key in obj:
            raise InputRejected(f"the key {excerpt(key)} appears twice in one object")
        obj[key] = value
    return obj


def _too_deep(value: object) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(text: str) -> object:
    """The JSON value of a text, under the rules of the module's docstring."""
    try:
        data: object = json.loads(
            text,
            parse_constant=_no_constant,
            parse_int=_integer,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise InputRejected(
            f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:  # nested beyond Python's own limit
        raise InputRejected(_TOO_DEEP) from None
    if _too_deep(data):
        raise InputRejected(_TOO_DEEP)
    return data


def decode_json(payload: bytes) -> object:
    """The JSON value of a payload: at most 64 KiB, UTF-8, strict JSON (see the module)."""
    return parse_json(payload_text(payload))


def json_object(data: object) -> dict[str, object]:
    if not isinstance(data, dict):
        raise InputRejected(f"expected a JSON object, got {kind_of(data)} {excerpt(data)}")
    return data
