"""The Supervisor's check of an add-on's options against its `schema`, as Home Assistant's
developer docs describe it ("Options / Schema"), written out for tests: the element types
(`str`, `int(5,)`, `match(^…$)`, `list(a|b)`, … with `?` for optional), lists of one element
type, groups of fields, nesting at most two levels deep, and every field without `?` required.

Where the Supervisor only warns (an option the schema does not know, which it then drops),
this reports an error: the add-on's own examples must not rely on that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ELEMENT = re.compile(
    r"(?:bool|email|url|port"
    r"|device(?:\(subsystem=[a-z]+\))?"
    r"|(?P<text>str|password)(?:\((?P<t_min>\d+)?,(?P<t_max>\d+)?\))?"
    r"|(?P<int>int)(?:\((?P<i_min>-?\d+)?,(?P<i_max>-?\d+)?\))?"
    r"|(?P<float>float)(?:\((?P<f_min>-?\d*\.?\d+)?,(?P<f_max>-?\d*\.?\d+)?\))?"
    r"|match\((?P<match>.*)\)"
    r"|list\((?P<list>.+)\))\??"
)
MAX_DEPTH = 2  # "Nested arrays and dictionaries are supported with a maximum depth of two."


def schema_errors(schema: Mapping[str, Any]) -> list[str]:
    """What the Supervisor would not accept in the schema itself."""
    errors: list[str] = []
    _schema(schema, "", 0, errors)
    return errors


def option_errors(schema: Mapping[str, Any], options: Mapping[str, Any]) -> list[str]:
    """Every way `options` fails `schema`, as "path: problem"."""
    errors: list[str] = []
    _group(schema, options, "", errors)
    return errors


def fields(schema: Mapping[str, Any]) -> set[str]:
    """Every option and field name, as "option" and "option.field"."""
    names: set[str] = set()
    for key, typ in schema.items():
        names.add(key)
        inner = typ[0] if isinstance(typ, list) else typ
        if isinstance(inner, Mapping):
            names.update(f"{key}.{field}" for field in inner)
    return names


def _schema(schema: Any, where: str, depth: int, errors: list[str]) -> None:
    if isinstance(schema, list | Mapping) and depth > MAX_DEPTH:
        errors.append(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(schema, list):
        if len(schema) != 1:
            errors.append(f"{where}: a list takes exactly one element type")
        for item in schema:
            _schema(item, where, depth + 1, errors)
    elif isinstance(schema, Mapping):
        for key, typ in schema.items():
            _schema(typ, f"{where}.{key}" if where else key, depth + 1, errors)
    elif not isinstance(schema, str) or ELEMENT.fullmatch(schema) is None:
        errors.append(f"{where}: unknown type {schema!r}")


def _element(typ: Any, value: Any, where: str, errors: list[str]) -> None:
    if isinstance(typ, list):
        if not isinstance(value, list):
            errors.append(f"{where}: must be a list")
            return
        for index, item in enumerate(value):
            _element(typ[0], item, f"{where}[{index}]", errors)
    elif isinstance(typ, Mapping):
        if not isinstance(value, Mapping):
            errors.append(f"{where}: must be a group of fields")
            return
        _group(typ, value, where, errors)
    else:
        _single(typ, value, where, errors)


def _group(
    schema: Mapping[str, Any], value: Mapping[str, Any], where: str, errors: list[str]
) -> None:
    prefix = f"{where}." if where else ""
    for key, item in value.items():
        if key not in schema:
            errors.append(f"{prefix}{key}: not in the schema (the Supervisor drops it)")
        else:
            _element(schema[key], item, f"{prefix}{key}", errors)
    for key, typ in schema.items():
        inner = typ[0] if isinstance(typ, list) and typ else typ
        if key not in value and not (isinstance(inner, str) and inner.endswith("?")):
            errors.append(f"{prefix}{key}: missing")


def _single(typ: str, value: Any, where: str, errors: list[str]) -> None:
    element = ELEMENT.fullmatch(typ)
    if element is None:
        errors.append(f"{where}: unknown type {typ!r}")
    elif value is None:
        errors.append(f"{where}: required")
    elif element["text"]:
        _range(len(value) if isinstance(value, str) else None, element, "t", where, errors)
    elif element["int"]:
        whole = value if isinstance(value, int) and not isinstance(value, bool) else None
        _range(whole, element, "i", where, errors)
    elif element["float"]:
        real = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        _range(real, element, "f", where, errors)
    elif typ.startswith("bool") and not isinstance(value, bool):
        errors.append(f"{where}: must be true or false")
    elif element["match"] is not None and re.match(element["match"], str(value)) is None:
        errors.append(f"{where}: {value!r} does not match {element['match']}")
    elif element["list"] is not None and str(value) not in element["list"].split("|"):
        errors.append(f"{where}: {value!r} is not one of {element['list']}")


def _range(
    number: float | None, element: re.Match[str], kind: str, where: str, errors: list[str]
) -> None:
    if number is None:
        errors.append(f"{where}: wrong type for {element[0]}")
        return
    low, high = element[f"{kind}_min"], element[f"{kind}_max"]
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        errors.append(f"{where}: {number} outside {element[0]}")
