"""Request parameters checked against Stripe's request schemas, refused in Stripe's words.

A form body's leaves are all strings: the schema says which are integers, booleans or
arrays, and which alternative of an ``anyOf`` a value is read by. The walk below checks
and types them at once, raising :class:`ParamError` on the first problem, as Stripe does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .encoding import as_list, child, flat
from .errors import ParamError
from .schema import request_schema

__all__ = ["validate"]

_INTEGER = re.compile(r"^-?\d+$")


def validate(operation_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` (from :func:`.encoding.parse_form`) checked against the operation's schema,
    with typed leaves.

    Booleans become ``bool``, integers ``int``, arrays ``list``; an empty string that the
    schema allows (Stripe's "unset") stays ``""``. Raises :class:`ParamError` on the first
    problem, in Stripe's words.
    """
    return _object(request_schema(operation_id), dict(params), "")


def _listing(choices: list[Any]) -> str:
    words = [str(choice) for choice in choices if choice != ""]
    if len(words) > 2:
        return ", ".join(words[:-1]) + f", or {words[-1]}"
    return " or ".join(words)


def _empty(path: str) -> ParamError:
    return ParamError(
        f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{path}' cannot be unset. You should remove '{path}' "
        "from your request or supply a non-empty value.",
        param=path,
        code="parameter_invalid_empty",
    )


def _object(schema: Mapping[str, Any], value: dict[str, Any], path: str) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    open_map = isinstance(extra, dict)
    for key in value:
        if key not in properties and not open_map:
            name = child(path, key)
            raise ParamError(
                f"Received unknown parameter: {name}", param=name, code="parameter_unknown"
            )
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = properties.get(key, extra if open_map else None)
        assert isinstance(sub, dict)
        if key not in properties and item == "":
            out[key] = ""  # a map entry (metadata[k]=): Stripe's "unset this key"
            continue
        out[key] = _value(sub, item, child(path, key))
    for key in schema.get("required", []):
        if key not in value:
            name = child(path, key)
            raise ParamError(
                f"Missing required param: {name}.", param=name, code="parameter_missing"
            )
    return out


def _value(schema: Mapping[str, Any], value: Any, path: str) -> Any:
    alternatives = schema.get("anyOf")
    if alternatives:
        return _any_of(alternatives, value, path)
    kind = schema.get("type")
    if kind == "object":
        if value == "":
            raise _empty(path)
        if not isinstance(value, dict):
            raise ParamError(f"Invalid object: {flat(value)}", param=path)
        return _object(schema, value, path)
    if kind == "array":
        if value == "":
            raise _empty(path)
        items = as_list(value)
        if items is None:
            raise ParamError(f"Invalid array: {flat(value)}", param=path)
        item_schema = schema.get("items", {})
        return [_value(item_schema, item, child(path, i)) for i, item in enumerate(items)]
    if isinstance(value, dict):
        raise ParamError(f"Invalid {kind or 'string'}: {flat(value)}", param=path)
    enum = schema.get("enum")
    if value == "" and not (enum and "" in enum):
        raise _empty(path)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ParamError(f"Invalid boolean: {value}", param=path)
        return value == "true"
    if kind == "integer":
        if not _INTEGER.match(value):
            raise ParamError(
                f"Invalid integer: {value}", param=path, code="parameter_invalid_integer"
            )
        return int(value)
    if enum and value not in enum:
        raise ParamError(f"Invalid {path}: must be one of {_listing(enum)}", param=path)
    max_length = schema.get("maxLength")
    if isinstance(max_length, int) and len(value) > max_length:
        raise ParamError(f"Invalid {path}: must be at most {max_length} characters", param=path)
    return value


def _any_of(alternatives: list[dict[str, Any]], value: Any, path: str) -> Any:
    """The first alternative of the value's shape (object, array or string) decides."""
    if value == "" and any("" in alt.get("enum", []) for alt in alternatives):
        return ""
    wanted = "object" if isinstance(value, dict) else "string"
    if isinstance(value, dict) and all(key.isdigit() for key in value):
        if any(alt.get("type") == "array" for alt in alternatives):
            wanted = "array"
    for alt in alternatives:
        kind = alt.get("type", "string")
        if kind == wanted or (wanted == "string" and kind not in ("object", "array")):
            if kind == "string" and alt.get("enum") == [""]:
                continue
            return _value(alt, value, path)
    return _value(alternatives[0], value, path)
